//! Contact phone numbers: a mainland mobile number (11 digits, 13x–19x) or a landline with its
//! area code (010, 02x, 0xxx) and an optional extension. Stored in one canonical form.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be a mainland mobile number (e.g. 13800138000) or a landline with its area code (e.g. 0714-6351234)"
)]
pub struct PhoneError;

impl Phone {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '(' | ')'))
            .collect();
        let local = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .map(|rest| rest.trim_start_matches('-'))
            .unwrap_or(&compact);
        if let Some(mobile) = parse_mobile(local) {
            return Ok(Self(mobile));
        }
        // A landline written after +86 drops its leading 0 ("+86 714 6351234").
        if local.len() != compact.len() && !local.starts_with('0') {
            return parse_landline(&format!("0{local}"))
                .map(Self)
                .ok_or(PhoneError);
        }
        parse_landline(local).map(Self).ok_or(PhoneError)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a department sees of a confidential (举报) reporter's phone: `138****8000`.
    pub fn masked(phone: &str) -> String {
        let chars: Vec<char> = phone.chars().collect();
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

fn parse_mobile(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|&c| c != '-').collect();
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then_some(digits)
}

/// `0AA(A)-NNNNNNN(N)[-EXT]`, the hyphen after the area code optional when there is no extension.
fn parse_landline(s: &str) -> Option<String> {
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let mut parts = s.split('-');
    let first = parts.next()?;
    let (area, number, ext) = match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => {
            let area_len = area_code_len(first).filter(|&n| n < first.len())?;
            (&first[..area_len], &first[area_len..], None)
        }
        (Some(number), ext, None) => (first, number, ext),
        _ => return None,
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let area_ok = digits(area) && area_code_len(area) == Some(area.len());
    let number_ok =
        digits(number) && (7..=8).contains(&number.len()) && !number.starts_with(['0', '1']);
    let ext_ok = ext.is_none_or(|e| digits(e) && e.len() <= 6);
    if !(area_ok && number_ok && ext_ok) {
        return None;
    }
    Some(match ext {
        Some(e) => format!("{area}-{number}-{e}"),
        None => format!("{area}-{number}"),
    })
}

/// Beijing 010 and the 02x cities have three-digit codes; every other code has four.
fn area_code_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 3 || b[0] != b'0' || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    match b[1] {
        b'1' | b'2' => Some(3),
        b'3'..=b'9' => Some(4),
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
        ] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), canonical, "{input}");
        }
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "23800138000",
            "1380013800x",
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
        assert_eq!(Phone::masked("13800138000"), "138****8000");
        assert_eq!(Phone::masked("0714-6351234"), "071****1234");
        assert_eq!(Phone::masked("12345"), "*****");
    }
}
