//! Search terms of a text, the same on both databases: Chinese is cut into overlapping character
//! pairs (bigrams: "社保补贴" → 社保 保补 补贴), which finds a word wherever it stands without a
//! dictionary; letters and digits are kept as lower-case words. A text's terms are stored
//! space-separated in a column that PostgreSQL indexes with GIN and SQLite with FTS5, so a
//! look-up works the same from every instance.

use std::collections::HashSet;

/// Longest word of letters or digits kept whole; longer ones are cut (a pasted URL or hash).
const WORD_MAX: usize = 40;

/// Which terms a stored text gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grams {
    /// Character pairs only (a lone character between separators is kept as it is).
    Pairs,
    /// Pairs and every single character too, so a one-character query finds it.
    PairsAndSingles,
}

/// The distinct terms of `text`, in the order they first appear.
pub fn terms(text: &str, grams: Grams) -> Vec<String> {
    let mut seen = HashSet::new();
    sequence(text, grams)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// Every term of `text` in the order it stands, repeats kept (to join pairs back into phrases).
pub fn sequence(text: &str, grams: Grams) -> Vec<String> {
    let mut out = vec![];
    let mut push = |t: String| out.push(t);
    for run in runs(text) {
        match run {
            Run::Han(chars) => {
                if chars.len() == 1 || grams == Grams::PairsAndSingles {
                    chars.iter().for_each(|c| push(c.to_string()));
                }
                chars
                    .windows(2)
                    .for_each(|w| push(w.iter().collect::<String>()));
            }
            Run::Word(word) => push(word),
        }
    }
    out
}

/// The column text of `text`: its terms joined by spaces.
pub fn column(text: &str, grams: Grams) -> String {
    terms(text, grams).join(" ")
}

/// The terms a query must match, all of them: pairs of each run of Chinese, a lone character as
/// itself (found in columns written with `Grams::PairsAndSingles`), and words.
pub fn query(text: &str) -> Vec<String> {
    terms(text, Grams::Pairs)
}

enum Run {
    Han(Vec<char>),
    Word(String),
}

/// Runs of Chinese characters and of other letters or digits; everything else separates.
fn runs(text: &str) -> Vec<Run> {
    let mut out = vec![];
    let mut han: Vec<char> = vec![];
    let mut word = String::new();
    let flush_word = |word: &mut String, out: &mut Vec<Run>| {
        if !word.is_empty() {
            let kept: String = word.chars().take(WORD_MAX).collect();
            out.push(Run::Word(kept));
            word.clear();
        }
    };
    for c in text.chars() {
        if is_han(c) {
            flush_word(&mut word, &mut out);
            han.push(c);
        } else {
            if !han.is_empty() {
                out.push(Run::Han(std::mem::take(&mut han)));
            }
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else {
                flush_word(&mut word, &mut out);
            }
        }
    }
    if !han.is_empty() {
        out.push(Run::Han(han));
    }
    flush_word(&mut word, &mut out);
    out
}

/// CJK ideographs: the unified block, its extensions and the compatibility block.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_cut_into_pairs_and_words_kept_whole() {
        assert_eq!(
            terms("社保补贴，ABC-12 退税", Grams::Pairs),
            ["社保", "保补", "补贴", "abc", "12", "退税"]
        );
    }

    #[test]
    fn a_lone_character_is_a_term_and_singles_are_added_on_request() {
        assert_eq!(terms("税", Grams::Pairs), ["税"]);
        assert_eq!(
            terms("退税 税", Grams::PairsAndSingles),
            ["退", "税", "退税"]
        );
    }

    #[test]
    fn terms_are_distinct_and_in_order() {
        assert_eq!(column("补贴补贴", Grams::Pairs), "补贴 贴补");
        assert!(terms("！？ 。，", Grams::Pairs).is_empty());
    }

    #[test]
    fn letters_are_lower_case_and_long_words_cut() {
        let long = "x".repeat(100);
        assert_eq!(
            terms(&format!("ETC {long}"), Grams::Pairs)[1].len(),
            WORD_MAX
        );
        assert_eq!(query("ETC卡"), ["etc", "卡"]);
    }
}
