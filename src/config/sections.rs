//! The sections of the configuration file, one struct each, typed: what `config/default.toml`
//! documents key by key.

use super::types::{
    Address, DatabaseUrl, Elapsed, Folder, LogFilter, LogFormat, MailTransport, Mailbox,
    NumberPrefix, Origin, Period, Profile, Secret, TimeOfDay, Timezone,
};
use crate::domain::calendar::DayOffRoll;
use crate::domain::duration::Duration;
use crate::domain::figures::{Figure, Weight};
use crate::domain::sla::SlaTable;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::num::NonZeroU32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub app: App,
    pub http: Http,
    pub log: Log,
    pub database: Database,
    pub auth: Auth,
    pub mail: Mail,
    pub scheduler: Scheduler,
    pub calendar: Calendar,
    /// `default`, one table per category, and `urgent`.
    pub sla: BTreeMap<String, SlaTable>,
    pub escalation: Escalation,
    pub kpi: Kpi,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub profile: Profile,
    pub public_url: String,
    pub number_prefix: NumberPrefix,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub addr: String,
    pub workers: usize,
    pub body_limit: usize,
    pub idempotency_ttl: Elapsed,
    /// How long a client may take to send a request's head, and its body.
    pub request_timeout: Elapsed,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish.
    pub shutdown_timeout: Elapsed,
    /// Origins allowed to call the API from a browser; empty: no CORS headers at all.
    pub cors_origins: Vec<Origin>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    /// `RUST_LOG` wins over it.
    pub level: LogFilter,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: DatabaseUrl,
    pub pool_size: NonZeroU32,
    pub pool_timeout: Elapsed,
    pub busy_timeout: Elapsed,
    /// PostgreSQL: the longest a statement may run before it is cancelled.
    pub statement_timeout: Elapsed,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub jwt_secret: Secret,
    pub token_ttl: Elapsed,
    /// Failed sign-ins per username (four times as many per client address) within `lockout`
    /// before further tries are refused until it ends.
    pub max_failures: NonZeroU32,
    pub lockout: Elapsed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    pub transport: MailTransport,
    pub allow_file_in_production: bool,
    pub smtp_url: Secret,
    pub from: Mailbox,
    pub dir: String,
    pub desk: Vec<Address>,
    pub supervisors: Vec<Address>,
    pub leadership: Vec<Address>,
    /// Whether `serve` and `worker` run the mailer.
    pub enabled: bool,
    pub tick: Elapsed,
    pub smtp_timeout: Elapsed,
    /// Sign-in for the SMTP server when the URL does not carry it; empty: none.
    pub smtp_username: Secret,
    pub smtp_password: Secret,
    pub max_attempts: NonZeroU32,
    /// The wait before the first retry; it doubles with every attempt, up to `retry_max`.
    pub retry_after: Elapsed,
    pub retry_max: Elapsed,
    /// How long a mailer holds a notification it is sending before another may take it.
    pub lease: Elapsed,
    /// Local time of the daily digest to supervisors on working days; empty: no digest.
    pub digest_at: TimeOfDay,
    /// A folder of templates that replace the built-in ones of the same name; empty: none.
    pub templates: Folder,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheduler {
    pub enabled: bool,
    pub tick: Elapsed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub timezone: Timezone,
    pub business_hours: Vec<Period>,
    /// Where a calendar-day period that ends on a day off ends: `none`, `holidays` (official
    /// holidays move it to the close of the next working day) or `days_off` (weekends too).
    pub day_off_roll: DayOffRoll,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub steps: Vec<Duration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kpi {
    /// How many departments head and close the ranking (红榜, 黑榜).
    pub board_size: usize,
    /// Whether the monthly report goes by mail on the first working day of a month.
    pub monthly_report: bool,
    /// The rates that make up a department's score, each with its weight and its line.
    pub weights: BTreeMap<Figure, Weight>,
}
