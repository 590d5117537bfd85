//! The console over HTTP, on SQLite and on PostgreSQL: every page sends a visitor who is not
//! signed in to the sign-in page; a form without its CSRF token is a 403 that changes nothing;
//! what people typed is escaped; a session ended by logout opens nothing; the case page offers
//! only what the lifecycle allows, and a page out of date is refused and shown again fresh.

use crate::common::browser::{Browser, PASSWORD, people};
use crate::common::{Backend, TestApp, complaint, count, id};
use actix_web::http::StatusCode;
use serde_json::json;

on_both_backends!(
    signed_out_visitors_go_to_the_sign_in_page,
    signing_in_and_out,
    a_form_without_its_token_changes_nothing,
    what_people_typed_is_escaped,
    a_case_walks_the_loop_in_the_console,
    a_department_sees_only_its_own_cases,
    a_stale_page_is_refused_and_shown_fresh,
    a_page_behind_only_the_clocks_still_acts,
    a_double_submitted_create_makes_one_case,
    bad_input_is_shown_in_chinese_beside_the_field,
    pages_are_html_under_a_strict_policy,
    a_database_away_is_the_503_page,
    every_form_needs_its_token,
    the_enterprise_file_and_likely_repeats_at_intake,
);

async fn signed_out_visitors_go_to_the_sign_in_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.create(json!({})).await;
    let mut b = Browser::new(&app);
    let case = format!("/tickets/{}", id(&t));
    for path in [
        "/",
        "/desk",
        "/workbench",
        "/board",
        "/tickets",
        "/tickets/new",
        case.as_str(),
        "/admin/calendar",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "GET {path}");
        assert!(
            page.location().starts_with("/login"),
            "GET {path}: {}",
            page.location()
        );
    }
    let page = b.get("/tickets?state=handling").await;
    assert_eq!(page.location(), "/login?next=/tickets%3Fstate%3Dhandling");
    // Forms too, and nothing is written.
    let act = format!("/tickets/{}/actions/dispatch", id(&t));
    for path in [
        "/tickets/new",
        act.as_str(),
        "/logout",
        "/admin/calendar/2030",
    ] {
        let page = b.post(path, &[("csrf_token", "x")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "POST {path}");
        assert!(page.location().starts_with("/login"));
    }
    assert_eq!(count(&mut app.conn(), "tickets"), 1);
    // The sign-in page itself is open, and says who it is for.
    let login = b.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.html.contains("name=\"username\"") && login.html.contains("name=\"password\""));
    assert!(login.html.contains("登录"));
}

async fn signing_in_and_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut b = Browser::new(&app);
    // A wrong password is said so, in Chinese, and opens nothing.
    let form = b.get("/login").await;
    let csrf = form.csrf();
    let wrong = b
        .post(
            "/login",
            &[
                ("username", "op"),
                ("password", "nope"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("用户名或密码不正确"));
    assert!(!b.cookies.contains_key("cl_session"));
    // Without the sign-in form's token: 403, nothing opened.
    let mut other = Browser::new(&app);
    let forged = other
        .post(
            "/login",
            &[
                ("username", "op"),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!other.cookies.contains_key("cl_session"));

    let done = b.sign_in("op", PASSWORD).await;
    assert_eq!(done.location(), "/desk");
    let cookie = done.header("set-cookie").unwrap_or_default().to_string();
    let session = done
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cl_session="))
        .unwrap_or_else(|| panic!("no session cookie: {cookie}"))
        .to_string();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Max-Age="), "{session}");
    assert!(!session.contains("Secure"), "http here: {session}");
    let desk = b.get("/desk").await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.html.contains("话务员工作台"));
    assert_eq!(b.get("/").await.location(), "/desk");
    // Each role has its home.
    for (name, home) in [
        ("sj", "/workbench"),
        ("sup", "/board"),
        ("adm", "/admin/calendar"),
    ] {
        let mut other = Browser::new(&app);
        assert_eq!(other.sign_in(name, PASSWORD).await.location(), home);
        assert_eq!(other.get(home).await.status, StatusCode::OK, "{home}");
    }
    // Logout ends the session in the database: the same cookie, sent again, opens nothing.
    let kept = b.cookies.clone();
    let csrf = desk.csrf();
    let out = b.post("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    b.cookies = kept;
    let after = b.get("/desk").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
    // Coming back to where one was going.
    let mut c = Browser::new(&app);
    let login = c.get("/login?next=/tickets%3Fstate%3Daccepted").await;
    let csrf = login.csrf();
    let done = c
        .post(
            "/login",
            &[
                ("username", "op"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", "/tickets?state=accepted"),
            ],
        )
        .await;
    assert_eq!(done.location(), "/tickets?state=accepted");
    // Never to another site.
    let mut d = Browser::new(&app);
    let csrf = d.get("/login").await.csrf();
    let done = d
        .post(
            "/login",
            &[
                ("username", "op"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", "//evil.example.com/"),
            ],
        )
        .await;
    assert_eq!(done.location(), "/desk");
}

async fn a_form_without_its_token_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let t = app.create(json!({})).await;
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let page = b.get(&format!("/tickets/{}", id(&t))).await;
    let version = page.field("version").expect("a version on the form");
    let path = format!("/tickets/{}/actions/dispatch", id(&t));
    for token in [None, Some("wrong"), Some("")] {
        let mut pairs = vec![("department", "shijian"), ("version", version.as_str())];
        if let Some(token) = token {
            pairs.push(("csrf_token", token));
        }
        let r = b.post(&path, &pairs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(r.html.contains("表单已失效"));
    }
    let now = app
        .get(&format!("/api/v1/tickets/{}", id(&t)), &app.operator())
        .await;
    assert_eq!(now.ok()["state"], "accepted");
    assert_eq!(now.body["version"], 1);
    // The new-case form, logout and the text size need it too.
    let form = b.get("/tickets/new").await;
    let key = form.field("idempotency_key").unwrap();
    let r = b
        .post(
            "/tickets/new",
            &[
                ("idempotency_key", &key),
                ("subject", "x"),
                ("csrf_token", "no"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&mut app.conn(), "tickets"), 1);
    assert_eq!(b.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    assert!(b.get("/desk").await.status.is_success(), "still signed in");
    assert_eq!(
        b.post("/prefs/text", &[("size", "large")]).await.status,
        StatusCode::FORBIDDEN
    );
    // With it, the action goes through the lifecycle like the API's.
    let csrf = page.csrf();
    let r = b
        .post(
            &path,
            &[
                ("department", "shijian"),
                ("version", &version),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let now = app
        .get(&format!("/api/v1/tickets/{}", id(&t)), &app.operator())
        .await;
    assert_eq!(now.ok()["state"], "dispatched");
    assert!(app.actions(id(&t)).await.contains(&"dispatch".to_string()));
}

async fn what_people_typed_is_escaped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let t = app
        .create(json!({
            "subject": "<script>alert(1)</script>",
            "description": "\"><img src=x onerror=alert(2)>",
            "enterprise": {"name": "<b>某公司</b>", "credit_code": "91420204MA4B1C2D1D"},
        }))
        .await;
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    for path in [
        format!("/tickets/{}", id(&t)),
        "/desk".to_string(),
        "/tickets".to_string(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.html.contains("<script>alert"), "{path}");
        assert!(!page.html.contains("<img src=x"), "{path}");
        assert!(!page.html.contains("<b>某公司"), "{path}");
        assert!(
            page.html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
                || page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
}

async fn a_case_walks_the_loop_in_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let (mut op, mut sj, mut sup) = (Browser::new(&app), Browser::new(&app), Browser::new(&app));
    op.sign_in("op", PASSWORD).await;
    sj.sign_in("sj", PASSWORD).await;
    sup.sign_in("sup", PASSWORD).await;
    // 受理 in the form.
    let form = op.get("/tickets/new").await;
    let body = complaint();
    let (csrf, key) = (form.csrf(), form.field("idempotency_key").unwrap());
    let created = op
        .post(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("idempotency_key", &key),
                ("channel", "hotline"),
                ("category", "complaint"),
                ("urgency", "normal"),
                (
                    "enterprise.name",
                    body["enterprise"]["name"].as_str().unwrap(),
                ),
                ("enterprise.credit_code", "91420204ma4b1c2d1d"),
                ("contact.name", "王建国"),
                ("contact.phone", "(0714) 635-1234"),
                ("subject", "食品经营许可证变更办理超时"),
                ("description", "企业于上月提交申请。"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let case = created.location().split('?').next().unwrap().to_string();
    let id = case.trim_start_matches("/tickets/").to_string();
    let api = app
        .get(&format!("/api/v1/tickets/{id}"), &app.operator())
        .await;
    assert_eq!(api.ok()["contact"]["phone"], "0714-6351234");
    assert_eq!(api.body["enterprise"]["credit_code"], "91420204MA4B1C2D1D");

    // Each step: the button is on the page for this person only when the lifecycle allows it.
    async fn step(b: &mut Browser<'_>, case: &str, action: &str, fields: &[(&str, &str)]) {
        let page = b.get(case).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.html.contains(&format!("data-action=\"{action}\"")),
            "{action} is not offered"
        );
        let (csrf, version) = (page.csrf(), page.field("version").unwrap());
        let mut pairs = vec![("csrf_token", csrf.as_str()), ("version", version.as_str())];
        pairs.extend_from_slice(fields);
        let done = b.post(&format!("{case}/actions/{action}"), &pairs).await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            done.html
        );
        // To the case again — or, when the case left this person's reach (a return), home.
        let expected = if action == "return" {
            format!("/workbench?done={action}")
        } else {
            format!("{case}?done={action}")
        };
        assert_eq!(done.location(), expected);
        let after = b.get(done.location()).await;
        assert!(
            after.html.contains("role=\"status\""),
            "{action}: a word after it"
        );
    }
    step(
        &mut op,
        &case,
        "dispatch",
        &[("department", "shijian"), ("co_departments", "sifa")],
    )
    .await;
    // Not the supervisor's or the operator's to sign.
    assert!(!op.get(&case).await.html.contains("data-action=\"sign\""));
    step(&mut sj, &case, "return", &[("reason", "不属于本单位职责")]).await;
    step(&mut op, &case, "dispatch", &[("department", "shijian")]).await;
    step(&mut sj, &case, "sign", &[]).await;
    step(
        &mut sj,
        &case,
        "request_extension",
        &[("working_days", "5"), ("reason", "需现场核查")],
    )
    .await;
    step(
        &mut sup,
        &case,
        "decide_extension",
        &[("approve", "true"), ("note", "同意")],
    )
    .await;
    step(
        &mut sup,
        &case,
        "supervise",
        &[("note", "请加快办理"), ("due", "2099-12-04T17:30")],
    )
    .await;
    step(&mut sj, &case, "reply", &[("content", "已办结")]).await;
    step(
        &mut op,
        &case,
        "feedback",
        &[("satisfaction", "dissatisfied"), ("comment", "未解决")],
    )
    .await;
    let reopened = app
        .get(&format!("/api/v1/tickets/{id}"), &app.operator())
        .await;
    assert_eq!(reopened.ok()["state"], "handling");
    assert_eq!(reopened.body["reopen_count"], 1);
    step(&mut sj, &case, "reply", &[("content", "已重新办理")]).await;
    step(&mut op, &case, "feedback", &[("satisfaction", "satisfied")]).await;
    step(&mut op, &case, "archive", &[]).await;
    let page = op.get(&case).await;
    assert!(page.html.contains("data-state=\"archived\""));
    assert!(
        !page.html.contains("data-action="),
        "an archived case offers nothing"
    );
    // The supervision's due was taken in the zone and written with its offset.
    let events = app
        .get(
            &format!("/api/v1/tickets/{id}/events?limit=100"),
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
    assert_eq!(supervise["payload"]["due"], "2099-12-04T17:30:00+08:00");
    // The timeline and the stages are on the page, in Chinese.
    assert!(
        page.html.contains("办理过程")
            && page.html.contains("退单")
            && page.html.contains("重办次数")
    );
    assert!(page.html.contains("签收期限") && page.html.contains("按时完成"));
}

async fn a_department_sees_only_its_own_cases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let theirs = app.dispatched("sifa", &[], false).await;
    let mine = app.dispatched("shijian", &[], false).await;
    let report = app
        .create(
            json!({"category": "report", "contact": {"name": "李举报", "phone": "13800138000"}}),
        )
        .await;
    app.act(
        id(&report),
        "dispatch",
        &app.operator(),
        json!({"department": "shijian"}),
    )
    .await
    .ok();
    let mut b = Browser::new(&app);
    b.sign_in("sj", PASSWORD).await;
    let other = b.get(&format!("/tickets/{}", id(&theirs))).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(other.html.contains("没有找到"));
    assert!(!other.html.contains(theirs["subject"].as_str().unwrap()));
    let own = b.get(&format!("/tickets/{}", id(&mine))).await;
    assert_eq!(own.status, StatusCode::OK);
    // Masked as the API masks a 举报's reporter for departments.
    let masked = b.get(&format!("/tickets/{}", id(&report))).await;
    assert!(masked.html.contains("李*") && masked.html.contains("138****8000"));
    assert!(!masked.html.contains("13800138000"));
    let workbench = b.get("/workbench").await;
    assert!(
        workbench
            .html
            .contains(&format!("data-ticket-id=\"{}\"", id(&mine)))
    );
    assert!(
        !workbench
            .html
            .contains(&format!("data-ticket-id=\"{}\"", id(&theirs)))
    );
    // An action posted on another's case is the 404 too, and changes nothing.
    let csrf = own.csrf();
    let r = b
        .post(
            &format!("/tickets/{}/actions/sign", id(&theirs)),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let still = app
        .get(&format!("/api/v1/tickets/{}", id(&theirs)), &app.operator())
        .await;
    assert_eq!(still.ok()["state"], "dispatched");
}

async fn a_stale_page_is_refused_and_shown_fresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let t = app.dispatched("shijian", &[], true).await;
    let mut b = Browser::new(&app);
    b.sign_in("sj", PASSWORD).await;
    let case = format!("/tickets/{}", id(&t));
    let page = b.get(&case).await;
    let (csrf, version) = (page.csrf(), page.field("version").unwrap());
    // Meanwhile someone else comments.
    app.act(
        id(&t),
        "comment",
        &app.operator(),
        json!({"content": "已电话联系企业"}),
    )
    .await
    .ok();
    let r = b
        .post(
            &format!("{case}/actions/reply"),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("content", "已办结"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("{case}?stale=1"));
    let fresh = b.get(r.location()).await;
    assert!(fresh.html.contains("刚刚被他人更新"));
    assert!(
        fresh.html.contains("已电话联系企业"),
        "the fresh page has the comment"
    );
    let now = app
        .get(&format!("/api/v1/tickets/{}", id(&t)), &app.operator())
        .await;
    assert_eq!(now.ok()["state"], "handling", "nothing overwritten");
}

async fn a_double_submitted_create_makes_one_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let form = b.get("/tickets/new").await;
    let (csrf, key) = (form.csrf(), form.field("idempotency_key").unwrap());
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("channel", "hotline"),
        ("category", "consultation"),
        ("enterprise.name", "某某科技有限公司"),
        ("enterprise.credit_code", "91420204MA4B1C2D1D"),
        ("contact.name", "张三"),
        ("contact.phone", "13800138000"),
        ("subject", "开办登记咨询"),
        ("description", "如何办理？"),
    ];
    let first = b.post("/tickets/new", &fields).await;
    let second = b.post("/tickets/new", &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.html);
    assert_eq!(first.location(), second.location());
    assert_eq!(count(&mut app.conn(), "tickets"), 1);
    // A new form is a new key: a second case.
    let again = b.get("/tickets/new").await;
    assert_ne!(again.field("idempotency_key").unwrap(), key);
}

async fn bad_input_is_shown_in_chinese_beside_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let form = b.get("/tickets/new").await;
    let (csrf, key) = (form.csrf(), form.field("idempotency_key").unwrap());
    let r = b
        .post(
            "/tickets/new",
            &[
                ("csrf_token", &csrf),
                ("idempotency_key", &key),
                ("channel", "hotline"),
                ("category", "complaint"),
                ("enterprise.name", "某某科技有限公司"),
                ("enterprise.credit_code", "91420204MA4B1C2D1X"),
                ("contact.name", "\u{200B}"),
                ("contact.phone", "12345"),
                ("subject", "超时"),
                ("description", "说明"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html.contains("校验位（第 18 位）不对，应为 D"),
        "{}",
        r.html
    );
    assert!(r.html.contains("id=\"contact-name-error\""));
    assert!(r.html.contains("必填，不能为空"));
    assert!(r.html.contains("请填写手机号"));
    // What was typed is kept.
    assert!(r.html.contains("某某科技有限公司"));
    assert_eq!(count(&mut app.conn(), "tickets"), 0);
    // The checks the script asks for while typing are the API's own.
    let ok = b
        .get("/tickets/new/check?field=enterprise.credit_code&value=91420204ma4b1c2d1d")
        .await;
    let answer: serde_json::Value = serde_json::from_str(&ok.html).unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["value"], "91420204MA4B1C2D1D");
    let bad = b
        .get("/tickets/new/check?field=contact.phone&value=%2B1%20415%20555%200100")
        .await;
    let answer: serde_json::Value = serde_json::from_str(&bad.html).unwrap();
    assert_eq!(answer["ok"], false);
    // An action's bad payload is shown on the case page beside its field.
    let t = app.dispatched("shijian", &[], true).await;
    let mut sj = Browser::new(&app);
    sj.sign_in("sj", PASSWORD).await;
    let case = format!("/tickets/{}", id(&t));
    let page = sj.get(&case).await;
    let r = sj
        .post(
            &format!("{case}/actions/request_extension"),
            &[
                ("csrf_token", &page.csrf()),
                ("version", &page.field("version").unwrap()),
                ("working_days", "99"),
                ("reason", "核查"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("延期应为 1 至 60 个工作日"));
    assert!(r.html.contains("value=\"99\""), "the value stays");
}

async fn pages_are_html_under_a_strict_policy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut b = Browser::new(&app);
    b.sign_in("sup", PASSWORD).await;
    let board = b.get("/board").await;
    assert_eq!(board.status, StatusCode::OK);
    assert_eq!(
        board.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = board.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(board.html.contains("lang=\"zh-CN\""));
    // The assets the page names are served, for good, under names that change with them.
    for asset in board
        .html
        .split('"')
        .filter(|s| s.starts_with("/static/"))
        .collect::<Vec<_>>()
    {
        let r = b.get(asset).await;
        assert_eq!(r.status, StatusCode::OK, "{asset}");
        assert!(r.header("cache-control").unwrap().contains("immutable"));
    }
    assert_eq!(
        b.get("/static/console.css").await.status,
        StatusCode::NOT_FOUND
    );
    // The larger-text mode is remembered by the browser.
    let csrf = board.csrf();
    let r = b
        .post(
            "/prefs/text",
            &[("csrf_token", &csrf), ("size", "large"), ("back", "/board")],
        )
        .await;
    assert_eq!(r.location(), "/board");
    assert!(b.get("/board").await.html.contains("class=\"large\""));
    // An address that is no page is the Chinese 404 page, not the API's JSON.
    let nowhere = b.get("/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(nowhere.html.contains("没有找到"));
    // HEAD works on pages as on the API.
    let r = app.send("HEAD", "/login", None, &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// A page drawn before the system warned or escalated (no person's decision, no state change) is
/// not stale: the action goes through. A new case is warned at once when its first deadline is
/// shorter than the warning's lead, so this is the everyday case, not a corner.
async fn a_page_behind_only_the_clocks_still_acts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let t = app.dispatched("shijian", &[], true).await;
    let mut b = Browser::new(&app);
    b.sign_in("sj", PASSWORD).await;
    let case = format!("/tickets/{}", id(&t));
    let page = b.get(&case).await;
    let (csrf, version) = (page.csrf(), page.field("version").unwrap());
    let warn_at = app.timers(id(&t)).await["interim_reply"]["warn_at"]
        .as_str()
        .map(|w| chrono::DateTime::parse_from_rfc3339(w).unwrap().naive_utc())
        .unwrap();
    assert!(app.fire_due(warn_at + chrono::Duration::minutes(1)).steps > 0);
    let r = b
        .post(
            &format!("{case}/actions/interim_reply"),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("content", "已受理，正在核查"),
            ],
        )
        .await;
    assert_eq!(
        r.location(),
        format!("{case}?done=interim_reply"),
        "{}",
        r.html
    );
    let actions = app.actions(id(&t)).await;
    assert_eq!(
        actions.last().map(String::as_str),
        Some("interim_reply"),
        "{actions:?}"
    );
    assert!(actions.contains(&"warn".to_string()));
}

/// With every connection taken, a page is the 503 page in Chinese, quickly, with `Retry-After`.
async fn a_database_away_is_the_503_page(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__DATABASE__POOL_SIZE", "2"),
            ("CLOSEDLOOP__DATABASE__POOL_TIMEOUT", "1s"),
        ],
    )
    .await;
    people(&app);
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let held: Vec<_> = (0..2).map(|_| app.conn()).collect();
    let page = b.get("/desk").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.html.contains("系统繁忙"), "{}", page.html);
    assert!(page.header("retry-after").is_some());
    drop(held);
    assert_eq!(b.get("/desk").await.status, StatusCode::OK);
}

/// The admin's calendar and the board's retry refuse a form without its token too, and write
/// nothing.
async fn every_form_needs_its_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut admin = Browser::new(&app);
    admin.sign_in("adm", PASSWORD).await;
    let r = admin
        .post(
            "/admin/calendar/2031",
            &[("off", "2031-01-01"), ("work", ""), ("csrf_token", "nope")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let year = app.get("/api/v1/calendar/2031", &app.admin()).await;
    assert_eq!(year.ok()["known"], false);
    // With it, the year is loaded, as PUT /api/v1/calendar/2031 would.
    let page = admin.get("/admin/calendar?year=2031").await;
    let r = admin
        .post(
            "/admin/calendar/2031",
            &[
                ("off", "2031-01-01\n2031-10-01"),
                ("work", "2031-10-11"),
                ("csrf_token", &page.csrf()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let year = app.get("/api/v1/calendar/2031", &app.admin()).await;
    assert_eq!(year.ok()["off"], json!(["2031-01-01", "2031-10-01"]));
    assert_eq!(year.body["work"], json!(["2031-10-11"]));
    // A failed notification is retried only with the token.
    let t = app.dispatched("shijian", &[], false).await;
    let row = closedloop::store::outbox::for_ticket(&mut app.conn(), id(&t).parse().unwrap())
        .unwrap()
        .remove(0);
    let mut sup = Browser::new(&app);
    sup.sign_in("sup", PASSWORD).await;
    let path = format!("/board/notifications/{}/retry", row.id);
    let r = sup.post(&path, &[("csrf_token", "nope")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let board = sup.get("/board").await;
    let r = sup.post(&path, &[("csrf_token", &board.csrf())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    // An operator may not use the board's forms at all.
    let mut op = Browser::new(&app);
    let desk = op.sign_in("op", PASSWORD).await;
    let _ = desk;
    let page = op.get("/desk").await;
    let r = op.post(&path, &[("csrf_token", &page.csrf())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn the_enterprise_file_and_likely_repeats_at_intake(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let code = "91420204MA4B1C2D1D";
    let earlier = app
        .create(json!({"subject": "稳岗返还资金一直未到账", "description": "公司6月申报的稳岗返还3.2万元至今未到账。"}))
        .await;
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let encode = crate::common::browser::encode;

    // The panel beside the 受理 form: the file once the code is valid, and the likely repeat.
    let panel = b
        .get(&format!(
            "/tickets/new/similar?{}",
            encode(&[
                ("subject", "稳岗返还还没到账"),
                ("description", ""),
                ("credit_code", code)
            ])
        ))
        .await;
    assert_eq!(panel.status, StatusCode::OK);
    assert!(panel.html.contains("企业档案"), "{}", panel.html);
    assert!(panel.html.contains(earlier["number"].as_str().unwrap()));
    assert!(panel.html.contains("同一企业"));
    assert!(panel.html.contains(&format!("value=\"{}\"", id(&earlier))));
    let nothing = b
        .get(&format!(
            "/tickets/new/similar?{}",
            encode(&[("subject", "噪音"), ("credit_code", "9142")])
        ))
        .await;
    assert!(
        nothing.html.contains("没有发现相似的诉求"),
        "{}",
        nothing.html
    );

    // Marked as a repeat when logged: both cases say so.
    let form = b.get("/tickets/new").await;
    assert!(form.html.contains("data-similar-panel"));
    let (csrf, key) = (form.csrf(), form.field("idempotency_key").unwrap());
    let created = b
        .post(
            "/tickets/new",
            &[
                ("csrf_token", csrf.as_str()),
                ("idempotency_key", key.as_str()),
                ("channel", "hotline"),
                ("category", "complaint"),
                ("enterprise.name", "黄石市恒信机械制造有限公司"),
                ("enterprise.credit_code", code),
                ("contact.name", "王建国"),
                ("contact.phone", "13907141234"),
                ("subject", "稳岗返还还没到账"),
                ("description", "再次反映稳岗返还未到账。"),
                ("duplicate_of", id(&earlier)),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let page = b.get(created.location()).await;
    assert!(page.html.contains("重复件，原件"), "{}", page.html);
    assert!(page.html.contains(&format!("/enterprises/{code}")));
    let first = b.get(&format!("/tickets/{}", id(&earlier))).await;
    assert!(first.html.contains("其重复件"));

    // The enterprise's page: its counts and its cases.
    let file = b.get(&format!("/enterprises/{code}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.html.contains("企业档案"));
    assert!(
        file.html.contains("data-field=\"cases_total\">2 件"),
        "{}",
        file.html
    );
    assert!(file.html.contains("data-field=\"repeats\">1 件"));
    assert_eq!(file.html.matches("data-ticket-id=").count(), 2);
    assert_eq!(
        b.get("/enterprises/not-a-code").await.status,
        StatusCode::NOT_FOUND
    );

    // A department sees it only through a case it handles.
    let mut sj = Browser::new(&app);
    sj.sign_in("sj", PASSWORD).await;
    assert_eq!(
        sj.get(&format!("/enterprises/{code}")).await.status,
        StatusCode::NOT_FOUND
    );
    app.act(
        id(&earlier),
        "dispatch",
        &app.operator(),
        json!({"department": "shijian"}),
    )
    .await
    .ok();
    let mine = sj.get(&format!("/enterprises/{code}")).await;
    assert_eq!(mine.html.matches("data-ticket-id=").count(), 1);
    let refused = sj.get("/tickets/new/similar?subject=x").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A repeat refused (不予受理) names the earlier case by its number; one not finished yet is
    // refused beside the field, in Chinese.
    let again = app.create(json!({})).await;
    let page = b.get(&format!("/tickets/{}", id(&again))).await;
    let (csrf, version) = (page.csrf(), page.field("version").unwrap());
    let number = earlier["number"].as_str().unwrap();
    let reject = format!("/tickets/{}/actions/reject", id(&again));
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("version", version.as_str()),
        ("reason", "重复投诉"),
        ("repeat_of", number),
    ];
    let refused = b.post(&reject, &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("原件尚未办结，请改用并单"),
        "{}",
        refused.html
    );
    app.act(id(&earlier), "sign", &app.department("shijian"), json!({}))
        .await
        .ok();
    app.act(
        id(&earlier),
        "reply",
        &app.department("shijian"),
        json!({"content": "已办结"}),
    )
    .await
    .ok();
    let done = b.post(&reject, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let t = app
        .get(&format!("/api/v1/tickets/{}", id(&again)), &app.operator())
        .await;
    assert_eq!(t.ok()["duplicate_of"], id(&earlier));
}
