//! Loading: `config/default.toml` (built in), then `--config FILE`, then the environment
//! (`CLOSEDLOOP__SECTION__KEY`, `DATABASE_URL`); each value parsed by its type, then the rules
//! that hold across keys. Every problem names the key it is about.

use super::sections::Config;
use super::types::{Backend, ConfigError, MailTransport, Profile};
use crate::domain::sla::Policy;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
pub(super) const SAMPLE_JWT_SECRET: &str = "closedloop-dev-secret-do-not-use-in-production";
const ENV_PREFIX: &str = "CLOSEDLOOP__";

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

    /// The rules that hold across keys; each value is already of its type.
    fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.auth.jwt_secret.expose();
        if secret.len() < 16 {
            return Err(ConfigError::new(
                "auth.jwt_secret",
                "must be at least 16 characters",
            ));
        }
        let production = self.app.profile == Profile::Production;
        if production && secret == SAMPLE_JWT_SECRET {
            return Err(ConfigError::new(
                "auth.jwt_secret",
                "the sample secret may not be used in production",
            ));
        }
        if production && secret.len() < 32 {
            return Err(ConfigError::new(
                "auth.jwt_secret",
                "must be at least 32 characters in production",
            ));
        }
        let mail = &self.mail;
        if production && mail.transport == MailTransport::File && !mail.allow_file_in_production {
            return Err(ConfigError::new(
                "mail.transport",
                "production sends mail through \"smtp\" (set mail.allow_file_in_production to keep \"file\")",
            ));
        }
        if mail.transport == MailTransport::Smtp {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(mail.smtp_url.expose())
                .map_err(|e| {
                    ConfigError::new(
                        "mail.smtp_url",
                        format!("must look like smtp://host:port, smtp://host:587?tls=required or smtps://host:465: {e}"),
                    )
                })?;
        }
        if mail.smtp_password.is_empty() != mail.smtp_username.is_empty() {
            return Err(ConfigError::new(
                "mail.smtp_password",
                "set mail.smtp_username and mail.smtp_password together",
            ));
        }
        if mail.lease.std() <= mail.smtp_timeout.std() {
            return Err(ConfigError::new(
                "mail.lease",
                "must be longer than mail.smtp_timeout, or a slow send would be sent twice",
            ));
        }
        if self.calendar.business_hours.is_empty() {
            return Err(ConfigError::new(
                "calendar.business_hours",
                "needs at least one period",
            ));
        }
        self.policy()?;
        for (figure, w) in &self.kpi.weights {
            let key = format!("kpi.weights.{figure}");
            if figure.kind() != crate::domain::figures::Kind::Rate {
                return Err(ConfigError::new(key, "only rates earn points in the score"));
            }
            let share = |x: f64| (0.0..=1.0).contains(&x);
            if !(w.weight >= 0.0 && w.weight.is_finite() && share(w.floor) && share(w.target)) {
                return Err(ConfigError::new(
                    key,
                    "weight must be 0 or more, floor and target shares from 0 to 1",
                ));
            }
            if w.floor == w.target {
                return Err(ConfigError::new(key, "floor and target must differ"));
            }
        }
        Ok(())
    }

    /// The SLA policy and escalation ladder, checked.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        Policy::new(&self.sla, self.escalation.steps.clone())
            .map_err(|e| ConfigError::new(e.key, e.message))
    }

    /// The business periods of a working day.
    pub fn business_hours(&self) -> Vec<(chrono::NaiveTime, chrono::NaiveTime)> {
        self.calendar
            .business_hours
            .iter()
            .map(|p| (p.0, p.1))
            .collect()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.url.backend() == Backend::Sqlite
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
    use crate::domain::duration::Duration;
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
        assert_eq!(c.database.url.expose(), "sqlite://data/closedloop.db");
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
        assert_eq!(c.database.pool_size.get(), 3);
        assert_eq!(c.mail.desk[0].as_str(), "desk@example.gov.cn");
        assert_eq!(c.database.url.expose(), "postgres://u:pw@127.0.0.1/x");
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
            ("CLOSEDLOOP__DATABASE__POOL_SIZE", "0", "database.pool_size"),
            ("CLOSEDLOOP__DATABASE__URL", "mysql://db", "database.url"),
            ("CLOSEDLOOP__LOG__FORMAT", "xml", "log.format"),
            ("CLOSEDLOOP__LOG__LEVEL", "closedloop=loudest", "log.level"),
            ("CLOSEDLOOP__MAIL__TRANSPORT", "pigeon", "mail.transport"),
            ("CLOSEDLOOP__APP__NUMBER_PREFIX", "X-L", "app.number_prefix"),
            (
                "CLOSEDLOOP__HTTP__CORS_ORIGINS",
                "[\"https://a.gov.cn/path\"]",
                "http.cors_origins[0]",
            ),
            (
                "CLOSEDLOOP__CALENDAR__BUSINESS_HOURS",
                "[\"08:30-12:00\", \"noon\"]",
                "calendar.business_hours[1]",
            ),
            (
                "CLOSEDLOOP__CALENDAR__BUSINESS_HOURS",
                "[]",
                "calendar.business_hours",
            ),
            ("CLOSEDLOOP__AUTH__MAX_FAILURES", "0", "auth.max_failures"),
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
        assert_eq!(ok.mail.digest_at.0, None);
        assert_eq!(
            Config::load(None, vec![]).unwrap().mail.digest_at.0,
            chrono::NaiveTime::from_hms_opt(8, 30, 0)
        );
    }
}
