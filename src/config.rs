//! Configuration: `config/default.toml` (built in), then `--config FILE`, then the environment
//! (`CLOSEDLOOP__SECTION__KEY`, `DATABASE_URL`). Every problem names the key it is about.

use crate::domain::calendar::DayOffRoll;
use crate::domain::duration::Duration;
use crate::domain::sla::{Policy, SlaTable};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const SAMPLE_JWT_SECRET: &str = "closedloop-dev-secret-do-not-use-in-production";
const ENV_PREFIX: &str = "CLOSEDLOOP__";

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub profile: Profile,
    pub public_url: String,
    pub number_prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Dev,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub addr: String,
    pub workers: usize,
    pub body_limit: usize,
    pub idempotency_ttl: Duration,
    /// How long a client may take to send a request's head, and its body.
    pub request_timeout: Duration,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish.
    pub shutdown_timeout: Duration,
    /// Origins allowed to call the API from a browser; empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// `text` (for people) or `json` (one object per line, for collectors).
    pub format: String,
    /// A tracing filter such as `info` or `info,closedloop=debug`; `RUST_LOG` wins over it.
    pub level: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub busy_timeout: Duration,
    /// PostgreSQL: the longest a statement may run before it is cancelled.
    pub statement_timeout: Duration,
    pub migrate_on_start: bool,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("pool_timeout", &self.pool_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("migrate_on_start", &self.migrate_on_start)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub jwt_secret: Secret,
    pub token_ttl: Duration,
    /// Failed sign-ins per username (four times as many per client address) within `lockout`
    /// before further tries are refused until it ends.
    pub max_failures: u32,
    pub lockout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    pub transport: String,
    pub allow_file_in_production: bool,
    pub smtp_url: Secret,
    pub from: String,
    pub dir: String,
    pub desk: Vec<String>,
    pub supervisors: Vec<String>,
    pub leadership: Vec<String>,
    /// Whether `serve` and `worker` run the mailer.
    pub enabled: bool,
    pub tick: Duration,
    pub smtp_timeout: Duration,
    /// Sign-in for the SMTP server when the URL does not carry it; empty: none.
    pub smtp_username: Secret,
    pub smtp_password: Secret,
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles with every attempt, up to `retry_max`.
    pub retry_after: Duration,
    pub retry_max: Duration,
    /// How long a mailer holds a notification it is sending before another may take it.
    pub lease: Duration,
    /// Local time of the daily digest to supervisors on working days; empty: no digest.
    pub digest_at: String,
    /// A folder of templates that replace the built-in ones of the same name; empty: none.
    pub templates: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheduler {
    pub enabled: bool,
    pub tick: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub timezone: String,
    pub business_hours: Vec<String>,
    /// Where a calendar-day period that ends on a day off ends: `none`, `holidays` (official
    /// holidays move it to the close of the next working day) or `days_off` (weekends too).
    pub day_off_roll: DayOffRoll,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub steps: Vec<Duration>,
}

/// A value that never reaches a log: its `Debug` shows only that it is set.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Built-in defaults, then `file`, then `env` (pass `std::env::vars()`), checked.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut value: toml::Value =
            toml::from_str(DEFAULT_TOML).expect("the built-in config is valid TOML");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
            })?;
            let overlay: toml::Value = toml::from_str(&text).map_err(|e| {
                ConfigError::new(
                    "--config",
                    format!("{} is not valid TOML: {e}", path.display()),
                )
            })?;
            merge(&mut value, overlay);
        }
        let mut from_env = BTreeMap::new();
        for (name, raw) in env {
            let path: Vec<String> = if name == "DATABASE_URL" {
                vec!["database".into(), "url".into()]
            } else if let Some(rest) = name.strip_prefix(ENV_PREFIX) {
                rest.split("__").map(str::to_lowercase).collect()
            } else {
                continue;
            };
            set_path(&mut value, &path, env_value(&raw))
                .map_err(|m| ConfigError::new(path.join("."), format!("from {name}: {m}")))?;
            from_env.insert(path.join("."), (path, raw));
        }
        loop {
            match serde_path_to_error::deserialize::<_, Config>(value.clone()) {
                Ok(config) => {
                    config.validate()?;
                    return Ok(config);
                }
                Err(e) => {
                    let key = e.path().to_string();
                    // An environment value that read as a number or list where text is wanted
                    // (a secret of digits, say) is taken as the text it was.
                    if let Some((path, raw)) = from_env.remove(&key)
                        && !matches!(env_value(&raw), toml::Value::String(_))
                    {
                        set_path(&mut value, &path, toml::Value::String(raw))
                            .expect("set once already");
                        continue;
                    }
                    return Err(ConfigError::new(key, e.into_inner().to_string()));
                }
            }
        }
    }

    /// Checks what types alone cannot: values that must agree, secrets, names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let prefix = &self.app.number_prefix;
        if prefix.is_empty()
            || prefix.len() > 8
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ConfigError::new(
                "app.number_prefix",
                "must be 1 to 8 ASCII letters or digits",
            ));
        }
        if !self.database.url.starts_with("sqlite://")
            && !self.database.url.starts_with("postgres://")
            && !self.database.url.starts_with("postgresql://")
        {
            return Err(ConfigError::new(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError::new("database.pool_size", "must be at least 1"));
        }
        for (key, d) in [
            ("http.idempotency_ttl", self.http.idempotency_ttl),
            ("http.request_timeout", self.http.request_timeout),
            ("http.shutdown_timeout", self.http.shutdown_timeout),
            ("database.pool_timeout", self.database.pool_timeout),
            ("database.busy_timeout", self.database.busy_timeout),
            (
                "database.statement_timeout",
                self.database.statement_timeout,
            ),
            ("auth.token_ttl", self.auth.token_ttl),
            ("auth.lockout", self.auth.lockout),
            ("scheduler.tick", self.scheduler.tick),
            ("mail.tick", self.mail.tick),
            ("mail.smtp_timeout", self.mail.smtp_timeout),
            ("mail.retry_after", self.mail.retry_after),
            ("mail.retry_max", self.mail.retry_max),
            ("mail.lease", self.mail.lease),
        ] {
            if d.as_elapsed().is_none_or(|e| e.is_zero()) {
                return Err(ConfigError::new(
                    key,
                    "must be an elapsed time above zero: h, m or s (e.g. 8h, 2s)",
                ));
            }
        }
        if self.auth.max_failures == 0 {
            return Err(ConfigError::new("auth.max_failures", "must be at least 1"));
        }
        let secret = self.auth.jwt_secret.expose();
        if secret.len() < 16 {
            return Err(ConfigError::new(
                "auth.jwt_secret",
                "must be at least 16 characters",
            ));
        }
        if self.app.profile == Profile::Production {
            if secret == SAMPLE_JWT_SECRET {
                return Err(ConfigError::new(
                    "auth.jwt_secret",
                    "the sample secret may not be used in production",
                ));
            }
            if secret.len() < 32 {
                return Err(ConfigError::new(
                    "auth.jwt_secret",
                    "must be at least 32 characters in production",
                ));
            }
        }
        if !matches!(self.mail.transport.as_str(), "file" | "smtp") {
            return Err(ConfigError::new(
                "mail.transport",
                "must be \"file\" or \"smtp\"",
            ));
        }
        if self.app.profile == Profile::Production
            && self.mail.transport == "file"
            && !self.mail.allow_file_in_production
        {
            return Err(ConfigError::new(
                "mail.transport",
                "production sends mail through \"smtp\" (set mail.allow_file_in_production to keep \"file\")",
            ));
        }
        self.validate_mail()?;
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::new(
                "log.format",
                "must be \"text\" or \"json\"",
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::new(
                "log.level",
                "must be a level such as info, or a filter such as info,closedloop=debug",
            ));
        }
        for (i, origin) in self.http.cors_origins.iter().enumerate() {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.trim_end_matches('/').contains(['*', ' '])
                && origin.split('/').count() == 3;
            if !ok {
                return Err(ConfigError::new(
                    format!("http.cors_origins[{i}]"),
                    "must be an origin such as https://hotline.example.gov.cn (scheme and host, no path)",
                ));
            }
        }
        self.timezone()?;
        if self.calendar.business_hours.is_empty() {
            return Err(ConfigError::new(
                "calendar.business_hours",
                "needs at least one period",
            ));
        }
        for (i, period) in self.calendar.business_hours.iter().enumerate() {
            parse_period(period).ok_or_else(|| {
                ConfigError::new(
                    format!("calendar.business_hours[{i}]"),
                    "must look like 08:30-12:00",
                )
            })?;
        }
        self.policy()?;
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        use lettre::message::Mailbox;
        let mail = &self.mail;
        mail.from.parse::<Mailbox>().map_err(|e| {
            ConfigError::new(
                "mail.from",
                format!("is not an address such as 12345热线 <noreply@example.gov.cn>: {e}"),
            )
        })?;
        for (key, list) in [
            ("mail.desk", &mail.desk),
            ("mail.supervisors", &mail.supervisors),
            ("mail.leadership", &mail.leadership),
        ] {
            for (i, address) in list.iter().enumerate() {
                address.parse::<lettre::Address>().map_err(|e| {
                    ConfigError::new(format!("{key}[{i}]"), format!("is not an address: {e}"))
                })?;
            }
        }
        if mail.transport == "smtp" {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(mail.smtp_url.expose())
                .map_err(|e| {
                    ConfigError::new(
                        "mail.smtp_url",
                        format!("must look like smtp://host:port, smtp://host:587?tls=required or smtps://host:465: {e}"),
                    )
                })?;
        }
        if mail.smtp_password.expose().is_empty() != mail.smtp_username.expose().is_empty() {
            return Err(ConfigError::new(
                "mail.smtp_password",
                "set mail.smtp_username and mail.smtp_password together",
            ));
        }
        if mail.max_attempts == 0 {
            return Err(ConfigError::new("mail.max_attempts", "must be at least 1"));
        }
        let seconds = |d: Duration| d.as_elapsed().map_or(0, |e| e.num_seconds());
        if seconds(mail.lease) <= seconds(mail.smtp_timeout) {
            return Err(ConfigError::new(
                "mail.lease",
                "must be longer than mail.smtp_timeout, or a slow send would be sent twice",
            ));
        }
        if !mail.digest_at.is_empty() && self.digest_at().is_none() {
            return Err(ConfigError::new(
                "mail.digest_at",
                "must be a time of day such as 08:30, or empty for no digest",
            ));
        }
        if !mail.templates.is_empty() && !Path::new(&mail.templates).is_dir() {
            return Err(ConfigError::new(
                "mail.templates",
                format!("{} is not a folder", mail.templates),
            ));
        }
        Ok(())
    }

    /// The local time of the daily digest, if there is one.
    pub fn digest_at(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.mail.digest_at, "%H:%M").ok()
    }

    pub fn timezone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.calendar.timezone.parse().map_err(|_| {
            ConfigError::new(
                "calendar.timezone",
                "is not an IANA time zone such as Asia/Shanghai",
            )
        })
    }

    /// The SLA policy and escalation ladder, checked.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        Policy::new(&self.sla, self.escalation.steps.clone())
            .map_err(|e| ConfigError::new(e.key, e.message))
    }

    /// The business periods of a working day, checked by `validate`.
    pub fn business_hours(&self) -> Vec<(chrono::NaiveTime, chrono::NaiveTime)> {
        self.calendar
            .business_hours
            .iter()
            .filter_map(|p| parse_period(p))
            .collect()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.url.starts_with("sqlite://")
    }
}

fn parse_period(text: &str) -> Option<(chrono::NaiveTime, chrono::NaiveTime)> {
    let (a, b) = text.split_once('-')?;
    let a = chrono::NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let b = chrono::NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    (a < b).then_some((a, b))
}

/// `postgres://user:password@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => url.to_string(),
    }
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(base), toml::Value::Table(overlay)) => {
            for (k, v) in overlay {
                match base.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        base.insert(k, v);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// An environment value is read as TOML when it is one (`8`, `true`, `["a", "b"]`), else as text.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(root: &mut toml::Value, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut node = root;
    for key in parents {
        let table = node.as_table_mut().ok_or("not a section")?;
        node = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    let table = node.as_table_mut().ok_or("not a section")?;
    table.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_defaults_run_as_they_are() {
        let c = Config::load(None, vec![]).unwrap();
        assert_eq!(c.database.url, "sqlite://data/closedloop.db");
        assert_eq!(c.sla["default"].handle, Some(Duration::WorkingDays(15)));
        assert_eq!(c.escalation.steps.len(), 3);
    }

    #[test]
    fn file_then_environment_override() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "[http]\naddr = \"0.0.0.0:9000\"\n[sla.complaint]\nhandle = \"10wd\""
        )
        .unwrap();
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("CLOSEDLOOP__HTTP__ADDR", "127.0.0.1:9100"),
                ("CLOSEDLOOP__DATABASE__POOL_SIZE", "3"),
                ("CLOSEDLOOP__MAIL__DESK", "[\"desk@example.gov.cn\"]"),
                ("DATABASE_URL", "postgres://u:pw@127.0.0.1/x"),
                ("UNRELATED", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.http.addr, "127.0.0.1:9100");
        assert_eq!(c.database.pool_size, 3);
        assert_eq!(c.mail.desk, ["desk@example.gov.cn"]);
        assert_eq!(c.database.url, "postgres://u:pw@127.0.0.1/x");
        assert_eq!(c.sla["complaint"].handle, Some(Duration::WorkingDays(10)));
        assert_eq!(c.sla["default"].handle, Some(Duration::WorkingDays(15)));
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let cases = [
            (
                "CLOSEDLOOP__DATABASE__POOL_SIZE",
                "many",
                "database.pool_size",
            ),
            (
                "CLOSEDLOOP__SLA__DEFAULT__HANDLE",
                "15 days",
                "sla.default.handle",
            ),
            ("CLOSEDLOOP__SLA__LUNCH__HANDLE", "1wd", "sla.lunch"),
            ("CLOSEDLOOP__HTTP__ADRESS", "x", "http.adress"),
            (
                "CLOSEDLOOP__CALENDAR__TIMEZONE",
                "Mars/Olympus",
                "calendar.timezone",
            ),
            ("CLOSEDLOOP__AUTH__TOKEN_TTL", "1wd", "auth.token_ttl"),
            (
                "CLOSEDLOOP__ESCALATION__STEPS",
                "[\"0s\", \"soon\"]",
                "escalation.steps[1]",
            ),
        ];
        for (name, value, key) in cases {
            let err = Config::load(None, env(&[(name, value)])).unwrap_err();
            assert_eq!(err.key, key, "{name}={value}: {err}");
        }
    }

    #[test]
    fn an_environment_value_is_text_where_text_is_wanted() {
        let c = Config::load(
            None,
            env(&[("CLOSEDLOOP__AUTH__JWT_SECRET", "12345678901234567890")]),
        )
        .unwrap();
        assert_eq!(c.auth.jwt_secret.expose(), "12345678901234567890");
        let err =
            Config::load(None, env(&[("CLOSEDLOOP__DATABASE__POOL_SIZE", "[1]")])).unwrap_err();
        assert_eq!(err.key, "database.pool_size");
    }

    #[test]
    fn production_refuses_the_sample_secret() {
        let err =
            Config::load(None, env(&[("CLOSEDLOOP__APP__PROFILE", "production")])).unwrap_err();
        assert_eq!(err.key, "auth.jwt_secret");
        let ok = Config::load(
            None,
            env(&[
                ("CLOSEDLOOP__APP__PROFILE", "production"),
                (
                    "CLOSEDLOOP__AUTH__JWT_SECRET",
                    "a-long-random-secret-of-forty-characters",
                ),
            ]),
        );
        assert_eq!(ok.unwrap_err().key, "mail.transport");
        let ok = Config::load(
            None,
            env(&[
                ("CLOSEDLOOP__APP__PROFILE", "production"),
                (
                    "CLOSEDLOOP__AUTH__JWT_SECRET",
                    "a-long-random-secret-of-forty-characters",
                ),
                ("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"),
            ]),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = Config::load(
            None,
            env(&[("DATABASE_URL", "postgres://app:hunter2@db/closedloop")]),
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains(SAMPLE_JWT_SECRET), "{printed}");
        assert!(printed.contains("postgres://app:***@db/closedloop"));
    }

    #[test]
    fn mail_settings_are_checked_naming_the_key() {
        let key = |pairs: &[(&str, &str)]| Config::load(None, env(pairs)).unwrap_err().key;
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__FROM", "not an address")]),
            "mail.from"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__SUPERVISORS", "[\"ok@x.cn\", \"bad\"]")]),
            "mail.supervisors[1]"
        );
        assert_eq!(
            key(&[
                ("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"),
                ("CLOSEDLOOP__MAIL__SMTP_URL", "http://mail.example.gov.cn"),
            ]),
            "mail.smtp_url"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__SMTP_USERNAME", "hotline")]),
            "mail.smtp_password"
        );
        assert_eq!(
            key(&[
                ("CLOSEDLOOP__MAIL__LEASE", "10s"),
                ("CLOSEDLOOP__MAIL__SMTP_TIMEOUT", "30s")
            ]),
            "mail.lease"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__MAX_ATTEMPTS", "0")]),
            "mail.max_attempts"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__RETRY_AFTER", "1wd")]),
            "mail.retry_after"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__DIGEST_AT", "8.30")]),
            "mail.digest_at"
        );
        assert_eq!(
            key(&[("CLOSEDLOOP__MAIL__TEMPLATES", "/no/such/folder")]),
            "mail.templates"
        );
        let ok = Config::load(
            None,
            env(&[
                ("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"),
                (
                    "CLOSEDLOOP__MAIL__SMTP_URL",
                    "smtps://user:pw@smtp.example.gov.cn:465",
                ),
                ("CLOSEDLOOP__MAIL__DIGEST_AT", ""),
            ]),
        )
        .unwrap();
        assert_eq!(ok.digest_at(), None);
        assert_eq!(
            Config::load(None, vec![]).unwrap().digest_at(),
            chrono::NaiveTime::from_hms_opt(8, 30, 0)
        );
    }
}
