//! The one writer of decided changes: the ticket, its event and timers (`store::tickets`), its
//! notifications (`notify::outbox`) and what it counts for in the KPIs (`store::kpi`), in the
//! caller's transaction; a new ticket also updates its enterprise's file (`store::enterprises`)
//! and is indexed for the similar-case look-up (`store::search`). Creates, actions and the scheduler all write through here, so a change
//! never lands without its notifications and counts, or they without it.

use super::state::Settings;
use crate::domain::kpi;
use crate::domain::lifecycle::Effects;
use crate::domain::ticket::Ticket;
use crate::notify;
use crate::store::{self, DbConn, StoreError, tickets};

/// A new ticket and its first event.
pub fn created(
    conn: &mut DbConn,
    effects: &Effects,
    settings: &Settings,
) -> Result<(), StoreError> {
    let event = tickets::insert(conn, effects)?;
    store::enterprises::record(conn, &effects.ticket)?;
    store::search::index_ticket(conn, &effects.ticket)?;
    store::kpi::append(conn, &effects.kpi)?;
    notify::outbox::queue(conn, &[(effects, &event)], &settings.mail)
}

/// Changes decided one after the other on each ticket, from the version each was read at.
pub fn changed(
    conn: &mut DbConn,
    items: &[(&Ticket, &[Effects])],
    settings: &Settings,
) -> Result<(), StoreError> {
    let events = tickets::write_batch(conn, items)?;
    let changes: Vec<(&Effects, &str)> = items
        .iter()
        .flat_map(|(_, effects)| effects.iter())
        .zip(events.iter().map(String::as_str))
        .collect();
    let mut counts = kpi::Deltas::new();
    for (effects, _) in &changes {
        kpi::merge(&mut counts, &effects.kpi);
    }
    store::kpi::append(conn, &counts)?;
    notify::outbox::queue(conn, &changes, &settings.mail)
}
