//! The glossary's Chinese words, as a government clerk reads them: states, actions, stages,
//! categories, channels, satisfaction, outcomes, roles, escalation levels, knowledge articles'
//! states and fields, and moments and periods written out. Mail and the console both speak with
//! these.

use super::duration::Duration;
use super::knowledge::{ArticleState, Visibility};
use super::lifecycle::action::ActionKind;
use super::sla::TimerKind;
use super::ticket::{Category, Channel, Outcome, Role, Satisfaction, State, Urgency};
use super::timer::TimerOutcome;
use chrono::{Datelike, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

pub fn state(s: State) -> &'static str {
    match s {
        State::Accepted => "已受理",
        State::Dispatched => "待签收",
        State::Handling => "办理中",
        State::Supervised => "督办中",
        State::Coordinating => "协调中",
        State::Replied => "已答复",
        State::Feedback => "已回访",
        State::Archived => "已归档",
    }
}

pub fn action(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Dispatch => "分办",
        ActionKind::Return => "退单",
        ActionKind::Sign => "签收",
        ActionKind::InterimReply => "程序性回复",
        ActionKind::RequestExtension => "申请延期",
        ActionKind::DecideExtension => "审批延期",
        ActionKind::Supervise => "督办",
        ActionKind::Coordinate => "申请协调",
        ActionKind::Assign => "改派",
        ActionKind::Reply => "答复",
        ActionKind::Feedback => "回访",
        ActionKind::Archive => "归档",
        ActionKind::Reject => "不予受理",
        ActionKind::Withdraw => "撤诉",
        ActionKind::Answer => "直办答复",
        ActionKind::Merge => "并单",
        ActionKind::Comment => "备注",
    }
}

/// An event of the timeline: an action, or what the system did by itself.
pub fn event(action_name: &str, level: Option<i32>) -> String {
    match (action_name, level) {
        ("create", _) => "受理".into(),
        ("warn", _) => "临期预警".into(),
        ("escalate", Some(l)) => escalation_level(l).into(),
        (other, _) => other
            .parse::<ActionKind>()
            .map(|a| action(a).to_string())
            .unwrap_or_else(|_| other.to_string()),
    }
}

pub fn timer_kind(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::Dispatch => "分办期限",
        TimerKind::Sign => "签收期限",
        TimerKind::InterimReply => "阶段性答复期限",
        TimerKind::Handle => "办理期限",
        TimerKind::Feedback => "回访期限",
        TimerKind::Supervision => "督办期限",
    }
}

pub fn timer_outcome(o: TimerOutcome) -> &'static str {
    match o {
        TimerOutcome::Met => "按时完成",
        TimerOutcome::Late => "超期完成",
        TimerOutcome::Cancelled => "已取消",
    }
}

pub fn category(c: Category) -> &'static str {
    match c {
        Category::Consultation => "咨询",
        Category::Help => "求助",
        Category::Complaint => "投诉",
        Category::Report => "举报",
        Category::Suggestion => "建议",
    }
}

pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Hotline => "12345热线",
        Channel::Web => "网站",
        Channel::Wechat => "微信",
        Channel::Letter => "来信",
        Channel::Visit => "来访",
    }
}

pub fn urgency(u: Urgency) -> &'static str {
    match u {
        Urgency::Normal => "一般",
        Urgency::Urgent => "紧急",
    }
}

pub fn satisfaction(s: Satisfaction) -> &'static str {
    match s {
        Satisfaction::Satisfied => "满意",
        Satisfaction::BasicallySatisfied => "基本满意",
        Satisfaction::Dissatisfied => "不满意",
    }
}

pub fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Resolved => "办结",
        Outcome::Rejected => "不予受理",
        Outcome::Withdrawn => "撤诉",
        Outcome::Merged => "并单",
        Outcome::Answered => "直办",
    }
}

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Operator => "话务员",
        Role::Department => "承办单位",
        Role::Supervisor => "督办人员",
        Role::Admin => "系统管理员",
    }
}

pub fn article_state(s: ArticleState) -> &'static str {
    match s {
        ArticleState::Draft => "草稿",
        ArticleState::Published => "已发布",
        ArticleState::Archived => "已归档",
    }
}

pub fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Internal => "内部",
        Visibility::Public => "公开",
    }
}

/// A field of a knowledge article (`domain::knowledge::FIELDS`), as its version history names it.
pub fn article_field(field: &str) -> &str {
    match field {
        "title" => "标题",
        "body" => "正文",
        "keywords" => "关键词",
        "department" => "发布部门",
        "doc_number" => "文号",
        "valid_from" => "生效日期",
        "valid_to" => "失效日期",
        "state" => "状态",
        "visibility" => "公开范围",
        other => other,
    }
}

/// A rung of the escalation ladder.
pub fn escalation_level(level: i32) -> &'static str {
    match level {
        0 => "未超期",
        1 => "超期催办",
        2 => "超期督办",
        _ => "超期通报",
    }
}

/// A moment as the district reads it: `2026年12月18日（周五）17:30`.
pub fn moment(at: NaiveDateTime, tz: Tz) -> String {
    let t = tz.from_utc_datetime(&at);
    let weekday =
        ["一", "二", "三", "四", "五", "六", "日"][t.weekday().num_days_from_monday() as usize];
    format!(
        "{}年{}月{}日（周{weekday}）{}",
        t.year(),
        t.month(),
        t.day(),
        t.format("%H:%M")
    )
}

/// A policy duration in words: `15个工作日`, with approved extensions.
pub fn duration(d: Option<Duration>, extended_days: u32) -> String {
    let base = match d {
        Some(Duration::WorkingDays(n)) => format!("{n}个工作日"),
        Some(Duration::WorkingHours(n)) => format!("{n}个工作小时"),
        Some(Duration::CalendarDays(n)) => format!("{n}个自然日"),
        Some(Duration::Hours(n)) => format!("{n}小时"),
        Some(Duration::Minutes(n)) => format!("{n}分钟"),
        Some(Duration::Seconds(n)) => format!("{n}秒"),
        None => "指定期限".to_string(),
    };
    if extended_days > 0 {
        format!("{base}，含延期{extended_days}个工作日")
    } else {
        base
    }
}

/// Working days as people say them: `2`, `1.5`, never `1.50`.
pub fn working_days(days: f64) -> String {
    let tenth = (days * 10.0).round() / 10.0;
    if tenth.fract() == 0.0 {
        format!("{tenth:.0}")
    } else {
        format!("{tenth:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_read_as_people_say_them() {
        assert_eq!(working_days(2.0), "2");
        assert_eq!(working_days(1.46), "1.5");
        assert_eq!(working_days(0.04), "0");
    }

    #[test]
    fn moments_carry_the_weekday() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 18)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        assert_eq!(
            moment(at, chrono_tz::Asia::Shanghai),
            "2026年12月18日（周五）17:30"
        );
    }
}
