//! What a decision is made on besides the ticket: the request, the time, what the payload refers
//! to, the policy, the calendar and the ticket's running timers.

use super::action::ActionKind;
use crate::domain::calendar::Calendar;
use crate::domain::department::DepartmentCode;
use crate::domain::sla::Policy;
use crate::domain::ticket::{State, TicketId};
use crate::domain::timer::Timer;
use chrono::NaiveDateTime;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An action asked for: its name, its JSON payload, and the version the caller saw (`If-Match`).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub action: ActionKind,
    pub payload: &'a Value,
    pub if_match: Option<i64>,
}

/// The answers to `Lookups`: which of the named departments exist, and the state of the named ticket.
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub departments: BTreeSet<DepartmentCode>,
    pub tickets: BTreeMap<TicketId, State>,
    /// Of the articles named, those published and in force today: id → title.
    pub articles: BTreeMap<String, String>,
}

/// Everything `apply` decides on besides the ticket itself: the time, what the payload refers to,
/// the policy and calendar deadlines are counted with, and the ticket's running timers.
pub struct Context<'a> {
    pub now: NaiveDateTime,
    pub known: &'a Known,
    pub policy: &'a Policy,
    pub calendar: &'a Calendar,
    pub timers: &'a [Timer],
}
