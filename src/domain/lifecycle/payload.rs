//! The payloads of the actions: read from JSON, then checked field by field. What is kept is
//! written into the event, so the timeline holds exactly what was decided.

use super::Known;
use crate::domain::ticket::{Actor, Satisfaction, State, TicketId};
use crate::domain::time;
use crate::domain::{FieldError, from_json, optional_text, required_text};
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const TEXT_MAX: usize = 5000;
pub const NOTE_MAX: usize = 2000;
/// More than three months of working days is not an extension but a new case.
pub const EXTENSION_MAX_DAYS: u32 = 60;
/// A case has a handful of co-handling departments; a list longer than this is not one.
pub const CO_DEPARTMENTS_MAX: usize = 20;
/// No department code is longer; a longer text is not looked up.
pub const DEPARTMENT_CODE_MAX: usize = 64;

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
                    errors.push(unknown_department("department", code));
                }
                code.to_string()
            }
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
        let mut co_departments: Vec<String> = vec![];
        for (i, code) in co.iter().map(|c| c.trim()).enumerate() {
            let field = format!("co_departments[{i}]");
            if !known.departments.contains(code) {
                errors.push(unknown_department(&field, code));
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

/// A code that names no department; a text too long to be a code is not repeated back.
fn unknown_department(field: &str, code: &str) -> FieldError {
    if code.chars().count() > DEPARTMENT_CODE_MAX {
        FieldError::new(field, "is not a department code")
    } else {
        FieldError::new(field, format!("unknown department '{code}'"))
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
