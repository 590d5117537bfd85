//! The district's figures (DESIGN.md, "Wave 2 contract": KPIs) as counters: what a ticket, a
//! timer and an event each count for, per local day, unit (a department, or the hotline),
//! category and channel. A change adds what its ticket and timers count for now, less what they
//! counted for before, plus what its event counts for (`change`); `from_timeline` counts the same
//! from a ticket's whole history, so the running sums can be held to the timeline. Pure.

use super::calendar::Calendar;
use super::department::DepartmentCode;
use super::lifecycle::event::Event;
use super::sla::TimerKind;
use super::ticket::{Actor, Category, Channel, Outcome, Ticket};
use super::timer::{Timer, TimerOutcome};
use chrono::{Months, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use std::collections::BTreeMap;

name_enum!(
    /// What is counted. Each figure is one of these, or a ratio of two.
    Counter {
        /// Cases logged, by their first lead department (the hotline while undispatched).
        Received = "received",
        /// Cases that count for the 3-month rule: not rejected, withdrawn or merged; by the
        /// department that first replied, else the lead department, on the day they were logged.
        Cases = "cases",
        /// Of those, replied at all, and replied within 3 calendar months.
        Replied = "replied",
        RepliedIn3m = "replied_3m",
        /// `sign` timers ended by sign or return (not cancelled), on their end day; met of them.
        SignEnded = "sign_ended",
        SignMet = "sign_met",
        /// `handle` timers not cancelled, on their (final) due day; those ended (met or late),
        /// and met.
        HandleDue = "handle_due",
        HandleEnded = "handle_ended",
        HandleMet = "handle_met",
        /// The same for `interim_reply` timers.
        InterimDue = "interim_due",
        InterimEnded = "interim_ended",
        InterimMet = "interim_met",
        /// Callbacks (回访) on their day, by the lead department, and how they were rated.
        Feedback = "feedback",
        Satisfied = "satisfied",
        Dissatisfied = "dissatisfied",
        /// `return` by the department that returned; `dispatch` and `assign` to the lead named.
        Returns = "returns",
        Dispatched = "dispatched",
        Supervised = "supervised",
        SupervisedAutomatic = "supervised_automatic",
        /// Extension requests on their day; their decisions counted on the request's day.
        Extensions = "extensions",
        ExtensionsApproved = "extensions_approved",
        ExtensionsDenied = "extensions_denied",
        /// First replies after a sign, and the working minutes from that sign to the reply.
        Handled = "handled",
        HandlingMinutes = "handling_minutes",
        /// Cases archived by `answer` (直办), by their first lead department (the hotline), on
        /// the day they were logged: the numerator of 直办率 over `received`.
        Answered = "answered",
    }
);

pub const COUNTERS: usize = Counter::ALL.len();

/// A value of every counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally(pub [i64; COUNTERS]);

impl Tally {
    pub fn get(&self, c: Counter) -> i64 {
        self.0[c as usize]
    }

    pub fn add(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }
}

/// Where a count belongs: the local day, the unit (`None`: the hotline), category and channel.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub day: NaiveDate,
    pub unit: Option<DepartmentCode>,
    pub category: Category,
    pub channel: Channel,
}

/// Counts by key; what a change adds (and takes away) is the same shape.
pub type Deltas = BTreeMap<Key, Tally>;

/// Adds counts into `deltas` with a sign (+1 for what is counted now, -1 for what was before).
struct Adder<'a> {
    deltas: &'a mut Deltas,
    sign: i64,
    tz: Tz,
    category: Category,
    channel: Channel,
}

impl<'a> Adder<'a> {
    /// Counts for `ticket`'s category and channel (which never change).
    fn new(deltas: &'a mut Deltas, sign: i64, tz: Tz, ticket: &Ticket) -> Self {
        Adder {
            deltas,
            sign,
            tz,
            category: ticket.category,
            channel: ticket.channel,
        }
    }

    fn count(&mut self, at: NaiveDateTime, unit: Option<&DepartmentCode>, c: Counter, n: i64) {
        if n == 0 {
            return;
        }
        let key = Key {
            day: local_day(at, self.tz),
            unit: unit.cloned(),
            category: self.category,
            channel: self.channel,
        };
        self.deltas.entry(key).or_default().0[c as usize] += self.sign * n;
    }

    /// What a ticket counts for as it stands.
    fn ticket(&mut self, t: &Ticket) {
        self.count(
            t.created_at,
            t.first_department.as_ref(),
            Counter::Received,
            1,
        );
        if t.outcome == Some(Outcome::Answered) {
            self.count(
                t.created_at,
                t.first_department.as_ref(),
                Counter::Answered,
                1,
            );
        }
        let left_out = matches!(
            t.outcome,
            Some(Outcome::Rejected | Outcome::Withdrawn | Outcome::Merged | Outcome::Answered)
        );
        if left_out {
            return;
        }
        let unit = t.replied_by.as_ref().or(t.lead_department.as_ref());
        self.count(t.created_at, unit, Counter::Cases, 1);
        if let Some(at) = t.replied_at {
            self.count(t.created_at, unit, Counter::Replied, 1);
            if within_3_months(t.created_at, at, self.tz) {
                self.count(t.created_at, unit, Counter::RepliedIn3m, 1);
            }
        }
    }

    /// What a timer counts for as it stands.
    fn timer(&mut self, t: &Timer) {
        let met = (t.outcome == Some(TimerOutcome::Met)) as i64;
        let unit = t.department.as_ref();
        match t.kind {
            TimerKind::Sign => {
                if let (Some(ended), Some(TimerOutcome::Met | TimerOutcome::Late)) =
                    (t.ended_at, t.outcome)
                {
                    self.count(ended, unit, Counter::SignEnded, 1);
                    self.count(ended, unit, Counter::SignMet, met);
                }
            }
            TimerKind::Handle | TimerKind::InterimReply => {
                if t.outcome != Some(TimerOutcome::Cancelled) {
                    let [due, ended, done] = if t.kind == TimerKind::Handle {
                        [Counter::HandleDue, Counter::HandleEnded, Counter::HandleMet]
                    } else {
                        [
                            Counter::InterimDue,
                            Counter::InterimEnded,
                            Counter::InterimMet,
                        ]
                    };
                    self.count(t.due_at, unit, due, 1);
                    self.count(t.due_at, unit, ended, t.ended_at.is_some() as i64);
                    self.count(t.due_at, unit, done, met);
                }
            }
            TimerKind::Dispatch | TimerKind::Feedback | TimerKind::Supervision => {}
        }
    }

    /// What an event counts for, in the circumstances it happened in.
    fn event(&mut self, e: &Event, around: &Around, calendar: &Calendar) {
        let (before, after) = (around.lead_before.as_ref(), around.lead_after.as_ref());
        match e.action.as_str() {
            "dispatch" | "assign" => self.count(e.at, after, Counter::Dispatched, 1),
            "return" => self.count(e.at, before, Counter::Returns, 1),
            "feedback" => {
                self.count(e.at, before, Counter::Feedback, 1);
                let rated = match e.payload["satisfaction"].as_str() {
                    Some("satisfied" | "basically_satisfied") => Some(Counter::Satisfied),
                    Some("dissatisfied") => Some(Counter::Dissatisfied),
                    _ => None,
                };
                if let Some(c) = rated {
                    self.count(e.at, before, c, 1);
                }
            }
            "supervise" => {
                self.count(e.at, before, Counter::Supervised, 1);
                if e.actor == Actor::System {
                    self.count(e.at, before, Counter::SupervisedAutomatic, 1);
                }
            }
            "request_extension" => self.count(e.at, before, Counter::Extensions, 1),
            "decide_extension" => {
                if let Some((asked, by)) = &around.request {
                    let c = if e.payload["approve"] == true {
                        Counter::ExtensionsApproved
                    } else {
                        Counter::ExtensionsDenied
                    };
                    self.count(*asked, Some(by), c, 1);
                }
            }
            "reply" if around.first_reply => {
                if let Some(signed) = around.signed_at {
                    self.count(e.at, before, Counter::Handled, 1);
                    let minutes = calendar.working_minutes(signed, e.at.max(signed));
                    self.count(e.at, before, Counter::HandlingMinutes, minutes);
                }
            }
            _ => {}
        }
    }
}

/// What an event is counted with besides itself: the case's lead department before and after
/// it, whether it is the first reply and since when the case was being handled, and the
/// extension request a decision answers (when and by whom it was asked).
pub struct Around {
    pub lead_before: Option<DepartmentCode>,
    pub lead_after: Option<DepartmentCode>,
    pub first_reply: bool,
    pub signed_at: Option<NaiveDateTime>,
    pub request: Option<(NaiveDateTime, DepartmentCode)>,
}

/// The local day of a UTC time.
pub fn local_day(at: NaiveDateTime, tz: Tz) -> NaiveDate {
    at.and_utc().with_timezone(&tz).date_naive()
}

/// Whether `replied` came within 3 calendar months of `created` (local time; a day missing
/// from the third month, say 31 May → 31 August is fine but 30 November → 28 February, is
/// its month's last).
pub fn within_3_months(created: NaiveDateTime, replied: NaiveDateTime, tz: Tz) -> bool {
    let local = |t: NaiveDateTime| t.and_utc().with_timezone(&tz).naive_local();
    match local(created).checked_add_months(Months::new(3)) {
        Some(limit) => local(replied) <= limit,
        None => true,
    }
}

/// The first day whose cases are not yet all 3 months old at the start of `today`: a case of an
/// earlier day is either replied or overdue for the 3-month rule.
pub fn three_months_cutoff(today: NaiveDate) -> NaiveDate {
    // d + 3 months < today ⇔ d < cutoff; months differ in length, so look around today − 3 months.
    let mut day = today
        .checked_sub_months(Months::new(3))
        .unwrap_or(NaiveDate::MIN)
        - chrono::Duration::days(4);
    while day
        .checked_add_months(Months::new(3))
        .is_some_and(|d| d < today)
    {
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    day
}

/// What a decided change adds to the counts: the ticket and the timers it touched as they are
/// after it, less as they were before, and its event.
pub fn change(
    before: Option<&Ticket>,
    after: &Ticket,
    event: &Event,
    started: &[Timer],
    changed: &[Timer],
    before_timers: &[Timer],
    calendar: &Calendar,
) -> Deltas {
    let tz = calendar.timezone();
    let mut deltas = Deltas::new();
    if let Some(before) = before {
        Adder::new(&mut deltas, -1, tz, after).ticket(before);
    }
    Adder::new(&mut deltas, 1, tz, after).ticket(after);
    for t in changed {
        if let Some(old) = before_timers.iter().find(|o| o.id == t.id) {
            Adder::new(&mut deltas, -1, tz, after).timer(old);
        }
        Adder::new(&mut deltas, 1, tz, after).timer(t);
    }
    for t in started {
        Adder::new(&mut deltas, 1, tz, after).timer(t);
    }
    let around = Around {
        lead_before: before.and_then(|b| b.lead_department.clone()),
        lead_after: after.lead_department.clone(),
        first_reply: before.is_some_and(|b| b.replied_at.is_none()) && after.replied_at.is_some(),
        signed_at: before_timers
            .iter()
            .find(|t| t.kind == TimerKind::Handle && t.is_running())
            .map(|t| t.started_at),
        request: before
            .and_then(|b| b.pending_extension.as_ref())
            .map(|p| (p.requested_at, p.requested_by.clone())),
    };
    Adder::new(&mut deltas, 1, tz, after).event(event, &around, calendar);
    deltas.retain(|_, t| !t.is_zero());
    deltas
}

/// A timer moved without an event (its deadline counted again on a new calendar): what it
/// counts for now, less what it did.
pub fn moved(ticket: &Ticket, before: &Timer, after: &Timer, tz: Tz) -> Deltas {
    let mut deltas = Deltas::new();
    for (sign, t) in [(-1, before), (1, after)] {
        Adder::new(&mut deltas, sign, tz, ticket).timer(t);
    }
    deltas.retain(|_, t| !t.is_zero());
    deltas
}

/// What a ticket's history says that the running sums keep on the ticket and its timers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derived {
    pub first_department: Option<DepartmentCode>,
    pub replied_at: Option<NaiveDateTime>,
    pub replied_by: Option<DepartmentCode>,
    /// Each timer's owner, by timer id.
    pub owners: BTreeMap<uuid::Uuid, Option<DepartmentCode>>,
}

/// Everything a ticket counts for, from its timeline alone: its events in order replayed for
/// the lead department at each moment, its timers' times and outcomes, and of the ticket only
/// what never changes (category, channel, when it was logged) and how it ended.
pub fn from_timeline(
    ticket: &Ticket,
    events: &[Event],
    timers: &[Timer],
    calendar: &Calendar,
) -> (Deltas, Derived) {
    let mut deltas = Deltas::new();
    let mut derived = Derived::default();
    let mut lead: Option<DepartmentCode> = None;
    // The lead department from each moment on, to find a timer's owner.
    let mut leads: Vec<(NaiveDateTime, Option<DepartmentCode>)> = vec![(ticket.created_at, None)];
    let mut signed_at = None;
    let mut request = None;
    let mut adder = Adder::new(&mut deltas, 1, calendar.timezone(), ticket);
    for e in events {
        let before = lead.clone();
        let mut first_reply = false;
        match e.action.as_str() {
            "dispatch" | "assign" => {
                lead = e.payload["department"]
                    .as_str()
                    .map(|d| DepartmentCode::from_stored(d.to_string()));
                if derived.first_department.is_none() {
                    derived.first_department = lead.clone();
                }
            }
            "return" => lead = None,
            "reply" if derived.replied_at.is_none() => {
                first_reply = true;
                derived.replied_at = Some(e.at);
                derived.replied_by = lead.clone();
            }
            _ => {}
        }
        let around = Around {
            lead_before: before,
            lead_after: lead.clone(),
            first_reply,
            signed_at,
            request: request.clone(),
        };
        adder.event(e, &around, calendar);
        match e.action.as_str() {
            "sign" => signed_at = Some(e.at),
            "request_extension" => request = lead.clone().map(|d| (e.at, d)),
            "decide_extension" => request = None,
            _ => {}
        }
        leads.push((e.at, lead.clone()));
    }
    let lead_at = |at: NaiveDateTime| {
        leads
            .iter()
            .rev()
            .find(|(from, _)| *from <= at)
            .and_then(|(_, l)| l.clone())
    };
    for t in timers {
        // The lead department a stage was started under, or for the interim reply, the one
        // answering for it when it ended (or now).
        let lead = match t.kind {
            TimerKind::InterimReply => t.ended_at.map_or_else(|| lead.clone(), lead_at),
            _ => lead_at(t.started_at),
        };
        let mut t = t.clone();
        t.department = t.kind.owner(lead.as_ref());
        derived.owners.insert(t.id, t.department.clone());
        adder.timer(&t);
    }
    let mut now = ticket.clone();
    now.first_department = derived.first_department.clone();
    now.replied_at = derived.replied_at;
    now.replied_by = derived.replied_by.clone();
    now.lead_department = lead;
    adder.ticket(&now);
    deltas.retain(|_, t| !t.is_zero());
    (deltas, derived)
}

/// Adds `more` into `into`, dropping keys that come to nothing.
pub fn merge(into: &mut Deltas, more: &Deltas) {
    for (k, t) in more {
        let sum = into.entry(k.clone()).or_default();
        sum.add(t);
        if sum.is_zero() {
            into.remove(k);
        }
    }
}
