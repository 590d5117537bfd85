//! The KPI counts: `kpi_deltas`, appended by each change in its own transaction, folded by the
//! scheduler into `kpi_counts` (one row per day, unit, category and channel); a report sums
//! both. Written out as text, one column per `kpi::Counter`, so that the counters are named in
//! one place in the code (`domain::kpi`) besides the schema.

use super::backend::{self, Bind};
use super::conn::DbConn;
use super::error::StoreError;
use crate::domain::DepartmentCode;
use crate::domain::kpi::{Counter, Deltas, Key, Tally};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Text};

/// How a unit is written: a department's code, or '' for the hotline.
pub fn unit_text(unit: Option<&DepartmentCode>) -> String {
    unit.map_or_else(String::new, |d| d.to_string())
}

fn counter_columns() -> String {
    Counter::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CAST(SUM(c) AS BIGINT) AS c` for every counter (PostgreSQL sums BIGINT as NUMERIC).
fn summed_columns() -> String {
    Counter::ALL
        .iter()
        .map(|c| format!("CAST(SUM({0}) AS BIGINT) AS {0}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tally<'a, DB, R>(row: &R) -> deserialize::Result<Tally>
where
    DB: Backend,
    R: NamedRow<'a, DB>,
    i64: FromSql<BigInt, DB>,
{
    let mut tally = Tally::default();
    for c in Counter::ALL {
        tally.0[*c as usize] = NamedRow::get::<BigInt, i64>(row, c.as_str())?;
    }
    Ok(tally)
}

/// A row of counts under its full key.
struct Keyed(Key, Tally);

impl<DB> QueryableByName<DB> for Keyed
where
    DB: Backend,
    String: FromSql<Text, DB>,
    i64: FromSql<BigInt, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        let text = |name: &str| NamedRow::get::<Text, String>(row, name);
        let day: NaiveDate = text("day")?.parse()?;
        let unit = text("unit")?;
        let key = Key {
            day,
            unit: (!unit.is_empty()).then(|| DepartmentCode::from_stored(unit)),
            category: text("category")?.parse()?,
            channel: text("channel")?.parse()?,
        };
        Ok(Keyed(key, tally(row)?))
    }
}

/// Appends a change's counts, in its transaction.
pub fn append(conn: &mut DbConn, deltas: &Deltas) -> Result<(), StoreError> {
    insert_rows(conn, "kpi_deltas", deltas, "")
}

/// `INSERT`s `rows` into `table` in statements of up to 400 rows, followed by `tail` (an
/// `ON CONFLICT` clause, or nothing).
fn insert_rows(
    conn: &mut DbConn,
    table: &str,
    rows: &Deltas,
    tail: &str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = rows.iter().collect();
    let per_row = 4 + Counter::ALL.len();
    let one = format!("({})", vec!["?"; per_row].join(", "));
    for chunk in rows.chunks(400) {
        let sql = format!(
            "INSERT INTO {table} (day, unit, category, channel, {}) VALUES {} {tail}",
            counter_columns(),
            vec![one.as_str(); chunk.len()].join(", ")
        );
        let mut binds = Vec::with_capacity(chunk.len() * per_row);
        for (key, tally) in chunk {
            binds.push(Bind::Text(key.day.to_string()));
            binds.push(Bind::Text(unit_text(key.unit.as_ref())));
            binds.push(Bind::Text(key.category.to_string()));
            binds.push(Bind::Text(key.channel.to_string()));
            binds.extend(tally.0.iter().map(|n| Bind::Int(*n)));
        }
        backend::execute(conn, &sql, &binds)?;
    }
    Ok(())
}

/// Folds up to `limit` appended counts into `kpi_counts`, in the caller's transaction; returns
/// how many. On PostgreSQL rows another instance is folding are skipped.
pub fn fold(conn: &mut DbConn, limit: i64) -> Result<usize, StoreError> {
    // Rows are taken by their place in the table: SQLite's rowid, PostgreSQL's ctid (stable
    // while the rows are locked by this transaction).
    let taken = if backend::is_postgres(conn) {
        "ctid = ANY(ARRAY(SELECT ctid FROM kpi_deltas LIMIT ? FOR UPDATE SKIP LOCKED))"
    } else {
        "rowid IN (SELECT rowid FROM kpi_deltas ORDER BY rowid LIMIT ?)"
    };
    let sql = format!(
        "DELETE FROM kpi_deltas WHERE {taken} RETURNING day, unit, category, channel, {}",
        counter_columns()
    );
    let taken: Vec<Keyed> = backend::load(conn, &sql, &[Bind::Int(limit)])?;
    let n = taken.len();
    let mut sums = Deltas::new();
    for Keyed(key, t) in taken {
        sums.entry(key).or_default().add(&t);
    }
    sums.retain(|_, t| !t.is_zero());
    add_counts(conn, &sums)?;
    Ok(n)
}

/// Adds `sums` to `kpi_counts`, in key order (two folders lock rows in the same order).
fn add_counts(conn: &mut DbConn, sums: &Deltas) -> Result<(), StoreError> {
    let set: Vec<String> = Counter::ALL
        .iter()
        .map(|c| format!("{0} = kpi_counts.{0} + excluded.{0}", c.as_str()))
        .collect();
    let tail = format!(
        "ON CONFLICT (day, unit, category, channel) DO UPDATE SET {}",
        set.join(", ")
    );
    insert_rows(conn, "kpi_counts", sums, &tail)
}

/// Every count, under its full key: folded and appended together.
pub fn all(conn: &mut DbConn) -> Result<Deltas, StoreError> {
    let columns = counter_columns();
    let sql = format!(
        "SELECT day, unit, category, channel, {} FROM (
             SELECT day, unit, category, channel, {columns} FROM kpi_counts
             UNION ALL SELECT day, unit, category, channel, {columns} FROM kpi_deltas) AS k
         GROUP BY day, unit, category, channel",
        summed_columns()
    );
    let rows: Vec<Keyed> = backend::load(conn, &sql, &[])?;
    Ok(rows
        .into_iter()
        .filter(|Keyed(_, t)| !t.is_zero())
        .map(|Keyed(k, t)| (k, t))
        .collect())
}

/// Replaces every count with `counts` (counted again from the timeline), in the caller's
/// transaction. On PostgreSQL other writers' appends wait until it commits, so none is lost
/// or counted twice.
pub fn replace(conn: &mut DbConn, counts: &Deltas) -> Result<(), StoreError> {
    lock(conn)?;
    backend::execute(conn, "DELETE FROM kpi_deltas", &[])?;
    backend::execute(conn, "DELETE FROM kpi_counts", &[])?;
    add_counts(conn, counts)
}

/// Locks out other writers' appends until the caller's transaction ends (PostgreSQL; SQLite's
/// writers already take turns): taken before the timeline is read for a recount.
pub fn lock(conn: &mut DbConn) -> Result<(), StoreError> {
    if backend::is_postgres(conn) {
        backend::execute(conn, "LOCK TABLE kpi_deltas IN EXCLUSIVE MODE", &[])?;
    }
    Ok(())
}

/// When the counts were last counted again from the timeline; `None` when they never were
/// (tickets written before the counts existed are not in them yet).
pub fn rebuilt_at(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, StoreError> {
    use super::schema::kpi_rebuilds::dsl as r;
    use diesel::prelude::*;
    Ok(r::kpi_rebuilds
        .filter(r::name.eq("kpi"))
        .select(r::built_at)
        .first(conn)
        .optional()?)
}

pub fn mark_rebuilt(conn: &mut DbConn, at: NaiveDateTime) -> Result<(), StoreError> {
    use super::schema::kpi_rebuilds::dsl as r;
    use diesel::prelude::*;
    diesel::delete(r::kpi_rebuilds.filter(r::name.eq("kpi"))).execute(conn)?;
    diesel::insert_into(r::kpi_rebuilds)
        .values((r::name.eq("kpi"), r::built_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Unit,
    Category,
    Channel,
}

impl Dimension {
    fn column(self) -> &'static str {
        match self {
            Dimension::Unit => "unit",
            Dimension::Category => "category",
            Dimension::Channel => "channel",
        }
    }
}

/// The counts of one group over a period; of its cases logged before the 3-month cutoff, those
/// not replied (overdue for the 3-month rule); and its `handle` and `interim_reply` deadlines
/// that count so far: all of the days before today, those ended of today's and later.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub key: String,
    pub tally: Tally,
    pub unreplied_old: i64,
    pub handle_counted: i64,
    pub interim_counted: i64,
}

impl<DB> QueryableByName<DB> for Group
where
    DB: Backend,
    String: FromSql<Text, DB>,
    i64: FromSql<BigInt, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        Ok(Group {
            key: NamedRow::get::<Text, String>(row, "grp")?,
            tally: tally(row)?,
            unreplied_old: NamedRow::get::<BigInt, i64>(row, "unreplied_old")?,
            handle_counted: NamedRow::get::<BigInt, i64>(row, "handle_counted")?,
            interim_counted: NamedRow::get::<BigInt, i64>(row, "interim_counted")?,
        })
    }
}

/// The counts of days `[from, to)` by `by`, of one unit only when `unit` is set (`Some("")`:
/// the hotline), as they stand on `today`; cases logged before `cutoff` and not replied are
/// counted apart.
pub fn sums(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    by: Dimension,
    unit: Option<&str>,
    cutoff: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<Group>, StoreError> {
    let columns = counter_columns();
    let only = if unit.is_some() { "AND unit = ?" } else { "" };
    let part = |table: &str| {
        format!(
            "SELECT day, unit, category, channel, {columns} FROM {table} WHERE day >= ? AND day < ? {only}"
        )
    };
    let sql = format!(
        "SELECT {grp} AS grp, {sums},
             CAST(SUM(CASE WHEN day < ? THEN cases - replied ELSE 0 END) AS BIGINT) AS unreplied_old,
             CAST(SUM(CASE WHEN day < ? THEN handle_due ELSE handle_ended END) AS BIGINT) AS handle_counted,
             CAST(SUM(CASE WHEN day < ? THEN interim_due ELSE interim_ended END) AS BIGINT) AS interim_counted
         FROM ({counts} UNION ALL {deltas}) AS k GROUP BY {grp}",
        grp = by.column(),
        sums = summed_columns(),
        counts = part("kpi_counts"),
        deltas = part("kpi_deltas"),
    );
    let mut binds = vec![
        Bind::Text(cutoff.to_string()),
        Bind::Text(today.to_string()),
        Bind::Text(today.to_string()),
    ];
    for _ in 0..2 {
        binds.push(Bind::Text(from.to_string()));
        binds.push(Bind::Text(to.to_string()));
        if let Some(u) = unit {
            binds.push(Bind::Text(u.to_string()));
        }
    }
    backend::load(conn, &sql, &binds)
}

/// A case's timer running at a moment and past its deadline then.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Overdue {
    #[diesel(sql_type = Text)]
    pub ticket_id: String,
    #[diesel(sql_type = Text)]
    pub number: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub enterprise: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    /// '' for the hotline.
    #[diesel(sql_type = Text)]
    pub unit: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub due_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub level: i32,
}

/// `SELECT {columns}` over the timers running at `at` and past due then (of one unit when
/// `unit` is set) as `m`, with their tickets as `t` when `tickets`: two index ranges rather
/// than one `OR` — timers running now, and those ended after `at` — as one `UNION ALL`, with
/// its binds.
fn past_due_at(
    columns: &str,
    tickets: bool,
    at: NaiveDateTime,
    unit: Option<&str>,
) -> (String, Vec<Bind>) {
    let join = if tickets {
        "JOIN tickets t ON t.id = m.ticket_id"
    } else {
        ""
    };
    let only = if unit.is_some() {
        "AND COALESCE(m.department, '') = ?"
    } else {
        ""
    };
    let part = |running: &str| {
        format!(
            "SELECT {columns} FROM timers m {join}
             WHERE {running} AND m.due_at < ? AND m.started_at <= ? {only}"
        )
    };
    let sql = format!(
        "{} UNION ALL {}",
        part("m.ended_at IS NULL"),
        part("m.ended_at > ?")
    );
    let mut binds = vec![];
    for ended_after in [false, true] {
        if ended_after {
            binds.push(Bind::Time(at));
        }
        binds.push(Bind::Time(at));
        binds.push(Bind::Time(at));
        if let Some(u) = unit {
            binds.push(Bind::Text(u.to_string()));
        }
    }
    (sql, binds)
}

/// Every timer running at `at` and past due then (of one unit when `unit` is set), longest
/// overdue first; at most `limit`. A timer ended since is judged as it stood at `at`.
pub fn overdue(
    conn: &mut DbConn,
    at: NaiveDateTime,
    unit: Option<&str>,
    limit: i64,
) -> Result<Vec<Overdue>, StoreError> {
    let (timers, mut binds) = past_due_at(
        "t.id AS ticket_id, t.number, t.subject, t.enterprise_name AS enterprise, t.category,
         t.channel, t.state, COALESCE(m.department, '') AS unit, m.kind, m.due_at, m.level",
        true,
        at,
        unit,
    );
    let sql = format!("SELECT * FROM ({timers}) AS o ORDER BY due_at, ticket_id LIMIT ?");
    binds.push(Bind::Int(limit));
    backend::load(conn, &sql, &binds)
}

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    grp: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many cases had a timer running and past due at `at`, by `by` (a case counted once in
/// each group it is overdue in), and in all (each case once); of one unit when `unit` is set.
pub fn overdue_counts(
    conn: &mut DbConn,
    at: NaiveDateTime,
    by: Dimension,
    unit: Option<&str>,
) -> Result<(Vec<(String, i64)>, i64), StoreError> {
    let grp = match by {
        Dimension::Unit => "COALESCE(m.department, '')",
        Dimension::Category => "t.category",
        Dimension::Channel => "t.channel",
    };
    // Only a category or channel needs the ticket; the unit is the timer's.
    let (timers, binds) = past_due_at(
        &format!("m.ticket_id, {grp} AS grp"),
        by != Dimension::Unit,
        at,
        unit,
    );
    let grouped: Vec<Counted> = backend::load(
        conn,
        &format!(
            "SELECT grp, CAST(COUNT(DISTINCT ticket_id) AS BIGINT) AS n FROM ({timers}) AS o GROUP BY grp"
        ),
        &binds,
    )?;
    let (timers, binds) = past_due_at("m.ticket_id", false, at, unit);
    let total: Vec<Counted> = backend::load(
        conn,
        &format!(
            "SELECT '' AS grp, CAST(COUNT(DISTINCT ticket_id) AS BIGINT) AS n FROM ({timers}) AS o"
        ),
        &binds,
    )?;
    Ok((
        grouped.into_iter().map(|c| (c.grp, c.n)).collect(),
        total.first().map_or(0, |c| c.n),
    ))
}

/// Cases received over days `[from, to)` by day or by category (`by_day`), of one unit when set.
pub fn received(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    by_day: bool,
    unit: Option<&str>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let grp = if by_day { "day" } else { "category" };
    let only = if unit.is_some() { "AND unit = ?" } else { "" };
    let part = |table: &str| {
        format!(
            "SELECT {grp} AS grp, received FROM {table} WHERE received <> 0 AND day >= ? AND day < ? {only}"
        )
    };
    let sql = format!(
        "SELECT grp, CAST(SUM(received) AS BIGINT) AS n FROM ({} UNION ALL {}) AS k GROUP BY grp ORDER BY grp",
        part("kpi_counts"),
        part("kpi_deltas")
    );
    let mut binds = vec![];
    for _ in 0..2 {
        binds.push(Bind::Text(from.to_string()));
        binds.push(Bind::Text(to.to_string()));
        if let Some(u) = unit {
            binds.push(Bind::Text(u.to_string()));
        }
    }
    let rows: Vec<Counted> = backend::load(conn, &sql, &binds)?;
    Ok(rows.into_iter().map(|c| (c.grp, c.n)).collect())
}
