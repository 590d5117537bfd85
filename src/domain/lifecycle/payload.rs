//! The payloads of the actions: read from JSON, then checked field by field. What is kept is
//! written into the event, so the timeline holds exactly what was decided.

use super::action::ARTICLES_MAX;
use super::context::Known;
use crate::domain::department::DepartmentCode;
use crate::domain::field::{FieldError, from_json};
use crate::domain::text::{optional_text, required_text};
use crate::domain::ticket::CO_DEPARTMENTS_MAX;
use crate::domain::ticket::{Actor, Satisfaction, State, TicketId};
use crate::domain::time;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub const TEXT_MAX: usize = 5000;
pub const NOTE_MAX: usize = 2000;
/// More than three months of working days is not an extension but a new case.
pub const EXTENSION_MAX_DAYS: u32 = 60;

/// `sign`, `archive`: nothing to say.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `dispatch` (分办) and `assign` (改派): the lead department and the co-handlers.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"department": "shijian", "co_departments": ["renshe"], "note": "请按时办理"}))]
pub struct DispatchPayload {
    /// The lead department's code (主办).
    #[schema(required = true)]
    department: Option<String>,
    /// Co-handling departments (协办), at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    co_departments: Vec<String>,
    /// Up to 2,000 characters.
    note: Option<String>,
}

#[derive(Serialize)]
pub struct Dispatch {
    pub department: DepartmentCode,
    pub co_departments: Vec<DepartmentCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DispatchPayload {
    pub fn validate(self, known: &Known) -> Result<Dispatch, Vec<FieldError>> {
        let mut errors = vec![];
        let department = match self.department.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new(
                    "department",
                    "is required: the code of the lead department",
                ));
                None
            }
            Some(code) => existing("department", code, known)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let listed = self.co_departments.len();
        let co = if listed > CO_DEPARTMENTS_MAX {
            errors.push(FieldError::new(
                "co_departments",
                format!("may list at most {CO_DEPARTMENTS_MAX} departments, not {listed}"),
            ));
            &[][..]
        } else {
            &self.co_departments[..]
        };
        let mut co_departments: Vec<DepartmentCode> = vec![];
        for (i, code) in co.iter().map(|c| c.trim()).enumerate() {
            let field = format!("co_departments[{i}]");
            match existing(&field, code, known) {
                Err(e) => errors.push(e),
                Ok(code) if department.as_ref() == Some(&code) => errors.push(FieldError::new(
                    field,
                    "the lead department cannot also co-handle",
                )),
                Ok(code) if co_departments.contains(&code) => {
                    errors.push(FieldError::new(field, format!("'{code}' is listed twice")))
                }
                Ok(code) => co_departments.push(code),
            }
        }
        let note =
            optional_text("note", self.note.as_deref(), NOTE_MAX).map_err(|e| errors.push(e));
        match (department, note) {
            (Some(department), Ok(note)) if errors.is_empty() => Ok(Dispatch {
                department,
                co_departments,
                note,
            }),
            _ => Err(errors),
        }
    }
}

/// The code of a department that exists; a text that cannot be a code is not repeated back.
fn existing(field: &str, code: &str, known: &Known) -> Result<DepartmentCode, FieldError> {
    let code = DepartmentCode::parse(code).map_err(|e| FieldError::new(field, e.to_string()))?;
    if known.departments.contains(&code) {
        Ok(code)
    } else {
        Err(FieldError::new(
            field,
            format!("unknown department '{code}'"),
        ))
    }
}

/// Reads a payload of one required text field named `$field`.
macro_rules! text_payload {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        #[derive(Deserialize, Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Up to 5,000 characters.
            #[schema(required = true)]
            $field: Option<String>,
        }

        impl $name {
            pub fn read(payload: &Value) -> Result<Self, FieldError> {
                let raw: Self = from_json(payload)?;
                let text = required_text(stringify!($field), raw.$field.as_deref(), TEXT_MAX)?;
                Ok(Self { $field: Some(text) })
            }
        }
    };
}

text_payload!(
    /// `return`, `coordinate`, `reject`, `withdraw`: why.
    ReasonPayload,
    reason
);
text_payload!(
    /// `interim_reply`, `reply`, `comment`: what was said.
    ContentPayload,
    content
);

/// `request_extension` (延期申请): how many more working days, and why.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionPayload {
    #[schema(minimum = 1, maximum = 60)]
    pub working_days: u32,
    pub reason: String,
}

impl ExtensionPayload {
    pub fn read(payload: &Value) -> Result<Self, FieldError> {
        let raw: Self = from_json(payload)?;
        if !(1..=EXTENSION_MAX_DAYS).contains(&raw.working_days) {
            return Err(FieldError::new(
                "working_days",
                format!("must be between 1 and {EXTENSION_MAX_DAYS} working days"),
            ));
        }
        let reason = required_text("reason", Some(&raw.reason), TEXT_MAX)?;
        Ok(Self { reason, ..raw })
    }
}

/// `decide_extension`: the supervisor's answer to the pending request.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionPayload {
    pub approve: bool,
    pub note: Option<String>,
}

impl DecisionPayload {
    pub fn read(payload: &Value) -> Result<Self, FieldError> {
        let raw: Self = from_json(payload)?;
        let note = optional_text("note", raw.note.as_deref(), NOTE_MAX)?;
        Ok(Self { note, ..raw })
    }
}

/// `supervise` (督办): the order, and its own deadline if the supervisor sets one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    /// Required from a person; up to 2,000 characters.
    note: Option<String>,
    /// RFC 3339, in the future, years 1970 to 9999; the escalation ladder after it must end by
    /// 9999 too.
    #[schema(format = DateTime)]
    due: Option<String>,
}

/// A 督办 order: its note, and the deadline a supervisor set (UTC), if any.
pub struct SupervisePayload {
    pub note: String,
    pub due: Option<NaiveDateTime>,
}

impl SupervisePayload {
    /// What the timeline keeps: the due time with the zone's offset, as every time the API writes.
    pub fn event(&self, tz: Tz) -> Value {
        let mut event = json!({ "note": self.note });
        if let Some(due) = self.due {
            event["due"] = time::rfc3339(due, tz).into();
        }
        event
    }

    pub fn read(
        payload: &Value,
        actor: &Actor,
        now: NaiveDateTime,
        tz: Tz,
    ) -> Result<Self, FieldError> {
        let raw: SuperviseInput = from_json(payload)?;
        let note = match actor {
            Actor::System => optional_text("note", raw.note.as_deref(), NOTE_MAX)?
                .unwrap_or_else(|| "overdue: supervised automatically".to_string()),
            Actor::User { .. } => required_text("note", raw.note.as_deref(), NOTE_MAX)?,
        };
        let due = match raw.due {
            None => None,
            Some(text) => {
                let due = time::parse("due", &text, tz)?;
                if due <= now {
                    return Err(FieldError::new("due", "must be in the future"));
                }
                Some(due)
            }
        };
        Ok(Self { note, due })
    }
}

/// `feedback` (回访): the enterprise's satisfaction; `dissatisfied` reopens the case (重办).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPayload {
    #[schema(value_type = Satisfaction)]
    pub satisfaction: String,
    pub comment: Option<String>,
}

#[derive(Serialize)]
pub struct Feedback {
    pub satisfaction: Satisfaction,
    pub comment: Option<String>,
}

impl FeedbackPayload {
    pub fn read(payload: &Value) -> Result<Feedback, FieldError> {
        let raw: Self = from_json(payload)?;
        let satisfaction = raw
            .satisfaction
            .parse()
            .map_err(|m: String| FieldError::new("satisfaction", m))?;
        let comment = optional_text("comment", raw.comment.as_deref(), TEXT_MAX)?;
        Ok(Feedback {
            satisfaction,
            comment,
        })
    }
}

/// `reject` (不予受理): why; for a repeat complaint (对已办结的同一事项以同一理由重复投诉) the earlier
/// case, which must be finished (replied, fed back or archived).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "同一事项已于上月办结答复，本次无新情况新理由", "repeat_of": "01938f6e-6b1a-7c3e-9f00-1234567890ab"}))]
pub struct RejectInput {
    /// Up to 5,000 characters.
    #[schema(required = true)]
    reason: Option<String>,
    /// The earlier case this one repeats.
    #[schema(format = Uuid)]
    repeat_of: Option<String>,
}

#[derive(Serialize)]
pub struct RejectPayload {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<TicketId>,
}

impl RejectPayload {
    pub fn read(payload: &Value, this: TicketId, known: &Known) -> Result<Self, FieldError> {
        let raw: RejectInput = from_json(payload)?;
        let reason = required_text("reason", raw.reason.as_deref(), TEXT_MAX)?;
        let Some(text) = raw.repeat_of else {
            return Ok(Self {
                reason,
                repeat_of: None,
            });
        };
        let bad = |m: &str| FieldError::new("repeat_of", m);
        let earlier: TicketId = text
            .trim()
            .parse()
            .map_err(|_| bad("must be a ticket id"))?;
        if earlier == this {
            return Err(bad("a ticket cannot repeat itself"));
        }
        match known.tickets.get(&earlier) {
            None => Err(bad("no such ticket")),
            Some(State::Replied | State::Feedback | State::Archived) => Ok(Self {
                reason,
                repeat_of: Some(earlier),
            }),
            Some(_) => Err(bad(
                "the earlier case is not finished yet: merge this one into it instead",
            )),
        }
    }
}

/// `answer` (直办): what the operator answered on the call, and the knowledge articles it rests on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": "已告知企业小微企业留抵退税的申请条件和办理渠道。", "articles": ["01938f6e-6b1a-7c3e-9f00-1234567890ab"]}))]
pub struct AnswerInput {
    /// Up to 5,000 characters.
    #[schema(required = true)]
    content: Option<String>,
    /// Ids of published knowledge articles in force, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    articles: Vec<String>,
}

/// A cited article as the timeline keeps it.
#[derive(Serialize)]
pub struct Cited {
    pub id: String,
    pub title: String,
}

#[derive(Serialize)]
pub struct AnswerPayload {
    pub content: String,
    pub articles: Vec<Cited>,
}

impl AnswerPayload {
    pub fn read(payload: &Value, known: &Known) -> Result<Self, Vec<FieldError>> {
        let raw: AnswerInput = from_json(payload).map_err(|e| vec![e])?;
        let mut errors = vec![];
        let content = required_text("content", raw.content.as_deref(), TEXT_MAX)
            .map_err(|e| errors.push(e))
            .ok();
        let listed = raw.articles.len();
        if listed > ARTICLES_MAX {
            errors.push(FieldError::new(
                "articles",
                format!("may cite at most {ARTICLES_MAX} articles, not {listed}"),
            ));
        }
        let mut articles: Vec<Cited> = vec![];
        for (i, id) in raw
            .articles
            .iter()
            .take(ARTICLES_MAX)
            .map(|a| a.trim())
            .enumerate()
        {
            let field = format!("articles[{i}]");
            match known.articles.get(id) {
                None => errors.push(FieldError::new(
                    field,
                    "no published knowledge article in force with this id",
                )),
                Some(_) if articles.iter().any(|a| a.id == id) => {
                    errors.push(FieldError::new(field, "is cited twice"))
                }
                Some(title) => articles.push(Cited {
                    id: id.to_string(),
                    title: title.clone(),
                }),
            }
        }
        match content {
            Some(content) if errors.is_empty() => Ok(Self { content, articles }),
            _ => Err(errors),
        }
    }
}

/// `merge` (并单): the case this one is merged into.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    #[schema(format = Uuid)]
    into: String,
}

#[derive(Serialize)]
pub struct MergePayload {
    pub into: TicketId,
}

impl MergePayload {
    pub fn read(payload: &Value, this: TicketId, known: &Known) -> Result<Self, FieldError> {
        let raw: MergeInput = from_json(payload)?;
        let bad = |m: &str| FieldError::new("into", m);
        let into: TicketId = raw
            .into
            .trim()
            .parse()
            .map_err(|_| bad("must be a ticket id"))?;
        if into == this {
            return Err(bad("a ticket cannot be merged into itself"));
        }
        match known.tickets.get(&into) {
            None => Err(bad("no such ticket")),
            Some(State::Archived) => Err(bad("cannot merge into an archived ticket")),
            Some(_) => Ok(Self { into }),
        }
    }
}
