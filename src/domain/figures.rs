//! The figures a district is judged by (DESIGN.md, "Wave 2 contract": KPIs), each a count or a
//! ratio of the counters of `kpi`, and the score a department's figures earn in the ranking.
//! Pure.

use super::kpi::{Counter, Tally};
use serde::Deserialize;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::collections::BTreeMap;

name_enum!(
    /// A figure of the KPI table, named as in the API.
    Figure {
        Received = "received",
        SignOnTimeRate = "sign_on_time_rate",
        OnTimeCompletionRate = "on_time_completion_rate",
        InterimReplyRate = "interim_reply_rate",
        SubstantiveReply3mRate = "substantive_reply_3m_rate",
        SatisfactionRate = "satisfaction_rate",
        ReturnRate = "return_rate",
        ReopenRate = "reopen_rate",
        OverdueOpen = "overdue_open",
        Supervised = "supervised",
        SupervisedManual = "supervised_manual",
        SupervisedAutomatic = "supervised_automatic",
        Extensions = "extensions",
        ExtensionsApproved = "extensions_approved",
        ExtensionsDenied = "extensions_denied",
        AvgHandlingWd = "avg_handling_wd",
        DirectAnswerRate = "direct_answer_rate",
        KnowledgeUpdates = "knowledge_updates",
    }
);

name_enum!(
    /// What a report's figures are grouped by.
    GroupBy {
        Department = "department",
        Category = "category",
        Channel = "channel",
    }
);

/// How a figure reads: a count, a share (0–1), or a mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Count,
    Rate,
    Mean,
}

impl Figure {
    pub fn kind(self) -> Kind {
        use Figure::*;
        match self {
            SignOnTimeRate
            | OnTimeCompletionRate
            | InterimReplyRate
            | SubstantiveReply3mRate
            | SatisfactionRate
            | ReturnRate
            | ReopenRate
            | DirectAnswerRate => Kind::Rate,
            AvgHandlingWd => Kind::Mean,
            _ => Kind::Count,
        }
    }

    /// The figure's name as the district's notices print it.
    pub fn label(self) -> &'static str {
        use Figure::*;
        match self {
            Received => "受理量",
            SignOnTimeRate => "及时签收率",
            OnTimeCompletionRate => "按时办结率",
            InterimReplyRate => "7日程序性回复率",
            SubstantiveReply3mRate => "3个月实体答复率",
            SatisfactionRate => "满意率",
            ReturnRate => "回退率",
            ReopenRate => "重办率",
            OverdueOpen => "超期未办结",
            Supervised => "督办件数",
            SupervisedManual => "人工督办",
            SupervisedAutomatic => "超期自动督办",
            Extensions => "延期申请",
            ExtensionsApproved => "延期批准",
            ExtensionsDenied => "延期驳回",
            AvgHandlingWd => "平均办理时长（工作日）",
            DirectAnswerRate => "直办率",
            KnowledgeUpdates => "知识库更新数",
        }
    }

    /// How the figure is counted, as the report page explains it (docs/kpis.md in full).
    pub fn definition(self) -> &'static str {
        use Figure::*;
        match self {
            Received => "期间内受理的工单，计入首次分办的单位（未分办的计入12345热线）。",
            SignOnTimeRate => "期间内结束的签收期限中按时签收（或按时退回）的比例。",
            OnTimeCompletionRate => {
                "办理期限（含批准延期）落在期间内、已到期或已办结的工单中按时办结的比例；改派、撤诉等取消的期限不计。"
            }
            InterimReplyRate => {
                "7日程序性回复期限落在期间内的工单中按时回复（程序性回复或实体答复）的比例。"
            }
            SubstantiveReply3mRate => {
                "期间内受理、已答复或已满3个月的工单中，3个月内作出实体答复的比例；不予受理、撤诉、并单的不计。"
            }
            SatisfactionRate => "期间内回访中满意、基本满意的比例，计入回访时的主办单位。",
            ReturnRate => "期间内退单数与分办、改派给该单位的工单数之比。",
            ReopenRate => "期间内回访不满意（重办）的比例。",
            OverdueOpen => "统计期末仍在办且有期限已过的工单数。",
            Supervised => "期间内督办的次数，含人工督办与超期自动督办。",
            SupervisedManual => "期间内督办人员发起的督办次数。",
            SupervisedAutomatic => "期间内办理超期由系统自动督办的次数。",
            Extensions => "期间内提出的延期申请数。",
            ExtensionsApproved => "期间内提出、已批准的延期申请数。",
            ExtensionsDenied => "期间内提出、被驳回的延期申请数。",
            AvgHandlingWd => "期间内首次实体答复的工单，自签收至答复的平均工作日数。",
            DirectAnswerRate => {
                "期间内受理的工单中，话务员依据知识库当场答复办结（直办）的比例，计入12345热线。"
            }
            KnowledgeUpdates => "期间内各单位新建或修改知识库条目的次数（每保存一个版本计一次）。",
        }
    }

    /// What the numerator and denominator of a ratio count, as a column heading says it.
    pub fn parts(self) -> Option<(&'static str, &'static str)> {
        use Figure::*;
        Some(match self {
            SignOnTimeRate => ("按时签收", "应签收"),
            OnTimeCompletionRate => ("按时办结", "应办结"),
            InterimReplyRate => ("按时程序性回复", "应程序性回复"),
            SubstantiveReply3mRate => ("3个月内答复", "应答复"),
            SatisfactionRate => ("满意及基本满意", "回访数"),
            ReturnRate => ("退回", "分办"),
            ReopenRate => ("不满意重办", "回访数"),
            AvgHandlingWd => ("办理工作日合计", "答复件数"),
            DirectAnswerRate => ("直办", "受理"),
            _ => return None,
        })
    }
}

/// A figure's value: a count (`value` = `numerator`, no denominator), a share of
/// `numerator` over `denominator` (`value` null when the denominator is 0), or a mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub kind: Kind,
    pub value: Option<f64>,
    pub numerator: f64,
    pub denominator: Option<i64>,
}

/// How a `Measure` is written.
#[derive(utoipa::ToSchema)]
#[schema(as = Measure)]
#[allow(dead_code)]
pub struct MeasureSchema {
    /// A count; a share 0–1 (null when the denominator is 0); or a mean.
    value: Option<f64>,
    /// The count, or the numerator of the share or mean.
    numerator: f64,
    /// The denominator of a share or mean; null for a count.
    denominator: Option<i64>,
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Measure", 3)?;
        match self.kind {
            Kind::Count => {
                let n = self.numerator as i64;
                m.serialize_field("value", &n)?;
                m.serialize_field("numerator", &n)?;
            }
            Kind::Rate => {
                m.serialize_field("value", &self.value)?;
                m.serialize_field("numerator", &(self.numerator as i64))?;
            }
            Kind::Mean => {
                m.serialize_field("value", &self.value)?;
                m.serialize_field("numerator", &self.numerator)?;
            }
        }
        m.serialize_field("denominator", &self.denominator)?;
        m.end()
    }
}

/// What a group's figures are computed from: its summed counters over the period, and what
/// depends on when the report is made (see `store::kpi::Group`) or on its end (`overdue_open`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub tally: Tally,
    pub unreplied_old: i64,
    pub handle_counted: i64,
    pub interim_counted: i64,
    pub overdue_open: i64,
    /// Knowledge article versions written in the period (not kept in the counters).
    pub knowledge_updates: i64,
}

impl Sums {
    pub fn add(&mut self, other: &Sums) {
        self.tally.add(&other.tally);
        self.unreplied_old += other.unreplied_old;
        self.handle_counted += other.handle_counted;
        self.interim_counted += other.interim_counted;
        self.overdue_open += other.overdue_open;
        self.knowledge_updates += other.knowledge_updates;
    }
}

fn count(n: i64) -> Measure {
    Measure {
        kind: Kind::Count,
        value: Some(n as f64),
        numerator: n as f64,
        denominator: None,
    }
}

fn rate(numerator: i64, denominator: i64) -> Measure {
    Measure {
        kind: Kind::Rate,
        value: (denominator > 0).then(|| numerator as f64 / denominator as f64),
        numerator: numerator as f64,
        denominator: Some(denominator),
    }
}

/// Rounds to hundredths, as a figure is shown.
fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A figure of a group; `minutes_per_day` is the length of a working day (for the mean).
pub fn measure(f: Figure, s: &Sums, minutes_per_day: i64) -> Measure {
    let t = |c: Counter| s.tally.get(c);
    use Counter as C;
    match f {
        Figure::Received => count(t(C::Received)),
        Figure::SignOnTimeRate => rate(t(C::SignMet), t(C::SignEnded)),
        Figure::OnTimeCompletionRate => rate(t(C::HandleMet), s.handle_counted),
        Figure::InterimReplyRate => rate(t(C::InterimMet), s.interim_counted),
        Figure::SubstantiveReply3mRate => rate(t(C::RepliedIn3m), t(C::Replied) + s.unreplied_old),
        Figure::SatisfactionRate => rate(t(C::Satisfied), t(C::Feedback)),
        Figure::ReturnRate => rate(t(C::Returns), t(C::Dispatched)),
        Figure::ReopenRate => rate(t(C::Dissatisfied), t(C::Feedback)),
        Figure::OverdueOpen => count(s.overdue_open),
        Figure::Supervised => count(t(C::Supervised)),
        Figure::SupervisedManual => count(t(C::Supervised) - t(C::SupervisedAutomatic)),
        Figure::SupervisedAutomatic => count(t(C::SupervisedAutomatic)),
        Figure::Extensions => count(t(C::Extensions)),
        Figure::ExtensionsApproved => count(t(C::ExtensionsApproved)),
        Figure::ExtensionsDenied => count(t(C::ExtensionsDenied)),
        Figure::DirectAnswerRate => rate(t(C::Answered), t(C::Received)),
        Figure::KnowledgeUpdates => count(s.knowledge_updates),
        Figure::AvgHandlingWd => {
            let days = t(C::HandlingMinutes) as f64 / minutes_per_day.max(1) as f64;
            let replies = t(C::Handled);
            Measure {
                kind: Kind::Mean,
                value: (replies > 0).then(|| hundredths(days / replies as f64)),
                numerator: hundredths(days),
                denominator: Some(replies),
            }
        }
    }
}

/// Every figure of a group, in the table's order.
pub fn all(s: &Sums, minutes_per_day: i64) -> BTreeMap<Figure, Measure> {
    Figure::ALL
        .iter()
        .map(|f| (*f, measure(*f, s, minutes_per_day)))
        .collect()
}

/// How a rate earns points in the score (`[kpi.weights]`): none at or beyond `floor`, all of
/// `weight` at `target`, on a straight line between. A floor above the target means lower is
/// better (回退率, 重办率).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub weight: f64,
    pub floor: f64,
    pub target: f64,
}

impl Weight {
    /// The share of the weight a value earns, 0–1.
    pub fn earned(&self, value: f64) -> f64 {
        ((value - self.floor) / (self.target - self.floor)).clamp(0.0, 1.0)
    }
}

/// A unit's score, 0–100: the points its rates earn over the weights of those it has a value
/// for. `None` when it has none (no cases in any weighted denominator): listed apart, not ranked.
pub fn score(
    figures: &BTreeMap<Figure, Measure>,
    weights: &BTreeMap<Figure, Weight>,
) -> Option<f64> {
    let (mut earned, mut possible) = (0.0, 0.0);
    for (f, w) in weights {
        if let Some(v) = figures.get(f).and_then(|m| m.value) {
            earned += w.weight * w.earned(v);
            possible += w.weight;
        }
    }
    (possible > 0.0).then(|| hundredths(100.0 * earned / possible))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_denominator_is_no_value_never_zero_or_full() {
        let m = measure(Figure::SatisfactionRate, &Sums::default(), 420);
        assert_eq!((m.value, m.denominator), (None, Some(0)));
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"value": null, "numerator": 0, "denominator": 0})
        );
    }

    #[test]
    fn counts_carry_no_denominator() {
        let mut s = Sums::default();
        s.tally.0[Counter::Received as usize] = 7;
        let json = serde_json::to_value(measure(Figure::Received, &s, 420)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"value": 7, "numerator": 7, "denominator": null})
        );
    }

    #[test]
    fn points_follow_the_line_between_floor_and_target_either_way() {
        let up = Weight {
            weight: 10.0,
            floor: 0.75,
            target: 1.0,
        };
        assert_eq!(up.earned(0.5), 0.0);
        assert_eq!(up.earned(0.875), 0.5);
        assert_eq!(up.earned(1.0), 1.0);
        let down = Weight {
            weight: 10.0,
            floor: 0.3,
            target: 0.0,
        };
        assert_eq!(down.earned(0.0), 1.0);
        assert_eq!(down.earned(0.15), 0.5);
        assert_eq!(down.earned(0.5), 0.0);
    }

    #[test]
    fn a_score_weighs_only_the_figures_with_a_value() {
        let weights = BTreeMap::from([
            (
                Figure::SatisfactionRate,
                Weight {
                    weight: 30.0,
                    floor: 0.5,
                    target: 1.0,
                },
            ),
            (
                Figure::ReturnRate,
                Weight {
                    weight: 10.0,
                    floor: 0.5,
                    target: 0.0,
                },
            ),
        ]);
        let mut figures = BTreeMap::new();
        figures.insert(Figure::SatisfactionRate, rate(3, 4));
        figures.insert(Figure::ReturnRate, rate(0, 0));
        // 0.75 earns half of 30; the return rate has no cases and is left out.
        assert_eq!(score(&figures, &weights), Some(50.0));
        figures.insert(Figure::SatisfactionRate, rate(0, 0));
        assert_eq!(score(&figures, &weights), None);
    }
}
