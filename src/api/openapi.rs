//! The OpenAPI 3.1 description of the API (`/api/v1/openapi.json`), and the API browser at
//! `/docs` (Swagger UI built into the binary: no network needed). The types here describe what
//! the handlers read and write; `tests/openapi.rs` holds them to what the service really answers.
#![allow(dead_code, unused_macros)]

use crate::domain::sla::TimerKind;
use crate::domain::ticket::{Category, Channel, Outcome, Satisfaction, State, Urgency};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A string schema of the names of a closed set (or null, when `nullable`).
fn names(all: &[&str], description: &str, nullable: bool) -> RefOr<Schema> {
    let mut types = vec![Type::String];
    let mut values: Vec<serde_json::Value> = all.iter().map(|n| (*n).into()).collect();
    if nullable {
        types.push(Type::Null);
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(types))
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

macro_rules! names_of {
    ($fn:ident, $nullable:ident, $ty:ty, $desc:literal) => {
        fn $fn() -> RefOr<Schema> {
            let all: Vec<&str> = <$ty>::ALL.iter().map(|v| v.as_str()).collect();
            names(&all, $desc, false)
        }

        fn $nullable() -> RefOr<Schema> {
            let all: Vec<&str> = <$ty>::ALL.iter().map(|v| v.as_str()).collect();
            names(&all, $desc, true)
        }
    };
}

names_of!(state, state_or_null, State, "状态 state of the case");
names_of!(outcome, outcome_or_null, Outcome, "how a closed case ended");
names_of!(
    channel,
    channel_or_null,
    Channel,
    "受理渠道 where the complaint came in"
);
names_of!(
    category,
    category_or_null,
    Category,
    "诉求类别; `report` (举报) masks the reporter for departments"
);
names_of!(
    urgency,
    urgency_or_null,
    Urgency,
    "urgency; `urgent` has shorter time limits"
);
names_of!(
    satisfaction,
    satisfaction_or_null,
    Satisfaction,
    "the enterprise's satisfaction at callback"
);
names_of!(
    timer_kind,
    timer_kind_or_null,
    TimerKind,
    "the stage a deadline belongs to"
);

/// RFC 7807 problem details, the body of every error.
#[derive(ToSchema)]
#[schema(example = json!({
    "type": "urn:closedloop:problem:validation_failed", "title": "Unprocessable Entity",
    "status": 422, "detail": "enterprise.credit_code: 统一社会信用代码校验位不正确",
    "code": "validation_failed",
    "errors": [{"field": "enterprise.credit_code", "message": "统一社会信用代码校验位不正确"}]
}))]
pub struct Problem {
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// Stable: malformed_json, unauthorized, forbidden, not_found, method_not_allowed,
    /// invalid_state, stale_version, payload_too_large, unsupported_media_type, request_timeout,
    /// validation_failed, idempotency_key_reused, too_many_attempts, unavailable.
    code: String,
    /// For invalid input: the fields that are wrong (the first 20; `detail` gives the count).
    #[schema(max_items = 20)]
    errors: Option<Vec<FieldProblem>>,
}

#[derive(ToSchema)]
pub struct FieldProblem {
    field: String,
    message: String,
}

#[derive(ToSchema)]
#[schema(example = json!({"username": "operator", "password": "demo"}))]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(ToSchema)]
pub struct TokenAnswer {
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds.
    expires_in: i64,
}

#[derive(ToSchema)]
pub struct EnterpriseInput {
    /// 企业名称, up to 200 characters.
    name: String,
    /// 统一社会信用代码 (GB 32100-2015, check character verified).
    credit_code: String,
}

#[derive(ToSchema)]
pub struct ContactInput {
    /// 联系人, up to 200 characters.
    name: String,
    /// A mainland mobile (13907141234, +86 139…) or landline with area code (027-8888 1234).
    phone: String,
}

/// A complaint as the hotline logs it (受理).
#[derive(ToSchema)]
#[schema(example = json!({
    "channel": "hotline", "category": "complaint", "urgency": "normal",
    "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
    "contact": {"name": "王建国", "phone": "13907141234"},
    "subject": "食品经营许可证变更办理超时",
    "description": "企业于上月提交申请，至今未收到受理结果。"
}))]
pub struct NewTicket {
    #[schema(schema_with = channel)]
    channel: String,
    #[schema(schema_with = category)]
    category: String,
    #[schema(schema_with = urgency)]
    urgency: String,
    enterprise: EnterpriseInput,
    contact: ContactInput,
    /// Up to 200 characters.
    subject: String,
    /// Up to 20,000 characters.
    description: String,
}

#[derive(ToSchema)]
pub struct Enterprise {
    name: String,
    credit_code: String,
}

#[derive(ToSchema)]
pub struct Contact {
    /// Masked (张*) for departments on a 举报.
    name: String,
    /// Canonical form; masked (139****1234) for departments on a 举报.
    phone: String,
}

#[derive(ToSchema)]
pub struct PendingExtension {
    working_days: u32,
    reason: String,
    requested_by: String,
    requested_at: String,
}

/// A case as the caller may see it.
#[derive(ToSchema)]
#[schema(example = json!({
    "id": "01a2214e-99bc-7209-9df7-4486baa61c76", "number": "XL-2026-000123",
    "state": "handling", "outcome": null, "channel": "hotline", "category": "complaint",
    "urgency": "normal",
    "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
    "contact": {"name": "王建国", "phone": "13907141234"},
    "subject": "食品经营许可证变更办理超时", "description": "企业于上月提交申请，至今未收到受理结果。",
    "lead_department": "shijian", "co_departments": [], "pending_extension": null,
    "merged_into": null, "reopen_count": 0, "version": 3,
    "created_at": "2026-11-27T09:12:00.000+08:00", "updated_at": "2026-11-27T10:30:00.000+08:00",
    "due_at": "2026-12-18T17:30:00.000+08:00", "overdue": false, "escalation_level": 0
}))]
pub struct Ticket {
    #[schema(format = Uuid)]
    id: String,
    /// e.g. XL-2026-000123.
    number: String,
    #[schema(schema_with = state)]
    state: String,
    #[schema(schema_with = outcome_or_null)]
    outcome: Option<String>,
    #[schema(schema_with = channel)]
    channel: String,
    #[schema(schema_with = category)]
    category: String,
    #[schema(schema_with = urgency)]
    urgency: String,
    enterprise: Enterprise,
    contact: Contact,
    subject: String,
    description: String,
    /// 承办单位 (department code).
    lead_department: Option<String>,
    /// 协办单位.
    co_departments: Vec<String>,
    pending_extension: Option<PendingExtension>,
    merged_into: Option<String>,
    reopen_count: i32,
    /// Also the `ETag`; send it back as `If-Match`.
    version: i64,
    created_at: String,
    updated_at: String,
    /// The nearest deadline of the running timers.
    due_at: Option<String>,
    overdue: bool,
    /// 0, or how far up the escalation ladder the case has climbed.
    escalation_level: i32,
}

#[derive(ToSchema)]
pub struct TicketPage {
    items: Vec<Ticket>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// The fields an action reads; which apply depends on the action (DESIGN.md's lifecycle table):
/// `dispatch`/`assign` department, co_departments, note · `return`, `coordinate`, `reject`,
/// `withdraw` reason · `interim_reply`, `reply`, `comment` content · `request_extension`
/// working_days, reason · `decide_extension` approve, note · `supervise` note, due · `feedback`
/// satisfaction, comment · `merge` into · `sign`, `archive` nothing.
#[derive(ToSchema)]
#[schema(example = json!({"department": "shijian", "co_departments": ["renshe"], "note": "请按时办理"}))]
pub struct ActionInput {
    department: Option<String>,
    /// At most 20 departments.
    #[schema(max_items = 20)]
    co_departments: Option<Vec<String>>,
    note: Option<String>,
    reason: Option<String>,
    content: Option<String>,
    working_days: Option<u32>,
    approve: Option<bool>,
    /// RFC 3339, in the future, years 1970 to 9999; the escalation ladder after it must end
    /// by 9999 too.
    due: Option<String>,
    #[schema(schema_with = satisfaction_or_null)]
    satisfaction: Option<String>,
    comment: Option<String>,
    #[schema(format = Uuid)]
    into: Option<String>,
}

#[derive(ToSchema)]
pub struct EventActor {
    /// `user` or `system`.
    kind: String,
    username: Option<String>,
    role: Option<String>,
    department: Option<String>,
}

/// One entry of a case's append-only timeline.
#[derive(ToSchema)]
pub struct Event {
    #[schema(format = Uuid)]
    id: String,
    seq: i64,
    /// An action of the lifecycle, or `warn`/`escalate` by the system.
    action: String,
    actor: EventActor,
    #[schema(schema_with = state_or_null)]
    from_state: Option<String>,
    #[schema(schema_with = state)]
    to_state: String,
    at: String,
    /// For `warn` (0) and `escalate` (1, 2, …).
    level: Option<i32>,
    /// The action's fields as given.
    payload: serde_json::Value,
}

#[derive(ToSchema)]
pub struct EventPage {
    items: Vec<Event>,
    next_cursor: Option<String>,
}

/// A deadline of a case.
#[derive(ToSchema)]
pub struct Timer {
    #[schema(format = Uuid)]
    id: String,
    #[schema(schema_with = timer_kind)]
    kind: String,
    started_at: String,
    due_at: String,
    warn_at: String,
    warned_at: Option<String>,
    level: i32,
    next_fire_at: Option<String>,
    ended_at: Option<String>,
    /// `met`, `late` or `cancelled` once ended.
    outcome: Option<String>,
    running: bool,
    overdue: bool,
    /// The policy duration (`15wd`), or null when a person set the deadline.
    duration: Option<String>,
    extended_days: u32,
    beyond_calendar: bool,
}

#[derive(ToSchema)]
pub struct TimerList {
    items: Vec<Timer>,
    /// Always null: every timer of the case is in one answer.
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct Department {
    code: String,
    name: String,
    email: String,
    head_email: Option<String>,
}

#[derive(ToSchema)]
pub struct DepartmentPage {
    items: Vec<Department>,
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct CalendarYear {
    year: i32,
    /// Whether the year is loaded; an unknown year is counted Monday to Friday.
    known: bool,
    /// Official days off (YYYY-MM-DD).
    off: Vec<String>,
    /// Make-up working days on weekends.
    work: Vec<String>,
    known_until: Option<String>,
    rule: String,
    /// After PUT: how many running deadlines were counted again.
    recounted_timers: Option<u64>,
}

#[derive(ToSchema)]
#[schema(example = json!({"off": ["2027-01-01", "2027-02-06"], "work": ["2027-02-14"]}))]
pub struct CalendarInput {
    off: Vec<String>,
    work: Vec<String>,
}

#[derive(ToSchema)]
pub struct Deadline {
    from: String,
    duration: String,
    due_at: String,
    beyond_calendar: bool,
}

/// A notification of the outbox.
#[derive(ToSchema)]
pub struct Notification {
    #[schema(format = Uuid)]
    id: String,
    ticket_id: Option<String>,
    ticket_number: Option<String>,
    event_id: Option<String>,
    /// dispatch, co_dispatch, returned, supervised, coordination, extension_requested,
    /// extension_decided, replied, warning, escalation, digest.
    template: String,
    to: Vec<String>,
    roles: Vec<serde_json::Value>,
    /// pending, sending, sent, failed.
    status: String,
    attempts: i32,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    sent_at: Option<String>,
    message_id: String,
    created_at: String,
}

#[derive(ToSchema)]
pub struct NotificationPage {
    items: Vec<Notification>,
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct Health {
    status: String,
}

#[derive(ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    status: String,
    /// `ok`, `migrations pending` or `unavailable`.
    database: String,
    calendar_known_until: Option<String>,
    warnings: Vec<String>,
}

const PROBLEM: &str = "application/problem+json";

#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "签发令牌", body = TokenAnswer),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "wrong username or password", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "missing or wrong fields", body = Problem, content_type = PROBLEM),
        (status = 429, description = "too many failed sign-ins; see Retry-After", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn token() {}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    description = "受理: the hotline logs a complaint (operators). An `Idempotency-Key` makes a retry return the first answer.",
    params(("Idempotency-Key" = Option<String>, Header, description = "up to 255 printable characters; kept 24 h per user")),
    request_body = NewTicket,
    responses(
        (status = 201, description = "logged; `Location` and `ETag` set", body = Ticket),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not an operator", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields, or the key reused with another body", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn create_ticket() {}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    description = "Cases the caller may see, newest first. A department sees the cases it leads or co-handles.",
    params(
        ("state" = Option<String>, Query, description = "a state"),
        ("department" = Option<String>, Query, description = "lead or co-handling department code"),
        ("category" = Option<String>, Query, description = "a category"),
        ("q" = Option<String>, Query, description = "number, subject, enterprise name or credit code contains this, or the contact's phone is this number in any common form (a department does not find a 举报 by its reporter's phone); up to 100 characters"),
        ("created_from" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (start of that day); years 1970 to 9999 in the configured zone"),
        ("created_to" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (that day included); years 1970 to 9999 in the configured zone"),
        ("overdue" = Option<bool>, Query, description = "a running deadline has passed"),
        ("due_before" = Option<String>, Query, description = "the nearest deadline is before this"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "from `next_cursor`"),
    ),
    responses(
        (status = 200, body = TicketPage),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn list_tickets() {}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, format = Uuid, description = "ticket id")),
    responses(
        (status = 200, description = "the case; `ETag` is its version", body = Ticket),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn get_ticket() {}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/actions/{action}", tag = "tickets",
    description = "One step of the lifecycle (分办, 签收, 答复, 督办, 协调, 反馈, 归档 …). Checked in this order: 401, 404, 403, 412, 409, 422.",
    params(
        ("id" = String, Path, format = Uuid, description = "ticket id"),
        ("action" = String, Path, description = "dispatch, return, sign, interim_reply, request_extension, decide_extension, supervise, coordinate, assign, reply, feedback, archive, reject, withdraw, merge, comment"),
        ("If-Match" = Option<String>, Header, description = "the version seen, as given in `ETag`"),
    ),
    request_body = ActionInput,
    responses(
        (status = 200, description = "the case after the action", body = Ticket),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "this role may not", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case or action", body = Problem, content_type = PROBLEM),
        (status = 409, description = "not in this state", body = Problem, content_type = PROBLEM),
        (status = 412, description = "stale If-Match", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn act() {}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets",
    params(
        ("id" = String, Path, format = Uuid, description = "ticket id"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "from `next_cursor`"),
    ),
    responses(
        (status = 200, description = "the timeline, oldest first", body = EventPage),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn events() {}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/timers", tag = "tickets",
    params(("id" = String, Path, format = Uuid, description = "ticket id")),
    responses(
        (status = 200, description = "every deadline of the case", body = TimerList),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn timers() {}

#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar",
    description = "When a period from a moment ends, on the working-day calendar.",
    params(
        ("from" = Option<String>, Query, description = "RFC 3339 (write + as %2B), years 1970 to 9999; default now"),
        ("duration" = String, Query, description = "3wd, 4wh, 7d, 2h, 30m or 45s, at most ten years; the period must end by 9999-12-31"),
    ),
    responses(
        (status = 200, body = Deadline),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
    ))]
fn deadline() {}

#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "1970 to 9999")),
    responses(
        (status = 200, body = CalendarYear),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "not a year", body = Problem, content_type = PROBLEM),
    ))]
fn calendar_get() {}

#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "calendar",
    description = "Loads a year's official days off and make-up working days (admins); running deadlines that reach into it are counted again.",
    params(("year" = i32, Path, description = "1970 to 9999")),
    request_body = CalendarInput,
    responses(
        (status = 200, body = CalendarYear),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "not a year", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad dates", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn calendar_put() {}

#[utoipa::path(get, path = "/api/v1/departments", tag = "departments",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "from `next_cursor`"),
    ),
    responses(
        (status = 200, body = DepartmentPage),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn departments() {}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    description = "The outbox, newest first (supervisors and admins).",
    params(
        ("status" = Option<String>, Query, description = "pending, sending, sent or failed"),
        ("ticket" = Option<String>, Query, format = Uuid, description = "a ticket id"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "from `next_cursor`"),
    ),
    responses(
        (status = 200, body = NotificationPage),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not a supervisor or admin", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn notifications() {}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/retry", tag = "notifications",
    description = "Makes a failed (or waiting) notification due now, with a fresh count of attempts.",
    params(("id" = String, Path, format = Uuid, description = "notification id")),
    responses(
        (status = 200, body = Notification),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not a supervisor or admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such notification", body = Problem, content_type = PROBLEM),
        (status = 409, description = "being sent, or sent", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
fn retry() {}

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "the process is alive", body = Health)))]
fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "ready; `warnings` when the calendar runs out within 60 days", body = Readiness),
        (status = 503, description = "database unreachable or not migrated", body = Readiness),
    ))]
fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
fn metrics() {}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "From POST /api/v1/auth/token, or `closedloop token --username U`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "closedloop",
        description = "12345热线企业诉求闭环办理：受理、分办、督办、协调、答复、反馈、归档。\n\nThe closed loop of enterprise complaints for a district's 12345 hotline. Errors are RFC 7807 `application/problem+json` with a stable `code`.",
        license(name = "see the repository"),
    ),
    paths(
        token, create_ticket, list_tickets, get_ticket, act, events, timers, deadline,
        calendar_get, calendar_put, departments, notifications, retry, healthz, readyz, metrics
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "令牌"),
        (name = "tickets", description = "工单：受理、分办、办理、督办、协调、答复、反馈、归档"),
        (name = "calendar", description = "工作日历与期限"),
        (name = "departments", description = "承办单位"),
        (name = "notifications", description = "邮件通知（发件箱）"),
        (name = "operations", description = "health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as served, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut api = ApiDoc::openapi();
        api.info.version = env!("CARGO_PKG_VERSION").to_string();
        api
    })
}
