//! The postman: sends the outbox. A round leases due notifications in one short transaction,
//! sends them outside any transaction, then records each outcome: sent, retry later
//! (exponential backoff) or failed after `mail.max_attempts`.

use super::compose::{self, View};
use super::templates::Templates;
use super::transport::{self, Delivery, Transport};
use crate::metrics;
use crate::store::outbox::{self, Outcome};
use crate::store::rows::OutboxRow;
use crate::store::{self, Pool, StoreError, departments};
use chrono::{NaiveDateTime, NaiveTime};
use futures_util::StreamExt;
use lettre::message::Mailbox;
use serde_json::{Value, json};

/// How the mailer sends, from `[mail]` and `app.public_url`.
#[derive(Debug, Clone)]
pub struct Mailing {
    pub from: Mailbox,
    pub public_url: String,
    pub max_attempts: i32,
    pub retry_after: chrono::Duration,
    pub retry_max: chrono::Duration,
    pub lease: chrono::Duration,
    /// A send (connection, commands, data) that takes longer is given up, its outcome unknown.
    pub send_timeout: std::time::Duration,
    pub digest_at: Option<NaiveTime>,
    /// Notifications leased per round, and sent at once.
    pub batch: i64,
    pub concurrency: usize,
}

impl Mailing {
    /// The wait after failed attempt number `attempts` (1 for the first).
    pub fn backoff(&self, attempts: i32) -> chrono::Duration {
        let doublings = (attempts - 1).clamp(0, 30) as u32;
        self.retry_after
            .checked_mul(2i32.saturating_pow(doublings))
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }

    /// What to record after attempt number `attempts`, given every address's fate so far.
    pub fn outcome(&self, attempts: i32, d: &Delivery, now: NaiveDateTime) -> Outcome {
        let refusals = (!d.refused.is_empty()).then(|| {
            let each: Vec<String> = d.refused.iter().map(|(a, e)| format!("{a}: {e}")).collect();
            format!("refused: {}", each.join("; "))
        });
        if !d.waiting.is_empty() {
            let e = d.error.clone().unwrap_or_else(|| "not sent".into());
            if attempts >= self.max_attempts {
                Outcome::Failed(format!("{e} (gave up after {attempts} attempts)"))
            } else {
                Outcome::Retry(now + self.backoff(attempts), e)
            }
        } else if d.delivered.is_empty() {
            Outcome::Failed(refusals.unwrap_or_else(|| "no address to send to".into()))
        } else {
            Outcome::Sent(refusals)
        }
    }
}

/// Templates, transport and settings: what a mailer sends with.
pub struct Postman {
    pub mailing: Mailing,
    pub templates: Templates,
    pub transport: Transport,
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Outcomes not recorded because the lease had passed to another mailer meanwhile.
    pub lost: usize,
}

impl Round {
    pub fn leased(&self) -> usize {
        self.sent + self.retried + self.failed + self.lost
    }
}

impl Postman {
    /// Sends what is due at `now`: one batch. Database work blocks; SMTP is awaited.
    pub async fn deliver_due(
        &self,
        pool: &Pool,
        timezone: chrono_tz::Tz,
        now: NaiveDateTime,
    ) -> Result<Round, StoreError> {
        let (rows, view) = {
            let mut conn = pool.get()?;
            let rows =
                outbox::lease_due(&mut conn, now, now + self.mailing.lease, self.mailing.batch)?;
            if rows.is_empty() {
                return Ok(Round::default());
            }
            let view = View {
                public_url: self.mailing.public_url.clone(),
                timezone,
                departments: departments::names(&mut conn)?,
            };
            (rows, view)
        };
        // No connection is held while mail servers answer; each outcome is recorded as soon as
        // it is known, so that a later failure cannot make a delivered mail go again.
        let sends = rows.into_iter().map(|row| {
            let view = &view;
            async move {
                let started = std::time::Instant::now();
                let delivery = self.send(&row, view).await;
                (row, delivery, started.elapsed())
            }
        });
        let mut done =
            futures_util::stream::iter(sends).buffer_unordered(self.mailing.concurrency.max(1));
        let mut round = Round::default();
        while let Some((row, (recipients, delivery), took)) = done.next().await {
            if let Some(e) = &delivery.error {
                tracing::warn!(notification = %row.id, template = %row.template, attempt = row.attempts, error = %e, "mail not sent");
            }
            let settled_at = store::now().max(now);
            let outcome = self.mailing.outcome(row.attempts, &delivery, settled_at);
            let recorded = match settling_connection(pool).await {
                Ok(mut conn) => outbox::settle(&mut conn, &row, &outcome, &recipients, settled_at),
                Err(e) => Err(e),
            };
            match recorded {
                Ok(true) => {}
                Ok(false) => {
                    round.lost += 1;
                    continue;
                }
                Err(e) => {
                    // It goes again when its lease runs out, under the same Message-ID.
                    tracing::error!(notification = %row.id, error = %e, "the outcome of a send could not be recorded");
                    round.lost += 1;
                    continue;
                }
            }
            match outcome {
                Outcome::Sent(_) => {
                    round.sent += 1;
                    metrics::mail_sent(took);
                }
                Outcome::Retry(..) => round.retried += 1,
                Outcome::Failed(_) => {
                    round.failed += 1;
                    metrics::mail_failed();
                }
            }
        }
        Ok(round)
    }

    /// Renders and sends one notification to the addresses that have not had it yet. Returns the
    /// recipients record as it now stands, and what became of this attempt.
    async fn send(&self, row: &OutboxRow, view: &View) -> (String, Delivery) {
        let mut record: Value = serde_json::from_str(&row.recipients).unwrap_or(json!({}));
        let strings = |key: &str| -> Vec<String> {
            record
                .get(key)
                .and_then(Value::as_array)
                .map(|all| {
                    all.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let to = strings("to");
        let before = strings("delivered");
        let mut refused_before: Vec<(String, String)> = record
            .get("refused")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(|r| {
                        Some((
                            r.get("address")?.as_str()?.to_string(),
                            r.get("error")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let open: Vec<&String> = to
            .iter()
            .filter(|a| !before.contains(a) && !refused_before.iter().any(|(r, _)| r == *a))
            .collect();
        let mut addresses = vec![];
        for a in open {
            match a.parse::<lettre::Address>() {
                Ok(address) => addresses.push(address),
                Err(e) => refused_before.push((a.clone(), format!("not an address: {e}"))),
            }
        }
        let mut delivery = if addresses.is_empty() {
            Delivery::default()
        } else {
            match self.compose(row, view, &to) {
                Ok(message) => {
                    self.transport
                        .deliver(&message, &addresses, self.mailing.send_timeout)
                        .await
                }
                Err(e) => Delivery {
                    waiting: addresses.iter().map(ToString::to_string).collect(),
                    error: Some(e),
                    ..Delivery::default()
                },
            }
        };
        delivery.delivered.splice(0..0, before);
        delivery.refused.splice(0..0, refused_before);
        record["delivered"] = json!(delivery.delivered);
        record["refused"] = json!(
            delivery
                .refused
                .iter()
                .map(|(a, e)| json!({"address": a, "error": e}))
                .collect::<Vec<_>>()
        );
        (record.to_string(), delivery)
    }

    /// The message a notification becomes: its template rendered with its data, to `to`.
    /// A template that does not render may be fixed and the process restarted, so an error
    /// here is one to retry.
    pub fn compose(
        &self,
        row: &OutboxRow,
        view: &View,
        to: &[String],
    ) -> Result<lettre::Message, String> {
        let data: Value =
            serde_json::from_str(&row.data).map_err(|e| format!("unreadable data: {e}"))?;
        let context = match (row.ticket_id.as_deref(), row.template.as_str()) {
            (Some(ticket), _) => compose::ticket_context(view, ticket, &data),
            (None, "monthly") => compose::monthly_context(view, &data),
            (None, _) => compose::digest_context(view, &data, row.created_at),
        };
        let attachment = compose::attachment(&data)?;
        let rendered = self
            .templates
            .render(&row.template, &context)
            .map_err(|e| e.to_string())?;
        let headers: Vec<lettre::Address> = to.iter().filter_map(|a| a.parse().ok()).collect();
        let date = std::time::SystemTime::from(row.created_at.and_utc());
        transport::message(
            &self.mailing.from,
            &headers,
            &row.message_id,
            date,
            rendered,
            attachment,
        )
        .map_err(|e| e.to_string())
    }
}

/// A connection to record what was sent. The mail is out: wait a little for a database that
/// is briefly away rather than let the leases run out and send it all again.
async fn settling_connection(pool: &Pool) -> Result<store::PooledConn, StoreError> {
    let mut wait = std::time::Duration::from_millis(200);
    for _ in 0..5 {
        match pool.get() {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                tracing::warn!(error = %e, "cannot record sent mail yet; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    Ok(pool.get()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailing() -> Mailing {
        Mailing {
            from: "12345热线 <noreply@example.gov.cn>".parse().unwrap(),
            public_url: "http://127.0.0.1:8080".into(),
            max_attempts: 4,
            retry_after: chrono::Duration::minutes(1),
            retry_max: chrono::Duration::minutes(5),
            lease: chrono::Duration::minutes(5),
            send_timeout: std::time::Duration::from_secs(30),
            digest_at: None,
            batch: 50,
            concurrency: 4,
        }
    }

    #[test]
    fn waits_double_up_to_the_maximum() {
        let m = mailing();
        let minutes: Vec<i64> = (1..=5).map(|a| m.backoff(a).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 5, 5]);
        assert_eq!(m.backoff(1000), chrono::Duration::minutes(5));
    }

    #[test]
    fn a_refusal_fails_at_once_and_an_outage_after_the_last_attempt() {
        let m = mailing();
        let now = store::now();
        let down = Delivery {
            waiting: vec!["a@x.cn".into()],
            error: Some("connection refused".into()),
            ..Delivery::default()
        };
        assert_eq!(
            m.outcome(1, &down, now),
            Outcome::Retry(
                now + chrono::Duration::minutes(1),
                "connection refused".into()
            )
        );
        assert!(
            matches!(m.outcome(4, &down, now), Outcome::Failed(e) if e.contains("gave up after 4 attempts"))
        );
        let refused = Delivery {
            refused: vec![("a@x.cn".into(), "550 no such mailbox".into())],
            ..Delivery::default()
        };
        assert_eq!(
            m.outcome(1, &refused, now),
            Outcome::Failed("refused: a@x.cn: 550 no such mailbox".into())
        );
        let partly = Delivery {
            delivered: vec!["b@x.cn".into()],
            ..refused
        };
        assert_eq!(
            m.outcome(1, &partly, now),
            Outcome::Sent(Some("refused: a@x.cn: 550 no such mailbox".into()))
        );
    }
}
