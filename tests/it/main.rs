//! The integration suite, one binary: the real service on a loopback port over a real database,
//! every test on SQLite and on PostgreSQL (`on_both_backends!`), a real SMTP server for mail.
//! A module per area; `common` is the harness they share.

#[macro_use]
mod common;

mod answers;
mod cli;
mod concurrency;
mod console;
mod contract;
mod deadlines;
mod enterprises;
mod knowledge;
mod lifecycle;
mod mail;
mod openapi;
mod ops;
mod probe;
mod reports;
mod schema;
mod scoping;
