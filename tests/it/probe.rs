//! What a careful client and a hostile one expect, on SQLite and on PostgreSQL: bounded lists
//! and error bodies, concurrent writers of one calendar year, `nbf`, times with the zone's
//! offset and within the years RFC 3339 can write, HEAD, the auth scheme in any case, 415 for
//! bodies that are not JSON, invisible names, phones as people write them, and search by phone
//! and credit code within the masking rule.

use crate::common::{Backend, TestApp, complaint, id, urlencode};
use serde_json::{Value, json};

on_both_backends!(
    a_long_co_departments_list_is_a_422,
    one_year_written_at_once_by_many_is_one_of_the_bodies,
    a_token_before_its_nbf_is_refused,
    a_supervision_due_keeps_its_offset,
    times_past_what_rfc3339_writes_are_refused,
    the_first_day_of_1970_is_a_date_to_filter_by,
    head_answers_every_get_without_a_body,
    the_auth_scheme_is_case_insensitive_and_single,
    an_error_body_stays_short,
    a_body_that_is_not_json_is_a_415,
    invisible_names_are_blank,
    phones_are_understood_as_people_write_them,
    cases_are_found_by_phone_and_credit_code,
);

async fn a_long_co_departments_list_is_a_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let t = app.create(json!({})).await;
    // Under the 1 MiB body limit, far over SQLite's bound variables.
    let many: Vec<&str> = std::iter::repeat_n("", 340_000).collect();
    for (action, token) in [("dispatch", op.clone())] {
        let r = app
            .act(
                id(&t),
                action,
                &token,
                json!({"department": "shijian", "co_departments": many}),
            )
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields()[0], "co_departments", "{}", r.body);
        assert!(
            r.body.to_string().len() < 16_000,
            "{}",
            r.body.to_string().len()
        );
    }
    // One past the limit, all real departments, is refused too; twenty is a list.
    let over: Vec<&str> = std::iter::repeat_n("sifa", 21).collect();
    let r = app
        .act(
            id(&t),
            "dispatch",
            &op,
            json!({"department": "shijian", "co_departments": over}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["co_departments"], "{}", r.body);
    // A code too long to be one is not echoed back.
    let r = app
        .act(
            id(&t),
            "dispatch",
            &op,
            json!({"department": "长".repeat(100_000)}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert!(r.body.to_string().len() < 2_000);

    // assign reads the same list: a case in coordination, the same answer.
    app.act(id(&t), "dispatch", &op, json!({"department": "shijian"}))
        .await
        .ok();
    app.act(
        id(&t),
        "coordinate",
        &app.department("shijian"),
        json!({"reason": "不属于本单位职责"}),
    )
    .await
    .ok();
    let r = app
        .act(
            id(&t),
            "assign",
            &app.supervisor(),
            json!({"department": "sifa", "co_departments": many}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields()[0], "co_departments");
    // The case is where it was: nothing was written.
    let now = app.get(&format!("/api/v1/tickets/{}", id(&t)), &op).await;
    assert_eq!(now.ok()["state"], "coordinating");
}

async fn one_year_written_at_once_by_many_is_one_of_the_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let bodies: Vec<Value> = (1..=8)
        .map(|i| json!({"off": [format!("2033-01-0{i}")], "work": [format!("2033-02-1{i}")]}))
        .collect();
    let answers = futures_util::future::join_all(bodies.iter().map(|b| {
        app.send(
            "PUT",
            "/api/v1/calendar/2033",
            Some(&admin),
            &[],
            Some(b.to_string().into_bytes()),
        )
    }))
    .await;
    for r in &answers {
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    let year = app.get("/api/v1/calendar/2033", &admin).await;
    let year = year.ok();
    assert!(
        bodies
            .iter()
            .any(|b| b["off"] == year["off"] && b["work"] == year["work"]),
        "{year}"
    );
}

async fn a_token_before_its_nbf_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = chrono::Utc::now().timestamp();
    let sign = |nbf: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"sub": "op1", "role": "operator", "iat": now, "exp": now + 7200, "nbf": nbf}),
            &jsonwebtoken::EncodingKey::from_secret(app.config.auth.jwt_secret.expose().as_bytes()),
        )
        .unwrap()
    };
    app.get("/api/v1/tickets", &sign(now + 3600))
        .await
        .problem(401, "unauthorized");
    app.get("/api/v1/tickets", &sign(now - 60)).await.ok();
}

async fn a_supervision_due_keeps_its_offset(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.dispatched("shijian", &[], true).await;
    app.act(
        id(&t),
        "supervise",
        &app.supervisor(),
        json!({"note": "请于周五前办结", "due": "2099-12-04T17:30:00+08:00"}),
    )
    .await
    .ok();
    let events = app
        .get(
            &format!("/api/v1/tickets/{}/events?limit=100", id(&t)),
            &app.operator(),
        )
        .await;
    let supervise = events.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "supervise")
        .unwrap()
        .clone();
    assert_eq!(
        supervise["payload"]["due"], "2099-12-04T17:30:00+08:00",
        "{supervise}"
    );
    let timers = app.timers(id(&t)).await;
    assert_eq!(
        timers["supervision"]["due_at"],
        "2099-12-04T17:30:00.000+08:00"
    );
}

async fn times_past_what_rfc3339_writes_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sup = app.supervisor();
    let t = app.dispatched("shijian", &[], true).await;
    for due in [
        "9999-12-31T23:59:59-12:00",
        // The deadline itself fits, its escalation ladder (+1wd, +3wd) does not.
        "9999-12-30T17:30:00+08:00",
        "0000-01-01T00:00:00Z",
    ] {
        let r = app
            .act(
                id(&t),
                "supervise",
                &sup,
                json!({"note": "督办", "due": due}),
            )
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), ["due"], "{due}: {}", r.body);
    }
    let still = app.get(&format!("/api/v1/tickets/{}", id(&t)), &sup).await;
    assert_eq!(still.ok()["state"], "handling");

    let deadline = |query: &str| {
        let path = format!("/api/v1/calendar/deadline?{query}");
        let sup = sup.clone();
        let app = &app;
        async move { app.get(&path, &sup).await }
    };
    let r = deadline("from=9995-01-01T00:00:00%2B08:00&duration=2600wd").await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["duration"], "{}", r.body);
    for from in [
        "0000-01-01T00:00:00Z",
        "1969-12-31T15:59:59Z",
        "10000-01-01T00:00:00Z",
    ] {
        let r = deadline(&format!("from={from}&duration=1wd")).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), ["from"], "{from}: {}", r.body);
    }
    // The first moment that can be written comes back with the zone's modern offset.
    let r = deadline("from=1970-01-01T00:00:00%2B08:00&duration=1d").await;
    assert_eq!(
        r.ok()["from"],
        "1970-01-01T00:00:00.000+08:00",
        "{}",
        r.body
    );
    assert!(r.body["due_at"].as_str().unwrap().ends_with("+08:00"));
}

async fn the_first_day_of_1970_is_a_date_to_filter_by(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let t = app.create(json!({})).await;
    let r = app
        .get("/api/v1/tickets?created_from=1970-01-01", &op)
        .await;
    assert_eq!(r.ok()["items"][0]["id"], t["id"]);
    app.get("/api/v1/tickets?created_to=9999-12-31", &op)
        .await
        .ok();
    for bad in [
        "created_from=1969-12-31",
        "created_to=10000-01-01",
        "due_before=0000-01-01T00:00:00Z",
    ] {
        app.get(&format!("/api/v1/tickets?{bad}"), &op)
            .await
            .problem(422, "validation_failed");
    }
}

async fn head_answers_every_get_without_a_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.create(json!({})).await;
    let article = app
        .post(
            "/api/v1/knowledge",
            &app.admin(),
            &json!({"title": "稳岗返还", "body": "正文", "department": "renshe"}),
        )
        .await;
    // A supervisor may read every GET route.
    let op = app.supervisor();
    let doc = app.get("/api/v1/openapi.json", &op).await.ok().clone();
    let mut paths: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item.get("get").is_some())
        .map(|(path, _)| {
            let of = if path.starts_with("/api/v1/knowledge/") {
                id(&article.body)
            } else {
                id(&t)
            };
            path.replace("{id}", of).replace("{year}", "2026").replace(
                "{credit_code}",
                t["enterprise"]["credit_code"].as_str().unwrap(),
            )
        })
        .collect();
    paths.extend(["/docs/".into(), "/api/v1/openapi.json".into()]);
    assert!(paths.len() > 10, "{paths:?}");
    for path in paths {
        let path = if path.ends_with("/deadline") {
            format!("{path}?duration=1wd")
        } else if path.ends_with("/kpis") || path.ends_with("/ranking") || path.ends_with("/hot") {
            format!("{path}?from=2026-01-01&to=2027-01-01")
        } else {
            path
        };
        let get = app.send("GET", &path, Some(&op), &[], None).await;
        let head = app.send("HEAD", &path, Some(&op), &[], None).await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(get.status.is_success(), "GET {path}: {}", get.status);
        assert_eq!(head.body, Value::Null, "HEAD {path} has a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
    }
    // A resource without GET still says what it takes.
    let r = app
        .send("HEAD", "/api/v1/auth/token", None, &[], None)
        .await;
    assert_eq!(r.status.as_u16(), 405);
    assert_eq!(r.header("allow"), Some("POST"));
}

async fn the_auth_scheme_is_case_insensitive_and_single(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.operator();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = app
            .send(
                "GET",
                "/api/v1/tickets",
                None,
                &[("Authorization", &format!("{scheme} {token}"))],
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{scheme}: {}", r.body);
    }
    for bad in [
        format!("Basic {token}"),
        "Bearer".into(),
        "Bearer   ".into(),
        token.clone(),
    ] {
        app.send(
            "GET",
            "/api/v1/tickets",
            None,
            &[("Authorization", &bad)],
            None,
        )
        .await
        .problem(401, "unauthorized");
    }
    // Two headers, even if both are good: refused rather than guessed at.
    let r = app
        .send_twice_authorized("/api/v1/tickets", &token, &token)
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    let r = app
        .send_twice_authorized("/api/v1/tickets", &token, "forged")
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
}

async fn an_error_body_stays_short(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin();
    let bad: Vec<&str> = std::iter::repeat_n("not-a-date", 70_000).collect();
    let r = app
        .send(
            "PUT",
            "/api/v1/calendar/2034",
            Some(&admin),
            &[],
            Some(json!({"off": bad, "work": []}).to_string().into_bytes()),
        )
        .await;
    r.problem(422, "validation_failed");
    assert!(
        r.body.to_string().len() < 8_000,
        "{} bytes",
        r.body.to_string().len()
    );
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 20);
    assert!(
        r.body["detail"].as_str().unwrap().contains("70000"),
        "{}",
        r.body["detail"]
    );
    // A message that would echo a huge value is cut.
    let r = app
        .act(
            id(&app.dispatched("shijian", &[], true).await),
            "request_extension",
            &app.department("shijian"),
            json!({"working_days": "9".repeat(500_000), "reason": "x"}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert!(
        r.body.to_string().len() < 2_000,
        "{} bytes",
        r.body.to_string().len()
    );
}

async fn a_body_that_is_not_json_is_a_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let body = complaint().to_string().into_bytes();
    for kind in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let r = app
            .send(
                "POST",
                "/api/v1/tickets",
                Some(&op),
                &[("Content-Type", kind)],
                Some(body.clone()),
            )
            .await;
        r.problem(415, "unsupported_media_type");
    }
    assert_eq!(crate::common::count(&mut app.conn(), "tickets"), 0);
    for kind in ["application/json; charset=utf-8", "Application/JSON"] {
        let r = app
            .send(
                "POST",
                "/api/v1/tickets",
                Some(&op),
                &[("Content-Type", kind)],
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{kind}: {}", r.body);
    }
    let r = app
        .send(
            "POST",
            "/api/v1/auth/token",
            None,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(b"username=operator&password=demo".to_vec()),
        )
        .await;
    r.problem(415, "unsupported_media_type");
    // The contract's order holds: who may act comes before what the body is.
    let t = app.create(json!({})).await;
    let r = app
        .send(
            "POST",
            &format!("/api/v1/tickets/{}/actions/sign", id(&t)),
            Some(&op),
            &[("Content-Type", "text/plain")],
            Some(b"sign it".to_vec()),
        )
        .await;
    r.problem(403, "forbidden");
    // An action without a payload needs no type.
    let r = app
        .send(
            "POST",
            &format!("/api/v1/tickets/{}/actions/dispatch", id(&t)),
            Some(&op),
            &[("Content-Type", "text/plain")],
            Some(vec![]),
        )
        .await;
    r.problem(422, "validation_failed");
}

async fn invisible_names_are_blank(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let mut body = complaint();
    body["enterprise"]["name"] = json!("\u{200B}\u{200B}\u{200B}");
    body["contact"]["name"] = json!("\u{FEFF}");
    body["subject"] = json!(" \u{2060}\u{200D} \u{3164}");
    let r = app.post("/api/v1/tickets", &op, &body).await;
    r.problem(422, "validation_failed");
    assert_eq!(
        r.fields(),
        ["enterprise.name", "contact.name", "subject"],
        "{}",
        r.body
    );
    // Around a real name they are trimmed away; inside it they stay as typed.
    let mut body = complaint();
    body["contact"]["name"] = json!("\u{FEFF}王\u{200B}建国\u{200B}");
    let r = app.post("/api/v1/tickets", &op, &body).await;
    assert_eq!(r.ok()["contact"]["name"], "王\u{200B}建国");
    let t = app.create(json!({})).await;
    let r = app
        .act(id(&t), "reject", &op, json!({"reason": "\u{200B}\u{FEFF}"}))
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["reason"]);
}

async fn phones_are_understood_as_people_write_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (typed, stored) in [
        ("(0714) 635-1234", "0714-6351234"),
        ("0714-6351234", "0714-6351234"),
        ("+86 138 0013 8000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("013800138000", "13800138000"),
        ("027-87654321转801", "027-87654321-801"),
    ] {
        let t = app
            .create(json!({"contact": {"name": "王建国", "phone": typed}}))
            .await;
        assert_eq!(t["contact"]["phone"], stored, "{typed}");
    }
    let r = app
        .post("/api/v1/tickets", &app.operator(), &{
            let mut b = complaint();
            b["contact"]["phone"] = json!("+1 415 555 0100");
            b
        })
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["contact.phone"]);
}

async fn cases_are_found_by_phone_and_credit_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (op, sup) = (app.operator(), app.supervisor());
    let complaint = app
        .create(json!({"contact": {"name": "王建国", "phone": "0714-6351234"}}))
        .await;
    let report = app
        .create(json!({"category": "report", "contact": {"name": "李举报", "phone": "13800138000"},
                      "enterprise": {"name": "某某贸易有限公司", "credit_code": "914202047745721335"}}))
        .await;
    let other = app
        .create(json!({"contact": {"name": "赵六", "phone": "13912345678"}}))
        .await;
    for t in [&complaint, &report, &other] {
        app.act(id(t), "dispatch", &op, json!({"department": "shijian"}))
            .await
            .ok();
    }
    let found = |query: &str, token: &str| {
        let path = format!("/api/v1/tickets?q={}", urlencode(query));
        let token = token.to_string();
        let app = &app;
        async move {
            let r = app.get(&path, &token).await;
            r.ok()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let ids = |ts: &[&Value]| ts.iter().map(|t| id(t).to_string()).collect::<Vec<_>>();
    for token in [&op, &sup] {
        assert_eq!(found("(0714) 635-1234", token).await, ids(&[&complaint]));
        assert_eq!(found("+86 138 0013 8000", token).await, ids(&[&report]));
        assert_eq!(found("914202047745721335", token).await, ids(&[&report]));
        assert_eq!(found("9142020477457", token).await, ids(&[&report]));
    }
    let sj = app.department("shijian");
    // A department finds what it may see by phone, never a 举报 by its reporter's number.
    assert_eq!(found("07146351234", &sj).await, ids(&[&complaint]));
    assert_eq!(found("13800138000", &sj).await, Vec::<String>::new());
    // By the enterprise it still finds the 举报: that is not the reporter.
    assert_eq!(found("914202047745721335", &sj).await, ids(&[&report]));
}
