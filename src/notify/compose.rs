//! What a template is given: the notification's data as written with the change, turned into
//! what a reader needs — deadlines in local time with their working-day wording, department
//! names, what to do, a link.

use crate::domain::sla::TimerKind;
use crate::domain::words;
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What rendering needs besides the notification itself.
#[derive(Debug, Clone)]
pub struct View {
    pub public_url: String,
    pub timezone: chrono_tz::Tz,
    /// Department code → name.
    pub departments: BTreeMap<String, String>,
}

impl View {
    fn department(&self, code: &str) -> String {
        self.departments
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    /// A moment as the district reads it: `2026年12月18日（周五）17:30`.
    pub fn local(&self, at: NaiveDateTime) -> String {
        words::moment(at, self.timezone)
    }

    /// The case's page in the console, where the reader can act on it.
    pub fn ticket_link(&self, ticket: &str) -> String {
        format!("{}/tickets/{ticket}", self.public_url.trim_end_matches('/'))
    }
}

/// How long past a deadline, roughly: `3天`, `5小时`, `不足1小时`.
pub fn overdue_for(due: NaiveDateTime, now: NaiveDateTime) -> String {
    let late = now - due;
    match (late.num_days(), late.num_hours()) {
        (d, _) if d >= 1 => format!("{d}天"),
        (_, h) if h >= 1 => format!("{h}小时"),
        _ => "不足1小时".to_string(),
    }
}

fn to_do(kind: Option<TimerKind>, level: i64) -> &'static str {
    match (level, kind) {
        (2, _) => "请督促承办单位立即办理，必要时督办或组织协调。",
        (l, _) if l >= 3 => "请关注并协调解决。",
        (_, Some(TimerKind::Dispatch)) => "请尽快分办。",
        (_, Some(TimerKind::Sign)) => "请尽快签收。",
        (_, Some(TimerKind::InterimReply)) => "请尽快向企业作阶段性答复。",
        (_, Some(TimerKind::Feedback)) => "请尽快回访企业，记录满意度。",
        (_, Some(TimerKind::Supervision)) => "请在督办期限内办结并答复企业。",
        _ => "请抓紧办理并答复企业；确需延期的，请在期限前提出延期申请。",
    }
}

fn deadline(view: &View, d: &Value) -> Option<Value> {
    let kind: TimerKind = d.get("kind")?.as_str()?.parse().ok()?;
    let due: NaiveDateTime = serde_json::from_value(d.get("due_at")?.clone()).ok()?;
    let duration = d
        .get("duration")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let extended = d.get("extended_days").and_then(Value::as_u64).unwrap_or(0);
    Some(json!({
        "kind": kind,
        "label": words::timer_kind(kind),
        "at": view.local(due),
        "wording": words::duration(duration, extended as u32),
    }))
}

/// The context of a ticket's notification, from the data written with it.
pub fn ticket_context(view: &View, ticket_id: &str, data: &Value) -> Value {
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let timer: Option<TimerKind> = data
        .get("timer")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let level = data.get("level").and_then(Value::as_i64).unwrap_or(0);
    let deadlines: Vec<Value> = data
        .get("deadlines")
        .and_then(Value::as_array)
        .map(|all| all.iter().filter_map(|d| deadline(view, d)).collect())
        .unwrap_or_default();
    // The deadline the mail is about: the fired timer's, else the handling one, else the first.
    let wanted = timer.unwrap_or(TimerKind::Handle);
    let main = deadlines
        .iter()
        .find(|d| d["kind"] == json!(wanted))
        .or(deadlines.first())
        .cloned();
    let co: Vec<String> = data
        .get("co_departments")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(|c| view.department(c))
                .collect()
        })
        .unwrap_or_default();
    let name = |key: &str| {
        Some(text(key))
            .filter(|c| !c.is_empty())
            .map(|c| view.department(c))
    };
    json!({
        "number": text("number"),
        "subject": text("subject"),
        "enterprise": text("enterprise"),
        "lead_department": name("lead_department"),
        "co_departments": co,
        "by_department": name("by_department"),
        "by_system": data.get("by_system").and_then(Value::as_bool).unwrap_or(false),
        "due": data
            .get("due_at")
            .and_then(|v| serde_json::from_value::<NaiveDateTime>(v.clone()).ok())
            .map(|d| view.local(d)),
        "action": text("action"),
        "payload": data.get("payload").cloned().unwrap_or(Value::Null),
        "deadlines": deadlines,
        "deadline": main,
        "timer_label": timer.map(words::timer_kind),
        "level": level,
        "level_label": words::escalation_level(level as i32),
        "todo": to_do(timer, level),
        "link": view.ticket_link(ticket_id),
        "title": text("number"),
    })
}

/// The context of a digest, from the overdue list written with it.
pub fn digest_context(view: &View, data: &Value, as_of: NaiveDateTime) -> Value {
    let groups: Vec<Value> = data
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .map(|g| {
                    let code = g.get("department").and_then(Value::as_str);
                    let tickets: Vec<Value> = g
                        .get("tickets")
                        .and_then(Value::as_array)
                        .map(|ts| ts.iter().map(|t| digest_line(view, t, as_of)).collect())
                        .unwrap_or_default();
                    json!({
                        "department": code.map_or("12345热线".to_string(), |c| view.department(c)),
                        "tickets": tickets,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let date = data.get("date").and_then(Value::as_str).unwrap_or_default();
    let rate = |key: &str| {
        let f = &data["figures"][key];
        f.is_object().then(|| {
            let value = f["value"]
                .as_f64()
                .map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
            format!(
                "{value}（{}/{}）",
                f["numerator"].as_i64().unwrap_or(0),
                f["denominator"].as_i64().unwrap_or(0)
            )
        })
    };
    json!({
        "date": date,
        "interim": rate("interim_reply_rate"),
        "replied": rate("substantive_reply_3m_rate"),
        "as_of": view.local(as_of),
        "total": data.get("total").and_then(Value::as_i64).unwrap_or(0),
        "omitted": data.get("omitted").and_then(Value::as_i64).unwrap_or(0),
        "groups": groups,
        "link": format!("{}/tickets?overdue=true", view.public_url.trim_end_matches('/')),
        "title": format!("每日超期汇总 {date}"),
        "link_label": "查看全部超期工单",
    })
}

/// A figure as written with a report's notification (`{value, numerator, denominator}`), as a
/// mail says it: `98.8%` (or nothing when it has no cases), `395/400`, or the count.
fn figure(f: &Value) -> Value {
    json!({
        "value": f["value"].as_f64().filter(|_| f["denominator"].is_i64()).map(|v| format!("{:.1}%", v * 100.0)),
        "count": f["value"].as_i64(),
        "parts": f["denominator"].as_i64().map(|d| format!("{}/{d}", f["numerator"].as_i64().unwrap_or(0))),
    })
}

/// The context of the monthly report, from the figures written with it.
pub fn monthly_context(view: &View, data: &Value) -> Value {
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let figure = |key: &str| figure(&data["figures"][key]);
    let from = text("from");
    let until = chrono::NaiveDate::parse_from_str(text("to"), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.pred_opt())
        .map(|d| d.to_string())
        .unwrap_or_default();
    json!({
        "month": text("month"),
        "received": figure("received"),
        "interim": figure("interim_reply_rate"),
        "replied": figure("substantive_reply_3m_rate"),
        "completed": figure("on_time_completion_rate"),
        "satisfied": figure("satisfaction_rate"),
        "overdue": figure("overdue_open"),
        "filename": data["attachment"]["filename"],
        "link": format!(
            "{}/reports?period=custom&from={from}&until={until}",
            view.public_url.trim_end_matches('/')
        ),
        "link_label": "在系统中查看考核报表",
        "title": format!("{}考核报表", text("month")),
    })
}

/// The file a notification carries, when its data has one (`attachment`: filename,
/// content_type, base64).
pub fn attachment(data: &Value) -> Result<Option<super::transport::Attachment>, String> {
    use base64::Engine;
    let Some(a) = data.get("attachment").filter(|a| a.is_object()) else {
        return Ok(None);
    };
    let text = |key: &str| {
        a.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let body = base64::engine::general_purpose::STANDARD
        .decode(text("base64"))
        .map_err(|e| format!("unreadable attachment: {e}"))?;
    Ok(Some(super::transport::Attachment {
        filename: text("filename"),
        content_type: text("content_type"),
        body,
    }))
}

fn digest_line(view: &View, t: &Value, as_of: NaiveDateTime) -> Value {
    let text = |key: &str| t.get(key).and_then(Value::as_str).unwrap_or_default();
    let due: Option<NaiveDateTime> = t
        .get("due_at")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let kind: Option<TimerKind> = text("kind").parse().ok();
    let level = t.get("level").and_then(Value::as_i64).unwrap_or(0);
    json!({
        "number": text("number"),
        "subject": text("subject"),
        "enterprise": text("enterprise"),
        "escalated": if level > 0 { format!("，已升级至第 {level} 级") } else { String::new() },
        "timer_label": kind.map(words::timer_kind),
        "due": due.map(|d| view.local(d)),
        "overdue": due.map(|d| overdue_for(d, as_of)),
        "level": level,
        "link": view.ticket_link(text("id")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::duration::Duration;

    fn view() -> View {
        View {
            public_url: "https://12345.example.gov.cn/".into(),
            timezone: chrono_tz::Asia::Shanghai,
            departments: [("shijian".to_string(), "区市场监管局".to_string())].into(),
        }
    }

    #[test]
    fn deadlines_read_in_local_time_with_their_wording() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 18)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        assert_eq!(view().local(at), "2026年12月18日（周五）17:30");
        assert_eq!(
            words::duration(Some(Duration::WorkingDays(15)), 0),
            "15个工作日"
        );
        assert_eq!(
            words::duration(Some(Duration::WorkingDays(15)), 5),
            "15个工作日，含延期5个工作日"
        );
        assert_eq!(
            words::duration(Some(Duration::WorkingHours(2)), 0),
            "2个工作小时"
        );
        assert_eq!(words::duration(None, 0), "指定期限");
    }

    #[test]
    fn the_fired_timer_is_the_deadline_the_mail_is_about() {
        let data = json!({
            "number": "XL-2026-000001", "lead_department": "shijian", "timer": "sign", "level": 1,
            "deadlines": [
                {"kind": "handle", "due_at": "2026-12-18T09:30:00", "duration": "15wd", "extended_days": 0},
                {"kind": "sign", "due_at": "2026-11-30T09:30:00", "duration": "1wd", "extended_days": 0},
            ],
        });
        let c = ticket_context(&view(), "0193", &data);
        assert_eq!(c["deadline"]["label"], "签收期限");
        assert_eq!(c["deadline"]["wording"], "1个工作日");
        assert_eq!(c["lead_department"], "区市场监管局");
        assert_eq!(c["level_label"], "超期催办");
        assert_eq!(c["link"], "https://12345.example.gov.cn/tickets/0193");
    }

    #[test]
    fn overdue_reads_in_days_then_hours() {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(overdue_for(due, due + chrono::Duration::hours(75)), "3天");
        assert_eq!(overdue_for(due, due + chrono::Duration::hours(5)), "5小时");
        assert_eq!(
            overdue_for(due, due + chrono::Duration::minutes(5)),
            "不足1小时"
        );
    }
}
