//! Operating `kingdom serve`: where the database goes, how tokens are
//! configured, what a public bind needs, graceful shutdown, corrupt rows,
//! reads that write nothing, content that changed between releases, and
//! downtime that is not idle time.

use std::path::Path;

use hyper::Method;
use serde_json::{Value, json};

use crate::util::{Launch, Server, dump_table, run_to_exit, session_id, version};

const DEV: Option<&str> = Some("local-dev");

/// Plays a default session to A's main phase and taxes: version 9.
async fn play_a_turn(server: &Server, token: Option<&str>) -> String {
    let client = server.client(token);
    let id = session_id(&client.create(&json!({})).await);
    for _ in 0..7 {
        client
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
    }
    let state = client
        .post_expect(
            &format!("/sessions/{id}/actions"),
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    assert_eq!(version(&state), 9);
    id
}

fn gold(state: &Value, player: usize) -> f64 {
    state["snapshot"]["game"]["players"][player]["resources"]["gold"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn a_missing_db_directory_is_created_and_sigterm_closes_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new").join("nested").join("sessions.db");
    let server = Launch::new().start(&db);
    assert!(db.exists(), "created on first run");
    let log = server.log_text();
    assert!(log.contains("Starting Kingdom Builder server..."), "{log}");
    assert!(log.contains("Kingdom Builder server listening on http://127.0.0.1:"));

    let first = play_a_turn(&server, DEV).await;
    let client = server.client(DEV);
    let second = session_id(&client.create(&json!({"devMode": true})).await);
    let states = [
        client.snapshot(&first).await,
        client.snapshot(&second).await,
    ];

    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("session store closed"), "{log}");
    // Closing checkpointed the WAL back into the database file.
    let wal = db.with_extension("db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the -wal file is still there"
    );

    let server = Launch::new().start(&db);
    let client = server.client(DEV);
    for (id, state) in [first, second].iter().zip(&states) {
        assert_eq!(&client.snapshot(id).await, state);
    }
}

#[test]
fn a_public_bind_without_tokens_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let launch = Launch::new().args(&["--host", "0.0.0.0"]);
    let (status, stderr) = run_to_exit(&launch, &db);
    assert_eq!(status.code(), Some(1), "{stderr}");
    for hint in [
        "kingdom: refusing to serve on 0.0.0.0:",
        "without a token table",
        "--tokens FILE",
        "KB_SERVER_AUTH_TOKENS",
        "bind to 127.0.0.1",
    ] {
        assert!(stderr.contains(hint), "missing {hint:?} in\n{stderr}");
    }
    assert!(!db.exists(), "refused before touching the database");
}

const TOKENS: &str = r#"{
    "alice-secret": {"userId": "alice", "roles": ["session:create", "session:advance"]},
    "bob-secret": {"userId": "bob", "roles": ["session:create", "session:advance"]},
    "root-secret": {"userId": "root", "roles": ["admin"]}
}"#;

/// Alice creates and plays, Bob gets 404 on her session, the admin lists
/// it, and neither a missing token nor the dev token gets in.
async fn check_token_table(server: &Server, alice: &str, bob: &str, admin: &str) -> String {
    let client = server.client(None);
    let reply = client
        .send(Method::POST, "/sessions", Some(&json!({})))
        .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = client
        .with_token(DEV)
        .send(Method::POST, "/sessions", Some(&json!({})))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        reply.body["message"],
        "Token is not authorized for this server."
    );

    let id = play_a_turn(server, Some(alice)).await;
    let reply = client
        .with_token(Some(bob))
        .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let listing = client.with_token(Some(admin)).get_ok("/sessions").await;
    assert_eq!(listing["sessions"][0]["sessionId"], id.as_str());
    assert_eq!(listing["sessions"][0]["owner"], "alice");
    id
}

#[tokio::test]
async fn tokens_from_a_file_allow_a_public_bind() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.json");
    std::fs::write(&tokens, TOKENS).unwrap();
    let launch = Launch::new().args(&["--host", "0.0.0.0", "--tokens", tokens.to_str().unwrap()]);
    let server = launch.start(&dir.path().join("sessions.db"));
    assert!(server.address().ip().is_unspecified());
    let id = check_token_table(&server, "alice-secret", "bob-secret", "root-secret").await;

    // Ownership survives a restart.
    let (status, _) = server.terminate();
    assert!(status.success());
    let server = launch.start(&dir.path().join("sessions.db"));
    let path = format!("/sessions/{id}/snapshot");
    let reply = server
        .client(Some("bob-secret"))
        .send(Method::GET, &path, None)
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let state = server.client(Some("alice-secret")).get_ok(&path).await;
    assert_eq!(version(&state), 9);
}

#[tokio::test]
async fn tokens_from_the_environment_and_the_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    let env_table = TOKENS.replace("-secret", "-env");
    let launch = Launch::new().env("KB_SERVER_AUTH_TOKENS", &env_table);
    let server = launch.start(&dir.path().join("env.db"));
    check_token_table(&server, "alice-env", "bob-env", "root-env").await;
    drop(server);

    let tokens = dir.path().join("tokens.json");
    std::fs::write(&tokens, TOKENS).unwrap();
    let launch = launch.args(&["--tokens", tokens.to_str().unwrap()]);
    let server = launch.start(&dir.path().join("both.db"));
    let reply = server
        .client(Some("alice-env"))
        .send(Method::POST, "/sessions", Some(&json!({})))
        .await;
    assert_eq!(
        reply.status, 403,
        "the file's table replaces the environment's"
    );
    check_token_table(&server, "alice-secret", "bob-secret", "root-secret").await;
}

#[test]
fn an_unusable_token_table_stops_the_start_naming_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let tokens = dir.path().join("tokens.json");
    std::fs::write(&tokens, r#"{"s3cret": {"userId": "a", "roles": "admin"}}"#).unwrap();
    let launch = Launch::new().args(&["--tokens", tokens.to_str().unwrap()]);
    let (status, stderr) = run_to_exit(&launch, &db);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "invalid token table in token file {}",
            tokens.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "a token leaked: {stderr}");
    let launch = Launch::new().env("KB_SERVER_AUTH_TOKENS", "{not json");
    let (status, stderr) = run_to_exit(&launch, &db);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("invalid token table in environment variable KB_SERVER_AUTH_TOKENS"),
        "{stderr}"
    );
}

#[test]
fn a_foreign_table_named_sessions_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE sessions (recipe TEXT); INSERT INTO sessions VALUES ('soup');",
    )
    .unwrap();
    drop(conn);
    let (status, stderr) = run_to_exit(&Launch::new(), &db);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot open the session database {}",
            db.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("exists but is neither a session store table nor the reference server's"),
        "{stderr}"
    );
    assert_eq!(
        dump_table(&db, "sessions", ""),
        [[Some("'soup'".to_owned())]]
    );
}

/// Runs SQL on the database of a stopped server.
fn sql(db: &Path, statement: &str, id: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let changed = conn.execute(statement, [id]).unwrap();
    assert_eq!(changed, 1, "{statement}");
}

#[tokio::test]
async fn corrupt_rows_are_quarantined_and_the_other_sessions_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let good = play_a_turn(&server, DEV).await;
    let bad_header = play_a_turn(&server, DEV).await;
    let bad_log = play_a_turn(&server, DEV).await;
    let good_state = server.client(DEV).snapshot(&good).await;
    server.kill();

    sql(
        &db,
        "UPDATE sessions SET version = 'nine' WHERE session_id = ?1",
        &bad_header,
    );
    sql(
        &db,
        "UPDATE sessions_commands SET command = '{\"type\": \"action\", \"act' \
         WHERE seq = 3 AND session_key = \
         (SELECT session_key FROM sessions WHERE session_id = ?1)",
        &bad_log,
    );

    let server = Launch::new().start(&db);
    let client = server.client(DEV);
    assert_eq!(client.snapshot(&good).await, good_state);
    for id in [&bad_header, &bad_log] {
        let reply = client
            .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
            .await;
        assert_eq!(reply.status, 404, "{id}: {}", reply.body);
        assert_eq!(
            reply.body["message"],
            format!("Session \"{id}\" was not found.")
        );
    }
    // The good session keeps playing; new sessions can be created.
    client
        .post_expect(&format!("/sessions/{good}/advance"), None, 200)
        .await;
    client.create(&json!({})).await;
    let listing = client.get_ok("/sessions").await;
    let ids: Vec<&str> = listing["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&good.as_str()));

    // Both rows are kept aside with their reasons, and reported.
    let quarantined = dump_table(&db, "sessions_quarantine", "");
    let reasons: Vec<(String, String)> = quarantined
        .iter()
        .map(|row| (row[2].clone().unwrap(), row[10].clone().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let reason_of = |id: &str| {
        reasons
            .iter()
            .find(|(found, _)| found.trim_matches('\'') == id)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("{id} not quarantined: {reasons:?}"))
    };
    assert!(reason_of(&bad_header).contains("version is TEXT"));
    assert!(reason_of(&bad_log).contains("log entry 3 is unreadable"));
    let log = server.log_text();
    assert!(
        log.contains("quarantined an unreadable session row"),
        "{log}"
    );
    // At start-up for the header (above), at first use for the log.
    server.wait_for_log("quarantining session");
}

#[tokio::test]
async fn a_header_behind_its_log_is_rebuilt_from_the_log_not_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let id = play_a_turn(&server, DEV).await;
    let played = server.client(DEV).snapshot(&id).await;
    server.kill();
    // A header left behind its log (a bug, a hand edit, a half-restored
    // backup): the log holds 9 entries, the header says 5.
    sql(
        &db,
        "UPDATE sessions SET version = 5 WHERE session_id = ?1",
        &id,
    );

    let server = Launch::new().start(&db);
    let client = server.client(DEV);
    assert_eq!(client.snapshot(&id).await, played);
    let state = client
        .post_expect(&format!("/sessions/{id}/advance"), None, 200)
        .await;
    assert_eq!(version(&state), 10);
    assert!(dump_table(&db, "sessions_quarantine", "").is_empty());
    server.wait_for_log("a session header was behind its log; rebuilt it from the log");
}

/// Every table of the store, with the heartbeat left out (the server
/// writes it on a timer, not for requests).
fn store_contents(db: &Path) -> Vec<Vec<Vec<Option<String>>>> {
    let mut tables: Vec<Vec<Vec<Option<String>>>> = [
        "sessions",
        "sessions_commands",
        "sessions_checkpoints",
        "sessions_contents",
        "sessions_quarantine",
    ]
    .iter()
    .map(|table| dump_table(db, table, ""))
    .collect();
    tables.push(dump_table(
        db,
        "sessions_meta",
        "WHERE NOT (namespace = 'app' AND key = 'last_alive_at')",
    ));
    tables
}

#[tokio::test]
async fn reads_and_refused_requests_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let id = play_a_turn(&server, DEV).await;
    let client = server.client(DEV);
    let before = store_contents(&db);
    assert_eq!(before[1].len(), 9, "the log holds the 9 entries");

    let session = |suffix: &str| format!("/sessions/{id}/{suffix}");
    let reads: Vec<(Method, String, Option<Value>, u16)> = vec![
        (Method::GET, session("snapshot"), None, 200),
        (Method::POST, session("actions/tax/costs"), None, 200),
        (
            Method::POST,
            session("actions/develop/costs"),
            Some(json!({"params": {"id": "house"}})),
            200,
        ),
        (
            Method::POST,
            session("actions/raise_pop/requirements"),
            None,
            200,
        ),
        (
            Method::GET,
            session("actions/royal_decree/options"),
            None,
            200,
        ),
        (
            Method::POST,
            session("simulate"),
            Some(json!({"playerId": "A"})),
            200,
        ),
        (
            Method::POST,
            session("simulate"),
            Some(json!({"playerId": "B"})),
            200,
        ),
        (Method::GET, format!("/metadata?sessionId={id}"), None, 200),
        (Method::GET, "/metadata".to_owned(), None, 200),
        (Method::GET, "/runtime-config".to_owned(), None, 200),
        (Method::GET, "/sessions".to_owned(), None, 200),
        (Method::GET, "/healthz".to_owned(), None, 200),
        // Not B's turn: the AI has nothing to do.
        (
            Method::POST,
            session("ai-turn"),
            Some(json!({"playerId": "B"})),
            200,
        ),
        // Refused by the engine, by validation, or as not found.
        (
            Method::POST,
            session("actions"),
            Some(json!({"actionId": "tax"})),
            409,
        ),
        (
            Method::POST,
            session("actions"),
            Some(json!({"actionId": "royal_decree"})),
            409,
        ),
        (
            Method::POST,
            session("ai-turn"),
            Some(json!({"playerId": "A"})),
            409,
        ),
        (
            Method::POST,
            session("dev-mode"),
            Some(json!({"enabled": "yes"})),
            400,
        ),
        (
            Method::PATCH,
            session("player"),
            Some(json!({"playerId": "A", "playerName": " "})),
            400,
        ),
        (Method::POST, "/sessions/nope/advance".to_owned(), None, 404),
        (
            Method::POST,
            "/sessions".to_owned(),
            Some(json!({"devMode": 1})),
            400,
        ),
    ];
    for _ in 0..5 {
        for (method, path, body, status) in &reads {
            let reply = client.send(method.clone(), path, body.as_ref()).await;
            assert_eq!(reply.status, *status, "{method} {path}: {}", reply.body);
        }
    }
    assert!(
        store_contents(&db) == before,
        "a read or a refusal wrote to the database"
    );
    // A write does show up (the comparison can fail).
    client.post_expect(&session("advance"), None, 200).await;
    assert!(store_contents(&db) != before);
}

#[tokio::test]
async fn the_guides_debugging_query_works_on_a_live_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let client = server.client(DEV);
    let id = session_id(&client.create(&json!({"devMode": true})).await);
    let config = json!({"config": {"buildings": [{"id": "mill", "name": "Windmill", "costs": {"gold": 1}}]}});
    let custom = session_id(&client.create(&config).await);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut rows: Vec<(String, i64, i64, i64)> = conn
        .prepare("SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions;")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    let mut expected = vec![(id.clone(), 1), (custom.clone(), 0)];
    expected.sort();
    assert_eq!(
        rows.iter().map(|r| (r.0.clone(), r.1)).collect::<Vec<_>>(),
        expected
    );
    assert!(rows.iter().all(|r| r.2 > 0 && r.3 >= r.2));
    let keys: Vec<String> = conn
        .prepare("SELECT key FROM sessions, json_each(sessions.config) WHERE session_id = ?1")
        .unwrap()
        .query_map([&custom], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(keys, ["buildings"]);
}

#[tokio::test]
async fn a_session_keeps_playing_by_the_content_it_was_created_with() {
    // An older release shipped Tax at 5 gold per person and created a
    // session with it; today's default gives 4. Write that session as the
    // older server would have, then serve the file with today's binary.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let mut pack: Value = serde_json::from_str(kb_content::DEFAULT_PACK_JSON).unwrap();
    let tax = pack["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["id"] == "tax")
        .unwrap();
    tax["effects"][0]["effects"][0]["params"]["amount"] = json!(5);
    let old = kb_content::ContentPack::from_json(&pack.to_string()).unwrap();
    let content = old.base_session().clone();
    let record = content.to_record();
    let header = kb_store::SessionRecord {
        session_id: "old-game".into(),
        created_at: 1,
        last_accessed_at: 1,
        dev_mode: false,
        config: None,
        content_id: content.id().as_str().to_owned(),
        owner: Some("local-dev".into()),
        version: 0,
    };
    {
        use kb_store::SessionStore;
        let store =
            kb_store_sqlite::SqliteSessionStore::open(kb_store_sqlite::SqliteOptions::new(&db))
                .unwrap();
        store
            .commit(vec![
                kb_store::Write::PutContent(kb_store::ContentRecord {
                    content_id: content.id().as_str().to_owned(),
                    content: record.engine,
                    registries: record.registries,
                    metadata: record.metadata,
                }),
                kb_store::Write::SaveSession(header.clone()),
                kb_store::Write::append(
                    &kb_store::SessionRecord {
                        version: 1,
                        ..header
                    },
                    vec![r#"{"type":"start","devMode":false}"#.into()],
                ),
            ])
            .unwrap();
        store.close().unwrap();
    }

    // `--idle-timeout 0`: the session was last used at the epoch.
    let launch = Launch::new().args(&["--idle-timeout", "0"]);
    let server = launch.start(&db);
    let client = server.client(DEV);
    let old_state = client.snapshot("old-game").await;
    let tax_amount = |state: &Value| {
        state["registries"]["actions"]["tax"]["effects"][0]["effects"][0]["params"]["amount"]
            .clone()
    };
    assert_eq!(tax_amount(&old_state), json!(5));
    for _ in 0..7 {
        client
            .post_expect("/sessions/old-game/advance", None, 200)
            .await;
    }
    let taxed = client
        .post_expect(
            "/sessions/old-game/actions",
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    assert_eq!(gold(&taxed, 0), 15.0, "5 gold per person: its own content");

    let fresh = play_a_turn(&server, DEV).await;
    let fresh_state = client.snapshot(&fresh).await;
    assert_eq!(gold(&fresh_state, 0), 14.0, "4 gold per person: today's");
    assert_eq!(tax_amount(&fresh_state), json!(4));

    // And after another restart.
    let (status, _) = server.terminate();
    assert!(status.success());
    let server = launch.start(&db);
    let client = server.client(DEV);
    assert_eq!(gold(&client.snapshot("old-game").await, 0), 15.0);
    assert_eq!(tax_amount(&client.snapshot("old-game").await), json!(5));
}

#[tokio::test]
async fn downtime_does_not_count_as_idle_time() {
    // Sleeping through a real idle timeout would make the test slow and
    // timing-dependent; instead the stopped server's database is moved an
    // hour into the past, which is what an hour of downtime looks like to
    // the next start.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let launch = Launch::new().args(&["--idle-timeout", "15m"]);
    let server = launch.start(&db);
    let client = server.client(DEV);
    let recent = session_id(&client.create(&json!({})).await);
    let stale = session_id(&client.create(&json!({})).await);
    let (status, _) = server.terminate();
    assert!(status.success());

    const HOUR: i64 = 3_600_000;
    let conn = rusqlite::Connection::open(&db).unwrap();
    let shift = |id: &str, by: i64| {
        conn.execute(
            "UPDATE sessions SET last_accessed_at = last_accessed_at - ?2 WHERE session_id = ?1",
            rusqlite::params![id, by],
        )
        .unwrap()
    };
    // The server stopped an hour ago; `recent` was used just before it
    // stopped, `stale` an hour before that.
    assert_eq!(shift(&recent, HOUR), 1);
    assert_eq!(shift(&stale, 2 * HOUR), 1);
    let changed = conn
        .execute(
            "UPDATE sessions_meta SET value = CAST(CAST(value AS INTEGER) - ?1 AS TEXT) \
             WHERE namespace = 'app' AND key = 'last_alive_at'",
            [HOUR],
        )
        .unwrap();
    assert_eq!(changed, 1, "the heartbeat is recorded");
    drop(conn);

    let server = launch.start(&db);
    let client = server.client(DEV);
    assert_eq!(
        version(&client.snapshot(&recent).await),
        1,
        "an hour down is not idle"
    );
    let reply = client
        .send(Method::GET, &format!("/sessions/{stale}/snapshot"), None)
        .await;
    assert_eq!(reply.status, 404, "idle an hour when the server stopped");
    let rows = dump_table(&db, "sessions", "");
    assert_eq!(rows.len(), 1, "the idle session is gone from the store too");
    assert!(server.log_text().contains("purged idle session"));
}
