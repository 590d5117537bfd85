//! `apply`: the one place that decides whether an action may happen and what it changes.

use super::action::{ActionKind, Party};
use super::clocks::{self, TimerChanges};
use super::context::{Context, Request};
use super::effects::Effects;
use super::error::DomainError;
use super::event::Event;
use super::payload::*;
use crate::domain::field::{FieldError, from_json};
use crate::domain::notification;
use crate::domain::sla::TimerKind;
use crate::domain::ticket::{Actor, ExtensionRequest, Outcome, Satisfaction, State, Ticket};
use crate::domain::time;
use serde_json::{Value, json};

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
            if next.first_department.is_none() {
                next.first_department = Some(p.department.clone());
            }
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
                if next.replied_at.is_none() {
                    next.replied_at = Some(now);
                    next.replied_by = next.lead_department.clone();
                }
            }
            json!(p)
        }
        ActionKind::RequestExtension => {
            let p = ExtensionPayload::read(payload)?;
            next.pending_extension = Some(ExtensionRequest {
                working_days: p.working_days,
                reason: p.reason.clone(),
                requested_by: actor
                    .department()
                    .cloned()
                    .expect("only the lead department asks for an extension"),
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
        ActionKind::Reject => {
            let p = RejectPayload::read(payload, ticket.id, known)?;
            next.state = State::Archived;
            next.outcome = Some(Outcome::Rejected);
            if p.repeat_of.is_some() {
                next.duplicate_of = p.repeat_of;
            }
            json!(p)
        }
        ActionKind::Answer => {
            let p = AnswerPayload::read(payload, known)?;
            next.state = State::Archived;
            next.outcome = Some(Outcome::Answered);
            json!(p)
        }
        ActionKind::Withdraw => {
            let p = ReasonPayload::read(payload)?;
            next.state = State::Archived;
            next.outcome = Some(Outcome::Withdrawn);
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
    let notifications = notification::for_action(action, &next);
    Ok(Effects::new(
        Some(ticket),
        next,
        event,
        timers,
        notifications,
        ctx.timers,
        ctx.calendar,
    ))
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

/// The actions `actor` may take on `ticket` now, as `authorize` judges them: what the console
/// offers is exactly what the API would accept, payload aside.
pub fn available(ticket: &Ticket, actor: &Actor) -> Vec<ActionKind> {
    ActionKind::ALL
        .iter()
        .copied()
        .filter(|a| authorize(ticket, *a, actor, None).is_ok())
        .collect()
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
