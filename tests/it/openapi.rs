//! The OpenAPI document against the service itself, on SQLite and on PostgreSQL: every route is
//! described, and what the service really answers — tickets, timelines, timers, pages, problems —
//! fits the schemas it publishes (no field missing from them, none of the wrong type or null where
//! they say it cannot be). `/docs` serves the API browser from the binary.

use crate::common::{Backend, TestApp};
use serde_json::{Value, json};

on_both_backends!(
    the_document_describes_what_the_service_answers,
    the_api_browser_is_built_in
);

/// Checks `value` against `schema` (the subset of JSON Schema utoipa writes); returns what does
/// not fit, with the JSON path.
fn fits(doc: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "no schema {name}");
        return fits(doc, target, value, path, out);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let ok = options.iter().any(|o| {
                let mut errs = vec![];
                fits(doc, o, value, path, &mut errs);
                errs.is_empty()
            });
            if !ok {
                out.push(format!("{path}: {value} fits none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            fits(doc, s, value, path, out);
        }
        return;
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if let Some(t) = schema.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = allowed.contains(&kind) || (kind == "integer" && allowed.contains(&"number"));
        if !ok {
            out.push(format!("{path}: {kind} where the schema says {t}"));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        out.push(format!("{path}: {value} is not one of {values:?}"));
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for r in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        out.push(format!("{path}.{r}: required but missing"));
                    }
                }
            }
            if let Some(props) = props {
                for (k, v) in map {
                    match props.get(k) {
                        Some(s) => fits(doc, s, v, &format!("{path}.{k}"), out),
                        None => out.push(format!("{path}.{k}: not in the schema")),
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    fits(doc, s, v, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// The schema of the answer `status` of `method path` in the document.
fn answer_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} does not document {status}"
    );
    let content = response["content"].as_object().unwrap();
    &content.values().next().unwrap()["schema"]
}

#[track_caller]
fn check(doc: &Value, method: &str, path: &str, r: &crate::common::Reply) {
    let schema = answer_schema(doc, method, path, r.status.as_u16());
    let mut errors = vec![];
    fits(doc, schema, &r.body, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} → {}: {errors:#?}\n{}",
        r.status,
        r.body
    );
}

async fn the_document_describes_what_the_service_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .send("GET", "/api/v1/openapi.json", None, &[], None)
        .await;
    let doc = r.ok().clone();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every reference names a schema the document holds.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a schema reference");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is not in the document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every route the service has is in the document.
    let routes = [
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/{id}"),
        ("post", "/api/v1/tickets/{id}/actions/{action}"),
        ("get", "/api/v1/tickets/{id}/events"),
        ("get", "/api/v1/tickets/{id}/timers"),
        ("get", "/api/v1/calendar/deadline"),
        ("get", "/api/v1/calendar/{year}"),
        ("put", "/api/v1/calendar/{year}"),
        ("get", "/api/v1/departments"),
        ("get", "/api/v1/notifications"),
        ("post", "/api/v1/notifications/{id}/retry"),
        ("get", "/api/v1/reports/kpis"),
        ("get", "/api/v1/reports/ranking"),
        ("get", "/api/v1/reports/overdue"),
        ("get", "/api/v1/enterprises"),
        ("get", "/api/v1/enterprises/hot"),
        ("get", "/api/v1/enterprises/{credit_code}"),
        ("post", "/api/v1/tickets/similar"),
        ("get", "/api/v1/knowledge"),
        ("post", "/api/v1/knowledge"),
        ("get", "/api/v1/knowledge/{id}"),
        ("patch", "/api/v1/knowledge/{id}"),
        ("get", "/api/v1/knowledge/{id}/versions"),
        ("post", "/api/v1/tickets/{id}/knowledge"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    ];
    for (method, path) in routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        routes.len(),
        "a documented route the service does not have"
    );
    // A method an endpoint does not take is a 405 problem whose `Allow` names what it does take,
    // as documented.
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        documented.sort();
        let concrete = path
            .replace("{id}", "0190a000-0000-7000-8000-000000000000")
            .replace("{action}", "sign")
            .replace("{year}", "2026");
        let r = app.send("DELETE", &concrete, None, &[], None).await;
        r.problem(405, "method_not_allowed");
        let mut allowed: Vec<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("no Allow on DELETE {path}"))
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        allowed.sort();
        assert_eq!(allowed, documented, "DELETE {path}");
    }
    app.send("DELETE", "/api/v1/nowhere", None, &[], None)
        .await
        .problem(404, "not_found");

    // What the service answers fits.
    let op = app.operator();
    let body = crate::common::complaint();
    let created = app.post("/api/v1/tickets", &op, &body).await;
    check(&doc, "post", "/api/v1/tickets", &created);
    let id = created.body["id"].as_str().unwrap().to_string();
    let t = app
        .act(
            &id,
            "dispatch",
            &op,
            json!({"department": "shijian", "co_departments": ["renshe"]}),
        )
        .await;
    check(&doc, "post", "/api/v1/tickets/{id}/actions/{action}", &t);
    let sj = app.department("shijian");
    app.act(&id, "sign", &sj, json!({})).await.ok();
    let ext = app
        .act(
            &id,
            "request_extension",
            &sj,
            json!({"working_days": 3, "reason": "需现场核查"}),
        )
        .await;
    check(&doc, "post", "/api/v1/tickets/{id}/actions/{action}", &ext);
    for (path, concrete) in [
        ("/api/v1/tickets/{id}", format!("/api/v1/tickets/{id}")),
        (
            "/api/v1/tickets/{id}/events",
            format!("/api/v1/tickets/{id}/events"),
        ),
        (
            "/api/v1/tickets/{id}/timers",
            format!("/api/v1/tickets/{id}/timers"),
        ),
        ("/api/v1/tickets", "/api/v1/tickets?limit=1".to_string()),
        (
            "/api/v1/departments",
            "/api/v1/departments?limit=2".to_string(),
        ),
        (
            "/api/v1/calendar/{year}",
            "/api/v1/calendar/2026".to_string(),
        ),
        (
            "/api/v1/calendar/deadline",
            "/api/v1/calendar/deadline?duration=3wd".to_string(),
        ),
    ] {
        check(&doc, "get", path, &app.get(&concrete, &op).await);
    }
    let sup = app.supervisor();
    check(
        &doc,
        "get",
        "/api/v1/notifications",
        &app.get("/api/v1/notifications", &sup).await,
    );
    for (path, query) in [
        (
            "/api/v1/reports/kpis",
            "?from=2026-01-01&to=2027-01-01&group_by=department",
        ),
        (
            "/api/v1/reports/kpis",
            "?from=2026-01-01&to=2027-01-01&group_by=mood",
        ),
        ("/api/v1/reports/ranking", "?from=2026-01-01&to=2027-01-01"),
        ("/api/v1/reports/overdue", ""),
    ] {
        check(
            &doc,
            "get",
            path,
            &app.get(&format!("{path}{query}"), &sup).await,
        );
    }
    check(
        &doc,
        "get",
        "/api/v1/reports/ranking",
        &app.get("/api/v1/reports/ranking?from=2026-01-01&to=2027-01-01", &op)
            .await,
    );
    for path in ["/healthz", "/readyz"] {
        check(
            &doc,
            "get",
            path,
            &app.send("GET", path, None, &[], None).await,
        );
    }
    // Problems fit too.
    check(
        &doc,
        "get",
        "/api/v1/tickets/{id}",
        &app.get("/api/v1/tickets/nope", &op).await,
    );
    check(
        &doc,
        "get",
        "/api/v1/tickets",
        &app.send("GET", "/api/v1/tickets", None, &[], None).await,
    );
    let bad = app
        .post("/api/v1/tickets", &op, &json!({"channel": 1}))
        .await;
    check(&doc, "post", "/api/v1/tickets", &bad);
    let stale = app
        .send(
            "POST",
            &format!("/api/v1/tickets/{id}/actions/comment"),
            Some(&op),
            &[("If-Match", "\"1\"")],
            Some(br#"{"content": "x"}"#.to_vec()),
        )
        .await;
    check(
        &doc,
        "post",
        "/api/v1/tickets/{id}/actions/{action}",
        &stale,
    );
    // The knowledge base's answers, and its problems.
    let shuiwu = app.department("shuiwu");
    let article = json!({
        "title": "小微企业增值税留抵退税", "body": "## 适用对象\n\n小微企业", "keywords": ["留抵退税"],
        "doc_number": "鄂税发〔2026〕8号", "valid_from": "2026-01-01", "state": "published",
    });
    let created = app.post("/api/v1/knowledge", &shuiwu, &article).await;
    check(&doc, "post", "/api/v1/knowledge", &created);
    let kid = created.body["id"].as_str().unwrap().to_string();
    let edited = app
        .send(
            "PATCH",
            &format!("/api/v1/knowledge/{kid}"),
            Some(&shuiwu),
            &[],
            Some(br#"{"valid_to": "2027-12-31"}"#.to_vec()),
        )
        .await;
    check(&doc, "patch", "/api/v1/knowledge/{id}", &edited);
    for (path, concrete) in [
        (
            "/api/v1/knowledge",
            format!(
                "/api/v1/knowledge?q={}&limit=1",
                crate::common::urlencode("退税")
            ),
        ),
        ("/api/v1/knowledge", "/api/v1/knowledge".to_string()),
        ("/api/v1/knowledge/{id}", format!("/api/v1/knowledge/{kid}")),
        (
            "/api/v1/knowledge/{id}/versions",
            format!("/api/v1/knowledge/{kid}/versions"),
        ),
        (
            "/api/v1/knowledge/{id}",
            "/api/v1/knowledge/nope".to_string(),
        ),
        ("/api/v1/knowledge", "/api/v1/knowledge?limit=0".to_string()),
    ] {
        check(&doc, "get", path, &app.get(&concrete, &op).await);
    }
    for bad in [
        json!({"title": ""}),
        json!({"title": "t", "body": "b", "department": "renshe"}),
    ] {
        check(
            &doc,
            "post",
            "/api/v1/knowledge",
            &app.post("/api/v1/knowledge", &shuiwu, &bad).await,
        );
    }
    let stale = app
        .send(
            "PATCH",
            &format!("/api/v1/knowledge/{kid}"),
            Some(&shuiwu),
            &[("If-Match", "\"1\"")],
            Some(br#"{"title": "x"}"#.to_vec()),
        )
        .await;
    check(&doc, "patch", "/api/v1/knowledge/{id}", &stale);
    // 存为知识: a replied consultation's draft, and a complaint refused.
    let consultation = app
        .post(
            "/api/v1/tickets",
            &op,
            &json!({
                "channel": "hotline", "category": "consultation", "urgency": "normal",
                "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
                "contact": {"name": "王建国", "phone": "13907141234"},
                "subject": "留抵退税怎么申请", "description": "企业咨询留抵退税的条件。",
            }),
        )
        .await;
    let cid = consultation.body["id"].as_str().unwrap().to_string();
    app.act(&cid, "dispatch", &op, json!({"department": "shuiwu"}))
        .await
        .ok();
    app.act(&cid, "sign", &shuiwu, json!({})).await.ok();
    app.act(
        &cid,
        "reply",
        &shuiwu,
        json!({"content": "可在电子税务局申请。"}),
    )
    .await
    .ok();
    let kept = app
        .post(
            &format!("/api/v1/tickets/{cid}/knowledge"),
            &shuiwu,
            &json!({}),
        )
        .await;
    assert_eq!(kept.status.as_u16(), 201, "{}", kept.body);
    check(&doc, "post", "/api/v1/tickets/{id}/knowledge", &kept);
    let refused = app
        .post(&format!("/api/v1/tickets/{id}/knowledge"), &sj, &json!({}))
        .await;
    check(&doc, "post", "/api/v1/tickets/{id}/knowledge", &refused);
    let token = app
        .send(
            "POST",
            "/api/v1/auth/token",
            None,
            &[],
            Some(br#"{"username": "nobody", "password": "x"}"#.to_vec()),
        )
        .await;
    check(&doc, "post", "/api/v1/auth/token", &token);
    let _: Value = doc;
}

async fn the_api_browser_is_built_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.send("GET", "/docs", None, &[], None).await;
    assert_eq!(r.status.as_u16(), 302);
    assert_eq!(r.header("location"), Some("/docs/"));
    let page = app.send("GET", "/docs/", None, &[], None).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.as_str().unwrap().contains("swagger-ui"));
    let script = app
        .send("GET", "/docs/swagger-ui-bundle.js", None, &[], None)
        .await;
    assert_eq!(script.status.as_u16(), 200, "served from the binary");
    let init = app
        .send("GET", "/docs/swagger-initializer.js", None, &[], None)
        .await;
    assert!(init.body.as_str().unwrap().contains("/api/v1/openapi.json"));
}
