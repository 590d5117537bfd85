//! The loop itself, end to end: every action from 受理 to 归档, the other endings, reopening, and the
//! visibility that moves with dispatch, return and assign.

use crate::common::{Backend, TestApp, complaint, count, id};
use actix_web::http::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    the_whole_loop_from_accepted_to_archived,
    dissatisfied_feedback_reopens_the_case,
    return_coordinate_and_assign_move_visibility,
    other_endings_set_their_outcome,
    archived_tickets_never_change,
    tickets_merged_into_each_other,
);

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
