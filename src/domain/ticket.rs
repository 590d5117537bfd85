//! A ticket (诉求工单) and the closed vocabularies it is described with, named as in the glossary.

use super::credit_code::CreditCode;
use super::department::DepartmentCode;
use super::phone::Phone;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

name_enum!(
    /// Where a ticket is in the closed loop.
    State {
        Accepted = "accepted",
        Dispatched = "dispatched",
        Handling = "handling",
        Supervised = "supervised",
        Coordinating = "coordinating",
        Replied = "replied",
        Feedback = "feedback",
        Archived = "archived",
    }
);

name_enum!(
    /// How an archived ticket ended.
    Outcome {
        Resolved = "resolved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        Merged = "merged",
        /// 直办: a consultation answered on the call from the knowledge base.
        Answered = "answered",
    }
);

name_enum!(
    Channel {
        Hotline = "hotline",
        Web = "web",
        Wechat = "wechat",
        Letter = "letter",
        Visit = "visit",
    }
);

name_enum!(
    Category {
        Consultation = "consultation",
        Help = "help",
        Complaint = "complaint",
        Report = "report",
        Suggestion = "suggestion",
    }
);

name_enum!(
    Urgency {
        Normal = "normal",
        Urgent = "urgent",
    }
);

name_enum!(
    Satisfaction {
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
    }
);

name_enum!(
    Role {
        Operator = "operator",
        Department = "department",
        Supervisor = "supervisor",
        Admin = "admin",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketId(pub Uuid);

impl TicketId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for TicketId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TicketId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Who acts: a signed-in person, or closedloop itself (deadlines, escalation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        username: String,
        role: Role,
        department: Option<DepartmentCode>,
    },
    System,
}

impl Actor {
    pub fn user(username: &str, role: Role, department: Option<&DepartmentCode>) -> Self {
        Actor::User {
            username: username.to_string(),
            role,
            department: department.cloned(),
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::User { role, .. } => Some(*role),
            Actor::System => None,
        }
    }

    pub fn department(&self) -> Option<&DepartmentCode> {
        match self {
            Actor::User { department, .. } => department.as_ref(),
            Actor::System => None,
        }
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            Actor::User { username, .. } => Some(username),
            Actor::System => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    pub name: String,
    pub credit_code: CreditCode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub phone: Phone,
}

/// A department's request for more working days (延期申请), pending until a supervisor decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub working_days: u32,
    pub reason: String,
    pub requested_by: DepartmentCode,
    pub requested_at: NaiveDateTime,
}

/// A case has a handful of co-handling departments (协办); a list longer than this is not one.
pub const CO_DEPARTMENTS_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub number: String,
    pub state: State,
    pub outcome: Option<Outcome>,
    pub channel: Channel,
    pub category: Category,
    pub urgency: Urgency,
    pub enterprise: Enterprise,
    pub contact: Contact,
    pub subject: String,
    pub description: String,
    pub lead_department: Option<DepartmentCode>,
    pub co_departments: Vec<DepartmentCode>,
    /// The first department the case was dispatched to: whose `received` it counts in.
    pub first_department: Option<DepartmentCode>,
    /// The first substantive reply (答复): when, and by which department.
    pub replied_at: Option<NaiveDateTime>,
    pub replied_by: Option<DepartmentCode>,
    pub pending_extension: Option<ExtensionRequest>,
    pub merged_into: Option<TicketId>,
    /// The earlier case this one repeats (重复件): chosen at intake, or cited by a `reject`.
    pub duplicate_of: Option<TicketId>,
    pub reopen_count: i32,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The nearest deadline among its running timers.
    pub due_at: Option<NaiveDateTime>,
    /// The highest escalation level among its running timers.
    pub escalation_level: i32,
}

impl Ticket {
    /// Whether `department` may see this ticket now: as lead (主办) or co-handler (协办).
    pub fn involves(&self, department: &str) -> bool {
        self.lead_department.as_deref() == Some(department)
            || self.co_departments.iter().any(|d| **d == *department)
    }
}
