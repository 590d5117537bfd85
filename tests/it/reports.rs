//! The KPI reports on both backends: a scripted March of 24 cases on a fixed clock — returns,
//! late signs, extensions approved and denied, reopened cases, a withdrawal, a rejection, a
//! merge, a case reassigned after a dispute, overdue cases supervised by the system, one never
//! replied — with the expected table worked out by hand below; the counts kept as changes
//! happen equal to those counted again from the timeline; CSV and XLSX read back equal to the
//! JSON; scoping by role; empty denominators are null; the console's report page; the monthly
//! report sent once by two mailers.

use crate::common::browser::{Browser, PASSWORD, people};
use crate::common::smtp::SmtpServer;
use crate::common::{Backend, TestApp, complaint, count};
use actix_web::http::StatusCode;
use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use closedloop::app::reports::rollup;
use closedloop::domain::DepartmentCode;
use closedloop::domain::lifecycle::ActionKind;
use closedloop::domain::ticket::{Actor, Role, TicketId};
use serde_json::{Value, json};
use std::collections::BTreeMap;

on_both_backends!(
    a_scripted_month_gives_the_table_worked_out_by_hand,
    files_read_back_equal_to_the_json,
    each_role_sees_its_own_figures,
    bad_periods_are_refused_by_field,
    the_counts_are_made_from_the_timeline_for_old_tickets,
    the_monthly_report_is_mailed_once_with_its_workbook,
    the_console_shows_the_month_to_each_role,
);

/// March 2026 (no holiday in it), local time.
fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 3, day, h, m, 0)
        .unwrap()
        .naive_utc()
}

/// One step of the month.
enum Step {
    Create(&'static str, &'static str, &'static str),
    Act(&'static str, Who, ActionKind, Value),
    Fire,
}

#[derive(Clone, Copy)]
enum Who {
    Op,
    Sup,
    A,
    B,
}

impl Who {
    fn actor(self) -> Actor {
        let a = DepartmentCode::parse("shijian").unwrap();
        let b = DepartmentCode::parse("sifa").unwrap();
        match self {
            Who::Op => Actor::user("op", Role::Operator, None),
            Who::Sup => Actor::user("sup", Role::Supervisor, None),
            Who::A => Actor::user("a", Role::Department, Some(&a)),
            Who::B => Actor::user("b", Role::Department, Some(&b)),
        }
    }
}

/// The month's steps, each at its moment; run in the order of their moments.
fn script() -> Vec<(NaiveDateTime, Step)> {
    use ActionKind::*;
    use Step::*;
    use Who::*;
    let mut s: Vec<(NaiveDateTime, Step)> = vec![];
    let mut add = |t: NaiveDateTime, step: Step| s.push((t, step));
    let to = |d: &str| json!({ "department": d });
    let content = || json!({ "content": "已按政策办理并答复企业。" });
    let rate = |r: &str| json!({ "satisfaction": r });
    // A1–A5: dispatched, signed, answered in time, rated well, archived.
    for (i, (key, channel, rating)) in [
        ("A1", "hotline", "satisfied"),
        ("A2", "hotline", "satisfied"),
        ("A3", "web", "satisfied"),
        ("A4", "wechat", "basically_satisfied"),
        ("A5", "hotline", "basically_satisfied"),
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as u32;
        add(at(2, 9, i), Create(key, "complaint", channel));
        add(at(2, 9, 30 + i), Act(key, Op, Dispatch, to("shijian")));
        add(at(2, 10, i), Act(key, A, Sign, json!({})));
        add(at(3, 10, i), Act(key, A, InterimReply, content()));
        add(at(10, 10, i), Act(key, A, Reply, content()));
        add(at(11, 10, i), Act(key, Op, Feedback, rate(rating)));
        add(at(11, 10, 10 + i), Act(key, Op, Archive, json!({})));
    }
    // A6: signed late; answered, rated dissatisfied (reopened), answered again, rated well.
    add(at(2, 9, 6), Create("A6", "complaint", "hotline"));
    add(at(2, 9, 36), Act("A6", Op, Dispatch, to("shijian")));
    add(at(4, 10, 0), Act("A6", A, Sign, json!({})));
    add(at(5, 10, 0), Act("A6", A, Reply, content()));
    add(at(6, 10, 0), Act("A6", Op, Feedback, rate("dissatisfied")));
    add(at(9, 10, 0), Act("A6", A, Reply, content()));
    add(at(10, 10, 6), Act("A6", Op, Feedback, rate("satisfied")));
    add(at(10, 10, 16), Act("A6", Op, Archive, json!({})));
    // A7: 5 working days more approved; answered within them; no callback yet.
    add(at(2, 9, 7), Create("A7", "complaint", "hotline"));
    add(at(2, 9, 37), Act("A7", Op, Dispatch, to("shijian")));
    add(at(2, 10, 7), Act("A7", A, Sign, json!({})));
    add(
        at(5, 10, 0),
        Act(
            "A7",
            A,
            RequestExtension,
            json!({"working_days": 5, "reason": "需现场核查"}),
        ),
    );
    add(
        at(5, 11, 0),
        Act(
            "A7",
            Sup,
            DecideExtension,
            json!({"approve": true, "note": "同意"}),
        ),
    );
    add(at(6, 10, 0), Act("A7", A, InterimReply, content()));
    add(at(27, 10, 0), Act("A7", A, Reply, content()));
    // A8: more days asked and refused; answered in time.
    add(at(2, 9, 8), Create("A8", "complaint", "hotline"));
    add(at(2, 9, 38), Act("A8", Op, Dispatch, to("shijian")));
    add(at(2, 10, 8), Act("A8", A, Sign, json!({})));
    add(
        at(5, 10, 1),
        Act(
            "A8",
            A,
            RequestExtension,
            json!({"working_days": 3, "reason": "材料不全"}),
        ),
    );
    add(
        at(5, 11, 1),
        Act(
            "A8",
            Sup,
            DecideExtension,
            json!({"approve": false, "note": "期限内办结"}),
        ),
    );
    add(at(6, 10, 1), Act("A8", A, InterimReply, content()));
    add(at(10, 10, 8), Act("A8", A, Reply, content()));
    add(at(11, 10, 8), Act("A8", Op, Feedback, rate("satisfied")));
    add(at(11, 10, 18), Act("A8", Op, Archive, json!({})));
    // A9: a consultation (2 working days) past its deadline: supervised by the system.
    add(at(2, 9, 9), Create("A9", "consultation", "hotline"));
    add(at(2, 9, 39), Act("A9", Op, Dispatch, to("shijian")));
    add(at(2, 10, 9), Act("A9", A, Sign, json!({})));
    add(at(3, 10, 9), Act("A9", A, InterimReply, content()));
    add(at(4, 18, 0), Fire);
    add(at(6, 10, 9), Act("A9", A, Reply, content()));
    add(at(9, 10, 9), Act("A9", Op, Feedback, rate("satisfied")));
    add(at(9, 10, 19), Act("A9", Op, Archive, json!({})));
    // A10: supervised by hand, answered in time.
    add(at(2, 9, 10), Create("A10", "complaint", "hotline"));
    add(at(2, 9, 40), Act("A10", Op, Dispatch, to("shijian")));
    add(at(2, 10, 10), Act("A10", A, Sign, json!({})));
    add(
        at(5, 10, 10),
        Act("A10", Sup, Supervise, json!({"note": "请加快办理"})),
    );
    add(at(5, 11, 10), Act("A10", A, InterimReply, content()));
    add(at(6, 10, 10), Act("A10", A, Reply, content()));
    add(at(9, 10, 10), Act("A10", Op, Feedback, rate("satisfied")));
    add(at(9, 10, 20), Act("A10", Op, Archive, json!({})));
    // A11: returned by A, dispatched again to B, answered by B.
    add(at(3, 9, 11), Create("A11", "complaint", "hotline"));
    add(at(3, 9, 41), Act("A11", Op, Dispatch, to("shijian")));
    add(
        at(3, 11, 0),
        Act("A11", A, Return, json!({"reason": "不属于本单位职责"})),
    );
    add(at(3, 14, 40), Act("A11", Op, Dispatch, to("sifa")));
    add(at(4, 9, 0), Act("A11", B, Sign, json!({})));
    add(at(9, 10, 11), Act("A11", B, InterimReply, content()));
    add(at(12, 10, 0), Act("A11", B, Reply, content()));
    add(at(13, 10, 0), Act("A11", Op, Feedback, rate("satisfied")));
    add(at(13, 10, 10), Act("A11", Op, Archive, json!({})));
    // A12: no procedural reply in 7 days; answered, rated dissatisfied: reopened into April.
    add(at(2, 9, 12), Create("A12", "complaint", "hotline"));
    add(at(2, 9, 42), Act("A12", Op, Dispatch, to("shijian")));
    add(at(2, 10, 12), Act("A12", A, Sign, json!({})));
    add(at(11, 10, 0), Act("A12", A, Reply, content()));
    add(
        at(12, 10, 12),
        Act("A12", Op, Feedback, rate("dissatisfied")),
    );
    // A13, A14: requests for help on WeChat; A14 never called back.
    for (i, key) in ["A13", "A14"].into_iter().enumerate() {
        let i = i as u32;
        add(at(16, 9, i), Create(key, "help", "wechat"));
        add(at(16, 9, 30 + i), Act(key, Op, Dispatch, to("shijian")));
        add(at(16, 10, i), Act(key, A, Sign, json!({})));
        add(at(18, 10, i), Act(key, A, Reply, content()));
    }
    add(at(19, 10, 0), Act("A13", Op, Feedback, rate("satisfied")));
    add(at(19, 10, 10), Act("A13", Op, Archive, json!({})));
    // B1: signed and never answered: overdue, supervised by the system, past 3 months now.
    add(at(2, 9, 21), Create("B1", "complaint", "hotline"));
    add(at(2, 9, 51), Act("B1", Op, Dispatch, to("sifa")));
    add(at(2, 10, 21), Act("B1", B, Sign, json!({})));
    add(at(24, 9, 0), Fire);
    // B2–B4 on the web: B2 rated well; B3 reopened then rated well; B4 reopened, left open.
    for (i, key) in ["B2", "B3", "B4"].into_iter().enumerate() {
        let i = i as u32;
        add(at(3, 9, 22 + i), Create(key, "complaint", "web"));
        add(at(3, 9, 52 + i), Act(key, Op, Dispatch, to("sifa")));
        add(at(3, 10, 22 + i), Act(key, B, Sign, json!({})));
        add(at(4, 10, 22 + i), Act(key, B, InterimReply, content()));
        add(at(6, 10, 22 + i), Act(key, B, Reply, content()));
    }
    add(at(9, 10, 22), Act("B2", Op, Feedback, rate("satisfied")));
    add(at(9, 10, 32), Act("B2", Op, Archive, json!({})));
    add(at(9, 10, 23), Act("B3", Op, Feedback, rate("dissatisfied")));
    add(at(12, 10, 23), Act("B3", B, Reply, content()));
    add(at(13, 10, 23), Act("B3", Op, Feedback, rate("satisfied")));
    add(at(13, 10, 33), Act("B3", Op, Archive, json!({})));
    add(at(9, 10, 24), Act("B4", Op, Feedback, rate("dissatisfied")));
    // B5: signed late, answered late.
    add(at(4, 9, 25), Create("B5", "complaint", "hotline"));
    add(at(4, 9, 55), Act("B5", Op, Dispatch, to("sifa")));
    add(at(6, 9, 0), Act("B5", B, Sign, json!({})));
    add(at(9, 10, 25), Act("B5", B, InterimReply, content()));
    add(at(31, 10, 0), Act("B5", B, Reply, content()));
    // W1 withdrawn; R1 rejected; M1 merged into A1; U1 still waiting for dispatch at month's end.
    add(at(2, 9, 31), Create("W1", "help", "hotline"));
    add(at(2, 9, 56), Act("W1", Op, Dispatch, to("shijian")));
    add(at(2, 10, 31), Act("W1", A, Sign, json!({})));
    add(
        at(4, 10, 31),
        Act("W1", Op, Withdraw, json!({"reason": "企业已自行解决"})),
    );
    add(at(2, 9, 32), Create("R1", "suggestion", "letter"));
    add(
        at(2, 9, 42),
        Act("R1", Op, Reject, json!({"reason": "不属于受理范围"})),
    );
    add(at(2, 9, 33), Create("M1", "complaint", "hotline"));
    add(at(2, 10, 40), Act("M1", Op, Merge, json!({})));
    add(at(30, 9, 0), Create("U1", "complaint", "visit"));
    // C1: co-handled; the lead disputes it, a supervisor assigns it to B, who answers.
    add(at(9, 9, 0), Create("C1", "complaint", "hotline"));
    add(
        at(9, 9, 30),
        Act(
            "C1",
            Op,
            Dispatch,
            json!({"department": "shijian", "co_departments": ["sifa"]}),
        ),
    );
    add(at(9, 10, 0), Act("C1", A, Sign, json!({})));
    add(
        at(9, 14, 40),
        Act("C1", A, Coordinate, json!({"reason": "主要职责在司法局"})),
    );
    add(
        at(10, 9, 0),
        Act("C1", Sup, Assign, json!({"department": "sifa"})),
    );
    add(at(10, 10, 0), Act("C1", B, Sign, json!({})));
    add(at(11, 10, 0), Act("C1", B, Reply, content()));
    add(at(12, 10, 0), Act("C1", Op, Feedback, rate("satisfied")));
    add(at(12, 10, 10), Act("C1", Op, Archive, json!({})));
    s.sort_by_key(|(t, _)| *t);
    s
}

/// Runs the month through the use cases, as each step's moment; returns the tickets by key.
fn run_month(app: &TestApp) -> BTreeMap<&'static str, TicketId> {
    let settings = &app.state.settings;
    let mut ids: BTreeMap<&'static str, TicketId> = BTreeMap::new();
    let render = |t: &closedloop::domain::ticket::Ticket| json!({ "id": t.id });
    for (when, step) in script() {
        let mut conn = app.conn();
        match step {
            Step::Create(key, category, channel) => {
                let mut body = complaint();
                body["category"] = json!(category);
                body["channel"] = json!(channel);
                body["subject"] = json!(format!("脚本工单 {key}"));
                let created = closedloop::app::tickets::create(
                    &mut conn,
                    settings,
                    &Who::Op.actor(),
                    &body,
                    None,
                    when,
                    &render,
                )
                .unwrap_or_else(|e| panic!("{key}: {e}"));
                let closedloop::app::tickets::Created::New { ticket, .. } = created else {
                    panic!("{key} was replayed");
                };
                ids.insert(key, ticket.id);
            }
            Step::Act(key, who, action, mut payload) => {
                if action == ActionKind::Merge {
                    payload = json!({ "into": ids["A1"].to_string() });
                }
                closedloop::app::tickets::act(
                    &mut conn,
                    settings,
                    &who.actor(),
                    ids[key],
                    action,
                    &payload,
                    None,
                    when,
                )
                .unwrap_or_else(|e| panic!("{key} {action} at {when}: {e}"));
            }
            Step::Fire => {
                closedloop::app::scheduler::fire_due(&mut conn, settings, when, 100).unwrap();
            }
        }
    }
    ids
}

const MARCH: &str = "from=2026-03-01&to=2026-04-01";

/// `{value, numerator, denominator}` of one figure of a row.
fn fig(row: &Value, name: &str) -> (Value, Value, Value) {
    let f = &row["figures"][name];
    assert!(f.is_object(), "{name} missing in {row}");
    (
        f["value"].clone(),
        f["numerator"].clone(),
        f["denominator"].clone(),
    )
}

#[track_caller]
fn rate(row: &Value, name: &str, numerator: i64, denominator: i64) {
    let (value, n, d) = fig(row, name);
    assert_eq!(
        (n, d),
        (json!(numerator), json!(denominator)),
        "{} {name}",
        row["key"]
    );
    if denominator == 0 {
        assert_eq!(
            value,
            Value::Null,
            "{} {name}: no cases, no rate",
            row["key"]
        );
    } else {
        let v = value.as_f64().unwrap();
        assert!(
            (v - numerator as f64 / denominator as f64).abs() < 1e-9,
            "{} {name}: {v}",
            row["key"]
        );
    }
}

#[track_caller]
fn counted(row: &Value, name: &str, n: i64) {
    assert_eq!(
        fig(row, name),
        (json!(n), json!(n), Value::Null),
        "{} {name}",
        row["key"]
    );
}

#[track_caller]
fn mean(row: &Value, name: &str, value: Option<f64>, days: f64, replies: i64) {
    let (v, n, d) = fig(row, name);
    assert_eq!(
        (n.as_f64(), d),
        (Some(days), json!(replies)),
        "{} {name}",
        row["key"]
    );
    assert_eq!(v.as_f64(), value, "{} {name}", row["key"]);
}

fn group<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {report}"))
}

/// The table worked out by hand, step by step, in the comments.
async fn a_scripted_month_gives_the_table_worked_out_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    run_month(&app);
    let sup = app.supervisor();
    let r = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}&group_by=department"),
            &sup,
        )
        .await;
    let report = r.ok();
    let (a, b, hotline, total) = (
        group(report, "shijian"),
        group(report, "sifa"),
        group(report, "hotline"),
        &report["total"],
    );
    assert_eq!(hotline["name"], "12345热线");
    assert_eq!(total["key"], "total");
    // 受理量, by the first department dispatched to: A1–A14, W1, C1 to A (16); B1–B5 to B (5);
    // R1 (rejected), M1 (merged), U1 (never dispatched) at the hotline (3).
    counted(a, "received", 16);
    counted(b, "received", 5);
    counted(hotline, "received", 3);
    counted(total, "received", 24);
    // 及时签收率: sign clocks ended by sign or return. A: all of A1–A14, W1, C1's first, A11's
    // return (16), A6 late. B: A11, B1–B5, C1 after assign (7), B5 late.
    rate(a, "sign_on_time_rate", 15, 16);
    rate(b, "sign_on_time_rate", 6, 7);
    rate(hotline, "sign_on_time_rate", 0, 0);
    rate(total, "sign_on_time_rate", 21, 23);
    // 按时办结率: handling clocks due in March, cancelled ones (W1 withdrawn, C1's at A
    // reassigned) left out. A: A1–A5, A6 twice, A7 (moved to the 30th), A8, A9 (late), A10,
    // A12's first, A13, A14 = 14, 13 met (A12's second is due in April). B: A11, C1, B2, B3
    // twice, B4 twice (the second still running on the 30th), B5 (late), B1 (running) = 9, 6 met.
    rate(a, "on_time_completion_rate", 13, 14);
    rate(b, "on_time_completion_rate", 6, 9);
    rate(hotline, "on_time_completion_rate", 0, 0);
    rate(total, "on_time_completion_rate", 19, 23);
    // 7日程序性回复率: by who answered for the stage when it ended (or now). A: A1–A10 less A11,
    // with A12 late (no procedural reply, answered on the 11th), A13, A14 = 13, 12 met. B: A11,
    // C1 (its lead when answered), B2–B5, B1 (still running) = 7, 6 met. R1, M1, W1 cancelled;
    // U1's is due in April.
    rate(a, "interim_reply_rate", 12, 13);
    rate(b, "interim_reply_rate", 6, 7);
    rate(hotline, "interim_reply_rate", 0, 0);
    rate(total, "interim_reply_rate", 18, 20);
    // 3个月实体答复率: March's cases, all older than 3 months now, W1/R1/M1 left out. A: 13 answered
    // in time. B: A11 and C1 (answered by B), B2–B5 answered, B1 never = 6 of 7. Hotline: U1 never.
    rate(a, "substantive_reply_3m_rate", 13, 13);
    rate(b, "substantive_reply_3m_rate", 6, 7);
    rate(hotline, "substantive_reply_3m_rate", 0, 1);
    rate(total, "substantive_reply_3m_rate", 19, 21);
    // 满意率 and 重办率: callbacks by the lead department then. A: A1–A5, A6 twice, A8, A9, A10,
    // A12, A13 = 12, 10 rated well, 2 dissatisfied (A6, A12). B: A11, C1, B2, B3 twice, B4 = 6,
    // 4 well, 2 dissatisfied (B3, B4).
    rate(a, "satisfaction_rate", 10, 12);
    rate(a, "reopen_rate", 2, 12);
    rate(b, "satisfaction_rate", 4, 6);
    rate(b, "reopen_rate", 2, 6);
    rate(hotline, "satisfaction_rate", 0, 0);
    rate(total, "satisfaction_rate", 14, 18);
    rate(total, "reopen_rate", 4, 18);
    // 回退率: A returned A11 of 16 dispatched to it; B got A11, B1–B5 and C1 (assigned) = 7.
    rate(a, "return_rate", 1, 16);
    rate(b, "return_rate", 0, 7);
    rate(total, "return_rate", 1, 23);
    // 超期未办结 at the end of March: B1 (several stages) and B4 (handling again, due the 30th)
    // at B; U1 (dispatch) and A14 (callback) at the hotline.
    counted(a, "overdue_open", 0);
    counted(b, "overdue_open", 2);
    counted(hotline, "overdue_open", 2);
    counted(total, "overdue_open", 4);
    // 督办: A9 by the system on the 4th, A10 by hand; B1 by the system on the 24th.
    counted(a, "supervised", 2);
    counted(a, "supervised_manual", 1);
    counted(a, "supervised_automatic", 1);
    counted(b, "supervised", 1);
    counted(b, "supervised_automatic", 1);
    counted(total, "supervised", 3);
    counted(total, "supervised_manual", 1);
    counted(total, "supervised_automatic", 2);
    // 延期: A7 approved, A8 refused.
    counted(a, "extensions", 2);
    counted(a, "extensions_approved", 1);
    counted(a, "extensions_denied", 1);
    counted(b, "extensions", 0);
    counted(total, "extensions", 2);
    // 平均办理时长, working minutes (08:30–12:00, 14:30–17:30: 390 a day) from sign to first
    // reply: A: A1–A5 2,340 each (a sign at 10:0x, 300 that day, 5 days, 90 on the 10th), A6
    // 390, A7 7,403 (signed 10:07: 293, 18 days, 90), A8 2,340, A9 and A10 1,560 each, A12
    // 2,718 (signed 10:12: 288, 6 days, 90), A13 and A14 780 each = 29,231 over 13 replies
    // (74.95 working days, 5.77 each). B: A11 2,400 (signed 09:00: 360, 5 days, 90), C1 390,
    // B2–B4 1,170 each, B5 6,690 (360, 16 days, 90) = 12,990 over 6 (33.31, 5.55).
    mean(a, "avg_handling_wd", Some(5.77), 74.95, 13);
    mean(b, "avg_handling_wd", Some(5.55), 33.31, 6);
    mean(hotline, "avg_handling_wd", None, 0.0, 0);
    mean(total, "avg_handling_wd", Some(5.7), 108.26, 19);

    // By channel and by category.
    let r = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}&group_by=channel"),
            &sup,
        )
        .await;
    let by_channel = r.ok();
    for (channel, n) in [
        ("hotline", 15),
        ("web", 4),
        ("wechat", 3),
        ("letter", 1),
        ("visit", 1),
    ] {
        counted(group(by_channel, channel), "received", n);
    }
    // Web: A3 and B2 rated well, B3 badly then well, B4 badly.
    rate(group(by_channel, "web"), "satisfaction_rate", 3, 5);
    counted(&by_channel["total"], "overdue_open", 4);
    let r = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}&group_by=category"),
            &sup,
        )
        .await;
    let by_category = r.ok();
    for (category, n) in [
        ("complaint", 19),
        ("consultation", 1),
        ("help", 3),
        ("suggestion", 1),
        ("report", 0),
    ] {
        counted(group(by_category, category), "received", n);
    }
    rate(
        group(by_category, "consultation"),
        "on_time_completion_rate",
        0,
        1,
    );
    rate(group(by_category, "report"), "satisfaction_rate", 0, 0);

    // April has no callback at all: no satisfaction rate, not 0 % nor 100 %.
    let r = app
        .get("/api/v1/reports/kpis?from=2026-04-01&to=2026-05-01", &sup)
        .await;
    rate(&r.ok()["total"], "satisfaction_rate", 0, 0);

    // The counts kept as the month went equal those counted again from every timeline.
    let (differences, found) = rollup::check(&mut app.conn(), &app.state.settings).unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    assert!(
        found.tickets_differing.is_empty(),
        "{:?}",
        found.tickets_differing
    );
    assert!(
        found.timers_differing.is_empty(),
        "{:?}",
        found.timers_differing
    );
    assert_eq!(found.tickets, 24);
    // Folded or not, the figures are the same.
    rollup::fold(&mut app.conn()).unwrap();
    assert_eq!(count(&mut app.conn(), "kpi_deltas"), 0);
    let again = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}&group_by=department"),
            &sup,
        )
        .await;
    assert_eq!(again.ok()["groups"], report["groups"]);

    // The ranking: A scores above B; the hotline is not a department; departments with no
    // cases are listed apart.
    let r = app
        .get(&format!("/api/v1/reports/ranking?{MARCH}"), &sup)
        .await;
    let ranking = r.ok();
    let ranked: Vec<&str> = ranking["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(ranked, ["shijian", "sifa"], "{ranking}");
    assert_eq!(ranking["ranked"][0]["rank"], 1);
    assert_eq!(ranking["ranked"][0]["cases"], 16);
    assert_eq!(ranking["of"], 2);
    assert_eq!(ranking["red"], json!(["shijian"]));
    assert_eq!(ranking["black"], json!(["sifa"]));
    let apart: Vec<&str> = ranking["unranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(
        apart.contains(&"renshe") && !apart.contains(&"hotline"),
        "{apart:?}"
    );

    // The list behind 超期未办结, at the end of March.
    let r = app.get("/api/v1/reports/overdue?at=2026-03-31", &sup).await;
    let overdue = r.ok();
    assert_eq!(overdue["total"], 4);
    let units: std::collections::BTreeSet<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["hotline", "sifa"].into());
}

fn workbook_rows(bytes: &[u8]) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// The CSV and the workbook say what the JSON says, figure by figure.
async fn files_read_back_equal_to_the_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    run_month(&app);
    let sup = app.supervisor();
    let json_report = app
        .get(&format!("/api/v1/reports/kpis?{MARCH}"), &sup)
        .await
        .ok()
        .clone();
    let csv = app
        .send(
            "GET",
            &format!("/api/v1/reports/kpis?{MARCH}&format=csv"),
            Some(&sup),
            &[],
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("kpis-department-2026-03-01-2026-04-01.csv")
    );
    let text = String::from_utf8(csv.raw.clone()).unwrap();
    assert!(
        text.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[1].contains("2026-03-01 至 2026-03-31"),
        "{}",
        lines[1]
    );
    let header_at = lines.iter().position(|l| l.starts_with("单位,")).unwrap();
    let columns: Vec<&str> = lines[header_at].split(',').collect();
    let col = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("{name} in {columns:?}"))
    };
    let row_of = |name: &str| -> Vec<&str> {
        lines[header_at + 1..]
            .iter()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap()
            .split(',')
            .collect()
    };
    for (key, name) in [
        ("shijian", "区市监局"),
        ("sifa", "区司法局"),
        ("hotline", "12345热线"),
    ] {
        let json_row = group(&json_report, key);
        let csv_row = row_of(name);
        assert_eq!(
            csv_row[col("受理量")],
            json_row["figures"]["received"]["value"].to_string()
        );
        let expect = |figure: &str| match json_row["figures"][figure]["value"].as_f64() {
            Some(v) => format!("{:.1}%", v * 100.0),
            None => "—".into(),
        };
        assert_eq!(
            csv_row[col("及时签收率")],
            expect("sign_on_time_rate"),
            "{name}"
        );
        assert_eq!(
            csv_row[col("满意率")],
            expect("satisfaction_rate"),
            "{name}"
        );
        assert_eq!(
            csv_row[col("应签收")],
            json_row["figures"]["sign_on_time_rate"]["denominator"].to_string()
        );
    }
    let total = row_of("合计");
    assert_eq!(total[col("超期未办结")], "4");

    let xlsx = app
        .send(
            "GET",
            &format!("/api/v1/reports/kpis?{MARCH}&format=xlsx"),
            Some(&sup),
            &[],
            None,
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let rows = workbook_rows(&xlsx.raw);
    let text = |c: &calamine::Data| c.to_string();
    assert!(text(&rows[1][0]).contains("2026-03-01 至 2026-03-31"));
    let header = rows.iter().position(|r| text(&r[0]) == "单位").unwrap();
    let heads: Vec<String> = rows[header].iter().map(text).collect();
    let col = |name: &str| heads.iter().position(|c| c == name).unwrap();
    for (key, name) in [
        ("shijian", "区市监局"),
        ("sifa", "区司法局"),
        ("hotline", "12345热线"),
    ] {
        let json_row = group(&json_report, key);
        let row = rows.iter().find(|r| text(&r[0]) == name).unwrap();
        for (figure, label) in [
            ("sign_on_time_rate", "及时签收率"),
            ("on_time_completion_rate", "按时办结率"),
            ("satisfaction_rate", "满意率"),
            ("substantive_reply_3m_rate", "3个月实体答复率"),
        ] {
            match (
                json_row["figures"][figure]["value"].as_f64(),
                &row[col(label)],
            ) {
                (Some(v), calamine::Data::Float(x)) => {
                    assert!((v - x).abs() < 1e-9, "{name} {label}")
                }
                (None, calamine::Data::String(s)) => assert_eq!(s, "—"),
                (v, cell) => panic!("{name} {label}: {v:?} vs {cell:?}"),
            }
        }
        assert_eq!(
            row[col("受理量")],
            calamine::Data::Float(json_row["figures"]["received"]["value"].as_f64().unwrap())
        );
    }
    // The ranking and the overdue list as workbooks too.
    for path in [
        format!("/api/v1/reports/ranking?{MARCH}&format=xlsx"),
        "/api/v1/reports/overdue?at=2026-03-31&format=xlsx".to_string(),
    ] {
        let r = app.send("GET", &path, Some(&sup), &[], None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(workbook_rows(&r.raw).len() > 4, "{path}");
    }
    // `Accept: text/csv` asks for CSV as well as `format=csv` does.
    let r = app
        .send(
            "GET",
            "/api/v1/reports/overdue?at=2026-03-31",
            Some(&sup),
            &[("accept", "text/csv")],
            None,
        )
        .await;
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
}

/// Supervisors see every unit; a department its own row, list and place; an operator the
/// hotline's figures and no ranking.
async fn each_role_sees_its_own_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    run_month(&app);
    let mine = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}"),
            &app.department("sifa"),
        )
        .await;
    let body = mine.ok();
    let keys: Vec<&str> = body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["sifa"]);
    counted(&body["total"], "received", 5);
    counted(&body["total"], "overdue_open", 2);
    let place = app
        .get(
            &format!("/api/v1/reports/ranking?{MARCH}"),
            &app.department("sifa"),
        )
        .await;
    let place = place.ok();
    assert_eq!(place["ranked"].as_array().unwrap().len(), 1);
    assert_eq!(place["ranked"][0]["key"], "sifa");
    assert_eq!(place["ranked"][0]["rank"], 2);
    assert_eq!(place["of"], 2);
    assert_eq!(place["red"], json!([]));
    let list = app
        .get(
            "/api/v1/reports/overdue?at=2026-03-31",
            &app.department("shijian"),
        )
        .await;
    assert_eq!(
        list.ok()["total"],
        0,
        "A has nothing overdue; B's cases are not shown to it"
    );
    let by_category = app
        .get(
            &format!("/api/v1/reports/kpis?{MARCH}&group_by=category"),
            &app.department("shijian"),
        )
        .await;
    counted(&by_category.ok()["total"], "received", 16);

    let desk = app
        .get(&format!("/api/v1/reports/kpis?{MARCH}"), &app.operator())
        .await;
    let desk = desk.ok();
    let keys: Vec<&str> = desk["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["hotline"]);
    counted(&desk["total"], "received", 3);
    app.get(&format!("/api/v1/reports/ranking?{MARCH}"), &app.operator())
        .await
        .problem(403, "forbidden");
    let list = app
        .get("/api/v1/reports/overdue?at=2026-03-31", &app.operator())
        .await;
    assert_eq!(list.ok()["total"], 2);
    app.get(&format!("/api/v1/reports/kpis?{MARCH}"), "not a token")
        .await
        .problem(401, "unauthorized");
}

async fn bad_periods_are_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sup = app.supervisor();
    for (query, field) in [
        ("to=2026-03-01", "from"),
        ("from=2026-03-01", "to"),
        ("from=2026-02-30&to=2026-04-01", "from"),
        ("from=2026-04-01&to=2026-03-01", "to"),
        ("from=2026-03-01&to=2026-03-01", "to"),
        ("from=0001-01-01&to=2026-03-01", "from"),
        ("from=2026-03-01&to=2026-04-01&group_by=mood", "group_by"),
        ("from=2026-03-01&to=2026-04-01&format=pdf", "format"),
    ] {
        let r = app
            .get(&format!("/api/v1/reports/kpis?{query}"), &sup)
            .await;
        assert_eq!(r.status.as_u16(), 422, "{query}");
        r.problem(422, "validation_failed");
        assert!(
            r.fields().contains(&field.to_string()),
            "{query}: {}",
            r.body
        );
    }
    for at in ["yesterday", "9999-12-31"] {
        let r = app
            .get(&format!("/api/v1/reports/overdue?at={at}"), &sup)
            .await;
        r.problem(422, "validation_failed");
        assert_eq!(r.fields(), ["at"]);
    }
    // A period with nothing in it is no error: every rate is null, every count 0.
    let r = app
        .get("/api/v1/reports/kpis?from=2030-01-01&to=2030-02-01", &sup)
        .await;
    let total = &r.ok()["total"];
    rate(total, "interim_reply_rate", 0, 0);
    counted(total, "received", 0);
}

/// Tickets written before the counts existed are counted from their timelines when the service
/// starts, once; `closedloop kpi rebuild` does the same on demand.
async fn the_counts_are_made_from_the_timeline_for_old_tickets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    run_month(&app);
    let sup = app.supervisor();
    let before = app
        .get(&format!("/api/v1/reports/kpis?{MARCH}"), &sup)
        .await
        .ok()
        .clone();
    // As a database from before the counts: no counts, no history on tickets and timers.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        for sql in [
            "DELETE FROM kpi_counts",
            "DELETE FROM kpi_deltas",
            "DELETE FROM kpi_rebuilds",
            "UPDATE tickets SET first_department = NULL, replied_at = NULL, replied_by = NULL",
            "UPDATE timers SET department = NULL",
        ] {
            diesel::sql_query(sql).execute(&mut *conn).unwrap();
        }
    }
    let emptied = app
        .get(&format!("/api/v1/reports/kpis?{MARCH}"), &sup)
        .await;
    counted(&emptied.ok()["total"], "received", 0);
    let (differences, _) = rollup::check(&mut app.conn(), &app.state.settings).unwrap();
    assert!(!differences.is_empty());
    let made = rollup::rebuild_if_never(
        &mut app.conn(),
        &app.state.settings,
        closedloop::store::now(),
    )
    .unwrap()
    .expect("counted once");
    assert_eq!(made.tickets, 24);
    assert!(made.tickets_fixed > 0 && made.timers_fixed > 0);
    assert!(
        rollup::rebuild_if_never(
            &mut app.conn(),
            &app.state.settings,
            closedloop::store::now()
        )
        .unwrap()
        .is_none(),
        "only once"
    );
    let after = app
        .get(&format!("/api/v1/reports/kpis?{MARCH}"), &sup)
        .await;
    assert_eq!(after.ok()["groups"], before["groups"]);
    assert_eq!(after.body["total"], before["total"]);
    let (differences, found) = rollup::check(&mut app.conn(), &app.state.settings).unwrap();
    assert!(
        differences.is_empty()
            && found.timers_differing.is_empty()
            && found.tickets_differing.is_empty()
    );
}

/// On the first working day of April (the 1st, a Wednesday) after 08:30, two mailers each try
/// to queue March's report: one mail goes, to leadership and supervisors, with the workbook.
async fn the_monthly_report_is_mailed_once_with_its_workbook(backend: Backend) {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"),
            ("CLOSEDLOOP__MAIL__SMTP_URL", url.as_str()),
            (
                "CLOSEDLOOP__MAIL__SUPERVISORS",
                r#"["duban@district.gov.cn"]"#,
            ),
            (
                "CLOSEDLOOP__MAIL__LEADERSHIP",
                r#"["leader@district.gov.cn"]"#,
            ),
        ],
    )
    .await;
    run_month(&app);
    let digest_at = chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap();
    let april = |d: u32, h: u32| {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 4, d, h, 0, 0)
            .unwrap()
            .naive_utc()
    };
    let (pool, settings) = (app.state.pool.clone(), app.state.settings.clone());
    let queue = |when| {
        closedloop::notify::monthly::queue(&mut pool.get().unwrap(), digest_at, &settings, when)
            .unwrap()
    };
    assert!(!queue(april(1, 8)), "not before 08:30");
    let both: Vec<bool> = std::thread::scope(|s| {
        let tries: Vec<_> = (0..2).map(|_| s.spawn(|| queue(april(1, 9)))).collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(both.iter().filter(|b| **b).count(), 1, "{both:?}");
    assert!(!queue(april(2, 9)), "once a month");
    app.deliver(april(1, 9)).await;
    let monthly: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject.contains("月度考核报表"))
        .collect();
    assert_eq!(monthly.len(), 1);
    let mail = &monthly[0];
    let mut to = mail.rcpt_tos.clone();
    to.sort();
    assert_eq!(to, ["duban@district.gov.cn", "leader@district.gov.cn"]);
    assert!(
        mail.subject.contains("2026年3月") && mail.subject.contains("受理 24 件"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains("7日程序性回复率：90.0%（18/20"),
        "{}",
        mail.text
    );
    assert_eq!(mail.attachments.len(), 1);
    let file = &mail.attachments[0];
    assert_eq!(file.filename, "kpi-2026-03.xlsx");
    assert_eq!(
        file.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&file.base64)
        .unwrap();
    use calamine::Reader;
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["按单位", "按诉求类型", "按受理渠道", "排名", "超期未办结"]
    );
    let rows = workbook_rows(&bytes);
    assert!(rows.iter().any(|r| r[0] == "合计"));
    assert_eq!(
        mail.message_id,
        closedloop::notify::monthly::message_id(&closedloop::app::reports::Period {
            from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        })
    );
}

/// 考核报表 in the console: the figures with their parts, the ranking with its boards, the
/// charts; scoped as the API; a bad period said beside its field; the downloads.
async fn the_console_shows_the_month_to_each_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    run_month(&app);
    people(&app);
    let march = "/reports?period=custom&from=2026-03-01&until=2026-03-31";
    let mut nobody = Browser::new(&app);
    assert!(nobody.get(march).await.location().starts_with("/login"));

    let mut sup = Browser::new(&app);
    sup.sign_in("sup", PASSWORD).await;
    let page = sup.get(march).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "2026-03-01 至 2026-03-31",
        "区市监局",
        "区司法局",
        "93.8%<span class=\"parts\">15&#x2f;16</span>",
        "85.7%<span class=\"parts\">6&#x2f;7</span>",
        "本期无工单、无到期事项：",
        "承办单位排名",
        "红榜",
        "黑榜",
        "<svg role=\"img\"",
        "各单位 7日程序性回复率与 3个月实体答复率",
        "每日受理量",
        "诉求类型构成",
        "投诉：19 件",
    ] {
        assert!(
            page.html.contains(text),
            "{text} missing: {}",
            page.html
                .split("data-table=\"kpis\"")
                .nth(1)
                .unwrap_or(&page.html)
                .chars()
                .skip(1000)
                .take(1500)
                .collect::<String>()
        );
    }
    let csv = sup
        .get("/reports/export?what=kpis&format=csv&period=custom&from=2026-03-01&until=2026-03-31")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.html.contains("区市监局,16,"),
        "{}",
        &csv.html[..400.min(csv.html.len())]
    );
    let xlsx = sup.get("/reports/export?what=overdue&format=xlsx&period=custom&from=2026-03-01&until=2026-03-31").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(
        xlsx.header("content-disposition")
            .unwrap()
            .contains(".xlsx")
    );
    // A period the wrong way round is said beside the field, in Chinese.
    let bad = sup
        .get("/reports?period=custom&from=2026-03-31&until=2026-03-01")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("结束日期不能早于开始日期"));
    assert!(bad.html.contains("aria-invalid=\"true\""));

    let mut sf = Browser::new(&app);
    sf.sign_in("sf", PASSWORD).await;
    let page = sf.get(march).await;
    assert!(page.html.contains("区司法局") && !page.html.contains("区市监局"));
    assert!(page.html.contains("2 个单位参与排名"));

    let mut op = Browser::new(&app);
    op.sign_in("op", PASSWORD).await;
    let page = op.get(march).await;
    assert!(page.html.contains("12345热线"));
    assert!(
        !page.html.contains("承办单位排名"),
        "operators have no ranking"
    );
}
