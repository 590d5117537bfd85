//! Many at once: racing actions with one winner, unique gapless numbers, writers waiting their turn,
//! idempotent retries, and a busy database answered with 503.

use crate::common::{Backend, TestApp, complaint, count, id};
use actix_web::http::StatusCode;
use closedloop::domain::ticket::Role;
use serde_json::json;

on_both_backends!(
    racing_actions_one_wins,
    concurrent_creates_get_unique_numbers,
    many_writers_wait_their_turn,
    idempotent_retries_make_one_ticket,
    a_busy_database_is_a_503,
);

async fn racing_actions_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..3 {
        let t = app.dispatched("shijian", &[], false).await;
        let sj = app.department("shijian");
        // The lead signs and returns at the same moment, twice over: exactly one change wins.
        let (a, b, c, d) = futures_util::join!(
            app.act(id(&t), "sign", &sj, json!({})),
            app.act(id(&t), "return", &sj, json!({"reason": "非本单位"})),
            app.act(id(&t), "sign", &sj, json!({})),
            app.act(id(&t), "return", &sj, json!({"reason": "非本单位"})),
        );
        let statuses: Vec<u16> = [&a, &b, &c, &d].iter().map(|r| r.status.as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|&s| s == 200 || s == 409 || s == 404),
            "{statuses:?}"
        );
        let events = app
            .get(
                &format!("/api/v1/tickets/{}/events", id(&t)),
                &app.operator(),
            )
            .await;
        assert_eq!(
            events.body["items"].as_array().unwrap().len(),
            3,
            "create, dispatch and one winner"
        );
    }
}

async fn concurrent_creates_get_unique_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let body = complaint();
    let requests = (0..24).map(|_| app.post("/api/v1/tickets", &op, &body));
    let replies = futures_util::future::join_all(requests).await;
    let mut numbers: Vec<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["number"].as_str().unwrap().to_string()
        })
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 24);
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y");
    let expected: Vec<String> = (1..=24).map(|n| format!("XL-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

/// 4,000 creates over 32 connections at once, with a busy timeout of two seconds: every write
/// waits its turn and none is refused as busy (with only SQLite's busy handler, which polls,
/// some writers lost every race for the lock until they gave up: 503s within five seconds), and
/// the numbers stay gapless. In line, a writer waits for at most 31 commits of about a
/// millisecond each, far inside the two seconds.
async fn many_writers_wait_their_turn(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__DATABASE__POOL_SIZE", "32"),
            ("CLOSEDLOOP__DATABASE__POOL_TIMEOUT", "30s"),
            ("CLOSEDLOOP__DATABASE__BUSY_TIMEOUT", "2s"),
        ],
    )
    .await;
    let op = app.operator();
    let body = complaint();
    let requests = (0..4000).map(|_| app.post("/api/v1/tickets", &op, &body));
    let replies = futures_util::future::join_all(requests).await;
    let mut serials: Vec<u32> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let number = r.body["number"].as_str().unwrap();
            number.rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect();
    serials.sort();
    assert_eq!(serials, (1..=4000).collect::<Vec<_>>());
}

async fn idempotent_retries_make_one_ticket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let body = complaint().to_string().into_bytes();
    let send = |key: &'static str, body: Vec<u8>| {
        let op = op.clone();
        let app = &app;
        async move {
            app.send(
                "POST",
                "/api/v1/tickets",
                Some(&op),
                &[("Idempotency-Key", key)],
                Some(body),
            )
            .await
        }
    };
    let replies =
        futures_util::future::join_all((0..10).map(|_| send("retry-1", body.clone()))).await;
    let first = &replies[0];
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body, first.body);
        assert_eq!(r.header("location"), first.header("location"));
    }
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.header("idempotency-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(count(&mut app.conn(), "tickets"), 1);

    // The same body with other whitespace and key order is the same request.
    let reordered: Vec<String> = complaint()
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| format!("\n  \"{k}\" :  {v}"))
        .collect();
    let reordered = format!("{{{}\n}}", reordered.join(","));
    assert!(
        reordered.find("\"subject\"") < reordered.find("\"channel\""),
        "{reordered}"
    );
    let again = send("retry-1", reordered.into_bytes()).await;
    assert_eq!(again.body["id"], first.body["id"]);

    // The same key with another body is refused; the first ticket stays as it was.
    let mut other = complaint();
    other["subject"] = json!("另一个诉求");
    send("retry-1", other.to_string().into_bytes())
        .await
        .problem(422, "idempotency_key_reused");
    // Another user's key space is their own.
    let other_op = app.token("op2", Role::Operator, None);
    let theirs = app
        .send(
            "POST",
            "/api/v1/tickets",
            Some(&other_op),
            &[("Idempotency-Key", "retry-1")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.body["id"], first.body["id"]);
    // Without a key, each request is a new ticket.
    app.post("/api/v1/tickets", &op, &complaint()).await.ok();
    assert_eq!(count(&mut app.conn(), "tickets"), 3);
    send("", body.clone())
        .await
        .problem(422, "validation_failed");
}

async fn a_busy_database_is_a_503(backend: Backend) {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__DATABASE__POOL_SIZE", "2"),
            ("CLOSEDLOOP__DATABASE__POOL_TIMEOUT", "1s"),
            ("CLOSEDLOOP__DATABASE__BUSY_TIMEOUT", "1s"),
        ],
    )
    .await;
    let op = app.operator();
    // Every connection taken: a request waits pool_timeout, then gets a quick 503.
    let held: Vec<_> = (0..2).map(|_| app.conn()).collect();
    let r = app.post("/api/v1/tickets", &op, &complaint()).await;
    r.problem(503, "unavailable");
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(held);
    app.post("/api/v1/tickets", &op, &complaint()).await.ok();

    if backend == Backend::Sqlite {
        // Another writer holds the SQLite write lock past busy_timeout: 503, and nothing written.
        let mut writer = app.conn();
        diesel::sql_query("BEGIN IMMEDIATE")
            .execute(&mut *writer)
            .unwrap();
        app.post("/api/v1/tickets", &op, &complaint())
            .await
            .problem(503, "unavailable");
        diesel::sql_query("ROLLBACK").execute(&mut *writer).unwrap();
        drop(writer);
        app.post("/api/v1/tickets", &op, &complaint()).await.ok();
        assert_eq!(count(&mut app.conn(), "tickets"), 2);
    }
}
