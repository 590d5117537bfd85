//! The escalation ladder, fired by the scheduler: a warning ahead of a deadline (临期预警), the
//! levels after it (催办 → supervisors → leadership), and the automatic 督办 of a case whose handling
//! deadline passes — that one through `lifecycle::apply`, as the system. Pure, like the lifecycle.

use super::lifecycle::action::ActionKind;
use super::lifecycle::apply::apply;
use super::lifecycle::clocks::{TimerChanges, running_after};
use super::lifecycle::context::{Context, Known, Request};
use super::lifecycle::effects::Effects;
use super::lifecycle::event::Event;
use super::notification;
use super::sla::TimerKind;
use super::ticket::{Actor, State, Ticket};
use super::time;
use super::timer::{Step, Timer};
use serde_json::json;

/// One step of a timer that fired, for the metrics (kind, level, lag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub kind: TimerKind,
    pub step: Step,
}

/// Every step due at `ctx.now` on this ticket's running timers, oldest first, each its own change
/// (event, timer, notification). A backlog after downtime fires whole.
pub fn fire(ticket: &Ticket, ctx: &Context) -> (Vec<Effects>, Vec<Fired>) {
    let mut ticket = ticket.clone();
    let mut running: Vec<Timer> = ctx
        .timers
        .iter()
        .filter(|t| t.is_running())
        .cloned()
        .collect();
    let plan = ctx.plan(&ticket);
    let (mut effects, mut fired) = (vec![], vec![]);
    while let Some((i, step)) = running
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.due_step(ctx.now, &plan).map(|s| (i, s)))
        .min_by_key(|(_, s)| s.scheduled_at())
    {
        let mut timer = running[i].clone();
        timer.fired(step, ctx.now, &plan);
        let kind = timer.kind;
        let (action, level, notification) = match step {
            Step::Warn { .. } => ("warn", 0, notification::warning(kind, &ticket)),
            Step::Escalate { level, .. } => (
                "escalate",
                level,
                notification::escalation(kind, level, &ticket),
            ),
        };
        let tz = ctx.calendar.timezone();
        let local = |t| time::rfc3339(t, tz);
        let event = Event {
            action: action.to_string(),
            actor: Actor::System,
            from_state: Some(ticket.state),
            to_state: ticket.state,
            level: Some(level),
            payload: json!({ "timer": kind, "due_at": local(timer.due_at), "scheduled_at": local(step.scheduled_at()) }),
            at: ctx.now,
        };
        let mut next = ticket.clone();
        next.version += 1;
        next.updated_at = ctx.now;
        let changes = TimerChanges {
            started: vec![],
            changed: vec![timer.clone()],
        };
        let change = Effects::new(
            Some(&ticket),
            next,
            event,
            changes,
            vec![notification],
            &running,
            ctx.calendar,
        );
        running[i] = timer;
        ticket = change.ticket.clone();
        effects.push(change);
        fired.push(Fired { kind, step });

        // The handling deadline passed: the case comes under supervision by itself.
        if kind == TimerKind::Handle
            && matches!(step, Step::Escalate { level: 1, .. })
            && ticket.state == State::Handling
        {
            let payload = json!({});
            let request = Request {
                action: ActionKind::Supervise,
                payload: &payload,
                if_match: None,
            };
            let known = Known::default();
            let sub = Context {
                now: ctx.now,
                known: &known,
                policy: ctx.policy,
                calendar: ctx.calendar,
                timers: &running,
            };
            let supervised = apply(&ticket, &request, &Actor::System, &sub)
                .expect("the system may supervise a handling ticket");
            running = running_after(&running, &supervised.timers);
            ticket = supervised.ticket.clone();
            effects.push(supervised);
        }
    }
    (effects, fired)
}
