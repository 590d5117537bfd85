//! Leases: on SQLite one instance at a time runs each background loop; the lease row says which,
//! and until when. A holder that dies lets its lease run out, and another takes over.

use super::conn::{self, DbConn};
use super::error::{StoreError, is_unique_violation};
use super::schema::leases;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Takes or renews `name` for `holder` until `until`; `false` while another holder's lease runs.
pub fn take(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StoreError> {
    conn::write(conn, |c| {
        let current: Option<(String, NaiveDateTime)> = leases::table
            .find(name)
            .select((leases::holder, leases::expires_at))
            .first(c)
            .optional()?;
        match current {
            Some((other, expires)) if other != holder && expires >= now => Ok(false),
            Some(_) => {
                diesel::update(leases::table.find(name))
                    .set((leases::holder.eq(holder), leases::expires_at.eq(until)))
                    .execute(c)?;
                Ok(true)
            }
            None => match diesel::insert_into(leases::table)
                .values((
                    leases::name.eq(name),
                    leases::holder.eq(holder),
                    leases::expires_at.eq(until),
                ))
                .execute(c)
            {
                Ok(_) => Ok(true),
                Err(e) if is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e.into()),
            },
        }
    })
}

/// Gives the lease up, so that another instance may take it at once.
pub fn release(conn: &mut DbConn, name: &str, holder: &str) -> Result<(), StoreError> {
    conn::write(conn, |c| {
        diesel::delete(leases::table.find(name).filter(leases::holder.eq(holder))).execute(c)?;
        Ok(())
    })
}
