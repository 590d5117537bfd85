//! What the API shows: tickets (with a 举报 reporter masked for departments), events, pages with
//! opaque cursors, and times in the configured zone (`+08:00`).

use crate::domain::lifecycle::Event;
use crate::domain::ticket::{Actor, Category, Role, Ticket};
use crate::domain::timer::Timer;
use crate::domain::{FieldError, Phone};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, SecondsFormat, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// An RFC 3339 time in the configured zone.
pub fn timestamp(at: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&at)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The ticket as `viewer` may see it, serialised straight from the ticket: a page of 50 was
/// spending more time building and dropping `serde_json::Value` maps than reading its rows.
pub fn ticket<'a>(t: &'a Ticket, viewer: &Actor, tz: Tz) -> TicketView<'a> {
    let confidential = t.category == Category::Report && viewer.role() == Some(Role::Department);
    let contact = if confidential {
        ContactView {
            name: Cow::Owned(mask_name(&t.contact.name)),
            phone: Cow::Owned(Phone::masked(&t.contact.phone)),
        }
    } else {
        ContactView {
            name: Cow::Borrowed(&t.contact.name),
            phone: Cow::Borrowed(&t.contact.phone),
        }
    };
    TicketView {
        t,
        contact,
        pending_extension: t.pending_extension.as_ref().map(|p| ExtensionView {
            working_days: p.working_days,
            reason: &p.reason,
            requested_by: &p.requested_by,
            requested_at: Time(p.requested_at, tz),
        }),
        created_at: Time(t.created_at, tz),
        updated_at: Time(t.updated_at, tz),
        due_at: t.due_at.map(|d| Time(d, tz)),
        overdue: t.due_at.is_some_and(|d| d < crate::store::now()),
    }
}

/// What `ticket` shows; the fields in the order of the OpenAPI schema.
pub struct TicketView<'a> {
    t: &'a Ticket,
    contact: ContactView<'a>,
    pending_extension: Option<ExtensionView<'a>>,
    created_at: Time,
    updated_at: Time,
    due_at: Option<Time>,
    overdue: bool,
}

impl TicketView<'_> {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a ticket view always serialises")
    }
}

impl Serialize for TicketView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = self.t;
        let mut out = s.serialize_struct("Ticket", 22)?;
        out.serialize_field("id", &t.id)?;
        out.serialize_field("number", &t.number)?;
        out.serialize_field("state", &t.state)?;
        out.serialize_field("outcome", &t.outcome)?;
        out.serialize_field("channel", &t.channel)?;
        out.serialize_field("category", &t.category)?;
        out.serialize_field("urgency", &t.urgency)?;
        out.serialize_field(
            "enterprise",
            &EnterpriseView {
                name: &t.enterprise.name,
                credit_code: &t.enterprise.credit_code,
            },
        )?;
        out.serialize_field("contact", &self.contact)?;
        out.serialize_field("subject", &t.subject)?;
        out.serialize_field("description", &t.description)?;
        out.serialize_field("lead_department", &t.lead_department)?;
        out.serialize_field("co_departments", &t.co_departments)?;
        out.serialize_field("pending_extension", &self.pending_extension)?;
        out.serialize_field("merged_into", &t.merged_into)?;
        out.serialize_field("reopen_count", &t.reopen_count)?;
        out.serialize_field("version", &t.version)?;
        out.serialize_field("created_at", &self.created_at)?;
        out.serialize_field("updated_at", &self.updated_at)?;
        out.serialize_field("due_at", &self.due_at)?;
        out.serialize_field("overdue", &self.overdue)?;
        out.serialize_field("escalation_level", &t.escalation_level)?;
        out.end()
    }
}

#[derive(Serialize)]
struct EnterpriseView<'a> {
    name: &'a str,
    credit_code: &'a str,
}

#[derive(Serialize)]
struct ContactView<'a> {
    name: Cow<'a, str>,
    phone: Cow<'a, str>,
}

#[derive(Serialize)]
struct ExtensionView<'a> {
    working_days: u32,
    reason: &'a str,
    requested_by: &'a str,
    requested_at: Time,
}

/// A moment, shown as `timestamp` shows it.
struct Time(NaiveDateTime, Tz);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&timestamp(self.0, self.1))
    }
}

/// A timer: its deadline and ladder while it runs, how it ended once it has.
pub fn timer(t: &Timer, tz: Tz) -> Value {
    let at = |v: Option<NaiveDateTime>| v.map(|d| timestamp(d, tz));
    json!({
        "id": t.id,
        "kind": t.kind,
        "started_at": timestamp(t.started_at, tz),
        "due_at": timestamp(t.due_at, tz),
        "warn_at": timestamp(t.warn_at, tz),
        "warned_at": at(t.warned_at),
        "level": t.level,
        "next_fire_at": at(t.next_fire_at),
        "ended_at": at(t.ended_at),
        "outcome": t.outcome,
        "running": t.is_running(),
        "overdue": t.is_running() && t.due_at < crate::store::now(),
        "duration": t.duration,
        "extended_days": t.extended_days,
        "beyond_calendar": t.beyond_calendar,
    })
}

/// 张三 → 张*, 欧阳娜娜 → 欧***.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

pub fn event(id: &str, seq: i64, e: &Event, tz: Tz) -> Value {
    let actor = match &e.actor {
        Actor::User {
            username,
            role,
            department,
        } => json!({"kind": "user", "username": username, "role": role, "department": department}),
        Actor::System => {
            json!({"kind": "system", "username": null, "role": null, "department": null})
        }
    };
    json!({
        "id": id,
        "seq": seq,
        "action": e.action,
        "actor": actor,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "at": timestamp(e.at, tz),
        "level": e.level,
        "payload": e.payload,
    })
}

/// `{"items": [...], "next_cursor": ...}`. `rows` holds up to `limit + 1` rows: one more than
/// the page, which tells whether there is a next page.
#[derive(Serialize)]
pub struct Page<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
    /// `key` gives the cursor of a row, `view` what is shown of it.
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| Cursor::encode(&key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

impl Page<()> {
    /// `?limit=`: 1 to 100, 20 when absent.
    pub fn limit(value: Option<&str>) -> Result<i64, FieldError> {
        match value {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    FieldError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                }),
        }
    }
}

/// An opaque cursor: the key of the last row of the page, base64url.
pub struct Cursor;

impl Cursor {
    pub fn encode(key: &str) -> String {
        URL_SAFE_NO_PAD.encode(key)
    }

    pub fn decode(cursor: &str) -> Result<String, FieldError> {
        URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !crate::domain::has_control(s))
            .ok_or_else(Cursor::invalid)
    }

    pub fn invalid() -> FieldError {
        FieldError::new("cursor", "is not a cursor this API handed out")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_after_the_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn pages_hand_out_a_cursor_only_when_there_is_more() {
        let page = Page::of(vec![5, 4, 3], 2, |r| r.to_string(), |r| r);
        assert_eq!(page.items, [5, 4]);
        assert_eq!(
            Cursor::decode(page.next_cursor.as_deref().unwrap())
                .ok()
                .as_deref(),
            Some("4")
        );
        let last = Page::of(vec![2, 1], 2, |r| r.to_string(), |r| r);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn times_carry_the_zone_offset() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(1, 2, 3)
            .unwrap();
        assert_eq!(
            timestamp(at, chrono_tz::Asia::Shanghai),
            "2026-11-28T09:02:03.000+08:00"
        );
    }
}
