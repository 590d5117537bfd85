//! Mail end to end, on SQLite and on PostgreSQL, through a real SMTP server (aiosmtpd): what a
//! change sends to whom, an outage that loses nothing and sends nothing twice, a failed change that
//! sends nothing, a crash mid-send, failures visible and retryable, the overdue mail and the digest.

use crate::common::smtp::{Mail, SmtpServer};
use crate::common::{Backend, TestApp, id};
use chrono::{Duration, NaiveDateTime};
use closedloop::domain::ticket::Role;
use closedloop::store;
use serde_json::{Value, json};
use std::collections::BTreeSet;

on_both_backends!(
    a_dispatch_reaches_the_department_inbox,
    an_smtp_outage_loses_nothing_and_sends_nothing_twice,
    a_change_that_fails_sends_nothing,
    a_crash_mid_send_resends_once_with_the_same_message_id,
    a_send_without_an_answer_is_given_up_and_goes_again,
    failures_are_visible_and_retryable,
    supervisors_get_the_overdue_mail_and_the_digest,
    two_mailers_send_each_notification_once,
    the_file_transport_writes_what_would_be_sent,
);

const SUPERVISORS: &str = r#"["duban@district.gov.cn"]"#;

async fn mail_app(backend: Backend, smtp: &SmtpServer, extra: &[(&str, &str)]) -> TestApp {
    let url = smtp.url();
    let mut env = vec![
        ("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"),
        ("CLOSEDLOOP__MAIL__SMTP_URL", url.as_str()),
        ("CLOSEDLOOP__MAIL__SMTP_TIMEOUT", "10s"),
        ("CLOSEDLOOP__MAIL__DESK", r#"["desk@district.gov.cn"]"#),
        ("CLOSEDLOOP__MAIL__SUPERVISORS", SUPERVISORS),
        (
            "CLOSEDLOOP__MAIL__LEADERSHIP",
            r#"["leader@district.gov.cn"]"#,
        ),
        // The digest is tested on its own, with the clock it is given.
        ("CLOSEDLOOP__MAIL__DIGEST_AT", ""),
    ];
    env.extend_from_slice(extra);
    TestApp::spawn_with(backend, &env).await
}

fn time(v: &Value) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .naive_utc()
}

fn to(m: &Mail) -> Vec<&str> {
    let mut all: Vec<&str> = m.rcpt_tos.iter().map(String::as_str).collect();
    all.sort();
    all
}

fn with_subject<'a>(mails: &'a [Mail], part: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.subject.contains(part)).collect()
}

/// Every Message-ID arrived exactly once.
#[track_caller]
fn each_once(mails: &[Mail]) {
    let ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), mails.len(), "a mail arrived twice: {mails:#?}");
}

async fn a_dispatch_reaches_the_department_inbox(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    app.add_user(
        "shijian-li",
        Role::Department,
        Some("shijian"),
        "li@shijian.gov.cn",
    );
    app.add_user("op-wang", Role::Operator, None, "wang@12345.gov.cn");
    let t = app.dispatched("shijian", &["renshe"], false).await;
    let number = t["number"].as_str().unwrap();

    let round = app.deliver(store::now()).await;
    assert_eq!((round.sent, round.retried, round.failed), (2, 0, 0));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let lead = with_subject(&mails, "待签收")[0];
    assert_eq!(to(lead), ["li@shijian.gov.cn", "shijian@example.gov.cn"]);
    assert_eq!(lead.mail_from, "noreply@example.gov.cn");
    assert!(lead.subject.contains(number), "{}", lead.subject);
    assert!(lead.subject.contains("黄石市下陆区恒信机械制造有限公司"));
    assert!(
        lead.text.contains("区市监局：12345热线向贵单位分办"),
        "{}",
        lead.text
    );
    assert!(lead.text.contains("个工作日）"), "{}", lead.text);
    assert!(
        lead.text
            .contains(&format!("http://127.0.0.1:8080/tickets/{}", id(&t))),
        "{}",
        lead.text
    );
    assert!(lead.html.contains(number));
    let co = with_subject(&mails, "协办")[0];
    assert_eq!(to(co), ["renshe@example.gov.cn"]);

    // The outbox says what was sent, under the Message-IDs that arrived.
    let rows = app.notifications(&format!("ticket={}", id(&t))).await;
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row}");
        assert_eq!(row["attempts"], 1);
        assert!(row["sent_at"].is_string());
        assert!(
            mails.iter().any(|m| m.message_id == row["message_id"]),
            "{row}"
        );
    }
    // Sent is sent: another round sends nothing.
    assert_eq!(app.deliver(store::now()).await.leased(), 0);
    // What the metrics are given: the outbox by state, and sends counted with their time.
    closedloop::app::health::observe(&mut app.conn(), store::now()).unwrap();
    let depth = closedloop::store::outbox::depth(&mut app.conn()).unwrap();
    assert_eq!(depth.get("sent"), Some(&2));
    assert_eq!(depth.get("pending"), None);
    let text = closedloop::metrics::render();
    assert!(text.contains("closedloop_mail_sent_total "), "{text}");
    assert!(text.contains("closedloop_mail_send_duration_seconds_count "));

    // The real loop: a return goes to the hotline desk within a few ticks.
    let mailer = closedloop::jobs::mailer::Mailer::spawn(
        app.state.pool.clone(),
        app.state.settings.clone(),
        closedloop::server::postman(&app.config).unwrap(),
        std::time::Duration::from_millis(100),
        app.config.is_sqlite(),
    );
    app.act(
        id(&t),
        "return",
        &app.department("shijian"),
        json!({"reason": "涉及社保缴费，非本单位职责"}),
    )
    .await
    .ok();
    // Five envelopes: the lead's two addresses, the co-handler, the desk's two.
    let mails = smtp.wait_for(5, std::time::Duration::from_secs(30));
    mailer.stop();
    assert_eq!(mails.len(), 3, "{mails:#?}");
    let returned = with_subject(&mails, "退回")[0];
    assert_eq!(to(returned), ["desk@district.gov.cn", "wang@12345.gov.cn"]);
    assert!(returned.text.contains("涉及社保缴费，非本单位职责"));
    each_once(&mails);
}

async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice(backend: Backend) {
    let mut smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    smtp.stop();

    // The mail server is down: every change still goes through.
    let mut tickets = vec![];
    for _ in 0..3 {
        tickets.push(app.dispatched("shijian", &[], false).await);
    }
    app.act(
        id(&tickets[0]),
        "return",
        &app.department("shijian"),
        json!({"reason": "非本单位"}),
    )
    .await
    .ok();
    let now = store::now();
    let round = app.deliver(now).await;
    assert_eq!((round.sent, round.retried, round.failed), (0, 4, 0));
    let waiting = app.notifications("status=pending").await;
    assert_eq!(waiting.len(), 4);
    for row in &waiting {
        assert_eq!(row["attempts"], 1);
        assert!(
            row["last_error"].as_str().unwrap().contains("onnection"),
            "{row}"
        );
        assert!(time(&row["next_attempt_at"]) > now + Duration::seconds(50));
    }
    // Not again before the backoff has passed.
    assert_eq!(app.deliver(now + Duration::seconds(10)).await.leased(), 0);

    // Back: everything that waited arrives, once.
    smtp.restart();
    let round = app.deliver(now + Duration::minutes(2)).await;
    assert_eq!((round.sent, round.retried, round.failed), (4, 0, 0));
    assert_eq!(app.deliver(now + Duration::hours(2)).await.leased(), 0);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 4);
    each_once(&mails);
    for t in &tickets {
        let number = t["number"].as_str().unwrap();
        assert!(mails.iter().any(|m| m.subject.contains(number)));
    }
    assert_eq!(app.notifications("status=sent").await.len(), 4);
}

async fn a_change_that_fails_sends_nothing(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    let t = app.dispatched("shijian", &[], false).await;
    // The database refuses the return's notification: the last write of that change.
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_returned BEFORE INSERT ON outbox WHEN NEW.template = 'returned'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_returned() RETURNS trigger AS $$ BEGIN
               IF NEW.template = 'returned' THEN RAISE EXCEPTION 'refused by the test'; END IF;
               RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_returned BEFORE INSERT ON outbox
             FOR EACH ROW EXECUTE FUNCTION refuse_returned()",
        ],
    };
    for sql in refuse {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql).execute(&mut *app.conn()).unwrap();
    }
    let r = app
        .act(
            id(&t),
            "return",
            &app.department("shijian"),
            json!({"reason": "非本单位"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 500, "{}", r.body);
    // Nothing of the change is left: not the state, not the event, not the mail.
    let now = app
        .get(&format!("/api/v1/tickets/{}", id(&t)), &app.operator())
        .await;
    assert_eq!(now.ok()["state"], "dispatched");
    assert_eq!(app.actions(id(&t)).await, ["create", "dispatch"]);
    let rows = app.notifications(&format!("ticket={}", id(&t))).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["template"], "dispatch");
    app.deliver(store::now()).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("待签收"));
}

async fn a_crash_mid_send_resends_once_with_the_same_message_id(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    let t = app.dispatched("shijian", &[], false).await;
    // The server takes the message and never confirms it; the mailer dies waiting.
    smtp.hang(true);
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_closedloop"))
        .arg("worker")
        .env("DATABASE_URL", &app.db.url)
        .env("CLOSEDLOOP__SCHEDULER__ENABLED", "false")
        .env("CLOSEDLOOP__MAIL__TRANSPORT", "smtp")
        .env("CLOSEDLOOP__MAIL__SMTP_URL", smtp.url())
        .env("CLOSEDLOOP__MAIL__SMTP_TIMEOUT", "60s")
        .env("CLOSEDLOOP__MAIL__LEASE", "90s")
        .env("CLOSEDLOOP__MAIL__TICK", "1s")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = smtp.wait_for(1, std::time::Duration::from_secs(60));
    worker.kill().unwrap(); // SIGKILL: no chance to record anything
    worker.wait().unwrap();
    assert_eq!(first.len(), 1, "the worker did not send");
    let leased = app.notifications(&format!("ticket={}", id(&t))).await;
    assert_eq!(leased[0]["status"], "sending");
    assert_eq!(leased[0]["attempts"], 1);

    // Until the dead mailer's lease runs out nobody sends it; then it goes again, same ID.
    smtp.hang(false);
    let now = store::now();
    assert_eq!(app.deliver(now).await.leased(), 0);
    let round = app.deliver(now + Duration::seconds(91)).await;
    assert_eq!(round.sent, 1);
    assert_eq!(app.deliver(now + Duration::hours(1)).await.leased(), 0);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "one resend at most");
    assert_eq!(mails[0].message_id, mails[1].message_id);
    let row = &app.notifications(&format!("ticket={}", id(&t))).await[0];
    assert_eq!(row["message_id"], mails[0].message_id.as_str());
    assert_eq!(row["status"], "sent");
    assert_eq!(row["attempts"], 2);
}

async fn a_send_without_an_answer_is_given_up_and_goes_again(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(
        backend,
        &smtp,
        &[
            ("CLOSEDLOOP__MAIL__SMTP_TIMEOUT", "1s"),
            ("CLOSEDLOOP__MAIL__LEASE", "5s"),
        ],
    )
    .await;
    let t = app.dispatched("shijian", &[], false).await;
    // The server takes the message and never confirms it: after a second the send is given up.
    smtp.hang(true);
    let started = std::time::Instant::now();
    let round = app.deliver(store::now()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!((round.sent, round.retried), (0, 1));
    let row = &app.notifications(&format!("ticket={}", id(&t))).await[0];
    assert_eq!(row["status"], "pending");
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("no answer within 1s"),
        "{row}"
    );
    // Its outcome was unknown: it goes again, under the same Message-ID.
    smtp.hang(false);
    let round = app.deliver(store::now() + Duration::minutes(2)).await;
    assert_eq!(round.sent, 1);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].message_id, mails[1].message_id);
}

async fn failures_are_visible_and_retryable(backend: Backend) {
    let mut smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[("CLOSEDLOOP__MAIL__MAX_ATTEMPTS", "2")]).await;

    // A mailbox the server refuses for good holds up no other; the refusal is on record.
    app.add_user(
        "renshe-zhao",
        Role::Department,
        Some("renshe"),
        "refuse-zhao@renshe.gov.cn",
    );
    let refused = app.dispatched("renshe", &[], false).await;
    let now = store::now();
    let round = app.deliver(now).await;
    assert_eq!((round.sent, round.failed), (1, 0));
    let arrived = smtp.messages();
    assert_eq!(arrived.len(), 1);
    assert_eq!(to(&arrived[0]), ["renshe@example.gov.cn"]);
    let row = &app.notifications(&format!("ticket={}", id(&refused))).await[0];
    assert_eq!(row["status"], "sent");
    let note = row["last_error"].as_str().unwrap();
    assert!(
        note.contains("refuse-zhao@renshe.gov.cn") && note.contains("550"),
        "{row}"
    );

    // Down for longer than the attempts allow: failed after two.
    smtp.stop();
    let t = app.dispatched("shijian", &[], false).await;
    let now = store::now();
    assert_eq!(app.deliver(now).await.retried, 1);
    assert_eq!(app.deliver(now + Duration::minutes(2)).await.failed, 1);
    let row = app.notifications(&format!("ticket={}", id(&t))).await[0].clone();
    assert_eq!(row["status"], "failed");
    assert_eq!(row["attempts"], 2);
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 2 attempts")
    );

    // Who may see and retry.
    let path = format!(
        "/api/v1/notifications/{}/retry",
        row["id"].as_str().unwrap()
    );
    for token in [app.operator(), app.department("shijian")] {
        app.get("/api/v1/notifications", &token)
            .await
            .problem(403, "forbidden");
        app.post(&path, &token, &json!({}))
            .await
            .problem(403, "forbidden");
    }
    app.send("GET", "/api/v1/notifications", None, &[], None)
        .await
        .problem(401, "unauthorized");
    let bad = app
        .get(
            "/api/v1/notifications?status=lost&ticket=x&limit=0",
            &app.supervisor(),
        )
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.fields(), ["limit", "status", "ticket"]);
    app.post(
        &format!("/api/v1/notifications/{}/retry", uuid::Uuid::now_v7()),
        &app.admin(),
        &json!({}),
    )
    .await
    .problem(404, "not_found");

    // The server is back; a retry sends it.
    smtp.restart();
    let again = app.post(&path, &app.admin(), &json!({})).await;
    assert_eq!(again.ok()["status"], "pending");
    assert_eq!(again.body["attempts"], 0);
    assert_eq!(app.deliver(store::now()).await.sent, 1);
    app.post(&path, &app.supervisor(), &json!({}))
        .await
        .problem(409, "invalid_state");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].message_id, row["message_id"].as_str().unwrap());

    // Pages, newest first.
    let page = app
        .get("/api/v1/notifications?limit=1", &app.supervisor())
        .await;
    assert_eq!(page.ok()["items"][0]["id"], row["id"]);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let next = app
        .get(
            &format!("/api/v1/notifications?limit=1&cursor={cursor}"),
            &app.supervisor(),
        )
        .await;
    assert_eq!(next.ok()["items"][0]["ticket_id"], refused["id"]);
}

async fn supervisors_get_the_overdue_mail_and_the_digest(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    app.add_user("sup-zhang", Role::Supervisor, None, "zhang@duban.gov.cn");
    let t = app.dispatched("shijian", &[], true).await;
    let number = t["number"].as_str().unwrap().to_string();
    let handle_due = time(&app.timers(id(&t)).await["handle"]["due_at"]);

    // Long past the deadline: the whole ladder fires, and every level tells its people.
    let late = handle_due + Duration::days(14);
    app.fire_due(late);
    let round = app.deliver(late).await;
    assert_eq!(round.failed, 0);
    let mails = smtp.messages();
    each_once(&mails);
    // The handling deadline's ladder (the interim reply's climbs beside it).
    let level = |label: &str| {
        let found: Vec<&Mail> = with_subject(&mails, label)
            .into_iter()
            .filter(|m| m.text.contains("这件工单的办理期限"))
            .collect();
        assert_eq!(found.len(), 1, "{label}: {mails:#?}");
        to(found[0])
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(level("临期预警"), ["shijian@example.gov.cn"]);
    assert_eq!(
        level("超期催办"),
        ["shijian.head@example.gov.cn", "shijian@example.gov.cn"]
    );
    assert_eq!(
        level("超期督办"),
        ["duban@district.gov.cn", "zhang@duban.gov.cn"]
    );
    assert_eq!(level("超期通报"), ["leader@district.gov.cn"]);
    let overdue = with_subject(&mails, "超期督办")
        .into_iter()
        .find(|m| m.text.contains("这件工单的办理期限已于"))
        .unwrap();
    assert!(overdue.subject.contains(&number));
    assert!(
        overdue.text.contains("请督促承办单位立即办理"),
        "{}",
        overdue.text
    );
    let due = handle_due
        .and_utc()
        .with_timezone(&app.state.settings.timezone)
        .format("%Y年%-m月%-d日")
        .to_string();
    assert!(
        overdue
            .text
            .contains(&format!("这件工单的办理期限已于 {due}")),
        "{due}: {}",
        overdue.text
    );

    // The morning digest: on a working day from 08:30 local time, once.
    let settings = &app.state.settings;
    let digest_at = chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap();
    let calendar = settings.calendars.current();
    let tz = settings.timezone;
    let mut day = late.and_utc().with_timezone(&tz).date_naive() + Duration::days(1);
    while !calendar.is_working_day(day) {
        day += Duration::days(1);
    }
    let at = |date: chrono::NaiveDate, hm: (u32, u32)| {
        date.and_hms_opt(hm.0, hm.1, 0)
            .unwrap()
            .and_local_timezone(tz)
            .unwrap()
            .naive_utc()
    };
    let queue = |moment| {
        closedloop::notify::digest::queue(&mut app.conn(), digest_at, settings, moment).unwrap()
    };
    assert!(!queue(at(day, (8, 29))), "not before 08:30");
    let mut day_off = day;
    while calendar.is_working_day(day_off) {
        day_off += Duration::days(1);
    }
    assert!(!queue(at(day_off, (9, 0))), "not on a day off");
    assert!(queue(at(day, (8, 31))));
    assert!(!queue(at(day, (11, 0))), "once a day");
    app.deliver(at(day, (8, 31))).await;
    let digests: Vec<Mail> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject.contains("每日超期汇总"))
        .collect();
    assert_eq!(digests.len(), 1);
    let digest = &digests[0];
    assert_eq!(to(digest), ["duban@district.gov.cn", "zhang@duban.gov.cn"]);
    assert!(
        digest.subject.contains("超期工单 1 件"),
        "{}",
        digest.subject
    );
    assert!(
        digest.text.contains("■ 区市监局（1 件）"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains(&number));
    // It opens with the plan's two figures, counted as the reports count them.
    assert!(
        digest.text.contains("昨日到期的7日程序性回复率")
            && digest.text.contains("本年3个月实体答复率"),
        "{}",
        digest.text
    );
    assert_eq!(
        digest.message_id,
        closedloop::notify::digest::message_id(day)
    );
}

async fn two_mailers_send_each_notification_once(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = mail_app(backend, &smtp, &[]).await;
    for _ in 0..12 {
        app.dispatched("shijian", &["renshe"], false).await;
    }
    let now = store::now();
    let mailers: Vec<_> = (0..2)
        .map(|_| {
            let pool = app.state.pool.clone();
            let settings = app.state.settings.clone();
            let mut postman = closedloop::server::postman(&app.config).unwrap();
            postman.mailing.batch = 3;
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let mut sent = 0;
                    loop {
                        let round = postman
                            .deliver_due(&pool, settings.timezone, now)
                            .await
                            .unwrap();
                        if round.leased() == 0 {
                            return sent;
                        }
                        sent += round.sent;
                    }
                })
            })
        })
        .collect();
    let sent: Vec<usize> = mailers.into_iter().map(|m| m.join().unwrap()).collect();
    assert_eq!(sent.iter().sum::<usize>(), 24, "{sent:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 24);
    each_once(&mails);
}

async fn the_file_transport_writes_what_would_be_sent(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(
        backend,
        &[("CLOSEDLOOP__MAIL__DIR", dir.path().to_str().unwrap())],
    )
    .await;
    let t = app.dispatched("shijian", &[], false).await;
    assert_eq!(app.deliver(store::now()).await.sent, 1);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    let row = &app.notifications(&format!("ticket={}", id(&t))).await[0];
    assert!(
        eml.contains(&format!(
            "Message-ID: {}",
            row["message_id"].as_str().unwrap()
        )),
        "{eml}"
    );
    assert!(eml.contains("To: shijian@example.gov.cn"), "{eml}");
}
