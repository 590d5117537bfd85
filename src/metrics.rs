//! What operators watch, in the Prometheus text format at `/metrics`: HTTP requests and their
//! latency by route and status, tickets by state, deadlines (overdue, fired, how late), the outbox
//! and the mailer, the connection pool. Counters live here for the life of the process; gauges of
//! the database are read when scraped.

use crate::domain::sla::TimerKind;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route's pattern (`/api/v1/tickets/{id}`), never the path itself.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FiredLabels {
    pub kind: String,
    /// 0 is the warning.
    pub level: i32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram>,
    timers_fired: Family<FiredLabels, Counter>,
    fire_lag_seconds: Histogram,
    overdue_timers: Gauge,
    beyond_calendar_timers: Gauge,
    tickets: Family<StateLabels, Gauge>,
    outbox: Family<StatusLabels, Gauge>,
    mail_sent: Counter,
    mail_failed: Counter,
    mail_send_seconds: Histogram,
    pool_connections: Gauge,
    pool_idle: Gauge,
    database_up: Gauge,
    scrape_seconds: FloatGauge,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ]
    .into_iter()
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("closedloop");
        let m = Metrics {
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(|| Histogram::new(latency_buckets())),
            timers_fired: Family::default(),
            fire_lag_seconds: Histogram::new([1.0, 5.0, 30.0, 60.0, 300.0, 3600.0, 86400.0]),
            overdue_timers: Gauge::default(),
            beyond_calendar_timers: Gauge::default(),
            tickets: Family::default(),
            outbox: Family::default(),
            mail_sent: Counter::default(),
            mail_failed: Counter::default(),
            mail_send_seconds: Histogram::new([
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ]),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            database_up: Gauge::default(),
            scrape_seconds: FloatGauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            m.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            m.http_seconds.clone(),
        );
        registry.register(
            "timers_fired",
            "Deadline warnings (level 0) and escalation levels fired, by timer kind",
            m.timers_fired.clone(),
        );
        registry.register(
            "timer_fire_lag_seconds",
            "How long after its moment a warning or escalation fired",
            m.fire_lag_seconds.clone(),
        );
        registry.register(
            "overdue_timers",
            "Running deadlines that have passed",
            m.overdue_timers.clone(),
        );
        registry.register(
            "beyond_calendar_timers",
            "Running deadlines counted past the last year the calendar knows",
            m.beyond_calendar_timers.clone(),
        );
        registry.register("tickets", "Tickets by state", m.tickets.clone());
        registry.register(
            "outbox_notifications",
            "Notifications in the outbox by status",
            m.outbox.clone(),
        );
        registry.register(
            "mail_sent",
            "Notifications delivered to the mail server",
            m.mail_sent.clone(),
        );
        registry.register(
            "mail_failed",
            "Notifications given up on",
            m.mail_failed.clone(),
        );
        registry.register(
            "mail_send_duration_seconds",
            "How long delivering one notification took",
            m.mail_send_seconds.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Connections the pool holds",
            m.pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle connections in the pool",
            m.pool_idle.clone(),
        );
        registry.register(
            "database_up",
            "1 when the database answered the last scrape",
            m.database_up.clone(),
        );
        registry.register(
            "scrape_duration_seconds",
            "How long reading the database gauges took at the last scrape",
            m.scrape_seconds.clone(),
        );
        Metrics { registry, ..m }
    }
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

pub fn http_request(method: &str, route: &str, status: u16, took: std::time::Duration) {
    let m = metrics();
    m.http_requests
        .get_or_create(&HttpLabels {
            method: method.to_string(),
            route: route.to_string(),
            status,
        })
        .inc();
    m.http_seconds
        .get_or_create(&RouteLabels {
            method: method.to_string(),
            route: route.to_string(),
        })
        .observe(took.as_secs_f64());
}

pub fn timer_fired(kind: TimerKind, level: i32, lag: chrono::Duration) {
    let m = metrics();
    m.timers_fired
        .get_or_create(&FiredLabels {
            kind: kind.to_string(),
            level,
        })
        .inc();
    m.fire_lag_seconds
        .observe(lag.num_milliseconds().max(0) as f64 / 1000.0);
}

pub fn set_deadline_gauges(overdue: i64, beyond_calendar: i64) {
    metrics().overdue_timers.set(overdue);
    metrics().beyond_calendar_timers.set(beyond_calendar);
}

pub fn set_tickets_by_state(counts: &BTreeMap<String, i64>) {
    for state in crate::domain::ticket::State::ALL {
        let name = state.to_string();
        metrics()
            .tickets
            .get_or_create(&StateLabels {
                state: name.clone(),
            })
            .set(counts.get(&name).copied().unwrap_or(0));
    }
}

pub fn mail_sent(took: std::time::Duration) {
    metrics().mail_sent.inc();
    metrics().mail_send_seconds.observe(took.as_secs_f64());
}

pub fn mail_failed() {
    metrics().mail_failed.inc();
}

pub fn set_outbox_depth(depth: &BTreeMap<String, i64>) {
    for status in crate::store::outbox::STATUSES {
        metrics()
            .outbox
            .get_or_create(&StatusLabels {
                status: status.to_string(),
            })
            .set(depth.get(status).copied().unwrap_or(0));
    }
}

pub fn set_pool(connections: u32, idle: u32) {
    metrics().pool_connections.set(connections.into());
    metrics().pool_idle.set(idle.into());
}

pub fn set_database_up(up: bool, took: std::time::Duration) {
    metrics().database_up.set(up.into());
    metrics().scrape_seconds.set(took.as_secs_f64());
}

/// Everything, in the Prometheus text format.
pub fn render() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &metrics().registry)
        .expect("writing to a String cannot fail");
    out
}
