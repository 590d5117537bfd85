//! Mail: templates rendered into messages, and the transports that carry them (SMTP, or `.eml`
//! files for a newcomer to read). Which notification goes out when is the mailer's business
//! (`jobs::mailer`, `service::notifications`).

pub mod compose;
pub mod templates;
pub mod transport;

pub use compose::View;
pub use templates::{Rendered, Templates};
pub use transport::{Delivery, SendError, Transport};

#[cfg(test)]
mod snapshots;
