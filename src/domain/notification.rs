//! Who is told about a change, by role (DESIGN.md, "Notifications"): decided with the change, by
//! the lifecycle and the escalation ladder. The roles become addresses in `notify::recipients`,
//! in the change's transaction, so later changes do not reroute a notification.

use super::department::DepartmentCode;
use super::lifecycle::action::ActionKind;
use crate::domain::sla::TimerKind;
use crate::domain::ticket::Ticket;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "department", rename_all = "snake_case")]
pub enum Recipient {
    /// A department's mailbox and its users with an email.
    Department(DepartmentCode),
    /// A department's head (`head_email`).
    DepartmentHead(DepartmentCode),
    /// The hotline desk: `mail.desk` and the operators with an email.
    Desk,
    /// The supervision office: `mail.supervisors` and the supervisors with an email.
    Supervisors,
    /// `mail.leadership`.
    Leadership,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The template under `templates/email/`.
    pub template: &'static str,
    pub to: Vec<Recipient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<i32>,
}

impl Notification {
    fn new(template: &'static str, to: Vec<Recipient>) -> Self {
        Notification {
            template,
            to,
            timer: None,
            level: None,
        }
    }
}

fn lead(ticket: &Ticket) -> Option<Recipient> {
    ticket.lead_department.clone().map(Recipient::Department)
}

/// The notifications of a person's (or the system's) action, from the ticket after it.
pub fn for_action(action: ActionKind, after: &Ticket) -> Vec<Notification> {
    let lead_and_head = || {
        let mut to: Vec<Recipient> = lead(after).into_iter().collect();
        to.extend(after.lead_department.clone().map(Recipient::DepartmentHead));
        to
    };
    let mut out = vec![];
    match action {
        ActionKind::Dispatch | ActionKind::Assign => {
            out.push(Notification::new(
                "dispatch",
                lead(after).into_iter().collect(),
            ));
            if !after.co_departments.is_empty() {
                let co = after
                    .co_departments
                    .iter()
                    .cloned()
                    .map(Recipient::Department)
                    .collect();
                out.push(Notification::new("co_dispatch", co));
            }
        }
        ActionKind::Return => out.push(Notification::new("returned", vec![Recipient::Desk])),
        ActionKind::Supervise => out.push(Notification::new("supervised", lead_and_head())),
        ActionKind::Coordinate => out.push(Notification::new(
            "coordination",
            vec![Recipient::Supervisors],
        )),
        ActionKind::RequestExtension => out.push(Notification::new(
            "extension_requested",
            vec![Recipient::Supervisors],
        )),
        ActionKind::DecideExtension => out.push(Notification::new(
            "extension_decided",
            lead(after).into_iter().collect(),
        )),
        ActionKind::Reply => out.push(Notification::new("replied", vec![Recipient::Desk])),
        _ => {}
    }
    out.retain(|n| !n.to.is_empty());
    out
}

/// Who answers for a timer: the desk for dispatch and callback, the lead department otherwise
/// (for the interim reply only once there is one).
pub fn owner(kind: TimerKind, ticket: &Ticket) -> Recipient {
    kind.owner(ticket.lead_department.as_ref())
        .map_or(Recipient::Desk, Recipient::Department)
}

/// The warning ahead of a deadline, to the timer's owner.
pub fn warning(kind: TimerKind, ticket: &Ticket) -> Notification {
    Notification {
        timer: Some(kind),
        level: Some(0),
        ..Notification::new("warning", vec![owner(kind, ticket)])
    }
}

/// A level of the ladder: 1 → the owner (and a department's head), 2 → supervisors, 3+ → leadership.
pub fn escalation(kind: TimerKind, level: i32, ticket: &Ticket) -> Notification {
    let to = match level {
        1 => {
            let owner = owner(kind, ticket);
            let head = match &owner {
                Recipient::Department(code) => Some(Recipient::DepartmentHead(code.clone())),
                _ => None,
            };
            std::iter::once(owner).chain(head).collect()
        }
        2 => vec![Recipient::Supervisors],
        _ => vec![Recipient::Leadership],
    };
    Notification {
        timer: Some(kind),
        level: Some(level),
        ..Notification::new("escalation", to)
    }
}
