//! What the API shows, each shape a type that carries its own OpenAPI schema: tickets (with a 举报
//! reporter masked for departments), events, timers, pages with opaque cursors, and times in the
//! configured zone (`+08:00`).

use crate::domain::lifecycle::Event;
use crate::domain::sla::TimerKind;
use crate::domain::ticket::{
    Actor, Category, Channel, Outcome, Role, State, Ticket, TicketId, Urgency,
};
use crate::domain::timer::{Timer, TimerOutcome};
use crate::domain::{DepartmentCode, FieldError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, SecondsFormat, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use utoipa::ToSchema;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// An RFC 3339 time in the configured zone.
pub fn timestamp(at: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&at)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A moment, shown as `timestamp` shows it.
#[derive(Debug, Clone, Copy)]
pub struct Time(pub NaiveDateTime, pub Tz);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&timestamp(self.0, self.1))
    }
}

/// The ticket as `viewer` may see it.
pub fn ticket<'a>(t: &'a Ticket, viewer: &Actor, tz: Tz) -> TicketView<'a> {
    let confidential = t.category == Category::Report && viewer.role() == Some(Role::Department);
    let contact = if confidential {
        ContactView {
            name: Cow::Owned(mask_name(&t.contact.name)),
            phone: Cow::Owned(t.contact.phone.masked()),
        }
    } else {
        ContactView {
            name: Cow::Borrowed(&t.contact.name),
            phone: Cow::Borrowed(t.contact.phone.as_str()),
        }
    };
    TicketView {
        id: t.id,
        number: &t.number,
        state: t.state,
        outcome: t.outcome,
        channel: t.channel,
        category: t.category,
        urgency: t.urgency,
        enterprise: EnterpriseView {
            name: &t.enterprise.name,
            credit_code: t.enterprise.credit_code.as_str(),
        },
        contact,
        subject: &t.subject,
        description: &t.description,
        lead_department: t.lead_department.as_ref(),
        co_departments: &t.co_departments,
        pending_extension: t.pending_extension.as_ref().map(|p| ExtensionView {
            working_days: p.working_days,
            reason: &p.reason,
            requested_by: &p.requested_by,
            requested_at: Time(p.requested_at, tz),
        }),
        merged_into: t.merged_into,
        duplicate_of: t.duplicate_of,
        reopen_count: t.reopen_count,
        version: t.version,
        created_at: Time(t.created_at, tz),
        updated_at: Time(t.updated_at, tz),
        due_at: t.due_at.map(|d| Time(d, tz)),
        overdue: t.due_at.is_some_and(|d| d < crate::store::now()),
        escalation_level: t.escalation_level,
    }
}

/// A case as the caller may see it.
#[derive(Serialize, ToSchema)]
#[schema(as = Ticket, example = json!({
    "id": "01a2214e-99bc-7209-9df7-4486baa61c76", "number": "XL-2026-000123",
    "state": "handling", "outcome": null, "channel": "hotline", "category": "complaint",
    "urgency": "normal",
    "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
    "contact": {"name": "王建国", "phone": "13907141234"},
    "subject": "食品经营许可证变更办理超时", "description": "企业于上月提交申请，至今未收到受理结果。",
    "lead_department": "shijian", "co_departments": [], "pending_extension": null,
    "merged_into": null, "duplicate_of": null, "reopen_count": 0, "version": 3,
    "created_at": "2026-11-27T09:12:00.000+08:00", "updated_at": "2026-11-27T10:30:00.000+08:00",
    "due_at": "2026-12-18T17:30:00.000+08:00", "overdue": false, "escalation_level": 0
}))]
pub struct TicketView<'a> {
    #[schema(value_type = String, format = Uuid)]
    id: TicketId,
    /// e.g. XL-2026-000123.
    number: &'a str,
    state: State,
    /// How a closed case ended; null until it is archived.
    outcome: Option<Outcome>,
    channel: Channel,
    category: Category,
    urgency: Urgency,
    enterprise: EnterpriseView<'a>,
    contact: ContactView<'a>,
    subject: &'a str,
    description: &'a str,
    /// 承办单位 (department code).
    #[schema(value_type = Option<String>)]
    lead_department: Option<&'a DepartmentCode>,
    /// 协办单位.
    #[schema(value_type = Vec<String>)]
    co_departments: &'a [DepartmentCode],
    pending_extension: Option<ExtensionView<'a>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    merged_into: Option<TicketId>,
    /// The earlier case this one repeats (重复件).
    #[schema(value_type = Option<String>, format = Uuid)]
    duplicate_of: Option<TicketId>,
    reopen_count: i32,
    /// Also the `ETag`; send it back as `If-Match`.
    version: i64,
    #[schema(value_type = String, format = DateTime)]
    created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Time,
    /// The nearest deadline of the running timers.
    #[schema(value_type = Option<String>, format = DateTime)]
    due_at: Option<Time>,
    overdue: bool,
    /// 0, or how far up the escalation ladder the case has climbed.
    escalation_level: i32,
}

impl TicketView<'_> {
    pub fn id(&self) -> TicketId {
        self.id
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a ticket view always serialises")
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Enterprise)]
struct EnterpriseView<'a> {
    name: &'a str,
    /// 统一社会信用代码.
    credit_code: &'a str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Contact)]
struct ContactView<'a> {
    /// Masked (张*) for departments on a 举报.
    #[schema(value_type = String)]
    name: Cow<'a, str>,
    /// In the one stored form; masked (139****1234) for departments on a 举报.
    #[schema(value_type = String)]
    phone: Cow<'a, str>,
}

/// A pending extension request (延期申请).
#[derive(Serialize, ToSchema)]
#[schema(as = PendingExtension)]
struct ExtensionView<'a> {
    working_days: u32,
    reason: &'a str,
    #[schema(value_type = String)]
    requested_by: &'a DepartmentCode,
    #[schema(value_type = String, format = DateTime)]
    requested_at: Time,
}

/// A deadline of a case: its due time and ladder while it runs, how it ended once it has.
#[derive(Serialize, ToSchema)]
#[schema(as = Timer)]
pub struct TimerView {
    #[schema(value_type = String, format = Uuid)]
    id: uuid::Uuid,
    kind: TimerKind,
    #[schema(value_type = String, format = DateTime)]
    started_at: Time,
    #[schema(value_type = String, format = DateTime)]
    due_at: Time,
    #[schema(value_type = String, format = DateTime)]
    warn_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    warned_at: Option<Time>,
    level: i32,
    #[schema(value_type = Option<String>, format = DateTime)]
    next_fire_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    ended_at: Option<Time>,
    /// `met`, `late` or `cancelled` once ended.
    outcome: Option<TimerOutcome>,
    running: bool,
    overdue: bool,
    /// The policy duration (`15wd`), or null when a person set the deadline.
    #[schema(value_type = Option<String>)]
    duration: Option<crate::domain::duration::Duration>,
    extended_days: u32,
    beyond_calendar: bool,
}

pub fn timer(t: &Timer, tz: Tz) -> TimerView {
    let at = |v: Option<NaiveDateTime>| v.map(|d| Time(d, tz));
    TimerView {
        id: t.id,
        kind: t.kind,
        started_at: Time(t.started_at, tz),
        due_at: Time(t.due_at, tz),
        warn_at: Time(t.warn_at, tz),
        warned_at: at(t.warned_at),
        level: t.level,
        next_fire_at: at(t.next_fire_at),
        ended_at: at(t.ended_at),
        outcome: t.outcome,
        running: t.is_running(),
        overdue: t.is_running() && t.due_at < crate::store::now(),
        duration: t.duration,
        extended_days: t.extended_days,
        beyond_calendar: t.beyond_calendar,
    }
}

/// 张三 → 张*, 欧阳娜娜 → 欧***.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

/// Who did it: a person, or closedloop itself.
#[derive(Serialize, ToSchema)]
#[schema(as = EventActor)]
pub struct ActorView<'a> {
    /// `user` or `system`.
    kind: &'static str,
    username: Option<&'a str>,
    role: Option<Role>,
    #[schema(value_type = Option<String>)]
    department: Option<&'a DepartmentCode>,
}

/// One entry of a case's append-only timeline.
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView<'a> {
    #[schema(value_type = String, format = Uuid)]
    id: &'a str,
    seq: i64,
    /// An action of the lifecycle, `create`, or `warn`/`escalate` by the system.
    action: &'a str,
    actor: ActorView<'a>,
    from_state: Option<State>,
    to_state: State,
    #[schema(value_type = String, format = DateTime)]
    at: Time,
    /// For `warn` (0) and `escalate` (1, 2, …).
    level: Option<i32>,
    /// The action's fields as decided; times in them carry the zone's offset.
    payload: &'a Value,
}

pub fn event<'a>(id: &'a str, seq: i64, e: &'a Event, tz: Tz) -> EventView<'a> {
    let actor = match &e.actor {
        Actor::User {
            username,
            role,
            department,
        } => ActorView {
            kind: "user",
            username: Some(username),
            role: Some(*role),
            department: department.as_ref(),
        },
        Actor::System => ActorView {
            kind: "system",
            username: None,
            role: None,
            department: None,
        },
    };
    EventView {
        id,
        seq,
        action: &e.action,
        actor,
        from_state: e.from_state,
        to_state: e.to_state,
        at: Time(e.at, tz),
        level: e.level,
        payload: &e.payload,
    }
}

/// `{"items": [...], "next_cursor": ...}`: every list of the API.
#[derive(Serialize, ToSchema)]
pub struct Page<T: Serialize + ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T: Serialize + ToSchema> Page<T> {
    /// `rows` holds up to `limit + 1` rows: one more than the page, which tells whether there
    /// is a next page. `key` gives the cursor of a row, `view` what is shown of it.
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

    /// Everything in one page.
    pub fn all(items: Vec<T>) -> Page<T> {
        Page {
            items,
            next_cursor: None,
        }
    }
}

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

    #[derive(Serialize, ToSchema)]
    struct Row(i32);

    #[test]
    fn names_are_masked_after_the_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn pages_hand_out_a_cursor_only_when_there_is_more() {
        let page = Page::of(vec![5, 4, 3], 2, |r| r.to_string(), Row);
        assert_eq!(page.items.iter().map(|r| r.0).collect::<Vec<_>>(), [5, 4]);
        assert_eq!(
            Cursor::decode(page.next_cursor.as_deref().unwrap())
                .ok()
                .as_deref(),
            Some("4")
        );
        let last = Page::of(vec![2, 1], 2, |r| r.to_string(), Row);
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
