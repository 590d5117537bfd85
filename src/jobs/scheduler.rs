//! The scheduler loop: every tick it fires the whole backlog of due timers, then folds the KPI
//! counts changes appended since into their sums. On PostgreSQL any
//! number of instances run it side by side (claims skip each other's tickets); on SQLite one
//! instance holds the `scheduler` lease and the others stay idle, saying so.

use crate::app::Settings;
use crate::app::scheduler::fire_due;
use crate::store::{self, Pool, leases};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Tickets claimed per transaction. On SQLite a batch holds the one write lock, and with it
/// every request that writes: 500 tickets held them about 40 ms (the p99 of creates under load,
/// BENCHMARKS.md), 50 hold them a tenth of that. PostgreSQL locks only the claimed tickets.
const BATCH: i64 = 500;
const SQLITE_BATCH: i64 = 50;
const LEASE: &str = "scheduler";

pub struct Scheduler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Scheduler {
    /// Starts the loop on its own thread.
    /// `sqlite`: whether the database is SQLite, where one instance runs the loop at a time.
    pub fn spawn(pool: Pool, settings: Settings, tick: Duration, sqlite: bool) -> Scheduler {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("scheduler".into())
            .spawn(move || run(pool, settings, tick, sqlite, stopped))
            .expect("a thread for the scheduler");
        Scheduler { stop, thread }
    }

    /// Asks the loop to stop after its current transaction.
    pub fn signal(&self) {
        let _ = self.stop.send(());
    }

    /// Asks the loop to stop after its current transaction, and waits for it.
    pub fn stop(self) {
        self.signal();
        let _ = self.thread.join();
    }

    /// Waits for the loop to end, until `deadline`; whether it ended.
    pub fn join_until(self, deadline: std::time::Instant) -> bool {
        super::join_until(self.thread, deadline)
    }
}

fn run(pool: Pool, settings: Settings, tick: Duration, sqlite: bool, stopped: mpsc::Receiver<()>) {
    let holder = uuid::Uuid::now_v7().to_string();
    let lease_for = chrono::Duration::from_std(tick * 5)
        .unwrap_or_default()
        .max(chrono::Duration::seconds(15));
    let mut idle_said = false;
    let mut failures = 0u32;
    loop {
        let outcome = (|| -> Result<(), crate::app::AppError> {
            let mut conn = pool.get().map_err(store::StoreError::from)?;
            let now = store::now();
            if sqlite && !leases::take(&mut conn, LEASE, &holder, now, now + lease_for)? {
                if !idle_said {
                    tracing::info!(
                        "another instance runs the scheduler on this SQLite database; this one stays idle"
                    );
                    idle_said = true;
                }
                return Ok(());
            }
            idle_said = false;
            settings.calendars.refresh(&mut conn)?;
            let batch = if sqlite { SQLITE_BATCH } else { BATCH };
            let round = fire_due(&mut conn, &settings, now, batch)?;
            if round.steps > 0 {
                tracing::info!(tickets = round.tickets, steps = round.steps, "timers fired");
            }
            // What changes appended to the KPI counts since the last round, into their sums.
            crate::app::reports::rollup::fold(&mut conn)?;
            Ok(())
        })();
        let wait = match outcome {
            Ok(()) => {
                failures = 0;
                tick
            }
            Err(e) => {
                failures += 1;
                let backoff = super::backoff(tick, failures);
                tracing::warn!(error = %e, retry_in = ?backoff, "scheduler round failed");
                backoff
            }
        };
        match stopped.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => continue,
            _ => break,
        }
    }
    if sqlite && let Ok(mut conn) = pool.get() {
        let _ = leases::release(&mut conn, LEASE, &holder);
    }
}
