//! The pure domain: types that validate themselves, and the lifecycle that decides every change
//! of a ticket. Nothing in here does I/O or reads a clock.

/// A closed set of lower-case names, parsed from and written to the API and the database.
macro_rules! name_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// "one of a, b, c": for error messages.
            pub fn expected() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("must be one of: {}", names.join(", "))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Self::expected()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod calendar;
pub mod credit_code;
pub mod duration;
pub mod escalation;
pub mod lifecycle;
pub mod phone;
pub mod sla;
pub mod ticket;
pub mod time;
pub mod timer;

pub use credit_code::CreditCode;
pub use phone::Phone;

/// A problem with one field of a request, reported back as `errors: [{field, message}]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads a JSON value into `T`, naming the field that is missing, of the wrong type or unknown.
pub fn from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        // serde names a missing field in its message only, against the enclosing object.
        let field = match inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            Some(name) if path == "." => name.to_string(),
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_string(),
            None => path,
        };
        let message = match inner.split_once(", expected one of") {
            Some((head, _)) if inner.starts_with("unknown field") => {
                format!("{head} is not accepted here")
            }
            _ => inner,
        };
        FieldError::new(field, message)
    })
}

/// Free text a person must fill in: not blank, at most `max` characters; returns it trimmed.
/// Text made only of blanks and invisible characters (zero-width spaces, BOMs) is blank.
pub fn required_text(field: &str, value: Option<&str>, max: usize) -> Result<String, FieldError> {
    let text = value.map(trim).unwrap_or_default();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required and may not be blank"));
    }
    optional_text(field, Some(text), max).map(Option::unwrap_or_default)
}

pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => Err(FieldError::new(
            field,
            format!("may be at most {max} characters"),
        )),
        Some(t) if has_control(t) => Err(FieldError::new(
            field,
            "may not contain control characters other than line breaks and tabs",
        )),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// `text` without the blanks and invisible characters around it.
pub fn trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || invisible(c))
}

/// Characters that take no room on screen: zero-width spaces and joiners, the BOM, direction
/// marks, the soft hyphen, word joiners and the Hangul fillers. A name made of them shows as
/// nothing.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}')
}

/// Control characters other than line breaks and tabs: never part of a person's text.
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Keeps the value of one check, or records its error to be reported with the others.
pub fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}
