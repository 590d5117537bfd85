//! The `closedloop` command as an administrator runs it, on SQLite and on PostgreSQL.

use crate::common::{Backend, TestDb};
use std::io::Write;
use std::process::{Command, Output, Stdio};

on_both_backends!(
    migrate_seed_user_and_token,
    production_refuses_what_is_unsafe
);

fn closedloop(db: &TestDb, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_closedloop"));
    cmd.args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the closedloop binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

async fn migrate_seed_user_and_token(backend: Backend) {
    let db = TestDb::new(backend);
    let migrations = std::fs::read_dir("migrations/sqlite").unwrap().count();
    assert_eq!(
        stdout(&closedloop(&db, &["migrate"], &[], None)),
        format!("{migrations} migration(s) applied")
    );
    assert_eq!(
        stdout(&closedloop(&db, &["migrate"], &[], None)),
        "0 migration(s) applied"
    );

    let first = stdout(&closedloop(&db, &["seed", "--demo"], &[], None));
    assert_eq!(
        first,
        "seeded 27 department(s), 6 user(s), 4 complaint(s), 4 article(s)"
    );
    // Seeding again changes nothing.
    let again = stdout(&closedloop(&db, &["seed", "--demo"], &[], None));
    assert_eq!(
        again,
        "seeded 0 department(s), 0 user(s), 0 complaint(s), 0 article(s)"
    );

    let added = closedloop(
        &db,
        &[
            "user",
            "add",
            "--username",
            "wang",
            "--role",
            "department",
            "--department",
            "shijian",
            "--password-stdin",
        ],
        &[],
        Some("a long password\n"),
    );
    assert_eq!(stdout(&added), "user wang added");
    let duplicate = closedloop(
        &db,
        &["user", "add", "--username", "wang", "--role", "operator"],
        &[],
        None,
    );
    assert!(!duplicate.status.success());
    let unknown = closedloop(
        &db,
        &[
            "user",
            "add",
            "--username",
            "li",
            "--role",
            "department",
            "--department",
            "nowhere",
        ],
        &[],
        None,
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown department 'nowhere'"));
    let bad_role = closedloop(
        &db,
        &["user", "add", "--username", "li", "--role", "boss"],
        &[],
        None,
    );
    assert!(!bad_role.status.success());

    let token = stdout(&closedloop(
        &db,
        &["token", "--username", "wang", "--ttl", "30m"],
        &[],
        None,
    ));
    let config = closedloop::config::Config::load(None, vec![]).unwrap();
    let tokens =
        closedloop::auth::Tokens::new(config.auth.jwt_secret.expose(), chrono::Duration::hours(1));
    let actor = tokens.verify(&token).expect("the printed token is valid");
    assert_eq!(actor.department().map(|d| d.as_str()), Some("shijian"));
    let missing = closedloop(&db, &["token", "--username", "nobody"], &[], None);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no active user 'nobody'"));
}

async fn production_refuses_what_is_unsafe(backend: Backend) {
    let db = TestDb::new(backend);
    let production = [("CLOSEDLOOP__APP__PROFILE", "production")];
    let check = closedloop(&db, &["check"], &production, None);
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("auth.jwt_secret"),
        "{check:?}"
    );
    let serve = closedloop(&db, &["serve"], &production, None);
    assert!(!serve.status.success());

    let mut secret = vec![
        ("CLOSEDLOOP__APP__PROFILE", "production"),
        (
            "CLOSEDLOOP__AUTH__JWT_SECRET",
            "0123456789abcdef0123456789abcdef-prod",
        ),
    ];
    // Production sends mail over SMTP, not into files.
    let file_mail = closedloop(&db, &["check"], &secret, None);
    assert!(String::from_utf8_lossy(&file_mail.stderr).contains("mail.transport"));
    secret.push(("CLOSEDLOOP__MAIL__TRANSPORT", "smtp"));
    stdout(&closedloop(&db, &["check"], &secret, None));
    let demo = closedloop(&db, &["seed", "--demo"], &secret, None);
    assert!(String::from_utf8_lossy(&demo.stderr).contains("not in the production profile"));

    // The database too: migrated, and a calendar that covers the next 60 days.
    let db = TestDb::new(backend);
    let fresh = closedloop(&db, &["check"], &[], None);
    assert!(stdout(&fresh).contains("warning: database: migrations pending"));
    assert!(
        !closedloop(&db, &["check", "--strict"], &[], None)
            .status
            .success()
    );
    stdout(&closedloop(&db, &["migrate"], &[], None));
    let migrated = stdout(&closedloop(&db, &["check"], &[], None));
    let covered = migrated.contains("calendar ok: known until");
    assert!(
        covered || migrated.contains("warning: calendar: known until 2026-12-31"),
        "{migrated}"
    );
    let strict = closedloop(&db, &["check", "--strict"], &[], None);
    assert_eq!(strict.status.success(), covered);
    let unreachable = closedloop(
        &db,
        &["check"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        None,
    );
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("database.url"));

    let bad = closedloop(
        &db,
        &["check"],
        &[("CLOSEDLOOP__SLA__DEFAULT__HANDLE", "fifteen")],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("sla.default.handle"));
    // The secret itself is never printed, even when it is the problem.
    let weak = closedloop(
        &db,
        &["check"],
        &[("CLOSEDLOOP__AUTH__JWT_SECRET", "short-secret")],
        None,
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("auth.jwt_secret"));
    assert!(!String::from_utf8_lossy(&weak.stderr).contains("short-secret"));
}
