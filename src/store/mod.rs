//! Storage on SQLite or PostgreSQL through diesel: the schema, the rows (`rows.rs`), the
//! connection and pool, and the queries, each taking `&mut DbConn` so the caller decides the
//! transaction. `backend.rs` holds the few statements that differ between the two; it needs
//! only the schema and the rows. Files here import each other directly, never through this
//! module's re-exports.

mod backend;
pub mod calendar;
pub mod conn;
pub mod departments;
pub mod enterprises;
pub mod error;
pub mod idempotency;
pub mod knowledge;
pub mod kpi;
pub mod leases;
pub mod outbox;
pub mod rows;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod tickets;
pub mod timers;
pub mod users;

pub use backend::CLAIM_DUE_SQL;
pub use conn::{DbConn, Pool, PooledConn};
pub use error::{StoreError, is_unique_violation};
pub use rows::now;
