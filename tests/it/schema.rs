//! `src/store/schema.rs` against the migrations, on SQLite and on PostgreSQL: a fresh database
//! migrated by the binary's own migrations has exactly the tables and columns the schema
//! declares, each of the declared type and nullability. A migration that adds, drops or changes a
//! column without the schema (or the schema without a migration) fails here.

use crate::common::{Backend, TestDb};
use closedloop::store::{DbConn, conn};
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::collections::BTreeMap;

on_both_backends!(the_migrations_make_the_declared_schema);

/// A column as both sides describe it: its portable type and whether it may be null.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    kind: &'static str,
    nullable: bool,
}

type Tables = BTreeMap<String, BTreeMap<String, Column>>;

/// The tables of `schema.rs`, read from its `diesel::table!` blocks.
fn declared() -> Tables {
    let text = include_str!("../../src/store/schema.rs");
    let mut tables = Tables::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_suffix('{')
            .and_then(|l| l.split_once(" ("))
            .map(|(name, _)| name.trim())
            .filter(|name| !name.contains(' ') && !name.contains('!'))
        {
            current = Some(name.to_string());
            tables.entry(name.to_string()).or_default();
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        let (Some(table), Some((column, kind))) = (&current, line.split_once(" -> ")) else {
            continue;
        };
        let kind = kind.trim_end_matches(',');
        let (inner, nullable) = match kind.strip_prefix("Nullable<") {
            Some(rest) => (rest.trim_end_matches('>'), true),
            None => (kind, false),
        };
        let kind = match inner {
            "Text" => "text",
            "Integer" => "integer",
            "BigInt" => "bigint",
            "Bool" => "bool",
            "Timestamp" => "timestamp",
            other => {
                panic!("schema.rs: {table}.{column} has a type the test does not know: {other}")
            }
        };
        tables
            .get_mut(table)
            .expect("the table was opened")
            .insert(column.trim().to_string(), Column { kind, nullable });
    }
    assert!(tables.len() > 5, "schema.rs read as {tables:?}");
    tables
}

#[derive(QueryableByName)]
struct Described {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The portable type a backend's column type stands for.
fn portable(backend: Backend, data_type: &str) -> &'static str {
    let t = data_type.to_ascii_lowercase();
    match (backend, t.as_str()) {
        (_, "text") => "text",
        (Backend::Sqlite, "integer") | (Backend::Postgres, "integer") => "integer",
        (_, "bigint") => "bigint",
        (Backend::Sqlite, "boolean" | "bool") | (Backend::Postgres, "boolean") => "bool",
        (Backend::Sqlite, "timestamp" | "datetime")
        | (Backend::Postgres, "timestamp without time zone") => "timestamp",
        _ => panic!("{backend:?}: a column type the schema cannot hold: {data_type}"),
    }
}

/// The search indexes, which are not diesel tables: each backend has its own form (a table with a
/// GIN index on PostgreSQL, an FTS5 table and its shadow tables on SQLite), written by
/// `store::search` in SQL of its own.
const SEARCH_INDEXES: &[&str] = &["ticket_terms"];

fn search_index(table: &str) -> bool {
    SEARCH_INDEXES
        .iter()
        .any(|s| table == *s || table.strip_prefix(s).is_some_and(|r| r.starts_with('_')))
}

/// The tables a fresh database has once migrated, without the migration bookkeeping and the
/// search indexes.
fn migrated(backend: Backend) -> Tables {
    let db = TestDb::new(backend);
    let mut c = match backend {
        Backend::Sqlite => DbConn::Sqlite(
            diesel::SqliteConnection::establish(db.url.trim_start_matches("sqlite://"))
                .expect("a SQLite file"),
        ),
        Backend::Postgres => {
            DbConn::Postgres(diesel::PgConnection::establish(&db.url).expect("the test database"))
        }
    };
    assert!(conn::migrate(&mut c).expect("the migrations run") > 0);
    let sql = match backend {
        Backend::Sqlite => {
            // Ordinary tables only: the FTS5 indexes (virtual tables and their shadow tables)
            // are SQLite's own, outside the portable schema.
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type,
                    (p.\"notnull\" = 0 AND p.pk = 0) AS nullable
             FROM pragma_table_list m JOIN pragma_table_info(m.name) p
             WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name <> '__diesel_schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name,
                    data_type::text AS data_type, (is_nullable = 'YES') AS nullable
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let rows: Vec<Described> = diesel::sql_query(sql).load(&mut c).expect("the catalogue");
    let mut tables = Tables::new();
    for r in rows.into_iter().filter(|r| !search_index(&r.table_name)) {
        tables.entry(r.table_name).or_default().insert(
            r.column_name,
            Column {
                kind: portable(backend, &r.data_type),
                nullable: r.nullable,
            },
        );
    }
    tables
}

async fn the_migrations_make_the_declared_schema(backend: Backend) {
    let declared = declared();
    let migrated = migrated(backend);
    let names = |t: &Tables| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&migrated),
        names(&declared),
        "{backend:?}: the tables"
    );
    for (table, columns) in &declared {
        assert_eq!(
            &migrated[table], columns,
            "{backend:?}: the columns of {table} (name → type, nullable)"
        );
    }
}
