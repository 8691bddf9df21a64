//! SQLite-specific behaviour of [`SqliteSessionStore`]: options, the file's
//! layout as operators see it, migrations (including adopting the reference
//! server's database), quarantine of corrupt rows, and many writers.

use std::path::{Path, PathBuf};
use std::sync::Barrier;

use kb_store::{ContentRecord, SessionRecord, SessionStore, StoreError, Write};
use kb_store_sqlite::{SCHEMA_VERSION, SqliteOptions, SqliteSessionStore, SyncMode};
use rusqlite::Connection;
use serde_json::json;

const CONTENT_ID: &str = "0f4c1d9e2b7a";
const T0: i64 = 1_700_000_000_000;

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    (dir, path)
}

fn open(path: &Path) -> SqliteSessionStore {
    SqliteSessionStore::open(SqliteOptions::new(path)).unwrap()
}

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

fn append(store: &dyn SessionStore, record: &SessionRecord, command: &str) -> SessionRecord {
    let next = SessionRecord {
        version: record.version + 1,
        ..record.clone()
    };
    store
        .commit(vec![Write::append(&next, vec![command.to_owned()])])
        .unwrap();
    next
}

fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn invalid_table_names_are_rejected_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-yet").join("sessions.db");
    for name in [
        "",
        "bad-name",
        "x; DROP TABLE y",
        "séance",
        "two words",
        "a.b",
        "sqlite_master",
        "SQLite_x",
    ] {
        let result = SqliteSessionStore::open(SqliteOptions::new(&path).table_name(name));
        match result {
            Err(StoreError::InvalidTableName(rejected)) => assert_eq!(rejected, name),
            other => panic!("{name:?}: expected InvalidTableName, got {other:?}"),
        }
    }
    assert!(!path.parent().unwrap().exists());
    for name in ["sessions", "Games_2", "_", "0", "123abc", "select"] {
        SqliteSessionStore::open(SqliteOptions::new(&path).table_name(name))
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}

#[test]
fn a_custom_table_name_names_every_table() {
    let (_dir, path) = temp();
    let store = SqliteSessionStore::open(SqliteOptions::new(&path).table_name("games")).unwrap();
    create(&store, &header("s-1"));
    assert_eq!(
        tables(&path),
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
    let conn = Connection::open(&path).unwrap();
    let id: String = conn
        .query_row("SELECT session_id FROM games", [], |row| row.get(0))
        .unwrap();
    assert_eq!(id, "s-1");
}

#[test]
fn default_options_match_the_guide() {
    let options = SqliteOptions::default();
    assert_eq!(options.file_path, Path::new("data/sessions.db"));
    assert_eq!(options.table_name, "sessions");
    assert_eq!(options.sync, SyncMode::Normal);
}

#[test]
fn the_parent_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("sessions.db");
    let store = open(&path);
    create(&store, &header("s-1"));
    assert!(path.is_file());
}

#[test]
fn the_file_is_in_wal_mode_under_both_sync_modes() {
    for sync in [SyncMode::Normal, SyncMode::Full] {
        let (_dir, path) = temp();
        let store = SqliteSessionStore::open(SqliteOptions::new(&path).sync(sync)).unwrap();
        create(&store, &header("s-1"));
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "{sync:?}");
        assert!(Path::new(&format!("{}-wal", path.display())).exists());
    }
}

#[test]
fn the_guides_debugging_query_works_while_the_store_is_open() {
    let (_dir, path) = temp();
    let store = open(&path);
    create(&store, &header("b-session"));
    create(
        &store,
        &SessionRecord {
            dev_mode: true,
            created_at: T0 + 10,
            last_accessed_at: T0 + 20,
            ..header("a-session")
        },
    );
    let conn = Connection::open(&path).unwrap();
    let mut stmt = conn
        .prepare("SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions;")
        .unwrap();
    let mut rows: Vec<(String, i64, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("a-session".to_owned(), 1, T0 + 10, T0 + 20),
            ("b-session".to_owned(), 0, T0, T0 + 1),
        ]
    );
    // The store keeps working beside the reader.
    append(&store, &header("b-session"), "{}");
}

#[test]
fn json_columns_expand_with_json_each() {
    let (_dir, path) = temp();
    let store = open(&path);
    create(
        &store,
        &SessionRecord {
            config: Some(json!({"start": {"gold": 3}, "phases": []})),
            ..header("s-1")
        },
    );
    let conn = Connection::open(&path).unwrap();
    let keys = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        keys("SELECT j.key FROM sessions, json_each(sessions.config) AS j ORDER BY j.key"),
        ["phases", "start"]
    );
    assert_eq!(
        keys(
            "SELECT j.key FROM sessions_contents, json_each(sessions_contents.registries) AS j \
             ORDER BY j.key"
        ),
        ["actions", "buildings"]
    );
    assert_eq!(
        keys(
            "SELECT j.key FROM sessions_contents, json_each(sessions_contents.metadata) AS j \
             ORDER BY j.key"
        ),
        ["overview", "phases"]
    );
}

#[test]
fn data_is_durable_across_close_and_reopen_and_close_leaves_no_wal() {
    let (_dir, path) = temp();
    let record = header("s-1");
    {
        let store = open(&path);
        create(&store, &record);
        let record = append(&store, &record, r#"{"n":1}"#);
        append(&store, &record, r#"{"n":2}"#);
        store.close().unwrap();
    }
    // The last connection checkpointed the WAL into the file and removed it.
    assert!(!Path::new(&format!("{}-wal", path.display())).exists());
    let conn = Connection::open(&path).unwrap();
    let (version, commands): (i64, i64) = conn
        .query_row(
            "SELECT version, (SELECT count(*) FROM sessions_commands) FROM sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, commands), (2, 2));
    drop(conn);
    let store = open(&path);
    assert_eq!(
        store.load_log("s-1").unwrap().commands,
        [r#"{"n":1}"#, r#"{"n":2}"#]
    );
}

#[test]
fn dropping_the_store_closes_it_cleanly() {
    let (_dir, path) = temp();
    {
        let store = open(&path);
        create(&store, &header("s-1"));
    }
    assert!(!Path::new(&format!("{}-wal", path.display())).exists());
    assert_eq!(open(&path).load_all().unwrap().records, [header("s-1")]);
}

#[test]
fn two_table_names_in_one_file_are_independent() {
    let (_dir, path) = temp();
    let one = SqliteSessionStore::open(SqliteOptions::new(&path).table_name("one")).unwrap();
    let two = SqliteSessionStore::open(SqliteOptions::new(&path).table_name("two")).unwrap();
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
fn opening_twice_does_not_migrate_twice() {
    let (_dir, path) = temp();
    create(&open(&path), &header("s-1"));
    let store = open(&path);
    assert_eq!(store.load_all().unwrap().records, [header("s-1")]);
    let conn = Connection::open(&path).unwrap();
    let version: String = conn
        .query_row(
            "SELECT value FROM sessions_meta WHERE namespace = 'store' AND key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, path) = temp();
    create(&open(&path), &header("s-1"));
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE sessions_meta SET value = ?1 WHERE namespace = 'store' AND key = 'schema_version'",
        [(SCHEMA_VERSION + 1).to_string()],
    )
    .unwrap();
    match SqliteSessionStore::open(SqliteOptions::new(&path)) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    // Refusing changed nothing.
    let ids: i64 = conn
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ids, 1);
}

#[test]
fn an_unknown_table_of_that_name_is_left_alone() {
    let (_dir, path) = temp();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE sessions (id INTEGER, name TEXT); INSERT INTO sessions VALUES (1, 'x');",
    )
    .unwrap();
    let result = SqliteSessionStore::open(SqliteOptions::new(&path));
    assert!(
        matches!(&result, Err(StoreError::Backend { .. })),
        "got {result:?}"
    );
    assert_eq!(tables(&path), ["sessions"]);
}

/// The reference server's table, exactly as it created it.
fn reference_database(path: &Path, config_column: &str) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS sessions (
             session_id TEXT PRIMARY KEY,
             created_at INTEGER NOT NULL,
             last_accessed_at INTEGER NOT NULL,
             dev_mode INTEGER NOT NULL,
             {config_column} TEXT,
             registries TEXT NOT NULL,
             metadata TEXT NOT NULL
         );"
    ))
    .unwrap();
    let rows: [(&str, i64, i64, i64, Option<&str>); 3] = [
        (
            "0b7c0e0e-6f2a-4a53-9d0b-1f2d3c4b5a69",
            T0,
            T0 + 60_000,
            1,
            None,
        ),
        (
            "persisted-session",
            T0 + 1,
            T0 + 2,
            0,
            Some(r#"{"start":{"player":{"resources":{"gold":20}}}}"#),
        ),
        ("broken", T0, T0, 0, Some("{not json")),
    ];
    for (id, created, accessed, dev, config) in rows {
        conn.execute(
            &format!(
                "INSERT INTO sessions (session_id, created_at, last_accessed_at, dev_mode, \
                 {config_column}, registries, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            rusqlite::params![
                id,
                created,
                accessed,
                dev,
                config,
                r#"{"actions":{}}"#,
                "{}"
            ],
        )
        .unwrap();
    }
    conn
}

#[test]
fn the_reference_servers_database_is_adopted() {
    for config_column in ["config", "config_json"] {
        let (_dir, path) = temp();
        drop(reference_database(&path, config_column));
        let store = open(&path);
        let loaded = store.load_all().unwrap();
        let legacy = |id: &str, created, accessed, dev_mode, config| SessionRecord {
            session_id: id.to_owned(),
            created_at: created,
            last_accessed_at: accessed,
            dev_mode,
            config,
            content_id: String::new(),
            owner: None,
            version: 0,
        };
        assert_eq!(
            loaded.records,
            [
                legacy(
                    "0b7c0e0e-6f2a-4a53-9d0b-1f2d3c4b5a69",
                    T0,
                    T0 + 60_000,
                    true,
                    None
                ),
                legacy(
                    "persisted-session",
                    T0 + 1,
                    T0 + 2,
                    false,
                    Some(json!({"start": {"player": {"resources": {"gold": 20}}}}))
                ),
            ],
            "{config_column}"
        );
        // The row the reference could not have restored either is set
        // aside, not fatal.
        assert_eq!(loaded.quarantined.len(), 1);
        assert_eq!(loaded.quarantined[0].session_id, "broken");
        assert!(
            loaded.quarantined[0].reason.contains("config"),
            "{}",
            loaded.quarantined[0].reason
        );
        // Adopted sessions are ordinary sessions from now on.
        let adopted = &loaded.records[1];
        let next = append(&store, adopted, "first command after the migration");
        assert_eq!(next.version, 1);
        drop(store);
        assert!(!tables(&path).iter().any(|t| t.contains("reference")));
        // And the guide's query still reads them.
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
    }
}

#[test]
fn an_empty_reference_table_migrates_to_an_empty_store() {
    let (_dir, path) = temp();
    let conn = reference_database(&path, "config");
    conn.execute("DELETE FROM sessions", []).unwrap();
    drop(conn);
    let store = open(&path);
    assert_eq!(store.load_all().unwrap(), Default::default());
    create(&store, &header("new"));
    assert_eq!(store.load_all().unwrap().records, [header("new")]);
}

/// Corrupts the header of `session_id` with raw SQL.
fn corrupt(path: &Path, session_id: &str, set: &str) {
    let conn = Connection::open(path).unwrap();
    let changed = conn
        .execute(
            &format!("UPDATE sessions SET {set} WHERE session_id = ?1"),
            [session_id],
        )
        .unwrap();
    assert_eq!(changed, 1, "{set}");
}

#[test]
fn corrupt_rows_are_quarantined_not_fatal() {
    let (_dir, path) = temp();
    let store = open(&path);
    let good = header("good");
    create(&store, &good);
    let good = append(&store, &good, "kept");
    let cases: &[(&str, &str, &str)] = &[
        (
            "bad-json",
            "config = '{\"start\": '",
            "config is not valid JSON",
        ),
        ("config-blob", "config = x'7b7d'", "config is BLOB"),
        ("null-created", "created_at = NULL", "created_at is NULL"),
        (
            "text-accessed",
            "last_accessed_at = 'yesterday'",
            "last_accessed_at is TEXT",
        ),
        ("real-created", "created_at = 1.5", "created_at is REAL"),
        ("dev-mode-2", "dev_mode = 2", "dev_mode is 2"),
        ("null-dev-mode", "dev_mode = NULL", "dev_mode is NULL"),
        ("negative-version", "version = -3", "version is negative"),
        ("text-version", "version = 'three'", "version is TEXT"),
        ("null-version", "version = NULL", "version is NULL"),
        (
            "missing-content",
            "content_id = 'gone'",
            "content \"gone\" is missing",
        ),
        ("null-content", "content_id = NULL", "content_id is NULL"),
        ("owner-blob", "owner = x'00ff'", "owner is BLOB"),
        (
            "bad-utf8",
            "owner = CAST(x'ff' AS TEXT)",
            "owner is not valid UTF-8",
        ),
    ];
    for (id, _, _) in cases {
        let record = header(id);
        create(&store, &record);
        append(&store, &record, &format!("log of {id}"));
    }
    // A row whose id itself is unreadable.
    create(&store, &header("null-id"));
    for (id, set, _) in cases {
        corrupt(&path, id, set);
    }
    corrupt(&path, "null-id", "session_id = NULL");

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

    // The next start-up is clean, and the good session is untouched.
    let again = store.load_all().unwrap();
    assert_eq!(again.records, [good]);
    assert!(again.quarantined.is_empty());
    assert_eq!(store.load_log("good").unwrap().commands, ["kept"]);
    assert!(store.load_log("bad-json").unwrap().commands.is_empty());

    // The quarantined rows keep their data, as found, for inspection.
    let conn = Connection::open(&path).unwrap();
    let (config, reason): (String, String) = conn
        .query_row(
            "SELECT config, reason FROM sessions_quarantine WHERE session_id = 'bad-json'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(config, "{\"start\": ");
    assert!(reason.contains("JSON"));
    let accessed: String = conn
        .query_row(
            "SELECT last_accessed_at FROM sessions_quarantine WHERE session_id = 'text-accessed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(accessed, "yesterday");
    let kept_log: String = conn
        .query_row(
            "SELECT c.command FROM sessions_quarantine q \
             JOIN sessions_commands c ON c.session_key = q.session_key \
             WHERE q.session_id = 'negative-version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept_log, "log of negative-version");
}

#[test]
fn a_write_to_a_corrupt_row_fails_with_the_session_in_the_error() {
    let (_dir, path) = temp();
    let store = open(&path);
    let record = header("damaged");
    create(&store, &record);
    corrupt(&path, "damaged", "version = 'x'");
    let error = store
        .commit(vec![Write::append(
            &SessionRecord {
                version: 1,
                ..record
            },
            vec!["c".to_owned()],
        )])
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::Backend {
            operation: "commit",
            ..
        }
    ));
    let chain = format!("{error}: {:?}", std::error::Error::source(&error));
    assert!(chain.contains("\"damaged\""), "{chain}");
}

#[test]
fn a_corrupt_row_can_still_be_deleted_or_quarantined() {
    let (_dir, path) = temp();
    let store = open(&path);
    for id in ["to-delete", "to-quarantine"] {
        let record = header(id);
        create(&store, &record);
        append(&store, &record, "c");
        corrupt(&path, id, "version = 'x', config = '{'");
    }
    store.delete("to-delete").unwrap();
    store
        .commit(vec![Write::Quarantine {
            session_id: "to-quarantine".to_owned(),
            reason: "operator".to_owned(),
            at: T0,
        }])
        .unwrap();
    let loaded = store.load_all().unwrap();
    assert_eq!(loaded, Default::default());
    let quarantined = store.list_quarantined().unwrap();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].reason, "operator");
    let conn = Connection::open(&path).unwrap();
    let commands: i64 = conn
        .query_row("SELECT count(*) FROM sessions_commands", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        commands, 1,
        "the deleted session's log is gone, the quarantined one's kept"
    );
}

#[test]
fn two_stores_on_one_file_detect_each_others_writes() {
    let (_dir, path) = temp();
    let one = open(&path);
    let two = open(&path);
    let record = header("s-1");
    create(&one, &record);
    let barrier = Barrier::new(2);
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        [&one, &two]
            .map(|store| {
                let (barrier, record) = (&barrier, &record);
                scope.spawn(move || {
                    barrier.wait();
                    store.commit(vec![Write::append(
                        &SessionRecord {
                            version: 1,
                            ..record.clone()
                        },
                        vec!["mine".to_owned()],
                    )])
                })
            })
            .map(|handle| handle.join().unwrap())
            .into()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(one.load_log("s-1").unwrap().commands, ["mine"]);
}

#[test]
fn commits_queued_behind_a_busy_writer_share_one_transaction() {
    let (_dir, path) = temp();
    let store = open(&path);
    let n = 16;
    let records: Vec<SessionRecord> = (0..n).map(|t| header(&format!("s-{t:02}"))).collect();
    for record in &records {
        create(&store, record);
    }
    let before = store.commit_stats();
    assert_eq!(before.batches_submitted, before.batches_answered);

    // Another connection holds the write lock, so the writer waits in its
    // first BEGIN while every other batch queues up behind it.
    let blocker = Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::scope(|scope| {
        for record in &records {
            let store = &store;
            scope.spawn(move || append(store, record, "queued"));
        }
        // A liveness guard, not a timing check: the writer gives up on the
        // lock after its 5 s busy timeout anyway.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
        while store.commit_stats().batches_submitted < before.batches_submitted + n as u64 {
            assert!(std::time::Instant::now() < deadline, "batches never queued");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        blocker.execute_batch("COMMIT").unwrap();
    });

    let after = store.commit_stats();
    assert_eq!(after.batches_answered - before.batches_answered, n as u64);
    // The first group holds what had arrived when the writer woke; the rest
    // were all queued by the time it could write, and went in one more.
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
fn a_read_only_store_reads_beside_a_writer_and_changes_nothing() {
    let (_dir, path) = temp();
    let store = open(&path);
    let good = header("good");
    create(&store, &good);
    let good = append(&store, &good, "c1");
    create(&store, &header("bad"));
    corrupt(&path, "bad", "dev_mode = 7");

    let reader = SqliteSessionStore::open_read_only(SqliteOptions::new(&path)).unwrap();
    let scan = reader.scan().unwrap();
    assert_eq!(scan.records, vec![good.clone()]);
    assert_eq!(scan.unreadable.len(), 1);
    assert!(
        scan.unreadable[0].reason.contains("dev_mode"),
        "{:?}",
        scan.unreadable
    );
    assert_eq!(reader.load_commands("good", 0).unwrap(), ["c1"]);
    assert_eq!(reader.integrity_check().unwrap(), ["ok"]);
    assert!(matches!(reader.load_all(), Err(StoreError::ReadOnly)));
    assert!(matches!(
        reader.commit(vec![Write::Delete {
            session_id: "good".to_owned(),
            at_version: None
        }]),
        Err(StoreError::ReadOnly)
    ));
    // The writer goes on; the reader sees its commits; nothing was moved.
    let good = append(&store, &good, "c2");
    assert_eq!(reader.load_session("good").unwrap(), Some(good));
    assert!(store.list_quarantined().unwrap().is_empty());
    assert_eq!(reader.scan().unwrap().unreadable.len(), 1);

    // A backup is a sound database of its own.
    let copy = path.with_file_name("copy.db");
    assert!(reader.backup_to(&copy).unwrap() > 0);
    assert!(
        reader.backup_to(&copy).is_err(),
        "never over an existing file"
    );
    let restored = SqliteSessionStore::open_read_only(SqliteOptions::new(&copy)).unwrap();
    assert_eq!(restored.load_commands("good", 0).unwrap(), ["c1", "c2"]);

    let missing = path.with_file_name("missing.db");
    assert!(SqliteSessionStore::open_read_only(SqliteOptions::new(&missing)).is_err());
    assert!(!missing.exists(), "a read-only open creates nothing");
}

#[test]
fn a_version_1_file_is_upgraded_in_place_to_grants() {
    let (_dir, path) = temp();
    let store = SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap();
    create(&store, &header("s-1"));
    store.close().unwrap();
    drop(store);
    // Back to version 1, as the previous release left it.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE sessions_grants; \
         UPDATE sessions_meta SET value = '1' WHERE namespace = 'store' AND key = 'schema_version'",
    )
    .unwrap();
    drop(conn);
    let store = SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap();
    assert_eq!(store.load_all().unwrap().records, [header("s-1")]);
    let grant = kb_store::GrantRecord {
        grant_id: "g-1".to_owned(),
        session_id: "s-1".to_owned(),
        kind: kb_store::GrantKind::Invitation,
        role: "spectator".to_owned(),
        digest: Some("d-1".to_owned()),
        created_at: 1,
        expires_at: Some(2),
        used_at: None,
        revoked_at: None,
        invitation_id: None,
    };
    store.commit(vec![Write::PutGrant(grant.clone())]).unwrap();
    assert_eq!(store.load_grants("s-1").unwrap(), [grant]);
    let conn = Connection::open(&path).unwrap();
    let version: String = conn
        .query_row(
            "SELECT value FROM sessions_meta WHERE namespace = 'store' AND key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION.to_string());
}
