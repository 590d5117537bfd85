//! The payloads of the actions: read from JSON, then checked field by field. What is kept is
//! written into the event, so the timeline holds exactly what was decided.

use super::Known;
use crate::domain::ticket::{Actor, Satisfaction, State, TicketId};
use crate::domain::{FieldError, from_json, optional_text, required_text};
use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const TEXT_MAX: usize = 5000;
pub const NOTE_MAX: usize = 2000;
/// More than three months of working days is not an extension but a new case.
pub const EXTENSION_MAX_DAYS: u32 = 60;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchPayload {
    department: Option<String>,
    #[serde(default)]
    co_departments: Vec<String>,
    note: Option<String>,
}

#[derive(Serialize)]
pub struct Dispatch {
    pub department: String,
    pub co_departments: Vec<String>,
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
                String::new()
            }
            Some(code) => {
                if !known.departments.contains(code) {
                    errors.push(FieldError::new(
                        "department",
                        format!("unknown department '{code}'"),
                    ));
                }
                code.to_string()
            }
        };
        let mut co_departments: Vec<String> = vec![];
        for (i, code) in self.co_departments.iter().map(|c| c.trim()).enumerate() {
            let field = format!("co_departments[{i}]");
            if !known.departments.contains(code) {
                errors.push(FieldError::new(
                    field,
                    format!("unknown department '{code}'"),
                ));
            } else if code == department {
                errors.push(FieldError::new(
                    field,
                    "the lead department cannot also co-handle",
                ));
            } else if co_departments.iter().any(|c| c == code) {
                errors.push(FieldError::new(field, format!("'{code}' is listed twice")));
            } else {
                co_departments.push(code.to_string());
            }
        }
        let note =
            optional_text("note", self.note.as_deref(), NOTE_MAX).map_err(|e| errors.push(e));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Dispatch {
            department,
            co_departments,
            note: note.unwrap_or_default(),
        })
    }
}

/// Reads a payload of one required text field named `$field`.
macro_rules! text_payload {
    ($name:ident, $field:ident) => {
        #[derive(Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
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

text_payload!(ReasonPayload, reason);
text_payload!(ContentPayload, content);

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionPayload {
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

#[derive(Deserialize, Serialize)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    note: Option<String>,
    due: Option<String>,
}

#[derive(Serialize)]
pub struct SupervisePayload {
    pub note: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDateTime>,
}

impl SupervisePayload {
    pub fn read(payload: &Value, actor: &Actor, now: NaiveDateTime) -> Result<Self, FieldError> {
        let raw: SuperviseInput = from_json(payload)?;
        let note = match actor {
            Actor::System => optional_text("note", raw.note.as_deref(), NOTE_MAX)?
                .unwrap_or_else(|| "overdue: supervised automatically".to_string()),
            Actor::User { .. } => required_text("note", raw.note.as_deref(), NOTE_MAX)?,
        };
        let due = match raw.due {
            None => None,
            Some(text) => {
                let due = DateTime::parse_from_rfc3339(&text)
                    .map_err(|_| {
                        FieldError::new(
                            "due",
                            "must be an RFC 3339 time, e.g. 2026-12-04T17:30:00+08:00",
                        )
                    })?
                    .naive_utc();
                if due <= now {
                    return Err(FieldError::new("due", "must be in the future"));
                }
                Some(due)
            }
        };
        Ok(Self { note, due })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPayload {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeInput {
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
