//! Who sees what: departments their own cases only, 举报 reporters masked, lists that filter and page
//! stably.

use crate::common::{Backend, TestApp, count, id, urlencode};
use serde_json::{Value, json};

on_both_backends!(
    departments_see_only_their_cases,
    reporters_are_masked_for_departments,
    lists_filter_and_page_stably,
    departments_and_events_page,
);

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

    let ids = |r: &crate::common::Reply| -> Vec<String> {
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
