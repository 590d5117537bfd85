//! Every (state × action × party) cell of the lifecycle table, checked against a copy of the table
//! in DESIGN.md written out here on its own, plus the rules the table cannot show.

use super::*;
use crate::domain::calendar::Calendar;
use crate::domain::sla::Policy;
use crate::domain::ticket::{
    Actor, Category, Channel, Contact, Enterprise, ExtensionRequest, Outcome, Role, State, Ticket,
    TicketId, Urgency,
};
use crate::domain::{CreditCode, DepartmentCode, Phone};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

/// DESIGN.md's lifecycle table: action | from | to ("=" for unchanged) | who may.
const TABLE: &str = "
dispatch          | accepted                                                          | dispatched   | operator supervisor
return            | dispatched                                                        | accepted     | lead
sign              | dispatched                                                        | handling     | lead
interim_reply     | accepted dispatched handling supervised coordinating replied feedback | =        | operator lead
request_extension | handling supervised                                               | =            | lead
decide_extension  | handling supervised                                               | =            | supervisor
supervise         | handling                                                          | supervised   | supervisor system
coordinate        | dispatched handling supervised                                    | coordinating | lead supervisor
assign            | coordinating                                                      | dispatched   | supervisor
reply             | handling supervised                                               | replied      | lead
feedback          | replied                                                           | feedback     | operator
archive           | feedback                                                          | archived     | operator supervisor
reject            | accepted                                                          | archived     | operator
withdraw          | accepted dispatched handling supervised coordinating replied feedback | archived | operator
merge             | accepted dispatched                                               | archived     | operator supervisor
answer            | accepted                                                          | archived     | operator
comment           | accepted dispatched handling supervised coordinating replied feedback | =        | operator supervisor lead co
";

/// A knowledge article in force, as `known` finds it.
const ARTICLE: &str = "01938f6e-6b1a-7c3e-9f00-1234567890ab";

const PARTIES: [&str; 7] = [
    "operator",
    "supervisor",
    "admin",
    "lead",
    "co",
    "other",
    "system",
];

fn at(h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

pub(crate) fn ticket_in(state: State) -> Ticket {
    let has_lead = state != State::Accepted;
    Ticket {
        id: TicketId::new(),
        number: "XL-2026-000001".into(),
        state,
        outcome: (state == State::Archived).then_some(Outcome::Resolved),
        channel: Channel::Hotline,
        category: Category::Complaint,
        urgency: Urgency::Normal,
        enterprise: Enterprise {
            name: "黄石市某机械有限公司".into(),
            credit_code: CreditCode::from_stored("91350100M000100Y43".into()),
        },
        contact: Contact {
            name: "张三".into(),
            phone: Phone::from_stored("13800138000".into()),
        },
        subject: "施工许可审批超时".into(),
        description: "已提交材料二十个工作日未获答复".into(),
        lead_department: has_lead.then(|| code("shijian")),
        co_departments: if has_lead { vec![code("sifa")] } else { vec![] },
        pending_extension: None,
        merged_into: None,
        duplicate_of: None,
        reopen_count: 0,
        version: 3,
        created_by: "op1".into(),
        created_at: at(9),
        updated_at: at(9),
        due_at: None,
        escalation_level: 0,
        first_department: None,
        replied_at: None,
        replied_by: None,
    }
}

/// The default policy of config/default.toml and a calendar of plain weeks.
pub(crate) fn policy_and_calendar() -> &'static (Policy, Calendar) {
    static BOTH: std::sync::OnceLock<(Policy, Calendar)> = std::sync::OnceLock::new();
    BOTH.get_or_init(|| {
        let config = crate::config::Config::load(None, vec![]).unwrap();
        let calendar = Calendar::new(
            chrono_tz::Asia::Shanghai,
            config.business_hours(),
            crate::domain::calendar::DayOffRoll::Holidays,
            Default::default(),
        );
        (config.policy().unwrap(), calendar)
    })
}

/// `apply` with no running timers, the default policy and a plain calendar.
fn apply_at(
    ticket: &Ticket,
    request: &Request,
    actor: &Actor,
    now: NaiveDateTime,
    known: &Known,
) -> Result<Effects, DomainError> {
    let (policy, calendar) = policy_and_calendar();
    let ctx = Context {
        now,
        known,
        policy,
        calendar,
        timers: &[],
    };
    apply(ticket, request, actor, &ctx)
}

fn create_at(
    new: NewTicket,
    id: TicketId,
    number: String,
    actor: &Actor,
    now: NaiveDateTime,
) -> Effects {
    let (policy, calendar) = policy_and_calendar();
    let known = Known::default();
    let ctx = Context {
        now,
        known: &known,
        policy,
        calendar,
        timers: &[],
    };
    create(new, id, number, actor, &ctx)
}

fn code(text: &str) -> DepartmentCode {
    DepartmentCode::parse(text).expect("a department code")
}

fn actor(party: &str) -> Actor {
    match party {
        "operator" => Actor::user("op1", Role::Operator, None),
        "supervisor" => Actor::user("sup1", Role::Supervisor, None),
        "admin" => Actor::user("admin1", Role::Admin, None),
        "lead" => Actor::user("sj1", Role::Department, Some(&code("shijian"))),
        "co" => Actor::user("sf1", Role::Department, Some(&code("sifa"))),
        "other" => Actor::user("rs1", Role::Department, Some(&code("renshe"))),
        "system" => Actor::System,
        _ => unreachable!("{party}"),
    }
}

fn valid_payload(action: ActionKind, merge_target: TicketId) -> Value {
    match action {
        ActionKind::Dispatch | ActionKind::Assign => {
            json!({"department": "jianshe", "co_departments": ["sifa"]})
        }
        ActionKind::Return | ActionKind::Coordinate | ActionKind::Reject | ActionKind::Withdraw => {
            json!({"reason": "不属于本单位职责"})
        }
        ActionKind::Sign | ActionKind::Archive => json!({}),
        ActionKind::InterimReply | ActionKind::Reply | ActionKind::Comment => {
            json!({"content": "已联系企业"})
        }
        ActionKind::RequestExtension => json!({"working_days": 5, "reason": "需现场核查"}),
        ActionKind::DecideExtension => json!({"approve": true, "note": "同意"}),
        ActionKind::Supervise => json!({"note": "请加快办理"}),
        ActionKind::Feedback => json!({"satisfaction": "satisfied"}),
        ActionKind::Merge => json!({"into": merge_target.to_string()}),
        ActionKind::Answer => json!({"content": "已按政策当场答复", "articles": [ARTICLE]}),
    }
}

fn known(merge_target: TicketId) -> Known {
    Known {
        departments: ["shijian", "sifa", "jianshe", "renshe"].map(code).into(),
        tickets: [(merge_target, State::Handling)].into(),
        articles: [(ARTICLE.to_string(), "小微企业增值税留抵退税".to_string())].into(),
    }
}

#[derive(Debug, PartialEq)]
enum Cell {
    To(State),
    Forbidden,
    Conflict,
}

/// What the table says one cell should be.
fn expected(action: &str, state: State, party: &str, lead_exists: bool) -> Cell {
    let row = TABLE
        .lines()
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
        .find(|cols| cols[0] == action)
        .unwrap_or_else(|| panic!("{action} missing from TABLE"));
    let who: Vec<&str> = row[3].split_whitespace().collect();
    // With no lead department yet, a department user is just some department.
    let party = if !lead_exists && (party == "lead" || party == "co") {
        "other"
    } else {
        party
    };
    if !who.contains(&party) {
        return Cell::Forbidden;
    }
    if !row[1].split_whitespace().any(|s| s == state.as_str()) {
        return Cell::Conflict;
    }
    // The lead department answers the enterprise only once the case is theirs.
    if action == "interim_reply" && party == "lead" && state == State::Dispatched {
        return Cell::Conflict;
    }
    match row[2] {
        "=" => Cell::To(state),
        to => Cell::To(to.parse().unwrap()),
    }
}

#[test]
fn every_cell_of_the_table() {
    let mut cells = 0;
    for &state in State::ALL {
        for &action in ActionKind::ALL {
            for party in PARTIES {
                let mut ticket = ticket_in(state);
                if action == ActionKind::DecideExtension {
                    ticket.pending_extension = Some(ExtensionRequest {
                        working_days: 3,
                        reason: "核查".into(),
                        requested_by: code("shijian"),
                        requested_at: at(10),
                    });
                }
                let target = TicketId::new();
                let payload = valid_payload(action, target);
                let request = Request {
                    action,
                    payload: &payload,
                    if_match: None,
                };
                let got = match apply_at(&ticket, &request, &actor(party), at(11), &known(target)) {
                    Ok(effects) => {
                        assert_eq!(effects.ticket.version, ticket.version + 1);
                        assert_eq!(effects.event.from_state, Some(state));
                        assert_eq!(effects.event.to_state, effects.ticket.state);
                        assert_eq!(effects.event.action, action.as_str());
                        Cell::To(effects.ticket.state)
                    }
                    Err(DomainError::Forbidden(_)) => Cell::Forbidden,
                    Err(DomainError::Conflict(_)) => Cell::Conflict,
                    Err(other) => panic!("{state} × {action} × {party}: unexpected {other:?}"),
                };
                let want = expected(
                    action.as_str(),
                    state,
                    party,
                    ticket.lead_department.is_some(),
                );
                assert_eq!(got, want, "{state} × {action} × {party}");
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 8 * 17 * 7);
}

fn run(
    ticket: &Ticket,
    action: ActionKind,
    payload: Value,
    party: &str,
) -> Result<Effects, DomainError> {
    let target = TicketId::new();
    let request = Request {
        action,
        payload: &payload,
        if_match: None,
    };
    apply_at(ticket, &request, &actor(party), at(11), &known(target))
}

#[test]
fn archiving_actions_set_the_outcome() {
    let cases = [
        (State::Feedback, ActionKind::Archive, Outcome::Resolved),
        (State::Accepted, ActionKind::Reject, Outcome::Rejected),
        (State::Handling, ActionKind::Withdraw, Outcome::Withdrawn),
    ];
    for (state, action, outcome) in cases {
        let payload = valid_payload(action, TicketId::new());
        let e = run(&ticket_in(state), action, payload, "operator").unwrap();
        assert_eq!(
            (e.ticket.state, e.ticket.outcome),
            (State::Archived, Some(outcome))
        );
    }
    let target = TicketId::new();
    let payload = valid_payload(ActionKind::Merge, target);
    let request = Request {
        action: ActionKind::Merge,
        payload: &payload,
        if_match: None,
    };
    let e = apply_at(
        &ticket_in(State::Accepted),
        &request,
        &actor("operator"),
        at(11),
        &known(target),
    )
    .unwrap();
    assert_eq!(e.ticket.outcome, Some(Outcome::Merged));
    assert_eq!(e.ticket.merged_into, Some(target));
}

#[test]
fn dissatisfied_feedback_reopens() {
    let e = run(
        &ticket_in(State::Replied),
        ActionKind::Feedback,
        json!({"satisfaction": "dissatisfied", "comment": "问题没有解决"}),
        "operator",
    )
    .unwrap();
    assert_eq!(e.ticket.state, State::Handling);
    assert_eq!(e.ticket.reopen_count, 1);
    assert_eq!(e.event.payload["satisfaction"], "dissatisfied");
    let basically = run(
        &ticket_in(State::Replied),
        ActionKind::Feedback,
        json!({"satisfaction": "basically_satisfied"}),
        "operator",
    )
    .unwrap();
    assert_eq!(
        (basically.ticket.state, basically.ticket.reopen_count),
        (State::Feedback, 0)
    );
}

#[test]
fn return_and_assign_move_the_case_between_departments() {
    let returned = run(
        &ticket_in(State::Dispatched),
        ActionKind::Return,
        json!({"reason": "非本单位职责"}),
        "lead",
    )
    .unwrap();
    assert_eq!(returned.ticket.lead_department, None);
    assert!(returned.ticket.co_departments.is_empty());

    let assigned = run(
        &ticket_in(State::Coordinating),
        ActionKind::Assign,
        json!({"department": "jianshe"}),
        "supervisor",
    )
    .unwrap();
    assert_eq!(assigned.ticket.lead_department.as_deref(), Some("jianshe"));
    assert!(assigned.ticket.co_departments.is_empty());
    assert!(!assigned.ticket.involves("shijian"));
}

#[test]
fn one_extension_request_at_a_time() {
    let asked = run(
        &ticket_in(State::Handling),
        ActionKind::RequestExtension,
        json!({"working_days": 5, "reason": "需现场核查"}),
        "lead",
    )
    .unwrap();
    let pending = asked.ticket.pending_extension.clone().unwrap();
    assert_eq!(
        (pending.working_days, pending.requested_by.as_str()),
        (5, "shijian")
    );

    let again = run(
        &asked.ticket,
        ActionKind::RequestExtension,
        json!({"working_days": 2, "reason": "再延"}),
        "lead",
    );
    assert!(matches!(again, Err(DomainError::Conflict(_))));

    let decided = run(
        &asked.ticket,
        ActionKind::DecideExtension,
        json!({"approve": false}),
        "supervisor",
    )
    .unwrap();
    assert_eq!(decided.ticket.pending_extension, None);
    assert_eq!(decided.event.payload["working_days"], 5);
    assert_eq!(decided.event.payload["approve"], false);

    let nothing_to_decide = run(
        &decided.ticket,
        ActionKind::DecideExtension,
        json!({"approve": true}),
        "supervisor",
    );
    assert!(matches!(nothing_to_decide, Err(DomainError::Conflict(_))));
}

#[test]
fn a_pending_request_lapses_when_the_case_leaves_handling() {
    let mut ticket = ticket_in(State::Handling);
    ticket.pending_extension = Some(ExtensionRequest {
        working_days: 3,
        reason: "核查".into(),
        requested_by: code("shijian"),
        requested_at: at(10),
    });
    let replied = run(
        &ticket,
        ActionKind::Reply,
        json!({"content": "已办结"}),
        "lead",
    )
    .unwrap();
    assert_eq!(replied.ticket.pending_extension, None);
    let supervised = run(
        &ticket,
        ActionKind::Supervise,
        json!({"note": "督办"}),
        "supervisor",
    )
    .unwrap();
    assert!(supervised.ticket.pending_extension.is_some());
}

#[test]
fn checks_come_in_the_contract_order() {
    let ticket = ticket_in(State::Accepted);
    let stale_and_wrong = |party: &str, payload: Value, action: ActionKind| {
        let request = Request {
            action,
            payload: &payload,
            if_match: Some(1),
        };
        apply_at(&ticket, &request, &actor(party), at(11), &Known::default())
    };
    // 403 before 412: a department may never sign an unassigned case, whatever version it saw.
    assert!(matches!(
        stale_and_wrong("lead", json!({}), ActionKind::Sign),
        Err(DomainError::Forbidden(_))
    ));
    // 412 before 409: an operator may archive, but saw an old version of a case not yet archivable.
    assert_eq!(
        stale_and_wrong("operator", json!({}), ActionKind::Archive),
        Err(DomainError::Stale {
            expected: 1,
            current: 3
        })
    );
    // 409 before 422: a bad payload for an action the state does not allow.
    let r = run(&ticket, ActionKind::Archive, json!({"oops": 1}), "operator");
    assert!(matches!(r, Err(DomainError::Conflict(_))));
    // 422 with the field named.
    let r = run(
        &ticket,
        ActionKind::Dispatch,
        json!({"department": "nowhere", "co_departments": ["sifa", "sifa"]}),
        "operator",
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("{r:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["department", "co_departments[1]"]);
}

#[test]
fn payload_errors_name_the_field() {
    let handling = ticket_in(State::Handling);
    let cases = [
        (ActionKind::Reply, json!({}), "content"),
        (ActionKind::Reply, json!({"content": "   "}), "content"),
        (ActionKind::Reply, json!({"content": 5}), "content"),
        (
            ActionKind::Reply,
            json!({"content": "x", "extra": true}),
            "extra",
        ),
        (
            ActionKind::RequestExtension,
            json!({"working_days": 0, "reason": "r"}),
            "working_days",
        ),
        (
            ActionKind::RequestExtension,
            json!({"working_days": "3", "reason": "r"}),
            "working_days",
        ),
        (
            ActionKind::RequestExtension,
            json!({"working_days": 3}),
            "reason",
        ),
        (ActionKind::Coordinate, json!([]), "body"),
    ];
    for (action, payload, field) in cases {
        let r = run(&handling, action, payload.clone(), "lead");
        let Err(DomainError::Invalid(errors)) = &r else {
            panic!("{action} {payload}: {r:?}")
        };
        assert_eq!(errors[0].field, field, "{action} {payload}: {errors:?}");
    }
    let r = run(
        &ticket_in(State::Replied),
        ActionKind::Feedback,
        json!({"satisfaction": "happy"}),
        "operator",
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!()
    };
    assert_eq!(errors[0].field, "satisfaction");
    assert!(
        errors[0].message.contains("basically_satisfied"),
        "{}",
        errors[0].message
    );
}

#[test]
fn supervise_due_must_be_a_future_time() {
    let handling = ticket_in(State::Handling);
    for (due, ok) in [
        ("2026-03-05T17:30:00+08:00", true),
        ("2026-03-01T17:30:00+08:00", false),
        ("tomorrow", false),
    ] {
        let r = run(
            &handling,
            ActionKind::Supervise,
            json!({"note": "督办", "due": due}),
            "supervisor",
        );
        assert_eq!(r.is_ok(), ok, "{due}: {r:?}");
    }
    let system = run(&handling, ActionKind::Supervise, json!({}), "system").unwrap();
    assert_eq!(system.ticket.state, State::Supervised);
    let person = run(&handling, ActionKind::Supervise, json!({}), "supervisor");
    assert!(matches!(person, Err(DomainError::Invalid(_))));
}

#[test]
fn merge_target_must_be_another_live_ticket() {
    let ticket = ticket_in(State::Accepted);
    let archived = TicketId::new();
    let known = Known {
        tickets: [(archived, State::Archived)].into(),
        ..Known::default()
    };
    for into in [
        ticket.id.to_string(),
        archived.to_string(),
        TicketId::new().to_string(),
        "XL-1".into(),
    ] {
        let payload = json!({ "into": into });
        let request = Request {
            action: ActionKind::Merge,
            payload: &payload,
            if_match: None,
        };
        let r = apply_at(&ticket, &request, &actor("operator"), at(11), &known);
        assert!(
            matches!(r, Err(DomainError::Invalid(ref e)) if e[0].field == "into"),
            "{into}: {r:?}"
        );
    }
}

#[test]
fn lookups_name_what_the_payload_refers_to() {
    let l = ActionKind::Dispatch.lookups(&json!({"department": "a", "co_departments": ["b", 3]}));
    assert_eq!(l.departments, [code("a"), code("b")]);
    let id = TicketId::new();
    assert_eq!(
        ActionKind::Merge
            .lookups(&json!({"into": id.to_string()}))
            .ticket,
        Some(id)
    );
    assert_eq!(
        ActionKind::Sign.lookups(&json!({"department": "a"})),
        Lookups::default()
    );
}

mod create_tests {
    use super::*;

    pub(super) fn input() -> Value {
        json!({
            "channel": "hotline", "category": "complaint", "urgency": "urgent",
            "enterprise": {"name": "黄石市某机械有限公司", "credit_code": "91350100m000100y43"},
            "contact": {"name": "张三", "phone": "138 0013 8000"},
            "subject": "施工许可审批超时", "description": "已提交材料二十个工作日未获答复"
        })
    }

    #[test]
    fn only_operators_create() {
        for party in ["supervisor", "admin", "lead", "system"] {
            assert!(
                matches!(
                    validate_new(&input(), &actor(party)),
                    Err(DomainError::Forbidden(_))
                ),
                "{party}"
            );
        }
    }

    #[test]
    fn a_valid_complaint_becomes_an_accepted_ticket() {
        let new = validate_new(&input(), &actor("operator")).unwrap();
        let e = create_at(
            new,
            TicketId::new(),
            "XL-2026-000001".into(),
            &actor("operator"),
            at(9),
        );
        assert_eq!((e.ticket.state, e.ticket.version), (State::Accepted, 1));
        assert_eq!(
            e.ticket.enterprise.credit_code.as_str(),
            "91350100M000100Y43"
        );
        assert_eq!(e.ticket.contact.phone.as_str(), "13800138000");
        assert_eq!(
            (e.event.action.as_str(), e.event.from_state),
            ("create", None)
        );
        assert!(e.event.payload.get("contact").is_none());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = json!({
            "channel": "fax", "category": "complaint",
            "enterprise": {"name": "", "credit_code": "91350100M000100Y44"},
            "contact": {"name": "张三", "phone": "12345"},
            "subject": "s"
        });
        let Err(DomainError::Invalid(errors)) = validate_new(&bad, &actor("operator")) else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "channel",
                "enterprise.name",
                "enterprise.credit_code",
                "contact.phone",
                "description"
            ]
        );
    }

    #[test]
    fn wrong_types_and_unknown_fields_name_the_path() {
        let mut wrong = input();
        wrong["enterprise"]["credit_code"] = json!(91350100);
        let Err(DomainError::Invalid(e)) = validate_new(&wrong, &actor("operator")) else {
            panic!()
        };
        assert_eq!(e[0].field, "enterprise.credit_code");
        let mut extra = input();
        extra["contact"]["wechat"] = json!("zs");
        let Err(DomainError::Invalid(e)) = validate_new(&extra, &actor("operator")) else {
            panic!()
        };
        assert_eq!(e[0].field, "contact.wechat");
    }
}

mod sequences {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Step {
        action: ActionKind,
        party: &'static str,
        valid: bool,
        satisfaction: &'static str,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            proptest::sample::select(ActionKind::ALL),
            proptest::sample::select(&PARTIES[..]),
            proptest::bool::weighted(0.9),
            proptest::sample::select(&["satisfied", "basically_satisfied", "dissatisfied"][..]),
        )
            .prop_map(|(action, party, valid, satisfaction)| Step {
                action,
                party,
                valid,
                satisfaction,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random sequences never leave the table, never change an archived ticket, and every
        /// change is exactly one event whose states chain from the previous one.
        #[test]
        fn random_sequences_stay_in_the_table(steps in proptest::collection::vec(step(), 1..60)) {
            let operator = actor("operator");
            let new = validate_new(&create_tests::input(), &operator).unwrap();
            let created = create_at(new, TicketId::new(), "XL-2026-000001".into(), &operator, at(9));
            let mut ticket = created.ticket;
            let mut timeline = vec![created.event];
            let target = TicketId::new();
            for s in steps {
                let mut payload = valid_payload(s.action, target);
                if s.action == ActionKind::Feedback {
                    payload = json!({"satisfaction": s.satisfaction});
                }
                if !s.valid {
                    payload = json!({"unexpected": true});
                }
                let request = Request { action: s.action, payload: &payload, if_match: None };
                // "lead" and "co" are whoever leads and co-handles this ticket now.
                let (party, who) = match (s.party, &ticket.lead_department, ticket.co_departments.first()) {
                    ("lead", Some(lead), _) => ("lead", Actor::user("lead1", Role::Department, Some(lead))),
                    ("co", _, Some(co)) => ("co", Actor::user("co1", Role::Department, Some(co))),
                    ("lead" | "co", _, _) => ("other", actor("other")),
                    (p, _, _) => (p, actor(p)),
                };
                let result = apply_at(&ticket, &request, &who, at(11), &known(target));
                let mut cell = expected(s.action.as_str(), ticket.state, party, true);
                // Extension rules the table leaves to the text: one pending request at a time.
                let pending = ticket.pending_extension.is_some();
                if matches!(cell, Cell::To(_))
                    && ((s.action == ActionKind::RequestExtension && pending)
                        || (s.action == ActionKind::DecideExtension && !pending))
                {
                    cell = Cell::Conflict;
                }
                let before = ticket.clone();
                match (cell, result) {
                    (Cell::To(to), Ok(effects)) => {
                        prop_assert!(s.valid, "{:?} accepted an invalid payload", s);
                        let to = if s.action == ActionKind::Feedback && s.satisfaction == "dissatisfied" { State::Handling } else { to };
                        prop_assert_eq!(effects.ticket.state, to);
                        prop_assert_eq!(effects.event.from_state, Some(before.state));
                        prop_assert_eq!(effects.event.to_state, to);
                        prop_assert_eq!(effects.ticket.version, before.version + 1);
                        ticket = effects.ticket;
                        timeline.push(effects.event);
                    }
                    (Cell::To(_), Err(DomainError::Invalid(_))) => prop_assert!(!s.valid),
                    (Cell::Forbidden, Err(DomainError::Forbidden(_))) | (Cell::Conflict, Err(DomainError::Conflict(_))) => {}
                    (cell, result) => prop_assert!(false, "{:?} in {}: table says {:?}, got {:?}", s, before.state, cell, result),
                }
                if before.state == State::Archived {
                    prop_assert_eq!(&ticket, &before);
                }
                prop_assert_eq!(ticket.version as usize, timeline.len());
                prop_assert_eq!(timeline.last().unwrap().to_state, ticket.state);
            }
        }
    }
}

#[test]
fn an_answer_archives_the_consultation_citing_articles_in_force() {
    let ticket = ticket_in(State::Accepted);
    let target = TicketId::new();
    let answer = |payload: Value| {
        let request = Request {
            action: ActionKind::Answer,
            payload: &payload,
            if_match: None,
        };
        apply_at(
            &ticket,
            &request,
            &actor("operator"),
            at(11),
            &known(target),
        )
    };
    let e = answer(json!({"content": "已当场答复", "articles": [ARTICLE]})).unwrap();
    assert_eq!(e.ticket.state, State::Archived);
    assert_eq!(e.ticket.outcome, Some(Outcome::Answered));
    assert_eq!(
        e.event.payload["articles"][0]["title"],
        "小微企业增值税留抵退税"
    );
    assert!(
        e.notifications.is_empty(),
        "no mail for an answer on the call"
    );
    // Without articles too: the operator may know the answer.
    answer(json!({"content": "已当场答复"})).unwrap();
    let fields = |r: Result<Effects, DomainError>| match r {
        Err(DomainError::Invalid(errors)) => {
            errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
        }
        other => panic!("{:?}", other.map(|e| e.ticket.state)),
    };
    assert_eq!(fields(answer(json!({"articles": [ARTICLE]}))), ["content"]);
    assert_eq!(
        fields(answer(
            json!({"content": "x", "articles": ["nope", ARTICLE, ARTICLE]})
        )),
        ["articles[0]", "articles[2]"]
    );
}
