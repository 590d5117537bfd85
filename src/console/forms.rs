//! The console's forms: read as `application/x-www-form-urlencoded` pairs, then turned into the
//! JSON the API takes — field names are the API's JSON paths (`enterprise.credit_code`), so one
//! set of checks in the domain answers both.

use super::visitor::Refusal;
use crate::domain::lifecycle::ActionKind;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The fields of a posted form, in order, repeated names kept (a multiple select).
#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

/// No form of the console is longer than this.
const LIMIT: usize = 256 * 1024;

impl FromRequest for Form {
    type Error = Refusal;
    type Future = LocalBoxFuture<'static, Result<Self, Refusal>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|_| {
                Refusal::Forbidden("表单内容过长或不完整，请检查后重新提交。".into())
            })?;
            if bytes.len() > LIMIT {
                return Err(Refusal::Forbidden("表单内容过长。".into()));
            }
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| Refusal::Forbidden("表单无法读取，请刷新页面后重试。".into()))?;
            Ok(Form(pairs))
        })
    }
}

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A filled-in text field.
    fn text(&self, name: &str) -> Option<Value> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| Value::String(v.to_string()))
    }

    /// The 受理 form as the API's create body: `enterprise.name` becomes `{"enterprise": {"name"}}`.
    pub fn new_ticket(&self) -> Value {
        let mut body = Map::new();
        for name in [
            "channel",
            "category",
            "urgency",
            "enterprise.name",
            "enterprise.credit_code",
            "contact.name",
            "contact.phone",
            "subject",
            "description",
            "duplicate_of",
        ] {
            let Some(value) = self.text(name) else {
                continue;
            };
            match name.split_once('.') {
                Some((outer, inner)) => {
                    let object = body
                        .entry(outer)
                        .or_insert_with(|| Value::Object(Map::new()));
                    object[inner] = value;
                }
                None => {
                    body.insert(name.into(), value);
                }
            }
        }
        Value::Object(body)
    }

    /// An action's form as its JSON payload: only the fields the action reads, numbers and
    /// booleans as such, a local `due` (from a date-time field) with the zone's offset.
    pub fn payload(&self, action: ActionKind, tz: Tz) -> Value {
        let mut p = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(v) = value {
                p.insert(name.to_string(), v);
            }
        };
        match action {
            ActionKind::Dispatch | ActionKind::Assign => {
                put("department", self.text("department"));
                let co: Vec<Value> = self
                    .all("co_departments")
                    .into_iter()
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| Value::String(c.to_string()))
                    .collect();
                if !co.is_empty() {
                    put("co_departments", Some(Value::Array(co)));
                }
                put("note", self.text("note"));
            }
            ActionKind::Return | ActionKind::Coordinate | ActionKind::Withdraw => {
                put("reason", self.text("reason"));
            }
            ActionKind::Answer => {
                put("content", self.text("content"));
                let cited: Vec<Value> = self
                    .all("articles")
                    .into_iter()
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| Value::String(a.to_string()))
                    .collect();
                if !cited.is_empty() {
                    put("articles", Some(Value::Array(cited)));
                }
            }
            ActionKind::Reject => {
                put("reason", self.text("reason"));
                put("repeat_of", self.text("repeat_of"));
            }
            ActionKind::InterimReply | ActionKind::Reply | ActionKind::Comment => {
                put("content", self.text("content"));
            }
            ActionKind::RequestExtension => {
                put("working_days", self.get("working_days").map(number));
                put("reason", self.text("reason"));
            }
            ActionKind::DecideExtension => {
                put(
                    "approve",
                    self.get("approve").map(|v| match v {
                        "true" => json!(true),
                        "false" => json!(false),
                        other => json!(other),
                    }),
                );
                put("note", self.text("note"));
            }
            ActionKind::Supervise => {
                put("note", self.text("note"));
                put("due", self.text("due").map(|d| local_time(&d, tz)));
            }
            ActionKind::Feedback => {
                put("satisfaction", self.text("satisfaction"));
                put("comment", self.text("comment"));
            }
            ActionKind::Merge => put("into", self.text("into")),
            ActionKind::Sign | ActionKind::Archive => {}
        }
        Value::Object(p)
    }

    /// The knowledge article form as the API's body: every field the form shows, so an edit
    /// sends the article whole; `keywords` typed in one box, a blank date or 文号 cleared. The
    /// department only when the form offers a choice (an admin's).
    pub fn article(&self) -> Value {
        let mut body = Map::new();
        for name in ["title", "body", "state", "visibility"] {
            body.insert(name.into(), json!(self.get(name).unwrap_or_default()));
        }
        for name in ["doc_number", "valid_from", "valid_to"] {
            body.insert(name.into(), self.text(name).unwrap_or(Value::Null));
        }
        body.insert(
            "keywords".into(),
            json!(split_list(self.get("keywords").unwrap_or_default())),
        );
        if let Some(department) = self.text("department") {
            body.insert("department".into(), department);
        }
        Value::Object(body)
    }
}

/// What a search form asked for (its query string, the blank fields left out), and the same as
/// the API's parameters `T`.
pub fn asked<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
) -> (
    BTreeMap<String, String>,
    Result<T, serde_urlencoded::de::Error>,
) {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let asked: BTreeMap<String, String> = pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let params =
        serde_urlencoded::from_str(&serde_urlencoded::to_string(&asked).unwrap_or_default());
    (asked, params)
}

/// The items of a list typed in one box: separated by blanks, line breaks, commas (full or half
/// width) or 、.
pub fn split_list(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、'))
        .filter(|s| !s.is_empty())
        .collect()
}

/// A whole number as a number, anything else as the text it was (the domain then says what is
/// wrong with it).
fn number(text: &str) -> Value {
    text.trim()
        .parse::<u32>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

/// A browser's date-time field (`2026-12-04T17:30`, no zone) as RFC 3339 in the configured zone;
/// anything else is passed on as it came, for the domain to refuse.
fn local_time(value: &Value, tz: Tz) -> Value {
    let text = value.as_str().unwrap_or_default().trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|local| tz.from_local_datetime(&local).earliest())
        .map(|t| Value::String(t.to_rfc3339()))
        .unwrap_or_else(|| value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_create_form_is_the_api_body() {
        let f = form(&[
            ("channel", "hotline"),
            ("enterprise.name", "某公司"),
            ("enterprise.credit_code", "91420204MA4B1C2D1D"),
            ("contact.phone", ""),
            ("csrf_token", "x"),
        ]);
        assert_eq!(
            f.new_ticket(),
            json!({"channel": "hotline", "enterprise": {"name": "某公司", "credit_code": "91420204MA4B1C2D1D"}})
        );
    }

    #[test]
    fn the_article_form_is_the_api_body() {
        let f = form(&[
            ("title", "稳岗返还"),
            ("body", "正文"),
            ("keywords", "稳岗，返还、失业保险 稳岗\n社保,补贴"),
            ("doc_number", ""),
            ("valid_from", "2026-01-01"),
            ("state", "published"),
            ("visibility", "public"),
            ("csrf_token", "x"),
        ]);
        assert_eq!(
            f.article(),
            json!({
                "title": "稳岗返还", "body": "正文", "state": "published", "visibility": "public",
                "doc_number": null, "valid_from": "2026-01-01", "valid_to": null,
                "keywords": ["稳岗", "返还", "失业保险", "稳岗", "社保", "补贴"],
            })
        );
        let f = form(&[("department", "renshe")]);
        assert_eq!(f.article()["department"], "renshe");
    }

    #[test]
    fn action_forms_keep_their_own_fields_typed() {
        let tz = chrono_tz::Asia::Shanghai;
        let f = form(&[
            ("department", "shijian"),
            ("co_departments", "sifa"),
            ("co_departments", "renshe"),
            ("reason", "ignored for dispatch"),
        ]);
        assert_eq!(
            f.payload(ActionKind::Dispatch, tz),
            json!({"department": "shijian", "co_departments": ["sifa", "renshe"]})
        );
        let f = form(&[("working_days", "5"), ("reason", "现场核查")]);
        assert_eq!(
            f.payload(ActionKind::RequestExtension, tz),
            json!({"working_days": 5, "reason": "现场核查"})
        );
        let f = form(&[("approve", "false")]);
        assert_eq!(
            f.payload(ActionKind::DecideExtension, tz),
            json!({"approve": false})
        );
        let f = form(&[("note", "督办"), ("due", "2026-12-04T17:30")]);
        assert_eq!(
            f.payload(ActionKind::Supervise, tz),
            json!({"note": "督办", "due": "2026-12-04T17:30:00+08:00"})
        );
    }
}
