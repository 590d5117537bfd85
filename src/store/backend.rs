//! The statements that differ between SQLite and PostgreSQL, in one place, matched on the
//! connection variant: row locks and upserts.

use super::StoreError;
use super::conn::DbConn;
use super::schema::{departments, ticket_counters, tickets};
use super::tickets::TicketRow;
use diesel::prelude::*;

/// Reads a ticket row for update. PostgreSQL locks it (`FOR UPDATE`); SQLite needs no lock, as
/// its write transactions (`BEGIN IMMEDIATE`) already run one at a time.
pub fn ticket_for_update(conn: &mut DbConn, id: &str) -> Result<Option<TicketRow>, StoreError> {
    let row = tickets::table.find(id.to_string());
    Ok(match conn {
        DbConn::Postgres(pg) => row
            .select(TicketRow::as_select())
            .for_update()
            .first(pg)
            .optional()?,
        DbConn::Sqlite(lite) => row.select(TicketRow::as_select()).first(lite).optional()?,
    })
}

/// Raises the counter of `year` by one and returns it, creating the counter on first use.
pub fn bump_counter(conn: &mut DbConn, year: i32) -> Result<i64, StoreError> {
    use ticket_counters::dsl as c;
    let upsert = diesel::insert_into(c::ticket_counters)
        .values((c::year.eq(year), c::last_value.eq(1i64)))
        .on_conflict(c::year)
        .do_update()
        .set(c::last_value.eq(c::last_value + 1i64))
        .returning(c::last_value);
    Ok(match conn {
        DbConn::Postgres(pg) => upsert.get_result(pg)?,
        DbConn::Sqlite(lite) => upsert.get_result(lite)?,
    })
}

/// Inserts a department unless one with its code exists; returns whether it was inserted.
pub fn insert_department_if_missing(
    conn: &mut DbConn,
    row: &super::departments::DepartmentRow,
) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(departments::table)
        .values(row)
        .on_conflict(departments::code)
        .do_nothing();
    let inserted = match conn {
        DbConn::Postgres(pg) => insert.execute(pg)?,
        DbConn::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(inserted == 1)
}

#[derive(diesel::QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Locks up to `limit` tickets that have a timer due at `now`, earliest first.
///
/// PostgreSQL: the due timers are claimed with `SKIP LOCKED`, so instances running side by side
/// take different ones, then their tickets, skipping any a person's action holds (that ticket's
/// timers wait for the next round; the action never waits for a ticket the scheduler wants).
/// SQLite needs no lock, as one write transaction runs at a time.
pub fn claim_due_tickets(conn: &mut DbConn, now: chrono::NaiveDateTime, limit: i64) -> Result<Vec<String>, StoreError> {
    use super::schema::timers;
    Ok(match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "WITH due AS (
                 SELECT ticket_id FROM timers
                 WHERE ended_at IS NULL AND next_fire_at IS NOT NULL AND next_fire_at <= $1
                 ORDER BY next_fire_at LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             SELECT id FROM tickets WHERE id IN (SELECT ticket_id FROM due)
             FOR UPDATE SKIP LOCKED",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<Claimed>(pg)?
        .into_iter()
        .map(|c| c.id)
        .collect(),
        DbConn::Sqlite(lite) => {
            let mut ids: Vec<String> = timers::table
                .filter(timers::ended_at.is_null())
                .filter(timers::next_fire_at.is_not_null())
                .filter(timers::next_fire_at.le(now))
                .order(timers::next_fire_at.asc())
                .limit(limit)
                .select(timers::ticket_id)
                .load(lite)?;
            ids.sort();
            ids.dedup();
            ids
        }
    })
}

/// Inserts rows in statements of up to 500 rows each (well under PostgreSQL's bind limit).
macro_rules! insert_rows {
    ($name:ident, $table:path, $row:ty) => {
        pub fn $name(conn: &mut DbConn, rows: &[$row]) -> Result<(), StoreError> {
            for chunk in rows.chunks(500) {
                match conn {
                    DbConn::Postgres(pg) => diesel::insert_into($table).values(chunk).execute(pg)?,
                    DbConn::Sqlite(lite) => diesel::insert_into($table).values(chunk).execute(lite)?,
                };
            }
            Ok(())
        }
    };
}

insert_rows!(insert_events, super::schema::ticket_events::table, super::tickets::EventRow);
insert_rows!(insert_timers, super::schema::timers::table, super::timers::TimerRow);
insert_rows!(insert_outbox, super::schema::outbox::table, super::outbox::OutboxRow);
