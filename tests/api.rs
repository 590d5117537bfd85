//! The API end to end, on a real server over a real database, on SQLite and on PostgreSQL.

mod common;

use actix_web::http::StatusCode;
use closedloop::domain::ticket::Role;
use common::{Backend, TestApp, complaint, count};
use serde_json::{Value, json};

on_both_backends!(
    the_whole_loop_from_accepted_to_archived,
    dissatisfied_feedback_reopens_the_case,
    return_coordinate_and_assign_move_visibility,
    other_endings_set_their_outcome,
    archived_tickets_never_change,
    bad_input_gets_a_problem_never_a_500,
    tokens_are_checked,
    checks_come_in_the_contract_order,
    roles_meet_endpoints,
    departments_see_only_their_cases,
    reporters_are_masked_for_departments,
    lists_filter_and_page_stably,
    racing_actions_one_wins,
    concurrent_creates_get_unique_numbers,
    many_writers_wait_their_turn,
    idempotent_retries_make_one_ticket,
    a_password_buys_a_token,
    departments_and_events_page,
    a_busy_database_is_a_503,
    tickets_merged_into_each_other,
);

fn id(t: &Value) -> &str {
    t["id"].as_str().unwrap()
}

async fn the_whole_loop_from_accepted_to_archived(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup, sj, sf) = (
        app.operator(),
        app.supervisor(),
        app.department("shijian"),
        app.department("sifa"),
    );

    let created = app.post("/api/v1/tickets", &op, &complaint()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let t = created.body.clone();
    assert_eq!(t["state"], "accepted");
    assert_eq!(t["version"], 1);
    assert!(
        t["number"].as_str().unwrap().starts_with("XL-2026-"),
        "{}",
        t["number"]
    );
    assert!(t["created_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.header("location").unwrap(),
        format!("/api/v1/tickets/{}", id(&t))
    );

    let steps: Vec<(&str, &str, Value, &str)> = vec![
        (
            "dispatch",
            op.as_str(),
            json!({"department": "shijian", "co_departments": ["sifa"], "note": "请牵头办理"}),
            "dispatched",
        ),
        ("sign", sj.as_str(), json!({}), "handling"),
        (
            "interim_reply",
            sj.as_str(),
            json!({"content": "已收到，正在核查"}),
            "handling",
        ),
        (
            "request_extension",
            sj.as_str(),
            json!({"working_days": 5, "reason": "需现场核查"}),
            "handling",
        ),
        (
            "decide_extension",
            sup.as_str(),
            json!({"approve": true, "note": "同意延期"}),
            "handling",
        ),
        (
            "supervise",
            sup.as_str(),
            json!({"note": "请加快办理"}),
            "supervised",
        ),
        (
            "comment",
            sf.as_str(),
            json!({"content": "协办意见：材料齐全"}),
            "supervised",
        ),
        (
            "reply",
            sj.as_str(),
            json!({"content": "已办结，许可证已变更"}),
            "replied",
        ),
        (
            "feedback",
            op.as_str(),
            json!({"satisfaction": "satisfied", "comment": "满意"}),
            "feedback",
        ),
        ("archive", op.as_str(), json!({}), "archived"),
    ];
    let mut version = 1;
    for (action, token, body, state) in steps {
        let r = app.act(id(&t), action, token, body).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
        version += 1;
        assert_eq!(r.body["state"], state, "{action}");
        assert_eq!(r.body["version"], version, "{action}");
        assert_eq!(r.header("etag").unwrap(), format!("\"{version}\""));
    }
    let archived = app.get(&format!("/api/v1/tickets/{}", id(&t)), &op).await;
    assert_eq!(archived.body["outcome"], "resolved");
    assert_eq!(archived.body["lead_department"], "shijian");
    assert_eq!(archived.body["co_departments"], json!(["sifa"]));

    let events = app
        .get(&format!("/api/v1/tickets/{}/events?limit=100", id(&t)), &op)
        .await;
    let items = events.ok()["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "dispatch",
            "sign",
            "interim_reply",
            "request_extension",
            "decide_extension",
            "supervise",
            "comment",
            "reply",
            "feedback",
            "archive"
        ]
    );
    // One event per change: the version counts the events.
    assert_eq!(items.len() as i64, version);
    assert_eq!(
        items[1]["actor"],
        json!({"kind": "user", "username": "op1", "role": "operator", "department": null})
    );
    assert_eq!(items[1]["from_state"], "accepted");
    assert_eq!(items[1]["to_state"], "dispatched");
    assert_eq!(items[1]["payload"]["department"], "shijian");
    assert_eq!(items[5]["payload"]["working_days"], 5);
    assert_eq!(count(&mut app.conn(), "ticket_events"), version);
}

async fn dissatisfied_feedback_reopens_the_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &[], true).await;
    let sj = app.department("shijian");
    app.act(id(&t), "reply", &sj, json!({"content": "已答复"}))
        .await
        .ok();
    let r = app
        .act(
            id(&t),
            "feedback",
            &app.operator(),
            json!({"satisfaction": "dissatisfied", "comment": "没有解决"}),
        )
        .await;
    assert_eq!(r.ok()["state"], "handling");
    assert_eq!(r.body["reopen_count"], 1);
    // 重办: the same department answers again.
    let again = app
        .act(id(&t), "reply", &sj, json!({"content": "重新办理后答复"}))
        .await;
    assert_eq!(again.ok()["state"], "replied");
}

async fn return_coordinate_and_assign_move_visibility(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup) = (app.operator(), app.supervisor());
    let t = app.dispatched("shijian", &["sifa"], false).await;
    let path = format!("/api/v1/tickets/{}", id(&t));

    let returned = app
        .act(
            id(&t),
            "return",
            &app.department("shijian"),
            json!({"reason": "不属于本局职责"}),
        )
        .await;
    assert_eq!(returned.ok()["state"], "accepted");
    assert_eq!(returned.body["lead_department"], Value::Null);
    assert_eq!(returned.body["co_departments"], json!([]));
    // The department that returned it, and the former co-handler, no longer see it.
    app.get(&path, &app.department("shijian"))
        .await
        .problem(404, "not_found");
    app.get(&path, &app.department("sifa"))
        .await
        .problem(404, "not_found");

    app.act(id(&t), "dispatch", &op, json!({"department": "jianshe"}))
        .await
        .ok();
    app.act(id(&t), "sign", &app.department("jianshe"), json!({}))
        .await
        .ok();
    let coordinating = app
        .act(
            id(&t),
            "coordinate",
            &app.department("jianshe"),
            json!({"reason": "涉及自规分局职责"}),
        )
        .await;
    assert_eq!(coordinating.ok()["state"], "coordinating");
    let assigned = app
        .act(
            id(&t),
            "assign",
            &sup,
            json!({"department": "zigui", "co_departments": ["jianshe"]}),
        )
        .await;
    assert_eq!(assigned.ok()["state"], "dispatched");
    assert_eq!(assigned.body["lead_department"], "zigui");
    // jianshe now co-handles: it reads and comments, but may not sign.
    app.get(&path, &app.department("jianshe")).await.ok();
    app.act(
        id(&t),
        "comment",
        &app.department("jianshe"),
        json!({"content": "配合提供材料"}),
    )
    .await
    .ok();
    app.act(id(&t), "sign", &app.department("jianshe"), json!({}))
        .await
        .problem(403, "forbidden");
    app.act(id(&t), "sign", &app.department("zigui"), json!({}))
        .await
        .ok();
}

async fn other_endings_set_their_outcome(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let target = app.create(json!({})).await;

    let rejected = app.create(json!({})).await;
    let r = app
        .act(
            id(&rejected),
            "reject",
            &op,
            json!({"reason": "不属于受理范围"}),
        )
        .await;
    assert_eq!(
        (r.ok()["state"].clone(), r.body["outcome"].clone()),
        (json!("archived"), json!("rejected"))
    );

    let withdrawn = app.dispatched("shijian", &[], true).await;
    let r = app
        .act(
            id(&withdrawn),
            "withdraw",
            &op,
            json!({"reason": "企业撤回诉求"}),
        )
        .await;
    assert_eq!(r.ok()["outcome"], "withdrawn");

    let merged = app.create(json!({})).await;
    let r = app
        .act(
            id(&merged),
            "merge",
            &app.supervisor(),
            json!({"into": id(&target)}),
        )
        .await;
    assert_eq!(r.ok()["outcome"], "merged");
    assert_eq!(r.body["merged_into"], target["id"]);

    // Not into itself, not into an archived ticket, not into a ticket that does not exist.
    let another = app.create(json!({})).await;
    for into in [
        id(&another).to_string(),
        id(&merged).to_string(),
        uuid::Uuid::now_v7().to_string(),
    ] {
        let r = app
            .act(id(&another), "merge", &op, json!({ "into": into }))
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), ["into"]);
    }
}

async fn archived_tickets_never_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.create(json!({})).await;
    app.act(
        id(&t),
        "reject",
        &app.operator(),
        json!({"reason": "重复诉求"}),
    )
    .await
    .ok();
    for (action, token) in [
        ("withdraw", app.operator()),
        ("comment", app.supervisor()),
        ("interim_reply", app.operator()),
        ("dispatch", app.operator()),
    ] {
        let r = app
            .act(
                id(&t),
                action,
                &token,
                json!({"reason": "x", "content": "x", "department": "shijian"}),
            )
            .await;
        r.problem(409, "invalid_state");
    }
    // Even written around the lifecycle, the database refuses to change an archived ticket.
    use closedloop::store::schema::tickets;
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    let forced = diesel::update(tickets::table.filter(tickets::id.eq(id(&t))))
        .set(tickets::subject.eq("changed"))
        .execute(&mut *app.conn());
    assert!(forced.is_err(), "an archived row was updated");
    let forced =
        diesel::delete(closedloop::store::schema::ticket_events::table).execute(&mut *app.conn());
    assert!(forced.is_err(), "events were deleted");
}

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

async fn departments_see_only_their_cases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mine = app.dispatched("shijian", &[], false).await;
    let co_handled = app.dispatched("jianshe", &["shijian"], false).await;
    let theirs = app.dispatched("sifa", &[], false).await;
    let undispatched = app.create(json!({})).await;
    let sj = app.department("shijian");

    let list = app.get("/api/v1/tickets?limit=100", &sj).await;
    let mut ids: Vec<&str> = list.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![id(&mine), id(&co_handled)];
    want.sort();
    assert_eq!(ids, want);
    // Asking for another department's cases gives only what is also one's own.
    let filtered = app.get("/api/v1/tickets?department=sifa", &sj).await;
    assert_eq!(filtered.ok()["items"], json!([]));
    for other in [&theirs, &undispatched] {
        app.get(&format!("/api/v1/tickets/{}", id(other)), &sj)
            .await
            .problem(404, "not_found");
        app.get(&format!("/api/v1/tickets/{}/events", id(other)), &sj)
            .await
            .problem(404, "not_found");
        app.act(id(other), "comment", &sj, json!({"content": "x"}))
            .await
            .problem(404, "not_found");
    }
    // Everyone else sees every case.
    let all = app
        .get("/api/v1/tickets?limit=100", &app.supervisor())
        .await;
    assert_eq!(all.ok()["items"].as_array().unwrap().len(), 4);
}

async fn reporters_are_masked_for_departments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let report = app
        .create(
            json!({"category": "report", "contact": {"name": "欧阳娜娜", "phone": "13907141234"}}),
        )
        .await;
    let op = app.operator();
    app.act(
        id(&report),
        "dispatch",
        &op,
        json!({"department": "shijian", "co_departments": ["sifa"]}),
    )
    .await
    .ok();
    let complaint = app.dispatched("shijian", &[], false).await;

    for dept in ["shijian", "sifa"] {
        let r = app
            .get(
                &format!("/api/v1/tickets/{}", id(&report)),
                &app.department(dept),
            )
            .await;
        assert_eq!(
            r.ok()["contact"],
            json!({"name": "欧***", "phone": "139****1234"}),
            "{dept}"
        );
        let list = app.get("/api/v1/tickets", &app.department(dept)).await;
        let listed = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == report["id"])
            .unwrap()
            .clone();
        assert_eq!(listed["contact"]["phone"], "139****1234");
    }
    let acted = app
        .act(id(&report), "sign", &app.department("shijian"), json!({}))
        .await;
    assert_eq!(acted.ok()["contact"]["name"], "欧***");
    for token in [op.clone(), app.supervisor()] {
        let r = app
            .get(&format!("/api/v1/tickets/{}", id(&report)), &token)
            .await;
        assert_eq!(
            r.ok()["contact"],
            json!({"name": "欧阳娜娜", "phone": "13907141234"})
        );
    }
    // Only 举报 is confidential.
    let r = app
        .get(
            &format!("/api/v1/tickets/{}", id(&complaint)),
            &app.department("shijian"),
        )
        .await;
    assert_eq!(r.ok()["contact"]["phone"], "13907141234");
}

async fn lists_filter_and_page_stably(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let mut created = vec![];
    for i in 0..7 {
        let category = if i % 2 == 0 {
            "complaint"
        } else {
            "consultation"
        };
        let t = app
            .create(json!({"category": category, "subject": format!("第{i}号诉求 100%_done")}))
            .await;
        created.push(t["id"].as_str().unwrap().to_string());
    }
    app.act(
        &created[0],
        "dispatch",
        &op,
        json!({"department": "shijian"}),
    )
    .await
    .ok();
    app.act(
        &created[1],
        "dispatch",
        &op,
        json!({"department": "sifa", "co_departments": ["shijian"]}),
    )
    .await
    .ok();

    // Pages of 3, newest first; tickets created between pages do not shift them.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/tickets?limit=3".to_string(),
            Some(c) => format!("/api/v1/tickets?limit=3&cursor={c}"),
        };
        let page = app.get(&path, &op).await;
        seen.extend(
            page.ok()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string()),
        );
        app.create(json!({})).await;
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let ids = |r: &common::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    let consultation = app
        .get("/api/v1/tickets?category=consultation&limit=100", &op)
        .await;
    assert_eq!(
        ids(&consultation),
        [created[5].clone(), created[3].clone(), created[1].clone()]
    );
    let dispatched = app.get("/api/v1/tickets?state=dispatched", &op).await;
    assert_eq!(ids(&dispatched), [created[1].clone(), created[0].clone()]);
    let shijian = app.get("/api/v1/tickets?department=shijian", &op).await;
    assert_eq!(ids(&shijian), [created[1].clone(), created[0].clone()]);
    let q = app
        .get(&format!("/api/v1/tickets?q={}", urlencode("第3号")), &op)
        .await;
    assert_eq!(ids(&q), [created[3].clone()]);
    // % and _ are searched for as themselves.
    let literal = app
        .get(
            &format!("/api/v1/tickets?q={}&limit=100", urlencode("100%_")),
            &op,
        )
        .await;
    assert_eq!(ids(&literal).len(), 7);
    let none = app
        .get(&format!("/api/v1/tickets?q={}", urlencode("1%0")), &op)
        .await;
    assert_eq!(ids(&none).len(), 0);
    let number = created_number(&app, &created[2]).await;
    assert_eq!(
        ids(&app.get(&format!("/api/v1/tickets?q={number}"), &op).await),
        [created[2].clone()]
    );

    let future = app
        .get(
            &format!(
                "/api/v1/tickets?created_from={}",
                urlencode("2099-01-01T00:00:00+08:00")
            ),
            &op,
        )
        .await;
    assert_eq!(ids(&future).len(), 0);
    let past = app
        .get("/api/v1/tickets?created_to=2000-01-01&limit=100", &op)
        .await;
    assert_eq!(ids(&past).len(), 0);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let through_today = app
        .get(
            &format!("/api/v1/tickets?created_from={today}&created_to={today}&limit=100"),
            &op,
        )
        .await;
    assert!(
        ids(&through_today).len() >= 7,
        "a date as created_to includes that day"
    );
    let lower = app.get("/api/v1/tickets?q=xl-&limit=100", &op).await;
    assert!(
        ids(&lower).len() >= 7,
        "search ignores case on both backends"
    );
    let since_today = app
        .get(
            &format!("/api/v1/tickets?created_from={today}&limit=100"),
            &op,
        )
        .await;
    assert!(ids(&since_today).len() >= 7);
}

async fn created_number(app: &TestApp, id: &str) -> String {
    app.get(&format!("/api/v1/tickets/{id}"), &app.operator())
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_string()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

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

async fn a_password_buys_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = closedloop::seed::UserSeed {
        username: "sj-wang".into(),
        role: Role::Department,
        department: Some("shijian".into()),
        email: None,
    };
    closedloop::seed::add_user(&mut app.conn(), &user, Some("correct horse battery")).unwrap();
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

async fn departments_and_events_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let mut codes = vec![];
    let mut path = "/api/v1/departments?limit=10".to_string();
    loop {
        let page = app.get(&path, &op).await;
        for d in page.ok()["items"].as_array().unwrap() {
            assert!(d["email"].as_str().unwrap().contains('@'));
            codes.push(d["code"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/departments?limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(codes.len() as i64, count(&mut app.conn(), "departments"));
    assert!(codes.contains(&"shijian".to_string()) && codes.contains(&"laojie".to_string()));
    let names = app.get("/api/v1/departments?limit=100", &op).await;
    let shijian = names.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "shijian")
        .unwrap()
        .clone();
    assert_eq!(shijian["name"], "区市监局");

    let t = app.dispatched("shijian", &[], true).await;
    for i in 0..5 {
        app.act(
            id(&t),
            "comment",
            &op,
            json!({"content": format!("备注{i}")}),
        )
        .await
        .ok();
    }
    let first = app
        .get(&format!("/api/v1/tickets/{}/events?limit=4", id(&t)), &op)
        .await;
    let second = app
        .get(
            &format!(
                "/api/v1/tickets/{}/events?limit=4&cursor={}",
                id(&t),
                first.body["next_cursor"].as_str().unwrap()
            ),
            &op,
        )
        .await;
    let seqs: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| {
            p.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(second.body["next_cursor"], Value::Null);
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

async fn tickets_merged_into_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..3 {
        let a = app.create(json!({})).await;
        let b = app.create(json!({})).await;
        let (op, sup) = (app.operator(), app.supervisor());
        // A into B and B into A at the same moment: one merge wins, one live ticket remains.
        let (ab, ba) = futures_util::join!(
            app.act(id(&a), "merge", &op, json!({"into": id(&b)})),
            app.act(id(&b), "merge", &sup, json!({"into": id(&a)})),
        );
        let won = [&ab, &ba]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(won, 1, "{} / {}", ab.body, ba.body);
        let mut states = vec![];
        for t in [&a, &b] {
            states.push(
                app.get(&format!("/api/v1/tickets/{}", id(t)), &op)
                    .await
                    .body["state"]
                    .clone(),
            );
        }
        assert_eq!(
            states.iter().filter(|s| *s == "archived").count(),
            1,
            "{states:?}"
        );
    }
}
