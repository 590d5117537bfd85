//! The console: the browser's way into closedloop for operators, departments, supervisors and
//! admins, in Chinese. Server-rendered pages (minijinja templates under `templates/console/`)
//! on the same use cases as the API (`app::`), never the API over HTTP; every page works without
//! JavaScript, and a small script of our own (`static/console.js`) checks the credit code and
//! phone while they are typed. Sessions live in the database; every form carries a CSRF token.

pub mod calendar;
pub mod cases;
pub mod enterprises;
pub mod forms;
pub mod frame;
pub mod knowledge;
pub mod messages;
pub mod queues;
pub mod render;
pub mod reports;
pub mod routes;
pub mod sign_in;
pub mod visitor;

pub use routes::routes;
