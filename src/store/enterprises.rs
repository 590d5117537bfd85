//! 一企一档: an enterprise's record, kept by every case that names its credit code, and what its
//! file shows — its names, its cases counted by state and category, the ratings its cases got,
//! and the enterprises with the most cases in a period. A department's counts are of the cases
//! it may see (lead or co-handler now), as its lists are.

use super::backend::{self, Bind};
use super::conn::DbConn;
use super::error::StoreError;
use super::schema::enterprises;
use crate::domain::DepartmentCode;
use crate::domain::ticket::Ticket;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseRow {
    pub credit_code: String,
    pub name: String,
    pub first_seen_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ticket_count: i64,
}

/// Creates or updates the record of the enterprise a new case names: the name as last given.
/// The row of one enterprise is held to the commit, so its count is exact; two enterprises never
/// wait on each other.
pub fn record(conn: &mut DbConn, ticket: &Ticket) -> Result<(), StoreError> {
    backend::execute(
        conn,
        "INSERT INTO enterprises (credit_code, name, first_seen_at, last_seen_at, ticket_count)
         VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name,
             last_seen_at = excluded.last_seen_at, ticket_count = enterprises.ticket_count + 1",
        &[
            Bind::Text(ticket.enterprise.credit_code.to_string()),
            Bind::Text(ticket.enterprise.name.clone()),
            Bind::Time(ticket.created_at),
            Bind::Time(ticket.created_at),
        ],
    )?;
    Ok(())
}

pub fn find(conn: &mut DbConn, credit_code: &str) -> Result<Option<EnterpriseRow>, StoreError> {
    Ok(enterprises::table
        .find(credit_code)
        .select(EnterpriseRow::as_select())
        .first(conn)
        .optional()?)
}

/// Enterprises whose name contains `q` or whose code starts with it, most recently seen first.
pub fn search(conn: &mut DbConn, q: &str, limit: i64) -> Result<Vec<EnterpriseRow>, StoreError> {
    let escaped = super::tickets::like_text(q);
    backend::load(
        conn,
        "SELECT credit_code, name, first_seen_at, last_seen_at, ticket_count FROM enterprises
         WHERE lower(name) LIKE ? ESCAPE '\\' OR credit_code LIKE ? ESCAPE '\\'
         ORDER BY last_seen_at DESC, credit_code LIMIT ?",
        &[
            Bind::Text(format!("%{escaped}%")),
            Bind::Text(format!("{}%", escaped.to_uppercase())),
            Bind::Int(limit),
        ],
    )
}

/// A name the enterprise was logged under, with its first and last use and how many cases.
#[derive(Debug, Clone, QueryableByName)]
pub struct NameRow {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Timestamp)]
    pub first_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub last_at: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
}

/// Every name the enterprise's cases were logged under, the latest first.
pub fn names(conn: &mut DbConn, credit_code: &str) -> Result<Vec<NameRow>, StoreError> {
    backend::load(
        conn,
        "SELECT enterprise_name AS name, min(created_at) AS first_at, max(created_at) AS last_at,
                count(*) AS cases
         FROM tickets WHERE credit_code = ? GROUP BY enterprise_name
         ORDER BY max(created_at) DESC, enterprise_name",
        &[Bind::Text(credit_code.to_string())],
    )
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
    /// Of them, how many repeat an earlier case or were merged into one.
    #[diesel(sql_type = BigInt)]
    pub repeats: i64,
}

/// The `AND …` that keeps a department to the cases it leads or co-handles now, with its binds.
fn scope(visible_to: Option<&DepartmentCode>) -> (&'static str, Vec<Bind>) {
    match visible_to {
        None => ("", vec![]),
        Some(d) => (
            " AND (t.lead_department = ? OR EXISTS (SELECT 1 FROM ticket_departments d
                  WHERE d.ticket_id = t.id AND d.department_code = ?))",
            vec![Bind::Text(d.to_string()), Bind::Text(d.to_string())],
        ),
    }
}

/// The enterprise's cases counted by state and category (those `visible_to` may see).
pub fn counts(
    conn: &mut DbConn,
    credit_code: &str,
    visible_to: Option<&DepartmentCode>,
) -> Result<Vec<CountRow>, StoreError> {
    let (clause, mut binds) = scope(visible_to);
    binds.insert(0, Bind::Text(credit_code.to_string()));
    backend::load(
        conn,
        &format!(
            "SELECT t.state, t.category, count(*) AS cases,
                    sum(CASE WHEN t.duplicate_of IS NOT NULL OR t.merged_into IS NOT NULL
                        THEN 1 ELSE 0 END) AS repeats
             FROM tickets t WHERE t.credit_code = ?{clause}
             GROUP BY t.state, t.category ORDER BY t.state, t.category"
        ),
        &binds,
    )
}

#[derive(Debug, Clone, QueryableByName)]
struct PayloadRow {
    #[diesel(sql_type = Text)]
    payload: String,
}

/// The payloads of every `feedback` (回访) its cases got, oldest first.
pub fn feedback(
    conn: &mut DbConn,
    credit_code: &str,
    visible_to: Option<&DepartmentCode>,
) -> Result<Vec<String>, StoreError> {
    let (clause, mut binds) = scope(visible_to);
    binds.insert(0, Bind::Text(credit_code.to_string()));
    let rows: Vec<PayloadRow> = backend::load(
        conn,
        &format!(
            "SELECT e.payload FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id
             WHERE t.credit_code = ? AND e.action = 'feedback'{clause}
             ORDER BY e.at"
        ),
        &binds,
    )?;
    Ok(rows.into_iter().map(|r| r.payload).collect())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct HotRow {
    #[diesel(sql_type = Text)]
    pub credit_code: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
    #[diesel(sql_type = BigInt)]
    pub open: i64,
}

/// The enterprises with the most cases created in `[from, to)` (热点企业), most first.
pub fn hot(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> Result<Vec<HotRow>, StoreError> {
    backend::load(
        conn,
        "SELECT t.credit_code, e.name, count(*) AS cases,
                sum(CASE WHEN t.state <> 'archived' THEN 1 ELSE 0 END) AS open
         FROM tickets t JOIN enterprises e ON e.credit_code = t.credit_code
         WHERE t.created_at >= ? AND t.created_at < ?
         GROUP BY t.credit_code, e.name
         ORDER BY count(*) DESC, t.credit_code LIMIT ?",
        &[Bind::Time(from), Bind::Time(to), Bind::Int(limit)],
    )
}
