//! Creating a ticket (受理): the operator's input, checked field by field, becomes a ticket in
//! `accepted` with its first event.

use super::clocks::TimerChanges;
use super::context::{Context, Known};
use super::effects::Effects;
use super::error::DomainError;
use super::event::Event;
use crate::domain::credit_code::CreditCode;
use crate::domain::field::{FieldError, collect, from_json};
use crate::domain::phone::Phone;
use crate::domain::sla::TimerKind;
use crate::domain::text::required_text;
use crate::domain::ticket::{
    Actor, Category, Channel, Contact, Enterprise, Role, State, Ticket, TicketId, Urgency,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

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
    pub duplicate_of: Option<TicketId>,
}

/// A complaint as the hotline logs it (受理). Every field is read as text and checked here, so
/// that each problem is reported against its field at once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTicket, example = json!({
    "channel": "hotline", "category": "complaint", "urgency": "normal",
    "enterprise": {"name": "黄石市下陆区恒信机械制造有限公司", "credit_code": "91420204MA4B1C2D1D"},
    "contact": {"name": "王建国", "phone": "13907141234"},
    "subject": "食品经营许可证变更办理超时",
    "description": "企业于上月提交申请，至今未收到受理结果。"
}))]
pub struct NewTicketInput {
    #[schema(value_type = Channel, required = true)]
    channel: Option<String>,
    #[schema(value_type = Category, required = true)]
    category: Option<String>,
    /// `normal` when left out.
    #[schema(value_type = Option<Urgency>)]
    urgency: Option<String>,
    #[schema(required = true)]
    enterprise: Option<EnterpriseInput>,
    #[schema(required = true)]
    contact: Option<ContactInput>,
    /// Up to 200 characters.
    #[schema(required = true)]
    subject: Option<String>,
    /// Up to 20,000 characters.
    #[schema(required = true)]
    description: Option<String>,
    /// The earlier case this one repeats (重复件), when the operator recognises it at intake
    /// (e.g. from `POST /api/v1/tickets/similar`).
    #[schema(format = Uuid)]
    duplicate_of: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    /// 企业名称, up to 200 characters.
    #[schema(required = true)]
    name: Option<String>,
    /// 统一社会信用代码 (GB 32100-2015, both check characters verified; lower case is read as
    /// upper).
    #[schema(required = true)]
    credit_code: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// 联系人, up to 200 characters.
    #[schema(required = true)]
    name: Option<String>,
    /// A mainland mobile or a landline with its area code, written as people write them
    /// (`+86 138 0013 8000`, `(0714) 635-1234`, `027-87654321转801`); stored in one form.
    #[schema(required = true)]
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
    let input: NewTicketInput = from_json(input)?;
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
    let duplicate_of = collect(
        &mut errors,
        input
            .duplicate_of
            .as_deref()
            .map(|id| {
                id.trim()
                    .parse::<TicketId>()
                    .map_err(|_| FieldError::new("duplicate_of", "must be a ticket id"))
            })
            .transpose(),
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
        duplicate_of,
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
            Some(duplicate_of),
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
            duplicate_of,
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

/// What a new ticket refers to must exist: the case it repeats (422 otherwise).
pub fn check_references(new: &NewTicket, known: &Known) -> Result<(), DomainError> {
    match new.duplicate_of {
        Some(id) if !known.tickets.contains_key(&id) => {
            Err(FieldError::new("duplicate_of", "no such ticket").into())
        }
        _ => Ok(()),
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
            credit_code: new.credit_code,
        },
        contact: Contact {
            name: new.contact_name,
            phone: new.contact_phone,
        },
        subject: new.subject,
        description: new.description,
        lead_department: None,
        co_departments: vec![],
        pending_extension: None,
        merged_into: None,
        duplicate_of: new.duplicate_of,
        reopen_count: 0,
        version: 1,
        created_by: actor.username().unwrap_or("system").to_string(),
        created_at: now,
        updated_at: now,
        due_at: None,
        escalation_level: 0,
        first_department: None,
        replied_at: None,
        replied_by: None,
    };
    // The event names what was logged, not who complained: contact details stay on the ticket.
    let mut payload = json!({
        "number": ticket.number,
        "channel": ticket.channel,
        "category": ticket.category,
        "urgency": ticket.urgency,
    });
    if let Some(earlier) = ticket.duplicate_of {
        payload["duplicate_of"] = json!(earlier);
    }
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
    Effects::new(None, ticket, event, timers, vec![], &[], ctx.calendar)
}
