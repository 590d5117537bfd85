//! Configuration: typed sections (`sections.rs`) of typed values (`types.rs`), loaded and
//! checked by `load.rs`. A bad value stops the start naming its key.

mod load;
mod sections;
mod types;

pub use load::DEFAULT_TOML;
pub use sections::{App, Auth, Calendar, Config, Database, Escalation, Http, Log, Mail, Scheduler};
pub use types::{
    Address, Backend, ConfigError, DatabaseUrl, Elapsed, Folder, LogFilter, LogFormat,
    MailTransport, Mailbox, NumberPrefix, Origin, Period, Profile, Secret, TimeOfDay, Timezone,
    redact_url,
};
