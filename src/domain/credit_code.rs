//! 统一社会信用代码 (unified social credit code), GB 32100-2015, with the organisation code
//! (GB 11714) it embeds. A `CreditCode` exists only if both check characters are right.

use std::fmt;

/// The 31 characters of GB 32100-2015, in the order of their values (no I, O, S, V, Z).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("character {position} ('{found}') is not allowed in a credit code")]
    Character { position: usize, found: char },
    #[error("characters 3 to 8 must be an administrative division code (digits)")]
    Division,
    #[error("the organisation code check character (9th to 17th) is wrong: expected '{expected}'")]
    OrganisationCheck { expected: char },
    #[error("the check character is wrong: expected '{expected}'")]
    Check { expected: char },
}

impl CreditCode {
    /// Accepts lower case and surrounding blanks, as people type them, and keeps the canonical form.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let count = code.chars().count();
        if count != 18 {
            return Err(CreditCodeError::Length(count));
        }
        let mut values = [0u32; 18];
        for (i, c) in code.chars().enumerate() {
            values[i] = value_of(c).ok_or(CreditCodeError::Character {
                position: i + 1,
                found: c,
            })?;
        }
        if !code[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err(CreditCodeError::Division);
        }
        let expected_org = organisation_check(&code[8..16]).ok_or(CreditCodeError::Character {
            position: 9,
            found: code.chars().nth(8).unwrap_or('?'),
        })?;
        if code.as_bytes()[16] as char != expected_org {
            return Err(CreditCodeError::OrganisationCheck {
                expected: expected_org,
            });
        }
        let expected = check_character(&values[..17]);
        if code.as_bytes()[17] as char != expected {
            return Err(CreditCodeError::Check { expected });
        }
        Ok(Self(code))
    }

    /// A code read back from storage, where only checked codes are written.
    pub fn from_stored(code: String) -> Self {
        CreditCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Completes 17 characters with their check character; used to make valid test data.
    pub fn with_check_character(first17: &str) -> Option<String> {
        let values: Option<Vec<u32>> = first17.chars().map(value_of).collect();
        let values = values.filter(|v| v.len() == 17)?;
        Some(format!("{first17}{}", check_character(&values)))
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

fn check_character(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

/// GB 11714: digits and capital letters (A = 10 … Z = 35), weights 3 7 9 10 5 8 4 2, modulus 11,
/// where 10 is written 'X' and 11 is written '0'.
fn organisation_check(body: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in body.chars().zip(ORG_WEIGHTS) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).expect("a single digit"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on public business licences.
        for code in ["91350100M000100Y43", "914403001922038216"] {
            assert_eq!(
                CreditCode::parse(code).map(|c| c.to_string()),
                Ok(code.to_string()),
                "{code}"
            );
        }
    }

    #[test]
    fn normalises_case_and_blanks() {
        assert_eq!(
            CreditCode::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn rejects_wrong_check_character() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::Check { expected: '3' })
        );
    }

    #[test]
    fn rejects_wrong_organisation_check() {
        // Change the organisation check character and fix the outer one, so only GB 11714 fails.
        let code = CreditCode::with_check_character("91350100M000100Y5").unwrap();
        assert_eq!(
            CreditCode::parse(&code),
            Err(CreditCodeError::OrganisationCheck { expected: '4' })
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(CreditCode::parse("9135"), Err(CreditCodeError::Length(4)));
        assert!(matches!(
            CreditCode::parse("91350100M000100I43"),
            Err(CreditCodeError::Character {
                position: 16,
                found: 'I'
            })
        ));
        assert_eq!(
            CreditCode::parse("9135A100M000100Y43"),
            Err(CreditCodeError::Division)
        );
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let good = "91350100M000100Y43";
        for i in 0..18 {
            for c in ALPHABET.iter().map(|&b| b as char) {
                let mut s: Vec<char> = good.chars().collect();
                if s[i] == c {
                    continue;
                }
                s[i] = c;
                let s: String = s.into_iter().collect();
                assert!(CreditCode::parse(&s).is_err(), "{s} should be refused");
            }
        }
    }
}
