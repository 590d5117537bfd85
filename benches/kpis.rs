//! The KPI reports over a year of cases: a fresh database (SQLite or PostgreSQL) holding
//! 1,000,000 tickets logged over twelve months, each with its timeline (create, dispatch —
//! some returned and dispatched again —, sign, reply, callback, archive; the last weeks' still
//! open) and its timers, and the KPI counts made from those timelines as `closedloop kpi
//! rebuild` makes them. Then times a year's and a month's `kpis` by department (and by
//! category), as the API answers them. Prints numbers; asserts nothing about time.
//!
//!     cargo bench --bench kpis -- --bench [--backend sqlite|postgres] [--tickets N] [--runs N]
//!     (PostgreSQL: CLOSEDLOOP_TEST_POSTGRES names the server; a database is made and dropped)

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use closedloop::app::reports::{self, Period, rollup};
use closedloop::config::Config;
use closedloop::domain::figures::GroupBy;
use closedloop::domain::sla::TimerKind;
use closedloop::domain::ticket::{
    Actor, Category, Channel, Contact, Enterprise, Outcome, Role, State, Ticket, TicketId, Urgency,
};
use closedloop::domain::timer::{Timer, TimerOutcome};
use closedloop::domain::{CreditCode, DepartmentCode, Phone, kpi};
use closedloop::server;
use closedloop::store::DbConn;
use closedloop::store::rows::{EventRow, TicketRow, TimerRow};
use closedloop::store::schema::{ticket_events, tickets, timers};
use diesel::RunQueryDsl;
use serde_json::json;
use std::time::Instant;

mod support;
use support::arg;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("the KPI benchmark runs with `cargo bench --bench kpis -- --bench`");
        return;
    }
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let tickets: usize = arg("--tickets")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = arg("--runs").and_then(|n| n.parse().ok()).unwrap_or(5);
    support::with_database("kpis", &backend, |url| run(&backend, url, tickets, runs));
}

/// Local time of day `d` of the year, at `h:m`, as UTC.
fn local(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .naive_utc()
}

fn timer(
    kind: TimerKind,
    start: NaiveDateTime,
    due: NaiveDateTime,
    end: Option<NaiveDateTime>,
    dept: Option<&DepartmentCode>,
) -> Timer {
    Timer {
        id: uuid::Uuid::now_v7(),
        kind,
        started_at: start,
        due_at: due,
        warn_at: start,
        warned_at: None,
        level: 0,
        next_fire_at: if end.is_none() { Some(due) } else { None },
        last_fired_at: None,
        ended_at: end,
        outcome: end.map(|e| {
            if e <= due {
                TimerOutcome::Met
            } else {
                TimerOutcome::Late
            }
        }),
        duration: None,
        extended_days: 0,
        beyond_calendar: false,
        department: dept.cloned(),
    }
}

/// One generated case: its ticket as it ends up, its timeline and its timers.
fn case(
    i: usize,
    n: usize,
    first: NaiveDate,
    departments: &[DepartmentCode],
) -> (Ticket, Vec<EventRow>, Vec<Timer>) {
    let day = first + Duration::days((i * 365 / n) as i64);
    let created = local(day, 9, (i % 50) as u32);
    let category = Category::ALL[[2, 2, 2, 0, 1, 4, 3][i % 7]];
    let channel = Channel::ALL[[0, 0, 0, 1, 2, 0, 3, 4][i % 8]];
    let lead = &departments[(i * 7) % departments.len()];
    let other = &departments[(i * 7 + 3) % departments.len()];
    let mut t = Ticket {
        id: TicketId::new(),
        number: format!("KB-{i:07}"),
        state: State::Accepted,
        outcome: None,
        channel,
        category,
        urgency: Urgency::Normal,
        enterprise: Enterprise {
            name: format!("黄石某企业{}", i % 20_000),
            credit_code: CreditCode::from_stored("91420204MA4B1C2D1D".into()),
        },
        contact: Contact {
            name: "王建国".into(),
            phone: Phone::from_stored("13907141234".into()),
        },
        subject: format!("诉求 {i}"),
        description: "描述".into(),
        lead_department: None,
        co_departments: vec![],
        pending_extension: None,
        merged_into: None,
        reopen_count: 0,
        version: 0,
        created_by: "bench".into(),
        created_at: created,
        updated_at: created,
        due_at: None,
        escalation_level: 0,
        duplicate_of: None,
        first_department: None,
        replied_at: None,
        replied_by: None,
    };
    let op = Actor::user("operator", Role::Operator, None);
    let mut events = vec![];
    let mut push = |t: &mut Ticket,
                    action: &str,
                    actor: &Actor,
                    to: State,
                    payload: serde_json::Value,
                    at: NaiveDateTime| {
        t.version += 1;
        let from = (t.version > 1).then_some(t.state);
        t.state = to;
        t.updated_at = at;
        events.push(EventRow::new(
            t,
            &closedloop::domain::lifecycle::Event {
                action: action.into(),
                actor: actor.clone(),
                from_state: from,
                to_state: to,
                level: None,
                payload,
                at,
            },
        ));
    };
    push(&mut t, "create", &op, State::Accepted, json!({}), created);
    let mut timers = vec![];
    let dispatched = created + Duration::minutes(30);
    timers.push(timer(
        TimerKind::Dispatch,
        created,
        created + Duration::hours(2),
        Some(dispatched),
        None,
    ));
    let interim_due = local(day + Duration::days(7), 23, 59);
    // One in twenty is returned and dispatched to another department.
    let (lead, signed_from) = if i.is_multiple_of(20) {
        push(
            &mut t,
            "dispatch",
            &op,
            State::Dispatched,
            json!({"department": other}),
            dispatched,
        );
        let back = dispatched + Duration::hours(1);
        timers.push(timer(
            TimerKind::Sign,
            dispatched,
            dispatched + Duration::days(1),
            Some(back),
            Some(other),
        ));
        let dept = Actor::user("staff", Role::Department, Some(other));
        push(
            &mut t,
            "return",
            &dept,
            State::Accepted,
            json!({"reason": "不属于本单位"}),
            back,
        );
        let again = back + Duration::minutes(30);
        timers.push(timer(
            TimerKind::Dispatch,
            back,
            back + Duration::hours(2),
            Some(again),
            None,
        ));
        push(
            &mut t,
            "dispatch",
            &op,
            State::Dispatched,
            json!({"department": lead}),
            again,
        );
        (lead, again)
    } else {
        push(
            &mut t,
            "dispatch",
            &op,
            State::Dispatched,
            json!({"department": lead}),
            dispatched,
        );
        (lead, dispatched)
    };
    t.lead_department = Some(lead.clone());
    t.first_department = Some(if i.is_multiple_of(20) {
        other.clone()
    } else {
        lead.clone()
    });
    let staff = Actor::user("staff", Role::Department, Some(lead));
    // One in ten signs late.
    let signed = signed_from
        + if i % 10 == 1 {
            Duration::days(2)
        } else {
            Duration::hours(1)
        };
    timers.push(timer(
        TimerKind::Sign,
        signed_from,
        signed_from + Duration::days(1),
        Some(signed),
        Some(lead),
    ));
    push(&mut t, "sign", &staff, State::Handling, json!({}), signed);
    let handle_due = signed + Duration::days(21);
    // The last three weeks' cases are still being handled.
    let open = i * 365 / n > 344;
    if open {
        timers.push(timer(
            TimerKind::Handle,
            signed,
            handle_due,
            None,
            Some(lead),
        ));
        timers.push(timer(
            TimerKind::InterimReply,
            created,
            interim_due,
            None,
            Some(lead),
        ));
        return (t, events, timers);
    }
    // One in eight answers after the deadline.
    let replied = signed
        + if i % 8 == 3 {
            Duration::days(25)
        } else {
            Duration::days((i % 12) as i64 + 1)
        };
    timers.push(timer(
        TimerKind::Handle,
        signed,
        handle_due,
        Some(replied),
        Some(lead),
    ));
    timers.push(timer(
        TimerKind::InterimReply,
        created,
        interim_due,
        Some(replied),
        Some(lead),
    ));
    push(
        &mut t,
        "reply",
        &staff,
        State::Replied,
        json!({"content": "已办理"}),
        replied,
    );
    t.replied_at = Some(replied);
    t.replied_by = Some(lead.clone());
    let called = replied + Duration::days(1);
    timers.push(timer(
        TimerKind::Feedback,
        replied,
        replied + Duration::days(3),
        Some(called),
        None,
    ));
    let rating = [
        "satisfied",
        "satisfied",
        "satisfied",
        "basically_satisfied",
        "satisfied",
        "dissatisfied",
    ][i % 6];
    let to = if rating == "dissatisfied" {
        State::Handling
    } else {
        State::Feedback
    };
    push(
        &mut t,
        "feedback",
        &op,
        to,
        json!({"satisfaction": rating}),
        called,
    );
    if to == State::Handling {
        t.reopen_count = 1;
        timers.push(timer(
            TimerKind::Handle,
            called,
            called + Duration::days(21),
            Some(called + Duration::days(3)),
            Some(lead),
        ));
        push(
            &mut t,
            "reply",
            &staff,
            State::Replied,
            json!({"content": "已重新办理"}),
            called + Duration::days(3),
        );
        timers.push(timer(
            TimerKind::Feedback,
            called + Duration::days(3),
            called + Duration::days(6),
            Some(called + Duration::days(4)),
            None,
        ));
        push(
            &mut t,
            "feedback",
            &op,
            State::Feedback,
            json!({"satisfaction": "satisfied"}),
            called + Duration::days(4),
        );
    }
    let archived = t.updated_at + Duration::minutes(10);
    push(&mut t, "archive", &op, State::Archived, json!({}), archived);
    t.outcome = Some(Outcome::Resolved);
    (t, events, timers)
}

/// Inserts `rows` into `table`, `each` rows a statement, on either backend.
macro_rules! insert {
    ($conn:expr, $table:path, $rows:expr, $each:expr) => {
        for chunk in $rows.chunks($each) {
            match &mut *$conn {
                DbConn::Postgres(pg) => diesel::insert_into($table).values(chunk).execute(pg),
                DbConn::Sqlite(lite) => diesel::insert_into($table).values(chunk).execute(lite),
            }
            .unwrap();
        }
    };
}

fn run(backend: &str, url: &str, n: usize, runs: usize) {
    let config = Config::load(None, vec![("DATABASE_URL".to_string(), url.to_string())]).unwrap();
    let pool = server::pool(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let settings = server::load_settings(&config, &mut conn).unwrap();
    closedloop::seed::run(&mut conn, std::path::Path::new("seeds"), false, &settings).unwrap();
    let departments: Vec<DepartmentCode> = settings
        .department_names
        .get(&mut conn)
        .unwrap()
        .keys()
        .map(|c| DepartmentCode::parse(c).unwrap())
        .collect();
    let first = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();

    let started = Instant::now();
    let calendar = settings.calendars.current();
    let mut counts = kpi::Deltas::new();
    let (mut n_events, mut n_timers) = (0, 0);
    for batch in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut ticket_rows = vec![];
        let mut event_rows = vec![];
        let mut timer_rows = vec![];
        for &i in batch {
            let (t, events, ts) = case(i, n, first, &departments);
            // What the service keeps of it: the counts its timeline makes.
            let timeline: Vec<_> = events
                .iter()
                .map(|e| e.clone().into_event().unwrap().2)
                .collect();
            let (c, _) = kpi::from_timeline(&t, &timeline, &ts, &calendar);
            kpi::merge(&mut counts, &c);
            ticket_rows.push(TicketRow::from_ticket(&t));
            timer_rows.extend(ts.iter().map(|x| TimerRow::new(t.id, x)));
            event_rows.extend(events);
        }
        n_events += event_rows.len();
        n_timers += timer_rows.len();
        closedloop::store::conn::write(&mut conn, |c| -> Result<(), diesel::result::Error> {
            insert!(c, tickets::table, ticket_rows, 1000);
            insert!(c, ticket_events::table, event_rows, 2000);
            insert!(c, timers::table, timer_rows, 2000);
            Ok(())
        })
        .unwrap();
    }
    closedloop::store::conn::write(
        &mut conn,
        |c| -> Result<(), closedloop::store::StoreError> {
            closedloop::store::kpi::replace(c, &counts)?;
            closedloop::store::kpi::mark_rebuilt(c, closedloop::store::now())
        },
    )
    .unwrap();
    let analyze = if backend == "postgres" {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    };
    diesel::sql_query(analyze).execute(&mut *conn).unwrap();
    println!(
        "{backend}: {n} tickets, {n_events} events, {n_timers} timers, {} count rows, loaded in {:.1?}",
        counts.len(),
        started.elapsed()
    );
    if std::env::var("BENCH_REBUILD").is_ok_and(|v| v == "1") {
        let started = Instant::now();
        let done = rollup::rebuild(&mut conn, &settings, closedloop::store::now()).unwrap();
        println!(
            "{backend}: closedloop kpi rebuild over {} tickets: {:.1?} ({} count rows)",
            done.tickets,
            started.elapsed(),
            done.keys
        );
    }

    let now = local(NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(), 10, 0);
    let year = Period {
        from: first,
        to: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    };
    let month = Period {
        from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        to: year.to,
    };
    for (label, period, by) in [
        ("a year by department", year, GroupBy::Department),
        ("a year by category", year, GroupBy::Category),
        ("a month by department", month, GroupBy::Department),
    ] {
        let mut times = vec![];
        let mut received = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let r = reports::kpis(&mut conn, &settings, &Actor::System, period, by, now).unwrap();
            times.push(started.elapsed());
            received = r.total.sums.tally.get(kpi::Counter::Received);
        }
        times.sort();
        println!(
            "{backend}: kpis {label}: p50 {:.0?}, max {:.0?} over {runs} runs ({received} cases received)",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
