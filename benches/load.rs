//! The load generator: drives a running closedloop over HTTP and, side by side in the same run,
//! the same store operations in process (no HTTP, auth, JSON or pool wait on top), so the report
//! shows the service's rate as a share of the store's own. Starts nothing: it is given the
//! service's base URL, tokens (or the demo password), and for the baseline the database URL.
//!
//!     cargo bench --bench load -- --base http://127.0.0.1:8080 --password demo \
//!         [--database URL] [--scenario create,loop,read,list,mixed,console-case,console-queue]
//!         [--clients 1,8,32]
//!         [--duration 10] [--department shijian] [--pid PID] [--prepare N]
//!
//! `--prepare N` first logs N complaints (and dispatches every other one) in process, so lists
//! and reads run against a table of realistic size. `--pid` reads the service's peak RSS at the end.

use awc::Client;
use closedloop::app::Settings;
use closedloop::app::tickets as service;
use closedloop::config::Config;
use closedloop::domain::lifecycle::ActionKind;
use closedloop::domain::ticket::{Actor, Role, TicketId};
use closedloop::server;
use closedloop::store::{self, Pool};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Args {
    base: Option<String>,
    database: Option<String>,
    scenarios: Vec<String>,
    clients: Vec<usize>,
    duration: Duration,
    department: String,
    password: Option<String>,
    operator_token: Option<String>,
    department_token: Option<String>,
    pid: Option<u32>,
    prepare: usize,
}

fn args() -> Args {
    let mut a = Args {
        base: None,
        database: None,
        scenarios: [
            "create",
            "loop",
            "read",
            "list",
            "mixed",
            "console-case",
            "console-queue",
        ]
        .map(String::from)
        .to_vec(),
        clients: vec![1, 8, 32],
        duration: Duration::from_secs(10),
        department: "shijian".into(),
        password: None,
        operator_token: std::env::var("LOAD_OPERATOR_TOKEN").ok(),
        department_token: std::env::var("LOAD_DEPARTMENT_TOKEN").ok(),
        pid: None,
        prepare: 0,
    };
    let all: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < all.len() {
        let value = || all.get(i + 1).cloned().unwrap_or_default();
        match all[i].as_str() {
            "--base" => a.base = Some(value()),
            "--database" => a.database = Some(value()),
            "--scenario" => a.scenarios = value().split(',').map(String::from).collect(),
            "--clients" => a.clients = value().split(',').filter_map(|c| c.parse().ok()).collect(),
            "--duration" => a.duration = Duration::from_secs(value().parse().unwrap_or(10)),
            "--department" => a.department = value(),
            "--password" => a.password = Some(value()),
            "--operator-token" => a.operator_token = Some(value()),
            "--department-token" => a.department_token = Some(value()),
            "--pid" => a.pid = value().parse().ok(),
            "--prepare" => a.prepare = value().parse().unwrap_or(0),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn complaint(i: usize) -> Value {
    let categories = [
        "complaint",
        "consultation",
        "help",
        "suggestion",
        "complaint",
    ];
    let channel = ["hotline", "web", "wechat"][i % 3];
    json!({
        "channel": channel,
        "category": categories[i % categories.len()],
        "urgency": if i.is_multiple_of(10) { "urgent" } else { "normal" },
        "enterprise": {"name": format!("黄石市下陆区恒信机械制造有限公司{}", i % 997), "credit_code": "91420204MA4B1C2D1D"},
        "contact": {"name": "王建国", "phone": format!("139{:08}", i % 100_000_000)},
        "subject": format!("食品经营许可证变更办理超时（{i}）"),
        "description": "企业于上月提交申请，至今未收到受理结果，多次电话询问无果。",
    })
}

/// The steps of the closed loop after 受理, and whether the department (else the operator) acts.
fn loop_steps(department: &str) -> [(ActionKind, bool, Value); 6] {
    [
        (
            ActionKind::Dispatch,
            false,
            json!({"department": department}),
        ),
        (ActionKind::Sign, true, json!({})),
        (
            ActionKind::InterimReply,
            true,
            json!({"content": "已受理，正在核查"}),
        ),
        (
            ActionKind::Reply,
            true,
            json!({"content": "已办结，答复企业"}),
        ),
        (
            ActionKind::Feedback,
            false,
            json!({"satisfaction": "satisfied"}),
        ),
        (ActionKind::Archive, false, json!({})),
    ]
}

/// Logs complaint `i` in process, as the operator.
fn create_in_process(
    conn: &mut closedloop::store::DbConn,
    settings: &Settings,
    operator: &Actor,
    i: usize,
) -> Result<TicketId, String> {
    let render = |_: &closedloop::domain::ticket::Ticket| Value::Null;
    match service::create(
        conn,
        settings,
        operator,
        &complaint(i),
        None,
        store::now(),
        &render,
    ) {
        Ok(service::Created::New { ticket, .. }) => Ok(ticket.id),
        Ok(_) => Err("replayed".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Latencies and errors of one run.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    fn report(&mut self, label: &str, clients: usize, elapsed: Duration) -> f64 {
        self.latencies.sort();
        let n = self.latencies.len();
        let at = |q: f64| {
            self.latencies
                .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let rate = n as f64 / elapsed.as_secs_f64();
        println!(
            "  {label:<28} clients {clients:>2}: {rate:>8.0}/s  p50 {:>6.1} ms  p90 {:>6.1} ms  p99 {:>6.1} ms  errors {}{}",
            at(0.5),
            at(0.9),
            at(0.99),
            self.errors,
            self.first_error
                .as_ref()
                .map_or(String::new(), |e| format!(" (first: {e})"))
        );
        rate
    }
}

struct Http {
    base: String,
    operator: String,
    department: String,
    dept_code: String,
    /// Console sessions (`cl_session`), signed in through the sign-in form.
    operator_session: String,
    department_session: String,
}

impl Http {
    /// One request; its successful answer unparsed (`json` parses it where it is needed): the
    /// generator shares the machine's cores with the service, and parsing every page of 50
    /// tickets would take from it.
    async fn call(
        &self,
        client: &Client,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<actix_web::web::Bytes, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => client.post(url),
            _ => client.get(url),
        }
        .insert_header(("Authorization", format!("Bearer {token}")));
        let res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        };
        let mut res = res.map_err(|e| e.to_string())?;
        let status = res.status();
        let bytes = res
            .body()
            .limit(16 << 20)
            .await
            .map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status} {}", String::from_utf8_lossy(&bytes)));
        }
        Ok(bytes)
    }

    /// One console page, with a session: its HTML, unparsed.
    async fn page(&self, client: &Client, path: &str, session: &str) -> Result<(), String> {
        let mut res = client
            .get(format!("{}{path}", self.base))
            .insert_header(("Cookie", format!("cl_session={session}")))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let bytes = res
            .body()
            .limit(16 << 20)
            .await
            .map_err(|e| e.to_string())?;
        if status != actix_web::http::StatusCode::OK || bytes.len() < 1000 {
            return Err(format!("{status} ({} bytes)", bytes.len()));
        }
        Ok(())
    }

    /// One operation of `scenario`; returns how many requests it made.
    async fn op(
        &self,
        client: &Client,
        scenario: &str,
        i: usize,
        ids: &[String],
        tally: &RefCell<Tally>,
    ) {
        let pick = |k: usize| ids[(i.wrapping_mul(2654435761) + k) % ids.len()].clone();
        let kind = match scenario {
            "mixed" => match i % 10 {
                0 | 1 => "create",
                2..=6 => {
                    if i.is_multiple_of(2) {
                        "read"
                    } else {
                        "list"
                    }
                }
                _ => "loop-step",
            },
            s => s,
        };
        fn timed<T>(tally: &RefCell<Tally>, started: Instant, r: Result<T, String>) -> Option<T> {
            let mut t = tally.borrow_mut();
            match r {
                Ok(v) => {
                    t.latencies.push(started.elapsed());
                    Some(v)
                }
                Err(e) => {
                    t.errors += 1;
                    t.first_error.get_or_insert(e);
                    None
                }
            }
        }
        match kind {
            "create" => {
                let s = Instant::now();
                let r = self
                    .call(
                        client,
                        "POST",
                        "/api/v1/tickets",
                        &self.operator,
                        Some(&complaint(i)),
                    )
                    .await;
                timed(tally, s, r);
            }
            "read" => {
                let s = Instant::now();
                let r = self
                    .call(
                        client,
                        "GET",
                        &format!("/api/v1/tickets/{}", pick(0)),
                        &self.operator,
                        None,
                    )
                    .await;
                timed(tally, s, r);
            }
            "console-case" => {
                let s = Instant::now();
                let path = format!("/tickets/{}", pick(0));
                let r = self.page(client, &path, &self.operator_session).await;
                timed(tally, s, r);
            }
            "console-queue" => {
                // A queue of the department's workbench: 50 cases waiting to be signed.
                let s = Instant::now();
                let r = self
                    .page(
                        client,
                        "/workbench?queue=dispatched",
                        &self.department_session,
                    )
                    .await;
                timed(tally, s, r);
            }
            "list" => {
                let s = Instant::now();
                let path = format!(
                    "/api/v1/tickets?department={}&state=dispatched&limit=50",
                    self.dept_code
                );
                let r = self.call(client, "GET", &path, &self.operator, None).await;
                timed(tally, s, r);
            }
            _ => {
                // The loop: 受理 → 分办 → 签收 → 阶段性答复 → 答复 → 反馈 → 归档, each step timed.
                let s = Instant::now();
                let Some(t) = timed(
                    tally,
                    s,
                    self.call(
                        client,
                        "POST",
                        "/api/v1/tickets",
                        &self.operator,
                        Some(&complaint(i)),
                    )
                    .await
                    .and_then(json),
                ) else {
                    return;
                };
                let id = t["id"].as_str().unwrap_or_default().to_string();
                for (action, by_department, body) in loop_steps(&self.dept_code) {
                    let token = if by_department {
                        &self.department
                    } else {
                        &self.operator
                    };
                    let s = Instant::now();
                    let path = format!("/api/v1/tickets/{id}/actions/{action}");
                    if timed(
                        tally,
                        s,
                        self.call(client, "POST", &path, token, Some(&body))
                            .await
                            .and_then(json),
                    )
                    .is_none()
                    {
                        return;
                    }
                }
            }
        }
    }
}

fn json(bytes: actix_web::web::Bytes) -> Result<Value, String> {
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

async fn login(base: &str, user: &str, password: &str) -> String {
    let mut res = Client::default()
        .post(format!("{base}/api/v1/auth/token"))
        .send_json(&json!({"username": user, "password": password}))
        .await
        .expect("the service answers");
    let v: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("sign-in as {user} failed: {v}"))
        .to_string()
}

/// A console session for `user`, through the sign-in form as a browser signs in; empty when the
/// sign-in fails (the console scenarios then count errors).
async fn session(base: &str, user: &str, password: &str) -> String {
    let client = Client::builder().disable_redirects().finish();
    let cookie = |res: &awc::ClientResponse<_>, name: &str| -> Option<String> {
        res.headers()
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
    };
    let Ok(mut form) = client.get(format!("{base}/login")).send().await else {
        return String::new();
    };
    let login = cookie(&form, "cl_login").unwrap_or_default();
    let html = String::from_utf8_lossy(&form.body().await.unwrap_or_default()).to_string();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let body = serde_urlencoded::to_string([
        ("username", user),
        ("password", password),
        ("csrf_token", csrf.as_str()),
    ])
    .unwrap_or_default();
    match client
        .post(format!("{base}/login"))
        .insert_header(("Cookie", format!("cl_login={login}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(body)
        .await
    {
        Ok(res) => cookie(&res, "cl_session").unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The HTTP side of one scenario at `clients` concurrent clients.
fn run_http(
    http: Rc<Http>,
    scenario: &str,
    clients: usize,
    duration: Duration,
    ids: Rc<Vec<String>>,
) -> f64 {
    let tally = Rc::new(RefCell::new(Tally::default()));
    let counter = Rc::new(std::cell::Cell::new(0usize));
    let started = Instant::now();
    actix_web::rt::System::new().block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (http, tally, counter, ids) =
                    (http.clone(), tally.clone(), counter.clone(), ids.clone());
                let scenario = scenario.to_string();
                actix_web::rt::spawn(async move {
                    let client = Client::builder().timeout(Duration::from_secs(30)).finish();
                    while started.elapsed() < duration {
                        let i = counter.get();
                        counter.set(i + 1);
                        http.op(&client, &scenario, i, &ids, &tally).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    });
    let label = match scenario {
        "loop" => "loop (each step)".to_string(),
        "mixed" => "mixed (20/50/30)".to_string(),
        s => s.to_string(),
    };
    tally
        .borrow_mut()
        .report(&format!("http {label}"), clients, started.elapsed())
}

/// The store side: the same operation in process, `clients` threads with a connection each.
fn run_store(
    pool: &Pool,
    settings: &Settings,
    scenario: &str,
    clients: usize,
    duration: Duration,
    ids: &Arc<Vec<String>>,
    department: &str,
) -> Option<f64> {
    let kind = match scenario {
        "create" | "read" | "list" => scenario.to_string(),
        "loop" => "loop".to_string(),
        _ => return None,
    };
    let operator = Actor::user("operator", Role::Operator, None);
    let code = closedloop::domain::DepartmentCode::parse(department).expect("a department code");
    let dept = Actor::user(department, Role::Department, Some(&code));
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (operator, dept, code, counter, ids, kind) = (
                    operator.clone(),
                    dept.clone(),
                    code.clone(),
                    counter.clone(),
                    ids.clone(),
                    kind.clone(),
                );
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    let mut conn = pool.get().unwrap();
                    while started.elapsed() < duration {
                        let i = counter.fetch_add(1, Ordering::Relaxed);
                        let mut step = |f: &mut dyn FnMut() -> Result<(), String>| {
                            let s = Instant::now();
                            match f() {
                                Ok(()) => {
                                    tally.latencies.push(s.elapsed());
                                    true
                                }
                                Err(e) => {
                                    tally.errors += 1;
                                    tally.first_error.get_or_insert(e);
                                    false
                                }
                            }
                        };
                        match kind.as_str() {
                            "create" => {
                                step(&mut || {
                                    create_in_process(&mut conn, settings, &operator, i).map(|_| ())
                                });
                            }
                            "read" => {
                                let id: TicketId =
                                    ids[i.wrapping_mul(2654435761) % ids.len()].parse().unwrap();
                                step(&mut || {
                                    service::get(&mut conn, &operator, id)
                                        .map(|_| ())
                                        .map_err(|e| e.to_string())
                                });
                            }
                            "list" => {
                                let filter = closedloop::store::tickets::Filter {
                                    department: Some(code.clone()),
                                    state: Some(closedloop::domain::ticket::State::Dispatched),
                                    limit: 51,
                                    ..Default::default()
                                };
                                step(&mut || {
                                    service::list(&mut conn, &operator, filter.clone())
                                        .map(|_| ())
                                        .map_err(|e| e.to_string())
                                });
                            }
                            _ => {
                                let mut id = None;
                                if !step(&mut || {
                                    id =
                                        Some(create_in_process(&mut conn, settings, &operator, i)?);
                                    Ok(())
                                }) {
                                    continue;
                                }
                                let id = id.unwrap();
                                for (action, by_department, body) in loop_steps(department) {
                                    let actor = if by_department { &dept } else { &operator };
                                    if !step(&mut || {
                                        service::act(
                                            &mut conn,
                                            settings,
                                            actor,
                                            id,
                                            action,
                                            &body,
                                            None,
                                            store::now(),
                                        )
                                        .map(|_| ())
                                        .map_err(|e| e.to_string())
                                    }) {
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    tally
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.latencies.extend(t.latencies);
        all.errors += t.errors;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let label = if kind == "loop" {
        "store loop (each step)".into()
    } else {
        format!("store {kind}")
    };
    Some(all.report(&label, clients, started.elapsed()))
}

fn prepare(pool: &Pool, settings: &Settings, n: usize, department: &str, writers: usize) {
    let started = Instant::now();
    let counter = AtomicUsize::new(0);
    // Every other ticket dispatched, spread over the district's departments as cases are (a
    // fifth of them to `department`, whose queues and lists the scenarios read).
    let mut codes: Vec<String> = settings
        .department_names
        .get(&mut pool.get().unwrap())
        .expect("departments")
        .keys()
        .filter(|c| c.as_str() != department)
        .cloned()
        .collect();
    codes.sort();
    let lead_of = |i: usize| -> String {
        match (i / 2) % 5 {
            0 => department.to_string(),
            _ => codes[(i / 10) % codes.len().max(1)].clone(),
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..writers {
            scope.spawn(|| {
                let mut conn = pool.get().unwrap();
                let operator = Actor::user("operator", Role::Operator, None);
                loop {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let ticket = create_in_process(&mut conn, settings, &operator, i)
                        .unwrap_or_else(|e| panic!("prepare: create failed: {e}"));
                    if i.is_multiple_of(2) {
                        service::act(
                            &mut conn,
                            settings,
                            &operator,
                            ticket,
                            ActionKind::Dispatch,
                            &json!({"department": lead_of(i)}),
                            None,
                            store::now(),
                        )
                        .expect("prepare: dispatch");
                    }
                }
            });
        }
    });
    // After a bulk load, as after any import: the planner's statistics and (PostgreSQL) the
    // visibility map of the tables as they now are (autovacuum would get there in its own time).
    let mut conn = pool.get().expect("a connection");
    let statement = match &*conn {
        store::DbConn::Postgres(_) => "VACUUM ANALYZE",
        store::DbConn::Sqlite(_) => "ANALYZE",
    };
    diesel::RunQueryDsl::execute(diesel::sql_query(statement), &mut *conn).expect("analyze");
    println!(
        "prepared {n} tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo test --all-targets` runs benches once as tests: this one only runs under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the load generator runs with `cargo bench --bench load -- --base URL …`");
        return;
    }
    let a = args();
    let store_side = a.database.as_ref().map(|url| {
        // A connection for every client of the baseline (and the preparing writers).
        let size = a.clients.iter().max().copied().unwrap_or(1).max(4) + 2;
        let config = Config::load(
            None,
            vec![
                ("DATABASE_URL".to_string(), url.clone()),
                (
                    "CLOSEDLOOP__DATABASE__POOL_SIZE".to_string(),
                    size.to_string(),
                ),
            ],
        )
        .unwrap();
        let pool = server::pool(&config).unwrap();
        let settings = server::load_settings(&config, &mut pool.get().unwrap()).unwrap();
        (pool, settings)
    });
    if let (Some((pool, settings)), true) = (&store_side, a.prepare > 0) {
        // SQLite has one writer at a time: more threads would only queue on its lock.
        let writers = if a
            .database
            .as_deref()
            .is_some_and(|u| u.starts_with("sqlite"))
        {
            1
        } else {
            4
        };
        prepare(pool, settings, a.prepare, &a.department, writers);
    }
    let Some(base) = a.base.clone() else {
        println!("no --base: nothing to load");
        return;
    };
    let (operator, department, sessions) = actix_web::rt::System::new().block_on(async {
        let password = a.password.clone().unwrap_or_default();
        let sessions = (
            session(&base, "operator", &password).await,
            session(&base, &a.department, &password).await,
        );
        let operator = match &a.operator_token {
            Some(t) => t.clone(),
            None => login(&base, "operator", &password).await,
        };
        let department = match &a.department_token {
            Some(t) => t.clone(),
            None => login(&base, &a.department, &password).await,
        };
        (operator, department, sessions)
    });
    let http = Rc::new(Http {
        base: base.clone(),
        operator,
        department,
        dept_code: a.department.clone(),
        operator_session: sessions.0,
        department_session: sessions.1,
    });
    // Ids to read: a page of existing tickets.
    let ids: Vec<String> = actix_web::rt::System::new().block_on(async {
        let v = http
            .call(
                &Client::default(),
                "GET",
                "/api/v1/tickets?limit=100",
                &http.operator,
                None,
            )
            .await
            .and_then(json)
            .expect("a list of tickets");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    });
    assert!(
        !ids.is_empty(),
        "the service has no tickets to read: --prepare some first"
    );
    let shared_ids = Arc::new(ids.clone());
    let ids = Rc::new(ids);
    let mut summary = vec![];
    for scenario in &a.scenarios {
        println!("{scenario}:");
        for &clients in &a.clients {
            let store_rate = store_side.as_ref().and_then(|(pool, settings)| {
                run_store(
                    pool,
                    settings,
                    scenario,
                    clients,
                    a.duration,
                    &shared_ids,
                    &a.department,
                )
            });
            let rate = run_http(http.clone(), scenario, clients, a.duration, ids.clone());
            let ratio =
                store_rate.map_or(String::from("-"), |s| format!("{:.0} %", 100.0 * rate / s));
            summary.push(format!(
                "SUMMARY scenario={scenario} clients={clients} http={rate:.0}/s store={} ratio={ratio}",
                store_rate.map_or("-".into(), |s| format!("{s:.0}/s"))
            ));
        }
    }
    for line in summary {
        println!("{line}");
    }
    if let Some(pid) = a.pid {
        match peak_rss_mib(pid) {
            Some(mib) => println!("SUMMARY service peak RSS {mib:.1} MiB (pid {pid})"),
            None => println!("SUMMARY service peak RSS unknown (no /proc/{pid})"),
        }
    }
}
