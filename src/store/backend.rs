//! The statements that differ between SQLite and PostgreSQL, in one place, matched on the
//! connection variant: row locks, upserts and the knowledge base's text search.

use super::conn::DbConn;
use super::error::StoreError;
use super::rows::TicketRow;
use super::schema::{departments, ticket_counters, tickets};
use diesel::prelude::*;

/// Reads a row by its key for update. PostgreSQL locks it (`FOR UPDATE`); SQLite needs no
/// lock, as its write transactions (`BEGIN IMMEDIATE`) already run one at a time.
macro_rules! row_for_update {
    ($(#[$doc:meta])* $name:ident, $table:path, $row:ty) => {
        $(#[$doc])*
        pub fn $name(conn: &mut DbConn, id: &str) -> Result<Option<$row>, StoreError> {
            use $table as table;
            let row = table::table.find(id.to_string());
            Ok(match conn {
                DbConn::Postgres(pg) => row
                    .select(<$row>::as_select())
                    .for_update()
                    .first(pg)
                    .optional()?,
                DbConn::Sqlite(lite) => row.select(<$row>::as_select()).first(lite).optional()?,
            })
        }
    };
}

row_for_update!(
    /// A ticket, locked until the transaction ends.
    ticket_for_update,
    super::schema::tickets,
    TicketRow
);
row_for_update!(
    /// A knowledge article, locked until the transaction ends.
    article_for_update,
    super::schema::knowledge_articles,
    super::rows::ArticleRow
);

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

/// Marks `year` known and changed now (by the database's clock), creating its row on first use.
/// On PostgreSQL the row stays locked until the transaction ends, so writers of one year queue
/// on it and each replaces the days the previous one left.
pub fn touch_calendar_year(conn: &mut DbConn, year: i32) -> Result<(), StoreError> {
    use super::schema::calendar_years::dsl as y;
    let upsert = diesel::insert_into(y::calendar_years)
        .values((y::year.eq(year), y::updated_at.eq(diesel::dsl::now)))
        .on_conflict(y::year)
        .do_update()
        .set(y::updated_at.eq(diesel::dsl::now));
    match conn {
        DbConn::Postgres(pg) => upsert.execute(pg)?,
        DbConn::Sqlite(lite) => upsert.execute(lite)?,
    };
    Ok(())
}

/// Inserts a department unless one with its code exists; returns whether it was inserted.
pub fn insert_department_if_missing(
    conn: &mut DbConn,
    row: &super::rows::DepartmentRow,
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

/// PostgreSQL's claim of due tickets: `$1` the moment, `$2` how many.
/// Driven by the due timers (index `timers_next_fire_idx`), earliest first; locks the tickets only.
pub const CLAIM_DUE_SQL: &str =
    "SELECT tickets.id FROM timers JOIN tickets ON tickets.id = timers.ticket_id
     WHERE timers.ended_at IS NULL AND timers.next_fire_at IS NOT NULL AND timers.next_fire_at <= $1
     ORDER BY timers.next_fire_at
     LIMIT $2
     FOR UPDATE OF tickets SKIP LOCKED";

/// A row of one id, from a statement written out as text.
#[derive(diesel::QueryableByName)]
pub struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
}

/// Locks up to `limit` tickets that have a timer due at `now`, earliest first.
///
/// PostgreSQL: the tickets are locked with `SKIP LOCKED` until `limit` are held, so instances side
/// by side take different tickets, and a ticket a person's action holds waits for the next round.
/// A ticket's row is the one lock for it and its timers: the scheduler writes only the timers of
/// tickets it holds, so neither instances nor actions wait on each other in a circle.
/// SQLite needs no lock, as one write transaction runs at a time: `None` there.
pub fn claim_due_tickets(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
    limit: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let DbConn::Postgres(pg) = conn else {
        return Ok(None);
    };
    let claimed = diesel::sql_query(CLAIM_DUE_SQL)
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<Id>(pg)?;
    Ok(Some(claimed.into_iter().map(|c| c.id).collect()))
}

/// Inserts rows in statements of up to 500 rows each (well under PostgreSQL's bind limit).
macro_rules! insert_rows {
    ($name:ident, $table:path, $row:ty) => {
        pub fn $name(conn: &mut DbConn, rows: &[$row]) -> Result<(), StoreError> {
            for chunk in rows.chunks(500) {
                match conn {
                    DbConn::Postgres(pg) => {
                        diesel::insert_into($table).values(chunk).execute(pg)?
                    }
                    DbConn::Sqlite(lite) => {
                        diesel::insert_into($table).values(chunk).execute(lite)?
                    }
                };
            }
            Ok(())
        }
    };
}

insert_rows!(
    insert_events,
    super::schema::ticket_events::table,
    super::rows::EventRow
);
insert_rows!(
    insert_timers,
    super::schema::timers::table,
    super::rows::TimerRow
);
insert_rows!(
    insert_outbox,
    super::schema::outbox::table,
    super::rows::OutboxRow
);

/// Writes ticket changes, each only if the ticket is still at the version it was decided on;
/// returns how many were written. PostgreSQL takes them in one `UPDATE … FROM (VALUES …)` per
/// 400 tickets (a round trip each saved); SQLite, in process, one statement each.
pub fn update_tickets(
    conn: &mut DbConn,
    changes: &[(String, i64, super::rows::TicketChange<'_>)],
) -> Result<usize, StoreError> {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
    let pg = match conn {
        DbConn::Postgres(pg) => pg,
        DbConn::Sqlite(lite) => {
            let mut written = 0;
            for (id, expected, change) in changes {
                written += diesel::update(
                    tickets::table
                        .filter(tickets::id.eq(id))
                        .filter(tickets::version.eq(expected)),
                )
                .set(change)
                .execute(lite)?;
            }
            return Ok(written);
        }
    };
    let mut written = 0;
    for chunk in changes.chunks(400) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| i * 16 + k;
                format!(
                    "(${}::text, ${}::bigint, ${}::text, ${}::text, ${}::text, ${}::text, ${}::text, ${}::int, ${}::bigint, ${}::timestamp, ${}::timestamp, ${}::int, ${}::text, ${}::timestamp, ${}::text, ${}::text)",
                    p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12), p(13), p(14), p(15), p(16)
                )
            })
            .collect();
        let sql = format!(
            "UPDATE tickets AS t SET state = v.state, outcome = v.outcome, lead_department = v.lead_department,
                 pending_extension = v.pending_extension, merged_into = v.merged_into, reopen_count = v.reopen_count,
                 version = v.version, updated_at = v.updated_at, due_at = v.due_at, escalation_level = v.escalation_level,
                 first_department = v.first_department, replied_at = v.replied_at, replied_by = v.replied_by,
                 duplicate_of = v.duplicate_of
             FROM (VALUES {}) AS v(id, expected, state, outcome, lead_department, pending_extension, merged_into,
                 reopen_count, version, updated_at, due_at, escalation_level, first_department, replied_at, replied_by,
                 duplicate_of)
             WHERE t.id = v.id AND t.version = v.expected",
            rows.join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
        for (id, expected, c) in chunk {
            query = query
                .bind::<Text, _>(id.clone())
                .bind::<BigInt, _>(*expected)
                .bind::<Text, _>(c.state.to_string())
                .bind::<Nullable<Text>, _>(c.outcome.map(str::to_string))
                .bind::<Nullable<Text>, _>(c.lead_department.map(str::to_string))
                .bind::<Nullable<Text>, _>(c.pending_extension.clone())
                .bind::<Nullable<Text>, _>(c.merged_into.clone())
                .bind::<Integer, _>(c.reopen_count)
                .bind::<BigInt, _>(c.version)
                .bind::<Timestamp, _>(c.updated_at)
                .bind::<Nullable<Timestamp>, _>(c.due_at)
                .bind::<Integer, _>(c.escalation_level)
                .bind::<Nullable<Text>, _>(c.first_department.map(str::to_string))
                .bind::<Nullable<Timestamp>, _>(c.replied_at)
                .bind::<Nullable<Text>, _>(c.replied_by.map(str::to_string))
                .bind::<Nullable<Text>, _>(c.duplicate_of.clone());
        }
        written += query.execute(pg)?;
    }
    Ok(written)
}

/// Writes changed timers: on PostgreSQL in one `UPDATE … FROM (VALUES …)` per 400 timers.
pub fn update_timers(conn: &mut DbConn, rows: &[super::rows::TimerRow]) -> Result<(), StoreError> {
    use super::rows::TimerChange;
    use super::schema::timers;
    use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};
    let pg = match conn {
        DbConn::Postgres(pg) => pg,
        DbConn::Sqlite(lite) => {
            for row in rows {
                diesel::update(timers::table.find(&row.id))
                    .set(TimerChange::of(row))
                    .execute(lite)?;
            }
            return Ok(());
        }
    };
    for chunk in rows.chunks(400) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| i * 12 + k;
                format!(
                    "(${}::text, ${}::timestamp, ${}::timestamp, ${}::timestamp, ${}::int, ${}::timestamp, ${}::timestamp, ${}::timestamp, ${}::text, ${}::int, ${}::boolean, ${}::text)",
                    p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12)
                )
            })
            .collect();
        let sql = format!(
            "UPDATE timers AS t SET due_at = v.due_at, warn_at = v.warn_at, warned_at = v.warned_at, level = v.level,
                 next_fire_at = v.next_fire_at, last_fired_at = v.last_fired_at, ended_at = v.ended_at,
                 outcome = v.outcome, extended_days = v.extended_days, beyond_calendar = v.beyond_calendar,
                 department = v.department
             FROM (VALUES {}) AS v(id, due_at, warn_at, warned_at, level, next_fire_at, last_fired_at, ended_at,
                 outcome, extended_days, beyond_calendar, department)
             WHERE t.id = v.id",
            values.join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
        for r in chunk {
            query = query
                .bind::<Text, _>(r.id.clone())
                .bind::<Timestamp, _>(r.due_at)
                .bind::<Timestamp, _>(r.warn_at)
                .bind::<Nullable<Timestamp>, _>(r.warned_at)
                .bind::<Integer, _>(r.level)
                .bind::<Nullable<Timestamp>, _>(r.next_fire_at)
                .bind::<Nullable<Timestamp>, _>(r.last_fired_at)
                .bind::<Nullable<Timestamp>, _>(r.ended_at)
                .bind::<Nullable<Text>, _>(r.outcome.clone())
                .bind::<Integer, _>(r.extended_days)
                .bind::<Bool, _>(r.beyond_calendar)
                .bind::<Nullable<Text>, _>(r.department.clone());
        }
        query.execute(pg)?;
    }
    Ok(())
}

/// The ids of up to `limit` notifications due at `now`, oldest due first. PostgreSQL locks them
/// for the leasing transaction and skips rows another mailer is leasing; SQLite has one writer.
pub fn due_outbox(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    use super::schema::outbox::dsl as o;
    // Written out, not bound, so that both planners see the partial index `outbox_due_idx`.
    let due = o::outbox
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "status IN ('pending', 'sending')",
        ))
        .filter(o::next_attempt_at.le(now))
        .order(o::next_attempt_at.asc())
        .limit(limit)
        .select(o::id);
    Ok(match conn {
        DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => due.load(lite)?,
    })
}

/// Inserts a notification unless one with its Message-ID exists; whether it was inserted.
pub fn insert_outbox_once(
    conn: &mut DbConn,
    row: &super::rows::OutboxRow,
) -> Result<bool, StoreError> {
    use super::schema::outbox::dsl as o;
    let insert = diesel::insert_into(o::outbox)
        .values(row)
        .on_conflict(o::message_id)
        .do_nothing();
    let inserted = match conn {
        DbConn::Postgres(pg) => insert.execute(pg)?,
        DbConn::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(inserted == 1)
}

/// A value bound to a statement written out as text (`?` placeholders, in order).
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
    Time(chrono::NaiveDateTime),
}

/// Binds `binds` to `sql` for one backend: PostgreSQL numbers its placeholders (`$1`, `$2`, …).
macro_rules! bound {
    ($db:ty, $sql:expr, $binds:expr) => {{
        use diesel::sql_types::{BigInt, Text, Timestamp};
        let mut query = diesel::sql_query($sql).into_boxed::<$db>();
        for bind in $binds {
            query = match bind {
                Bind::Text(s) => query.bind::<Text, _>(s.clone()),
                Bind::Int(n) => query.bind::<BigInt, _>(*n),
                Bind::Time(t) => query.bind::<Timestamp, _>(*t),
            };
        }
        query
    }};
}

/// `?` → `$1`, `$2`, … (the statements written here hold no `?` but their placeholders).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// Runs a statement written out as text on either backend; returns the rows it touched.
pub fn execute(conn: &mut DbConn, sql: &str, binds: &[Bind]) -> Result<usize, StoreError> {
    Ok(match conn {
        DbConn::Postgres(pg) => bound!(diesel::pg::Pg, numbered(sql), binds).execute(pg)?,
        DbConn::Sqlite(lite) => bound!(diesel::sqlite::Sqlite, sql, binds).execute(lite)?,
    })
}

/// Loads the rows of a statement written out as text on either backend.
pub fn load<T>(conn: &mut DbConn, sql: &str, binds: &[Bind]) -> Result<Vec<T>, StoreError>
where
    T: diesel::deserialize::QueryableByName<diesel::pg::Pg>
        + diesel::deserialize::QueryableByName<diesel::sqlite::Sqlite>
        + 'static,
{
    Ok(match conn {
        DbConn::Postgres(pg) => bound!(diesel::pg::Pg, numbered(sql), binds).load(pg)?,
        DbConn::Sqlite(lite) => bound!(diesel::sqlite::Sqlite, sql, binds).load(lite)?,
    })
}

/// Whether this is PostgreSQL (for the rare statement only it has: `FOR UPDATE SKIP LOCKED`,
/// `LOCK TABLE`).
pub fn is_postgres(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Postgres(_))
}

/// A search of the knowledge base's terms (`knowledge_articles.search_text`, `domain::terms`),
/// the part of its query each backend's text index asks differently: PostgreSQL matches the GIN
/// index over `array_to_tsvector(string_to_array(search_text, ' '))` with a `tsquery` (no
/// text-search parser, whose words would depend on the server's locale); SQLite the FTS5 table
/// `knowledge_terms` its triggers keep. Terms hold only letters and digits, so quoting each is
/// all either syntax needs. `a` names the articles.
pub struct TermSearch {
    /// What the query reads from.
    pub from: &'static str,
    /// The condition, with one `?` for `query`.
    pub condition: &'static str,
    /// How well an article matches, higher better, with `score_binds` `?`s.
    pub score: &'static str,
    pub score_binds: Vec<Bind>,
    pub query: String,
}

/// A search for articles holding every one of `terms`, or with `any` at least one.
pub fn knowledge_search(conn: &DbConn, terms: &[String], any: bool) -> TermSearch {
    let quoted = |quote: char, and: &str, or: &str| {
        terms
            .iter()
            .map(|t| format!("{quote}{t}{quote}"))
            .collect::<Vec<_>>()
            .join(if any { or } else { and })
    };
    if is_postgres(conn) {
        let query = quoted('\'', " & ", " | ");
        TermSearch {
            from: "knowledge_articles a",
            condition: "array_to_tsvector(string_to_array(a.search_text, ' ')) @@ CAST(? AS tsquery)",
            score: "ts_rank(array_to_tsvector(string_to_array(a.search_text, ' ')), CAST(? AS tsquery))",
            score_binds: vec![Bind::Text(query.clone())],
            query,
        }
    } else {
        let query = quoted('"', " AND ", " OR ");
        TermSearch {
            // bm25 is negative, lower the better.
            from: "knowledge_terms JOIN knowledge_articles a ON a.id = knowledge_terms.article_id",
            condition: "knowledge_terms MATCH ?",
            score: "-bm25(knowledge_terms)",
            score_binds: vec![],
            query,
        }
    }
}
