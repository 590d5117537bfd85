//! `closedloop seed`: the district's departments and, with `--demo`, demo users, complaints and
//! policy articles for the knowledge base.
//! Read from `seeds/` when it exists, else from the copies built into the binary. Idempotent.

use crate::app::accounts::{self, NewUser};
use crate::app::tickets::{self as service, Created};
use crate::app::{AppError, Settings, departments, knowledge};
use crate::domain::DepartmentCode;
use crate::domain::lifecycle::ActionKind;
use crate::domain::ticket::{Actor, Role};
use crate::store::rows::DepartmentRow;
use crate::store::{self, DbConn};
use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

const DEPARTMENTS: &str = include_str!("../seeds/departments.toml");
const DEMO: &str = include_str!("../seeds/demo.toml");
const KNOWLEDGE: &str = include_str!("../seeds/knowledge.toml");
pub const DEMO_PASSWORD: &str = "demo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentsFile {
    department: Vec<DepartmentSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentSeed {
    code: String,
    name: String,
    email: String,
    head_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    user: Vec<NewUser>,
    complaint: Vec<ComplaintSeed>,
}

/// Articles of the knowledge base, each the body `POST /api/v1/knowledge` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeFile {
    article: Vec<toml::Table>,
}

#[derive(Deserialize)]
struct ComplaintSeed {
    key: String,
    #[serde(default)]
    steps: Vec<StepSeed>,
    #[serde(flatten)]
    ticket: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSeed {
    action: ActionKind,
    by: String,
    #[serde(default)]
    payload: toml::Table,
}

#[derive(Debug, Default)]
pub struct Report {
    pub departments: usize,
    pub users: usize,
    pub complaints: usize,
    pub articles: usize,
}

fn read(dir: &Path, name: &str, built_in: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    if path.exists() {
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    } else {
        Ok(built_in.to_string())
    }
}

/// Loads the departments, and the demo data when `demo` is set.
pub fn run(
    conn: &mut DbConn,
    dir: &Path,
    demo: bool,
    settings: &Settings,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let file: DepartmentsFile = toml::from_str(&read(dir, "departments.toml", DEPARTMENTS)?)
        .context("seeds/departments.toml")?;
    store::conn::write(conn, |c| -> Result<(), AppError> {
        for d in file.department {
            let row = DepartmentRow {
                code: d.code,
                name: d.name,
                email: d.email,
                head_email: d.head_email,
                created_at: store::now(),
            };
            report.departments += usize::from(departments::add_if_missing(c, &row)?);
        }
        Ok(())
    })
    .map_err(describe)?;
    if demo {
        let file: DemoFile =
            toml::from_str(&read(dir, "demo.toml", DEMO)?).context("seeds/demo.toml")?;
        for user in &file.user {
            if accounts::find_user(conn, &user.username)
                .map_err(describe)?
                .is_none()
            {
                accounts::add_user(conn, user, Some(DEMO_PASSWORD)).map_err(describe)?;
                report.users += 1;
            }
        }
        // Sample complaints only go into an empty database: never beside real cases, and a
        // second run (however much later) adds nothing.
        if store::tickets::count(conn)? == 0 {
            for complaint in file.complaint {
                report.complaints +=
                    usize::from(seed_complaint(conn, settings, &file.user, complaint)?);
            }
        }
        // Likewise the policy articles: only into an empty knowledge base.
        if store::knowledge::count(conn)? == 0 {
            let file: KnowledgeFile = toml::from_str(&read(dir, "knowledge.toml", KNOWLEDGE)?)
                .context("seeds/knowledge.toml")?;
            let admin = Actor::user("admin", Role::Admin, None);
            for article in file.article {
                let input = serde_json::to_value(&article)?;
                knowledge::create(conn, settings, &admin, &input, store::now())
                    .map_err(describe)
                    .with_context(|| format!("seeds/knowledge.toml: {}", input["title"]))?;
                report.articles += 1;
            }
        }
    }
    Ok(report)
}

/// Logs one demo complaint and walks it through its steps, unless it was logged before.
fn seed_complaint(
    conn: &mut DbConn,
    settings: &Settings,
    people: &[NewUser],
    complaint: ComplaintSeed,
) -> anyhow::Result<bool> {
    let actor_named = |name: &str| -> anyhow::Result<Actor> {
        let u = people
            .iter()
            .find(|u| u.username == name)
            .with_context(|| format!("demo step by unknown user '{name}'"))?;
        let department = u
            .department
            .as_deref()
            .map(DepartmentCode::parse)
            .transpose();
        Ok(Actor::user(&u.username, u.role, department?.as_ref()))
    };
    let operator = actor_named("operator")?;
    let input = serde_json::to_value(&complaint.ticket)?;
    let render =
        |t: &crate::domain::ticket::Ticket| serde_json::json!({"id": t.id, "version": t.version});
    let created = service::create(
        conn,
        settings,
        &operator,
        &input,
        Some(&complaint.key),
        store::now(),
        &render,
    )
    .map_err(describe)?;
    let Created::New { ticket, .. } = created else {
        return Ok(false);
    };
    for step in complaint.steps {
        let payload: Value = serde_json::to_value(&step.payload)?;
        let actor = actor_named(&step.by)?;
        service::act(
            conn,
            settings,
            &actor,
            ticket.id,
            step.action,
            &payload,
            None,
            store::now(),
        )
        .map_err(describe)?;
    }
    Ok(true)
}

/// An error of the seeds, naming the fields of an invalid one.
pub fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Domain(crate::domain::lifecycle::DomainError::Invalid(errors)) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("invalid: {}", fields.join("; "))
        }
        other => anyhow::anyhow!(other),
    }
}
