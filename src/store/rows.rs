//! The rows of every table and the change sets written to them, with their conversions to and
//! from the domain's types. Everything else in `store/` reads and writes these; values read back
//! were checked when they were written, so codes and numbers are taken as stored.

use super::error::StoreError;
use super::schema::{
    departments, idempotency_keys, knowledge_articles, knowledge_versions, outbox, sessions,
    ticket_events, tickets, timers, users,
};
use crate::domain::knowledge::Content;
use crate::domain::lifecycle::Event;
use crate::domain::notification::Notification;
use crate::domain::ticket::{Actor, Contact, Enterprise, Role, Ticket, TicketId};
use crate::domain::timer::Timer;
use crate::domain::{CreditCode, DepartmentCode, Phone};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The current time as stored: UTC, to the microsecond (what both backends keep).
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    pub id: String,
    pub number: String,
    pub state: String,
    pub outcome: Option<String>,
    pub channel: String,
    pub category: String,
    pub urgency: String,
    pub enterprise_name: String,
    pub credit_code: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub subject: String,
    pub description: String,
    pub lead_department: Option<String>,
    pub pending_extension: Option<String>,
    pub merged_into: Option<String>,
    pub reopen_count: i32,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    pub first_department: Option<String>,
    pub replied_at: Option<NaiveDateTime>,
    pub replied_by: Option<String>,
    pub duplicate_of: Option<String>,
}

/// What a change may alter of a ticket: what it was logged with stays as it was.
#[derive(AsChangeset)]
#[diesel(table_name = tickets, treat_none_as_null = true)]
pub struct TicketChange<'a> {
    pub state: &'a str,
    pub outcome: Option<&'a str>,
    pub lead_department: Option<&'a str>,
    pub pending_extension: Option<String>,
    pub merged_into: Option<String>,
    pub reopen_count: i32,
    pub version: i64,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    pub first_department: Option<&'a str>,
    pub replied_at: Option<NaiveDateTime>,
    pub replied_by: Option<&'a str>,
    pub duplicate_of: Option<String>,
}

impl<'a> TicketChange<'a> {
    pub fn of(t: &'a Ticket) -> Self {
        TicketChange {
            state: t.state.as_str(),
            outcome: t.outcome.map(|o| o.as_str()),
            lead_department: t.lead_department.as_ref().map(DepartmentCode::as_str),
            pending_extension: t
                .pending_extension
                .as_ref()
                .map(|p| serde_json::to_string(p).expect("an extension request serialises")),
            merged_into: t.merged_into.map(|m| m.to_string()),
            reopen_count: t.reopen_count,
            version: t.version,
            updated_at: t.updated_at,
            due_at: t.due_at,
            escalation_level: t.escalation_level,
            first_department: t.first_department.as_ref().map(DepartmentCode::as_str),
            replied_at: t.replied_at,
            replied_by: t.replied_by.as_ref().map(DepartmentCode::as_str),
            duplicate_of: t.duplicate_of.map(|d| d.to_string()),
        }
    }
}

impl TicketRow {
    pub fn from_ticket(t: &Ticket) -> Self {
        TicketRow {
            id: t.id.to_string(),
            number: t.number.clone(),
            state: t.state.to_string(),
            outcome: t.outcome.map(|o| o.to_string()),
            channel: t.channel.to_string(),
            category: t.category.to_string(),
            urgency: t.urgency.to_string(),
            enterprise_name: t.enterprise.name.clone(),
            credit_code: t.enterprise.credit_code.to_string(),
            contact_name: t.contact.name.clone(),
            contact_phone: t.contact.phone.to_string(),
            subject: t.subject.clone(),
            description: t.description.clone(),
            lead_department: t.lead_department.as_ref().map(ToString::to_string),
            pending_extension: t
                .pending_extension
                .as_ref()
                .map(|p| serde_json::to_string(p).expect("an extension request serialises")),
            merged_into: t.merged_into.map(|m| m.to_string()),
            reopen_count: t.reopen_count,
            version: t.version,
            created_by: t.created_by.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            due_at: t.due_at,
            escalation_level: t.escalation_level,
            first_department: t.first_department.as_ref().map(ToString::to_string),
            replied_at: t.replied_at,
            replied_by: t.replied_by.as_ref().map(ToString::to_string),
            duplicate_of: t.duplicate_of.map(|d| d.to_string()),
        }
    }

    pub fn into_ticket(self, co_departments: Vec<String>) -> Result<Ticket, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("ticket {}: {what}", self.id));
        Ok(Ticket {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            number: self.number.clone(),
            state: self.state.parse().map_err(|_| corrupt("state"))?,
            outcome: self
                .outcome
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
            channel: self.channel.parse().map_err(|_| corrupt("channel"))?,
            category: self.category.parse().map_err(|_| corrupt("category"))?,
            urgency: self.urgency.parse().map_err(|_| corrupt("urgency"))?,
            enterprise: Enterprise {
                name: self.enterprise_name.clone(),
                credit_code: CreditCode::from_stored(self.credit_code.clone()),
            },
            contact: Contact {
                name: self.contact_name.clone(),
                phone: Phone::from_stored(self.contact_phone.clone()),
            },
            subject: self.subject.clone(),
            description: self.description.clone(),
            lead_department: self
                .lead_department
                .clone()
                .map(DepartmentCode::from_stored),
            co_departments: co_departments
                .into_iter()
                .map(DepartmentCode::from_stored)
                .collect(),
            pending_extension: self
                .pending_extension
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("pending_extension"))?,
            merged_into: self
                .merged_into
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("merged_into"))?,
            reopen_count: self.reopen_count,
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            due_at: self.due_at,
            escalation_level: self.escalation_level,
            first_department: self.first_department.map(DepartmentCode::from_stored),
            replied_at: self.replied_at,
            replied_by: self.replied_by.map(DepartmentCode::from_stored),
            duplicate_of: self
                .duplicate_of
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("duplicate_of"))?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_events)]
pub struct EventRow {
    pub id: String,
    pub ticket_id: String,
    pub seq: i64,
    pub action: String,
    pub actor_kind: String,
    pub actor_username: Option<String>,
    pub actor_role: Option<String>,
    pub actor_department: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub level: Option<i32>,
    pub payload: String,
    pub at: NaiveDateTime,
}

impl EventRow {
    pub fn new(ticket: &Ticket, event: &Event) -> Self {
        let (kind, username, role, department) = match &event.actor {
            Actor::User {
                username,
                role,
                department,
            } => (
                "user",
                Some(username.clone()),
                Some(role.to_string()),
                department.as_ref().map(ToString::to_string),
            ),
            Actor::System => ("system", None, None, None),
        };
        EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_id: ticket.id.to_string(),
            seq: ticket.version,
            action: event.action.clone(),
            actor_kind: kind.to_string(),
            actor_username: username,
            actor_role: role,
            actor_department: department,
            from_state: event.from_state.map(|s| s.to_string()),
            to_state: event.to_state.to_string(),
            level: event.level,
            payload: event.payload.to_string(),
            at: event.at,
        }
    }

    /// The event as the domain knows it, with its stored id and sequence number.
    pub fn into_event(self) -> Result<(String, i64, Event), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", self.id));
        let actor = match self.actor_kind.as_str() {
            "system" => Actor::System,
            _ => Actor::User {
                username: self.actor_username.clone().unwrap_or_default(),
                role: self
                    .actor_role
                    .as_deref()
                    .unwrap_or_default()
                    .parse::<Role>()
                    .map_err(|_| corrupt("actor_role"))?,
                department: self
                    .actor_department
                    .clone()
                    .map(DepartmentCode::from_stored),
            },
        };
        let event = Event {
            action: self.action.clone(),
            actor,
            from_state: self
                .from_state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("from_state"))?,
            to_state: self.to_state.parse().map_err(|_| corrupt("to_state"))?,
            level: self.level,
            payload: serde_json::from_str(&self.payload).map_err(|_| corrupt("payload"))?,
            at: self.at,
        };
        Ok((self.id, self.seq, event))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = timers)]
pub struct TimerRow {
    pub id: String,
    pub ticket_id: String,
    pub kind: String,
    pub started_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub warn_at: NaiveDateTime,
    pub warned_at: Option<NaiveDateTime>,
    pub level: i32,
    pub next_fire_at: Option<NaiveDateTime>,
    pub last_fired_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub duration: Option<String>,
    pub extended_days: i32,
    pub beyond_calendar: bool,
    pub department: Option<String>,
}

/// What can change of a running timer: its deadline, warning, ladder and end.
#[derive(AsChangeset)]
#[diesel(table_name = timers, treat_none_as_null = true)]
pub struct TimerChange<'a> {
    due_at: NaiveDateTime,
    warn_at: NaiveDateTime,
    warned_at: Option<NaiveDateTime>,
    level: i32,
    next_fire_at: Option<NaiveDateTime>,
    last_fired_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    outcome: Option<&'a str>,
    extended_days: i32,
    beyond_calendar: bool,
    department: Option<&'a str>,
}

impl<'a> TimerChange<'a> {
    pub fn of(row: &'a TimerRow) -> Self {
        TimerChange {
            due_at: row.due_at,
            warn_at: row.warn_at,
            warned_at: row.warned_at,
            level: row.level,
            next_fire_at: row.next_fire_at,
            last_fired_at: row.last_fired_at,
            ended_at: row.ended_at,
            outcome: row.outcome.as_deref(),
            extended_days: row.extended_days,
            beyond_calendar: row.beyond_calendar,
            department: row.department.as_deref(),
        }
    }
}

impl TimerRow {
    pub fn new(ticket: TicketId, t: &Timer) -> Self {
        TimerRow {
            id: t.id.to_string(),
            ticket_id: ticket.to_string(),
            kind: t.kind.to_string(),
            started_at: t.started_at,
            due_at: t.due_at,
            warn_at: t.warn_at,
            warned_at: t.warned_at,
            level: t.level,
            next_fire_at: t.next_fire_at,
            last_fired_at: t.last_fired_at,
            ended_at: t.ended_at,
            outcome: t.outcome.map(|o| o.to_string()),
            duration: t.duration.map(|d| d.to_string()),
            extended_days: t.extended_days as i32,
            beyond_calendar: t.beyond_calendar,
            department: t.department.as_ref().map(ToString::to_string),
        }
    }

    pub fn into_timer(self) -> Result<Timer, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("timer {}: {what}", self.id));
        Ok(Timer {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            kind: self.kind.parse().map_err(|_| corrupt("kind"))?,
            started_at: self.started_at,
            due_at: self.due_at,
            warn_at: self.warn_at,
            warned_at: self.warned_at,
            level: self.level,
            next_fire_at: self.next_fire_at,
            last_fired_at: self.last_fired_at,
            ended_at: self.ended_at,
            outcome: self
                .outcome
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
            duration: self
                .duration
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("duration"))?,
            extended_days: self.extended_days.max(0) as u32,
            beyond_calendar: self.beyond_calendar,
            department: self.department.map(DepartmentCode::from_stored),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub ticket_id: Option<String>,
    pub event_id: Option<String>,
    pub template: String,
    pub recipients: String,
    pub data: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
}

impl OutboxRow {
    /// One notification of a ticket's event, due to be sent now.
    pub fn new(
        ticket: TicketId,
        event_id: &str,
        n: &Notification,
        data: &serde_json::Value,
        now: NaiveDateTime,
    ) -> Self {
        let id = uuid::Uuid::now_v7();
        OutboxRow {
            id: id.to_string(),
            ticket_id: Some(ticket.to_string()),
            event_id: Some(event_id.to_string()),
            template: n.template.to_string(),
            recipients: serde_json::to_string(&n.to).expect("recipients serialise"),
            data: data.to_string(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
            // Stable across retries, so that receivers can tell a resend from a new mail.
            message_id: format!("<{id}@closedloop>"),
            created_at: now,
        }
    }

    /// A notification of no one ticket (the daily digest, the monthly report) to `to`, once
    /// per `message_id`. With no address at all it is written `failed`, never dropped.
    pub fn summary(
        template: &str,
        to: &[String],
        roles: &serde_json::Value,
        data: &serde_json::Value,
        message_id: &str,
        now: NaiveDateTime,
    ) -> Self {
        OutboxRow {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_id: None,
            event_id: None,
            template: template.to_string(),
            recipients: serde_json::json!({"to": to, "roles": roles}).to_string(),
            data: data.to_string(),
            status: if to.is_empty() { "failed" } else { "pending" }.into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: to
                .is_empty()
                .then(|| "no address for any recipient".to_string()),
            sent_at: None,
            message_id: message_id.to_string(),
            created_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub email: String,
    pub head_email: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub department_code: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct KeyRow {
    pub username: String,
    pub key: String,
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
    pub ticket_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A console session: the SHA-256 of its cookie's secret, who signed in, and the form token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub department_code: Option<String>,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A knowledge article: everything but its search terms, which only the index reads (they are
/// written beside it: `store::knowledge`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = knowledge_articles, treat_none_as_null = true)]
pub struct ArticleRow {
    pub id: String,
    pub title: String,
    pub body: String,
    /// A JSON array of strings.
    pub keywords: String,
    pub department: String,
    pub doc_number: Option<String>,
    /// YYYY-MM-DD, a local date.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub state: String,
    pub visibility: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

/// An article in a list: without its body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = knowledge_articles)]
pub struct ArticleSummaryRow {
    pub id: String,
    pub title: String,
    pub keywords: String,
    pub department: String,
    pub doc_number: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub state: String,
    pub visibility: String,
    pub version: i64,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

/// One version of an article, as it was written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = knowledge_versions)]
pub struct ArticleVersionRow {
    pub article_id: String,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub keywords: String,
    pub department: String,
    pub doc_number: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub state: String,
    pub visibility: String,
    /// A JSON array of the fields changed from the version before.
    pub changed: String,
    pub at: NaiveDateTime,
    pub by: String,
}

/// An article's content as its columns hold it, in an article's row or a version's.
macro_rules! stored_content {
    ($row:expr) => {
        StoredContent {
            title: &$row.title,
            body: &$row.body,
            keywords: &$row.keywords,
            department: &$row.department,
            doc_number: &$row.doc_number,
            valid_from: &$row.valid_from,
            valid_to: &$row.valid_to,
            state: &$row.state,
            visibility: &$row.visibility,
        }
    };
}
struct StoredContent<'a> {
    title: &'a str,
    body: &'a str,
    keywords: &'a str,
    department: &'a str,
    doc_number: &'a Option<String>,
    valid_from: &'a Option<String>,
    valid_to: &'a Option<String>,
    state: &'a str,
    visibility: &'a str,
}

impl StoredContent<'_> {
    fn read(&self, what: &str) -> Result<Content, StoreError> {
        let corrupt = |field: &str| StoreError::Corrupt(format!("{what}: {field}"));
        Ok(Content {
            title: self.title.to_string(),
            body: self.body.to_string(),
            keywords: stored_keywords(self.keywords).ok_or_else(|| corrupt("keywords"))?,
            department: DepartmentCode::from_stored(self.department.to_string()),
            doc_number: self.doc_number.clone(),
            valid_from: stored_date(self.valid_from).map_err(|_| corrupt("valid_from"))?,
            valid_to: stored_date(self.valid_to).map_err(|_| corrupt("valid_to"))?,
            state: self.state.parse().map_err(|_| corrupt("state"))?,
            visibility: self.visibility.parse().map_err(|_| corrupt("visibility"))?,
        })
    }
}

fn json_list(items: &[impl serde::Serialize]) -> String {
    serde_json::to_string(items).expect("a list of strings serialises")
}

impl ArticleRow {
    /// A new article, at version 1.
    pub fn new(id: &str, c: &Content, at: NaiveDateTime, by: &str) -> Self {
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        ArticleRow {
            id: id.to_string(),
            title: c.title.clone(),
            body: c.body.clone(),
            keywords: json_list(&c.keywords),
            department: c.department.to_string(),
            doc_number: c.doc_number.clone(),
            valid_from: date(c.valid_from),
            valid_to: date(c.valid_to),
            state: c.state.to_string(),
            visibility: c.visibility.to_string(),
            version: 1,
            created_at: at,
            created_by: by.to_string(),
            updated_at: at,
            updated_by: by.to_string(),
        }
    }

    /// This article saying `c` as its next version, written by `by` at `at`.
    pub fn edited(&self, c: &Content, at: NaiveDateTime, by: &str) -> Self {
        ArticleRow {
            version: self.version + 1,
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            ..ArticleRow::new(&self.id, c, at, by)
        }
    }

    pub fn content(&self) -> Result<Content, StoreError> {
        stored_content!(self).read(&format!("knowledge article {}", self.id))
    }
}

impl ArticleVersionRow {
    /// The version the article `row` is now at, and the fields it changed.
    pub fn of(row: &ArticleRow, changed: &[&str]) -> Self {
        ArticleVersionRow {
            article_id: row.id.clone(),
            version: row.version,
            title: row.title.clone(),
            body: row.body.clone(),
            keywords: row.keywords.clone(),
            department: row.department.clone(),
            doc_number: row.doc_number.clone(),
            valid_from: row.valid_from.clone(),
            valid_to: row.valid_to.clone(),
            state: row.state.clone(),
            visibility: row.visibility.clone(),
            changed: json_list(changed),
            at: row.updated_at,
            by: row.updated_by.clone(),
        }
    }

    /// The article as it was at this version, and the fields the version changed.
    pub fn content(&self) -> Result<(Content, Vec<String>), StoreError> {
        let what = format!("knowledge version {} of {}", self.version, self.article_id);
        let content = stored_content!(self).read(&what)?;
        let changed = serde_json::from_str(&self.changed)
            .map_err(|_| StoreError::Corrupt(format!("{what}: changed")))?;
        Ok((content, changed))
    }
}

/// Keywords as stored: a JSON array of strings.
pub fn stored_keywords(text: &str) -> Option<Vec<String>> {
    serde_json::from_str(text).ok()
}

/// A local date as stored, YYYY-MM-DD.
pub fn stored_date(text: &Option<String>) -> Result<Option<chrono::NaiveDate>, chrono::ParseError> {
    text.as_deref()
        .map(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .transpose()
}
