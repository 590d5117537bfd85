//! Everything about a notification once a change has named who is told (by role, in
//! `domain/notification.rs`): who that is in addresses (`recipients`), queuing it in the
//! change's transaction (`outbox`), what the mail says (`compose`, `templates`, the files under
//! `templates/email/`), how it goes out (`transport`: SMTP or `.eml` files), the postman that
//! sends the outbox (`postman`), the daily digest (`digest`) and the monthly report (`monthly`). The mailer loop that drives the
//! postman is `jobs::mailer`.

pub mod compose;
pub mod digest;
pub mod monthly;
pub mod outbox;
pub mod postman;
pub mod recipients;
pub mod templates;
pub mod transport;

#[cfg(test)]
mod snapshots;

pub use postman::{Mailing, Postman, Round};
pub use recipients::MailRoles;
pub use templates::{Rendered, Templates};
pub use transport::{Delivery, SendError, Transport};
