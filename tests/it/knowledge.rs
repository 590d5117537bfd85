//! The policy knowledge base on both backends, through the real server: articles written by
//! departments and admins, each write a version that names the fields it changed; who reads and
//! writes what; field-level 422s and the If-Match 412; search by one or two Chinese characters, a
//! phrase, a mixed query, alike on SQLite (FTS5) and PostgreSQL (GIN); expired
//! articles marked; bodies rendered without the HTML typed into them; the functions the
//! consultation desk and the KPIs call; the console's pages and forms; a replied consultation kept
//! as a draft (存为知识) over the API and the console; and the policies suggested beside the 受理
//! form while a consultation is logged.

use crate::common::browser::{Browser, PASSWORD, people};
use crate::common::{Backend, TestApp, count, urlencode};
use actix_web::http::StatusCode;
use chrono::{Duration, NaiveDate};
use closedloop::app::knowledge as service;
use closedloop::store::knowledge as repo;
use serde_json::{Value, json};

on_both_backends!(
    an_article_is_written_edited_and_kept_by_version,
    who_reads_and_writes_what,
    bad_input_is_refused_by_field,
    a_stale_if_match_is_refused,
    search_finds_one_two_and_more_characters,
    an_edit_is_searched_by_its_new_words,
    an_article_past_its_date_is_expired,
    markdown_is_shown_without_the_html_typed_into_it,
    the_desk_and_the_kpis_read_what_they_need,
    the_console_lists_shows_and_writes_articles,
    a_bad_form_is_shown_in_chinese_beside_the_field,
    a_replied_consultation_is_kept_as_a_draft,
    the_console_keeps_a_case_answer_as_knowledge,
    the_intake_panel_suggests_policies_for_a_consultation,
);

/// Today in Asia/Shanghai, as `valid_to` is compared.
fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// Writes an article as `token`; panics unless it is created.
async fn write(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/knowledge", token, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn patch(
    app: &TestApp,
    id: &str,
    token: &str,
    if_match: Option<&str>,
    body: Value,
) -> crate::common::Reply {
    let mut headers = vec![];
    if let Some(v) = if_match {
        headers.push(("If-Match", v));
    }
    app.send(
        "PATCH",
        &format!("/api/v1/knowledge/{id}"),
        Some(token),
        &headers,
        Some(body.to_string().into_bytes()),
    )
    .await
}

fn id(article: &Value) -> &str {
    article["id"].as_str().expect("an article has an id")
}

/// The titles a search or list answers, in order.
async fn titles(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/knowledge?{query}"), token).await;
    r.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    titles(app, token, &format!("q={}", urlencode(q))).await
}

async fn an_article_is_written_edited_and_kept_by_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shuiwu = app.department("shuiwu");
    let r = app
        .post(
            "/api/v1/knowledge",
            &shuiwu,
            &json!({
                "title": "小微企业增值税留抵退税",
                "body": "## 适用对象\n\n符合条件的**小微企业**。",
                "keywords": ["留抵退税", "增值税", "留抵退税"],
                "valid_from": "2026-01-01",
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = r.body.clone();
    let location = format!("/api/v1/knowledge/{}", id(&a));
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(a["department"], "shuiwu");
    assert_eq!(a["department_name"], "区税务局");
    assert_eq!(a["keywords"], json!(["留抵退税", "增值税"]));
    assert_eq!(
        (a["state"].as_str(), a["visibility"].as_str()),
        (Some("draft"), Some("internal"))
    );
    assert_eq!(
        (a["version"].as_i64(), a["expired"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(a["valid_from"], "2026-01-01");
    assert_eq!(a["valid_to"], Value::Null);
    assert_eq!(a["created_by"], "shuiwu-staff");
    assert!(a["created_at"].as_str().unwrap().ends_with("+08:00"), "{a}");
    assert!(
        a["body_html"]
            .as_str()
            .unwrap()
            .contains("<h2>适用对象</h2>")
    );

    // Published with its 文号: a new version naming what changed.
    let r = patch(
        &app,
        id(&a),
        &shuiwu,
        Some("\"1\""),
        json!({"state": "published", "doc_number": "鄂税发〔2026〕8号", "title": "小微企业增值税留抵退税"}),
    )
    .await;
    let b = r.ok().clone();
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(
        (b["state"].as_str(), b["version"].as_i64()),
        (Some("published"), Some(2))
    );
    assert_eq!(b["doc_number"], "鄂税发〔2026〕8号");
    assert_eq!(b["created_at"], a["created_at"]);
    // An admin edits any department's article; null clears a date.
    let c = patch(
        &app,
        id(&a),
        &app.admin(),
        None,
        json!({"valid_from": null, "visibility": "public"}),
    )
    .await
    .ok()
    .clone();
    assert_eq!(
        (c["valid_from"].clone(), c["version"].as_i64()),
        (Value::Null, Some(3))
    );
    assert_eq!(c["updated_by"], "admin1");
    // An edit that changes nothing writes nothing.
    let same = patch(
        &app,
        id(&a),
        &shuiwu,
        None,
        json!({"title": " 小微企业增值税留抵退税 "}),
    )
    .await;
    assert_eq!(same.ok()["version"], 3);

    let r = app.get(&location, &app.operator()).await;
    assert_eq!(r.header("etag"), Some("\"3\""));
    assert_eq!(r.ok()["visibility"], "public");
    let versions = app
        .get(&format!("{location}/versions"), &app.operator())
        .await;
    let items = versions.ok()["items"].as_array().unwrap().clone();
    let history: Vec<(i64, Value, &str)> = items
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["changed"].clone(),
                v["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (3, json!(["valid_from", "visibility"]), "admin1"),
            (2, json!(["doc_number", "state"]), "shuiwu-staff"),
            (
                1,
                json!([
                    "title",
                    "body",
                    "keywords",
                    "department",
                    "valid_from",
                    "state",
                    "visibility"
                ]),
                "shuiwu-staff"
            ),
        ]
    );
    // Each version keeps what the article said then.
    assert_eq!(items[2]["state"], "draft");
    assert_eq!(items[2]["doc_number"], Value::Null);
    assert_eq!(items[1]["doc_number"], "鄂税发〔2026〕8号");
    assert!(items[0]["at"].as_str().unwrap().ends_with("+08:00"));
    // Paged, newest first.
    let first = app
        .get(&format!("{location}/versions?limit=2"), &app.operator())
        .await;
    let cursor = first.ok()["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(
            &format!("{location}/versions?limit=2&cursor={cursor}"),
            &app.operator(),
        )
        .await;
    assert_eq!(rest.ok()["items"][0]["version"], 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    // An admin writes for any department, and must say which.
    let r = app
        .post(
            "/api/v1/knowledge",
            &app.admin(),
            &json!({"title": "稳岗返还", "body": "正文", "department": "renshe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["department_name"], "区人社局");
    let r = app
        .post(
            "/api/v1/knowledge",
            &app.admin(),
            &json!({"title": "稳岗返还", "body": "正文"}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["department"]);
    let r = app
        .post(
            "/api/v1/knowledge",
            &app.admin(),
            &json!({"title": "t", "body": "b", "department": "nowhere"}),
        )
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["department"]);
    // Not found: no such id, or not an id at all.
    app.get(
        "/api/v1/knowledge/0190a000-0000-7000-8000-000000000000",
        &shuiwu,
    )
    .await
    .problem(404, "not_found");
    app.get("/api/v1/knowledge/nope/versions", &shuiwu)
        .await
        .problem(404, "not_found");
}

async fn who_reads_and_writes_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (shuiwu, renshe, op, sup) = (
        app.department("shuiwu"),
        app.department("renshe"),
        app.operator(),
        app.supervisor(),
    );
    let draft = write(
        &app,
        &shuiwu,
        json!({"title": "留抵退税办理指引（征求意见稿）", "body": "草稿"}),
    )
    .await;
    let published = write(
        &app,
        &shuiwu,
        json!({"title": "留抵退税办理指引", "body": "正文", "state": "published"}),
    )
    .await;
    let theirs = write(
        &app,
        &renshe,
        json!({"title": "稳岗返还（草稿）", "body": "草稿"}),
    )
    .await;
    let draft_path = format!("/api/v1/knowledge/{}", id(&draft));
    let published_path = format!("/api/v1/knowledge/{}", id(&published));

    // Operators and supervisors read; only departments and admins write.
    for token in [&op, &sup] {
        app.post(
            "/api/v1/knowledge",
            token,
            &json!({"title": "t", "body": "b"}),
        )
        .await
        .problem(403, "forbidden");
        patch(&app, id(&published), token, None, json!({"title": "x"}))
            .await
            .problem(403, "forbidden");
    }
    // Before what is wrong with the body, and before a stale If-Match.
    app.send(
        "POST",
        "/api/v1/knowledge",
        Some(&op),
        &[],
        Some(b"{not json".to_vec()),
    )
    .await
    .problem(403, "forbidden");
    patch(
        &app,
        id(&published),
        &op,
        Some("\"7\""),
        json!({"title": "x"}),
    )
    .await
    .problem(403, "forbidden");
    let r = app
        .send(
            "PATCH",
            &published_path,
            Some(&renshe),
            &[],
            Some(b"{not json".to_vec()),
        )
        .await;
    r.problem(403, "forbidden");

    // Operators read what is published, never a draft.
    app.get(&draft_path, &op).await.problem(404, "not_found");
    app.get(&format!("{draft_path}/versions"), &op)
        .await
        .problem(404, "not_found");
    app.get(&published_path, &op).await.ok();
    assert_eq!(titles(&app, &op, "").await, ["留抵退税办理指引"]);
    assert!(titles(&app, &op, "state=draft").await.is_empty());
    // A department reads its own drafts and everyone's published, and edits only its own.
    app.get(&draft_path, &renshe)
        .await
        .problem(404, "not_found");
    assert_eq!(
        titles(&app, &renshe, "").await,
        ["稳岗返还（草稿）", "留抵退税办理指引"]
    );
    patch(&app, id(&published), &renshe, None, json!({"title": "x"}))
        .await
        .problem(403, "forbidden");
    patch(&app, id(&draft), &renshe, None, json!({"title": "x"}))
        .await
        .problem(404, "not_found");
    app.post(
        "/api/v1/knowledge",
        &renshe,
        &json!({"title": "t", "body": "b", "department": "shuiwu"}),
    )
    .await
    .problem(403, "forbidden");
    patch(
        &app,
        id(&draft),
        &shuiwu,
        None,
        json!({"department": "renshe"}),
    )
    .await
    .problem(403, "forbidden");
    patch(
        &app,
        id(&theirs),
        &renshe,
        None,
        json!({"state": "published"}),
    )
    .await
    .ok();
    // Supervisors and admins read everything, by department if asked.
    assert_eq!(titles(&app, &sup, "").await.len(), 3);
    assert_eq!(
        titles(&app, &sup, "department=shuiwu&state=draft").await,
        ["留抵退税办理指引（征求意见稿）"]
    );
    app.get(&draft_path, &app.admin()).await.ok();
    let r = app.get("/api/v1/knowledge?department=nowhere", &sup).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["department"]);
    // Signed in at all.
    app.send("GET", "/api/v1/knowledge", None, &[], None)
        .await
        .problem(401, "unauthorized");
}

async fn bad_input_is_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shuiwu = app.department("shuiwu");
    let many: Vec<String> = (0..21).map(|i| format!("词{i}")).collect();
    for (body, fields) in [
        (
            json!({"title": " ", "body": "b", "valid_from": "2026-06-01", "valid_to": "2026-05-31"}),
            vec!["title", "valid_to"],
        ),
        (
            json!({"title": "t", "body": "b", "keywords": many}),
            vec!["keywords"],
        ),
        (
            json!({"title": "t", "body": "b", "keywords": ["ok", "长".repeat(31)]}),
            vec!["keywords[1]"],
        ),
        (
            json!({"title": "t", "body": "b", "keywords": "留抵退税"}),
            vec!["keywords"],
        ),
        (
            json!({"title": "t", "body": "b", "valid_to": "2026-13-01"}),
            vec!["valid_to"],
        ),
        (
            json!({"title": "t", "body": "b", "state": "live"}),
            vec!["state"],
        ),
        (
            json!({"title": "t", "body": "b", "colour": "red"}),
            vec!["colour"],
        ),
        (
            json!({"title": "t", "body": "x".repeat(50_001)}),
            vec!["body"],
        ),
        (
            json!({"title": "t", "body": "b", "doc_number": "号".repeat(101)}),
            vec!["doc_number"],
        ),
        (json!(["t"]), vec!["body"]),
    ] {
        let r = app.post("/api/v1/knowledge", &shuiwu, &body).await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), fields, "{body}");
    }
    app.send(
        "POST",
        "/api/v1/knowledge",
        Some(&shuiwu),
        &[],
        Some(b"{not json".to_vec()),
    )
    .await
    .problem(400, "malformed_json");
    // The longest body, in characters that rarely stand together, is indexed like any other.
    let longest: String = (0..50_000u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7919) % 20_000).unwrap())
        .collect();
    let big = write(&app, &shuiwu, json!({"title": "长文", "body": longest})).await;
    assert_eq!(big["version"], 1);
    app.send(
        "POST",
        "/api/v1/knowledge",
        Some(&shuiwu),
        &[("Content-Type", "text/plain")],
        Some(b"title".to_vec()),
    )
    .await
    .problem(415, "unsupported_media_type");
    // An edit is checked as the article would stand.
    let a = write(
        &app,
        &shuiwu,
        json!({"title": "t", "body": "b", "valid_from": "2026-06-01"}),
    )
    .await;
    let r = patch(
        &app,
        id(&a),
        &shuiwu,
        None,
        json!({"valid_to": "2026-01-01", "title": ""}),
    )
    .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["title", "valid_to"]);
    // And the list's parameters.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("state=live", "state"),
        ("cursor=%21%21", "cursor"),
        ("q=%E7%A8%8E&cursor=bm9wZQ", "cursor"),
        ("department=%E5%8C%BA", "department"),
        ("colour=red", "query"),
    ] {
        let r = app
            .get(&format!("/api/v1/knowledge?{query}"), &shuiwu)
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), [field], "{query}");
    }
    let long = "税".repeat(101);
    let r = app
        .get(
            &format!("/api/v1/knowledge?q={}", urlencode(&long)),
            &shuiwu,
        )
        .await;
    assert_eq!(r.fields(), ["q"]);
    let r = app
        .get(
            &format!("/api/v1/knowledge/{}/versions?limit=0", id(&a)),
            &shuiwu,
        )
        .await;
    assert_eq!(r.fields(), ["limit"]);
}

async fn a_stale_if_match_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shuiwu = app.department("shuiwu");
    let a = write(&app, &shuiwu, json!({"title": "t", "body": "b"})).await;
    patch(&app, id(&a), &shuiwu, Some("\"1\""), json!({"title": "t2"}))
        .await
        .ok();
    for stale in ["\"1\"", "1", "W/\"2\"", "\"x\""] {
        let r = patch(&app, id(&a), &shuiwu, Some(stale), json!({"title": "t3"})).await;
        r.problem(412, "stale_version");
    }
    // Before what is wrong with the body.
    let r = app
        .send(
            "PATCH",
            &format!("/api/v1/knowledge/{}", id(&a)),
            Some(&shuiwu),
            &[("If-Match", "\"1\"")],
            Some(b"{not json".to_vec()),
        )
        .await;
    r.problem(412, "stale_version");
    let now = patch(&app, id(&a), &shuiwu, Some("*"), json!({"title": "t3"})).await;
    assert_eq!(now.ok()["version"], 3);
    let now = patch(&app, id(&a), &shuiwu, Some("\"3\""), json!({"title": "t4"})).await;
    assert_eq!(now.ok()["title"], "t4");
}

/// Five published articles of the kind the district issues, and a draft.
async fn policies(app: &TestApp) -> Vec<Value> {
    let (shuiwu, renshe, kejing) = (
        app.department("shuiwu"),
        app.department("renshe"),
        app.department("kejing"),
    );
    let mut out = vec![];
    for (token, body) in [
        (
            &shuiwu,
            json!({"title": "小微企业增值税留抵退税", "body": "符合条件的小微企业可以向主管税务机关申请退还增量留抵税额。", "keywords": ["留抵退税", "增值税"], "doc_number": "鄂税发〔2026〕8号"}),
        ),
        (
            &kejing,
            json!({"title": "研发费用加计扣除", "body": "企业开展研发活动中实际发生的研发费用，在按规定据实扣除的基础上，再按实际发生额的100%在企业所得税税前加计扣除。", "keywords": ["研发费用", "加计扣除"]}),
        ),
        (
            &renshe,
            json!({"title": "稳岗返还", "body": "参保企业上年度未裁员或裁员率不高于规定比例的，返还其上年度实际缴纳失业保险费的一定比例。", "keywords": ["稳岗", "失业保险"]}),
        ),
        (
            &kejing,
            json!({"title": "货车ETC通行费补贴", "body": "本区物流企业货车安装ETC设备并办理记账卡的，按年度通行费给予补贴。", "keywords": ["ETC", "物流"]}),
        ),
        (
            &shuiwu,
            json!({"title": "出口退税备案单证管理", "body": "出口企业应在申报出口退税后十五日内将备案单证妥善留存。", "keywords": ["出口"]}),
        ),
    ] {
        let mut published = body.clone();
        published["state"] = json!("published");
        out.push(write(app, token, published).await);
    }
    out.push(
        write(
            app,
            &shuiwu,
            json!({"title": "留抵退税新政解读（草稿）", "body": "留抵退税"}),
        )
        .await,
    );
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn search_finds_one_two_and_more_characters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    policies(&app).await;
    let op = app.operator();
    assert_eq!(
        sorted(search(&app, &op, "税").await),
        [
            "出口退税备案单证管理",
            "小微企业增值税留抵退税",
            "研发费用加计扣除"
        ]
    );
    assert_eq!(
        sorted(search(&app, &op, "退税").await),
        ["出口退税备案单证管理", "小微企业增值税留抵退税"]
    );
    assert_eq!(
        search(&app, &op, "增值税留抵退税").await,
        ["小微企业增值税留抵退税"]
    );
    assert_eq!(
        search(&app, &op, "留抵退税").await,
        ["小微企业增值税留抵退税"]
    );
    assert_eq!(
        search(&app, &op, "鄂税发〔2026〕8号").await,
        ["小微企业增值税留抵退税"]
    );
    for mixed in ["ETC 补贴", "etc补贴", "物流 ETC"] {
        assert_eq!(
            search(&app, &op, mixed).await,
            ["货车ETC通行费补贴"],
            "{mixed}"
        );
    }
    assert!(search(&app, &op, "区块链").await.is_empty());
    assert!(search(&app, &op, "ETC 区块链").await.is_empty());
    assert!(search(&app, &op, "！？").await.is_empty());
    // A letter the SQLite tokenizer does not keep (a combining mark) finds nothing, as on
    // PostgreSQL.
    assert!(search(&app, &op, "\u{902}").await.is_empty());
    // A department finds its own draft; an operator does not.
    assert_eq!(
        search(&app, &app.department("shuiwu"), "留抵退税")
            .await
            .len(),
        2
    );
    // With the other filters, and page by page.
    assert_eq!(
        titles(
            &app,
            &op,
            &format!("q={}&department=kejing", urlencode("税"))
        )
        .await,
        ["研发费用加计扣除"]
    );
    let mut seen = vec![];
    let mut query = format!("q={}&limit=1", urlencode("税"));
    loop {
        let r = app.get(&format!("/api/v1/knowledge?{query}"), &op).await;
        let page = r.ok();
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
        seen.push(page["items"][0]["title"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("q={}&limit=1&cursor={c}", urlencode("税")),
            None => break,
        }
    }
    assert_eq!(seen, search(&app, &op, "税").await);
    // Without a search, newest first, page by page.
    let all = titles(&app, &op, "").await;
    assert_eq!(
        all.first().map(String::as_str),
        Some("出口退税备案单证管理")
    );
    let first = app.get("/api/v1/knowledge?limit=2", &op).await;
    let cursor = first.ok()["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        titles(&app, &op, &format!("limit=2&cursor={cursor}")).await,
        all[2..4]
    );
}

async fn an_edit_is_searched_by_its_new_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let renshe = app.department("renshe");
    let a = write(
        &app,
        &renshe,
        json!({"title": "创业担保贷款", "body": "个人创业可申请最高30万元担保贷款。", "state": "published"}),
    )
    .await;
    let op = app.operator();
    assert_eq!(search(&app, &op, "担保").await, ["创业担保贷款"]);
    patch(
        &app,
        id(&a),
        &renshe,
        None,
        json!({"title": "创业贷款贴息", "body": "个人创业贷款按贷款市场报价利率贴息。", "keywords": ["贴息"]}),
    )
    .await
    .ok();
    assert!(search(&app, &op, "担保").await.is_empty());
    assert_eq!(search(&app, &op, "贴息").await, ["创业贷款贴息"]);
    // Archived, it is no longer found by those who read only what is published.
    patch(&app, id(&a), &renshe, None, json!({"state": "archived"}))
        .await
        .ok();
    assert!(search(&app, &op, "贴息").await.is_empty());
    assert_eq!(
        search(&app, &app.supervisor(), "贴息").await,
        ["创业贷款贴息"]
    );
}

async fn an_article_past_its_date_is_expired(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let renshe = app.department("renshe");
    let yesterday = (today() - Duration::days(1)).to_string();
    let old = write(
        &app,
        &renshe,
        json!({"title": "创业担保贷款（上年度）", "body": "b", "state": "published", "valid_from": "2025-01-01", "valid_to": yesterday}),
    )
    .await;
    assert_eq!(old["expired"], true);
    let current = write(
        &app,
        &renshe,
        json!({"title": "创业担保贷款", "body": "b", "state": "published", "valid_to": today().to_string()}),
    )
    .await;
    assert_eq!(current["expired"], false);
    let r = app.get("/api/v1/knowledge", &app.operator()).await;
    let expired: Vec<(String, bool)> = r.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["title"].as_str().unwrap().into(),
                a["expired"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        expired,
        [
            ("创业担保贷款".into(), false),
            ("创业担保贷款（上年度）".into(), true)
        ]
    );
    let r = app
        .get(&format!("/api/v1/knowledge/{}", id(&old)), &app.operator())
        .await;
    assert_eq!(r.ok()["expired"], true);
}

async fn markdown_is_shown_without_the_html_typed_into_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = write(
        &app,
        &app.department("shuiwu"),
        json!({
            "title": "申报须知",
            "body": "<script>alert(1)</script>\n\n点击[这里](javascript:alert(1))申报，或见[政策原文](https://www.gov.cn/zhengce/)。\n\n<img src=x onerror=alert(2)>\n",
        }),
    )
    .await;
    let html = a["body_html"].as_str().unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{html}"
    );
    assert!(html.contains("点击这里申报"), "{html}");
    assert!(
        html.contains("<a href=\"https://www.gov.cn/zhengce/\">政策原文</a>"),
        "{html}"
    );
    // The body itself is kept as written.
    assert!(a["body"].as_str().unwrap().starts_with("<script>"));
}

async fn the_desk_and_the_kpis_read_what_they_need(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let all = policies(&app).await;
    let renshe = app.department("renshe");
    let expired = write(
        &app,
        &renshe,
        json!({"title": "增值税留抵退税（已失效）", "body": "留抵退税", "state": "published", "valid_to": "2025-12-31"}),
    )
    .await;
    patch(
        &app,
        id(&all[2]),
        &renshe,
        None,
        json!({"keywords": ["稳岗", "返还"]}),
    )
    .await
    .ok();
    let settings = &app.state.settings;
    let mut conn = app.conn();

    // The articles a consultation names: published and in force only, as asked.
    let ids: Vec<String> = [&all[3], &all[5], &expired, &all[0]]
        .iter()
        .map(|a| id(a).to_string())
        .chain(["0190a000-0000-7000-8000-000000000000".to_string()])
        .collect();
    let found = repo::published_valid(&mut conn, &ids, today()).unwrap();
    assert_eq!(
        found,
        [
            (id(&all[3]).to_string(), "货车ETC通行费补贴".to_string()),
            (
                id(&all[0]).to_string(),
                "小微企业增值税留抵退税".to_string()
            ),
        ]
    );
    assert!(
        repo::published_valid(&mut conn, &[], today())
            .unwrap()
            .is_empty()
    );
    let before = NaiveDate::from_ymd_opt(2025, 12, 30).unwrap();
    assert_eq!(
        repo::published_valid(&mut conn, &[id(&expired).to_string()], before)
            .unwrap()
            .len(),
        1
    );

    // 知识库更新数: versions written in the period, by department.
    let now = closedloop::store::now();
    let counts = repo::updates_by_department(
        &mut conn,
        now - Duration::hours(1),
        now + Duration::seconds(1),
    )
    .unwrap();
    assert_eq!(
        counts,
        [
            ("kejing".to_string(), 2),
            ("renshe".to_string(), 3),
            ("shuiwu".to_string(), 3)
        ]
    );
    assert!(
        repo::updates_by_department(
            &mut conn,
            now - Duration::hours(2),
            now - Duration::hours(1)
        )
        .unwrap()
        .is_empty()
    );

    // Suggestions while a consultation is logged: any of its words, best first, never a draft
    // or an expired article.
    let titles =
        |v: Vec<service::ArticleSummary>| v.into_iter().map(|a| a.title).collect::<Vec<_>>();
    let suggested =
        titles(service::suggest(&mut conn, settings, "企业咨询增值税留抵退税怎么申请", 5).unwrap());
    assert_eq!(
        suggested.first().map(String::as_str),
        Some("小微企业增值税留抵退税"),
        "{suggested:?}"
    );
    assert!(
        !suggested
            .iter()
            .any(|t| t.contains("草稿") || t.contains("已失效")),
        "{suggested:?}"
    );
    // Nor one sharing only the words every consultation has (企业, 申请) with it.
    assert_eq!(suggested, ["小微企业增值税留抵退税"]);
    assert_eq!(
        titles(service::suggest(&mut conn, settings, "物流公司问ETC", 5).unwrap()),
        ["货车ETC通行费补贴"]
    );
    assert_eq!(
        service::suggest(&mut conn, settings, "增值税留抵退税", 1)
            .unwrap()
            .len(),
        1
    );
    assert!(
        service::suggest(&mut conn, settings, "", 5)
            .unwrap()
            .is_empty()
    );
    assert!(
        service::suggest(&mut conn, settings, "区块链", 5)
            .unwrap()
            .is_empty()
    );
    let long =
        "企业来电咨询稳岗返还和研发费用加计扣除的办理流程以及所需材料，还问了出口退税备案的要求。"
            .repeat(3);
    assert!(
        !service::suggest(&mut conn, settings, &long, 5)
            .unwrap()
            .is_empty()
    );
}

/// The article id a console form sent the browser to (`/knowledge/{id}?done=…`).
fn created_id(location: &str) -> String {
    let rest = location
        .strip_prefix("/knowledge/")
        .expect("to the article's page");
    rest.split('?').next().unwrap().to_string()
}

async fn the_console_lists_shows_and_writes_articles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut sj = Browser::new(&app);
    sj.sign_in("sj", PASSWORD).await;
    let list = sj.get("/knowledge").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.html.contains("href=\"/knowledge\""),
        "the navigation has 知识库"
    );
    assert!(list.html.contains("没有符合条件的文章"));

    // Written through the form, with its token; keywords typed in one box.
    let form = sj.get("/knowledge/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf();
    let fields = [
        ("title", "个体工商户年报补报指引"),
        ("doc_number", "黄下市监发〔2026〕3号"),
        ("valid_from", "2026-01-01"),
        ("valid_to", ""),
        ("keywords", "年报，补报、 经营异常"),
        (
            "body",
            "## 办理方式\n\n登录**国家企业信用信息公示系统**补报。\n\n<script>alert(1)</script>",
        ),
        ("state", "published"),
        ("visibility", "public"),
    ];
    let mut without_token = fields.to_vec();
    without_token.push(("csrf_token", "forged"));
    let r = sj.post("/knowledge/new", &without_token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        titles(&app, &app.supervisor(), "").await.is_empty(),
        "nothing written"
    );
    let mut sent = fields.to_vec();
    sent.push(("csrf_token", &csrf));
    let done = sj.post("/knowledge/new", &sent).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let id = created_id(done.location());
    let api = app
        .get(&format!("/api/v1/knowledge/{id}"), &app.operator())
        .await;
    let a = api.ok();
    assert_eq!(a["department"], "shijian");
    assert_eq!(a["keywords"], json!(["年报", "补报", "经营异常"]));
    assert_eq!(a["doc_number"], "黄下市监发〔2026〕3号");
    assert_eq!(a["valid_to"], Value::Null);
    assert_eq!(a["created_by"], "sj");

    let page = sj.get(done.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("文章已保存"));
    assert!(
        page.html
            .contains("<strong>国家企业信用信息公示系统</strong>"),
        "{}",
        page.html
    );
    assert!(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.html.contains("<script>alert"));
    assert!(page.html.contains("黄下市监发〔2026〕3号"));
    assert!(page.html.contains("年报、补报、经营异常"));
    assert!(page.html.contains("2026-01-01 起"));
    assert!(page.html.contains("第 1 版 · sj · 创建"), "{}", page.html);
    assert!(
        page.html
            .contains(&format!("href=\"/knowledge/{id}/edit\""))
    );

    // Edited through its form: the version is the page's.
    let edit = sj.get(&format!("/knowledge/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    let version = edit.field("version").expect("the version on the form");
    assert!(
        edit.html.contains("value=\"年报，补报，经营异常\""),
        "{}",
        edit.html
    );
    let mut changed = fields.to_vec();
    changed[0] = ("title", "个体工商户年度报告补报指引");
    changed.push(("csrf_token", &csrf));
    changed.push(("version", &version));
    let r = sj.post(&format!("/knowledge/{id}/edit"), &changed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(r.location(), format!("/knowledge/{id}?done=edit"));
    let page = sj.get(r.location()).await;
    assert!(
        page.html.contains("第 2 版 · sj · 修改了标题"),
        "{}",
        page.html
    );
    // The same form sent again is out of date: shown fresh, nothing overwritten.
    changed[0] = ("title", "旧页面上的标题");
    let r = sj.post(&format!("/knowledge/{id}/edit"), &changed).await;
    assert_eq!(r.location(), format!("/knowledge/{id}?stale=1"));
    assert!(sj.get(r.location()).await.html.contains("刚刚被他人修改"));
    let now = app
        .get(&format!("/api/v1/knowledge/{id}"), &app.operator())
        .await;
    assert_eq!(now.ok()["title"], "个体工商户年度报告补报指引");

    // Another department reads it but may not edit it; an operator finds it and writes nothing.
    let mut sf = Browser::new(&app);
    sf.sign_in("sf", PASSWORD).await;
    let theirs = sf.get(&format!("/knowledge/{id}")).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.html.contains("/edit\""));
    assert_eq!(
        sf.get(&format!("/knowledge/{id}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let mut op = Browser::new(&app);
    op.sign_in("op", PASSWORD).await;
    let found = op.get(&format!("/knowledge?q={}", urlencode("年报"))).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.html.contains(&format!("data-article-id=\"{id}\"")),
        "{}",
        found.html
    );
    assert!(found.html.contains("个体工商户年度报告补报指引"));
    assert!(!found.html.contains("新建文章"));
    let none = op
        .get(&format!("/knowledge?q={}", urlencode("区块链")))
        .await;
    assert!(none.html.contains("没有找到包含“区块链”的文章"));
    assert_eq!(op.get("/knowledge/new").await.status, StatusCode::FORBIDDEN);
    let r = op.post("/knowledge/new", &sent).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(titles(&app, &app.supervisor(), "").await.len(), 1);
    // An article past its date is marked in the list and on its page.
    let old = write(
        &app,
        &app.department("shijian"),
        json!({"title": "小微企业年报指引（2024年度）", "body": "b", "state": "published", "valid_to": "2025-06-30"}),
    )
    .await;
    let list = op.get("/knowledge").await;
    assert!(list.html.contains("已过期"), "{}", list.html);
    let page = op
        .get(&format!("/knowledge/{}", old["id"].as_str().unwrap()))
        .await;
    assert!(page.html.contains("已过期") && page.html.contains("2025-06-30 失效"));
    assert_eq!(
        op.get("/knowledge/nope").await.status,
        StatusCode::NOT_FOUND
    );
    // Every role has 知识库 in its navigation.
    for name in ["op", "sup", "adm"] {
        let mut b = Browser::new(&app);
        b.sign_in(name, PASSWORD).await;
        assert!(
            b.get("/knowledge").await.html.contains("知识库</a>"),
            "{name}"
        );
    }
}

async fn a_bad_form_is_shown_in_chinese_beside_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let mut adm = Browser::new(&app);
    adm.sign_in("adm", PASSWORD).await;
    let csrf = adm.get("/knowledge/new").await.csrf();
    let r = adm
        .post(
            "/knowledge/new",
            &[
                ("csrf_token", &csrf),
                ("title", " "),
                ("department", ""),
                ("valid_from", "2026-06-01"),
                ("valid_to", "2026-05-31"),
                ("keywords", ""),
                ("body", "创业担保贷款的申请条件"),
                ("state", "draft"),
                ("visibility", "internal"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"title-error\""), "{}", r.html);
    assert!(r.html.contains("必填，不能为空"));
    assert!(r.html.contains("id=\"valid_to-error\""));
    assert!(r.html.contains("失效日期不能早于生效日期"));
    assert!(r.html.contains("id=\"department-error\""));
    // What was typed is kept.
    assert!(r.html.contains("创业担保贷款的申请条件"));
    assert!(r.html.contains("value=\"2026-06-01\""));
    assert!(titles(&app, &app.supervisor(), "").await.is_empty());
}

const QUESTION: &str = "我公司是小微企业，想了解增值税留抵退税的申请条件和办理渠道。";
const ANSWER: &str = "纳税信用等级为A级或B级的小微企业，可通过电子税务局提交《退（抵）税申请表》，税务机关10个工作日内办结。";

/// A consultation dispatched to `lead` (区税务局 co-handled by 区人社局 when `lead` is shuiwu),
/// signed, and answered with `ANSWER` if `reply`.
async fn consultation(app: &TestApp, lead: &str, reply: bool) -> Value {
    let t = app
        .create(json!({
            "category": "consultation",
            "subject": "咨询小微企业增值税留抵退税怎么申请",
            "description": QUESTION,
        }))
        .await;
    let tid = t["id"].as_str().unwrap();
    app.act(
        tid,
        "dispatch",
        &app.operator(),
        json!({"department": lead, "co_departments": ["renshe"]}),
    )
    .await
    .ok();
    let staff = app.department(lead);
    let mut now = app.act(tid, "sign", &staff, json!({})).await.ok().clone();
    if reply {
        now = app
            .act(tid, "reply", &staff, json!({"content": ANSWER}))
            .await
            .ok()
            .clone();
    }
    now
}

fn keep_path(t: &Value) -> String {
    format!("/api/v1/tickets/{}/knowledge", t["id"].as_str().unwrap())
}

async fn a_replied_consultation_is_kept_as_a_draft(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shuiwu = app.department("shuiwu");
    let t = consultation(&app, "shuiwu", true).await;
    let path = keep_path(&t);
    let number = t["number"].as_str().unwrap();

    // Who: not another department (the case is not theirs to see), not a co-handler, not an
    // operator or a supervisor.
    app.post(&path, &app.department("kejing"), &json!({}))
        .await
        .problem(404, "not_found");
    for token in [app.department("renshe"), app.operator(), app.supervisor()] {
        app.post(&path, &token, &json!({}))
            .await
            .problem(403, "forbidden");
    }
    // Before what is wrong with the body.
    app.send(
        "POST",
        &path,
        Some(&app.operator()),
        &[],
        Some(b"{not json".to_vec()),
    )
    .await
    .problem(403, "forbidden");
    app.send(
        "POST",
        &path,
        Some(&shuiwu),
        &[],
        Some(b"{not json".to_vec()),
    )
    .await
    .problem(400, "malformed_json");
    let r = app
        .post(&path, &shuiwu, &json!({"title": "别的标题"}))
        .await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), ["title"]);
    for missing in [
        "/api/v1/tickets/0190a000-0000-7000-8000-000000000000/knowledge",
        "/api/v1/tickets/nope/knowledge",
    ] {
        app.post(missing, &shuiwu, &json!({}))
            .await
            .problem(404, "not_found");
    }
    app.send("POST", &path, None, &[], None)
        .await
        .problem(401, "unauthorized");
    assert_eq!(
        count(&mut app.conn(), "knowledge_articles"),
        0,
        "nothing written"
    );

    // Not a consultation, or not answered yet: 409, also to an admin.
    let complaint = app.dispatched("shuiwu", &[], true).await;
    app.act(
        complaint["id"].as_str().unwrap(),
        "reply",
        &shuiwu,
        json!({"content": "已督促办结。"}),
    )
    .await
    .ok();
    app.post(&keep_path(&complaint), &shuiwu, &json!({}))
        .await
        .problem(409, "invalid_state");
    let open = consultation(&app, "shuiwu", false).await;
    for token in [&shuiwu, &app.admin()] {
        app.post(&keep_path(&open), token, &json!({}))
            .await
            .problem(409, "invalid_state");
    }

    // The department that answered: one request without a body, a draft of the case.
    let r = app.send("POST", &path, Some(&shuiwu), &[], None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = r.body.clone();
    let location = format!("/api/v1/knowledge/{}", id(&a));
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(a["title"], "咨询小微企业增值税留抵退税怎么申请");
    let body = a["body"].as_str().unwrap();
    assert!(body.contains(QUESTION), "{body}");
    assert!(body.contains(ANSWER), "{body}");
    assert!(body.contains(number), "{body}");
    assert!(
        body.find(QUESTION) < body.find(ANSWER),
        "the question, then the answer: {body}"
    );
    let html = a["body_html"].as_str().unwrap();
    assert!(
        html.contains("<h2>问题</h2>") && html.contains("<h2>答复</h2>"),
        "{html}"
    );
    assert_eq!(
        (a["department"].as_str(), a["department_name"].as_str()),
        (Some("shuiwu"), Some("区税务局"))
    );
    assert_eq!(
        (a["state"].as_str(), a["visibility"].as_str()),
        (Some("draft"), Some("internal"))
    );
    assert_eq!(a["version"], 1);
    assert_eq!(a["keywords"], json!([]));
    assert_eq!(
        (&a["doc_number"], &a["valid_from"], &a["valid_to"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(a["created_by"], "shuiwu-staff");
    // Written with its version, as any new article.
    let versions = app.get(&format!("{location}/versions"), &shuiwu).await.ok()["items"].clone();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["by"], "shuiwu-staff");
    assert_eq!(versions[0]["body"], a["body"]);
    assert_eq!(versions[0]["state"], "draft");
    let rows = repo::versions(&mut app.conn(), id(&a), None, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].version, 1);
    // A draft: the department reads it, the hotline does not yet.
    app.get(&location, &shuiwu).await.ok();
    app.get(&location, &app.operator())
        .await
        .problem(404, "not_found");

    // An admin too, with `{}`: filed under the department that answered.
    let r = app.post(&path, &app.admin(), &json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["department"], "shuiwu");
    assert_eq!(r.body["created_by"], "admin1");
    // An archived consultation still has its answer.
    let tid = t["id"].as_str().unwrap();
    let op = app.operator();
    app.act(tid, "feedback", &op, json!({"satisfaction": "satisfied"}))
        .await
        .ok();
    app.act(tid, "archive", &op, json!({})).await.ok();
    let r = app.post(&path, &shuiwu, &json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "knowledge_articles"), 3);
    assert_eq!(count(&mut app.conn(), "knowledge_versions"), 3);
}

async fn the_console_keeps_a_case_answer_as_knowledge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let t = consultation(&app, "shijian", false).await;
    let case = format!("/tickets/{}", t["id"].as_str().unwrap());
    let keep = format!("{case}/knowledge");
    let mut sj = Browser::new(&app);
    sj.sign_in("sj", PASSWORD).await;
    // Not answered yet: not offered.
    let page = sj.get(&case).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("data-control=\"save-knowledge\""));
    app.act(
        t["id"].as_str().unwrap(),
        "reply",
        &app.department("shijian"),
        json!({"content": ANSWER}),
    )
    .await
    .ok();

    // Offered to the department that answered and to an admin, to no one else.
    let page = sj.get(&case).await;
    assert!(
        page.html.contains("data-control=\"save-knowledge\""),
        "{}",
        page.html
    );
    assert!(page.html.contains(&format!("action=\"{keep}\"")));
    let mut adm = Browser::new(&app);
    adm.sign_in("adm", PASSWORD).await;
    assert!(
        adm.get(&case)
            .await
            .html
            .contains("data-control=\"save-knowledge\"")
    );
    for name in ["op", "sup"] {
        let mut b = Browser::new(&app);
        b.sign_in(name, PASSWORD).await;
        let page = b.get(&case).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.html.contains("save-knowledge"), "{name}");
        // Nor taken from them.
        let r = b.post(&keep, &[("csrf_token", &page.csrf())]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
    }
    let mut sf = Browser::new(&app);
    sf.sign_in("sf", PASSWORD).await;
    let theirs = sf.get("/knowledge").await;
    let r = sf.post(&keep, &[("csrf_token", &theirs.csrf())]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Without its token: 403, nothing written.
    for token in [None, Some("forged")] {
        let pairs: Vec<(&str, &str)> = token.map(|v| ("csrf_token", v)).into_iter().collect();
        let r = sj.post(&keep, &pairs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(count(&mut app.conn(), "knowledge_articles"), 0);
    assert_eq!(count(&mut app.conn(), "knowledge_versions"), 0);

    // With it: the draft, then its edit form.
    let r = sj.post(&keep, &[("csrf_token", &page.csrf())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let location = r.location().to_string();
    let article = location
        .strip_prefix("/knowledge/")
        .and_then(|rest| rest.strip_suffix("/edit"))
        .unwrap_or_else(|| panic!("to the draft's edit form: {location}"))
        .to_string();
    let a = app
        .get(&format!("/api/v1/knowledge/{article}"), &app.admin())
        .await;
    let a = a.ok();
    assert_eq!(
        (
            a["state"].as_str(),
            a["department"].as_str(),
            a["created_by"].as_str()
        ),
        (Some("draft"), Some("shijian"), Some("sj"))
    );
    let edit = sj.get(&location).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.html.contains("咨询小微企业增值税留抵退税怎么申请"));
    assert!(edit.html.contains(t["number"].as_str().unwrap()));
    assert!(edit.html.contains("草稿只有本部门和系统管理员看得到"));

    // A complaint is not kept: refused in Chinese.
    let complaint = app.dispatched("shijian", &[], true).await;
    app.act(
        complaint["id"].as_str().unwrap(),
        "reply",
        &app.department("shijian"),
        json!({"content": "已办结。"}),
    )
    .await
    .ok();
    let path = format!("/tickets/{}", complaint["id"].as_str().unwrap());
    let page = sj.get(&path).await;
    assert!(!page.html.contains("save-knowledge"));
    let r = sj
        .post(
            &format!("{path}/knowledge"),
            &[("csrf_token", &page.csrf())],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.html.contains("不能存为知识"), "{}", r.html);
    assert_eq!(count(&mut app.conn(), "knowledge_articles"), 1);
}

async fn the_intake_panel_suggests_policies_for_a_consultation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let shuiwu = app.department("shuiwu");
    let current = write(
        &app,
        &shuiwu,
        json!({"title": "小微企业增值税留抵退税", "body": "符合条件的小微企业可以申请退还增量留抵税额。", "keywords": ["留抵退税"], "doc_number": "鄂税发〔2026〕8号", "valid_from": "2026-01-01", "state": "published"}),
    )
    .await;
    write(
        &app,
        &shuiwu,
        json!({"title": "增值税留抵退税（2024年度）", "body": "留抵退税", "state": "published", "valid_from": "2024-01-01", "valid_to": "2024-12-31"}),
    )
    .await;
    write(
        &app,
        &shuiwu,
        json!({"title": "留抵退税新政解读（征求意见稿）", "body": "留抵退税"}),
    )
    .await;
    write(
        &app,
        &app.department("renshe"),
        json!({"title": "失业保险稳岗返还", "body": "参保企业的条件和申请办法。", "state": "published"}),
    )
    .await;
    let mut op = Browser::new(&app);
    op.sign_in("op", PASSWORD).await;
    let encode = crate::common::browser::encode;
    let panel = |category: &'static str| {
        format!(
            "/tickets/new/similar?{}",
            encode(&[
                ("subject", "咨询留抵退税怎么申请"),
                ("description", "企业想了解增值税留抵退税的条件"),
                ("credit_code", ""),
                ("category", category),
            ])
        )
    };

    let p = op.get(&panel("consultation")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("可参考的政策"), "{}", p.html);
    assert!(
        p.html
            .contains(&format!("href=\"/knowledge/{}\"", id(&current))),
        "{}",
        p.html
    );
    assert!(p.html.contains("小微企业增值税留抵退税"));
    assert!(p.html.contains("鄂税发〔2026〕8号"));
    assert!(p.html.contains("区税务局"));
    assert!(p.html.contains("2026-01-01 起"));
    assert!(!p.html.contains("2024年度"), "never an expired article");
    assert!(!p.html.contains("征求意见稿"), "never a draft");
    assert!(
        !p.html.contains("稳岗返还"),
        "nor one sharing only 企业 and 申请"
    );
    // Above the likely repeats.
    app.create(json!({"category": "consultation", "subject": "咨询留抵退税怎么申请", "description": "企业想了解增值税留抵退税的条件"}))
        .await;
    let p = op.get(&panel("consultation")).await;
    let policies = p.html.find("可参考的政策").expect("the policies");
    let repeats = p.html.find("可能重复的诉求").expect("the likely repeats");
    assert!(policies < repeats, "{}", p.html);

    // Not for a complaint, nor before a category is chosen.
    for category in ["complaint", ""] {
        let p = op.get(&panel(category)).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(!p.html.contains("可参考的政策"), "{category}: {}", p.html);
        assert!(!p.html.contains("/knowledge/"), "{category}");
    }
    // Nothing typed, nothing suggested.
    let p = op
        .get(&format!(
            "/tickets/new/similar?{}",
            encode(&[
                ("subject", ""),
                ("description", ""),
                ("credit_code", ""),
                ("category", "consultation")
            ])
        ))
        .await;
    assert!(!p.html.contains("可参考的政策"));
}
