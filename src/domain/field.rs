//! A problem with one field of what was sent, and reading JSON so that the problem names it.

/// A problem with one field of a request, reported back as `errors: [{field, message}]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON path of the field (`enterprise.credit_code`, `co_departments[2]`), or the header
    /// or parameter.
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

/// Keeps the value of one check, or records its error to be reported with the others.
pub fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}
