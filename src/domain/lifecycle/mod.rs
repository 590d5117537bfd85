//! The lifecycle of a ticket: the one place that decides whether an action may happen and what it
//! changes. `apply` is pure — the caller loads what it needs, and writes the returned `Effects`
//! (new ticket, one event) in one transaction. Nothing else changes a ticket's state.

mod clocks;
mod create;
pub mod notify;
mod payload;

pub use clocks::{TimerChanges, running_after, summary};
pub use create::{NewTicket, create, may_create, validate_new};
pub use notify::{Notification, Recipient};

use super::calendar::Calendar;
use super::sla::{Policy, TimerKind};
use super::ticket::{
    Actor, ExtensionRequest, Outcome, Role, Satisfaction, State, Ticket, TicketId,
};
use super::time;
use super::timer::Timer;
use super::{FieldError, from_json};
use chrono::NaiveDateTime;
use payload::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

name_enum!(
    /// The actions of the lifecycle table, named as in the API path `/actions/{action}`.
    ActionKind {
        Dispatch = "dispatch",
        Return = "return",
        Sign = "sign",
        InterimReply = "interim_reply",
        RequestExtension = "request_extension",
        DecideExtension = "decide_extension",
        Supervise = "supervise",
        Coordinate = "coordinate",
        Assign = "assign",
        Reply = "reply",
        Feedback = "feedback",
        Archive = "archive",
        Reject = "reject",
        Withdraw = "withdraw",
        Merge = "merge",
        Comment = "comment",
    }
);

/// An action asked for: its name, its JSON payload, and the version the caller saw (`If-Match`).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub action: ActionKind,
    pub payload: &'a Value,
    pub if_match: Option<i64>,
}

/// What the payload of an action refers to, for the caller to look up before calling `apply`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lookups {
    pub departments: Vec<String>,
    pub ticket: Option<TicketId>,
}

/// The answers to `Lookups`: which of the named departments exist, and the state of the named ticket.
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub departments: BTreeSet<String>,
    pub tickets: BTreeMap<TicketId, State>,
}

/// Everything `apply` decides on besides the ticket itself: the time, what the payload refers to,
/// the policy and calendar deadlines are counted with, and the ticket's running timers.
pub struct Context<'a> {
    pub now: NaiveDateTime,
    pub known: &'a Known,
    pub policy: &'a Policy,
    pub calendar: &'a Calendar,
    pub timers: &'a [Timer],
}

/// What `apply` and `create` decide must be written, all in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects {
    /// The ticket as it is after the change, with its version raised by one.
    pub ticket: Ticket,
    pub event: Event,
    pub timers: TimerChanges,
    pub notifications: Vec<Notification>,
}

impl Effects {
    /// Completes a change: the ticket's summary of its running timers, as they will be.
    pub(crate) fn new(
        mut ticket: Ticket,
        event: Event,
        timers: TimerChanges,
        notifications: Vec<Notification>,
        before: &[Timer],
    ) -> Self {
        let (due_at, level) = summary(&running_after(before, &timers));
        ticket.due_at = due_at;
        ticket.escalation_level = level;
        Effects {
            ticket,
            event,
            timers,
            notifications,
        }
    }
}

/// One entry of the append-only timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub action: String,
    pub actor: Actor,
    pub from_state: Option<State>,
    pub to_state: State,
    pub level: Option<i32>,
    pub payload: Value,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// 403: this actor may never do this action on this ticket.
    #[error("{0}")]
    Forbidden(String),
    /// 412: the caller saw another version.
    #[error("the ticket is at version {current}, not {expected}")]
    Stale { expected: i64, current: i64 },
    /// 409: not allowed in the ticket's present state.
    #[error("{0}")]
    Conflict(String),
    /// 422: the payload is invalid.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
}

impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        DomainError::Invalid(vec![e])
    }
}

impl From<Vec<FieldError>> for DomainError {
    fn from(e: Vec<FieldError>) -> Self {
        DomainError::Invalid(e)
    }
}

/// How the actor stands to this ticket; the "who may" column of the lifecycle table is written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    Operator,
    Supervisor,
    Admin,
    LeadDepartment,
    CoDepartment,
    OtherDepartment,
    System,
}

impl Party {
    pub fn of(ticket: &Ticket, actor: &Actor) -> Party {
        match actor.role() {
            None => Party::System,
            Some(Role::Operator) => Party::Operator,
            Some(Role::Supervisor) => Party::Supervisor,
            Some(Role::Admin) => Party::Admin,
            Some(Role::Department) => match actor.department() {
                Some(d) if ticket.lead_department.as_deref() == Some(d) => Party::LeadDepartment,
                Some(d) if ticket.co_departments.iter().any(|c| c == d) => Party::CoDepartment,
                _ => Party::OtherDepartment,
            },
        }
    }
}

impl ActionKind {
    /// The "who may" column.
    pub fn permitted(self, party: Party) -> bool {
        use ActionKind::*;
        use Party::*;
        let who: &[Party] = match self {
            Dispatch => &[Operator, Supervisor],
            Return | Sign | RequestExtension | Reply => &[LeadDepartment],
            InterimReply => &[Operator, LeadDepartment],
            DecideExtension | Assign => &[Supervisor],
            Supervise => &[Supervisor, System],
            Coordinate => &[LeadDepartment, Supervisor],
            Feedback | Reject | Withdraw => &[Operator],
            Archive | Merge => &[Operator, Supervisor],
            Comment => &[Operator, Supervisor, LeadDepartment, CoDepartment],
        };
        who.contains(&party)
    }

    /// The "from" column.
    pub fn allowed_in(self, state: State) -> bool {
        use ActionKind::*;
        use State::{Accepted, Archived, Coordinating, Dispatched, Handling, Replied, Supervised};
        match self {
            Dispatch | Reject => state == Accepted,
            Return | Sign => state == Dispatched,
            RequestExtension | DecideExtension | Reply => matches!(state, Handling | Supervised),
            Supervise => state == Handling,
            Coordinate => matches!(state, Dispatched | Handling | Supervised),
            Assign => state == Coordinating,
            Feedback => state == Replied,
            Archive => state == State::Feedback,
            Merge => matches!(state, Accepted | Dispatched),
            InterimReply | Withdraw | Comment => state != Archived,
        }
    }

    /// What the caller must look up for this payload; tolerant of payloads that will fail later.
    pub fn lookups(self, payload: &Value) -> Lookups {
        // Trimmed as the payload checks trim them.
        let text = |v: &Value| v.as_str().map(|s| s.trim().to_string());
        match self {
            ActionKind::Dispatch | ActionKind::Assign => {
                // As many as a valid payload can name, each short enough to be a code: the
                // look-up stays a bounded `IN (…)` whatever the body holds.
                let code = |v: &Value| text(v).filter(|c| c.chars().count() <= DEPARTMENT_CODE_MAX);
                let mut departments: Vec<String> = payload
                    .get("department")
                    .and_then(code)
                    .into_iter()
                    .collect();
                if let Some(co) = payload.get("co_departments").and_then(Value::as_array) {
                    departments.extend(co.iter().take(CO_DEPARTMENTS_MAX).filter_map(code));
                }
                Lookups {
                    departments,
                    ticket: None,
                }
            }
            ActionKind::Merge => Lookups {
                departments: vec![],
                ticket: payload
                    .get("into")
                    .and_then(Value::as_str)
                    .and_then(|s| s.trim().parse().ok()),
            },
            _ => Lookups::default(),
        }
    }
}

/// Decides one action on one ticket. Checks, in the contract's order: who may (403), the version
/// the caller saw (412), the state (409), the payload (422).
pub fn apply(
    ticket: &Ticket,
    request: &Request<'_>,
    actor: &Actor,
    ctx: &Context,
) -> Result<Effects, DomainError> {
    let action = request.action;
    authorize(ticket, action, actor, request.if_match)?;
    if action == ActionKind::RequestExtension {
        check_extension_lead(ticket, ctx)?;
    }
    let (now, known) = (ctx.now, ctx.known);
    let mut detail = clocks::Detail {
        satisfaction: None,
        supervision_due: None,
        approved_days: None,
    };

    let payload = request.payload;
    if !payload.is_object() {
        return Err(FieldError::new("body", "must be a JSON object").into());
    }

    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = now;
    let event_payload: Value = match action {
        ActionKind::Dispatch | ActionKind::Assign => {
            let p: DispatchPayload = from_json(payload)?;
            let p = p.validate(known)?;
            next.state = State::Dispatched;
            next.lead_department = Some(p.department.clone());
            next.co_departments = p.co_departments.clone();
            json!(p)
        }
        ActionKind::Return => {
            let p = ReasonPayload::read(payload)?;
            next.state = State::Accepted;
            next.lead_department = None;
            next.co_departments.clear();
            json!(p)
        }
        ActionKind::Sign => {
            let _: Empty = from_json(payload)?;
            next.state = State::Handling;
            json!({})
        }
        ActionKind::Archive => {
            let _: Empty = from_json(payload)?;
            next.state = State::Archived;
            next.outcome = Some(Outcome::Resolved);
            json!({})
        }
        ActionKind::InterimReply | ActionKind::Reply | ActionKind::Comment => {
            let p = ContentPayload::read(payload)?;
            if action == ActionKind::Reply {
                next.state = State::Replied;
            }
            json!(p)
        }
        ActionKind::RequestExtension => {
            let p = ExtensionPayload::read(payload)?;
            next.pending_extension = Some(ExtensionRequest {
                working_days: p.working_days,
                reason: p.reason.clone(),
                requested_by: actor.department().unwrap_or_default().to_string(),
                requested_at: now,
            });
            json!(p)
        }
        ActionKind::DecideExtension => {
            let p = DecisionPayload::read(payload)?;
            let asked = next
                .pending_extension
                .take()
                .expect("checked by check_state_details");
            detail.approved_days = p.approve.then_some(asked.working_days);
            json!({ "approve": p.approve, "note": p.note, "working_days": asked.working_days, "reason": asked.reason })
        }
        ActionKind::Supervise => {
            let p = SupervisePayload::read(payload, actor, now, ctx.calendar.timezone())?;
            next.state = State::Supervised;
            detail.supervision_due = p.due;
            p.event(ctx.calendar.timezone())
        }
        ActionKind::Coordinate => {
            let p = ReasonPayload::read(payload)?;
            next.state = State::Coordinating;
            json!(p)
        }
        ActionKind::Feedback => {
            let p = FeedbackPayload::read(payload)?;
            detail.satisfaction = Some(p.satisfaction);
            if p.satisfaction == Satisfaction::Dissatisfied {
                // 重办: the lead department handles the case again.
                next.state = State::Handling;
                next.reopen_count += 1;
            } else {
                next.state = State::Feedback;
            }
            json!(p)
        }
        ActionKind::Reject | ActionKind::Withdraw => {
            let p = ReasonPayload::read(payload)?;
            next.state = State::Archived;
            next.outcome = Some(if action == ActionKind::Reject {
                Outcome::Rejected
            } else {
                Outcome::Withdrawn
            });
            json!(p)
        }
        ActionKind::Merge => {
            let p = MergePayload::read(payload, ticket.id, known)?;
            next.state = State::Archived;
            next.outcome = Some(Outcome::Merged);
            next.merged_into = Some(p.into);
            json!(p)
        }
    };
    if !matches!(next.state, State::Handling | State::Supervised) {
        next.pending_extension = None;
    }

    let event = Event {
        action: action.as_str().to_string(),
        actor: actor.clone(),
        from_state: Some(ticket.state),
        to_state: next.state,
        level: None,
        payload: event_payload,
        at: now,
    };
    let timers = clocks::changes(action, ticket, &next, &detail, ctx);
    check_writable(action, &next, &timers, ctx)?;
    let notifications = notify::for_action(action, &next);
    Ok(Effects::new(next, event, timers, notifications, ctx.timers))
}

/// Every moment a running timer of the change will reach, up to the top of its ladder, must be
/// one the API can write (`time::YEARS`): a deadline set or moved past them is refused, naming
/// the field that moved it.
fn check_writable(
    action: ActionKind,
    ticket: &Ticket,
    timers: &TimerChanges,
    ctx: &Context,
) -> Result<(), DomainError> {
    let plan = ctx.plan(ticket);
    let tz = ctx.calendar.timezone();
    let too_far = timers
        .started
        .iter()
        .chain(&timers.changed)
        .filter(|t| t.is_running())
        .any(|t| !time::writable(t.last_step(&plan), tz));
    if !too_far {
        return Ok(());
    }
    let field = match action {
        ActionKind::Supervise => "due",
        ActionKind::RequestExtension | ActionKind::DecideExtension => "working_days",
        _ => "body",
    };
    Err(FieldError::new(
        field,
        format!(
            "sets a deadline (or its escalation ladder) past the year {}",
            time::YEARS.end()
        ),
    )
    .into())
}

/// An extension is asked for while the `handle` deadline is still at least
/// `sla.extension_min_lead` ahead (409 otherwise).
fn check_extension_lead(ticket: &Ticket, ctx: &Context) -> Result<(), DomainError> {
    let Some(handle) = ctx.running(TimerKind::Handle) else {
        return Ok(());
    };
    let lead = ctx
        .policy
        .extension_min_lead(ticket.category, ticket.urgency);
    let latest = ctx.calendar.before(handle.due_at, lead);
    if ctx.now > latest {
        return Err(DomainError::Conflict(format!(
            "an extension must be asked for at least {lead} before the handling deadline"
        )));
    }
    Ok(())
}

/// Whether `actor` may do `action` on `ticket` now, whatever the payload: who may (403), the
/// version the caller saw (412), the state (409).
pub fn authorize(
    ticket: &Ticket,
    action: ActionKind,
    actor: &Actor,
    if_match: Option<i64>,
) -> Result<(), DomainError> {
    let party = Party::of(ticket, actor);
    if !action.permitted(party) {
        return Err(DomainError::Forbidden(format!(
            "{} may not {action} this ticket",
            describe(party)
        )));
    }
    if let Some(expected) = if_match
        && expected != ticket.version
    {
        return Err(DomainError::Stale {
            expected,
            current: ticket.version,
        });
    }
    if !action.allowed_in(ticket.state) {
        return Err(DomainError::Conflict(format!(
            "{action} is not allowed while the ticket is {}",
            ticket.state
        )));
    }
    check_state_details(ticket, action, party)
}

/// The conflicts that depend on more than the state alone.
fn check_state_details(
    ticket: &Ticket,
    action: ActionKind,
    party: Party,
) -> Result<(), DomainError> {
    let conflict = |m: &str| Err(DomainError::Conflict(m.to_string()));
    match action {
        ActionKind::RequestExtension if ticket.pending_extension.is_some() => {
            conflict("an extension request is already pending")
        }
        ActionKind::DecideExtension if ticket.pending_extension.is_none() => {
            conflict("there is no pending extension request to decide")
        }
        // The lead department answers the enterprise only once the case is theirs (signed).
        ActionKind::InterimReply
            if party == Party::LeadDepartment && ticket.state == State::Dispatched =>
        {
            conflict("sign the ticket before replying to the enterprise")
        }
        _ => Ok(()),
    }
}

fn describe(party: Party) -> &'static str {
    match party {
        Party::Operator => "an operator",
        Party::Supervisor => "a supervisor",
        Party::Admin => "an admin",
        Party::LeadDepartment => "the lead department",
        Party::CoDepartment => "a co-handling department",
        Party::OtherDepartment => "a department not handling this ticket",
        Party::System => "the system",
    }
}

#[cfg(test)]
mod tests;
