//! closedloop: the closed loop of enterprise complaints for a district's 12345 hotline.
//! 受理 → 分办 → 督办 → 协调 → 答复 → 反馈 → 归档, on SQLite or PostgreSQL, behind a JWT-secured API.
//!
//! `domain` decides (pure), `app` runs the use cases every entry point goes through, `store`
//! keeps, `notify` tells people, `jobs` runs the background loops, `api` answers HTTP and
//! `console` answers browsers.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod domain;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod seed;
pub mod server;
pub mod store;
