//! The similar-case look-up at intake over 100,000 cases: a fresh database (SQLite or
//! PostgreSQL) holding the 76 cases of `tests/fixtures/similar.json` among 100,000 others made
//! from those cases' sentences and subjects shuffled (so every topic recurs thousands of times,
//! and one case in fifty names an enterprise of the labelled set), each written as a create writes it (the
//! ticket, its terms, its enterprise). Then asks the 76 drafts of the set, several rounds, as
//! `POST /api/v1/tickets/similar` does, and prints the time per look-up (p50, p99, max) and the
//! share of the 56 labelled repeats found in the top 5, with and without the credit code.
//! Prints numbers; asserts nothing about time.
//!
//!     cargo bench --bench similar -- --bench [--backend sqlite|postgres] [--tickets N] [--runs N]
//!     (PostgreSQL: CLOSEDLOOP_TEST_POSTGRES names the server; a database is made and dropped)

use chrono::Duration;
use closedloop::app::enterprises;
use closedloop::config::Config;
use closedloop::domain::ticket::{
    Actor, Category, Channel, Contact, Enterprise, Role, State, Ticket, TicketId, Urgency,
};
use closedloop::domain::{CreditCode, Phone};
use closedloop::server;
use closedloop::store::rows::TicketRow;
use closedloop::store::schema::tickets;
use closedloop::store::{DbConn, search};
use diesel::RunQueryDsl;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;

mod support;
use support::arg;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("the look-up benchmark runs with `cargo bench --bench similar -- --bench`");
        return;
    }
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let n: usize = arg("--tickets")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = arg("--runs").and_then(|n| n.parse().ok()).unwrap_or(5);
    support::with_database("similar", &backend, |url| run(&backend, url, n, runs));
}

/// A small deterministic generator (xorshift), so every run makes the same cases.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn ticket(i: usize, case: &Value, created: chrono::NaiveDateTime) -> Ticket {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    Ticket {
        id: TicketId::new(),
        number: format!("SB-{i:07}"),
        state: State::Accepted,
        outcome: None,
        channel: case["channel"]
            .as_str()
            .unwrap()
            .parse::<Channel>()
            .unwrap(),
        category: case["category"]
            .as_str()
            .unwrap()
            .parse::<Category>()
            .unwrap(),
        urgency: Urgency::Normal,
        enterprise: Enterprise {
            name: text(&case["enterprise"]["name"]),
            credit_code: CreditCode::from_stored(text(&case["enterprise"]["credit_code"])),
        },
        contact: Contact {
            name: text(&case["contact"]["name"]),
            phone: Phone::from_stored(text(&case["contact"]["phone"])),
        },
        subject: text(&case["subject"]),
        description: text(&case["description"]),
        lead_department: None,
        co_departments: vec![],
        first_department: None,
        replied_at: None,
        replied_by: None,
        pending_extension: None,
        merged_into: None,
        duplicate_of: None,
        reopen_count: 0,
        version: 1,
        created_by: "operator".into(),
        created_at: created,
        updated_at: created,
        due_at: None,
        escalation_level: 0,
    }
}

fn run(backend: &str, url: &str, n: usize, runs: usize) {
    let config = Config::load(None, vec![("DATABASE_URL".to_string(), url.to_string())]).unwrap();
    let pool = server::pool(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let settings = server::load_settings(&config, &mut conn).unwrap();
    let set: Value = serde_json::from_str(include_str!("../tests/fixtures/similar.json")).unwrap();
    let corpus = set["corpus"].as_array().unwrap();
    let queries = set["queries"].as_array().unwrap();
    // The other cases are made of the labelled cases' own sentences and subjects (not of the
    // drafts', which would make repeats of the drafts themselves).
    let all: Vec<&Value> = corpus.iter().collect();
    let sentences: Vec<String> = all
        .iter()
        .flat_map(|c| c["description"].as_str().unwrap().split('。'))
        .filter(|s| s.chars().count() > 4)
        .map(str::to_string)
        .collect();
    let codes: Vec<String> = corpus
        .iter()
        .map(|c| c["enterprise"]["credit_code"].as_str().unwrap().to_string())
        .collect();

    let started = Instant::now();
    let now = closedloop::store::now();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // The labelled cases at every (n / 76)th place, the others between them.
    let every = (n / corpus.len()).max(1);
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let mut made = 0;
    for batch in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut rows = vec![];
        for &i in batch {
            let created = now - Duration::minutes((n - i) as i64 * 5);
            let t = if i % every == 0 && i / every < corpus.len() {
                let case = &corpus[i / every];
                let t = ticket(i, case, created);
                keys.insert(t.id.to_string(), case["key"].as_str().unwrap().into());
                t
            } else {
                let model = all[rng.below(all.len())];
                let mut t = ticket(i, model, created);
                let parts = 2 + rng.below(3);
                t.description = (0..parts)
                    .map(|_| sentences[rng.below(sentences.len())].as_str())
                    .collect::<Vec<_>>()
                    .join("。");
                t.subject = all[rng.below(all.len())]["subject"]
                    .as_str()
                    .unwrap()
                    .to_string();
                if rng.below(50) == 0 {
                    t.enterprise.credit_code =
                        CreditCode::from_stored(codes[rng.below(codes.len())].clone());
                } else {
                    t.enterprise.credit_code = CreditCode::from_stored(format!("BENCH{i:013}"));
                    t.enterprise.name = format!("黄石某企业{i}");
                }
                t
            };
            rows.push(t);
        }
        made += rows.len();
        closedloop::store::conn::write(
            &mut conn,
            |c| -> Result<(), closedloop::store::StoreError> {
                let ticket_rows: Vec<TicketRow> = rows.iter().map(TicketRow::from_ticket).collect();
                for chunk in ticket_rows.chunks(1000) {
                    match &mut *c {
                        DbConn::Postgres(pg) => diesel::insert_into(tickets::table)
                            .values(chunk)
                            .execute(pg),
                        DbConn::Sqlite(lite) => diesel::insert_into(tickets::table)
                            .values(chunk)
                            .execute(lite),
                    }?;
                }
                for t in &rows {
                    search::index_ticket(c, t)?;
                    closedloop::store::enterprises::record(c, t)?;
                }
                Ok(())
            },
        )
        .unwrap();
    }
    let analyze = if backend == "postgres" {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    };
    diesel::sql_query(analyze).execute(&mut *conn).unwrap();
    assert_eq!(keys.len(), corpus.len(), "every labelled case is in");
    println!(
        "{backend}: {made} cases ({} labelled) loaded in {:.1?}",
        keys.len(),
        started.elapsed()
    );

    let op = Actor::user("operator", Role::Operator, None);
    for with_code in [true, false] {
        let mut times = vec![];
        let (mut repeats, mut found) = (0, 0);
        for round in 0..runs {
            for q in queries {
                let mut draft = q["draft"].clone();
                if !with_code {
                    draft.as_object_mut().unwrap().remove("enterprise");
                }
                let started = Instant::now();
                let d = enterprises::draft(&draft).unwrap();
                let items = enterprises::similar(&mut conn, &settings, &op, &d, now).unwrap();
                times.push(started.elapsed());
                if round == 0
                    && let Some(want) = q["duplicate_of"].as_str()
                {
                    repeats += 1;
                    let top: Vec<&str> = items
                        .iter()
                        .take(5)
                        .filter_map(|s| keys.get(&s.ticket.id.to_string()).map(String::as_str))
                        .collect();
                    found += usize::from(top.contains(&want));
                }
            }
        }
        times.sort();
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "{backend} look-up {}: {} look-ups, p50 {:.1?}, p99 {:.1?}, max {:.1?}; \
             repeats in the top 5: {found}/{repeats} ({:.1} %)",
            if with_code {
                "with the credit code"
            } else {
                "by the words alone"
            },
            times.len(),
            at(0.5),
            at(0.99),
            times.last().unwrap(),
            found as f64 * 100.0 / repeats as f64
        );
    }
}
