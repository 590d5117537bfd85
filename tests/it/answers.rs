//! 直办 on both backends: a consultation answered on the call, citing published articles in force
//! (never a draft or an expired one), archived with outcome `answered` without a mail; the KPI
//! report's 直办率 and 知识库更新数; the case page's answer form with the articles it suggests.

use crate::common::browser::{Browser, PASSWORD, people};
use crate::common::{Backend, TestApp, id};
use actix_web::http::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    a_consultation_is_answered_on_the_call,
    the_report_counts_direct_answers_and_knowledge_updates,
    the_case_page_answers_with_the_articles_it_suggests,
);

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// A published article in force, a draft and an expired one, by the tax office.
async fn articles(app: &TestApp) -> (String, String, String) {
    let admin = app.admin();
    let mut ids = vec![];
    for extra in [
        json!({"state": "published"}),
        json!({"state": "draft"}),
        json!({"state": "published", "valid_from": "2020-01-01", "valid_to": "2021-12-31"}),
    ] {
        let mut body = json!({
            "title": "小微企业增值税留抵退税",
            "body": "符合条件的小微企业可按月申请退还增量留抵税额。",
            "keywords": ["留抵退税"],
            "department": "shuiwu",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/knowledge", &admin, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(id(&r.body).to_string());
    }
    (ids[0].clone(), ids[1].clone(), ids[2].clone())
}

fn consultation() -> Value {
    json!({"category": "consultation", "subject": "小微企业留抵退税怎么申请", "description": "企业想了解增值税留抵退税的条件。"})
}

async fn a_consultation_is_answered_on_the_call(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (published, draft, expired) = articles(&app).await;
    let op = app.operator();
    let t = app.create(consultation()).await;
    let answer = |body: Value| {
        let app = &app;
        let op = op.clone();
        let t = id(&t).to_string();
        async move { app.act(&t, "answer", &op, body).await }
    };

    // Only articles published and in force are cited; the field says which is wrong.
    for bad in [
        &draft,
        &expired,
        &"01938f6e-6b1a-7c3e-9f00-1234567890ab".to_string(),
    ] {
        let r = answer(json!({"content": "已答复", "articles": [published, bad]})).await;
        assert_eq!(
            r.problem(422, "validation_failed")["errors"][0]["field"],
            "articles[1]"
        );
    }
    let r = answer(json!({"articles": [published]})).await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "content"
    );
    // Who may, and when.
    app.act(id(&t), "answer", &app.supervisor(), json!({"content": "x"}))
        .await
        .problem(403, "forbidden");

    let r = answer(json!({"content": "已告知申请条件和办理渠道。", "articles": [published]})).await;
    let done = r.ok();
    assert_eq!(done["state"], "archived");
    assert_eq!(done["outcome"], "answered");
    let events = app
        .get(&format!("/api/v1/tickets/{}/events", id(&t)), &op)
        .await;
    let last = events.ok()["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "answer");
    assert_eq!(last["payload"]["articles"][0]["id"], published.as_str());
    assert_eq!(
        last["payload"]["articles"][0]["title"],
        "小微企业增值税留抵退税"
    );
    // The hotline's clocks end: the case is disposed of, and the answer is the reply.
    let timers = app.timers(id(&t)).await;
    assert_eq!(timers["dispatch"]["outcome"], "met");
    assert_eq!(timers["interim_reply"]["outcome"], "met");
    assert!(
        app.notifications(&format!("ticket={}", id(&t)))
            .await
            .is_empty()
    );
    // An archived case is answered once.
    answer(json!({"content": "again"}))
        .await
        .problem(409, "invalid_state");
    // A dispatched one is the department's to answer.
    let other = app.dispatched("shijian", &[], false).await;
    app.act(id(&other), "answer", &op, json!({"content": "x"}))
        .await
        .problem(409, "invalid_state");
}

async fn the_report_counts_direct_answers_and_knowledge_updates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (published, _, _) = articles(&app).await;
    let op = app.operator();
    for i in 0..4 {
        let t = app.create(consultation()).await;
        if i < 3 {
            app.act(
                id(&t),
                "answer",
                &op,
                json!({"content": "已答复", "articles": [published]}),
            )
            .await
            .ok();
        }
    }
    app.dispatched("shijian", &[], false).await;
    let day = today();
    let period = format!("from={day}&to={}", day + chrono::Days::new(1));
    let r = app
        .get(&format!("/api/v1/reports/kpis?{period}"), &app.supervisor())
        .await;
    let report = r.ok();
    let total = &report["total"]["figures"];
    assert_eq!(total["direct_answer_rate"]["numerator"], 3.0);
    assert_eq!(total["direct_answer_rate"]["denominator"], 5);
    assert_eq!(total["received"]["value"], 5.0);
    // Three articles written, one version each, all the tax office's.
    assert_eq!(total["knowledge_updates"]["value"], 3.0);
    let group = |key: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .unwrap()["figures"]
            .clone()
    };
    assert_eq!(group("hotline")["direct_answer_rate"]["numerator"], 3.0);
    assert_eq!(group("shuiwu")["knowledge_updates"]["value"], 3.0);
    assert_eq!(group("shijian")["knowledge_updates"]["value"], 0.0);
    // Answered cases are not counted for the 3-month reply rule.
    assert_eq!(total["substantive_reply_3m_rate"]["denominator"], 0);
    // A department sees its own updates only.
    let own = app
        .get(
            &format!("/api/v1/reports/kpis?{period}"),
            &app.department("shijian"),
        )
        .await;
    assert_eq!(
        own.ok()["total"]["figures"]["knowledge_updates"]["value"],
        0.0
    );
    // The kept counts agree with the timeline.
    let (differences, found) =
        closedloop::app::reports::rollup::check(&mut app.conn(), &app.state.settings).unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    assert!(found.tickets_differing.is_empty());
}

async fn the_case_page_answers_with_the_articles_it_suggests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    people(&app);
    let (published, draft, _) = articles(&app).await;
    let t = app.create(consultation()).await;
    let mut b = Browser::new(&app);
    b.sign_in("op", PASSWORD).await;
    let page = b.get(&format!("/tickets/{}", id(&t))).await;
    assert!(
        page.html.contains("data-action=\"answer\""),
        "{}",
        page.html
    );
    assert!(page.html.contains(&format!("value=\"{published}\"")));
    assert!(
        !page.html.contains(&format!("value=\"{draft}\"")),
        "never a draft"
    );
    let csrf = page.csrf();
    let version = page.field("version").unwrap();
    let action = format!("/tickets/{}/actions/answer", id(&t));
    // Without the answer's text: said in Chinese beside the field, nothing written.
    let refused = b
        .post(
            &action,
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("articles", &published),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("必填"));
    let done = b
        .post(
            &action,
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("content", "已告知申请条件。"),
                ("articles", &published),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let after = b.get(&format!("/tickets/{}", id(&t))).await;
    assert!(after.html.contains("直办"), "{}", after.html);
    let t = app
        .get(&format!("/api/v1/tickets/{}", id(&t)), &app.operator())
        .await;
    assert_eq!(t.ok()["outcome"], "answered");
}
