//! 一企一档 and the similar-case look-up on both backends: an enterprise's file (names, counts,
//! ratings, repeats, a department's scope), finding enterprises and the hot list, repeats linked
//! at intake and by a `reject`, earlier cases indexed once, and the labelled set of
//! `tests/fixtures/similar.json` (76 cases, 56 repeats reworded by another caller or the same one
//! calling again, 20 near misses): the share of repeats found in the top 5.

use crate::common::{Backend, TestApp, id};
use actix_web::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

on_both_backends!(
    the_labelled_repeats_are_found_in_the_top_five,
    an_enterprise_file_gathers_its_cases,
    a_repeat_is_linked_at_intake_and_by_a_reject,
    cases_logged_before_the_index_are_indexed_once,
);

/// The share of the labelled repeats the look-up must find in its top 5.
const RECALL_AT_5: f64 = 0.9;
/// The same without the credit code, by the words of the subject and description alone.
const TEXT_RECALL_AT_5: f64 = 0.9;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/similar.json")).expect("the fixture is JSON")
}

/// A fixture case as a create body (its `key` is the fixture's, not the API's).
fn body(case: &Value) -> Value {
    let mut b = case.clone();
    b.as_object_mut().unwrap().remove("key");
    b
}

async fn the_labelled_repeats_are_found_in_the_top_five(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = fixture();
    let op = app.operator();
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for case in set["corpus"].as_array().unwrap() {
        let r = app.post("/api/v1/tickets", &op, &body(case)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        keys.insert(
            id(&r.body).to_string(),
            case["key"].as_str().unwrap().into(),
        );
    }
    let (mut repeats, mut found, mut first, mut near_first) = (0, 0, 0, 0);
    let mut missed = vec![];
    for q in set["queries"].as_array().unwrap() {
        let r = app.post("/api/v1/tickets/similar", &op, &q["draft"]).await;
        let items = r.ok()["items"].as_array().unwrap().clone();
        assert!(items.len() <= 10);
        let ranked: Vec<&str> = items
            .iter()
            .map(|i| keys[i["ticket"]["id"].as_str().unwrap()].as_str())
            .collect();
        for pair in items.windows(2) {
            assert!(pair[0]["score"].as_f64() >= pair[1]["score"].as_f64());
        }
        for i in &items {
            assert!(!i["reasons"].as_array().unwrap().is_empty(), "{i}");
        }
        match q["kind"].as_str().unwrap() {
            "duplicate" => {
                repeats += 1;
                let want = q["duplicate_of"].as_str().unwrap();
                match ranked.iter().position(|k| *k == want) {
                    Some(p) if p < 5 => {
                        found += 1;
                        first += usize::from(p == 0);
                    }
                    _ => missed.push(format!("{} → {want}: {ranked:?}", q["key"])),
                }
            }
            _ => near_first += usize::from(ranked.first() == q["near"].as_str().as_ref()),
        }
    }
    let recall = found as f64 / repeats as f64;
    println!(
        "similar ({backend:?}): {found}/{repeats} repeats in the top 5 (recall@5 {recall:.3}), \
         {first} ranked first; {near_first}/20 near misses ranked first; missed: {missed:#?}"
    );
    assert_eq!(repeats, 56);
    assert!(recall >= RECALL_AT_5, "recall@5 {recall:.3}: {missed:#?}");

    // By the words alone, as when the caller gives no credit code.
    let mut by_text = 0;
    for q in set["queries"].as_array().unwrap() {
        let Some(want) = q["duplicate_of"].as_str() else {
            continue;
        };
        let mut draft = q["draft"].clone();
        draft.as_object_mut().unwrap().remove("enterprise");
        let r = app.post("/api/v1/tickets/similar", &op, &draft).await;
        let top: Vec<&str> = r.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .take(5)
            .map(|i| keys[i["ticket"]["id"].as_str().unwrap()].as_str())
            .collect();
        by_text += usize::from(top.contains(&want));
    }
    let text_recall = by_text as f64 / repeats as f64;
    println!(
        "similar ({backend:?}) by the words alone: {by_text}/{repeats} in the top 5 (recall@5 {text_recall:.3})"
    );
    assert!(
        text_recall >= TEXT_RECALL_AT_5,
        "by the words alone: recall@5 {text_recall:.3}"
    );

    // For the hotline and supervisors: a department finds cases through its own queues.
    let r = app
        .post(
            "/api/v1/tickets/similar",
            &app.department("shijian"),
            &json!({"subject": "稳岗返还"}),
        )
        .await;
    r.problem(403, "forbidden");
    let r = app
        .post("/api/v1/tickets/similar", &op, &json!({"subject": 7}))
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "subject"
    );
    let r = app.post("/api/v1/tickets/similar", &op, &json!({})).await;
    assert_eq!(r.ok()["items"], json!([]));
}

const CODE: &str = "91420204MA4B1C2D1D";

async fn an_enterprise_file_gathers_its_cases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let named = |name: &str| json!({"enterprise": {"name": name, "credit_code": CODE}});
    let a = app.create(named("黄石市恒信机械制造有限公司")).await;
    let b = app.create(named("黄石市恒信机械制造有限公司")).await;
    let c = app
        .create(json!({
            "enterprise": {"name": "恒信机械（黄石）股份有限公司", "credit_code": CODE.to_lowercase()},
            "category": "consultation",
        }))
        .await;
    let other = app
        .create(json!({"enterprise": {"name": "黄石鑫达混凝土有限公司", "credit_code": "914202021790075944"}}))
        .await;
    let sj = app.department("shijian");
    let r = app
        .act(id(&a), "dispatch", &op, json!({"department": "shijian"}))
        .await;
    r.ok();

    let file = app.get(&format!("/api/v1/enterprises/{CODE}"), &op).await;
    let f = file.ok();
    assert_eq!(
        f["enterprise"]["name"], "恒信机械（黄石）股份有限公司",
        "the name last given"
    );
    assert_eq!(f["enterprise"]["ticket_count"], 3);
    let names: Vec<&str> = f["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["恒信机械（黄石）股份有限公司", "黄石市恒信机械制造有限公司"]
    );
    assert_eq!(f["cases_total"], 3);
    assert_eq!(f["open"], 3);
    assert_eq!(f["by_state"], json!({"accepted": 2, "dispatched": 1}));
    assert_eq!(f["by_category"], json!({"complaint": 2, "consultation": 1}));
    assert_eq!(f["satisfaction_rate"], Value::Null);
    let listed: Vec<&str> = f["cases"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id(&c), id(&b), id(&a)], "newest first");

    // Paged.
    let page = app
        .get(&format!("/api/v1/enterprises/{CODE}?limit=2"), &op)
        .await;
    let cursor = page.ok()["cases"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = app
        .get(
            &format!("/api/v1/enterprises/{CODE}?limit=2&cursor={cursor}"),
            &op,
        )
        .await;
    assert_eq!(rest.ok()["cases"]["items"][0]["id"], id(&a));

    // A department sees the cases it handles, and nothing of an enterprise it has none of.
    let mine = app.get(&format!("/api/v1/enterprises/{CODE}"), &sj).await;
    assert_eq!(mine.ok()["cases_total"], 1);
    assert_eq!(mine.ok()["cases"]["items"][0]["id"], id(&a));
    app.get(
        &format!("/api/v1/enterprises/{CODE}"),
        &app.department("sifa"),
    )
    .await
    .problem(404, "not_found");
    app.get("/api/v1/enterprises?q=%E6%81%92%E4%BF%A1", &sj)
        .await
        .problem(403, "forbidden");

    // Found by name or by the start of its code; the hot list of a period.
    let found = app
        .get("/api/v1/enterprises?q=%E6%81%92%E4%BF%A1", &op)
        .await;
    assert_eq!(found.ok()["items"][0]["credit_code"], CODE);
    assert_eq!(found.ok()["items"].as_array().unwrap().len(), 1);
    let by_code = app.get("/api/v1/enterprises?q=9142020217", &op).await;
    assert_eq!(
        by_code.ok()["items"][0]["credit_code"],
        other["enterprise"]["credit_code"]
    );
    let today = chrono::Utc::now().date_naive();
    let hot = app
        .get(
            &format!(
                "/api/v1/enterprises/hot?from={}&to={}",
                today - chrono::Days::new(1),
                today + chrono::Days::new(2)
            ),
            &app.supervisor(),
        )
        .await;
    let hot = hot.ok();
    assert_eq!(
        hot["items"][0],
        json!({"credit_code": CODE, "name": "恒信机械（黄石）股份有限公司", "cases": 3, "open": 3})
    );
    assert_eq!(hot["items"][1]["cases"], 1);

    // Bad input is named.
    let bad = app.get("/api/v1/enterprises/91420204MA4B1C2D1X", &op).await;
    assert_eq!(
        bad.problem(422, "validation_failed")["errors"][0]["field"],
        "credit_code"
    );
    app.get("/api/v1/enterprises/91420202194506324C", &op)
        .await
        .problem(404, "not_found");
    let r = app
        .get("/api/v1/enterprises/hot?from=2026-02-01&to=2026-01-01", &op)
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "to"
    );
}

async fn a_repeat_is_linked_at_intake_and_by_a_reject(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let earlier = app.dispatched("shijian", &[], true).await;
    let e = id(&earlier);

    // At intake: the operator recognises the repeat; an unknown case is refused by field.
    let r = app
        .post(
            "/api/v1/tickets",
            &op,
            &json!({"duplicate_of": "01938f6e-6b1a-7c3e-9f00-1234567890ab"}).merged(),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "duplicate_of"
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &op,
            &json!({"duplicate_of": "x"}).merged(),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "duplicate_of"
    );
    let linked = app.create(json!({"duplicate_of": e})).await;
    assert_eq!(linked["duplicate_of"], e);
    let events = app
        .get(&format!("/api/v1/tickets/{}/events", id(&linked)), &op)
        .await;
    assert_eq!(events.ok()["items"][0]["payload"]["duplicate_of"], e);

    // By a reject: only a finished case is cited as the one repeated.
    let again = app.create(json!({})).await;
    let r = app
        .act(
            id(&again),
            "reject",
            &op,
            json!({"reason": "重复投诉", "repeat_of": e}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "repeat_of"
    );
    let r = app
        .act(
            id(&again),
            "reject",
            &op,
            json!({"reason": "重复投诉", "repeat_of": id(&again)}),
        )
        .await;
    assert_eq!(
        r.problem(422, "validation_failed")["errors"][0]["field"],
        "repeat_of"
    );
    let sj = app.department("shijian");
    app.act(e, "reply", &sj, json!({"content": "已办结"}))
        .await
        .ok();
    let r = app
        .act(
            id(&again),
            "reject",
            &op,
            json!({"reason": "同一事项已办结答复，无新情况新理由", "repeat_of": e}),
        )
        .await;
    let rejected = r.ok();
    assert_eq!(rejected["outcome"], "rejected");
    assert_eq!(rejected["duplicate_of"], e);

    // The earlier case's enterprise file counts both repeats.
    let code = earlier["enterprise"]["credit_code"].as_str().unwrap();
    let f = app.get(&format!("/api/v1/enterprises/{code}"), &op).await;
    assert_eq!(f.ok()["repeats"], 2);
    // A plain reject cites nothing.
    let plain = app.create(json!({})).await;
    let r = app
        .act(
            id(&plain),
            "reject",
            &op,
            json!({"reason": "不属于受理范围"}),
        )
        .await;
    assert_eq!(r.ok()["duplicate_of"], Value::Null);
}

async fn cases_logged_before_the_index_are_indexed_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator();
    let t = app
        .create(json!({"subject": "消防验收拖延三个月", "description": "厂房消防验收申请提交后三个月无人现场查验。"}))
        .await;
    let draft =
        json!({"subject": "厂房消防验收一直没人来", "description": "消防验收申请交了三个月"});
    let look = || async { app.post("/api/v1/tickets/similar", &op, &draft).await };
    assert_eq!(look().await.ok()["items"][0]["ticket"]["id"], id(&t));

    // As if the case were logged before the terms existed: the marker the migration leaves.
    let mut conn = app.conn();
    diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM ticket_terms"), &mut *conn)
        .unwrap();
    assert_eq!(look().await.ok()["items"], json!([]));
    diesel::RunQueryDsl::execute(
        diesel::sql_query("INSERT INTO index_backfills (name) VALUES ('ticket_terms')"),
        &mut *conn,
    )
    .unwrap();
    assert_eq!(
        closedloop::app::enterprises::index_earlier_cases(&mut conn).unwrap(),
        1
    );
    assert_eq!(
        closedloop::app::enterprises::index_earlier_cases(&mut conn).unwrap(),
        0,
        "once"
    );
    assert_eq!(look().await.ok()["items"][0]["ticket"]["id"], id(&t));
}

/// A create body: the valid complaint with these fields put in.
trait Merged {
    fn merged(self) -> Value;
}

impl Merged for Value {
    fn merged(self) -> Value {
        let mut body = crate::common::complaint();
        for (k, v) in self.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }
}
