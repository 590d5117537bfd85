//! `closedloop seed`: the district's departments and, with `--demo`, demo users and complaints.
//! Read from `seeds/` when it exists, else from the copies built into the binary. Idempotent.

use crate::auth;
use crate::domain::lifecycle::ActionKind;
use crate::domain::ticket::{Actor, Role};
use crate::service::tickets::{self as service, Created};
use crate::service::{ServiceError, Settings};
use crate::store::departments::{self, DepartmentRow};
use crate::store::users::{self, UserRow};
use crate::store::{self, DbConn};
use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

const DEPARTMENTS: &str = include_str!("../seeds/departments.toml");
const DEMO: &str = include_str!("../seeds/demo.toml");
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
    user: Vec<UserSeed>,
    complaint: Vec<ComplaintSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub username: String,
    pub role: Role,
    pub department: Option<String>,
    pub email: Option<String>,
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
    store::conn::write(conn, |c| -> Result<(), store::StoreError> {
        for d in file.department {
            let row = DepartmentRow {
                code: d.code,
                name: d.name,
                email: d.email,
                head_email: d.head_email,
                created_at: store::now(),
            };
            report.departments += usize::from(departments::insert_if_missing(c, &row)?);
        }
        Ok(())
    })?;
    if demo {
        let file: DemoFile =
            toml::from_str(&read(dir, "demo.toml", DEMO)?).context("seeds/demo.toml")?;
        for user in &file.user {
            if users::find_by_username(conn, &user.username)?.is_none() {
                add_user(conn, user, Some(DEMO_PASSWORD))?;
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
    }
    Ok(report)
}

/// Adds a user; the password is hashed with argon2. Fails on a duplicate name or unknown department.
pub fn add_user(conn: &mut DbConn, user: &UserSeed, password: Option<&str>) -> anyhow::Result<()> {
    match (&user.role, &user.department) {
        (Role::Department, None) => bail!("a department user needs --department"),
        (_, Some(code)) if departments::find(conn, code)?.is_none() => {
            bail!("unknown department '{code}' (run `closedloop seed` first?)")
        }
        _ => {}
    }
    if users::find_by_username(conn, &user.username)?.is_some() {
        bail!("user '{}' exists already", user.username);
    }
    users::insert(
        conn,
        &UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            username: user.username.clone(),
            password_hash: password.map(auth::hash_password),
            role: user.role.to_string(),
            department_code: user.department.clone(),
            email: user.email.clone(),
            active: true,
            created_at: store::now(),
        },
    )?;
    Ok(())
}

/// Logs one demo complaint and walks it through its steps, unless it was logged before.
fn seed_complaint(
    conn: &mut DbConn,
    settings: &Settings,
    people: &[UserSeed],
    complaint: ComplaintSeed,
) -> anyhow::Result<bool> {
    let actor_named = |name: &str| -> anyhow::Result<Actor> {
        let u = people
            .iter()
            .find(|u| u.username == name)
            .with_context(|| format!("demo step by unknown user '{name}'"))?;
        Ok(Actor::user(&u.username, u.role, u.department.as_deref()))
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

fn describe(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Domain(crate::domain::lifecycle::DomainError::Invalid(errors)) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("invalid demo data: {}", fields.join("; "))
        }
        other => anyhow::anyhow!(other),
    }
}
