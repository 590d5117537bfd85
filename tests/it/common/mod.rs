//! The test harness: the real app on a loopback port over a fresh database — a SQLite file or a
//! PostgreSQL database made for the test and dropped after it.

pub mod browser;
pub mod smtp;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::web;
use closedloop::api::AppState;
use closedloop::config::Config;
use closedloop::domain::ticket::Role;
use closedloop::store::DbConn;
use closedloop::{seed, server};
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn name(backend: Backend)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[actix_web::test] async fn $name() { super::$name($crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[actix_web::test] async fn $name() { super::$name($crate::common::Backend::Postgres).await } )*
        }
    };
}

/// The PostgreSQL server the tests make their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CLOSEDLOOP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("closedloop.db").display());
                TestDb {
                    url,
                    name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("closedloop_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin} is needed for the tests: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: format!("{base}/{name}"),
                    name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.name
            && let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub state: web::Data<AppState>,
    pub config: Config,
    client: awc::Client,
    handle: ServerHandle,
    pub db: TestDb,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
    /// The body as it came (a file, say).
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 7807 problem with this status and code; returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["status"], status);
        &self.body
    }

    /// The fields named in a 422's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "{} {}", self.status, self.body);
        &self.body
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    pub async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
        let db = TestDb::new(backend);
        let mut vars: Vec<(String, String)> = vec![("DATABASE_URL".into(), db.url.clone())];
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::load(None, vars).expect("test config");
        let pool = server::pool(&config).expect("database");
        let settings = server::load_settings(&config, &mut pool.get().unwrap()).unwrap();
        seed::run(
            &mut pool.get().unwrap(),
            std::path::Path::new("seeds"),
            false,
            &settings,
        )
        .expect("seed");
        let state = web::Data::new(server::state(&config, pool).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut http = config.http.clone();
        http.workers = 2;
        let srv = server::run(state.clone(), listener, &http).unwrap();
        let handle = srv.handle();
        actix_web::rt::spawn(srv);
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .disable_redirects()
            .finish();
        TestApp {
            base,
            state,
            config,
            client,
            handle,
            db,
        }
    }

    pub fn conn(&self) -> closedloop::store::PooledConn {
        self.state.pool.get().unwrap()
    }

    pub fn token(&self, username: &str, role: Role, department: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        self.state
            .tokens
            .issue(username, role, department, now, None)
    }

    pub fn operator(&self) -> String {
        self.token("op1", Role::Operator, None)
    }

    pub fn supervisor(&self) -> String {
        self.token("sup1", Role::Supervisor, None)
    }

    pub fn admin(&self) -> String {
        self.token("admin1", Role::Admin, None)
    }

    pub fn department(&self, code: &str) -> String {
        self.token(&format!("{code}-staff"), Role::Department, Some(code))
    }

    /// Sends a request; `body` is sent as it is (so malformed JSON can be sent too).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let typed = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let mut res = match body {
            Some(b) if typed => req.send_body(b).await,
            Some(b) => {
                req.insert_header(("Content-Type", "application/json"))
                    .send_body(b)
                    .await
            }
            None => req.send().await,
        }
        .expect("the server answers");
        let bytes = res.body().limit(64 * 1024 * 1024).await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body,
            raw: bytes.to_vec(),
        }
    }

    /// A GET carrying two `Authorization` headers; the status and the body as text.
    pub async fn send_twice_authorized(
        &self,
        path: &str,
        first: &str,
        second: &str,
    ) -> (u16, String) {
        let mut res = self
            .client
            .get(format!("{}{path}", self.base))
            .append_header(("Authorization", format!("Bearer {first}")))
            .append_header(("Authorization", format!("Bearer {second}")))
            .send()
            .await
            .expect("the server answers");
        let body = res.body().await.expect("a body");
        (res.status().as_u16(), String::from_utf8_lossy(&body).into())
    }

    /// POSTs `body` in chunks, without a Content-Length.
    pub async fn send_streamed(&self, path: &str, token: &str, body: Vec<u8>) -> Reply {
        let chunks: Vec<Result<web::Bytes, std::io::Error>> = body
            .chunks(64 * 1024)
            .map(|c| Ok(web::Bytes::copy_from_slice(c)))
            .collect();
        let mut res = self
            .client
            .post(format!("{}{path}", self.base))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_stream(futures_util::stream::iter(chunks))
            .await
            .expect("the server answers");
        let bytes = res.body().await.expect("a body");
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            raw: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), &[], None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            Some(token),
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub async fn act(&self, id: &str, action: &str, token: &str, body: Value) -> Reply {
        self.post(
            &format!("/api/v1/tickets/{id}/actions/{action}"),
            token,
            &body,
        )
        .await
    }

    /// Creates a complaint as an operator; `overrides` replaces top-level fields.
    pub async fn create(&self, overrides: Value) -> Value {
        let mut body = complaint();
        if let (Some(b), Some(o)) = (body.as_object_mut(), overrides.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.post("/api/v1/tickets", &self.operator(), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// A ticket created and dispatched to `lead` (with `co` co-handling), then signed if asked.
    pub async fn dispatched(&self, lead: &str, co: &[&str], sign: bool) -> Value {
        let t = self.create(json!({})).await;
        let id = t["id"].as_str().unwrap();
        let r = self
            .act(
                id,
                "dispatch",
                &self.operator(),
                json!({"department": lead, "co_departments": co}),
            )
            .await;
        r.ok();
        if sign {
            return self
                .act(id, "sign", &self.department(lead), json!({}))
                .await
                .ok()
                .clone();
        }
        r.body
    }

    /// Runs the scheduler's work as if the clock said `at`: fires everything due by then.
    pub fn fire_due(&self, at: chrono::NaiveDateTime) -> closedloop::app::scheduler::Round {
        closedloop::app::scheduler::fire_due(&mut self.conn(), &self.state.settings, at, 100)
            .expect("fire due timers")
    }

    /// The ticket's timers, straight from the API, by kind (the latest of each kind).
    pub async fn timers(&self, id: &str) -> std::collections::BTreeMap<String, Value> {
        let r = self
            .get(&format!("/api/v1/tickets/{id}/timers"), &self.operator())
            .await;
        r.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["kind"].as_str().unwrap().to_string(), t.clone()))
            .collect()
    }

    /// The actions of the ticket's timeline, in order.
    pub async fn actions(&self, id: &str) -> Vec<String> {
        let r = self
            .get(
                &format!("/api/v1/tickets/{id}/events?limit=100"),
                &self.operator(),
            )
            .await;
        r.ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    }

    /// Starts the real scheduler loop on this app's database.
    pub fn start_scheduler(
        &self,
        tick: std::time::Duration,
    ) -> closedloop::jobs::scheduler::Scheduler {
        closedloop::jobs::scheduler::Scheduler::spawn(
            self.state.pool.clone(),
            self.state.settings.clone(),
            tick,
            self.config.is_sqlite(),
        )
    }

    /// A mailer's work, as if the clock said `at`: sends everything due by then, batch by batch.
    pub async fn deliver(&self, at: chrono::NaiveDateTime) -> closedloop::notify::Round {
        let postman = server::postman(&self.config).expect("mail settings");
        let mut all = closedloop::notify::Round::default();
        loop {
            let round = postman
                .deliver_due(&self.state.pool, self.state.settings.timezone, at)
                .await
                .expect("a mail round");
            all.sent += round.sent;
            all.retried += round.retried;
            all.failed += round.failed;
            all.lost += round.lost;
            if (round.leased() as i64) < postman.mailing.batch {
                return all;
            }
        }
    }

    /// The notifications of the outbox (newest first) as supervisors see them.
    pub async fn notifications(&self, query: &str) -> Vec<Value> {
        let r = self
            .get(
                &format!("/api/v1/notifications?limit=100&{query}"),
                &self.supervisor(),
            )
            .await;
        r.ok()["items"].as_array().unwrap().clone()
    }

    /// Adds a user with an email, as `closedloop user add` does.
    pub fn add_user(&self, username: &str, role: Role, department: Option<&str>, email: &str) {
        closedloop::app::accounts::add_user(
            &mut self.conn(),
            &closedloop::app::accounts::NewUser {
                username: username.into(),
                role,
                department: department.map(str::to_string),
                email: Some(email.into()),
            },
            None,
        )
        .expect("a user");
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A valid complaint body (`tests/fixtures/complaint.json`, also sent by `scripts/faults.py`).
pub fn complaint() -> Value {
    serde_json::from_str(include_str!("../../fixtures/complaint.json"))
        .expect("the fixture is JSON")
}

/// A ticket's id, from its JSON.
pub fn id(t: &Value) -> &str {
    t["id"].as_str().expect("a ticket has an id")
}

/// `s` percent-encoded for a query string.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' | b'_' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Counts rows straight from the database, bypassing the API.
pub fn count(conn: &mut DbConn, table: &str) -> i64 {
    use closedloop::store::schema::*;
    use diesel::QueryDsl;
    match table {
        "tickets" => tickets::table.count().get_result(conn),
        "ticket_events" => ticket_events::table.count().get_result(conn),
        "idempotency_keys" => idempotency_keys::table.count().get_result(conn),
        "departments" => departments::table.count().get_result(conn),
        "users" => users::table.count().get_result(conn),
        "kpi_deltas" => kpi_deltas::table.count().get_result(conn),
        "knowledge_articles" => knowledge_articles::table.count().get_result(conn),
        "knowledge_versions" => knowledge_versions::table.count().get_result(conn),
        other => panic!("no count for {other}"),
    }
    .unwrap()
}
