//! Free text as people type it: trimmed of blanks and invisible characters, bounded, and free of
//! control characters.

use super::field::FieldError;

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
