//! Deadlines end to end, on SQLite and on PostgreSQL: timers set by the lifecycle, the ladder fired
//! by the scheduler (with a clock the test chooses, and once in real time), the calendar API.

use crate::common::{Backend, TestApp, id};
use chrono::{Datelike, Duration, NaiveDateTime};
use serde_json::{Value, json};
use std::collections::BTreeMap;

on_both_backends!(
    timers_follow_the_lifecycle,
    the_ladder_climbs_by_itself_and_stops,
    a_deadline_passed_while_down_fires_after_restart,
    several_schedulers_fire_each_step_once,
    one_lease_holder_at_a_time,
    the_calendar_is_data,
    extensions_move_the_deadline,
    lists_find_overdue_tickets,
    escalation_in_real_time,
    a_bad_row_holds_up_no_other_deadline,
    a_notification_without_an_address_is_visible,
);

fn time(v: &Value) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time, got {v}")))
        .unwrap()
        .naive_utc()
}

fn running(timers: &BTreeMap<String, Value>) -> Vec<&str> {
    timers
        .iter()
        .filter(|(_, t)| t["running"] == true)
        .map(|(k, _)| k.as_str())
        .collect()
}

async fn timers_follow_the_lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sj) = (app.operator(), app.department("shijian"));
    let t = app.create(json!({})).await;
    let t_id = id(&t);
    // The hotline's dispatch clock and the 7-day procedural reply start at receipt.
    let timers = app.timers(t_id).await;
    assert_eq!(running(&timers), ["dispatch", "interim_reply"]);
    assert_eq!(timers["dispatch"]["duration"], "2wh");
    assert_eq!(t["due_at"], timers["dispatch"]["due_at"]);
    assert_eq!(
        (t["overdue"].clone(), t["escalation_level"].clone()),
        (json!(false), json!(0))
    );

    app.act(t_id, "dispatch", &op, json!({"department": "shijian"}))
        .await
        .ok();
    let timers = app.timers(t_id).await;
    assert_eq!(timers["dispatch"]["outcome"], "met");
    assert_eq!(running(&timers), ["interim_reply", "sign"]);

    app.act(t_id, "sign", &sj, json!({})).await.ok();
    app.act(t_id, "interim_reply", &sj, json!({"content": "已收到"}))
        .await
        .ok();
    let timers = app.timers(t_id).await;
    assert_eq!(running(&timers), ["handle"]);
    assert_eq!(timers["handle"]["duration"], "15wd");
    assert_eq!(timers["interim_reply"]["outcome"], "met");
    // 15 working days end at close of business (17:30 in Shanghai).
    assert!(
        timers["handle"]["due_at"]
            .as_str()
            .unwrap()
            .ends_with("T17:30:00.000+08:00")
    );

    app.act(t_id, "reply", &sj, json!({"content": "已办结"}))
        .await
        .ok();
    assert_eq!(running(&app.timers(t_id).await), ["feedback"]);
    let reopened = app
        .act(
            t_id,
            "feedback",
            &op,
            json!({"satisfaction": "dissatisfied"}),
        )
        .await;
    assert_eq!(reopened.ok()["state"], "handling");
    // 重办 starts a new handling clock.
    let all = app
        .get(&format!("/api/v1/tickets/{t_id}/timers"), &op)
        .await;
    let handles = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "handle")
        .count();
    assert_eq!(handles, 2);
    app.act(t_id, "withdraw", &op, json!({"reason": "企业撤回"}))
        .await
        .ok();
    // Archiving, however reached, ends every running timer.
    let timers = app.timers(t_id).await;
    assert!(running(&timers).is_empty());
    assert_eq!(timers["handle"]["outcome"], "cancelled");
    let archived = app.get(&format!("/api/v1/tickets/{t_id}"), &op).await;
    assert_eq!(archived.body["due_at"], Value::Null);
}

async fn the_ladder_climbs_by_itself_and_stops(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            (
                "CLOSEDLOOP__MAIL__SUPERVISORS",
                r#"["duban@example.gov.cn"]"#,
            ),
            (
                "CLOSEDLOOP__MAIL__LEADERSHIP",
                r#"["lingdao@example.gov.cn"]"#,
            ),
        ],
    )
    .await;
    // A department user with an email gets the department's mail too.
    let staff = closedloop::app::accounts::NewUser {
        username: "sj-li".into(),
        role: closedloop::domain::ticket::Role::Department,
        department: Some("shijian".into()),
        email: Some("li@shijian.example.gov.cn".into()),
    };
    closedloop::app::accounts::add_user(&mut app.conn(), &staff, None).unwrap();
    let t = app.dispatched("shijian", &["sifa"], true).await;
    let t_id = id(&t);
    let handle_due = time(&app.timers(t_id).await["handle"]["due_at"]);

    // Just before the warning nothing fires; at it, the warning does.
    let warn_at = time(&app.timers(t_id).await["handle"]["warn_at"]);
    app.fire_due(warn_at - Duration::seconds(1));
    assert_eq!(app.timers(t_id).await["handle"]["warned_at"], Value::Null);
    app.fire_due(warn_at);
    let handle = &app.timers(t_id).await["handle"];
    assert!(handle["warned_at"].is_string());
    assert_eq!(handle["level"], 0);

    // Far past the deadline: level 1, the automatic 督办, then levels 2 and 3 — each once.
    let round = app.fire_due(handle_due + Duration::days(30));
    assert!(round.steps >= 3, "{round:?}");
    let ticket = app
        .get(&format!("/api/v1/tickets/{t_id}"), &app.operator())
        .await;
    assert_eq!(ticket.body["state"], "supervised");
    assert_eq!(ticket.body["escalation_level"], 3);
    let handle = app.timers(t_id).await["handle"].clone();
    assert_eq!(
        (handle["level"].clone(), handle["next_fire_at"].clone()),
        (json!(3), Value::Null)
    );

    let events = app
        .get(
            &format!("/api/v1/tickets/{t_id}/events?limit=100"),
            &app.operator(),
        )
        .await;
    let ladder: Vec<(String, i64)> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["timer"] == "handle")
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ladder,
        [
            ("warn".into(), 0),
            ("escalate".into(), 1),
            ("escalate".into(), 2),
            ("escalate".into(), 3)
        ]
    );
    let supervise = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "supervise")
        .unwrap()
        .clone();
    assert_eq!(supervise["actor"]["kind"], "system");
    assert_eq!(
        (
            supervise["from_state"].clone(),
            supervise["to_state"].clone()
        ),
        (json!("handling"), json!("supervised"))
    );
    // The system's 督办 starts the supervision clock.
    assert_eq!(app.timers(t_id).await["supervision"]["running"], true);

    // Each step wrote its notification in the same transaction, to the right people.
    let mut conn = app.conn();
    let outbox = closedloop::store::outbox::for_ticket(&mut conn, t_id.parse().unwrap()).unwrap();
    let to = |template: &str, level: i64| -> Vec<Value> {
        outbox
            .iter()
            .filter(|n| {
                n.template == template
                    && serde_json::from_str::<Value>(&n.data).unwrap()["level"] == level
            })
            .map(|n| serde_json::from_str(&n.recipients).unwrap())
            .collect()
    };
    // Named by role, resolved to addresses when written.
    let level1 = to("escalation", 1)[0].clone();
    assert_eq!(
        level1["roles"],
        json!([{"kind": "department", "department": "shijian"}, {"kind": "department_head", "department": "shijian"}])
    );
    assert_eq!(
        level1["to"],
        json!([
            "li@shijian.example.gov.cn",
            "shijian.head@example.gov.cn",
            "shijian@example.gov.cn"
        ])
    );
    assert!(
        to("escalation", 2)
            .iter()
            .any(|r| r["to"] == json!(["duban@example.gov.cn"]))
    );
    assert!(
        to("escalation", 3)
            .iter()
            .any(|r| r["to"] == json!(["lingdao@example.gov.cn"]))
    );
    assert!(
        outbox.iter().all(|n| n.status == "pending"),
        "every notification has an address"
    );
    let co = outbox.iter().find(|n| n.template == "co_dispatch").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&co.recipients).unwrap()["to"],
        json!(["sifa@example.gov.cn"])
    );
    // A department's new address does not reroute mail already written.
    {
        use closedloop::store::schema::departments;
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        diesel::update(departments::table.filter(departments::code.eq("shijian")))
            .set(departments::email.eq("new@example.gov.cn"))
            .execute(&mut *conn)
            .unwrap();
    }
    let again = closedloop::store::outbox::for_ticket(&mut conn, t_id.parse().unwrap()).unwrap();
    assert_eq!(
        again
            .iter()
            .map(|n| n.recipients.clone())
            .collect::<Vec<_>>(),
        outbox
            .iter()
            .map(|n| n.recipients.clone())
            .collect::<Vec<_>>()
    );
    assert!(outbox.iter().any(|n| n.template == "supervised"));
    assert!(outbox.iter().any(|n| n.template == "dispatch"));
    assert!(outbox.iter().any(|n| n.template == "co_dispatch"));
    drop(conn);

    // One event per change: the version counts the events.
    let version = app
        .get(&format!("/api/v1/tickets/{t_id}"), &app.operator())
        .await
        .body["version"]
        .clone();
    assert_eq!(
        version.as_i64().unwrap() as usize,
        app.actions(t_id).await.len()
    );

    // The handle ladder is at its top: however much later, it fires nothing more.
    let before = handle_steps(&app, t_id).await;
    app.fire_due(handle_due + Duration::days(90));
    assert_eq!(handle_steps(&app, t_id).await, before);
    assert_eq!(app.timers(t_id).await["handle"]["level"], 3);
}

/// How many warnings and escalations of its `handle` timer the ticket's timeline holds.
async fn handle_steps(app: &TestApp, t_id: &str) -> usize {
    let events = app
        .get(
            &format!("/api/v1/tickets/{t_id}/events?limit=100"),
            &app.operator(),
        )
        .await;
    events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["timer"] == "handle")
        .count()
}

async fn a_deadline_passed_while_down_fires_after_restart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &[], false).await;
    let t_id = id(&t);
    let sign_due = time(&app.timers(t_id).await["sign"]["due_at"]);
    app.stop().await;
    // A new process on the same database, started after the deadline, fires what is due.
    let config = app.config.clone();
    let pool = closedloop::server::pool(&config).unwrap();
    let settings = closedloop::server::load_settings(&config, &mut pool.get().unwrap()).unwrap();
    let round = closedloop::app::scheduler::fire_due(
        &mut pool.get().unwrap(),
        &settings,
        sign_due + Duration::hours(1),
        100,
    )
    .unwrap();
    assert!(round.steps >= 2, "warning and level 1: {round:?}");
    let timer = closedloop::store::timers::running(&mut pool.get().unwrap(), t_id.parse().unwrap())
        .unwrap()
        .into_iter()
        .find(|t| t.kind == closedloop::domain::sla::TimerKind::Sign)
        .unwrap();
    assert_eq!(timer.level, 1);
    assert!(timer.warned_at.is_some());
}

async fn several_schedulers_fire_each_step_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = vec![];
    for _ in 0..12 {
        ids.push(id(&app.dispatched("shijian", &[], false).await).to_string());
    }
    let far = closedloop::store::now() + Duration::days(120);
    // Three instances fire the same backlog at once.
    let rounds: Vec<usize> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let pool = app.state.pool.clone();
                let settings = app.state.settings.clone();
                s.spawn(move || {
                    closedloop::app::scheduler::fire_due(
                        &mut pool.get().unwrap(),
                        &settings,
                        far,
                        5,
                    )
                    .unwrap()
                    .steps
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Per ticket: sign and interim_reply each warn once and climb three levels.
    assert_eq!(rounds.iter().sum::<usize>(), 12 * 8, "{rounds:?}");
    for t in &ids {
        let actions = app.actions(t).await;
        assert_eq!(
            actions.iter().filter(|a| *a == "warn").count(),
            2,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "escalate").count(),
            6,
            "{actions:?}"
        );
    }
    assert_eq!(app.fire_due(far).steps, 0);
}

async fn one_lease_holder_at_a_time(backend: Backend) {
    use closedloop::store::leases;
    let app = TestApp::spawn(backend).await;
    let mut conn = app.conn();
    let now = closedloop::store::now();
    let until = now + Duration::seconds(15);
    assert!(leases::take(&mut conn, "scheduler", "a", now, until).unwrap());
    assert!(
        !leases::take(&mut conn, "scheduler", "b", now, until).unwrap(),
        "b must stay idle"
    );
    assert!(
        leases::take(&mut conn, "scheduler", "a", now, until).unwrap(),
        "a renews"
    );
    // A holder that stops renewing loses the lease when it runs out.
    assert!(
        leases::take(
            &mut conn,
            "scheduler",
            "b",
            until + Duration::seconds(1),
            until + Duration::seconds(16)
        )
        .unwrap()
    );
    leases::release(&mut conn, "scheduler", "b").unwrap();
    assert!(leases::take(&mut conn, "scheduler", "c", now, until).unwrap());
}

async fn the_calendar_is_data(backend: Backend) {
    // A handling period long enough to reach into 2027.
    let app = TestApp::spawn_with(backend, &[("CLOSEDLOOP__SLA__DEFAULT__HANDLE", "40wd")]).await;
    let (op, admin) = (app.operator(), app.admin());
    let y2026 = app.get("/api/v1/calendar/2026", &op).await;
    assert_eq!(y2026.ok()["known"], true);
    assert!(
        y2026.body["off"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-10-01"))
    );
    assert!(
        y2026.body["work"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-02-14"))
    );
    assert_eq!(
        app.get("/api/v1/calendar/2027", &op).await.body["known"],
        false
    );

    // Worked examples of the reference, through the API (+ written %2B).
    let deadline = |from: &str, d: &str| {
        let path = format!(
            "/api/v1/calendar/deadline?from={}&duration={d}",
            from.replace('+', "%2B")
        );
        let app = &app;
        let op = op.clone();
        async move { app.get(&path, &op).await }
    };
    let r = deadline("2024-09-27T10:00:00+08:00", "3wd").await;
    assert_eq!(r.ok()["due_at"], "2024-10-08T17:30:00.000+08:00");
    assert_eq!(r.body["beyond_calendar"], false);
    assert_eq!(
        deadline("2024-02-08T16:00:00+08:00", "3wd").await.body["due_at"],
        "2024-02-19T17:30:00.000+08:00"
    );
    // Beyond the known years: Monday to Friday, flagged.
    let before = deadline("2026-12-30T10:00:00+08:00", "3wd").await;
    assert_eq!(
        (
            before.body["due_at"].clone(),
            before.body["beyond_calendar"].clone()
        ),
        (json!("2027-01-04T17:30:00.000+08:00"), json!(true))
    );
    deadline("2026-12-30T10:00:00+08:00", "3weeks")
        .await
        .problem(422, "validation_failed");
    deadline("yesterday", "3wd")
        .await
        .problem(422, "validation_failed");

    let t = app.dispatched("shijian", &[], true).await;
    let t_id = id(&t);
    let due_before = app.timers(t_id).await["handle"]["due_at"].clone();
    // The year that deadline falls in: past the built-in calendar, so counted Monday to Friday.
    let due_year: i32 = due_before.as_str().unwrap()[..4].parse().unwrap();
    assert!(due_year >= 2027, "{due_before}");

    // Readiness says how far the calendar reaches, and warns when that is under 60 days ahead.
    let horizon = (closedloop::store::now() + Duration::days(60)).date();
    let ready = app.send("GET", "/readyz", None, &[], None).await;
    assert_eq!(
        (ready.ok()["status"].clone(), ready.body["database"].clone()),
        (json!("ready"), json!("ok"))
    );
    assert_eq!(ready.body["calendar_known_until"], "2026-12-31");
    let short = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap() < horizon;
    assert_eq!(
        ready.body["warnings"].as_array().unwrap().is_empty(),
        !short,
        "{}",
        ready.body
    );

    let year = json!({"off": ["2027-01-01", "2027-01-25", "2027-01-26"], "work": ["2027-01-31"]});
    app.send(
        "PUT",
        "/api/v1/calendar/2027",
        Some(&op),
        &[],
        Some(year.to_string().into_bytes()),
    )
    .await
    .problem(403, "forbidden");
    let bad = json!({"off": ["2027-13-01", "2026-05-01"], "work": []});
    let r = app
        .send(
            "PUT",
            "/api/v1/calendar/2027",
            Some(&admin),
            &[],
            Some(bad.to_string().into_bytes()),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["off[0]", "off[1]"]);
    let put = app
        .send(
            "PUT",
            "/api/v1/calendar/2027",
            Some(&admin),
            &[],
            Some(year.to_string().into_bytes()),
        )
        .await;
    assert_eq!(put.ok()["known"], true);

    let ready = app.send("GET", "/readyz", None, &[], None).await;
    assert_eq!(ready.body["calendar_known_until"], "2027-12-31");
    let short = chrono::NaiveDate::from_ymd_opt(2027, 12, 31).unwrap() < horizon;
    assert_eq!(
        ready.body["warnings"].as_array().unwrap().is_empty(),
        !short,
        "{}",
        ready.body
    );

    let after = deadline("2026-12-30T10:00:00+08:00", "3wd").await;
    assert_eq!(
        (
            after.body["due_at"].clone(),
            after.body["beyond_calendar"].clone()
        ),
        (json!("2027-01-05T17:30:00.000+08:00"), json!(false))
    );
    // Loading the year a running deadline falls in counts it again: with working days before it
    // made days off, it ends later.
    let due_date =
        chrono::NaiveDate::parse_from_str(&due_before.as_str().unwrap()[..10], "%Y-%m-%d").unwrap();
    let mut off: Vec<String> = (1..=10)
        .filter_map(|back| due_date.checked_sub_days(chrono::Days::new(back)))
        .filter(|d| d.year() == due_year && d.weekday().number_from_monday() <= 5)
        .map(|d| d.to_string())
        .collect();
    if due_year == 2027 {
        off.extend([
            "2027-01-01".to_string(),
            "2027-01-25".to_string(),
            "2027-01-26".to_string(),
        ]);
        off.sort();
        off.dedup();
    }
    let year = json!({ "off": off, "work": [] });
    let path = format!("/api/v1/calendar/{due_year}");
    let put = app
        .send(
            "PUT",
            &path,
            Some(&admin),
            &[],
            Some(year.to_string().into_bytes()),
        )
        .await;
    assert!(
        put.ok()["recounted_timers"].as_u64().unwrap() >= 1,
        "{}",
        put.body
    );
    let due_after = app.timers(t_id).await["handle"]["due_at"].clone();
    assert!(
        time(&due_after) > time(&due_before),
        "{due_before} → {due_after}"
    );
    // The ticket shows the nearest deadline of its running timers.
    let ticket = app.get(&format!("/api/v1/tickets/{t_id}"), &op).await;
    let timers = app.timers(t_id).await;
    let nearest = timers
        .values()
        .filter(|t| t["running"] == true)
        .map(|t| time(&t["due_at"]))
        .min();
    assert_eq!(Some(time(&ticket.body["due_at"])), nearest);
}

async fn extensions_move_the_deadline(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CLOSEDLOOP__SLA__DEFAULT__HANDLE", "40wd")]).await;
    let t = app.dispatched("shijian", &[], true).await;
    let t_id = id(&t);
    let sj = app.department("shijian");
    let due = time(&app.timers(t_id).await["handle"]["due_at"]);
    app.act(
        t_id,
        "request_extension",
        &sj,
        json!({"working_days": 5, "reason": "需现场核查"}),
    )
    .await
    .ok();
    app.act(
        t_id,
        "decide_extension",
        &app.supervisor(),
        json!({"approve": true}),
    )
    .await
    .ok();
    let handle = app.timers(t_id).await["handle"].clone();
    assert_eq!(handle["extended_days"], 5);
    let moved = time(&handle["due_at"]);
    assert!(
        moved - due >= Duration::days(5) && moved - due <= Duration::days(14),
        "{due} → {moved}"
    );

    // Too close to the deadline to ask: 409.
    let late = TestApp::spawn_with(backend, &[("CLOSEDLOOP__SLA__DEFAULT__HANDLE", "2h")]).await;
    let t = late.dispatched("shijian", &[], true).await;
    let r = late
        .act(
            id(&t),
            "request_extension",
            &late.department("shijian"),
            json!({"working_days": 2, "reason": "来不及"}),
        )
        .await;
    r.problem(409, "invalid_state");
    assert!(
        r.body["detail"].as_str().unwrap().contains("1wd"),
        "{}",
        r.body
    );
}

async fn lists_find_overdue_tickets(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CLOSEDLOOP__SLA__DEFAULT__SIGN", "1s")]).await;
    let late = app.dispatched("shijian", &[], false).await;
    let on_time = app.create(json!({})).await;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let op = app.operator();
    let ids = |r: &crate::common::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| id(t).to_string())
            .collect()
    };
    let overdue = app.get("/api/v1/tickets?overdue=true", &op).await;
    assert_eq!(ids(&overdue), [id(&late)]);
    assert_eq!(overdue.body["items"][0]["overdue"], true);
    assert_eq!(
        ids(&app.get("/api/v1/tickets?overdue=false", &op).await),
        [id(&on_time)]
    );
    let soon = app.get("/api/v1/tickets?due_before=2099-01-01", &op).await;
    assert_eq!(ids(&soon).len(), 2);
    app.get("/api/v1/tickets?overdue=maybe", &op)
        .await
        .problem(422, "validation_failed");
}

async fn escalation_in_real_time(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__SLA__DEFAULT__HANDLE", "2s"),
            ("CLOSEDLOOP__SLA__DEFAULT__WARN_BEFORE", "1s"),
            ("CLOSEDLOOP__ESCALATION__STEPS", r#"["0s", "1s", "2s"]"#),
        ],
    )
    .await;
    let t = app.dispatched("shijian", &[], true).await;
    let t_id = id(&t);
    let scheduler = app.start_scheduler(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    let mut ticket = Value::Null;
    while started.elapsed() < std::time::Duration::from_secs(20) {
        ticket = app
            .get(&format!("/api/v1/tickets/{t_id}"), &app.operator())
            .await
            .body;
        if ticket["escalation_level"] == 3 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    scheduler.stop();
    assert_eq!(ticket["state"], "supervised", "{ticket}");
    assert_eq!(ticket["escalation_level"], 3, "{ticket}");
    let actions = app.actions(t_id).await;
    let escalations = actions.iter().filter(|a| *a == "escalate").count();
    assert!(escalations >= 3, "{actions:?}");
}

async fn a_bad_row_holds_up_no_other_deadline(backend: Backend) {
    use closedloop::store::schema::timers;
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    let app = TestApp::spawn(backend).await;
    let broken = id(&app.dispatched("shijian", &[], false).await).to_string();
    let fine = id(&app.dispatched("sifa", &[], false).await).to_string();
    // A row the code cannot read back (a hand edit, say) on the first ticket.
    diesel::update(
        timers::table
            .filter(timers::ticket_id.eq(&broken))
            .filter(timers::kind.eq("sign")),
    )
    .set(timers::kind.eq("bogus"))
    .execute(&mut *app.conn())
    .unwrap();
    let far = closedloop::store::now() + Duration::days(60);
    let round = app.fire_due(far);
    assert!(
        round.steps >= 8,
        "the other ticket's timers fire: {round:?}"
    );
    assert!(app.actions(&fine).await.iter().any(|a| a == "escalate"));
    assert!(!app.actions(&broken).await.iter().any(|a| a == "escalate"));
    // Later rounds go on answering, and the readable ticket is not fired twice.
    let again = app.fire_due(far);
    assert_eq!(again.steps, 0);
}

async fn a_notification_without_an_address_is_visible(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &[], false).await;
    // Returned to a hotline desk that has no address configured and no operator with an email.
    app.act(
        id(&t),
        "return",
        &app.department("shijian"),
        json!({"reason": "非本单位职责"}),
    )
    .await
    .ok();
    let outbox =
        closedloop::store::outbox::for_ticket(&mut app.conn(), id(&t).parse().unwrap()).unwrap();
    let returned = outbox.iter().find(|n| n.template == "returned").unwrap();
    assert_eq!(returned.status, "failed");
    assert_eq!(
        returned.last_error.as_deref(),
        Some("no address for any recipient")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&returned.recipients).unwrap()["roles"],
        json!([{"kind": "desk"}])
    );
}
