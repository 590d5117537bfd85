//! What a decision says must be written, all in one transaction: the ticket after it, its one
//! event, its timers, its notifications and what it adds to the district's figures.

use super::clocks::{TimerChanges, running_after, summary};
use super::event::Event;
use crate::domain::calendar::Calendar;
use crate::domain::kpi::{self, Deltas};
use crate::domain::notification::Notification;
use crate::domain::ticket::Ticket;
use crate::domain::timer::Timer;

/// What `apply` and `create` decide must be written, all in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects {
    /// The ticket as it is after the change, with its version raised by one.
    pub ticket: Ticket,
    pub event: Event,
    pub timers: TimerChanges,
    pub notifications: Vec<Notification>,
    /// What the change adds to (and takes from) the KPI counts.
    pub kpi: Deltas,
}

impl Effects {
    /// Completes a change of `before` (none for a new ticket) whose running timers were
    /// `before_timers`: the ticket's summary of its running timers, as they will be, and what
    /// the change counts for.
    pub(crate) fn new(
        before: Option<&Ticket>,
        mut ticket: Ticket,
        event: Event,
        timers: TimerChanges,
        notifications: Vec<Notification>,
        before_timers: &[Timer],
        calendar: &Calendar,
    ) -> Self {
        let (due_at, level) = summary(&running_after(before_timers, &timers));
        ticket.due_at = due_at;
        ticket.escalation_level = level;
        let kpi = kpi::change(
            before,
            &ticket,
            &event,
            &timers.started,
            &timers.changed,
            before_timers,
            calendar,
        );
        Effects {
            ticket,
            event,
            timers,
            notifications,
            kpi,
        }
    }
}
