//! One entry of a ticket's append-only timeline, as a decision writes it.

use crate::domain::ticket::{Actor, State};
use chrono::NaiveDateTime;
use serde_json::Value;

/// One entry of the append-only timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub action: String,
    pub actor: Actor,
    pub from_state: Option<State>,
    pub to_state: State,
    pub level: Option<i32>,
    pub payload: Value,
    pub at: NaiveDateTime,
}
