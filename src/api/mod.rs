//! The HTTP API under `/api/v1`: thin handlers, one file per resource. They parse, call a use
//! case of `app` off the async executor, and shape the answer; decisions are made in the domain.
//! `routes.rs` maps paths to handlers, `state.rs` is what they share.

pub mod auth;
pub mod body;
pub mod calendar;
pub mod departments;
pub mod edge;
pub mod enterprises;
pub mod knowledge;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod problem;
pub mod reports;
pub mod routes;
pub mod state;
pub mod tickets;
pub mod views;

pub use routes::routes;
pub use state::{AppState, db};
