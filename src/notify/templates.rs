//! The mail templates: `templates/email/<name>/{subject.txt,body.txt,body.html}` and the shared
//! layouts, built into the binary; a folder named by `mail.templates` replaces any of them.

use minijinja::{Environment, UndefinedBehavior};
use std::path::Path;

const PARTS: [&str; 3] = ["subject.txt", "body.txt", "body.html"];

macro_rules! file {
    ($path:expr) => {
        (
            $path,
            include_str!(concat!("../../templates/email/", $path)),
        )
    };
}

/// The notifications there are templates for (`NAMES`), and every file built in (`BUILT_IN`).
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        /// The notifications there are templates for.
        pub const NAMES: &[&str] = &[$($name),*];

        const BUILT_IN: &[(&str, &str)] = &[
            file!("base.txt"),
            file!("base.html"),
            file!("_case.txt"),
            file!("_case.html"),
            $(
                file!(concat!($name, "/subject.txt")),
                file!(concat!($name, "/body.txt")),
                file!(concat!($name, "/body.html")),
            )*
        ];
    };
}

templates!(
    "dispatch",
    "co_dispatch",
    "returned",
    "supervised",
    "coordination",
    "extension_requested",
    "extension_decided",
    "replied",
    "warning",
    "escalation",
    "digest",
    "monthly",
);

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no mail template named '{0}'")]
    Unknown(String),
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("mail template {0}: {1}")]
    Syntax(String, minijinja::Error),
    #[error("rendering mail template {0}: {1}")]
    Render(String, minijinja::Error),
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, with those found in `overrides` (same relative names) in their place.
    pub fn load(overrides: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        // Text templates keep their line breaks where the author put them, not where tags were.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // A missing value renders as nothing rather than failing a mail.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        for (name, source) in BUILT_IN {
            let source = match overrides.map(|dir| dir.join(name)) {
                Some(path) if path.is_file() => std::fs::read_to_string(&path)
                    .map_err(|e| TemplateError::Read(path.display().to_string(), e))?,
                _ => source.to_string(),
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| TemplateError::Syntax(name.to_string(), e))?;
        }
        Ok(Templates { env })
    }

    /// Renders notification `name` with `context`.
    pub fn render(
        &self,
        name: &str,
        context: &serde_json::Value,
    ) -> Result<Rendered, TemplateError> {
        if !NAMES.contains(&name) {
            return Err(TemplateError::Unknown(name.to_string()));
        }
        let [subject, text, html] = PARTS.map(|part| {
            let file = format!("{name}/{part}");
            self.env
                .get_template(&file)
                .and_then(|t| t.render(context))
                .map_err(|e| TemplateError::Render(file, e))
        });
        Ok(Rendered {
            // One line: a subject with a line break would end the header early.
            subject: subject?.split_whitespace().collect::<Vec<_>>().join(" "),
            text: tidy(&text?),
            html: html?,
        })
    }
}

/// At most one blank line in a row, none at the start, one line break at the end.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = true;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notification_has_its_three_parts_built_in() {
        for name in NAMES {
            for part in PARTS {
                let file = format!("{name}/{part}");
                assert!(
                    BUILT_IN.iter().any(|(n, _)| *n == file),
                    "{file} is not built in"
                );
            }
        }
        Templates::load(None).expect("the built-in templates compile");
    }

    #[test]
    fn a_folder_replaces_the_templates_it_has() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dispatch")).unwrap();
        std::fs::write(
            dir.path().join("dispatch/subject.txt"),
            "New case {{ number }}\n",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let r = t
            .render("dispatch", &serde_json::json!({"number": "XL-1"}))
            .unwrap();
        assert_eq!(r.subject, "New case XL-1");
        assert!(
            r.text.contains("XL-1"),
            "the body is still the built-in one"
        );
    }

    #[test]
    fn a_broken_replacement_is_refused_at_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.txt"), "{% block content %}").unwrap();
        assert!(matches!(
            Templates::load(Some(dir.path())),
            Err(TemplateError::Syntax(..))
        ));
    }

    #[test]
    fn html_escapes_what_people_typed_and_text_keeps_it() {
        let t = Templates::load(None).unwrap();
        let r = t
            .render(
                "returned",
                &serde_json::json!({"number": "XL-1", "subject": "<b>x</b> & y",
                    "payload": {"reason": "<script>"}}),
            )
            .unwrap();
        assert!(
            r.html.contains("&lt;b&gt;x&lt;&#x2f;b&gt; &amp; y")
                || r.html.contains("&lt;b&gt;x&lt;/b&gt; &amp; y"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<script>"));
        assert!(r.text.contains("<script>"));
        assert_eq!(r.subject, "【退回】XL-1 ：<b>x</b> & y");
    }
}
