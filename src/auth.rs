//! Who is asking: argon2 password hashes and HS256 JSON Web Tokens with the algorithm pinned and
//! `exp` required. A token names its user, role and department; it is checked, not looked up.

use crate::domain::DepartmentCode;
use crate::domain::ticket::{Actor, Role};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("the token is missing: send Authorization: Bearer <token>")]
    Missing,
    #[error("send one Authorization header, not several")]
    Ambiguous,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token is not valid")]
    Invalid,
}

/// Issues and checks tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl Tokens {
    pub fn new(secret: &str, ttl: chrono::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // A token that is not valid yet (RFC 7519 §4.1.5) is refused like an expired one.
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl_seconds: ttl.num_seconds(),
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// A token for `claims.sub`, valid for `ttl` (the configured one when `None`) from `now`.
    pub fn issue(
        &self,
        username: &str,
        role: Role,
        department: Option<&str>,
        now: i64,
        ttl: Option<i64>,
    ) -> String {
        let claims = Claims {
            sub: username.to_string(),
            role,
            // From the users table or a caller that checked it; `verify` checks it coming back.
            department: department.map(|d| DepartmentCode::from_stored(d.to_string())),
            iat: now,
            exp: now + ttl.unwrap_or(self.ttl_seconds),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        // A department user without a department could see nothing and act on nothing: refuse it.
        if claims.role == Role::Department && claims.department.is_none() {
            return Err(AuthError::Invalid);
        }
        Ok(Actor::User {
            username: claims.sub,
            role: claims.role,
            department: claims.department,
        })
    }
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored hash. With no hash (an unknown user, or one without a
/// password) it checks against a fixed hash anyway, so the answer takes the same time.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash_password("closedloop-decoy-password"));
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (decoy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn tokens() -> Tokens {
        Tokens::new("a-test-secret-of-some-length", chrono::Duration::hours(8))
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_token_round_trips() {
        let t = tokens().issue("sj1", Role::Department, Some("shijian"), now(), None);
        assert_eq!(
            tokens().verify(&t),
            Ok(Actor::user(
                "sj1",
                Role::Department,
                DepartmentCode::parse("shijian").ok().as_ref()
            ))
        );
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() {
        let expired = tokens().issue("op1", Role::Operator, None, now() - 100, Some(10));
        assert_eq!(tokens().verify(&expired), Err(AuthError::Expired));

        let other = Tokens::new("another-secret-entirely", chrono::Duration::hours(1));
        let forged = other.issue("op1", Role::Admin, None, now(), None);
        assert_eq!(tokens().verify(&forged), Err(AuthError::Invalid));

        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"op1","role":"admin","exp":{}}}"#,
            now() + 600
        ));
        assert_eq!(
            tokens().verify(&format!("{header}.{body}.")),
            Err(AuthError::Invalid)
        );

        let no_exp = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "op1", "role": "operator"}),
            &EncodingKey::from_secret(b"a-test-secret-of-some-length"),
        )
        .unwrap();
        assert_eq!(tokens().verify(&no_exp), Err(AuthError::Invalid));
        assert_eq!(tokens().verify("garbage"), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_is_refused_before_its_not_before_time() {
        let sign = |nbf: i64| {
            let claims = serde_json::json!({"sub": "op1", "role": "operator", "iat": now(), "exp": now() + 7200, "nbf": nbf});
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(b"a-test-secret-of-some-length"),
            )
            .unwrap()
        };
        assert_eq!(
            tokens().verify(&sign(now() + 3600)),
            Err(AuthError::NotYetValid)
        );
        assert_eq!(
            tokens().verify(&sign(now() - 10)),
            Ok(Actor::user("op1", Role::Operator, None))
        );
    }

    #[test]
    fn a_department_token_needs_its_department() {
        let t = tokens().issue("x", Role::Department, None, now(), None);
        assert_eq!(tokens().verify(&t), Err(AuthError::Invalid));
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("正确的密码");
        assert!(verify_password(Some(&hash), "正确的密码"));
        assert!(!verify_password(Some(&hash), "wrong"));
        assert!(!verify_password(None, "closedloop-decoy-password"));
        assert!(!verify_password(Some("not a hash"), "x"));
    }
}

/// Failed sign-ins counted per username and per client address: past `max` failures within
/// `window` the next tries are refused (429) until the window since the first failure ends.
/// A try counts as failed from the moment it starts (and is taken back if it succeeds), so that
/// many guesses sent at once cannot slip past the count. Counts are per process; with several
/// instances, each counts its own.
pub struct Throttle {
    failures: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
    max: u32,
    window: std::time::Duration,
}

impl Throttle {
    /// A client address may fail this many times more than one username.
    const PER_ADDRESS: u32 = 4;
    /// Keys kept at most; past it the oldest are forgotten first.
    const MAX_KEYS: usize = 100_000;

    pub fn new(max: u32, window: std::time::Duration) -> Self {
        Throttle {
            failures: Default::default(),
            max,
            window,
        }
    }

    fn user_key(username: &str) -> String {
        // No real name is this long; a long one still counts, under its first characters.
        let name: String = username.chars().take(64).collect();
        format!("user:{}", name.to_lowercase())
    }

    fn keys(username: &str, address: &str) -> [(String, u32); 2] {
        [
            (Self::user_key(username), 1),
            (format!("addr:{address}"), Self::PER_ADDRESS),
        ]
    }

    /// Starts a try: `Err(wait)` when the caller must wait that long first; else the try is
    /// counted as a failure until `succeeded` takes it back.
    pub fn begin(&self, username: &str, address: &str) -> Result<(), std::time::Duration> {
        let now = std::time::Instant::now();
        let mut failures = self.failures.lock().expect("throttle lock");
        let keys = Self::keys(username, address);
        let wait = keys
            .iter()
            .filter_map(|(key, factor)| {
                let (count, since) = failures.get(key)?;
                let ends = *since + self.window;
                (*count >= self.max * factor && ends > now).then(|| ends - now)
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if failures.len() >= Self::MAX_KEYS {
            failures.retain(|_, (_, since)| now.duration_since(*since) < self.window);
            if failures.len() >= Self::MAX_KEYS {
                let mut ages: Vec<_> = failures.values().map(|(_, since)| *since).collect();
                ages.sort();
                let cut = ages[ages.len() / 4];
                failures.retain(|_, (_, since)| *since > cut);
            }
        }
        for (key, _) in keys {
            let entry = failures.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= self.window {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
        Ok(())
    }

    /// The try went through: the name starts afresh, and the address's count is taken back.
    pub fn succeeded(&self, username: &str, address: &str) {
        let [(user, _), (addr, _)] = Self::keys(username, address);
        let mut failures = self.failures.lock().expect("throttle lock");
        failures.remove(&user);
        if let Some(entry) = failures.get_mut(&addr) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::Throttle;
    use std::time::Duration;

    #[test]
    fn a_name_is_locked_after_max_failures_and_freed_by_time_or_success() {
        let t = Throttle::new(3, Duration::from_millis(300));
        for _ in 0..3 {
            assert_eq!(t.begin("zhang", "10.0.0.1"), Ok(()));
        }
        assert!(
            t.begin("zhang", "10.0.0.2").is_err(),
            "the name, from anywhere"
        );
        assert!(t.begin("ZHANG", "10.0.0.2").is_err());
        assert_eq!(
            t.begin("li", "10.0.0.1"),
            Ok(()),
            "others from that address"
        );
        t.succeeded("li", "10.0.0.1");
        std::thread::sleep(Duration::from_millis(350));
        assert_eq!(t.begin("zhang", "10.0.0.1"), Ok(()), "the window ended");
        t.succeeded("zhang", "10.0.0.1");
        for _ in 0..3 {
            assert_eq!(
                t.begin("zhang", "10.0.0.1"),
                Ok(()),
                "a success starts afresh"
            );
        }
    }

    #[test]
    fn tries_at_once_are_counted_before_they_are_checked() {
        let t = std::sync::Arc::new(Throttle::new(5, Duration::from_secs(60)));
        let admitted: usize = (0..50)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.begin("wang", "10.0.0.3").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn an_address_trying_many_names_is_locked_too() {
        let t = Throttle::new(2, Duration::from_secs(60));
        for i in 0..8 {
            assert_eq!(t.begin(&format!("user{i}"), "10.0.0.9"), Ok(()));
        }
        assert!(t.begin("someone-else", "10.0.0.9").is_err());
        assert_eq!(t.begin("someone-else", "10.0.0.10"), Ok(()));
    }
}
