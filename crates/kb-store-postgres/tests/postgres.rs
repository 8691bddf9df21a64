//! PostgreSQL-specific behaviour of [`PostgresSessionStore`]: options and
//! names, the tables as operators see them, migrations, quarantine of rows
//! damaged by hand, several stores (as several processes would) racing on
//! the same rows, group commit, closing and reconnecting.
//!
//! Two stores opened on one schema have two writer connections and two
//! reader connections, exactly like two server processes: every race below
//! is decided by PostgreSQL, not by a lock inside this process.

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use common::{PgHarness, with_param};
use kb_store::{ContentRecord, SessionRecord, SessionStore, StoreError, Write};
use kb_store_postgres::{
    DEFAULT_TABLE_NAME, MAX_TABLE_NAME_LEN, PostgresOptions, PostgresSessionStore, SCHEMA_VERSION,
};
use postgres::Client;
use serde_json::json;

const CONTENT_ID: &str = "0f4c1d9e2b7a";
const T0: i64 = 1_700_000_000_000;

fn content() -> ContentRecord {
    ContentRecord {
        content_id: CONTENT_ID.to_owned(),
        content: r#"{"actions":[{"id":"expand"}]}"#.to_owned(),
        registries: r#"{"actions":{"expand":{"id":"expand"}},"buildings":{"farm":{"id":"farm"}}}"#
            .to_owned(),
        metadata: r#"{"overview":{"hero":"hi"},"phases":{"main":{"label":"Main"}}}"#.to_owned(),
    }
}

fn header(session_id: &str) -> SessionRecord {
    SessionRecord {
        session_id: session_id.to_owned(),
        created_at: T0,
        last_accessed_at: T0 + 1,
        dev_mode: false,
        config: None,
        content_id: CONTENT_ID.to_owned(),
        owner: None,
        version: 0,
    }
}

fn create(store: &dyn SessionStore, record: &SessionRecord) {
    store
        .commit(vec![
            Write::PutContent(content()),
            Write::SaveSession(record.clone()),
        ])
        .unwrap();
}

fn next(record: &SessionRecord) -> SessionRecord {
    SessionRecord {
        version: record.version + 1,
        ..record.clone()
    }
}

fn append(store: &dyn SessionStore, record: &SessionRecord, command: &str) -> SessionRecord {
    let next = next(record);
    store
        .commit(vec![Write::append(&next, vec![command.to_owned()])])
        .unwrap();
    next
}

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Waits for a state that a step already taken brings about. The deadline
/// only keeps a broken store from hanging the test run; nothing is timed.
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[track_caller]
fn assert_conflict(result: &Result<(), StoreError>, expected: u64, actual: u64) {
    assert!(
        matches!(
            result,
            Err(StoreError::Conflict { expected: e, actual: a, .. }) if (*e, *a) == (expected, actual)
        ),
        "expected a conflict ({expected} vs {actual}), got {result:?}"
    );
}

// ---------------------------------------------------------------- options

#[test]
fn invalid_names_are_rejected_before_connecting() {
    // Nothing listens on port 1: reaching the server would be a backend
    // error, so an InvalidTableName proves the name was checked first.
    let nowhere = "host=127.0.0.1 port=1 user=nobody dbname=nowhere connect_timeout=2";
    let too_long = "a".repeat(MAX_TABLE_NAME_LEN + 1);
    for name in [
        "",
        "bad-name",
        "x; DROP TABLE y",
        "séance",
        "two words",
        "a.b",
        "a\"b",
        too_long.as_str(),
    ] {
        match PostgresSessionStore::open(PostgresOptions::new(nowhere).table_name(name)) {
            Err(StoreError::InvalidTableName(rejected)) => assert_eq!(rejected, name),
            other => panic!("table {name:?}: expected InvalidTableName, got {other:?}"),
        }
    }
    let long_schema = "s".repeat(64);
    for schema in [
        "",
        "pg_mine",
        "PG_Catalog",
        "a-b",
        "x\"; --",
        long_schema.as_str(),
    ] {
        match PostgresSessionStore::open(PostgresOptions::new(nowhere).schema(schema)) {
            Err(StoreError::InvalidTableName(rejected)) => assert_eq!(rejected, schema),
            other => panic!("schema {schema:?}: expected InvalidTableName, got {other:?}"),
        }
    }
    // With valid names the same options do try to connect.
    let result = PostgresSessionStore::open(PostgresOptions::new(nowhere));
    assert!(
        matches!(result, Err(StoreError::Backend { .. })),
        "{result:?}"
    );
}

#[test]
fn valid_table_names_open_and_work() {
    let h = PgHarness::new();
    let longest = "t".repeat(MAX_TABLE_NAME_LEN);
    for name in [
        "sessions", "Games_2", "_", "0", "123abc", "select", &longest,
    ] {
        let store = PostgresSessionStore::open(h.options().table_name(name))
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        create(&store, &header("s-1"));
        let record = append(&store, &header("s-1"), "c");
        assert_eq!(store.load_all().unwrap().records, [record], "{name:?}");
    }
    // Each name got its own seven tables, none truncated into another.
    let mut sql = h.sql();
    let tables = count(
        &mut sql,
        &format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname = '{}'",
            h.schema()
        ),
    );
    assert_eq!(tables, 7 * 7);
}

#[test]
fn default_options() {
    let options = PostgresOptions::new("host=db");
    assert_eq!(options.table_name, DEFAULT_TABLE_NAME);
    assert_eq!(options.table_name, "sessions");
    assert_eq!(options.schema, None);
}

#[test]
fn an_unreachable_server_fails_open_without_showing_the_password() {
    for url in [
        "host=127.0.0.1 port=1 user=someone password=hunter2 dbname=nowhere connect_timeout=2",
        "postgres://someone:hunter2@127.0.0.1:1/nowhere?connect_timeout=2",
    ] {
        let options = PostgresOptions::new(url);
        assert!(!format!("{options:?}").contains("hunter2"), "{options:?}");
        let error = PostgresSessionStore::open(options).unwrap_err();
        let message = format!("{error} / {error:?}");
        assert!(
            matches!(error, StoreError::Backend { .. }),
            "{url}: {message}"
        );
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(message.contains("port=1"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

// ------------------------------------------------------ tables and schema

#[test]
fn a_custom_table_name_names_every_table() {
    let h = PgHarness::new();
    let store = PostgresSessionStore::open(h.options().table_name("games")).unwrap();
    create(&store, &header("s-1"));
    let mut sql = h.sql();
    let tables: Vec<String> = sql
        .query(
            "SELECT tablename::TEXT FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
            &[&h.schema()],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        tables,
        [
            "games",
            "games_checkpoints",
            "games_commands",
            "games_contents",
            "games_grants",
            "games_meta",
            "games_quarantine",
        ]
    );
    let id: String = sql
        .query_one("SELECT session_id FROM games", &[])
        .unwrap()
        .get(0);
    assert_eq!(id, "s-1");
}

#[test]
fn two_table_names_in_one_schema_are_independent() {
    let h = PgHarness::new();
    let one = PostgresSessionStore::open(h.options().table_name("one")).unwrap();
    let two = PostgresSessionStore::open(h.options().table_name("two")).unwrap();
    create(&one, &header("shared-id"));
    let in_one = append(&one, &header("shared-id"), "one's command");
    create(&two, &header("only-in-two"));
    create(&two, &header("shared-id"));
    two.commit(vec![Write::PutMeta {
        key: "k".to_owned(),
        value: "two".to_owned(),
    }])
    .unwrap();
    two.delete("shared-id").unwrap();

    assert_eq!(one.load_all().unwrap().records, [in_one]);
    assert_eq!(
        one.load_log("shared-id").unwrap().commands,
        ["one's command"]
    );
    assert_eq!(one.get_meta("k").unwrap(), None);
    assert_eq!(two.load_all().unwrap().records, [header("only-in-two")]);
}

#[test]
fn the_guides_debugging_query_and_jsonb_work_beside_the_store() {
    let h = PgHarness::new();
    let store = h.store();
    create(&store, &header("b-session"));
    create(
        &store,
        &SessionRecord {
            dev_mode: true,
            created_at: T0 + 10,
            last_accessed_at: T0 + 20,
            config: Some(json!({"start": {"gold": 3}, "phases": []})),
            ..header("a-session")
        },
    );
    let mut sql = h.sql();
    let rows: Vec<(String, bool, i64, i64)> = sql
        .query(
            "SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions \
             ORDER BY session_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        rows,
        [
            ("a-session".to_owned(), true, T0 + 10, T0 + 20),
            ("b-session".to_owned(), false, T0, T0 + 1),
        ]
    );
    // The JSON text columns read as jsonb.
    let keys = |sql: &mut Client, query: &str| -> Vec<String> {
        sql.query(query, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(
        keys(
            &mut sql,
            "SELECT jsonb_object_keys(config::jsonb) AS k FROM sessions \
             WHERE config IS NOT NULL ORDER BY k"
        ),
        ["phases", "start"]
    );
    assert_eq!(
        keys(
            &mut sql,
            "SELECT jsonb_object_keys(registries::jsonb) AS k FROM sessions_contents ORDER BY k"
        ),
        ["actions", "buildings"]
    );
    // The store keeps working beside the operator's session.
    append(&store, &header("b-session"), "{}");
}

#[test]
fn a_configured_schema_is_created_when_missing() {
    let h = PgHarness::unmade();
    let mut admin = h.admin();
    let exists = |admin: &mut Client| -> bool {
        admin
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&h.schema()],
            )
            .unwrap()
            .get(0)
    };
    assert!(!exists(&mut admin));
    let store = h.store();
    assert!(exists(&mut admin));
    assert_eq!(store.schema(), h.schema());
    create(&store, &header("s-1"));
    assert_eq!(store.count_sessions().unwrap(), 1);
}

#[test]
fn without_a_schema_the_search_path_decides() {
    let h = PgHarness::new();
    let url = with_param(
        &h.url(),
        "options",
        &format!("-csearch_path={}", h.schema()),
    );
    let store = PostgresSessionStore::open(PostgresOptions::new(&url)).unwrap();
    assert_eq!(store.schema(), h.schema());
    create(&store, &header("s-1"));
    drop(store);
    // The same tables as when the schema is named.
    let store = h.store();
    assert_eq!(store.load_all().unwrap().records, [header("s-1")]);
}

#[test]
fn a_search_path_naming_no_schema_is_an_error() {
    let h = PgHarness::unmade();
    let url = with_param(
        &h.url(),
        "options",
        &format!("-csearch_path={}", h.schema()),
    );
    let error = PostgresSessionStore::open(PostgresOptions::new(&url)).unwrap_err();
    assert!(
        matches!(error, StoreError::Backend { .. }) && error.to_string().contains("search_path"),
        "{error}"
    );
}

// ------------------------------------------------------------- migrations

fn stored_schema_version(h: &PgHarness) -> String {
    h.sql()
        .query_one(
            "SELECT value FROM sessions_meta WHERE namespace = 'store' AND key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn opening_twice_does_not_migrate_twice() {
    let h = PgHarness::new();
    create(&h.store(), &header("s-1"));
    let store = h.store();
    assert_eq!(store.load_all().unwrap().records, [header("s-1")]);
    assert_eq!(stored_schema_version(&h), SCHEMA_VERSION.to_string());
}

#[test]
fn processes_opening_one_new_store_at_once_migrate_it_once() {
    let h = PgHarness::unmade();
    let n = 6;
    let barrier = Barrier::new(n);
    let stores: Vec<PostgresSessionStore> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (h, barrier) = (&h, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    PostgresSessionStore::open(h.options())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap().expect("every opener succeeds"))
            .collect()
    });
    create(&stores[0], &header("s-1"));
    for store in &stores {
        assert_eq!(store.load_all().unwrap().records, [header("s-1")]);
    }
    assert_eq!(stored_schema_version(&h), SCHEMA_VERSION.to_string());
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let h = PgHarness::new();
    create(&h.store(), &header("s-1"));
    let mut sql = h.sql();
    sql.execute(
        "UPDATE sessions_meta SET value = $1 WHERE namespace = 'store' AND key = 'schema_version'",
        &[&(SCHEMA_VERSION + 1).to_string()],
    )
    .unwrap();
    match PostgresSessionStore::open(h.options()) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(count(&mut sql, "SELECT count(*) FROM sessions"), 1);
    assert_eq!(stored_schema_version(&h), (SCHEMA_VERSION + 1).to_string());
}

#[test]
fn a_foreign_table_of_that_name_is_left_alone() {
    let h = PgHarness::new();
    let mut sql = h.sql();
    sql.batch_execute(
        "CREATE TABLE sessions (id INTEGER, name TEXT); INSERT INTO sessions VALUES (1, 'x');",
    )
    .unwrap();
    let result = PostgresSessionStore::open(h.options());
    assert!(
        matches!(&result, Err(StoreError::Backend { .. })),
        "got {result:?}"
    );
    let tables = count(
        &mut sql,
        &format!(
            "SELECT count(*) FROM pg_tables WHERE schemaname = '{}'",
            h.schema()
        ),
    );
    assert_eq!(tables, 1);
    assert_eq!(count(&mut sql, "SELECT count(*) FROM sessions"), 1);
}

// ------------------------------------------------------------- quarantine

/// Damages the header of `session_id` with raw SQL.
fn corrupt(sql: &mut Client, session_id: &str, set: &str) {
    let changed = sql
        .execute(
            &format!("UPDATE sessions SET {set} WHERE session_id = $1"),
            &[&session_id],
        )
        .unwrap();
    assert_eq!(changed, 1, "{set}");
}

#[test]
fn corrupt_rows_are_quarantined_not_fatal() {
    let h = PgHarness::new();
    let store = h.store();
    let good = header("good");
    create(&store, &good);
    let good = append(&store, &good, "kept");
    let cases: &[(&str, &str, &str)] = &[
        (
            "bad-json",
            "config = '{\"start\": '",
            "config is not valid JSON",
        ),
        ("negative-version", "version = -3", "version is negative"),
        (
            "missing-content",
            "content_id = 'gone'",
            "content \"gone\" is missing",
        ),
        // Possible only once an operator dropped the NOT NULL (below).
        ("null-created", "created_at = NULL", "created_at is NULL"),
    ];
    for (id, _, _) in cases {
        let record = header(id);
        create(&store, &record);
        append(&store, &record, &format!("log of {id}"));
    }
    create(&store, &header("null-id"));
    let mut sql = h.sql();
    sql.batch_execute(
        "ALTER TABLE sessions ALTER COLUMN created_at DROP NOT NULL, \
                              ALTER COLUMN session_id DROP NOT NULL",
    )
    .unwrap();
    for (id, set, _) in cases {
        corrupt(&mut sql, id, set);
    }
    corrupt(&mut sql, "null-id", "session_id = NULL");

    let loaded = store.load_all().unwrap();
    assert_eq!(loaded.records, std::slice::from_ref(&good));
    let mut reported: Vec<(String, String)> = loaded
        .quarantined
        .iter()
        .map(|q| (q.session_id.clone(), q.reason.clone()))
        .collect();
    reported.sort();
    let mut expected: Vec<(String, &str)> = cases
        .iter()
        .map(|(id, _, reason)| ((*id).to_owned(), *reason))
        .collect();
    expected.push((String::new(), "session_id is NULL"));
    expected.sort();
    assert_eq!(reported.len(), expected.len(), "{reported:#?}");
    for ((id, reason), (expected_id, expected_reason)) in reported.iter().zip(&expected) {
        assert_eq!(id, expected_id);
        assert!(
            reason.contains(expected_reason),
            "{id}: {reason:?} should mention {expected_reason:?}"
        );
    }
    assert_eq!(store.list_quarantined().unwrap().len(), expected.len());

    // The next start-up is clean, also for another process, and the good
    // session is untouched.
    let again = h.store().load_all().unwrap();
    assert_eq!(again.records, [good]);
    assert!(again.quarantined.is_empty());
    assert_eq!(store.load_log("good").unwrap().commands, ["kept"]);
    assert!(store.load_log("bad-json").unwrap().commands.is_empty());

    // The quarantined rows keep their data, as found, for inspection.
    let row = sql
        .query_one(
            "SELECT config, reason FROM sessions_quarantine WHERE session_id = 'bad-json'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "{\"start\": ");
    assert!(row.get::<_, String>(1).contains("JSON"));
    let version: i64 = sql
        .query_one(
            "SELECT version FROM sessions_quarantine WHERE session_id = 'negative-version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, -3);
    let kept_log: String = sql
        .query_one(
            "SELECT c.command FROM sessions_quarantine q \
             JOIN sessions_commands c ON c.session_key = q.session_key \
             WHERE q.session_id = 'negative-version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kept_log, "log of negative-version");
}

#[test]
fn a_corrupt_row_is_an_error_naming_the_session_for_reads_and_writes() {
    let h = PgHarness::new();
    let store = h.store();
    let record = header("damaged");
    create(&store, &record);
    corrupt(&mut h.sql(), "damaged", "version = -1");
    let error = store
        .commit(vec![Write::append(&next(&record), vec!["c".to_owned()])])
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Backend {
                operation: "commit",
                ..
            }
        ),
        "{error:?}"
    );
    let chain = format!("{error}: {:?}", std::error::Error::source(&error));
    assert!(chain.contains("\"damaged\""), "{chain}");
    assert!(chain.contains("negative"), "{chain}");

    let error = store.load_session("damaged").unwrap_err();
    let chain = format!("{error}: {:?}", std::error::Error::source(&error));
    assert!(
        chain.contains("\"damaged\"") && chain.contains("negative"),
        "{chain}"
    );
}

#[test]
fn a_corrupt_row_can_still_be_deleted_or_quarantined() {
    let h = PgHarness::new();
    let store = h.store();
    let mut sql = h.sql();
    for id in ["to-delete", "to-quarantine"] {
        let record = header(id);
        create(&store, &record);
        append(&store, &record, "c");
        corrupt(&mut sql, id, "version = -7, config = '{'");
    }
    store.delete("to-delete").unwrap();
    store
        .commit(vec![Write::Quarantine {
            session_id: "to-quarantine".to_owned(),
            reason: "operator".to_owned(),
            at: T0,
        }])
        .unwrap();
    assert_eq!(store.load_all().unwrap(), Default::default());
    let quarantined = store.list_quarantined().unwrap();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].reason, "operator");
    assert_eq!(
        count(&mut sql, "SELECT count(*) FROM sessions_commands"),
        1,
        "the deleted session's log is gone, the quarantined one's kept"
    );
}

// -------------------------------------------------- several processes

#[test]
fn two_stores_racing_appends_exactly_one_wins() {
    let h = PgHarness::new();
    let stores = [h.store(), h.store()];
    let mut record = header("contested");
    create(&stores[0], &record);
    let (threads, rounds) = (6, 20);
    for round in 0..rounds {
        let barrier = Barrier::new(threads);
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (store, barrier, record) = (&stores[t % 2], &barrier, &record);
                    scope.spawn(move || {
                        barrier.wait();
                        store.commit(vec![Write::append(
                            &next(record),
                            vec![format!("round {round} by {t}")],
                        )])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = (0..threads).filter(|&t| results[t].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (t, result) in results.iter().enumerate() {
            if t != winners[0] {
                assert_conflict(result, record.version, record.version + 1);
            }
        }
        record = next(&record);
        for store in &stores {
            let log = store.load_log("contested").unwrap().commands;
            assert_eq!(log.len() as u64, record.version);
            assert_eq!(
                log.last().unwrap(),
                &format!("round {round} by {}", winners[0])
            );
        }
    }
    assert_eq!(stores[1].load_session("contested").unwrap(), Some(record));
}

#[test]
fn no_update_is_lost_or_applied_twice_across_stores() {
    let h = PgHarness::new();
    let stores = [h.store(), h.store()];
    create(&stores[0], &header("shared"));
    let (threads_per_store, per_thread) = (3, 15);
    let barrier = Barrier::new(2 * threads_per_store);
    std::thread::scope(|scope| {
        for (s, store) in stores.iter().enumerate() {
            for t in 0..threads_per_store {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    for i in 0..per_thread {
                        let command = format!("store {s} thread {t} action {i}");
                        // Read, act, write; on a conflict, read again, as a
                        // server does when another process moved the session.
                        loop {
                            let current = store.load_session("shared").unwrap().unwrap();
                            match store
                                .commit(vec![Write::append(&next(&current), vec![command.clone()])])
                            {
                                Ok(()) => break,
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(e) => panic!("{command}: {e}"),
                            }
                        }
                    }
                });
            }
        }
    });
    let total = 2 * threads_per_store * per_thread;
    let record = stores[1].load_session("shared").unwrap().unwrap();
    assert_eq!(record.version, total as u64);
    let log = stores[0].load_log("shared").unwrap().commands;
    assert_eq!(log.len(), total);
    let distinct: BTreeSet<&String> = log.iter().collect();
    assert_eq!(distinct.len(), total, "an action was applied twice");
    // Each thread's actions are in the log in the order it took them.
    for s in 0..2 {
        for t in 0..threads_per_store {
            let prefix = format!("store {s} thread {t} action ");
            let mine: Vec<usize> = log
                .iter()
                .filter_map(|c| c.strip_prefix(&prefix))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..per_thread).collect::<Vec<_>>());
        }
    }
    let mut sql = h.sql();
    let row = sql
        .query_one(
            "SELECT count(*), min(seq), max(seq) FROM sessions_commands",
            &[],
        )
        .unwrap();
    let (n, min, max): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((n, min, max), (total as i64, 1, total as i64));
}

#[test]
fn racing_creates_of_one_id_leave_one_whole_header() {
    let h = PgHarness::new();
    let stores = [h.store(), h.store()];
    stores[0]
        .commit(vec![Write::PutContent(content())])
        .unwrap();
    let threads = 8;
    let candidates: Vec<SessionRecord> = (0..threads)
        .map(|t| SessionRecord {
            created_at: T0 + t as i64,
            owner: Some(format!("creator {t}")),
            config: Some(json!({"by": t})),
            ..header("same-id")
        })
        .collect();
    let barrier = Barrier::new(threads);
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .iter()
            .enumerate()
            .map(|(t, record)| {
                let (store, barrier) = (&stores[t % 2], &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    store.commit(vec![Write::SaveSession(record.clone())])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Saving at version 0 is an upsert: every save lands, one after the
    // other, and none fails on the unique key.
    for result in &results {
        assert!(result.is_ok(), "{results:?}");
    }
    let mut sql = h.sql();
    assert_eq!(count(&mut sql, "SELECT count(*) FROM sessions"), 1);
    let stored = stores[1].load_session("same-id").unwrap().unwrap();
    assert!(
        candidates.contains(&stored),
        "the header mixes several writers' fields: {stored:?}"
    );

    // Once a process has started the log, a save of a new session with
    // that id cannot reset it.
    let started = append(&stores[0], &stored, "first");
    for candidate in &candidates {
        assert_conflict(
            &stores[1].commit(vec![Write::SaveSession(candidate.clone())]),
            0,
            1,
        );
    }
    assert_eq!(stores[1].load_session("same-id").unwrap(), Some(started));
    assert_eq!(stores[1].load_log("same-id").unwrap().commands, ["first"]);
}

#[test]
fn an_idle_purge_spares_a_session_touched_meanwhile() {
    for touch_commits in [true, false] {
        let h = PgHarness::new();
        let store = h.store();
        create(&store, &header("s"));
        let mut watch = h.admin();
        // Another process is using the session: it has moved the last
        // access time past the cutoff but not committed yet.
        let mut other = h.sql();
        let mut touch = other.transaction().unwrap();
        touch
            .execute(
                "UPDATE sessions SET last_accessed_at = $1 WHERE session_id = 's'",
                &[&(T0 + 1000)],
            )
            .unwrap();
        // The purge saw the old time when it decided; the store must check
        // again when it deletes.
        let purge = store.submit(vec![Write::DeleteIfIdle {
            session_id: "s".to_owned(),
            idle_before: T0 + 500,
        }]);
        wait_until("the purge waits for the row", || {
            h.backends_waiting_for_a_lock(&mut watch) == 1
        });
        if touch_commits {
            touch.commit().unwrap();
        } else {
            touch.rollback().unwrap();
        }
        purge.wait().unwrap();
        let left = store.load_session("s").unwrap();
        if touch_commits {
            let left = left.expect("a session used meanwhile survives the purge");
            assert_eq!(left.last_accessed_at, T0 + 1000);
        } else {
            assert_eq!(left, None, "an idle session is purged");
        }
    }
}

#[test]
fn a_delete_racing_an_append_leaves_no_log_behind() {
    let h = PgHarness::new();
    let store = h.store();
    let record = header("s");
    create(&store, &record);
    append(&store, &record, "c1");
    let mut watch = h.admin();
    // Another process appends command 2 and has not committed yet.
    let mut other = h.sql();
    let mut tx = other.transaction().unwrap();
    let key: i64 = tx
        .query_one(
            "UPDATE sessions SET version = 2 WHERE session_id = 's' RETURNING session_key",
            &[],
        )
        .unwrap()
        .get(0);
    tx.execute(
        "INSERT INTO sessions_commands (session_key, seq, command) VALUES ($1, 2, 'c2')",
        &[&key],
    )
    .unwrap();
    let delete = store.submit(vec![Write::Delete {
        session_id: "s".to_owned(),
        at_version: None,
    }]);
    wait_until("the delete waits for the row", || {
        h.backends_waiting_for_a_lock(&mut watch) == 1
    });
    tx.commit().unwrap();
    delete.wait().unwrap();
    let mut sql = h.sql();
    assert_eq!(count(&mut sql, "SELECT count(*) FROM sessions"), 0);
    assert_eq!(
        count(&mut sql, "SELECT count(*) FROM sessions_commands"),
        0,
        "the command committed while the delete waited is gone too"
    );
}

#[test]
fn a_deadlock_with_another_process_is_retried() {
    let h = PgHarness::new();
    let store = h.store();
    create(&store, &header("a"));
    create(&store, &header("b"));
    let mut watch = h.admin();
    let mut other = h.sql();
    let mut tx = other.transaction().unwrap();
    // The other process waits long before checking for deadlocks, so that
    // PostgreSQL picks the store's transaction as the victim.
    tx.batch_execute("SET LOCAL deadlock_timeout = '60s'")
        .unwrap();
    tx.execute(
        "UPDATE sessions SET last_accessed_at = 1 WHERE session_id = 'b'",
        &[],
    )
    .unwrap();
    let before = store.commit_stats();
    // The store locks a, then waits for b.
    let ticket = store.submit(vec![
        Write::Touch {
            session_id: "a".to_owned(),
            last_accessed_at: T0 + 100,
        },
        Write::Touch {
            session_id: "b".to_owned(),
            last_accessed_at: T0 + 200,
        },
    ]);
    wait_until("the store waits for b", || {
        h.backends_waiting_for_a_lock(&mut watch) == 1
    });
    // The other process now waits for a: a deadlock, which PostgreSQL
    // breaks by failing the store's transaction. Its rollback lets this
    // update through; the store tries its group again after.
    tx.execute(
        "UPDATE sessions SET last_accessed_at = 2 WHERE session_id = 'a'",
        &[],
    )
    .unwrap();
    tx.commit().unwrap();
    ticket.wait().expect("the deadlock victim is tried again");
    let after = store.commit_stats();
    // At least once: when the store tries again before the other process
    // got a's lock, the two deadlock once more (a busy machine does that).
    assert!(after.retries > before.retries, "{before:?} then {after:?}");
    let records = store.load_all().unwrap().records;
    let times: Vec<i64> = records.iter().map(|r| r.last_accessed_at).collect();
    assert_eq!(times, [T0 + 100, T0 + 200]);
}

#[test]
fn a_row_locked_too_long_fails_only_the_batch_that_waits_for_it() {
    let h = PgHarness::new();
    let url = with_param(&h.url(), "options", "-clock_timeout=200ms");
    let store = PostgresSessionStore::open(PostgresOptions::new(&url).schema(h.schema())).unwrap();
    let stuck = header("stuck");
    let free = header("free");
    create(&store, &stuck);
    create(&store, &free);
    // An operator's forgotten transaction holds one session's row.
    let mut other = h.sql();
    let mut forgotten = other.transaction().unwrap();
    forgotten
        .execute(
            "SELECT 1 FROM sessions WHERE session_id = 'stuck' FOR UPDATE",
            &[],
        )
        .unwrap();
    let waits = store.submit(vec![Write::append(&next(&stuck), vec!["c".to_owned()])]);
    let goes = store.submit(vec![Write::append(&next(&free), vec!["c".to_owned()])]);
    let error = waits.wait().unwrap_err();
    let chain = format!("{error}: {:?}", std::error::Error::source(&error));
    assert!(chain.contains("lock timeout"), "{chain}");
    goes.wait().unwrap();
    forgotten.rollback().unwrap();
    assert_eq!(store.load_session("stuck").unwrap(), Some(stuck.clone()));
    append(&store, &stuck, "c");
}

// ------------------------------------------------------------ group commit

#[test]
fn commits_queued_behind_a_busy_writer_share_one_transaction() {
    let h = PgHarness::new();
    let store = h.store();
    let n = 16;
    let records: Vec<SessionRecord> = (0..n).map(|t| header(&format!("s-{t:02}"))).collect();
    for record in &records {
        create(&store, record);
    }
    let before = store.commit_stats();
    assert_eq!(before.batches_submitted, before.batches_answered);

    // Another process holds the first session's row, so the writer waits
    // in its first transaction while every other batch queues behind it.
    let mut other = h.sql();
    let mut blocker = other.transaction().unwrap();
    blocker
        .execute(
            "SELECT 1 FROM sessions WHERE session_id = 's-00' FOR UPDATE",
            &[],
        )
        .unwrap();
    let first = store.submit(vec![Write::append(
        &next(&records[0]),
        vec!["queued".to_owned()],
    )]);
    let rest: Vec<_> = records[1..]
        .iter()
        .map(|record| {
            store.submit(vec![Write::append(
                &next(record),
                vec!["queued".to_owned()],
            )])
        })
        .collect();
    assert_eq!(
        store.commit_stats().batches_submitted - before.batches_submitted,
        n as u64
    );
    blocker.commit().unwrap();
    first.wait().unwrap();
    for ticket in rest {
        ticket.wait().unwrap();
    }

    let after = store.commit_stats();
    assert_eq!(after.batches_answered - before.batches_answered, n as u64);
    // The first group holds what had arrived when the writer woke; the rest
    // were all queued by the time it could go on, and went in one more.
    let transactions = after.transactions - before.transactions;
    assert!(
        transactions <= 2,
        "{n} batches took {transactions} transactions"
    );
    for record in &records {
        assert_eq!(
            store.load_log(&record.session_id).unwrap().commands,
            ["queued"]
        );
    }
}

#[test]
fn a_statement_error_fails_only_its_batch_and_its_group_still_commits() {
    let h = PgHarness::new();
    let store = h.store();
    let records: Vec<SessionRecord> = ["blocked", "damaged", "fine"]
        .iter()
        .map(|id| header(id))
        .collect();
    for record in &records {
        create(&store, record);
    }
    let mut sql = h.sql();
    // A stray command where the damaged session's next one goes: its
    // append fails on the (session_key, seq) key, a statement error that
    // aborts the whole transaction.
    sql.execute(
        "INSERT INTO sessions_commands (session_key, seq, command)          SELECT session_key, 1, 'stray' FROM sessions WHERE session_id = 'damaged'",
        &[],
    )
    .unwrap();
    // Hold the writer in its first group so that the other two appends
    // share the next one.
    let mut other = h.sql();
    let mut blocker = other.transaction().unwrap();
    blocker
        .execute(
            "SELECT 1 FROM sessions WHERE session_id = 'blocked' FOR UPDATE",
            &[],
        )
        .unwrap();
    let tickets: Vec<_> = records
        .iter()
        .map(|record| store.submit(vec![Write::append(&next(record), vec!["c1".to_owned()])]))
        .collect();
    blocker.commit().unwrap();
    let results: Vec<Result<(), StoreError>> = tickets.into_iter().map(|t| t.wait()).collect();
    assert!(results[0].is_ok(), "{results:?}");
    let error = results[1].as_ref().unwrap_err();
    let chain = format!("{error}: {:?}", std::error::Error::source(error));
    assert!(
        matches!(error, StoreError::Backend { .. }) && chain.contains("\"damaged\""),
        "{chain}"
    );
    assert!(results[2].is_ok(), "{results:?}");
    assert_eq!(
        store.load_commands("damaged", 0).unwrap(),
        ["stray"],
        "the failed append changed nothing"
    );
    // The log is the truth: the header, behind its (stray) log, is rebuilt
    // from it when read.
    assert_eq!(store.load_session("damaged").unwrap().unwrap().version, 1);
    assert_eq!(store.load_log("fine").unwrap().commands, ["c1"]);
    assert!(store.commit_stats().retries >= 1);
}

#[test]
fn text_holding_a_nul_character_is_refused_alone() {
    // PostgreSQL's TEXT cannot hold U+0000 (SQLite's can). JSON text never
    // has one raw (serde_json escapes it), but an owner or a meta value
    // could: such a batch fails with a backend error, and only it.
    let h = PgHarness::new();
    let store = h.store();
    let record = header("s");
    create(&store, &record);
    let bad = store.submit(vec![Write::SaveSession(SessionRecord {
        owner: Some("nul\0inside".to_owned()),
        ..record.clone()
    })]);
    let good = store.submit(vec![Write::append(&next(&record), vec!["c1".to_owned()])]);
    assert!(
        matches!(bad.wait(), Err(StoreError::Backend { .. })),
        "a NUL character is refused"
    );
    good.wait().unwrap();
    assert_eq!(store.load_session("s").unwrap(), Some(next(&record)));
}

// ------------------------------------------------ closing and reconnecting

#[test]
fn close_answers_queued_commits_and_releases_its_connections() {
    let h = PgHarness::new();
    let store = h.store();
    let mut record = header("s");
    create(&store, &record);
    let mut tickets = Vec::new();
    for i in 0..20 {
        let after = next(&record);
        tickets.push(store.submit(vec![Write::append(&after, vec![format!("c{i}")])]));
        record = after;
    }
    store.close().unwrap();
    for ticket in tickets {
        ticket.wait().expect("a commit queued before close lands");
    }
    assert!(matches!(store.load_all(), Err(StoreError::Closed)));
    assert!(matches!(
        store
            .submit(vec![Write::append(&next(&record), vec![])])
            .wait(),
        Err(StoreError::Closed)
    ));
    let mut watch = h.admin();
    wait_until("the closed store's backends exit", || {
        h.backends(&mut watch) == 0
    });
    drop(store);

    let reopened = h.store();
    assert_eq!(reopened.load_session("s").unwrap(), Some(record));
    assert_eq!(reopened.load_log("s").unwrap().commands.len(), 20);
}

#[test]
fn data_survives_dropping_the_store() {
    let h = PgHarness::new();
    {
        let store = h.store();
        let record = header("s-1");
        create(&store, &record);
        let record = append(&store, &record, r#"{"n":1}"#);
        append(&store, &record, r#"{"n":2}"#);
    }
    let mut sql = h.sql();
    let row = sql
        .query_one(
            "SELECT version, (SELECT count(*) FROM sessions_commands) FROM sessions",
            &[],
        )
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (2, 2));
    assert_eq!(
        h.store().load_log("s-1").unwrap().commands,
        [r#"{"n":1}"#, r#"{"n":2}"#]
    );
}

#[test]
fn the_store_reconnects_after_its_connections_are_terminated() {
    let h = PgHarness::new();
    let store = h.store();
    let record = header("s");
    create(&store, &record);
    assert_eq!(
        store.load_all().unwrap().records,
        std::slice::from_ref(&record)
    );
    let mut admin = h.admin();
    // What a server restart or an administrator does to both connections.
    let terminated = count(
        &mut admin,
        &format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{}') t",
            h.schema()
        ),
    );
    assert_eq!(
        terminated,
        1 + kb_store_postgres::DEFAULT_READ_CONNECTIONS as i64,
        "the writer and the read connections"
    );
    wait_until("the terminated backends exit", || {
        h.backends(&mut admin) == 0
    });

    let before = store.commit_stats();
    let record = append(&store, &record, "after the restart");
    assert_eq!(store.commit_stats().retries - before.retries, 1);
    assert_eq!(store.load_log("s").unwrap().commands, ["after the restart"]);
    assert_eq!(store.load_all().unwrap().records, [record]);
    // The writer, and the one read connection these sequential reads used
    // (the others reconnect when next used).
    assert_eq!(h.backends(&mut admin), 2);
}

// ---------------------------------------------------------------- announcements

/// What a store announced, in order.
type Heard = std::sync::Arc<std::sync::Mutex<Vec<Option<(String, u64)>>>>;

fn listening(store: &PostgresSessionStore) -> Heard {
    let heard: Heard = Heard::default();
    let sink = heard.clone();
    let watching = store.watch_changes(std::sync::Arc::new(move |change| {
        sink.lock()
            .unwrap()
            .push(change.map(|(id, version)| (id.to_owned(), version)));
    }));
    assert!(watching, "PostgreSQL announces changes");
    heard
}

#[test]
fn commits_of_another_store_are_announced_in_order_and_rolled_back_ones_are_not() {
    let h = PgHarness::new();
    let here = h.store();
    let there = h.store();
    let heard = listening(&here);
    // Listening first announces "you may have missed some".
    wait_until("the listener is ready", || {
        heard.lock().unwrap().first() == Some(&None)
    });
    let mut record = header("s-1");
    create(&there, &record);
    for command in ["a", "b", "c"] {
        record = append(&there, &record, command);
    }
    // A batch that fails (a stale version) announces nothing.
    let stale = there.commit(vec![Write::append(&header("s-1"), vec!["x".to_owned()])]);
    assert!(stale.is_err());
    // Nor does another table's commit on the same schema.
    let other = PostgresSessionStore::open(h.options().table_name("elsewhere")).unwrap();
    create(&other, &header("s-1"));
    append(&other, &header("s-1"), "elsewhere");
    there.delete("s-1").unwrap();
    wait_until("the delete is announced", || {
        heard.lock().unwrap().last() == Some(&Some(("s-1".to_owned(), 0)))
    });
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard,
        [
            None,
            Some(("s-1".to_owned(), 1)),
            Some(("s-1".to_owned(), 2)),
            Some(("s-1".to_owned(), 3)),
            Some(("s-1".to_owned(), 0)),
        ]
    );
    here.close().unwrap();
}

/// A grant credential for seat B of `session_id`.
fn seat_b(session_id: &str) -> kb_store::GrantRecord {
    kb_store::GrantRecord {
        grant_id: "g-1".to_owned(),
        session_id: session_id.to_owned(),
        kind: kb_store::GrantKind::Credential,
        role: "B".to_owned(),
        digest: Some("d-1".to_owned()),
        created_at: 1,
        expires_at: None,
        used_at: None,
        revoked_at: None,
        invitation_id: None,
    }
}

#[test]
fn a_version_1_schema_is_upgraded_in_place_to_grants() {
    let h = PgHarness::new();
    let store = h.store();
    create(&store, &header("s-1"));
    let record = append(&store, &header("s-1"), "c");
    store.close().unwrap();
    // Back to version 1, as the previous release left it.
    let mut sql = h.sql();
    sql.batch_execute(
        "DROP TABLE sessions_grants; \
         UPDATE sessions_meta SET value = '1' WHERE namespace = 'store' AND key = 'schema_version'",
    )
    .unwrap();
    let store = PostgresSessionStore::open(h.options()).unwrap();
    assert_eq!(stored_schema_version(&h), SCHEMA_VERSION.to_string());
    assert_eq!(store.load_all().unwrap().records, [record]);
    assert_eq!(store.load_log("s-1").unwrap().commands, ["c"]);
    store.commit(vec![Write::PutGrant(seat_b("s-1"))]).unwrap();
    assert_eq!(store.find_grant("d-1").unwrap(), Some(seat_b("s-1")));
}
