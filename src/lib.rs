//! closedloop: the closed loop of enterprise complaints for a district's 12345 hotline.
//! 受理 → 分办 → 督办 → 协调 → 答复 → 反馈 → 归档, on SQLite or PostgreSQL, behind a JWT-secured API.

pub mod api;
pub mod auth;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod seed;
pub mod server;
pub mod service;
pub mod store;
