//! The mailer loop: every tick it writes the daily digest when it is due and sends the whole
//! backlog of due notifications, batch by batch. On PostgreSQL any number of instances run it side
//! by side (leases skip each other's rows); on SQLite one instance holds the `mailer` lease.

use crate::app::{CALENDAR_CHECK, Settings};
use crate::notify::{Postman, digest, monthly};
use crate::store::{self, Pool, StoreError, leases};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

const LEASE: &str = "mailer";

pub struct Mailer {
    stop: Option<oneshot::Sender<()>>,
    thread: JoinHandle<()>,
}

impl Mailer {
    /// Starts the loop on its own thread, with its own (single-threaded) async runtime for SMTP.
    pub fn spawn(
        pool: Pool,
        settings: Settings,
        postman: Postman,
        tick: Duration,
        sqlite: bool,
    ) -> Mailer {
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("mailer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the mailer");
                runtime.block_on(run(pool, settings, postman, tick, sqlite, stopped));
            })
            .expect("a thread for the mailer");
        Mailer {
            stop: Some(stop),
            thread,
        }
    }

    /// Asks the loop to stop once the sends in flight are recorded.
    pub fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks the loop to stop once the sends in flight are recorded, and waits for it.
    pub fn stop(mut self) {
        self.signal();
        let _ = self.thread.join();
    }

    /// Waits for the loop to end, until `deadline`; whether it ended. A send still in flight
    /// then keeps its lease and goes again later under the same Message-ID.
    pub fn join_until(self, deadline: std::time::Instant) -> bool {
        super::join_until(self.thread, deadline)
    }
}

async fn run(
    pool: Pool,
    settings: Settings,
    postman: Postman,
    tick: Duration,
    sqlite: bool,
    mut stopped: oneshot::Receiver<()>,
) {
    let holder = uuid::Uuid::now_v7().to_string();
    let lease_for = postman.mailing.lease.max(chrono::Duration::seconds(15));
    let mut idle_said = false;
    let mut failures = 0u32;
    'rounds: loop {
        let outcome: Result<bool, StoreError> = async {
            // On SQLite, hold (or renew) the lease for every batch: one mailer at a time.
            let turn = |now| -> Result<bool, StoreError> {
                if !sqlite {
                    return Ok(true);
                }
                let mut conn = pool.get()?;
                leases::take(&mut conn, LEASE, &holder, now, now + lease_for)
            };
            if !turn(store::now())? {
                if !idle_said {
                    tracing::info!(
                        "another instance runs the mailer on this SQLite database; this one stays idle"
                    );
                    idle_said = true;
                }
                return Ok(false);
            }
            idle_said = false;
            // The digest is not worth holding up the mail for.
            if let Err(e) = chores(&pool, &settings, &postman) {
                tracing::warn!(error = %e, "mail digest failed; will retry");
            }
            // The whole backlog, a batch at a time, as long as batches come back full.
            loop {
                let round = postman
                    .deliver_due(&pool, settings.timezone, store::now())
                    .await?;
                if round.leased() > 0 {
                    tracing::info!(sent = round.sent, retried = round.retried, failed = round.failed, "mail round");
                }
                if (round.leased() as i64) < postman.mailing.batch || !stopped.is_empty() {
                    return Ok(!stopped.is_empty());
                }
                if !turn(store::now())? {
                    return Ok(false);
                }
            }
        }
        .await;
        let wait = match outcome {
            Ok(true) => break 'rounds,
            Ok(false) => {
                failures = 0;
                tick
            }
            Err(e) => {
                failures += 1;
                let backoff = super::backoff(tick, failures);
                tracing::warn!(error = %e, retry_in = ?backoff, "mail round failed");
                backoff
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut stopped => break,
        }
    }
    if sqlite && let Ok(mut conn) = pool.get() {
        let _ = leases::release(&mut conn, LEASE, &holder);
    }
}

/// The calendar for the digest's working days, the digest, and the monthly report.
fn chores(pool: &Pool, settings: &Settings, postman: &Postman) -> Result<(), crate::app::AppError> {
    let Some(at) = postman.mailing.digest_at else {
        return Ok(());
    };
    let mut conn = pool.get().map_err(StoreError::from)?;
    settings
        .calendars
        .refresh_every(&mut conn, CALENDAR_CHECK)?;
    if digest::queue(&mut conn, at, settings, store::now())? {
        tracing::info!("daily digest of overdue cases queued");
    }
    if monthly::queue(&mut conn, at, settings, store::now())? {
        tracing::info!("monthly report queued");
    }
    Ok(())
}
