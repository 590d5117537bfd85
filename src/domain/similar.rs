//! Likely repeats of a case being logged (重复件识别): how close an earlier case is to a draft,
//! and why. Closeness is counted on the search terms of `terms` (character pairs), the words
//! every complaint uses (公司, 反映, 要求 …) left out, so two cases about the same 稳岗返还 of the
//! same amount score high and two that merely both complain score low. The score is the same on
//! both databases: they only find the candidates.

use super::terms::{self, Grams};
use super::ticket::Ticket;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Pairs so common in complaints that sharing them says nothing.
const COMMON: &[&str] = &[
    "公司", "企业", "我公", "来电", "电人", "反映", "要求", "希望", "问题", "相关", "部门", "有关",
    "没有", "一直", "目前", "已经", "进行", "情况", "处理", "解决", "办理", "我们", "他们", "但是",
    "至今", "今未", "表示", "请求", "诉求", "协调", "帮助", "工作", "人员", "多次", "尽快", "及时",
    "该公", "司的", "有限", "限公", "责任", "任公", "现在", "之前", "以来", "因为", "所以", "如果",
    "可以", "不能", "无法", "需要", "是否", "什么", "为什", "么时", "时候", "一个", "这个", "给予",
    "答复", "回复", "了解", "咨询", "投诉", "举报", "建议", "求助", "市民", "先生", "女士",
];

/// How many terms of a draft are looked for at most: its rarest.
pub const QUERY_TERMS_MAX: usize = 12;
/// A term in more than this share of cases is not looked for (it would find most of them), unless
/// the draft has too few rarer ones.
const COMMON_SHARE: f64 = 0.02;
/// As many terms are looked for at least, however common, when the draft has them.
const QUERY_TERMS_MIN: usize = 6;

/// How rare each term is among a sample of cases (the newest): a common pair says little of
/// closeness, a rare one much (inverse document frequency), and only rare ones are worth asking
/// the index for.
#[derive(Debug, Clone, Default)]
pub struct Rarity {
    docs: HashMap<String, u32>,
    sample: u32,
}

impl Rarity {
    /// From the stored term columns of a sample of cases.
    pub fn of<'a>(columns: impl IntoIterator<Item = &'a str>) -> Rarity {
        let mut r = Rarity::default();
        for column in columns {
            r.sample += 1;
            for term in column.split(' ').filter(|t| !t.is_empty()) {
                *r.docs.entry(term.to_string()).or_insert(0) += 1;
            }
        }
        r
    }

    fn docs(&self, term: &str) -> u32 {
        self.docs.get(term).copied().unwrap_or(0)
    }

    /// The weight of a term: ln((n + 1) / (df + 1)) + 1.
    pub fn weight(&self, term: &str) -> f64 {
        ((self.sample as f64 + 1.0) / (self.docs(term) as f64 + 1.0)).ln() + 1.0
    }

    /// At most what share of cases holds any of `terms` (the sum of their shares of the sample).
    pub fn share_holding_any(&self, terms: &[String]) -> f64 {
        if self.sample == 0 {
            return 0.0;
        }
        let docs: u32 = terms.iter().map(|t| self.docs(t)).sum();
        (docs as f64 / self.sample as f64).min(1.0)
    }

    /// The terms worth asking the index for: the rare ones the sample holds (in at most 2 % of
    /// it, or 5 cases), rarest first, and the least common others when there are fewer than six
    /// of those; then the ones it does not hold at all (only older cases may), up to twelve.
    pub fn worth_asking(&self, terms: &[String]) -> Vec<String> {
        let limit = ((self.sample as f64 * COMMON_SHARE) as u32).max(5);
        let mut ranked: Vec<&String> = terms.iter().collect();
        ranked.sort_by_key(|t| self.docs(t));
        let (unseen, seen): (Vec<&String>, Vec<&String>) =
            ranked.into_iter().partition(|t| self.docs(t) == 0);
        let rare = seen.iter().filter(|t| self.docs(t) <= limit).count();
        seen.into_iter()
            .take(rare.max(QUERY_TERMS_MIN))
            .chain(unseen)
            .take(QUERY_TERMS_MAX)
            .cloned()
            .collect()
    }
}

/// The terms stored for a case: its subject's and description's pairs.
pub fn stored_terms(subject: &str, description: &str) -> String {
    terms::column(&format!("{subject}\n{description}"), Grams::Pairs)
}

/// The telling terms of a text: its pairs and words without the common ones.
fn telling(text: &str) -> Vec<String> {
    terms::terms(text, Grams::Pairs)
        .into_iter()
        .filter(|t| !COMMON.contains(&t.as_str()))
        .collect()
}

/// What a draft is compared on.
#[derive(Debug, Clone)]
pub struct Draft {
    pub subject: Vec<String>,
    pub all: Vec<String>,
    pub credit_code: Option<String>,
    /// The texts as typed, to show what is shared as phrases.
    subject_text: String,
    text: String,
}

impl Draft {
    pub fn new(subject: &str, description: &str, credit_code: Option<&str>) -> Draft {
        let subject_terms = telling(subject);
        let mut all = subject_terms.clone();
        let mut seen: HashSet<String> = all.iter().cloned().collect();
        all.extend(
            telling(description)
                .into_iter()
                .filter(|t| seen.insert(t.clone())),
        );
        Draft {
            subject: subject_terms,
            all,
            credit_code: credit_code.map(str::to_string),
            subject_text: subject.to_string(),
            text: format!("{subject}\n{description}"),
        }
    }

    /// The terms the database is asked for: the draft's rarest.
    pub fn query(&self, rarity: &Rarity) -> Vec<String> {
        rarity.worth_asking(&self.all)
    }

    /// Whether there is anything to look for.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.credit_code.is_none()
    }
}

name_enum!(
    /// Why a case was listed.
    Reason {
        /// 同一企业: the same credit code.
        SameEnterprise = "same_enterprise",
        /// 标题相近.
        SimilarSubject = "similar_subject",
        /// 内容相近.
        SimilarText = "similar_text",
    }
);

/// One reason, with what it rests on: for text, the phrases both share.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Why {
    pub reason: Reason,
    /// 中文 wording, e.g. "同一企业" or "内容相近：稳岗返还、3.2万元".
    pub text: String,
    /// The phrases both texts share, longest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<String>,
}

/// How close a case is to the draft: 0 to 1, with the reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Closeness {
    pub score: f64,
    pub reasons: Vec<Why>,
}

/// The score below which a case is not worth showing.
pub const THRESHOLD: f64 = 0.12;

fn set(v: &[String]) -> HashSet<&str> {
    v.iter().map(String::as_str).collect()
}

/// Cosine of two term sets, each term weighted by its rarity.
fn cosine(a: &HashSet<&str>, b: &HashSet<&str>, rarity: &Rarity) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let square = |t: &&str| rarity.weight(t).powi(2);
    let shared: f64 = a.intersection(b).map(square).sum();
    let (na, nb): (f64, f64) = (a.iter().map(square).sum(), b.iter().map(square).sum());
    shared / (na * nb).sqrt()
}

/// How close `case` is to `draft`: 55 % the whole text, 25 % the subject, 20 % the enterprise,
/// the texts' terms weighted by how rare they are.
pub fn closeness(draft: &Draft, case: &Ticket, rarity: &Rarity) -> Closeness {
    let case_subject: Vec<String> = telling(&case.subject);
    let case_all: Vec<String> = {
        let mut all = case_subject.clone();
        all.extend(telling(&case.description));
        all
    };
    let (d_all, c_all) = (set(&draft.all), set(&case_all));
    let text = cosine(&d_all, &c_all, rarity);
    let subject = cosine(&set(&draft.subject), &set(&case_subject), rarity);
    let same = draft.credit_code.as_deref() == Some(case.enterprise.credit_code.as_str());
    let score = 0.55 * text + 0.25 * subject + if same { 0.2 } else { 0.0 };

    let mut reasons = vec![];
    if same {
        reasons.push(Why {
            reason: Reason::SameEnterprise,
            text: "同一企业（统一社会信用代码相同）".into(),
            shared: vec![],
        });
    }
    let every =
        |text: &str| -> HashSet<String> { terms::terms(text, Grams::Pairs).into_iter().collect() };
    let shared_subject = phrases(&draft.subject_text, &every(&case.subject));
    if subject >= 0.25 {
        reasons.push(Why {
            reason: Reason::SimilarSubject,
            text: format!("标题相近：{}", shared_subject.join("、")),
            shared: shared_subject,
        });
    }
    if text >= 0.15 || reasons.is_empty() {
        let shared = phrases(
            &draft.text,
            &every(&format!("{}\n{}", case.subject, case.description)),
        );
        let shown: Vec<String> = shared.iter().take(6).cloned().collect();
        reasons.push(Why {
            reason: Reason::SimilarText,
            text: format!("内容相近：{}", shown.join("、")),
            shared: shown,
        });
    }
    Closeness {
        score: (score * 1000.0).round() / 1000.0,
        reasons,
    }
}

/// What `ours` shares with a text whose terms are `theirs`, as phrases: its shared pairs joined
/// back where they overlap (社保 保补 补贴 → 社保补贴), those made only of common words left out,
/// longest first.
fn phrases(ours: &str, theirs: &HashSet<String>) -> Vec<String> {
    let ours = terms::sequence(ours, Grams::Pairs);
    let mut out: Vec<String> = vec![];
    let mut current = String::new();
    // The previous term of `ours`, if it was shared and ran on into this one.
    let mut previous: Option<&str> = None;
    for term in &ours {
        if !theirs.contains(term) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous = None;
            continue;
        }
        let continues = previous.is_some_and(|p| {
            let (p, t): (Vec<char>, Vec<char>) = (p.chars().collect(), term.chars().collect());
            p.len() == 2 && t.len() == 2 && p[1] == t[0]
        });
        if continues {
            current.push(term.chars().nth(1).expect("a pair"));
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.push_str(term);
        }
        previous = Some(term);
    }
    if !current.is_empty() {
        out.push(current);
    }
    let mut seen = HashSet::new();
    out.retain(|p| seen.insert(p.clone()) && !telling(p).is_empty());
    out.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
    // A phrase inside a longer one says nothing more (提交 beside 企业于上月提交变更申请).
    let kept: Vec<String> = out
        .iter()
        .enumerate()
        .filter(|(i, p)| !out[..*i].iter().any(|longer| longer.contains(p.as_str())))
        .map(|(_, p)| p.clone())
        .collect();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_pairs_are_joined_into_phrases() {
        let theirs: HashSet<String> =
            terms::terms("申请的稳岗返还一直未到账，办理超时", Grams::Pairs)
                .into_iter()
                .collect();
        assert_eq!(
            phrases("稳岗返还资金未到账，变更办理超时", &theirs),
            ["稳岗返还", "办理超时", "未到账"],
            "joined across a common pair (办理); none made of common pairs alone"
        );
        let theirs: HashSet<String> = terms::terms("企业于上月提交变更申请，已提交", Grams::Pairs)
            .into_iter()
            .collect();
        assert_eq!(
            phrases("企业于上月提交变更申请，重新提交", &theirs),
            ["企业于上月提交变更申请"],
            "a phrase inside a longer one is not said again"
        );
    }

    #[test]
    fn rare_terms_weigh_more_and_are_asked_first() {
        let r = Rarity::of(["稳岗 未到", "未到 到账", "未到"]);
        assert!(r.weight("稳岗") > r.weight("未到"));
        assert!(
            r.weight("没见") > r.weight("稳岗"),
            "a term never seen weighs most"
        );
        let asked = r.worth_asking(&["未到".into(), "稳岗".into(), "没见".into()]);
        assert_eq!(
            asked,
            ["稳岗", "未到", "没见"],
            "held ones rarest first, then unseen"
        );
    }

    #[test]
    fn common_words_do_not_count() {
        // Only the pairs across word boundaries are left.
        assert_eq!(telling("来电人反映公司问题"), ["人反", "映公", "司问"]);
        assert!(Draft::new("", "", None).is_empty());
    }
}
