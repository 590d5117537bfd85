//! The service-level policy: how long each stage may take, per category and urgency, when to warn,
//! and the escalation ladder after a deadline. Read from `[sla.*]` and `[escalation]` in config.

use super::department::DepartmentCode;
use super::duration::Duration;
use super::ticket::{Category, Urgency};
use serde::Deserialize;
use std::collections::BTreeMap;

name_enum!(
    /// The stages that have a deadline, one running timer each at most.
    TimerKind {
        Dispatch = "dispatch",
        Sign = "sign",
        InterimReply = "interim_reply",
        Handle = "handle",
        Feedback = "feedback",
        Supervision = "supervision",
    }
);

impl TimerKind {
    /// Who answers for a stage while its timer runs, given the case's lead department: the
    /// hotline (`None`) for dispatch and callback, the lead department otherwise — for the
    /// interim reply only once there is one.
    pub fn owner(self, lead: Option<&DepartmentCode>) -> Option<DepartmentCode> {
        match self {
            TimerKind::Dispatch | TimerKind::Feedback => None,
            _ => lead.cloned(),
        }
    }
}

/// One `[sla.*]` table; a key left out falls back to the table below it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTable {
    pub dispatch: Option<Duration>,
    pub sign: Option<Duration>,
    pub interim_reply: Option<Duration>,
    pub handle: Option<Duration>,
    pub feedback: Option<Duration>,
    pub supervision: Option<Duration>,
    pub warn_before: Option<Duration>,
    pub extension_min_lead: Option<Duration>,
}

impl SlaTable {
    fn limit(&self, kind: TimerKind) -> Option<Duration> {
        match kind {
            TimerKind::Dispatch => self.dispatch,
            TimerKind::Sign => self.sign,
            TimerKind::InterimReply => self.interim_reply,
            TimerKind::Handle => self.handle,
            TimerKind::Feedback => self.feedback,
            TimerKind::Supervision => self.supervision,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    default: SlaTable,
    categories: BTreeMap<Category, SlaTable>,
    urgent: SlaTable,
    /// Offsets from the deadline of escalation levels 1, 2, …
    pub steps: Vec<Duration>,
}

/// A policy problem, naming its config key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub key: String,
    pub message: String,
}

impl Policy {
    /// From the `[sla.*]` tables (`default`, categories, `urgent`) and the ladder.
    pub fn new(
        tables: &BTreeMap<String, SlaTable>,
        steps: Vec<Duration>,
    ) -> Result<Policy, PolicyError> {
        let err = |key: String, message: String| PolicyError { key, message };
        let mut categories = BTreeMap::new();
        let mut default = None;
        let mut urgent = SlaTable::default();
        for (name, table) in tables {
            match name.as_str() {
                "default" => default = Some(table.clone()),
                "urgent" => urgent = table.clone(),
                other => {
                    let category: Category = other.parse().map_err(|m| {
                        err(
                            format!("sla.{other}"),
                            format!("is neither default, urgent nor a category: {m}"),
                        )
                    })?;
                    categories.insert(category, table.clone());
                }
            }
        }
        let default = default.ok_or_else(|| err("sla.default".into(), "is required".into()))?;
        let required = [
            ("dispatch", default.dispatch),
            ("sign", default.sign),
            ("interim_reply", default.interim_reply),
            ("handle", default.handle),
            ("feedback", default.feedback),
            ("supervision", default.supervision),
            ("warn_before", default.warn_before),
            ("extension_min_lead", default.extension_min_lead),
        ];
        for (field, value) in required {
            if value.is_none() {
                return Err(err(format!("sla.default.{field}"), "is required".into()));
            }
        }
        if steps.is_empty() {
            return Err(err(
                "escalation.steps".into(),
                "needs at least one step (level 1 at the deadline)".into(),
            ));
        }
        for (i, pair) in steps.windows(2).enumerate() {
            if pair[0] == pair[1] {
                return Err(err(
                    format!("escalation.steps[{}]", i + 1),
                    "repeats the step before it".into(),
                ));
            }
        }
        Ok(Policy {
            default,
            categories,
            urgent,
            steps,
        })
    }

    /// Urgency overrides the category, which overrides the default.
    fn pick(
        &self,
        category: Category,
        urgency: Urgency,
        f: impl Fn(&SlaTable) -> Option<Duration>,
    ) -> Duration {
        let urgent = (urgency == Urgency::Urgent)
            .then(|| f(&self.urgent))
            .flatten();
        urgent
            .or_else(|| self.categories.get(&category).and_then(&f))
            .or_else(|| f(&self.default))
            .expect("the default table has every key")
    }

    pub fn limit(&self, kind: TimerKind, category: Category, urgency: Urgency) -> Duration {
        self.pick(category, urgency, |t| t.limit(kind))
    }

    pub fn warn_before(&self, category: Category, urgency: Urgency) -> Duration {
        self.pick(category, urgency, |t| t.warn_before)
    }

    pub fn extension_min_lead(&self, category: Category, urgency: Urgency) -> Duration {
        self.pick(category, urgency, |t| t.extension_min_lead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, &str)]) -> SlaTable {
        let text: String = pairs
            .iter()
            .map(|(k, v)| format!("{k} = \"{v}\"\n"))
            .collect();
        toml::from_str(&text).unwrap()
    }

    fn policy() -> Policy {
        let tables = [
            (
                "default".to_string(),
                table(&[
                    ("dispatch", "2wh"),
                    ("sign", "1wd"),
                    ("interim_reply", "7d"),
                    ("handle", "15wd"),
                    ("feedback", "3wd"),
                    ("supervision", "3wd"),
                    ("warn_before", "1wd"),
                    ("extension_min_lead", "1wd"),
                ]),
            ),
            ("consultation".to_string(), table(&[("handle", "2wd")])),
            (
                "urgent".to_string(),
                table(&[("sign", "2h"), ("handle", "1wd")]),
            ),
        ]
        .into();
        Policy::new(&tables, vec!["0s".parse().unwrap(), "1wd".parse().unwrap()]).unwrap()
    }

    #[test]
    fn urgency_then_category_then_default() {
        let p = policy();
        let wd = Duration::WorkingDays;
        assert_eq!(
            p.limit(TimerKind::Handle, Category::Complaint, Urgency::Normal),
            wd(15)
        );
        assert_eq!(
            p.limit(TimerKind::Handle, Category::Consultation, Urgency::Normal),
            wd(2)
        );
        assert_eq!(
            p.limit(TimerKind::Handle, Category::Consultation, Urgency::Urgent),
            wd(1)
        );
        assert_eq!(
            p.limit(TimerKind::Sign, Category::Complaint, Urgency::Urgent),
            Duration::Hours(2)
        );
        assert_eq!(
            p.limit(TimerKind::Feedback, Category::Complaint, Urgency::Urgent),
            wd(3)
        );
    }

    #[test]
    fn a_bad_policy_names_its_key() {
        let missing: BTreeMap<String, SlaTable> =
            [("default".to_string(), table(&[("handle", "15wd")]))].into();
        assert_eq!(
            Policy::new(&missing, vec![Duration::Seconds(0)])
                .unwrap_err()
                .key,
            "sla.default.dispatch"
        );
        let mut tables: BTreeMap<String, SlaTable> =
            [("default".to_string(), SlaTable::default())].into();
        tables.insert("lunch".into(), SlaTable::default());
        assert_eq!(Policy::new(&tables, vec![]).unwrap_err().key, "sla.lunch");
    }
}
