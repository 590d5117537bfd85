//! Who a role is, in addresses: a department's mailbox and its staff with an email, its head, the
//! hotline desk (`mail.desk` and operators), supervisors (`mail.supervisors` and supervisor users),
//! leadership (`mail.leadership`). Resolved in the transaction of the change, so a notification
//! goes where it was meant to when it was written, whatever changes later.

use crate::domain::notification::Recipient;
use crate::store::{DbConn, StoreError, departments, users};
use std::collections::{BTreeMap, BTreeSet};

/// The addresses behind the roles besides the users who have an email: `mail.desk`,
/// `mail.supervisors`, `mail.leadership` in config.
#[derive(Debug, Clone, Default)]
pub struct MailRoles {
    pub desk: Vec<String>,
    pub supervisors: Vec<String>,
    pub leadership: Vec<String>,
}

/// The addresses of each recipient of `wanted`, sorted, each once.
pub fn resolve(
    conn: &mut DbConn,
    wanted: &BTreeSet<Recipient>,
    roles: &MailRoles,
) -> Result<BTreeMap<Recipient, Vec<String>>, StoreError> {
    if wanted.is_empty() {
        // A change that sends no mail (a create) asks nothing of the database.
        return Ok(BTreeMap::new());
    }
    let codes: Vec<&str> = wanted
        .iter()
        .filter_map(|r| match r {
            Recipient::Department(c) | Recipient::DepartmentHead(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    let units = departments::mailboxes(conn, &codes)?;
    let people = users::with_email(conn, &["operator", "supervisor"], &codes)?;
    let with_role = |role: &str| -> Vec<String> {
        people
            .iter()
            .filter(|(r, _, _)| r == role)
            .map(|(_, _, e)| e.clone())
            .collect()
    };
    let mut out = BTreeMap::new();
    for r in wanted {
        let mut addresses: Vec<String> = match r {
            Recipient::Department(code) => {
                let unit = units
                    .iter()
                    .filter(|(c, _, _)| code == c.as_str())
                    .map(|(_, e, _)| e.clone());
                let staff = people
                    .iter()
                    .filter(|(role, d, _)| {
                        role == "department" && d.as_deref() == Some(code.as_str())
                    })
                    .map(|(_, _, e)| e.clone());
                unit.chain(staff).collect()
            }
            Recipient::DepartmentHead(code) => units
                .iter()
                .filter(|(c, _, _)| code == c.as_str())
                .filter_map(|(_, _, h)| h.clone())
                .collect(),
            Recipient::Desk => roles
                .desk
                .iter()
                .cloned()
                .chain(with_role("operator"))
                .collect(),
            Recipient::Supervisors => roles
                .supervisors
                .iter()
                .cloned()
                .chain(with_role("supervisor"))
                .collect(),
            Recipient::Leadership => roles.leadership.clone(),
        };
        addresses.sort();
        addresses.dedup();
        out.insert(r.clone(), addresses);
    }
    Ok(out)
}
