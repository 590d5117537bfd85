//! Contact phone numbers: a mainland mobile number (11 digits, 13x–19x) or a landline with its
//! area code (010, 02x, 0xxx) and an optional extension. Stored in one canonical form.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be a mainland mobile number (e.g. 13800138000) or a landline with its area code (e.g. 0714-6351234)"
)]
pub struct PhoneError;

impl Phone {
    /// Reads a number as people write it — with spaces, hyphens, dots or brackets anywhere, a
    /// country code (`+86`, `0086`, `86`), a trunk `0` before a mobile (`013800138000`), a
    /// landline's extension after a last group or `转` — into one form: `13800138000`,
    /// `0714-6351234`, `027-87654321-801`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let (main, ext) = match input.split_once('转') {
            Some((main, ext)) => (main, Some(digits_only(ext).ok_or(PhoneError)?)),
            None => (input, None),
        };
        let mut groups = groups(main).ok_or(PhoneError)?;
        // A country code: no number at home starts with 86 or 00.
        let first = groups.first_mut().ok_or(PhoneError)?;
        let rest = ["0086", "86"]
            .iter()
            .find_map(|cc| first.strip_prefix(cc).map(str::to_string));
        let abroad = rest.is_some();
        // After a +, only China's code makes a number here.
        if main.trim_start().starts_with('+') && !first.starts_with("86") {
            return Err(PhoneError);
        }
        if let Some(rest) = rest {
            *first = rest;
            groups.retain(|g| !g.is_empty());
        }
        let all: String = groups.concat();
        if ext.is_none() {
            let mobile = all
                .strip_prefix('0')
                .filter(|m| m.starts_with('1'))
                .unwrap_or(&all);
            if let Some(mobile) = parse_mobile(mobile) {
                return Ok(Self(mobile));
            }
        }
        // A landline written after a country code drops its trunk 0 ("+86 714 6351234").
        if abroad && !all.starts_with('0') {
            groups.insert(0, "0".to_string());
        }
        // The fewest leading groups that make a whole number; one group left over is its
        // extension ("027-87654321-801"), more are not a number.
        (1..=groups.len())
            .find_map(|k| {
                let number = parse_landline(&groups[..k].concat())?;
                let extension = match (&groups[k..], &ext) {
                    ([], None) => None,
                    ([], Some(e)) | ([e], None) => Some(e),
                    _ => return None,
                };
                match extension {
                    None => Some(number),
                    Some(e) if e.len() <= 6 => Some(format!("{number}-{e}")),
                    Some(_) => None,
                }
            })
            .map(Self)
            .ok_or(PhoneError)
    }

    /// A number read back from storage, where only numbers in the one form are written.
    pub fn from_stored(phone: String) -> Self {
        Phone(phone)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a department sees of a confidential (举报) reporter's phone: `138****8000`.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 7 {
            return "*".repeat(chars.len());
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The runs of digits of `s` between separators (spaces, hyphens, dots, brackets, a leading
/// `+`); `None` when anything else is in it.
fn groups(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut groups = vec![String::new()];
    for c in s.chars() {
        match c {
            '0'..='9' => groups.last_mut()?.push(c),
            ' ' | '-' | '.' | '(' | ')' | '（' | '）' | '\u{3000}' => {
                if !groups.last()?.is_empty() {
                    groups.push(String::new());
                }
            }
            _ => return None,
        }
    }
    groups.retain(|g| !g.is_empty());
    (!groups.is_empty()).then_some(groups)
}

fn digits_only(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
}

/// 11 digits, 13x to 19x.
fn parse_mobile(digits: &str) -> Option<String> {
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then(|| digits.to_string())
}

/// An area code and a local number of 7 or 8 digits not starting with 0 or 1, written
/// `0AA(A)-NNNNNNN(N)`.
fn parse_landline(digits: &str) -> Option<String> {
    let area_len = area_code_len(digits)?;
    let (area, number) = digits.split_at(area_len.min(digits.len()));
    let ok = (7..=8).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with(['0', '1']);
    ok.then(|| format!("{area}-{number}"))
}

/// Beijing 010 and the 02x cities have three-digit codes; every other code (03xx to 09xx) has
/// four. No code starts 00 or 01 but Beijing's.
fn area_code_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 4 || b[0] != b'0' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    match (b[1], b[2]) {
        (b'1', b'0') | (b'2', _) => Some(3),
        (b'3'..=b'9', _) => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers() {
        for (input, canonical) in [
            ("13800138000", "13800138000"),
            ("+86 138 0013 8000", "13800138000"),
            ("0086-19912345678", "19912345678"),
            ("138-0013-8000", "13800138000"),
            ("86 13800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("013800138000", "13800138000"),
            ("0 138 0013 8000", "13800138000"),
            ("138.0013.8000", "13800138000"),
            (" +86 (138) 0013-8000 ", "13800138000"),
        ] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), canonical, "{input}");
        }
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "23800138000",
            "1380013800x",
            "0013800138000",
            "013800138000转12",
            "+1 415 555 0100",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn landlines() {
        for (input, canonical) in [
            ("0714-6351234", "0714-6351234"),
            ("07146351234", "0714-6351234"),
            ("010-82345678", "010-82345678"),
            ("01062345678", "010-62345678"),
            ("027-87654321-801", "027-87654321-801"),
            ("(0714) 6351234", "0714-6351234"),
            ("+86 714 6351234", "0714-6351234"),
            ("(0714) 635-1234", "0714-6351234"),
            ("0714 635 1234", "0714-6351234"),
            ("（0714）6351234", "0714-6351234"),
            ("+86 (0)714 6351234", "0714-6351234"),
            ("0086 27 87654321", "027-87654321"),
            ("027-87654321转801", "027-87654321-801"),
            ("027 8765 4321 801", "027-87654321-801"),
            ("0755-83456789", "0755-83456789"),
        ] {
            assert_eq!(
                Phone::parse(input).map(|p| p.to_string()),
                Ok(canonical.to_string()),
                "{input}"
            );
        }
        for bad in [
            "6351234",
            "0714-635",
            "0714-012345678",
            "0014-6351234",
            "0714-6351234-1234567",
            "abc",
            "",
            "071",
            "0714",
            "+86 71",
            "071长",
            "07长14-6351234",
            "0714-",
            "013-8765432",
            "0714-6351234-12-3",
            "0714-6351234转",
            "0714-6351234转1234567",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever is typed, parsing answers and never panics.
        #[test]
        fn any_input_is_answered(s in "\\PC{0,20}", digits in "[0-9+() -]{0,20}") {
            let _ = Phone::parse(&s);
            let _ = Phone::parse(&digits);
            let _ = crate::domain::CreditCode::parse(&s);
        }
    }

    #[test]
    fn masking_keeps_head_and_tail() {
        let masked = |p: &str| Phone::from_stored(p.to_string()).masked();
        assert_eq!(masked("13800138000"), "138****8000");
        assert_eq!(masked("0714-6351234"), "071****1234");
        assert_eq!(masked("12345"), "*****");
    }
}
