//! The scheduler burst: PostgreSQL holding 1,000,000 open tickets, 10,000 of whose handling
//! deadlines pass at the same moment. Measures how long the scheduler takes to fire them all
//! (escalation events, the automatic 督办, new supervision timers, outbox rows) and shows the plan
//! of the claim query. Prints numbers; asserts nothing about time.
//!
//!     cargo bench --bench scheduler   # env: CLOSEDLOOP_TEST_POSTGRES, BENCH_TICKETS, BENCH_DUE, BENCH_WORKERS

use closedloop::app::scheduler::fire_due;
use closedloop::config::Config;
use closedloop::server;
use closedloop::store::DbConn;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::time::Instant;

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn pg(conn: &mut DbConn) -> &mut diesel::PgConnection {
    match conn {
        DbConn::Postgres(pg) => pg,
        DbConn::Sqlite(_) => panic!("the scheduler benchmark runs on PostgreSQL"),
    }
}

fn count(conn: &mut DbConn, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(pg(conn))
        .unwrap()
        .n
}

fn main() {
    // `cargo test --all-targets` runs benches once as tests: this one only runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the scheduler benchmark runs with `cargo bench --bench scheduler`");
        return;
    }
    let tickets = env_or("BENCH_TICKETS", 1_000_000);
    let due = env_or("BENCH_DUE", 10_000);
    let admin = std::env::var("CLOSEDLOOP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("closedloop_bench_{}", std::process::id());
    let mut admin_conn =
        diesel::PgConnection::establish(&admin).expect("PostgreSQL for the benchmark");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);

    let result = std::panic::catch_unwind(|| run(&url, tickets, due));
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn run(url: &str, tickets: i64, due: i64) {
    let config = Config::load(None, vec![("DATABASE_URL".to_string(), url.to_string())]).unwrap();
    let pool = server::pool(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let settings = server::load_settings(&config, &mut conn).unwrap();
    closedloop::seed::run(&mut conn, std::path::Path::new("seeds"), false, &settings).unwrap();

    // The moment the burst is due: a working-day close of business in the past.
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap();
    let started = Instant::now();
    let sql = format!(
        "INSERT INTO tickets (id, number, state, channel, category, urgency, enterprise_name, credit_code,
             contact_name, contact_phone, subject, description, lead_department, reopen_count, version,
             created_by, created_at, updated_at, due_at, escalation_level)
         SELECT '00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 'BN-2026-' || lpad(g::text, 7, '0'),
             'handling', 'hotline', 'complaint', 'normal', '黄石某企业' || g, '91420204MA4B1C2D1D', '王建国',
             '13907141234', '诉求 ' || g, '描述', 'shijian', 0, 3, 'bench',
             TIMESTAMP '{at}' - INTERVAL '21 days', TIMESTAMP '{at}' - INTERVAL '20 days',
             CASE WHEN g <= {due} THEN TIMESTAMP '{at}' ELSE TIMESTAMP '{at}' + INTERVAL '30 days' END, 0
         FROM generate_series(1, {tickets}) g"
    );
    diesel::sql_query(sql).execute(pg(&mut conn)).unwrap();
    let sql = format!(
        "INSERT INTO timers (id, ticket_id, kind, started_at, due_at, warn_at, warned_at, level, next_fire_at,
             duration, extended_days, beyond_calendar)
         SELECT 'ffffffff-0000-7000-8000-' || lpad(to_hex(g), 12, '0'),
             '00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 'handle',
             TIMESTAMP '{at}' - INTERVAL '20 days', d, d - INTERVAL '1 day', d - INTERVAL '1 day', 0, d,
             '15wd', 0, false
         FROM (SELECT g, CASE WHEN g <= {due} THEN TIMESTAMP '{at}' ELSE TIMESTAMP '{at}' + INTERVAL '30 days' END AS d
               FROM generate_series(1, {tickets}) g) s"
    );
    diesel::sql_query(sql).execute(pg(&mut conn)).unwrap();
    // Measure the scheduler, not the aftermath of loading: vacuum, statistics and a checkpoint
    // now rather than during the burst.
    for statement in ["VACUUM ANALYZE", "CHECKPOINT"] {
        diesel::sql_query(statement).execute(pg(&mut conn)).unwrap();
    }
    println!(
        "loaded {tickets} open tickets with a running timer, {due} due at {at} UTC, in {:.1?}",
        started.elapsed()
    );

    println!("\nclaim query plan:");
    let plan = diesel::sql_query(format!("EXPLAIN {}", closedloop::store::CLAIM_DUE_SQL))
        .bind::<diesel::sql_types::Timestamp, _>(at + chrono::Duration::seconds(1))
        .bind::<diesel::sql_types::BigInt, _>(500i64);
    for line in plan.load::<Plan>(pg(&mut conn)).unwrap() {
        println!("  {}", line.line);
    }

    let now = at + chrono::Duration::seconds(1);
    // Several scheduler instances fire the burst side by side, as several processes would.
    let workers = env_or("BENCH_WORKERS", 1) as usize;
    let started = Instant::now();
    let rounds: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (pool, settings) = (pool.clone(), settings.clone());
                s.spawn(move || fire_due(&mut pool.get().unwrap(), &settings, now, 500).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let round = closedloop::app::scheduler::Round {
        tickets: rounds.iter().map(|r| r.tickets).sum(),
        steps: rounds.iter().map(|r| r.steps).sum(),
    };
    let events = count(&mut conn, "SELECT COUNT(*) AS n FROM ticket_events");
    let outbox = count(&mut conn, "SELECT COUNT(*) AS n FROM outbox");
    let supervised = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM tickets WHERE state = 'supervised'",
    );
    let left = count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM timers WHERE ended_at IS NULL AND next_fire_at <= TIMESTAMP '{now}'"
        ),
    );
    println!(
        "\n{workers} scheduler(s) fired {} steps on {} tickets in {:.2?}: {:.0} tickets/s, {:.0} steps/s",
        round.steps,
        round.tickets,
        elapsed,
        round.tickets as f64 / elapsed.as_secs_f64(),
        round.steps as f64 / elapsed.as_secs_f64()
    );
    println!(
        "wrote {events} events, {outbox} outbox rows; {supervised} tickets supervised; {left} due timers left"
    );
    assert_eq!(left, 0, "the whole backlog fires");
    assert_eq!(supervised, due);
}
