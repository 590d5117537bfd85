//! The API contract for what comes in: bad input is a problem (never a 500), tokens, the order of the
//! checks, which role meets which endpoint, and signing in.

use crate::common::{Backend, TestApp, complaint, count, id};
use closedloop::domain::ticket::Role;
use serde_json::{Value, json};

on_both_backends!(
    bad_input_gets_a_problem_never_a_500,
    tokens_are_checked,
    checks_come_in_the_contract_order,
    roles_meet_endpoints,
    a_password_buys_a_token,
);

async fn bad_input_gets_a_problem_never_a_500(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let post_raw = |body: &'static [u8]| {
        app.send(
            "POST",
            "/api/v1/tickets",
            Some(&op),
            &[],
            Some(body.to_vec()),
        )
    };

    post_raw(b"{\"channel\": ")
        .await
        .problem(400, "malformed_json");
    post_raw(b"not json").await.problem(400, "malformed_json");
    post_raw(b"").await.problem(400, "malformed_json");
    post_raw(b"[]").await.problem(422, "validation_failed");

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"enterprise": {"name": "某公司", "credit_code": "91420204MA4B1C2D1X"}}),
            vec!["enterprise.credit_code"],
        ),
        (
            json!({"enterprise": {"name": "某公司", "credit_code": "12345"}}),
            vec!["enterprise.credit_code"],
        ),
        (
            json!({"contact": {"name": "王", "phone": "1234567"}}),
            vec!["contact.phone"],
        ),
        (json!({"channel": "telegram"}), vec!["channel"]),
        (json!({"category": 3}), vec!["category"]),
        (json!({"subject": ""}), vec!["subject"]),
        (json!({"subject": "x".repeat(201)}), vec!["subject"]),
        (json!({"priority": "high"}), vec!["priority"]),
        (json!({"enterprise": "某公司"}), vec!["enterprise"]),
    ];
    for (overrides, fields) in cases {
        let mut body = complaint();
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/tickets", &op, &body).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), fields, "{overrides}: {}", r.body);
    }
    let mut missing = complaint();
    missing.as_object_mut().unwrap().remove("description");
    missing.as_object_mut().unwrap().remove("channel");
    assert_eq!(
        app.post("/api/v1/tickets", &op, &missing).await.fields(),
        ["channel", "description"]
    );

    // Over 1 MiB: 413, whether announced by Content-Length or not.
    let mut big = complaint();
    big["description"] = json!("长".repeat(400_000));
    app.post("/api/v1/tickets", &op, &big)
        .await
        .problem(413, "payload_too_large");
    let streamed = app
        .send_streamed("/api/v1/tickets", &op, big.to_string().into_bytes())
        .await;
    streamed.problem(413, "payload_too_large");
    app.send_streamed("/api/v1/tickets", &op, complaint().to_string().into_bytes())
        .await
        .ok();

    // Text a database cannot keep, and times it cannot hold, are refused by name.
    let mut nul = complaint();
    nul["contact"]["name"] = json!("王\u{0}建国");
    let r = app.post("/api/v1/tickets", &op, &nul).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["contact.name"]);
    for query in [
        "q=a%00b",
        "department=shi%00jian",
        "created_from=-9999-01-01",
        "created_to=0001-01-01T00:00:00Z",
    ] {
        app.get(&format!("/api/v1/tickets?{query}"), &op)
            .await
            .problem(422, "validation_failed");
    }
    let login = app
        .send(
            "POST",
            "/api/v1/auth/token",
            None,
            &[],
            Some(br#"{"username": "a\u0000b", "password": "x"}"#.to_vec()),
        )
        .await;
    login.problem(422, "validation_failed");

    let t = app.create(json!({})).await;
    let act = |action: &'static str, body: Value| app.act(id(&t), action, &op, body);
    let r = act("dispatch", json!({"department": "nowhere"})).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["department"]);
    assert_eq!(
        act("dispatch", json!({"department": 7})).await.fields(),
        ["department"]
    );
    let r = app
        .send(
            "POST",
            &format!("/api/v1/tickets/{}/actions/dispatch", id(&t)),
            Some(&op),
            &[],
            Some(b"{oops".to_vec()),
        )
        .await;
    r.problem(400, "malformed_json");

    for query in [
        "limit=101",
        "limit=0",
        "limit=ten",
        "state=open",
        "category=x",
        "created_from=yesterday",
        "cursor=!!",
        "colour=red",
    ] {
        let r = app.get(&format!("/api/v1/tickets?{query}"), &op).await;
        r.problem(422, "validation_failed");
    }
    app.get("/api/v1/tickets?department=nowhere", &op)
        .await
        .problem(422, "validation_failed");
    app.get("/api/v1/tickets/not-a-uuid", &op)
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/tickets/{}", uuid::Uuid::now_v7()), &op)
        .await
        .problem(404, "not_found");
    app.act(id(&t), "approve", &op, json!({}))
        .await
        .problem(404, "not_found");
    app.get("/api/v1/nothing-here", &op)
        .await
        .problem(404, "not_found");
    assert_eq!(count(&mut app.conn(), "tickets"), 2);
}

async fn tokens_are_checked(backend: Backend) {
    use base64::Engine;
    let app = TestApp::spawn(backend).await;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let now = chrono::Utc::now().timestamp();
    let expired = app
        .state
        .tokens
        .issue("op1", Role::Operator, None, now - 3600, Some(60));
    let forged =
        closedloop::auth::Tokens::new("some-other-secret-entirely", chrono::Duration::hours(1))
            .issue("op1", Role::Admin, None, now, None);
    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"sub":"op1","role":"operator","exp":{}}}"#,
            now + 600
        ))
    );
    let valid = app.operator();
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&format!(
                r#"{{"sub":"op1","role":"admin","exp":{}}}"#,
                now + 600
            )),
            parts[2]
        )
    };
    for path in ["/api/v1/tickets", "/api/v1/departments"] {
        let none = app.send("GET", path, None, &[], None).await;
        none.problem(401, "unauthorized");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        for token in [&expired, &forged, &unsigned, &tampered, &"x".to_string()] {
            app.get(path, token).await.problem(401, "unauthorized");
        }
        app.send(
            "GET",
            path,
            None,
            &[("Authorization", "Basic b3A6ZGVtbw==")],
            None,
        )
        .await
        .problem(401, "unauthorized");
        app.get(path, &valid).await.ok();
    }
    app.post("/api/v1/tickets", &expired, &complaint())
        .await
        .problem(401, "unauthorized");
    assert_eq!(count(&mut app.conn(), "tickets"), 0);
}

async fn checks_come_in_the_contract_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &["sifa"], false).await;
    let base = format!("/api/v1/tickets/{}/actions/", id(&t));
    let app = &app;
    let send = |action: &'static str,
                token: Option<String>,
                if_match: Option<&'static str>,
                body: &'static str| {
        let headers: Vec<(&str, &str)> =
            if_match.map(|v| vec![("If-Match", v)]).unwrap_or_default();
        let path = format!("{base}{action}");
        async move {
            app.send(
                "POST",
                &path,
                token.as_deref(),
                &headers,
                Some(body.as_bytes().to_vec()),
            )
            .await
        }
    };
    // Everything wrong at once: no token → 401.
    send("archive", None, Some("\"1\""), "{bad")
        .await
        .problem(401, "unauthorized");
    // A department that is not involved: 404 before 403.
    send(
        "archive",
        Some(app.department("renshe")),
        Some("\"1\""),
        "{}",
    )
    .await
    .problem(404, "not_found");
    // The co-handler may not sign, however stale its version: 403 before 412.
    send("sign", Some(app.department("sifa")), Some("\"1\""), "{}")
        .await
        .problem(403, "forbidden");
    // The lead with a stale version of a state where archiving is impossible: 412 before 409.
    send(
        "reply",
        Some(app.department("shijian")),
        Some("\"1\""),
        "{}",
    )
    .await
    .problem(412, "stale_version");
    // Current version, wrong state, bad payload: 409 before 422.
    send(
        "reply",
        Some(app.department("shijian")),
        Some("\"2\""),
        r#"{"nope": 1}"#,
    )
    .await
    .problem(409, "invalid_state");
    // Right state, bad payload: 422.
    send(
        "sign",
        Some(app.department("shijian")),
        Some("\"2\""),
        r#"{"nope": 1}"#,
    )
    .await
    .problem(422, "validation_failed");
    // All good, with If-Match.
    let r = send("sign", Some(app.department("shijian")), Some("\"2\""), "").await;
    assert_eq!(r.ok()["state"], "handling");
    // The version moved: the old ETag is stale now.
    send(
        "comment",
        Some(app.department("shijian")),
        Some("\"2\""),
        r#"{"content": "x"}"#,
    )
    .await
    .problem(412, "stale_version");
    // If-Match compares strongly: a weak tag never matches.
    send(
        "comment",
        Some(app.department("shijian")),
        Some("W/\"3\""),
        r#"{"content": "x"}"#,
    )
    .await
    .problem(412, "stale_version");
    send(
        "comment",
        Some(app.department("shijian")),
        Some("\"3\""),
        r#"{"content": "x"}"#,
    )
    .await
    .ok();
    // A body that is not JSON is judged after who may act: 404, 403 and 409 come first.
    send("comment", Some(app.department("renshe")), None, "{oops")
        .await
        .problem(404, "not_found");
    send("sign", Some(app.department("sifa")), None, "{oops")
        .await
        .problem(403, "forbidden");
    send("sign", Some(app.department("shijian")), None, "{oops")
        .await
        .problem(409, "invalid_state");
    send("comment", Some(app.department("shijian")), None, "{oops")
        .await
        .problem(400, "malformed_json");
    // On create too: a department posting garbage with a bad key is told it may not create.
    let create = app
        .send(
            "POST",
            "/api/v1/tickets",
            Some(&app.department("shijian")),
            &[("Idempotency-Key", "")],
            Some(b"{oops".to_vec()),
        )
        .await;
    create.problem(403, "forbidden");
    send(
        "comment",
        Some(app.department("shijian")),
        Some("*"),
        r#"{"content": "x"}"#,
    )
    .await
    .ok();
}

async fn roles_meet_endpoints(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &["sifa"], false).await;
    let ticket = format!("/api/v1/tickets/{}", id(&t));
    let notification = app.notifications(&format!("ticket={}", id(&t))).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tokens = [
        ("operator", app.operator()),
        ("supervisor", app.supervisor()),
        ("admin", app.admin()),
        ("lead", app.department("shijian")),
        ("co", app.department("sifa")),
        ("other", app.department("renshe")),
    ];
    // endpoint → expected status per role, in the order of `tokens`.
    let matrix: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        (
            "POST",
            "/api/v1/tickets".into(),
            Some(complaint()),
            [201, 403, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/tickets".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        ("GET", ticket.clone(), None, [200, 200, 200, 200, 200, 404]),
        (
            "GET",
            format!("{ticket}/events"),
            None,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            "/api/v1/departments".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            format!("{ticket}/actions/comment"),
            Some(json!({"content": "意见"})),
            [200, 200, 403, 200, 200, 404],
        ),
        (
            "POST",
            format!("{ticket}/actions/dispatch"),
            Some(json!({"department": "jianshe"})),
            [409, 409, 403, 403, 403, 404],
        ),
        (
            "POST",
            format!("{ticket}/actions/supervise"),
            Some(json!({"note": "督办"})),
            [403, 409, 403, 403, 403, 404],
        ),
        (
            "POST",
            format!("{ticket}/actions/reply"),
            Some(json!({"content": "答复"})),
            [403, 403, 403, 409, 403, 404],
        ),
        // 存为知识 of a complaint not yet answered: who may, then the 409.
        (
            "POST",
            format!("{ticket}/knowledge"),
            Some(json!({})),
            [403, 403, 409, 409, 403, 404],
        ),
        (
            "GET",
            format!("{ticket}/timers"),
            None,
            [200, 200, 200, 200, 200, 404],
        ),
        (
            "GET",
            "/api/v1/calendar/2026".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "PUT",
            "/api/v1/calendar/2031".into(),
            Some(json!({"off": ["2031-01-01"], "work": []})),
            [403, 403, 200, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/calendar/deadline?duration=3wd".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/notifications".into(),
            None,
            [403, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            format!("/api/v1/notifications/{notification}/retry"),
            Some(json!({})),
            [403, 200, 200, 403, 403, 403],
        ),
    ];
    // Without a token, every endpoint under /api/v1 but sign-in is closed.
    for (method, path, body, _) in &matrix {
        let r = app
            .send(
                method,
                path,
                None,
                &[],
                body.as_ref().map(|b| b.to_string().into_bytes()),
            )
            .await;
        assert_eq!(r.status.as_u16(), 401, "anonymous {method} {path}");
    }
    for (method, path, body, expected) in matrix {
        for ((role, token), want) in tokens.iter().zip(expected) {
            let r = app
                .send(
                    method,
                    &path,
                    Some(token),
                    &[],
                    body.as_ref().map(|b| b.to_string().into_bytes()),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                want,
                "{role} {method} {path}: {}",
                r.body
            );
        }
    }
}

async fn a_password_buys_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = closedloop::app::accounts::NewUser {
        username: "sj-wang".into(),
        role: Role::Department,
        department: Some("shijian".into()),
        email: None,
    };
    closedloop::app::accounts::add_user(&mut app.conn(), &user, Some("correct horse battery"))
        .unwrap();
    let login = |password: &str| {
        let body = json!({"username": "sj-wang", "password": password})
            .to_string()
            .into_bytes();
        app.send("POST", "/api/v1/auth/token", None, &[], Some(body))
    };
    let ok = login("correct horse battery").await;
    assert_eq!(ok.ok()["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 8 * 3600);
    let token = ok.body["access_token"].as_str().unwrap().to_string();
    let t = app.dispatched("shijian", &[], false).await;
    app.act(id(&t), "sign", &token, json!({})).await.ok();
    let events = app
        .get(&format!("/api/v1/tickets/{}/events", id(&t)), &token)
        .await;
    assert_eq!(events.body["items"][2]["actor"]["username"], "sj-wang");

    login("wrong").await.problem(401, "unauthorized");
    let nobody = json!({"username": "nobody", "password": "x"})
        .to_string()
        .into_bytes();
    app.send("POST", "/api/v1/auth/token", None, &[], Some(nobody))
        .await
        .problem(401, "unauthorized");
    let missing = json!({"username": "sj-wang"}).to_string().into_bytes();
    let r = app
        .send("POST", "/api/v1/auth/token", None, &[], Some(missing))
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["password"]);
}
