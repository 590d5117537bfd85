//! A department's code (承办单位代码, e.g. `shijian`): how cases, users and mail name a department.

use serde::{Deserialize, Serialize};
use std::fmt;

/// 1 to 64 ASCII letters, digits, `-` or `_`. Whether a department with this code exists is the
/// store's to say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DepartmentCode(String);

/// The longest code there is; a longer text is not one.
pub const CODE_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a department code (1 to 64 letters, digits, - or _)")]
pub struct DepartmentCodeError;

impl DepartmentCode {
    pub fn parse(text: &str) -> Result<Self, DepartmentCodeError> {
        let ok = (1..=CODE_MAX).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        ok.then(|| DepartmentCode(text.to_string()))
            .ok_or(DepartmentCodeError)
    }

    /// A code read back from storage, where only checked codes are written.
    pub fn from_stored(text: String) -> Self {
        DepartmentCode(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DepartmentCode {
    type Error = DepartmentCodeError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        DepartmentCode::parse(&text)
    }
}

impl From<DepartmentCode> for String {
    fn from(code: DepartmentCode) -> String {
        code.0
    }
}

impl fmt::Display for DepartmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for DepartmentCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::ops::Deref for DepartmentCode {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for DepartmentCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_plain_names() {
        for ok in ["shijian", "zheng-shu_2", "A"] {
            assert_eq!(DepartmentCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "区市监局", "a b", "x;drop", &"a".repeat(65)] {
            assert!(DepartmentCode::parse(bad).is_err(), "{bad}");
        }
    }
}
