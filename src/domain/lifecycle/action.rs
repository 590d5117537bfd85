//! The actions of the lifecycle table and its "who may" and "from" columns: which party may do
//! what, in which state, and what a payload names that must be looked up first.

use crate::domain::department::DepartmentCode;
use crate::domain::ticket::{Actor, CO_DEPARTMENTS_MAX, Role, State, Ticket, TicketId};
use serde_json::Value;

/// How many knowledge articles an `answer` cites at most.
pub const ARTICLES_MAX: usize = 20;

name_enum!(
    /// The actions of the lifecycle table, named as in the API path `/actions/{action}`.
    ActionKind {
        Dispatch = "dispatch",
        Return = "return",
        Sign = "sign",
        InterimReply = "interim_reply",
        RequestExtension = "request_extension",
        DecideExtension = "decide_extension",
        Supervise = "supervise",
        Coordinate = "coordinate",
        Assign = "assign",
        Reply = "reply",
        Feedback = "feedback",
        Archive = "archive",
        Reject = "reject",
        Withdraw = "withdraw",
        Merge = "merge",
        Answer = "answer",
        Comment = "comment",
    }
);

/// What the payload of an action refers to, for the caller to look up before calling `apply`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lookups {
    pub departments: Vec<DepartmentCode>,
    pub ticket: Option<TicketId>,
    /// Knowledge articles an `answer` cites.
    pub articles: Vec<String>,
}

/// How the actor stands to this ticket; the "who may" column of the lifecycle table is written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    Operator,
    Supervisor,
    Admin,
    LeadDepartment,
    CoDepartment,
    OtherDepartment,
    System,
}

impl Party {
    pub fn of(ticket: &Ticket, actor: &Actor) -> Party {
        match actor.role() {
            None => Party::System,
            Some(Role::Operator) => Party::Operator,
            Some(Role::Supervisor) => Party::Supervisor,
            Some(Role::Admin) => Party::Admin,
            Some(Role::Department) => match actor.department() {
                Some(d) if ticket.lead_department.as_ref() == Some(d) => Party::LeadDepartment,
                Some(d) if ticket.co_departments.contains(d) => Party::CoDepartment,
                _ => Party::OtherDepartment,
            },
        }
    }
}

impl ActionKind {
    /// The "who may" column.
    pub fn permitted(self, party: Party) -> bool {
        use ActionKind::*;
        use Party::*;
        let who: &[Party] = match self {
            Dispatch => &[Operator, Supervisor],
            Return | Sign | RequestExtension | Reply => &[LeadDepartment],
            InterimReply => &[Operator, LeadDepartment],
            DecideExtension | Assign => &[Supervisor],
            Supervise => &[Supervisor, System],
            Coordinate => &[LeadDepartment, Supervisor],
            Feedback | Reject | Withdraw | Answer => &[Operator],
            Archive | Merge => &[Operator, Supervisor],
            Comment => &[Operator, Supervisor, LeadDepartment, CoDepartment],
        };
        who.contains(&party)
    }

    /// The "from" column.
    pub fn allowed_in(self, state: State) -> bool {
        use ActionKind::*;
        use State::{Accepted, Archived, Coordinating, Dispatched, Handling, Replied, Supervised};
        match self {
            Dispatch | Reject | Answer => state == Accepted,
            Return | Sign => state == Dispatched,
            RequestExtension | DecideExtension | Reply => matches!(state, Handling | Supervised),
            Supervise => state == Handling,
            Coordinate => matches!(state, Dispatched | Handling | Supervised),
            Assign => state == Coordinating,
            Feedback => state == Replied,
            Archive => state == State::Feedback,
            Merge => matches!(state, Accepted | Dispatched),
            InterimReply | Withdraw | Comment => state != Archived,
        }
    }

    /// What the caller must look up for this payload; tolerant of payloads that will fail later.
    pub fn lookups(self, payload: &Value) -> Lookups {
        // Trimmed as the payload checks trim them; a text that is no code is not looked up.
        let code = |v: &Value| DepartmentCode::parse(v.as_str()?.trim()).ok();
        match self {
            ActionKind::Dispatch | ActionKind::Assign => {
                // As many as a valid payload can name: the look-up stays a bounded `IN (…)`
                // whatever the body holds.
                let mut departments: Vec<DepartmentCode> = payload
                    .get("department")
                    .and_then(code)
                    .into_iter()
                    .collect();
                if let Some(co) = payload.get("co_departments").and_then(Value::as_array) {
                    departments.extend(co.iter().take(CO_DEPARTMENTS_MAX).filter_map(code));
                }
                Lookups {
                    departments,
                    ..Lookups::default()
                }
            }
            ActionKind::Answer => Lookups {
                // As many as a valid payload can cite: the look-up stays a bounded `IN (…)`.
                articles: payload
                    .get("articles")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .take(ARTICLES_MAX)
                            .filter_map(|v| Some(v.as_str()?.trim().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
                ..Lookups::default()
            },
            ActionKind::Merge | ActionKind::Reject => Lookups {
                departments: vec![],
                articles: vec![],
                ticket: payload
                    .get(if self == ActionKind::Merge {
                        "into"
                    } else {
                        "repeat_of"
                    })
                    .and_then(Value::as_str)
                    .and_then(|s| s.trim().parse().ok()),
            },
            _ => Lookups::default(),
        }
    }
}
