//! Firing due timers: claim the tickets whose timers are due, decide with `escalation::fire`, and
//! write every resulting change (events, ticket, timers, notifications) in the same transaction
//! that claimed them. Called by the scheduler loop, and by tests with a clock of their choosing.

use super::{ServiceError, Settings};
use crate::domain::escalation;
use crate::domain::lifecycle::{Context, Known};
use crate::domain::timer::Step;
use crate::metrics;
use crate::store::conn::{self, DbConn};
use crate::store::{self, StoreError};
use chrono::NaiveDateTime;

/// What one round fired.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub tickets: usize,
    pub steps: usize,
}

/// Fires everything due at `now` on up to `batch` tickets, in one transaction.
pub fn fire_batch(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    batch: i64,
) -> Result<Round, ServiceError> {
    let calendar = settings.calendars.current();
    let known = Known::default();
    let (round, fired) = conn::write(conn, |c| -> Result<_, ServiceError> {
        let claimed = store::timers::claim_due(c, now, batch)?;
        let mut round = Round {
            tickets: claimed.len(),
            steps: 0,
        };
        // Read after the claim's lock, so a step another instance fired a moment ago is seen
        // as fired; read for the whole batch at once.
        let tickets = store::tickets::find_many(c, &claimed)?;
        let mut timers = store::timers::running_for(c, &claimed)?;
        let mut decided = Vec::with_capacity(tickets.len());
        let mut fired = vec![];
        for ticket in &tickets {
            let running = timers.remove(&ticket.id).unwrap_or_default();
            let ctx = Context {
                now,
                known: &known,
                policy: &settings.policy,
                calendar: &calendar,
                timers: &running,
            };
            let (changes, steps) = escalation::fire(ticket, &ctx);
            round.steps += steps.len();
            fired.extend(steps);
            decided.push((ticket, changes));
        }
        let items: Vec<_> = decided
            .iter()
            .map(|(t, changes)| (*t, changes.as_slice()))
            .collect();
        store::tickets::write_batch(c, &items)?;
        Ok((round, fired))
    })?;
    // Counted once the transaction is committed, so a rolled-back round counts nothing.
    for f in fired {
        let level = match f.step {
            Step::Warn { .. } => 0,
            Step::Escalate { level, .. } => level,
        };
        metrics::timer_fired(f.kind, level, now - f.step.scheduled_at());
    }
    Ok(round)
}

/// Fires the whole backlog due at `now`, batch after batch, until nothing is left to claim.
pub fn fire_due(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    batch: i64,
) -> Result<Round, ServiceError> {
    let mut total = Round::default();
    loop {
        let round = fire_batch(conn, settings, now, batch)?;
        total.tickets += round.tickets;
        total.steps += round.steps;
        // A batch can hold fewer tickets than due timers (a ticket with several, or tickets
        // another instance holds): go on until a claim finds nothing.
        if round.tickets == 0 {
            return Ok(total);
        }
    }
}

/// The gauges of deadlines: overdue timers, and timers counted past the known calendar.
pub fn observe(conn: &mut DbConn, now: NaiveDateTime) -> Result<(), StoreError> {
    let (overdue, beyond) = store::timers::gauges(conn, now)?;
    metrics::set_deadline_gauges(overdue, beyond);
    Ok(())
}
