//! Every mail as it is rendered from the data a change writes, kept as snapshots
//! (`src/notify/snapshots/`): a change to a template or its context shows up in review.

use super::compose::{View, digest_context, monthly_context, ticket_context};
use super::templates::{NAMES, Templates};
use serde_json::{Value, json};

fn view() -> View {
    View {
        public_url: "https://12345.example.gov.cn".into(),
        timezone: chrono_tz::Asia::Shanghai,
        departments: [
            ("shijian", "区市场监管局"),
            ("renshe", "区人力资源和社会保障局"),
            ("zhujian", "区住房和城乡建设局"),
        ]
        .into_iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect(),
    }
}

fn deadline(kind: &str, due: &str, duration: &str, extended: u32) -> Value {
    json!({"kind": kind, "due_at": due, "duration": duration, "extended_days": extended})
}

/// The data a change of this kind writes (as `store::tickets` writes it).
fn data(template: &str) -> Value {
    let mut d = json!({
        "number": "XL-2026-000123",
        "subject": "企业开办登记材料被多次退回",
        "enterprise": "杭州示例科技有限公司",
        "state": "dispatched",
        "lead_department": "shijian",
        "co_departments": [],
        "action": template,
        "payload": {},
        "timer": null,
        "level": null,
        "deadlines": [],
        "by_department": null,
        "by_system": false,
        "due_at": "2026-12-18T09:30:00",
    });
    let sign = deadline("sign", "2026-11-30T09:30:00", "1wd", 0);
    let handle = deadline("handle", "2026-12-18T09:30:00", "15wd", 0);
    match template {
        "dispatch" => {
            d["action"] = json!("dispatch");
            d["co_departments"] = json!(["renshe"]);
            d["deadlines"] = json!([sign, handle]);
        }
        "co_dispatch" => {
            d["action"] = json!("dispatch");
            d["co_departments"] = json!(["renshe", "zhujian"]);
            d["deadlines"] = json!([sign, handle]);
        }
        "returned" => {
            d["action"] = json!("return");
            d["state"] = json!("accepted");
            d["lead_department"] = Value::Null;
            d["by_department"] = json!("shijian");
            d["payload"] = json!({"reason": "诉求涉及社保缴费，不属于本单位职责"});
            d["deadlines"] = json!([deadline("dispatch", "2026-11-27T03:30:00", "2wh", 0)]);
        }
        "supervised" => {
            d["action"] = json!("supervise");
            d["payload"] = json!({"note": "请于三个工作日内办结"});
            d["deadlines"] = json!([deadline("supervision", "2026-12-03T09:30:00", "3wd", 0)]);
        }
        "coordination" => {
            d["action"] = json!("coordinate");
            d["by_department"] = json!("shijian");
            d["payload"] = json!({"reason": "涉及住建、人社两个部门，职责交叉"});
        }
        "extension_requested" => {
            d["action"] = json!("request_extension");
            d["by_department"] = json!("shijian");
            d["payload"] = json!({"working_days": 5, "reason": "需现场核查，等待第三方检测报告"});
        }
        "extension_decided" => {
            d["action"] = json!("decide_extension");
            d["payload"] = json!({"approve": true, "note": "同意延期"});
            d["deadlines"] = json!([deadline("handle", "2026-12-25T09:30:00", "15wd", 5)]);
        }
        "replied" => {
            d["action"] = json!("reply");
            d["by_department"] = json!("shijian");
            d["payload"] = json!({"content": "已通知窗口一次性告知所需材料，企业已完成登记"});
            d["deadlines"] = json!([deadline("feedback", "2026-12-02T09:30:00", "3wd", 0)]);
        }
        "warning" => {
            d["action"] = json!("warn");
            d["timer"] = json!("handle");
            d["level"] = json!(0);
            d["deadlines"] = json!([handle]);
        }
        "escalation" => {
            d["action"] = json!("escalate");
            d["by_system"] = json!(true);
            d["timer"] = json!("handle");
            d["level"] = json!(2);
            d["deadlines"] = json!([handle]);
        }
        _ => {}
    }
    d
}

fn render(template: &str) -> String {
    let templates = Templates::load(None).unwrap();
    let context = if template == "digest" {
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 12, 21)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap();
        digest_context(
            &view(),
            &json!({
                "date": "2026-12-21", "total": 3, "omitted": 0,
                "figures": {
                    "interim_reply_rate": {"value": 0.95, "numerator": 19, "denominator": 20},
                    "substantive_reply_3m_rate": {"value": null, "numerator": 0, "denominator": 0},
                },
                "groups": [
                    {"department": "shijian", "tickets": [
                        {"id": "0193a0b0-0000-7000-8000-000000000001", "number": "XL-2026-000101",
                         "subject": "食品经营许可证延续迟迟未办", "enterprise": "杭州甲餐饮有限公司",
                         "kind": "handle", "due_at": "2026-12-15T09:30:00", "level": 2},
                        {"id": "0193a0b0-0000-7000-8000-000000000002", "number": "XL-2026-000123",
                         "subject": "企业开办登记材料被多次退回", "enterprise": "杭州示例科技有限公司",
                         "kind": "sign", "due_at": "2026-12-20T03:30:00", "level": 1},
                    ]},
                    {"department": null, "tickets": [
                        {"id": "0193a0b0-0000-7000-8000-000000000003", "number": "XL-2026-000130",
                         "subject": "园区道路施工影响货车进出", "enterprise": "杭州乙物流有限公司",
                         "kind": "feedback", "due_at": "2026-12-20T09:30:00", "level": 1},
                    ]},
                ],
            }),
            as_of,
        )
    } else if template == "monthly" {
        let rate = |v: f64, n: i64, d: i64| json!({"value": v, "numerator": n, "denominator": d});
        monthly_context(
            &view(),
            &json!({
                "month": "2026年11月", "from": "2026-11-01", "to": "2026-12-01",
                "figures": {
                    "received": {"value": 412, "numerator": 412, "denominator": null},
                    "interim_reply_rate": rate(0.9875, 395, 400),
                    "substantive_reply_3m_rate": rate(0.912, 342, 375),
                    "on_time_completion_rate": rate(0.94, 329, 350),
                    "satisfaction_rate": rate(0.965, 193, 200),
                    "overdue_open": {"value": 7, "numerator": 7, "denominator": null},
                },
                "attachment": {"filename": "kpi-2026-11.xlsx", "content_type": "application/octet-stream", "base64": ""},
            }),
        )
    } else {
        ticket_context(
            &view(),
            "0193a0b0-0000-7000-8000-000000000123",
            &data(template),
        )
    };
    let r = templates.render(template, &context).unwrap();
    format!(
        "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}",
        r.subject, r.text, r.html
    )
}

#[test]
fn every_mail_renders_as_in_its_snapshot() {
    for &name in NAMES {
        insta::assert_snapshot!(name, render(name));
    }
}

#[test]
fn the_dispatch_mail_says_what_to_do_by_when() {
    let text = render("dispatch");
    assert!(text.contains(
        "Subject: 【待签收】XL-2026-000123 杭州示例科技有限公司：企业开办登记材料被多次退回"
    ));
    assert!(text.contains("签收期限：2026年11月30日（周一）17:30（1个工作日）"));
    assert!(text.contains("办理期限：2026年12月18日（周五）17:30（15个工作日）"));
    assert!(text.contains("协办单位：区人力资源和社会保障局"));
    assert!(
        text.contains("https://12345.example.gov.cn/tickets/0193a0b0-0000-7000-8000-000000000123")
    );
}
