//! The search terms of cases (`domain::terms`), for the similar-case look-up at intake: written
//! with each new case, matched through PostgreSQL's GIN index or SQLite's FTS5 table
//! `ticket_terms` (see migration 000007), so every instance sees every case.

use super::backend::{self, Bind};
use super::conn::DbConn;
use super::error::StoreError;
use super::schema::{index_backfills, tickets};
use crate::domain::similar;
use crate::domain::ticket::Ticket;
use diesel::prelude::*;
use diesel::sql_types::Text;

/// Writes the terms of a new case.
pub fn index_ticket(conn: &mut DbConn, ticket: &Ticket) -> Result<(), StoreError> {
    let terms = similar::stored_terms(&ticket.subject, &ticket.description);
    backend::execute(
        conn,
        "INSERT INTO ticket_terms (ticket_id, terms) VALUES (?, ?)",
        &[Bind::Text(ticket.id.to_string()), Bind::Text(terms)],
    )?;
    Ok(())
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    ticket_id: String,
}

/// The newest cases sharing any of the terms that are ranked: the work of a look-up stays
/// bounded when its terms are common.
const RANKED_MAX: i64 = 400;

/// Ranked at most when the terms are rare, whatever the sample said of them.
const RANKED_RARE_MAX: i64 = 5_000;

/// The ids of up to `limit` cases sharing any of `terms`, those sharing the most (by the
/// database's own rank: `ts_rank`, FTS5's bm25) first, among the newest 400 that share any.
/// `rare` says the terms are held by few cases: PostgreSQL then finds them all through the GIN
/// index and ranks them (a scan from the newest would pass over most cases to find few); when
/// they are common it walks from the newest case and stops at 400.
pub fn matching(
    conn: &mut DbConn,
    terms: &[String],
    limit: i64,
    rare: bool,
) -> Result<Vec<String>, StoreError> {
    if terms.is_empty() {
        return Ok(vec![]);
    }
    // The terms hold letters and digits only (`domain::terms`): quoting is all they need.
    let found: Vec<Found> = if backend::is_postgres(conn) {
        let query = terms
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" | ");
        let sql = if rare {
            "SELECT ticket_id FROM (
                 SELECT ticket_id, vector FROM ticket_terms WHERE vector @@ CAST(? AS tsquery)
                 LIMIT ?
             ) holding
             ORDER BY ts_rank(vector, CAST(? AS tsquery)) DESC, ticket_id DESC
             LIMIT ?"
        } else {
            "SELECT ticket_id FROM (
                 SELECT ticket_id, vector FROM ticket_terms WHERE vector @@ CAST(? AS tsquery)
                 ORDER BY ticket_id DESC LIMIT ?
             ) newest
             ORDER BY ts_rank(vector, CAST(? AS tsquery)) DESC, ticket_id DESC
             LIMIT ?"
        };
        let ranked = if rare { RANKED_RARE_MAX } else { RANKED_MAX };
        backend::load(
            conn,
            sql,
            &[
                Bind::Text(query.clone()),
                Bind::Int(ranked),
                Bind::Text(query),
                Bind::Int(limit),
            ],
        )?
    } else {
        let query = terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        backend::load(
            conn,
            "SELECT ticket_id FROM (
                 SELECT ticket_id, bm25(ticket_terms) AS score FROM ticket_terms
                 WHERE ticket_terms MATCH ? ORDER BY rowid DESC LIMIT ?
             ) newest
             ORDER BY score, ticket_id DESC LIMIT ?",
            &[Bind::Text(query), Bind::Int(RANKED_MAX), Bind::Int(limit)],
        )?
    };
    Ok(found.into_iter().map(|f| f.ticket_id).collect())
}

#[derive(QueryableByName)]
struct Terms {
    #[diesel(sql_type = Text)]
    terms: String,
}

/// The term columns of the `n` newest cases: the sample their rarity is judged on.
pub fn sample(conn: &mut DbConn, n: i64) -> Result<Vec<String>, StoreError> {
    let sql = if backend::is_postgres(conn) {
        "SELECT terms FROM ticket_terms ORDER BY ticket_id DESC LIMIT ?"
    } else {
        "SELECT terms FROM ticket_terms ORDER BY rowid DESC LIMIT ?"
    };
    let rows: Vec<Terms> = backend::load(conn, sql, &[Bind::Int(n)])?;
    Ok(rows.into_iter().map(|r| r.terms).collect())
}

#[derive(Queryable)]
struct TextRow {
    id: String,
    subject: String,
    description: String,
}

/// Indexes the cases logged before the terms existed, once (migration 000007 leaves a marker
/// when there were any), in one transaction with the marker's removal; returns how many.
pub fn backfill(conn: &mut DbConn) -> Result<usize, StoreError> {
    let marked = index_backfills::table
        .find("ticket_terms")
        .select(index_backfills::name)
        .first::<String>(conn)
        .optional()?;
    if marked.is_none() {
        return Ok(0);
    }
    let mut after = String::new();
    let mut done = 0;
    loop {
        let rows: Vec<TextRow> = tickets::table
            .filter(tickets::id.gt(&after))
            .order(tickets::id)
            .select((tickets::id, tickets::subject, tickets::description))
            .limit(1000)
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        // A case logged meanwhile by another instance is indexed already (PostgreSQL: its
        // key); SQLite has one instance, which runs this before it serves.
        let insert = if backend::is_postgres(conn) {
            "INSERT INTO ticket_terms (ticket_id, terms) VALUES (?, ?) ON CONFLICT DO NOTHING"
        } else {
            "INSERT INTO ticket_terms (ticket_id, terms) VALUES (?, ?)"
        };
        for row in &rows {
            backend::execute(
                conn,
                insert,
                &[
                    Bind::Text(row.id.clone()),
                    Bind::Text(similar::stored_terms(&row.subject, &row.description)),
                ],
            )?;
        }
        done += rows.len();
    }
    diesel::delete(index_backfills::table.find("ticket_terms")).execute(conn)?;
    Ok(done)
}
