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
