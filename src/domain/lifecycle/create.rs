//! Creating a ticket (受理): the operator's input, checked field by field, becomes a ticket in
//! `accepted` with its first event.

use super::{Context, DomainError, Effects, Event, TimerChanges};
use crate::domain::sla::TimerKind;
use crate::domain::ticket::{
    Actor, Category, Channel, Contact, Enterprise, Role, State, Ticket, TicketId, Urgency,
};
use crate::domain::{CreditCode, FieldError, Phone, collect, from_json, required_text};
use serde::Deserialize;
use serde_json::{Value, json};

const NAME_MAX: usize = 200;
const SUBJECT_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 20_000;

/// A complaint as the hotline logged it, every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub channel: Channel,
    pub category: Category,
    pub urgency: Urgency,
    pub enterprise_name: String,
    pub credit_code: CreditCode,
    pub contact_name: String,
    pub contact_phone: Phone,
    pub subject: String,
    pub description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    channel: Option<String>,
    category: Option<String>,
    urgency: Option<String>,
    enterprise: Option<EnterpriseInput>,
    contact: Option<ContactInput>,
    subject: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EnterpriseInput {
    name: Option<String>,
    credit_code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ContactInput {
    name: Option<String>,
    phone: Option<String>,
}

/// Only hotline operators log new tickets (403 for everyone else).
pub fn may_create(actor: &Actor) -> Result<(), DomainError> {
    match actor.role() {
        Some(Role::Operator) => Ok(()),
        _ => Err(DomainError::Forbidden(
            "only hotline operators log new tickets".into(),
        )),
    }
}

/// Who may create (403), then every field (422, all problems at once).
pub fn validate_new(input: &Value, actor: &Actor) -> Result<NewTicket, DomainError> {
    may_create(actor)?;
    if !input.is_object() {
        return Err(FieldError::new("body", "must be a JSON object").into());
    }
    let input: Input = from_json(input)?;
    let mut errors = vec![];

    let channel = collect(&mut errors, choice("channel", input.channel.as_deref()));
    let category = collect(&mut errors, choice("category", input.category.as_deref()));
    let urgency = collect(
        &mut errors,
        match input.urgency.as_deref() {
            None => Ok(Urgency::Normal),
            given => choice("urgency", given),
        },
    );
    let enterprise = input.enterprise.unwrap_or_default();
    let enterprise_name = collect(
        &mut errors,
        required_text("enterprise.name", enterprise.name.as_deref(), NAME_MAX),
    );
    let credit_code = collect(
        &mut errors,
        match enterprise.credit_code.as_deref() {
            None => Err(FieldError::new("enterprise.credit_code", "is required")),
            Some(code) => CreditCode::parse(code)
                .map_err(|e| FieldError::new("enterprise.credit_code", e.to_string())),
        },
    );
    let contact = input.contact.unwrap_or_default();
    let contact_name = collect(
        &mut errors,
        required_text("contact.name", contact.name.as_deref(), NAME_MAX),
    );
    let contact_phone = collect(
        &mut errors,
        match contact.phone.as_deref() {
            None => Err(FieldError::new("contact.phone", "is required")),
            Some(p) => Phone::parse(p).map_err(|e| FieldError::new("contact.phone", e.to_string())),
        },
    );
    let subject = collect(
        &mut errors,
        required_text("subject", input.subject.as_deref(), SUBJECT_MAX),
    );
    let description = collect(
        &mut errors,
        required_text("description", input.description.as_deref(), DESCRIPTION_MAX),
    );

    match (
        channel,
        category,
        urgency,
        enterprise_name,
        credit_code,
        contact_name,
        contact_phone,
        subject,
        description,
    ) {
        (
            Some(channel),
            Some(category),
            Some(urgency),
            Some(enterprise_name),
            Some(credit_code),
            Some(contact_name),
            Some(contact_phone),
            Some(subject),
            Some(description),
        ) => Ok(NewTicket {
            channel,
            category,
            urgency,
            enterprise_name,
            credit_code,
            contact_name,
            contact_phone,
            subject,
            description,
        }),
        _ => Err(DomainError::Invalid(errors)),
    }
}

fn choice<T: std::str::FromStr<Err = String>>(
    field: &str,
    value: Option<&str>,
) -> Result<T, FieldError> {
    match value {
        None => Err(FieldError::new(field, "is required")),
        Some(v) => v.parse().map_err(|m| FieldError::new(field, m)),
    }
}

/// The new ticket in `accepted` and its `create` event (version 1).
pub fn create(
    new: NewTicket,
    id: TicketId,
    number: String,
    actor: &Actor,
    ctx: &Context,
) -> Effects {
    let now = ctx.now;
    let ticket = Ticket {
        id,
        number,
        state: State::Accepted,
        outcome: None,
        channel: new.channel,
        category: new.category,
        urgency: new.urgency,
        enterprise: Enterprise {
            name: new.enterprise_name,
            credit_code: new.credit_code.to_string(),
        },
        contact: Contact {
            name: new.contact_name,
            phone: new.contact_phone.to_string(),
        },
        subject: new.subject,
        description: new.description,
        lead_department: None,
        co_departments: vec![],
        pending_extension: None,
        merged_into: None,
        reopen_count: 0,
        version: 1,
        created_by: actor.username().unwrap_or("system").to_string(),
        created_at: now,
        updated_at: now,
        due_at: None,
        escalation_level: 0,
    };
    // The event names what was logged, not who complained: contact details stay on the ticket.
    let payload = json!({
        "number": ticket.number,
        "channel": ticket.channel,
        "category": ticket.category,
        "urgency": ticket.urgency,
    });
    let event = Event {
        action: "create".to_string(),
        actor: actor.clone(),
        from_state: None,
        to_state: State::Accepted,
        level: None,
        payload,
        at: now,
    };
    // The hotline's clock to dispatch, and the 7-day procedural reply counted from receipt.
    let timers = TimerChanges {
        started: vec![
            ctx.start(&ticket, TimerKind::Dispatch, None),
            ctx.start(&ticket, TimerKind::InterimReply, None),
        ],
        changed: vec![],
    };
    Effects::new(ticket, event, timers, vec![], &[])
}
