//! The values of the configuration, each parsed and checked where it is read (serde), so that a
//! bad value is refused at load naming its key, and nothing downstream parses a string again.

use crate::domain::duration::Duration;
use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::str::FromStr;

/// A problem with the configuration, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Deserializes a value of `T` from a string with `FromStr`, its error as the message.
fn from_text<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(de::Error::custom)
}

/// Implements `Deserialize` through `FromStr`.
macro_rules! deserialize_from_str {
    ($($ty:ty),+ $(,)?) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                from_text(d)
            }
        }
    )+};
}

/// Elapsed time above zero (`8h`, `30m`, `2s`): timeouts, ticks, lifetimes. Shown as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    written: Duration,
    length: std::time::Duration,
}

impl Elapsed {
    pub fn std(self) -> std::time::Duration {
        self.length
    }

    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.length).expect("at most ten years")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.written.fmt(f)
    }
}

impl FromStr for Elapsed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || "must be an elapsed time above zero: h, m or s (e.g. 8h, 2s)".to_string();
        let written: Duration = s
            .parse()
            .map_err(|e: crate::domain::duration::DurationError| format!("{e}; {}", wrong()))?;
        written
            .as_elapsed()
            .filter(|e| *e > chrono::Duration::zero())
            .and_then(|e| e.to_std().ok())
            .map(|length| Elapsed { written, length })
            .ok_or_else(wrong)
    }
}

/// A value that never reaches a log: its `Debug` shows only that it is set.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Dev,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Text,
    /// One object per line, for log collectors.
    Json,
}

/// A tracing filter such as `info` or `info,closedloop=debug`.
#[derive(Debug, Clone)]
pub struct LogFilter(String);

impl LogFilter {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LogFilter {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        tracing_subscriber::EnvFilter::try_new(s)
            .map(|_| LogFilter(s.to_string()))
            .map_err(|_| "must be a level such as info, or a filter such as info,closedloop=debug")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; shown with the password hidden.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with its password hidden, for logs and messages.
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

impl FromStr for DatabaseUrl {
    type Err = &'static str;
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let backend = if url.starts_with("sqlite://") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err("must start with sqlite:// or postgres://");
        };
        Ok(DatabaseUrl {
            url: url.to_string(),
            backend,
        })
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
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

/// The prefix of ticket numbers: 1 to 8 ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPrefix(String);

impl NumberPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NumberPrefix {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| NumberPrefix(s.to_string()))
            .ok_or("must be 1 to 8 ASCII letters or digits")
    }
}

/// An origin allowed to call from a browser: scheme and host, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Origin {
    type Err = &'static str;
    fn from_str(origin: &str) -> Result<Self, Self::Err> {
        let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
            && !origin.trim_end_matches('/').contains(['*', ' '])
            && origin.split('/').count() == 3;
        ok.then(|| Origin(origin.trim_end_matches('/').to_string()))
            .ok_or("must be an origin such as https://hotline.example.gov.cn (scheme and host, no path)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// `.eml` files in `mail.dir`.
    File,
    Smtp,
}

/// A sender or recipient such as `12345热线 <noreply@example.gov.cn>`.
#[derive(Debug, Clone)]
pub struct Mailbox(pub lettre::message::Mailbox);

impl FromStr for Mailbox {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(Mailbox).map_err(|e| {
            format!("is not an address such as 12345热线 <noreply@example.gov.cn>: {e}")
        })
    }
}

/// A plain address such as `desk@example.gov.cn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Address {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<lettre::Address>()
            .map(|_| Address(s.to_string()))
            .map_err(|e| format!("is not an address: {e}"))
    }
}

/// A local time of day `HH:MM`, or the empty text for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(pub Option<chrono::NaiveTime>);

impl FromStr for TimeOfDay {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(TimeOfDay(None));
        }
        chrono::NaiveTime::parse_from_str(s, "%H:%M")
            .map(|t| TimeOfDay(Some(t)))
            .map_err(|_| "must be a time of day such as 08:30, or empty for none")
    }
}

/// A business period of a working day, `08:30-12:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub chrono::NaiveTime, pub chrono::NaiveTime);

impl FromStr for Period {
    type Err = &'static str;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let time = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        text.split_once('-')
            .and_then(|(a, b)| Some((time(a)?, time(b)?)))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| Period(a, b))
            .ok_or("must look like 08:30-12:00")
    }
}

/// An IANA time zone such as `Asia/Shanghai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl FromStr for Timezone {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse()
            .map(Timezone)
            .map_err(|_| "is not an IANA time zone such as Asia/Shanghai")
    }
}

/// A folder of templates, or the empty text for the built-in ones only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder(pub Option<std::path::PathBuf>);

impl FromStr for Folder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(Folder(None));
        }
        let path = std::path::PathBuf::from(s);
        if !path.is_dir() {
            return Err(format!("{s} is not a folder"));
        }
        Ok(Folder(Some(path)))
    }
}

deserialize_from_str!(
    Elapsed,
    LogFilter,
    DatabaseUrl,
    NumberPrefix,
    Origin,
    Mailbox,
    Address,
    TimeOfDay,
    Period,
    Timezone,
    Folder,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_is_above_zero_and_not_calendar_time() {
        assert_eq!(
            "8h".parse::<Elapsed>().unwrap().std(),
            std::time::Duration::from_secs(8 * 3600)
        );
        for bad in ["0s", "1wd", "3d", "soon", ""] {
            assert!(bad.parse::<Elapsed>().is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_show_no_password() {
        let url: DatabaseUrl = "postgres://app:hunter2@db/closedloop".parse().unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert_eq!(format!("{url:?}"), "\"postgres://app:***@db/closedloop\"");
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn periods_and_times_of_day() {
        assert!("08:30-12:00".parse::<Period>().is_ok());
        assert!("12:00-08:30".parse::<Period>().is_err());
        assert_eq!("".parse::<TimeOfDay>(), Ok(TimeOfDay(None)));
        assert!("8.30".parse::<TimeOfDay>().is_err());
    }
}
