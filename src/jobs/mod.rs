//! Background work of `serve` and `worker`: loops on their own threads, off the HTTP workers.

pub mod mailer;
pub mod scheduler;
