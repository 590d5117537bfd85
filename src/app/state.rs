//! The process's state the use cases share: settings from the configuration, and the working-day
//! calendar held in memory and refreshed from the database.

use crate::domain::calendar::{Calendar, DayOffRoll, Year};
use crate::domain::similar::Rarity;
use crate::domain::sla::Policy;
use crate::notify::recipients::MailRoles;
use crate::store::{self, DbConn, StoreError};
use chrono::{NaiveDateTime, NaiveTime};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

/// How stale this process's copy of the calendar may get before a write looks again.
pub const CALENDAR_CHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// What the use cases need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub number_prefix: String,
    pub timezone: chrono_tz::Tz,
    pub idempotency_ttl: chrono::Duration,
    pub policy: Policy,
    pub calendars: Calendars,
    /// Addresses of the desk, supervisors and leadership from config.
    pub mail: MailRoles,
    /// Departments' names by code, for pages.
    pub department_names: DepartmentNames,
    /// How rare each search term is among the newest cases, for the similar-case look-up.
    pub rarity: TermRarity,
    /// How departments are scored and ranked, and whether the monthly report goes out.
    pub kpi: KpiSettings,
}

/// `[kpi]`: the weights of the score, the size of the 红黑榜, the monthly report.
#[derive(Debug, Clone, Default)]
pub struct KpiSettings {
    pub weights: BTreeMap<crate::domain::figures::Figure, crate::domain::figures::Weight>,
    pub board_size: usize,
    pub monthly_report: bool,
}

/// Departments' names by code, held in memory and read again at most every `CALENDAR_CHECK`:
/// every page names departments, and they change seldom (a new one shows within seconds).
#[derive(Debug, Clone, Default)]
pub struct DepartmentNames {
    held: Arc<Mutex<Option<HeldNames>>>,
}

/// The names as last read, and when.
type HeldNames = (Arc<BTreeMap<String, String>>, std::time::Instant);

impl DepartmentNames {
    pub fn get(&self, conn: &mut DbConn) -> Result<Arc<BTreeMap<String, String>>, StoreError> {
        let mut held = self.held.lock().expect("names lock");
        if let Some((names, at)) = held.as_ref()
            && at.elapsed() < CALENDAR_CHECK
        {
            return Ok(names.clone());
        }
        let names = Arc::new(store::departments::names(conn)?);
        *held = Some((names.clone(), std::time::Instant::now()));
        Ok(names)
    }
}

/// How rare search terms are among the newest cases (`domain::similar::Rarity`), read again every
/// ten minutes: a statistic of what the database holds, so every instance comes to the same.
#[derive(Debug, Clone, Default)]
pub struct TermRarity {
    held: Arc<Mutex<Option<HeldRarity>>>,
}

/// The rarity as last read, and when.
type HeldRarity = (Arc<Rarity>, std::time::Instant);

/// How many of the newest cases the rarity is judged on.
pub const RARITY_SAMPLE: i64 = 5_000;
const RARITY_FRESH: std::time::Duration = std::time::Duration::from_secs(600);

impl TermRarity {
    pub fn get(&self, conn: &mut DbConn) -> Result<Arc<Rarity>, StoreError> {
        let mut held = self.held.lock().expect("rarity lock");
        if let Some((rarity, at)) = held.as_ref()
            && at.elapsed() < RARITY_FRESH
        {
            return Ok(rarity.clone());
        }
        let sample = store::search::sample(conn, RARITY_SAMPLE)?;
        let rarity = Arc::new(Rarity::of(sample.iter().map(String::as_str)));
        *held = Some((rarity.clone(), std::time::Instant::now()));
        Ok(rarity)
    }

    /// Forgets what was read, so the next look-up reads it again (after a bulk load).
    pub fn forget(&self) {
        *self.held.lock().expect("rarity lock") = None;
    }
}

type CalendarMark = (Option<NaiveDateTime>, i64);

/// The working-day calendar in memory, shared by the handlers and the scheduler, loaded from the
/// database at start and again whenever an admin changes it (here or on another instance).
#[derive(Debug, Clone)]
pub struct Calendars {
    current: Arc<RwLock<Arc<Calendar>>>,
    /// The database's last calendar change as loaded, and when this process last looked.
    loaded: Arc<Mutex<(Option<CalendarMark>, Option<std::time::Instant>)>>,
    timezone: chrono_tz::Tz,
    hours: Vec<(NaiveTime, NaiveTime)>,
    roll: DayOffRoll,
}

impl Calendars {
    pub fn new(
        timezone: chrono_tz::Tz,
        hours: Vec<(NaiveTime, NaiveTime)>,
        roll: DayOffRoll,
    ) -> Self {
        let empty = Calendar::new(timezone, hours.clone(), roll, Default::default());
        Calendars {
            current: Arc::new(RwLock::new(Arc::new(empty))),
            loaded: Arc::new(Mutex::new((None, None))),
            timezone,
            hours,
            roll,
        }
    }

    pub fn current(&self) -> Arc<Calendar> {
        self.current.read().expect("calendar lock").clone()
    }

    /// Builds a calendar of these years with the configured zone and hours.
    pub fn with_years(&self, years: std::collections::BTreeMap<i32, Year>) -> Calendar {
        Calendar::new(self.timezone, self.hours.clone(), self.roll, years)
    }

    /// Loads the calendar from the database when it changed since the last load.
    pub fn refresh(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        let mark = store::calendar::last_change(conn)?;
        let mut loaded = self.loaded.lock().expect("calendar lock");
        loaded.1 = Some(std::time::Instant::now());
        if loaded.0 == Some(mark) {
            return Ok(());
        }
        let calendar = self.with_years(store::calendar::load(conn)?);
        *self.current.write().expect("calendar lock") = Arc::new(calendar);
        loaded.0 = Some(mark);
        Ok(())
    }

    /// Loads the calendar from the database now, whatever this process last saw.
    pub fn reload(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        self.loaded.lock().expect("calendar lock").0 = None;
        self.refresh(conn)
    }

    /// `refresh`, at most every `interval`: so that a year loaded through another instance is
    /// counted with here too, within that interval.
    pub fn refresh_every(
        &self,
        conn: &mut DbConn,
        interval: std::time::Duration,
    ) -> Result<(), StoreError> {
        let last = self.loaded.lock().expect("calendar lock").1;
        if last.is_some_and(|at| at.elapsed() < interval) {
            return Ok(());
        }
        self.refresh(conn)
    }
}
