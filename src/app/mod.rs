//! The use cases every entry point goes through — the HTTP API, the console, the CLI and the
//! background jobs — each one transaction: load, decide with the pure lifecycle, write the
//! effects through `write`. Blocking code: call it from `web::block` or a plain thread. The
//! process's shared state (settings, the calendar in memory) is `state.rs`.

pub mod accounts;
pub mod calendar;
pub mod case_knowledge;
pub mod departments;
pub mod enterprises;
pub mod error;
pub mod health;
pub mod knowledge;
pub mod notifications;
pub mod reports;
pub mod scheduler;
pub mod sessions;
pub mod state;
pub mod tickets;
pub mod write;

pub use error::AppError;
pub use state::{CALENDAR_CHECK, Calendars, Settings};
