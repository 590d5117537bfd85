//! Which timers an action starts, ends or moves (DESIGN.md, "Deadlines, timers and escalation"),
//! and the ticket's summary of its running timers.

use super::action::ActionKind;
use super::context::Context;
use crate::domain::sla::TimerKind;
use crate::domain::ticket::{Satisfaction, State, Ticket};
use crate::domain::timer::{Plan, Timer};
use chrono::NaiveDateTime;

/// The timers an action touches: those it starts, and the running ones it ends or moves.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TimerChanges {
    pub started: Vec<Timer>,
    pub changed: Vec<Timer>,
}

/// What of the payload matters to the clocks.
pub struct Detail {
    pub satisfaction: Option<Satisfaction>,
    pub supervision_due: Option<NaiveDateTime>,
    pub approved_days: Option<u32>,
}

impl<'a> Context<'a> {
    pub fn plan(&self, ticket: &Ticket) -> Plan<'a> {
        Plan {
            calendar: self.calendar,
            warn_before: self.policy.warn_before(ticket.category, ticket.urgency),
            steps: &self.policy.steps,
        }
    }

    pub fn start(
        &self,
        ticket: &Ticket,
        kind: TimerKind,
        fixed_due: Option<NaiveDateTime>,
    ) -> Timer {
        let duration = self.policy.limit(kind, ticket.category, ticket.urgency);
        let mut timer = Timer::start(kind, self.now, duration, fixed_due, &self.plan(ticket));
        timer.department = kind.owner(ticket.lead_department.as_ref());
        timer
    }

    pub fn running(&self, kind: TimerKind) -> Option<&Timer> {
        self.timers
            .iter()
            .find(|t| t.kind == kind && t.is_running())
    }
}

/// The timers `action` starts and ends, from `before` to `after`.
pub fn changes(
    action: ActionKind,
    before: &Ticket,
    after: &Ticket,
    detail: &Detail,
    ctx: &Context,
) -> TimerChanges {
    use TimerKind::*;
    let mut c = TimerChanges::default();
    let end = |kind: TimerKind, cancelled: bool, c: &mut TimerChanges| {
        if let Some(t) = ctx.running(kind) {
            let mut t = t.clone();
            t.end(ctx.now, cancelled);
            c.changed.push(t);
        }
    };
    match action {
        ActionKind::Dispatch => {
            end(Dispatch, false, &mut c);
            c.started.push(ctx.start(after, Sign, None));
        }
        ActionKind::Return => {
            end(Sign, false, &mut c);
            // Back at the hotline, the case waits to be dispatched again.
            c.started.push(ctx.start(after, Dispatch, None));
        }
        ActionKind::Sign => {
            end(Sign, false, &mut c);
            c.started.push(ctx.start(after, Handle, None));
        }
        ActionKind::InterimReply => end(InterimReply, false, &mut c),
        ActionKind::Reply => {
            for kind in [InterimReply, Handle, Supervision] {
                end(kind, false, &mut c);
            }
            c.started.push(ctx.start(after, Feedback, None));
        }
        ActionKind::Feedback => {
            end(Feedback, false, &mut c);
            if detail.satisfaction == Some(Satisfaction::Dissatisfied) {
                c.started.push(ctx.start(after, Handle, None));
            }
        }
        ActionKind::Assign => {
            // The case changes hands: the old lead's clocks are moot, the new lead signs afresh.
            for kind in [Sign, Handle, Supervision] {
                end(kind, true, &mut c);
            }
            c.started.push(ctx.start(after, Sign, None));
        }
        ActionKind::Supervise => {
            end(Supervision, true, &mut c);
            c.started
                .push(ctx.start(after, Supervision, detail.supervision_due));
        }
        ActionKind::DecideExtension => {
            if let (Some(days), Some(handle)) = (detail.approved_days, ctx.running(Handle)) {
                let mut handle = handle.clone();
                handle.extend(days, ctx.now, &ctx.plan(before));
                c.changed.push(handle);
            }
        }
        // The hotline disposed of the case: its dispatch clock ends met or late.
        ActionKind::Reject | ActionKind::Merge | ActionKind::Withdraw => {
            end(Dispatch, false, &mut c)
        }
        // 直办: the answer is the reply, procedural and substantive at once.
        ActionKind::Answer => {
            end(Dispatch, false, &mut c);
            end(InterimReply, false, &mut c);
        }
        ActionKind::Coordinate
        | ActionKind::RequestExtension
        | ActionKind::Comment
        | ActionKind::Archive => {}
    }
    // Archiving, however reached, ends every running timer.
    if after.state == State::Archived {
        for t in ctx.timers.iter().filter(|t| t.is_running()) {
            if !c.changed.iter().any(|done| done.id == t.id) {
                let mut t = t.clone();
                let completed = action == ActionKind::Archive && t.kind == Feedback;
                t.end(ctx.now, !completed);
                c.changed.push(t);
            }
        }
    }
    // A stage whose owner follows the lead department (the interim reply) changes hands with it.
    for t in ctx.timers.iter().filter(|t| t.is_running()) {
        let owner = t.kind.owner(after.lead_department.as_ref());
        if t.department != owner && !c.changed.iter().any(|done| done.id == t.id) {
            let mut t = t.clone();
            t.department = owner;
            c.changed.push(t);
        }
    }
    c
}

/// The running timers once `changes` are applied.
pub fn running_after(before: &[Timer], changes: &TimerChanges) -> Vec<Timer> {
    let mut timers: Vec<Timer> = before
        .iter()
        .filter(|t| t.is_running())
        .map(|t| {
            changes
                .changed
                .iter()
                .find(|c| c.id == t.id)
                .unwrap_or(t)
                .clone()
        })
        .collect();
    timers.extend(changes.started.iter().cloned());
    timers.retain(Timer::is_running);
    timers
}

/// The nearest deadline and the highest escalation level among running timers.
pub fn summary(running: &[Timer]) -> (Option<NaiveDateTime>, i32) {
    let due = running.iter().map(|t| t.due_at).min();
    let level = running.iter().map(|t| t.level).max().unwrap_or(0);
    (due, level)
}
