//! What a decision says must be written, all in one transaction: the ticket after it, its one
//! event, its timers and its notifications.

use super::clocks::{TimerChanges, running_after, summary};
use crate::domain::notification::Notification;
use crate::domain::ticket::{Actor, State, Ticket};
use crate::domain::timer::Timer;
use chrono::NaiveDateTime;
use serde_json::Value;

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
