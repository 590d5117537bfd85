//! Timers: one per running stage of a ticket, with its deadline, its warning, the escalation level
//! it has reached and, once ended, how it ended. They live in the database; this is their logic.

use super::calendar::Calendar;
use super::department::DepartmentCode;
use super::duration::Duration;
use super::sla::TimerKind;
use chrono::NaiveDateTime;
use uuid::Uuid;

name_enum!(
    /// How a timer ended: its stage done in time, done late, or made moot.
    TimerOutcome {
        Met = "met",
        Late = "late",
        Cancelled = "cancelled",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: Uuid,
    pub kind: TimerKind,
    pub started_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    /// When to warn (临期预警): `warn_before` ahead of the deadline, never before the start.
    pub warn_at: NaiveDateTime,
    pub warned_at: Option<NaiveDateTime>,
    /// 0 until the deadline passes; then 1, 2, … up the escalation ladder.
    pub level: i32,
    /// The next moment the scheduler must look at this timer; `None` once nothing is left to fire.
    pub next_fire_at: Option<NaiveDateTime>,
    pub last_fired_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub outcome: Option<TimerOutcome>,
    /// The policy duration it was started with; `None` when a person fixed the deadline.
    pub duration: Option<Duration>,
    /// Working days added by approved extensions.
    pub extended_days: u32,
    /// The deadline was counted past the last year the calendar knows.
    pub beyond_calendar: bool,
    /// Who answers for the stage (`TimerKind::owner`): a department, or the hotline (`None`).
    pub department: Option<DepartmentCode>,
}

/// What a timer needs to know of the policy and calendar to plan its warning and ladder.
pub struct Plan<'a> {
    pub calendar: &'a Calendar,
    pub warn_before: Duration,
    pub steps: &'a [Duration],
}

impl Timer {
    /// A timer of `kind` from `now`: for `duration`, or until `fixed_due` when a person set one.
    pub fn start(
        kind: TimerKind,
        now: NaiveDateTime,
        duration: Duration,
        fixed_due: Option<NaiveDateTime>,
        plan: &Plan,
    ) -> Timer {
        let mut timer = Timer {
            id: Uuid::now_v7(),
            kind,
            started_at: now,
            due_at: now,
            warn_at: now,
            warned_at: None,
            level: 0,
            next_fire_at: None,
            last_fired_at: None,
            ended_at: None,
            outcome: None,
            duration: fixed_due.is_none().then_some(duration),
            extended_days: 0,
            beyond_calendar: false,
            department: None,
        };
        match fixed_due {
            Some(due) => timer.due_at = due,
            None => timer.recount(plan),
        }
        timer.plan(plan);
        timer
    }

    /// Counts the deadline again from the start (after an extension or a new calendar year).
    pub fn recount(&mut self, plan: &Plan) {
        if let Some(duration) = self.duration {
            let mut due = plan.calendar.due(self.started_at, duration);
            if self.extended_days > 0 {
                let extended = plan
                    .calendar
                    .due(due.at, Duration::WorkingDays(self.extended_days));
                due = super::calendar::Due {
                    at: extended.at,
                    beyond_calendar: due.beyond_calendar || extended.beyond_calendar,
                };
            }
            self.due_at = due.at;
            self.beyond_calendar = due.beyond_calendar;
        }
        self.plan(plan);
    }

    /// Moves the deadline by approved working days, from the deadline as it stands. A deadline
    /// moved past `now` climbs its ladder afresh, even if it had fired; a warning whose moment has
    /// already passed is not sent late.
    pub fn extend(&mut self, working_days: u32, now: NaiveDateTime, plan: &Plan) {
        self.extended_days += working_days;
        if self.duration.is_some() {
            self.recount(plan);
        } else {
            let due = plan
                .calendar
                .due(self.due_at, Duration::WorkingDays(working_days));
            self.due_at = due.at;
            self.beyond_calendar |= due.beyond_calendar;
            self.plan(plan);
        }
        if self.due_at > now {
            self.level = 0;
            self.warned_at = (self.warn_at <= now).then_some(now);
            self.next_fire_at = self.next_step(plan);
        }
    }

    /// Sets `warn_at` and `next_fire_at` from the deadline, the level reached and the ladder.
    fn plan(&mut self, plan: &Plan) {
        self.warn_at = plan
            .calendar
            .before(self.due_at, plan.warn_before)
            .max(self.started_at);
        self.next_fire_at = self.next_step(plan);
    }

    /// When escalation level `level` (1-based) fires.
    pub fn level_at(&self, level: usize, plan: &Plan) -> Option<NaiveDateTime> {
        let step = *plan.steps.get(level.checked_sub(1)?)?;
        Some(plan.calendar.due(self.due_at, step).at)
    }

    /// The last moment the timer can fire: the top of its ladder, or its deadline when the
    /// ladder is empty.
    pub fn last_step(&self, plan: &Plan) -> NaiveDateTime {
        self.level_at(plan.steps.len(), plan)
            .unwrap_or(self.due_at)
            .max(self.due_at)
    }

    fn next_step(&self, plan: &Plan) -> Option<NaiveDateTime> {
        if self.ended_at.is_some() {
            return None;
        }
        let next_level = self.level_at(self.level as usize + 1, plan);
        if self.level == 0
            && self.warned_at.is_none()
            && next_level.is_some_and(|at| self.warn_at < at)
        {
            return Some(self.warn_at);
        }
        next_level
    }

    pub fn is_running(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Ends the timer now: met or late by its deadline, unless it was made moot.
    pub fn end(&mut self, now: NaiveDateTime, cancelled: bool) {
        self.ended_at = Some(now);
        self.next_fire_at = None;
        self.outcome = Some(if cancelled {
            TimerOutcome::Cancelled
        } else if now <= self.due_at {
            TimerOutcome::Met
        } else {
            TimerOutcome::Late
        });
    }

    /// What is due at `now`: a warning, or the next level of the ladder.
    pub fn due_step(&self, now: NaiveDateTime, plan: &Plan) -> Option<Step> {
        let at = self.next_fire_at.filter(|&at| at <= now)?;
        let next_level = self.level_at(self.level as usize + 1, plan);
        if self.level == 0 && self.warned_at.is_none() && next_level.is_none_or(|l| at < l) {
            Some(Step::Warn { at })
        } else {
            Some(Step::Escalate {
                level: self.level + 1,
                at,
            })
        }
    }

    /// Records that `step` fired at `now`, and plans the next one.
    pub fn fired(&mut self, step: Step, now: NaiveDateTime, plan: &Plan) {
        match step {
            Step::Warn { .. } => self.warned_at = Some(now),
            Step::Escalate { level, .. } => self.level = level,
        }
        self.last_fired_at = Some(now);
        self.next_fire_at = self.next_step(plan);
    }
}

/// One firing of a timer: a warning ahead of the deadline, or a level of the ladder after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Warn { at: NaiveDateTime },
    Escalate { level: i32, at: NaiveDateTime },
}

impl Step {
    /// When it was meant to fire: the firing's lag is measured from here.
    pub fn scheduled_at(self) -> NaiveDateTime {
        match self {
            Step::Warn { at } | Step::Escalate { at, .. } => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DayOffRoll;
    use chrono::NaiveTime;

    fn calendar() -> Calendar {
        let hours = vec![
            (
                NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            ),
            (
                NaiveTime::from_hms_opt(14, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 30, 0).unwrap(),
            ),
        ];
        Calendar::new(
            chrono_tz::UTC,
            hours,
            DayOffRoll::Holidays,
            Default::default(),
        )
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// Warn a working day ahead; the ladder at the deadline, one and three working days after.
    fn plan() -> Plan<'static> {
        static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        static STEPS: std::sync::OnceLock<Vec<Duration>> = std::sync::OnceLock::new();
        Plan {
            calendar: CALENDAR.get_or_init(calendar),
            warn_before: Duration::WorkingDays(1),
            steps: STEPS.get_or_init(|| {
                ["0s", "1wd", "3wd"]
                    .iter()
                    .map(|s| s.parse().unwrap())
                    .collect()
            }),
        }
    }

    #[test]
    fn warns_then_climbs_the_ladder_and_stops_at_its_top() {
        let plan = plan();
        // Mon 2026-03-02 10:00 + 3wd → Thu 03-05 17:30; warning Wed 03-04 17:30.
        let mut t = Timer::start(
            TimerKind::Handle,
            at("2026-03-02 10:00"),
            Duration::WorkingDays(3),
            None,
            &plan,
        );
        assert_eq!(
            (t.due_at, t.warn_at),
            (at("2026-03-05 17:30"), at("2026-03-04 17:30"))
        );
        assert_eq!(t.next_fire_at, Some(t.warn_at));
        assert_eq!(t.due_step(at("2026-03-04 17:00"), &plan), None);

        let mut fired = vec![];
        let mut now = at("2026-03-04 17:30");
        // Walk the clock well past the ladder; every step fires once, in order.
        while now < at("2026-03-20 00:00") {
            while let Some(step) = t.due_step(now, &plan) {
                t.fired(step, now, &plan);
                fired.push(step);
            }
            now += chrono::Duration::minutes(30);
        }
        assert_eq!(
            fired,
            [
                Step::Warn {
                    at: at("2026-03-04 17:30")
                },
                Step::Escalate {
                    level: 1,
                    at: at("2026-03-05 17:30")
                },
                Step::Escalate {
                    level: 2,
                    at: at("2026-03-06 17:30")
                },
                Step::Escalate {
                    level: 3,
                    at: at("2026-03-10 17:30")
                },
            ]
        );
        assert_eq!(t.next_fire_at, None);
    }

    #[test]
    fn after_downtime_the_whole_backlog_fires() {
        let plan = plan();
        let mut t = Timer::start(
            TimerKind::Sign,
            at("2026-03-02 10:00"),
            Duration::WorkingDays(1),
            None,
            &plan,
        );
        let now = at("2026-04-01 09:00");
        let mut levels = vec![];
        while let Some(step) = t.due_step(now, &plan) {
            t.fired(step, now, &plan);
            levels.push(step);
        }
        assert!(matches!(levels[0], Step::Warn { .. }));
        assert_eq!(t.level, 3);
        assert_eq!(levels.len(), 4);
    }

    #[test]
    fn a_warning_is_never_before_the_start_and_ends_are_judged_by_the_deadline() {
        let plan = plan();
        let mut t = Timer::start(
            TimerKind::Sign,
            at("2026-03-02 10:00"),
            Duration::Hours(2),
            None,
            &plan,
        );
        assert_eq!(t.warn_at, t.started_at);
        t.end(at("2026-03-02 11:59"), false);
        assert_eq!((t.outcome, t.next_fire_at), (Some(TimerOutcome::Met), None));
        let mut late = Timer::start(
            TimerKind::Sign,
            at("2026-03-02 10:00"),
            Duration::Hours(2),
            None,
            &plan,
        );
        late.end(at("2026-03-02 12:01"), false);
        assert_eq!(late.outcome, Some(TimerOutcome::Late));
        let mut moot = Timer::start(
            TimerKind::Sign,
            at("2026-03-02 10:00"),
            Duration::Hours(2),
            None,
            &plan,
        );
        moot.end(at("2026-03-02 12:01"), true);
        assert_eq!(moot.outcome, Some(TimerOutcome::Cancelled));
    }

    #[test]
    fn an_extension_moves_the_deadline_by_working_days() {
        let plan = plan();
        let mut t = Timer::start(
            TimerKind::Handle,
            at("2026-03-02 10:00"),
            Duration::WorkingDays(3),
            None,
            &plan,
        );
        t.extend(2, at("2026-03-02 11:00"), &plan);
        // Thu 03-05 + 2wd → Mon 03-09.
        assert_eq!(t.due_at, at("2026-03-09 17:30"));
        assert_eq!(t.warn_at, at("2026-03-06 17:30"));
        let fixed_due = at("2026-03-03 12:00");
        let mut fixed = Timer::start(
            TimerKind::Supervision,
            at("2026-03-02 10:00"),
            Duration::WorkingDays(3),
            Some(fixed_due),
            &plan,
        );
        assert_eq!((fixed.due_at, fixed.duration), (fixed_due, None));
        fixed.extend(1, at("2026-03-02 11:00"), &plan);
        assert_eq!(fixed.due_at, at("2026-03-04 17:30"));
        // Extended after its deadline had passed and level 1 had fired: the ladder starts again.
        let mut late = Timer::start(
            TimerKind::Handle,
            at("2026-03-02 10:00"),
            Duration::WorkingDays(1),
            None,
            &plan,
        );
        let now = at("2026-03-04 09:00");
        while let Some(step) = late.due_step(now, &plan) {
            late.fired(step, now, &plan);
        }
        assert_eq!(late.level, 1);
        late.extend(3, now, &plan);
        assert_eq!((late.level, late.due_at), (0, at("2026-03-06 17:30")));
        assert_eq!(late.next_fire_at, Some(at("2026-03-05 17:30")));
    }
}
