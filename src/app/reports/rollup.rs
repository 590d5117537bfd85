//! The KPI counts kept in step with the timeline: appended by every change (`app::write`),
//! folded by the scheduler, and counted again from the timeline — at start when a database has
//! tickets from before the counts existed, and when asked (`closedloop kpi rebuild`); `check`
//! compares the two (`closedloop kpi check`, and the tests).

use crate::app::error::AppError;
use crate::app::state::Settings;
use crate::domain::kpi::{self, Deltas, Key, Tally};
use crate::domain::ticket::{Ticket, TicketId};
use crate::store::{self, DbConn, conn};
use chrono::NaiveDateTime;

/// Tickets read at a time when counting again.
const PAGE: i64 = 500;

/// What counting again from the timeline found.
#[derive(Debug, Default)]
pub struct Recount {
    pub counts: Deltas,
    pub tickets: usize,
    /// Tickets whose kept history (first department, first reply) differs from their timeline.
    pub tickets_differing: Vec<Ticket>,
    /// Timers whose owner differs from their ticket's timeline: (id, owner).
    pub timers_differing: Vec<(uuid::Uuid, Option<crate::domain::DepartmentCode>)>,
}

/// Counts every ticket again from its timeline, a page at a time, in the caller's transaction.
pub fn recount(conn: &mut DbConn, settings: &Settings) -> Result<Recount, AppError> {
    let calendar = settings.calendars.current();
    let mut out = Recount::default();
    let mut after: Option<TicketId> = None;
    loop {
        let page = store::tickets::page_by_id(conn, after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        after = Some(last.id);
        let ids: Vec<TicketId> = page.iter().map(|t| t.id).collect();
        let mut events = store::tickets::events_for(conn, &ids)?;
        let mut timers = store::timers::all_for(conn, &ids)?;
        for ticket in page {
            let timeline = events
                .remove(&ticket.id)
                .unwrap_or_default()
                .into_iter()
                .map(|row| row.into_event().map(|(_, _, e)| e))
                .collect::<Result<Vec<_>, _>>()?;
            let timers = timers.remove(&ticket.id).unwrap_or_default();
            let (counts, derived) = kpi::from_timeline(&ticket, &timeline, &timers, &calendar);
            kpi::merge(&mut out.counts, &counts);
            for t in &timers {
                let owner = derived.owners.get(&t.id).cloned().flatten();
                if t.department != owner {
                    out.timers_differing.push((t.id, owner));
                }
            }
            out.tickets += 1;
            if (
                &ticket.first_department,
                ticket.replied_at,
                &ticket.replied_by,
            ) != (
                &derived.first_department,
                derived.replied_at,
                &derived.replied_by,
            ) {
                let mut fixed = ticket;
                fixed.first_department = derived.first_department;
                fixed.replied_at = derived.replied_at;
                fixed.replied_by = derived.replied_by;
                out.tickets_differing.push(fixed);
            }
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    pub tickets: usize,
    pub keys: usize,
    pub tickets_fixed: usize,
    pub timers_fixed: usize,
}

/// Replaces the counts (and the history kept on tickets and timers) with what the timeline
/// says, in one transaction: other writers' counts wait for it, none is lost or counted twice.
pub fn rebuild(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<Rebuilt, AppError> {
    settings.calendars.refresh(conn)?;
    conn::write(conn, |c| -> Result<Rebuilt, AppError> {
        store::kpi::lock(c)?;
        let found = recount(c, settings)?;
        for t in &found.tickets_differing {
            store::tickets::set_history(c, t)?;
        }
        for (id, owner) in &found.timers_differing {
            store::timers::set_department(c, *id, owner.as_ref())?;
        }
        store::kpi::replace(c, &found.counts)?;
        store::kpi::mark_rebuilt(c, now)?;
        Ok(Rebuilt {
            tickets: found.tickets,
            keys: found.counts.len(),
            tickets_fixed: found.tickets_differing.len(),
            timers_fixed: found.timers_differing.len(),
        })
    })
}

/// Counts the timeline again when the counts never were (a database with tickets from before
/// them); returns what was done, if anything.
pub fn rebuild_if_never(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<Option<Rebuilt>, AppError> {
    if store::kpi::rebuilt_at(conn)?.is_some() {
        return Ok(None);
    }
    rebuild(conn, settings, now).map(Some)
}

/// A key whose kept count differs from the timeline's: (key, kept, timeline).
pub type Difference = (Key, Tally, Tally);

/// Where the kept counts and history differ from what the timeline says; nothing when they
/// agree. Read under the same lock as a rebuild, so the two views are of one moment.
pub fn check(
    conn: &mut DbConn,
    settings: &Settings,
) -> Result<(Vec<Difference>, Recount), AppError> {
    settings.calendars.refresh(conn)?;
    conn::write(conn, |c| -> Result<_, AppError> {
        store::kpi::lock(c)?;
        let found = recount(c, settings)?;
        let kept = store::kpi::all(c)?;
        let mut differences = vec![];
        for key in kept.keys().chain(found.counts.keys()) {
            let (a, b) = (
                kept.get(key).copied().unwrap_or_default(),
                found.counts.get(key).copied().unwrap_or_default(),
            );
            if a != b && !differences.iter().any(|(k, _, _): &Difference| k == key) {
                differences.push((key.clone(), a, b));
            }
        }
        Ok((differences, found))
    })
}

/// Appended counts folded per transaction.
const FOLD: i64 = 5000;

/// Folds every appended count into the kept sums, a transaction at a time; returns how many.
pub fn fold(conn: &mut DbConn) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let n = conn::write(conn, |c| store::kpi::fold(c, FOLD))?;
        total += n;
        if (n as i64) < FOLD {
            return Ok(total);
        }
    }
}
