//! The pure domain: types that validate themselves, and the lifecycle that decides every change
//! of a ticket. Nothing in here does I/O or reads a clock. Files here import each other directly
//! (`super::field::FieldError`), never through this module's re-exports.

/// A closed set of lower-case names, parsed from and written to the API and the database.
macro_rules! name_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

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
pub mod department;
pub mod duration;
pub mod escalation;
pub mod field;
pub mod figures;
pub mod knowledge;
pub mod kpi;
pub mod lifecycle;
pub mod markdown;
pub mod notification;
pub mod phone;
pub mod similar;
pub mod sla;
pub mod terms;
pub mod text;
pub mod ticket;
pub mod time;
pub mod timer;
pub mod words;

pub use credit_code::CreditCode;
pub use department::DepartmentCode;
pub use field::{FieldError, collect, from_json};
pub use phone::Phone;
pub use text::{has_control, invisible, optional_text, required_text, trim};
