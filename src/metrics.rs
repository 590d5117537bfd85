//! Counts kept in memory for the operators' dashboards: timers fired by kind and level, how late
//! the scheduler fired them, overdue timers and deadlines counted past the known calendar.
//! (`/metrics` exposes them in the Prometheus format once the operations work lands.)

use crate::domain::sla::TimerKind;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// (kind, level) → how many fired; level 0 is the warning.
    pub fired: BTreeMap<(TimerKind, i32), u64>,
    /// Firing time minus due time: count, sum and maximum, in seconds.
    pub lag_count: u64,
    pub lag_sum_seconds: f64,
    pub lag_max_seconds: f64,
    pub overdue_timers: i64,
    pub beyond_calendar_timers: i64,
}

static FIRED: Mutex<Option<Snapshot>> = Mutex::new(None);
static OVERDUE: AtomicI64 = AtomicI64::new(0);
static BEYOND: AtomicI64 = AtomicI64::new(0);

pub fn timer_fired(kind: TimerKind, level: i32, lag: chrono::Duration) {
    let lag = lag.num_milliseconds().max(0) as f64 / 1000.0;
    let mut guard = FIRED.lock().expect("metrics lock");
    let s = guard.get_or_insert_with(Snapshot::default);
    *s.fired.entry((kind, level)).or_default() += 1;
    s.lag_count += 1;
    s.lag_sum_seconds += lag;
    s.lag_max_seconds = s.lag_max_seconds.max(lag);
}

pub fn set_deadline_gauges(overdue: i64, beyond_calendar: i64) {
    OVERDUE.store(overdue, Ordering::Relaxed);
    BEYOND.store(beyond_calendar, Ordering::Relaxed);
}

pub fn snapshot() -> Snapshot {
    let mut s = FIRED
        .lock()
        .expect("metrics lock")
        .clone()
        .unwrap_or_default();
    s.overdue_timers = OVERDUE.load(Ordering::Relaxed);
    s.beyond_calendar_timers = BEYOND.load(Ordering::Relaxed);
    s
}

/// The mailer's counts: sent (with how long sends took), failed, and the outbox by state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mail {
    pub sent: u64,
    pub failed: u64,
    pub send_seconds_sum: f64,
    pub send_seconds_max: f64,
    pub outbox: BTreeMap<String, i64>,
}

static MAIL: Mutex<Option<Mail>> = Mutex::new(None);

fn with_mail(f: impl FnOnce(&mut Mail)) {
    f(MAIL
        .lock()
        .expect("metrics lock")
        .get_or_insert_with(Mail::default));
}

pub fn mail_sent(took: std::time::Duration) {
    with_mail(|m| {
        m.sent += 1;
        m.send_seconds_sum += took.as_secs_f64();
        m.send_seconds_max = m.send_seconds_max.max(took.as_secs_f64());
    });
}

pub fn mail_failed() {
    with_mail(|m| m.failed += 1);
}

pub fn set_outbox_depth(depth: &BTreeMap<String, i64>) {
    with_mail(|m| {
        m.outbox = crate::store::outbox::STATUSES
            .iter()
            .map(|s| (s.to_string(), depth.get(*s).copied().unwrap_or(0)))
            .collect();
    });
}

pub fn mail() -> Mail {
    MAIL.lock()
        .expect("metrics lock")
        .clone()
        .unwrap_or_default()
}
