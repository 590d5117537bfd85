//! Running it like production, on SQLite and on PostgreSQL: metrics, request ids and security
//! headers, CORS, password guessing, JSON logs without personal data, a graceful stop.

use crate::common::{Backend, TestApp, TestDb};
use closedloop::domain::ticket::Role;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

on_both_backends!(
    metrics_are_prometheus_text,
    every_answer_has_a_request_id_and_security_headers,
    cors_is_off_unless_configured,
    password_guessing_is_throttled,
    a_body_that_does_not_arrive_in_time_is_a_408,
    a_stop_signal_ends_the_service_cleanly_and_logs_hold_no_personal_data,
);

/// The gauges are process-wide: one scrape at a time in this test binary.
static SCRAPE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The value of one sample line (`name{labels} value`) in Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

async fn metrics_are_prometheus_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &[], false).await;
    let id = t["id"].as_str().unwrap();
    app.get(&format!("/api/v1/tickets/{id}"), &app.operator())
        .await
        .ok();
    app.get("/api/v1/tickets/not-a-ticket", &app.operator())
        .await;
    let _guard = SCRAPE.lock().await;
    let r = app.send("GET", "/metrics", None, &[], None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.body.as_str().unwrap().to_string();
    let reads = sample(
        &text,
        r#"closedloop_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="200"}"#,
    );
    assert!(reads.is_some_and(|n| n >= 1.0), "{text}");
    assert!(
        sample(&text, r#"closedloop_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="404"}"#)
            .is_some_and(|n| n >= 1.0)
    );
    assert!(text.contains(r#"closedloop_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/tickets/{id}"}"#)
        || text.contains(r#"closedloop_http_request_duration_seconds_bucket{method="GET",route="/api/v1/tickets/{id}",le="0.005"}"#), "{text}");
    assert!(!text.contains("not-a-ticket"), "paths never become labels");
    assert_eq!(
        sample(&text, r#"closedloop_tickets{state="dispatched"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"closedloop_tickets{state="archived"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"closedloop_outbox_notifications{status="pending"}"#
        ),
        Some(1.0)
    );
    assert_eq!(sample(&text, "closedloop_database_up"), Some(1.0));
    assert_eq!(sample(&text, "closedloop_overdue_timers"), Some(0.0));
    assert!(sample(&text, "closedloop_db_pool_connections").is_some_and(|n| n >= 1.0));
}

async fn every_answer_has_a_request_id_and_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.operator();
    let given = app
        .send(
            "GET",
            "/api/v1/tickets",
            Some(&token),
            &[("X-Request-Id", "gateway-7f3a.1")],
            None,
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("gateway-7f3a.1"));
    let made = app
        .send("GET", "/api/v1/nowhere", Some(&token), &[], None)
        .await;
    made.problem(404, "not_found");
    let id = made.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let forged = app
        .send(
            "GET",
            "/healthz",
            None,
            &[("X-Request-Id", "<script>alert(1)</script>")],
            None,
        )
        .await;
    assert_ne!(
        forged.header("x-request-id"),
        Some("<script>alert(1)</script>")
    );
    // A method a path does not take is a problem too, not an empty answer.
    let wrong_method = app
        .send("DELETE", "/api/v1/tickets", Some(&token), &[], None)
        .await;
    wrong_method.problem(405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    for r in [&given, &made, &forged, &wrong_method] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(
            r.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
}

async fn cors_is_off_unless_configured(backend: Backend) {
    let preflight = [
        ("Origin", "https://hotline.example.gov.cn"),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization, content-type",
        ),
    ];
    let off = TestApp::spawn(backend).await;
    let r = off
        .send("OPTIONS", "/api/v1/tickets", None, &preflight, None)
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = off
        .send(
            "GET",
            "/healthz",
            None,
            &[("Origin", "https://hotline.example.gov.cn")],
            None,
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);

    let on = TestApp::spawn_with(
        backend,
        &[(
            "CLOSEDLOOP__HTTP__CORS_ORIGINS",
            r#"["https://hotline.example.gov.cn"]"#,
        )],
    )
    .await;
    let r = on
        .send("OPTIONS", "/api/v1/tickets", None, &preflight, None)
        .await;
    assert!(r.status.is_success(), "{}", r.status);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://hotline.example.gov.cn")
    );
    let other = on
        .send(
            "OPTIONS",
            "/api/v1/tickets",
            None,
            &[
                ("Origin", "https://evil.example.com"),
                ("Access-Control-Request-Method", "POST"),
            ],
            None,
        )
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

async fn password_guessing_is_throttled(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__AUTH__MAX_FAILURES", "3"),
            ("CLOSEDLOOP__AUTH__LOCKOUT", "2s"),
        ],
    )
    .await;
    for name in ["zhang", "li"] {
        closedloop::app::accounts::add_user(
            &mut app.conn(),
            &closedloop::app::accounts::NewUser {
                username: name.into(),
                role: Role::Operator,
                department: None,
                email: None,
            },
            Some("correct horse battery"),
        )
        .unwrap();
    }
    let sign_in = |name: &'static str, password: &'static str| {
        let body = json!({"username": name, "password": password}).to_string();
        app.send(
            "POST",
            "/api/v1/auth/token",
            None,
            &[],
            Some(body.into_bytes()),
        )
    };
    for _ in 0..3 {
        sign_in("zhang", "guess").await.problem(401, "unauthorized");
    }
    let locked = sign_in("zhang", "correct horse battery").await;
    locked.problem(429, "too_many_attempts");
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Another name from the same address is not held up by zhang's lock.
    sign_in("li", "correct horse battery").await.ok();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = sign_in("zhang", "correct horse battery").await;
    assert!(r.ok()["access_token"].is_string());
}

/// `closedloop serve` as a process: JSON logs, a request, SIGTERM.
async fn a_stop_signal_ends_the_service_cleanly_and_logs_hold_no_personal_data(backend: Backend) {
    let db = TestDb::new(backend);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mail = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_closedloop"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", &db.url)
        .env("CLOSEDLOOP__HTTP__ADDR", format!("127.0.0.1:{port}"))
        .env("CLOSEDLOOP__HTTP__SHUTDOWN_TIMEOUT", "5s")
        .env("CLOSEDLOOP__LOG__FORMAT", "json")
        .env("CLOSEDLOOP__MAIL__DIR", mail.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes are read to the end, so the service never blocks or breaks on them.
    let stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut all = String::new();
        std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut all).unwrap();
        all
    });
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The demo prints the operator's token before it listens.
            if let Some(t) = line.trim().strip_prefix("export OPERATOR_TOKEN=") {
                let _ = tx.send(t.to_string());
            }
        }
    });
    let token = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the demo prints tokens");
    let client = awc::Client::default();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the service did not come up");
    let res = client
        .post(format!("{base}/api/v1/tickets"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("X-Request-Id", "trace-0042"))
        .send_json(&crate::common::complaint())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    // A request in flight when the signal comes: its body is half sent.
    let body = crate::common::complaint().to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        tcp,
        "POST /api/v1/tickets HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    tcp.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // SIGTERM on one backend, SIGINT (Ctrl-C) on the other: both stop gracefully.
    let signal = match backend {
        Backend::Sqlite => "-TERM",
        Backend::Postgres => "-INT",
    };
    let stopped_at = Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // New connections are refused while the request in flight is finished.
    assert!(client.get(format!("{base}/healthz")).send().await.is_err());
    tcp.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = child.wait().unwrap();
    let logs = logs.join().unwrap();
    assert!(status.success(), "exit: {status:?}\n{logs}");
    assert!(
        stopped_at.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopped_at.elapsed()
    );

    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["route"] == "/api/v1/tickets")
        .unwrap_or_else(|| panic!("no request line: {logs}"));
    assert_eq!(request["span"]["request_id"], "trace-0042", "{request}");
    assert_eq!(request["status"], 201);
    let complaint = crate::common::complaint();
    for personal in [
        complaint["contact"]["phone"].as_str().unwrap(),
        complaint["enterprise"]["credit_code"].as_str().unwrap(),
        complaint["contact"]["name"].as_str().unwrap(),
        complaint["description"].as_str().unwrap(),
    ] {
        assert!(!logs.contains(personal), "{personal} in the logs:\n{logs}");
    }
}

async fn a_body_that_does_not_arrive_in_time_is_a_408(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CLOSEDLOOP__HTTP__REQUEST_TIMEOUT", "1s")]).await;
    let token = app.operator();
    let addr = app.base.trim_start_matches("http://").to_string();
    // The head and a fifth of the body, then nothing.
    let answer = std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            tcp,
            "POST /api/v1/tickets HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"channel\": \"hot"
        )
        .unwrap();
        tcp.flush().unwrap();
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        answer
    });
    let started = Instant::now();
    while !answer.is_finished() && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(answer.to_lowercase().contains("x-request-id:"), "{answer}");
    assert_eq!(crate::common::count(&mut app.conn(), "tickets"), 0);
}
