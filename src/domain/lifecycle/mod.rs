//! The lifecycle of a ticket: the one place that decides whether an action may happen and what it
//! changes. `apply` is pure — the caller loads what it needs, and writes the returned `Effects`
//! (new ticket, one event, timers, notifications) in one transaction. Nothing else changes a
//! ticket's state.

pub mod action;
pub mod apply;
pub mod clocks;
pub mod context;
pub mod create;
pub mod effects;
pub mod error;
pub mod event;
pub mod payload;

pub use action::{ActionKind, Lookups, Party};
pub use apply::{apply, authorize, available};
pub use clocks::{TimerChanges, running_after, summary};
pub use context::{Context, Known, Request};
pub use create::{NewTicket, NewTicketInput, check_references, create, may_create, validate_new};
pub use effects::Effects;
pub use error::DomainError;
pub use event::Event;

#[cfg(test)]
mod tests;
