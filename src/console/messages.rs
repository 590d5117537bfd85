//! What the console says beside a field that is wrong: the API's field messages, in the Chinese a
//! clerk reads. The checks themselves are the domain's, one source for the API and the console.

use crate::domain::FieldError;

/// A field's problem in Chinese; a message not known here is shown as it came, after a word of
/// Chinese, rather than hidden.
pub fn chinese(e: &FieldError) -> String {
    let m = e.message.as_str();
    let quoted = |m: &str| m.split('\'').nth(1).unwrap_or_default().to_string();
    let number_after = |m: &str, word: &str| {
        m.split(word)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .trim_matches(|c: char| !c.is_ascii_digit())
            .to_string()
    };
    if m.starts_with("is required") {
        return "必填，不能为空".into();
    }
    if m.starts_with("no published knowledge article in force") {
        return "所引知识条目不存在、未发布或已过有效期".into();
    }
    if m.starts_with("the earlier case is not finished yet") {
        return "原件尚未办结，请改用并单".into();
    }
    if m.starts_with("may be at most") && m.ends_with("characters") {
        return format!("最多 {} 个字", number_after(m, "at most"));
    }
    if m.starts_with("may not contain control characters") {
        return "不能包含控制字符".into();
    }
    if m.starts_with("must be a mainland mobile number") {
        return "请填写手机号（如 13800138000）或带区号的固定电话（如 0714-6351234）".into();
    }
    if m.starts_with("must be 18 characters") {
        return format!(
            "统一社会信用代码应为 18 位，现在是 {} 位",
            number_after(m, "got")
        );
    }
    if m.starts_with("character ") && m.contains("is not allowed in a credit code") {
        return format!(
            "第 {} 位不是统一社会信用代码可用的字符（不用 I、O、Z、S、V）",
            number_after(m, "character")
        );
    }
    if m.starts_with("characters 3 to 8") {
        return "第 3 至 8 位应为行政区划代码（数字）".into();
    }
    if m.starts_with("the organisation code check character") {
        return format!("组织机构代码校验位（第 17 位）不对，应为 {}", quoted(m));
    }
    if m.starts_with("the check character is wrong") {
        return format!("校验位（第 18 位）不对，应为 {}", quoted(m));
    }
    if m.starts_with("unknown department") {
        return format!("没有代码为 {} 的单位", quoted(m));
    }
    if m.starts_with("is not a department code") {
        return "不是有效的单位代码".into();
    }
    if m == "the lead department cannot also co-handle" {
        return "主办单位不能同时作为协办单位".into();
    }
    if m.ends_with("is listed twice") {
        return format!("{} 选了两次", quoted(m));
    }
    if m.starts_with("may list at most") {
        return format!("协办单位最多 {} 个", number_after(m, "at most"));
    }
    if m.starts_with("must be between 1 and") {
        return format!("延期应为 1 至 {} 个工作日", number_after(m, "and"));
    }
    if m == "must be in the future" {
        return "应晚于现在".into();
    }
    if m.starts_with("must be a date (YYYY-MM-DD)") {
        return "请填写日期（如 2026-12-08），年份在 1970 至 9999 之间".into();
    }
    if m == "may not be before valid_from" {
        return "失效日期不能早于生效日期".into();
    }
    if m.starts_with("may hold at most") && m.ends_with("keywords") {
        return format!("关键词最多 {} 个", number_after(m, "at most"));
    }
    if m.starts_with("must be an RFC 3339 time") || m.starts_with("must be a date") {
        return "请填写有效的日期和时间（1970 至 9999 年）".into();
    }
    if m.starts_with("sets a deadline") {
        return "期限超出了可记录的范围（9999 年以后）".into();
    }
    if m.starts_with("must be one of") || m.starts_with("unknown variant") {
        return "请从选项中选择".into();
    }
    if m.starts_with("invalid type") || m.starts_with("invalid digit") {
        return "格式不对，请重新填写".into();
    }
    match m {
        "must be a ticket id" => "请填写工单编号（如 XL-2026-000123）".into(),
        "no such ticket" => "没有这件工单".into(),
        "a ticket cannot be merged into itself" => "不能并入本工单".into(),
        "cannot merge into an archived ticket" => "不能并入已归档的工单".into(),
        _ => format!("填写有误：{m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(field: &str, message: &str) -> String {
        chinese(&FieldError::new(field, message))
    }

    #[test]
    fn the_domains_messages_read_in_chinese() {
        assert_eq!(
            zh("subject", "is required and may not be blank"),
            "必填，不能为空"
        );
        assert_eq!(
            zh("subject", "may be at most 200 characters"),
            "最多 200 个字"
        );
        assert_eq!(
            zh("enterprise.credit_code", "must be 18 characters, got 5"),
            "统一社会信用代码应为 18 位，现在是 5 位"
        );
        assert_eq!(
            zh(
                "enterprise.credit_code",
                "the check character is wrong: expected 'D'"
            ),
            "校验位（第 18 位）不对，应为 D"
        );
        assert_eq!(
            zh("department", "unknown department 'nowhere'"),
            "没有代码为 nowhere 的单位"
        );
        assert_eq!(
            zh("working_days", "must be between 1 and 60 working days"),
            "延期应为 1 至 60 个工作日"
        );
        assert_eq!(
            zh("keywords", "may hold at most 20 keywords"),
            "关键词最多 20 个"
        );
        assert_eq!(
            zh("valid_to", "may not be before valid_from"),
            "失效日期不能早于生效日期"
        );
        assert!(zh("x", "something new").starts_with("填写有误"));
    }

    #[test]
    fn every_credit_code_and_phone_error_has_chinese() {
        for bad in [
            "12345",
            "91420204MA4B1C2D1X",
            "91420204MA4B1C2D!D",
            "9142AB04MA4B1C2D1D",
            "91420204MA4B1C2E1D",
        ] {
            let e = crate::domain::CreditCode::parse(bad).unwrap_err();
            let zh = zh("enterprise.credit_code", &e.to_string());
            assert!(!zh.starts_with("填写有误"), "{bad}: {zh}");
        }
        let e = crate::domain::Phone::parse("123").unwrap_err();
        assert!(!zh("contact.phone", &e.to_string()).starts_with("填写有误"));
    }

    #[test]
    fn every_knowledge_article_error_has_chinese() {
        use crate::domain::knowledge::{ArticleInput, new_article};
        use crate::domain::lifecycle::DomainError;
        use crate::domain::ticket::{Actor, Role};
        let code = crate::domain::DepartmentCode::parse("shuiwu").unwrap();
        let actor = Actor::user("s", Role::Department, Some(&code));
        let many: Vec<String> = (0..21).map(|i| i.to_string()).collect();
        for input in [
            serde_json::json!({
                "title": "", "body": "\u{7}", "keywords": ["", "长".repeat(31)],
                "doc_number": "号".repeat(101), "valid_from": "2026-02-30", "valid_to": "明年",
                "state": "live", "visibility": "secret",
            }),
            serde_json::json!({"keywords": many, "valid_from": "2026-06-01", "valid_to": "2026-05-31"}),
        ] {
            let Err(DomainError::Invalid(errors)) =
                new_article(ArticleInput::read(&input).unwrap(), &actor)
            else {
                panic!("{input} is invalid");
            };
            for e in errors {
                let zh = chinese(&e);
                assert!(
                    !zh.starts_with("填写有误"),
                    "{}: {} → {zh}",
                    e.field,
                    e.message
                );
            }
        }
    }
}
