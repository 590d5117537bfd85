//! A policy article of the knowledge base (惠企政策知识库): what it says and how it stands, checked
//! field by field as the API and the console send it (all fields to create, any of them to
//! edit); who may read and write it; which fields an edit changed, for its version history; and
//! the draft a replied consultation makes (存为知识).

use super::department::DepartmentCode;
use super::field::{FieldError, collect, from_json};
use super::lifecycle::error::DomainError;
use super::lifecycle::event::Event;
use super::markdown;
use super::text::{optional_text, required_text};
use super::ticket::{Actor, Category, Role, Ticket};
use super::time;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 50_000;
pub const KEYWORDS_MAX: usize = 20;
pub const KEYWORD_MAX: usize = 30;
pub const DOC_NUMBER_MAX: usize = 100;

name_enum!(
    /// Where an article is: written but not out yet, out, or withdrawn from use.
    ArticleState {
        Draft = "draft",
        Published = "published",
        Archived = "archived",
    }
);

name_enum!(
    /// Who the article is written for: the hotline and departments only, or enterprises too.
    Visibility {
        Internal = "internal",
        Public = "public",
    }
);

/// Everything a version of an article records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub keywords: Vec<String>,
    /// The department that issues and keeps it.
    pub department: DepartmentCode,
    /// 文号, e.g. 鄂政办发〔2026〕12号.
    pub doc_number: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub state: ArticleState,
    pub visibility: Visibility,
}

/// The fields a change may name, as the API writes them.
pub const FIELDS: [&str; 9] = [
    "title",
    "body",
    "keywords",
    "department",
    "doc_number",
    "valid_from",
    "valid_to",
    "state",
    "visibility",
];

impl Content {
    /// The fields of `self` that differ from `before`; against nothing, the fields with a value.
    pub fn changed(&self, before: Option<&Content>) -> Vec<&'static str> {
        let differs = |field: &str| -> bool {
            let Some(b) = before else {
                return match field {
                    "keywords" => !self.keywords.is_empty(),
                    "doc_number" => self.doc_number.is_some(),
                    "valid_from" => self.valid_from.is_some(),
                    "valid_to" => self.valid_to.is_some(),
                    _ => true,
                };
            };
            match field {
                "title" => self.title != b.title,
                "body" => self.body != b.body,
                "keywords" => self.keywords != b.keywords,
                "department" => self.department != b.department,
                "doc_number" => self.doc_number != b.doc_number,
                "valid_from" => self.valid_from != b.valid_from,
                "valid_to" => self.valid_to != b.valid_to,
                "state" => self.state != b.state,
                _ => self.visibility != b.visibility,
            }
        };
        FIELDS.into_iter().filter(|f| differs(f)).collect()
    }

    /// The text the article is found by: title, keywords, 文号 and body.
    pub fn searchable(&self) -> String {
        let mut parts = vec![self.title.as_str()];
        parts.extend(self.keywords.iter().map(String::as_str));
        parts.extend(self.doc_number.as_deref());
        parts.push(&self.body);
        parts.join("\n")
    }
}

/// Whether an article valid until `valid_to` has expired by `today` (a local date).
pub fn expired(valid_to: Option<NaiveDate>, today: NaiveDate) -> bool {
    valid_to.is_some_and(|to| to < today)
}

/// Which articles a person reads: operators the published ones; a department its own in every
/// state and everyone's published; supervisors and admins all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readers {
    All,
    Published,
    PublishedOr(DepartmentCode),
}

impl Readers {
    pub fn of(actor: &Actor) -> Readers {
        match (actor.role(), actor.department()) {
            (Some(Role::Operator), _) | (Some(Role::Department), None) => Readers::Published,
            (Some(Role::Department), Some(own)) => Readers::PublishedOr(own.clone()),
            _ => Readers::All,
        }
    }

    pub fn may_read(&self, state: ArticleState, department: &str) -> bool {
        match self {
            Readers::All => true,
            Readers::Published => state == ArticleState::Published,
            Readers::PublishedOr(own) => state == ArticleState::Published || **own == *department,
        }
    }
}

/// Departments write their own articles, admins any (403 for everyone else).
pub fn may_write(actor: &Actor) -> Result<(), DomainError> {
    match actor.role() {
        Some(Role::Department | Role::Admin) => Ok(()),
        _ => Err(DomainError::Forbidden(
            "only departments and admins write knowledge articles".into(),
        )),
    }
}

/// Whether `actor` may change an article of `department` (403 when not).
pub fn may_edit(actor: &Actor, department: &str) -> Result<(), DomainError> {
    may_write(actor)?;
    match (actor.role(), actor.department()) {
        (Some(Role::Department), Some(own)) if **own != *department => Err(DomainError::Forbidden(
            "a department edits only its own department's articles".into(),
        )),
        (Some(Role::Department), None) => Err(DomainError::Forbidden(
            "this account belongs to no department".into(),
        )),
        _ => Ok(()),
    }
}

/// An article as it is sent: to create one, `title` and `body` at least (and `department` from
/// an admin); to edit one, any of the fields — those left out stay as they are, and `null`
/// clears `doc_number`, `valid_from` or `valid_to`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = ArticleInput, example = json!({
    "title": "小微企业增值税期末留抵退税", "body": "## 适用对象\n\n符合条件的小微企业……",
    "keywords": ["留抵退税", "增值税", "小微企业"], "department": "shuiwu",
    "doc_number": "鄂税发〔2026〕8号", "valid_from": "2026-01-01", "valid_to": "2027-12-31",
    "state": "published", "visibility": "public"
}))]
pub struct ArticleInput {
    /// Up to 200 characters.
    title: Option<String>,
    /// Markdown, up to 50,000 characters; raw HTML in it is shown as text.
    body: Option<String>,
    /// Up to 20, each up to 30 characters; repeats are kept once.
    keywords: Option<Vec<String>>,
    /// The issuing department's code: a department's own (the default for its people); an
    /// admin names any.
    department: Option<String>,
    /// 文号, up to 100 characters.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    doc_number: Option<Option<String>>,
    /// In force from this local date (YYYY-MM-DD).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, format = Date)]
    valid_from: Option<Option<String>>,
    /// In force until this local date, included; after it the article shows as expired.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, format = Date)]
    valid_to: Option<Option<String>>,
    /// `draft` when left out; `published` publishes, `archived` withdraws.
    #[schema(value_type = Option<ArticleState>)]
    state: Option<String>,
    /// `internal` when left out.
    #[schema(value_type = Option<Visibility>)]
    visibility: Option<String>,
}

/// A field that is present: `null` is `Some(None)`, and a field left out stays `None`.
fn given<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl ArticleInput {
    /// The request body as an article's fields: a JSON object of known fields of the right types.
    pub fn read(input: &Value) -> Result<ArticleInput, DomainError> {
        if !input.is_object() {
            return Err(FieldError::new("body", "must be a JSON object").into());
        }
        Ok(from_json(input)?)
    }

    /// The department the input names, if any (to check who may write there before the rest).
    pub fn department(&self) -> Option<&str> {
        self.department.as_deref().map(str::trim)
    }
}

/// A new article of `actor`'s: 403 when a department names another, then every field (422, all
/// problems at once). Whether the department exists is the store's to say.
pub fn new_article(input: ArticleInput, actor: &Actor) -> Result<Content, DomainError> {
    may_write(actor)?;
    if let (Some(Role::Department), Some(named)) = (actor.role(), input.department()) {
        may_edit(actor, named)?;
    }
    check(input, None, actor)
}

/// `current` with the fields `input` names: 403 when a department moves its article to another,
/// then every field (422).
pub fn edited(
    current: &Content,
    input: ArticleInput,
    actor: &Actor,
) -> Result<Content, DomainError> {
    may_edit(actor, &current.department)?;
    if let Some(named) = input.department() {
        may_edit(actor, named)?;
    }
    check(input, Some(current), actor)
}

fn check(
    input: ArticleInput,
    base: Option<&Content>,
    actor: &Actor,
) -> Result<Content, DomainError> {
    let mut errors = vec![];
    let e = &mut errors;
    let title = match (input.title, base) {
        (None, Some(b)) => Some(b.title.clone()),
        (t, _) => collect(e, required_text("title", t.as_deref(), TITLE_MAX)),
    };
    let body = match (input.body, base) {
        (None, Some(b)) => Some(b.body.clone()),
        (t, _) => collect(e, required_text("body", t.as_deref(), BODY_MAX)),
    };
    let keywords = match (input.keywords, base) {
        (None, Some(b)) => Some(b.keywords.clone()),
        (list, _) => keywords(list.unwrap_or_default(), e),
    };
    let department = match (input.department.as_deref(), base, actor.department()) {
        (Some(code), _, _) => collect(
            e,
            DepartmentCode::parse(code.trim())
                .map_err(|err| FieldError::new("department", err.to_string())),
        ),
        (None, Some(b), _) => Some(b.department.clone()),
        (None, None, Some(own)) => Some(own.clone()),
        (None, None, None) => collect(e, Err(FieldError::new("department", "is required"))),
    };
    let doc_number = match (input.doc_number, base) {
        (None, Some(b)) => Some(b.doc_number.clone()),
        (given, _) => collect(
            e,
            optional_text("doc_number", given.flatten().as_deref(), DOC_NUMBER_MAX),
        ),
    };
    let valid_from = match (input.valid_from, base) {
        (None, Some(b)) => Some(b.valid_from),
        (given, _) => collect(e, date("valid_from", given.flatten().as_deref())),
    };
    let valid_to = match (input.valid_to, base) {
        (None, Some(b)) => Some(b.valid_to),
        (given, _) => collect(e, date("valid_to", given.flatten().as_deref())),
    };
    if let (Some(Some(from)), Some(Some(to))) = (valid_from, valid_to)
        && from > to
    {
        e.push(FieldError::new("valid_to", "may not be before valid_from"));
    }
    let state = match (input.state.as_deref(), base) {
        (None, Some(b)) => Some(b.state),
        (None, None) => Some(ArticleState::Draft),
        (Some(s), _) => collect(e, s.trim().parse().map_err(|m| FieldError::new("state", m))),
    };
    let visibility = match (input.visibility.as_deref(), base) {
        (None, Some(b)) => Some(b.visibility),
        (None, None) => Some(Visibility::Internal),
        (Some(v), _) => collect(
            e,
            v.trim()
                .parse()
                .map_err(|m| FieldError::new("visibility", m)),
        ),
    };
    match (
        title, body, keywords, department, doc_number, valid_from, valid_to, state, visibility,
    ) {
        (
            Some(title),
            Some(body),
            Some(keywords),
            Some(department),
            Some(doc_number),
            Some(valid_from),
            Some(valid_to),
            Some(state),
            Some(visibility),
        ) if errors.is_empty() => Ok(Content {
            title,
            body,
            keywords,
            department,
            doc_number,
            valid_from,
            valid_to,
            state,
            visibility,
        }),
        _ => Err(DomainError::Invalid(errors)),
    }
}

/// Keywords as people type them: trimmed, each kept once, in order.
fn keywords(list: Vec<String>, errors: &mut Vec<FieldError>) -> Option<Vec<String>> {
    if list.len() > KEYWORDS_MAX {
        errors.push(FieldError::new(
            "keywords",
            format!("may hold at most {KEYWORDS_MAX} keywords"),
        ));
        return None;
    }
    let before = errors.len();
    let mut kept: Vec<String> = vec![];
    for (i, word) in list.iter().enumerate() {
        let field = format!("keywords[{i}]");
        if let Some(word) = collect(errors, required_text(&field, Some(word), KEYWORD_MAX))
            && !kept.contains(&word)
        {
            kept.push(word);
        }
    }
    (errors.len() == before).then_some(kept)
}

/// A local date, `YYYY-MM-DD`, in the years the service keeps; blank is none.
fn date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| time::YEARS.contains(&d.year()))
        .map(Some)
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!(
                    "must be a date (YYYY-MM-DD) in the years {} to {}, e.g. 2026-12-08",
                    time::YEARS.start(),
                    time::YEARS.end()
                ),
            )
        })
}

/// A case's answer (答复) as its timeline holds it: a `reply` event's text, and the department
/// that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub content: String,
    pub department: Option<DepartmentCode>,
    pub at: NaiveDateTime,
}

impl Answer {
    /// The answer `event` gave, if it is a reply.
    pub fn of(event: &Event) -> Option<Answer> {
        if event.action != "reply" {
            return None;
        }
        Some(Answer {
            content: event.payload.get("content")?.as_str()?.to_string(),
            department: event.actor.department().cloned(),
            at: event.at,
        })
    }

    /// The case's latest answer among `events` (a timeline, oldest first).
    pub fn last<'a>(events: impl DoubleEndedIterator<Item = &'a Event>) -> Option<Answer> {
        events.rev().find_map(Answer::of)
    }
}

/// The department a case's answer belongs to: the one that wrote `answer`; before any, the one
/// that will (the lead).
fn answering(ticket: &Ticket, answer: Option<&Answer>) -> Option<DepartmentCode> {
    answer
        .and_then(|a| a.department.clone())
        .or_else(|| answer.and(ticket.replied_by.clone()))
        .or_else(|| ticket.lead_department.clone())
}

/// Whether `actor` may keep the case's answer as a draft article (存为知识): the department that
/// answered it (one of its people) or an admin, else 403; then only a consultation with an
/// answer, else 409. Whether the actor sees the case at all (404) is asked before.
pub fn may_keep_answer(
    actor: &Actor,
    ticket: &Ticket,
    answer: Option<&Answer>,
) -> Result<(), DomainError> {
    match (actor.role(), actor.department()) {
        (Some(Role::Admin), _) => {}
        (Some(Role::Department), Some(own)) if answering(ticket, answer).as_ref() == Some(own) => {}
        (Some(Role::Department), _) => {
            return Err(DomainError::Forbidden(
                "only the department that answered the case keeps its answer as knowledge".into(),
            ));
        }
        _ => {
            return Err(DomainError::Forbidden(
                "only the answering department or an admin keeps a case's answer as knowledge"
                    .into(),
            ));
        }
    }
    if ticket.category != Category::Consultation {
        return Err(DomainError::Conflict(
            "only a consultation's answer is kept as knowledge".into(),
        ));
    }
    if answer.is_none() {
        return Err(DomainError::Conflict("the case has no reply yet".into()));
    }
    Ok(())
}

/// The draft article a replied consultation makes, as `POST /api/v1/knowledge` takes it: the
/// case's subject as its title; its question and the answer, as typed, under 问题 and 答复, and
/// the case it came from; filed under the department that answered; no keywords, 文号 or dates
/// until that department adds them.
pub fn answer_draft(ticket: &Ticket, answer: &Answer, replied_on: NaiveDate) -> Value {
    let department = answering(ticket, Some(answer));
    let body = format!(
        "## 问题\n\n{}\n\n## 答复\n\n{}\n\n---\n\n{}",
        markdown::plain(&ticket.description),
        markdown::plain(&answer.content),
        markdown::plain(&format!(
            "本文由工单 {} 于 {replied_on} 的答复整理而成。",
            ticket.number
        )),
    );
    json!({
        "title": ticket.subject,
        "body": body,
        "keywords": [],
        "department": department.as_ref().map(DepartmentCode::as_str),
        "state": ArticleState::Draft.as_str(),
        "visibility": Visibility::Internal.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn department(code: &str) -> Actor {
        Actor::user(
            "staff",
            Role::Department,
            Some(&DepartmentCode::parse(code).unwrap()),
        )
    }

    fn admin() -> Actor {
        Actor::user("admin", Role::Admin, None)
    }

    fn new(input: Value, actor: &Actor) -> Result<Content, DomainError> {
        new_article(ArticleInput::read(&input)?, actor)
    }

    fn fields(r: Result<Content, DomainError>) -> Vec<String> {
        match r {
            Err(DomainError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_department_writes_its_own_with_defaults() {
        let c = new(
            json!({"title": " 稳岗返还 ", "body": "正文", "keywords": ["稳岗", " 稳岗", "返还"]}),
            &department("renshe"),
        )
        .unwrap();
        assert_eq!(c.title, "稳岗返还");
        assert_eq!(c.keywords, ["稳岗", "返还"]);
        assert_eq!(c.department.as_str(), "renshe");
        assert_eq!(
            (c.state, c.visibility),
            (ArticleState::Draft, Visibility::Internal)
        );
        assert_eq!(
            c.changed(None),
            [
                "title",
                "body",
                "keywords",
                "department",
                "state",
                "visibility"
            ]
        );
    }

    #[test]
    fn who_may_write_where() {
        let body = json!({"title": "t", "body": "b", "department": "shuiwu"});
        assert!(matches!(
            new(body.clone(), &department("renshe")),
            Err(DomainError::Forbidden(_))
        ));
        assert!(new(body.clone(), &department("shuiwu")).is_ok());
        assert!(new(body.clone(), &admin()).is_ok());
        for role in [Role::Operator, Role::Supervisor] {
            let actor = Actor::user("x", role, None);
            assert!(matches!(
                new(body.clone(), &actor),
                Err(DomainError::Forbidden(_))
            ));
        }
        // An admin names the department.
        assert_eq!(
            fields(new(json!({"title": "t", "body": "b"}), &admin())),
            ["department"]
        );
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let r = new(
            json!({
                "title": "", "body": "x".repeat(BODY_MAX + 1), "keywords": ["ok", "", "长".repeat(31)],
                "doc_number": "号".repeat(101), "valid_from": "2026-02-30", "valid_to": "2026-01-01",
                "state": "live", "visibility": "secret",
            }),
            &department("shuiwu"),
        );
        assert_eq!(
            fields(r),
            [
                "title",
                "body",
                "keywords[1]",
                "keywords[2]",
                "doc_number",
                "valid_from",
                "state",
                "visibility"
            ]
        );
        let many: Vec<String> = (0..21).map(|i| i.to_string()).collect();
        let r = new(
            json!({"title": "t", "body": "b", "keywords": many}),
            &department("shuiwu"),
        );
        assert_eq!(fields(r), ["keywords"]);
        let r = new(
            json!({"title": "t", "body": "b", "valid_from": "2026-06-01", "valid_to": "2026-05-31"}),
            &department("shuiwu"),
        );
        assert_eq!(fields(r), ["valid_to"]);
        assert!(matches!(
            ArticleInput::read(&json!({"title": "t", "colour": "red"})),
            Err(DomainError::Invalid(_))
        ));
        assert!(matches!(
            ArticleInput::read(&json!(["t"])),
            Err(DomainError::Invalid(_))
        ));
    }

    #[test]
    fn an_edit_changes_what_it_names() {
        let shuiwu = department("shuiwu");
        let current = new(
            json!({"title": "t", "body": "b", "doc_number": "鄂税发〔2026〕8号", "valid_to": "2026-12-31"}),
            &shuiwu,
        )
        .unwrap();
        let patch = |v: Value| ArticleInput::read(&v).unwrap();
        let after = edited(
            &current,
            patch(json!({"state": "published", "doc_number": null})),
            &shuiwu,
        )
        .unwrap();
        assert_eq!(after.state, ArticleState::Published);
        assert_eq!(after.doc_number, None);
        assert_eq!(after.valid_to, current.valid_to);
        assert_eq!(after.changed(Some(&current)), ["doc_number", "state"]);
        assert!(
            edited(&current, patch(json!({})), &shuiwu)
                .unwrap()
                .changed(Some(&current))
                .is_empty()
        );
        // Not another department's, nor into another department.
        let renshe = department("renshe");
        assert!(matches!(
            edited(&current, patch(json!({"title": "x"})), &renshe),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            edited(&current, patch(json!({"department": "renshe"})), &shuiwu),
            Err(DomainError::Forbidden(_))
        ));
        let moved = edited(&current, patch(json!({"department": "renshe"})), &admin()).unwrap();
        assert_eq!(moved.changed(Some(&current)), ["department"]);
        // The dates are checked together, as they would stand.
        let r = edited(
            &current,
            patch(json!({"valid_from": "2027-01-01"})),
            &shuiwu,
        );
        assert_eq!(fields(r), ["valid_to"]);
    }

    /// A consultation dispatched to 区税务局, answered by it if `answered`.
    fn consultation(answered: bool) -> (Ticket, Option<Answer>) {
        use crate::domain::ticket::{Channel, Contact, Enterprise, State, TicketId, Urgency};
        use crate::domain::{CreditCode, Phone};
        let at = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(2, 0, 0)
            .unwrap();
        let shuiwu = DepartmentCode::parse("shuiwu").unwrap();
        let ticket = Ticket {
            id: TicketId::new(),
            number: "XL-2026-000007".into(),
            state: if answered {
                State::Replied
            } else {
                State::Handling
            },
            outcome: None,
            channel: Channel::Hotline,
            category: Category::Consultation,
            urgency: Urgency::Normal,
            enterprise: Enterprise {
                name: "黄石市某贸易有限公司".into(),
                credit_code: CreditCode::from_stored("91350100M000100Y43".into()),
            },
            contact: Contact {
                name: "李四".into(),
                phone: Phone::from_stored("13800138000".into()),
            },
            subject: "小微企业留抵退税怎么申请".into(),
            description: "我公司是小微企业，想了解增值税留抵退税的条件。\n1. 需要什么材料？".into(),
            lead_department: Some(shuiwu.clone()),
            co_departments: vec![DepartmentCode::parse("renshe").unwrap()],
            first_department: Some(shuiwu.clone()),
            replied_at: answered.then_some(at),
            replied_by: answered.then(|| shuiwu.clone()),
            pending_extension: None,
            merged_into: None,
            duplicate_of: None,
            reopen_count: 0,
            version: 5,
            created_by: "op1".into(),
            created_at: at,
            updated_at: at,
            due_at: None,
            escalation_level: 0,
        };
        let answer = answered.then(|| Answer {
            content: "纳税信用为A级或B级的小微企业，可通过电子税务局申请。".into(),
            department: Some(shuiwu),
            at,
        });
        (ticket, answer)
    }

    #[test]
    fn who_keeps_a_case_answer_as_knowledge() {
        let (t, answer) = consultation(true);
        let a = answer.as_ref();
        let forbidden = |r: Result<(), DomainError>| matches!(r, Err(DomainError::Forbidden(_)));
        let conflict = |r: Result<(), DomainError>| matches!(r, Err(DomainError::Conflict(_)));
        assert!(may_keep_answer(&department("shuiwu"), &t, a).is_ok());
        assert!(may_keep_answer(&admin(), &t, a).is_ok());
        // A co-handler, another department, and the other roles may not.
        assert!(forbidden(may_keep_answer(&department("renshe"), &t, a)));
        assert!(forbidden(may_keep_answer(&department("sifa"), &t, a)));
        for role in [Role::Operator, Role::Supervisor] {
            assert!(forbidden(may_keep_answer(
                &Actor::user("x", role, None),
                &t,
                a
            )));
        }
        // Not a consultation, or not answered yet: who may is asked first.
        let mut complaint = t.clone();
        complaint.category = Category::Complaint;
        assert!(conflict(may_keep_answer(
            &department("shuiwu"),
            &complaint,
            a
        )));
        assert!(forbidden(may_keep_answer(
            &department("renshe"),
            &complaint,
            a
        )));
        let (open, none) = consultation(false);
        assert!(conflict(may_keep_answer(
            &department("shuiwu"),
            &open,
            none.as_ref()
        )));
        assert!(conflict(may_keep_answer(&admin(), &open, none.as_ref())));
        assert!(forbidden(may_keep_answer(
            &department("renshe"),
            &open,
            none.as_ref()
        )));
        // Answered by a department that has since lost the case: the answer is still its own.
        let mut moved = t.clone();
        moved.lead_department = Some(DepartmentCode::parse("kejing").unwrap());
        assert!(may_keep_answer(&department("shuiwu"), &moved, a).is_ok());
        assert!(forbidden(may_keep_answer(&department("kejing"), &moved, a)));
    }

    #[test]
    fn a_case_answer_makes_a_draft() {
        let (t, answer) = consultation(true);
        let answer = answer.unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let draft = answer_draft(&t, &answer, on);
        let c = new(draft.clone(), &department("shuiwu")).unwrap();
        assert_eq!(c.title, "小微企业留抵退税怎么申请");
        assert_eq!(c.department.as_str(), "shuiwu");
        assert_eq!(
            (c.state, c.visibility),
            (ArticleState::Draft, Visibility::Internal)
        );
        assert!(c.keywords.is_empty() && c.doc_number.is_none() && c.valid_to.is_none());
        assert_eq!(
            c.body,
            "## 问题\n\n我公司是小微企业，想了解增值税留抵退税的条件。\n\n1\\. 需要什么材料？\n\n\
             ## 答复\n\n纳税信用为A级或B级的小微企业，可通过电子税务局申请。\n\n---\n\n\
             本文由工单 XL-2026-000007 于 2026-03-02 的答复整理而成。"
        );
        // An admin writes it under the department that answered.
        assert_eq!(new(draft, &admin()).unwrap().department.as_str(), "shuiwu");
    }

    #[test]
    fn the_last_reply_is_the_answer() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(2, 0, 0)
            .unwrap();
        let event = |action: &str, by: &str, content: &str| Event {
            action: action.into(),
            actor: department(by),
            from_state: None,
            to_state: crate::domain::ticket::State::Replied,
            level: None,
            payload: json!({"content": content}),
            at,
        };
        let events = [
            event("reply", "shuiwu", "第一次答复"),
            event("reply", "kejing", "重办后的答复"),
            event("comment", "shuiwu", "备注"),
        ];
        let last = Answer::last(events.iter()).unwrap();
        assert_eq!(last.content, "重办后的答复");
        assert_eq!(last.department.unwrap().as_str(), "kejing");
        assert_eq!(Answer::last(events[2..].iter()), None);
    }

    #[test]
    fn readers_and_expiry() {
        let shuiwu = DepartmentCode::parse("shuiwu").unwrap();
        let op = Readers::of(&Actor::user("op", Role::Operator, None));
        assert!(op.may_read(ArticleState::Published, "shuiwu"));
        assert!(!op.may_read(ArticleState::Draft, "shuiwu"));
        let dept = Readers::of(&Actor::user("s", Role::Department, Some(&shuiwu)));
        assert!(dept.may_read(ArticleState::Draft, "shuiwu"));
        assert!(!dept.may_read(ArticleState::Draft, "renshe"));
        assert!(
            Readers::of(&Actor::user("s", Role::Supervisor, None))
                .may_read(ArticleState::Archived, "x")
        );
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(!expired(Some(day("2026-12-08")), day("2026-12-08")));
        assert!(expired(Some(day("2026-12-07")), day("2026-12-08")));
        assert!(!expired(None, day("2026-12-08")));
    }
}
