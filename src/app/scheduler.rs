//! Firing due timers: claim the tickets whose timers are due, decide with `escalation::fire`, and
//! write every resulting change (events, ticket, timers, notifications) in the same transaction
//! that claimed them. Called by the scheduler loop, and by tests with a clock of their choosing.

use super::error::AppError;
use super::state::Settings;
use super::write;
use crate::domain::escalation;
use crate::domain::lifecycle::{Context, Known};
use crate::domain::ticket::TicketId;
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
) -> Result<Round, AppError> {
    fire_in_transaction(conn, settings, now, |c| {
        store::timers::claim_due(c, now, batch)
    })
}

/// Fires what is due on one ticket, in a transaction of its own.
fn fire_one(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    id: TicketId,
) -> Result<Round, AppError> {
    fire_in_transaction(conn, settings, now, |c| {
        Ok(store::tickets::find_for_update(c, id)?
            .map(|t| t.id)
            .into_iter()
            .collect())
    })
}

/// In one transaction: claim tickets with `claim`, decide with `escalation::fire`, write it all.
fn fire_in_transaction(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    claim: impl FnOnce(&mut DbConn) -> Result<Vec<TicketId>, StoreError>,
) -> Result<Round, AppError> {
    let calendar = settings.calendars.current();
    let known = Known::default();
    let (round, fired) = conn::write(conn, |c| -> Result<_, AppError> {
        let claimed = claim(c)?;
        let mut round = Round {
            tickets: claimed.len(),
            steps: 0,
        };
        if claimed.is_empty() {
            return Ok((round, vec![]));
        }
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
        write::changed(c, &items, settings)?;
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
/// A batch that fails for another reason than the database being away (a row that cannot be
/// read, say) is fired again ticket by ticket, so that one bad ticket holds up no other deadline.
pub fn fire_due(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    batch: i64,
) -> Result<Round, AppError> {
    let mut total = Round::default();
    loop {
        let round = match fire_batch(conn, settings, now, batch) {
            Ok(round) => round,
            Err(e @ AppError::Store(StoreError::Unavailable(_))) => return Err(e),
            Err(e) => {
                tracing::error!(error = %e, "a batch of due timers failed; firing them ticket by ticket");
                for id in store::timers::due_tickets(conn, now, batch)? {
                    match fire_one(conn, settings, now, id) {
                        Ok(round) => {
                            total.tickets += round.tickets;
                            total.steps += round.steps;
                        }
                        Err(e) => {
                            tracing::error!(ticket = %id, error = %e, "could not fire this ticket's timers; retrying next round")
                        }
                    }
                }
                // The failing ticket is still due: leave it to the next round rather than loop.
                return Ok(total);
            }
        };
        total.tickets += round.tickets;
        total.steps += round.steps;
        // A batch can hold fewer tickets than due timers (a ticket with several, or tickets
        // another instance holds): go on until a claim finds nothing.
        if round.tickets == 0 {
            return Ok(total);
        }
    }
}
