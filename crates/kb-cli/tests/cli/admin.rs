//! `kingdom admin` through the real binary: an online backup while a server
//! writes, a check that finds damage, export and import between servers,
//! list and delete, and a clear error with exit code 2 for every bad input.

use std::path::Path;

use hyper::Method;
use serde_json::{Value, json};

use crate::run::{Run, kingdom};
use crate::util::{Launch, Server, session_id, version};

fn admin(db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["admin", "--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    kingdom(&all, None)
}

const DEV: Option<&str> = Some("local-dev");

/// A session played to A's first tax, with a name: its id and state.
async fn played(server: &Server, name: &str) -> (String, Value) {
    let client = server.client(DEV);
    let id = session_id(&client.create(&json!({"playerNames": {"A": name}})).await);
    for _ in 0..7 {
        client
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
    }
    client
        .post_expect(
            &format!("/sessions/{id}/actions"),
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    let state = client.snapshot(&id).await;
    (id, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_taken_while_a_server_writes_is_a_sound_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let (id, _) = played(&server, "Ann").await;
    // A writer keeps writing through the backup.
    let client = server.client(DEV);
    let writing = tokio::spawn(async move {
        for n in 0..200 {
            let body = json!({"playerId": "A", "playerName": format!("Ann {n}")});
            client
                .send(
                    Method::PATCH,
                    &format!("/sessions/{id}/player"),
                    Some(&body),
                )
                .await;
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let copy = dir.path().join("backup.db");
    let backup = admin(&db, &["backup", "--to", copy.to_str().unwrap()]);
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    assert!(
        backup.stdout.contains("integrity check: ok"),
        "{}",
        backup.stdout
    );
    writing.await.unwrap();
    // The copy is a database of its own: sound, and served.
    let check = admin(&copy, &["check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("sound"), "{}", check.stdout);
    server.kill();
    let restored = Launch::new().start(&copy);
    let listing = restored.client(DEV).get_ok("/sessions").await;
    assert_eq!(listing["sessions"].as_array().unwrap().len(), 1);
    // Backing up over an existing file, or PostgreSQL, is refused.
    admin(&db, &["backup", "--to", copy.to_str().unwrap()]).bad_input(&["exists"]);
    kingdom(
        &[
            "admin",
            "--db",
            "postgres://x@127.0.0.1:1/x",
            "backup",
            "--to",
            "x.db",
        ],
        None,
    )
    .bad_input(&["pg_dump"]);
}

#[tokio::test]
async fn check_replays_every_session_and_exits_1_on_damage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let (good, _) = played(&server, "Ann").await;
    let (bad, _) = played(&server, "Bob").await;
    // Sound while the server runs (read-only beside it).
    let check = admin(&db, &["check", "--json"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let report: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["sessions"], 2);
    assert_eq!(report["integrity"], json!(["ok"]));
    server.kill();

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE sessions_commands SET command = '{\"type\":\"action\",\"actionId\":\"nothing\"}' \
         WHERE seq = 5 AND session_key = (SELECT session_key FROM sessions WHERE session_id = ?1)",
        [&bad],
    )
    .unwrap();
    drop(conn);
    let check = admin(&db, &["check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains(&format!(
            "problem: {bad}: the log cannot be replayed: log entry 5"
        )),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains(&format!("problem: {good}")));
    assert!(check.stdout.contains("NOT SOUND"));
}

#[tokio::test]
async fn an_exported_session_imported_on_another_server_is_the_same_game() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one.db"), dir.path().join("two.db"));
    let server = Launch::new().start(&one);
    let (id, state) = played(&server, "Ann").await;
    let file = dir.path().join("session.json");
    // Exported while the server runs.
    let export = admin(&one, &["export", &id, "--to", file.to_str().unwrap()]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(document["format"], "kingdom-session");
    assert_eq!(document["session"]["version"], version(&state));
    assert_eq!(
        document["log"].as_array().unwrap().len() as u64,
        version(&state)
    );

    let import = admin(&two, &["import", file.to_str().unwrap()]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let other = Launch::new().start(&two);
    let there = other.client(DEV);
    assert_eq!(there.snapshot(&id).await, state);
    // Both play on identically.
    let path = format!("/sessions/{id}/advance");
    let here = server.client(DEV).post_expect(&path, None, 200).await;
    assert_eq!(there.post_expect(&path, None, 200).await, here);

    // Importing it again, or something else, is refused.
    other.kill();
    admin(&two, &["import", file.to_str().unwrap()]).bad_input(&["already exists"]);
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, r#"{"format": "zip"}"#).unwrap();
    admin(&two, &["import", junk.to_str().unwrap()]).bad_input(&["not a session archive"]);
    let mut tampered = document.clone();
    tampered["session"]["sessionId"] = json!("tampered");
    tampered["log"].as_array_mut().unwrap().pop();
    std::fs::write(&junk, tampered.to_string()).unwrap();
    admin(&two, &["import", junk.to_str().unwrap()]).bad_input(&["log holds"]);
    admin(&two, &["import", "/no/such/file.json"]).bad_input(&["cannot read"]);
    admin(&one, &["export", "no-such-session"]).bad_input(&["no session \"no-such-session\""]);
}

#[tokio::test]
async fn list_and_delete_and_a_lone_server_keeps_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    let (first, _) = played(&server, "Ann").await;
    let (second, _) = played(&server, "Bob").await;
    let list = admin(&db, &["list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let listed: Value = serde_json::from_str(&list.stdout).unwrap();
    let mut ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(admin(&db, &["list"]).stdout.contains(&first));

    // The running server holds the file alone: its memory would not see it.
    let refused = admin(&db, &["delete", &first]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("DELETE /sessions/ID"),
        "{}",
        refused.stderr
    );
    server.kill();
    let deleted = admin(&db, &["delete", &first]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    admin(&db, &["delete", &first]).bad_input(&["no session"]);
    let restarted = Launch::new().start(&db);
    let listing = restarted.client(DEV).get_ok("/sessions").await;
    assert_eq!(listing["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(listing["sessions"][0]["sessionId"], second);
}

#[test]
fn a_missing_or_foreign_database_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    for args in [
        &["list"][..],
        &["check"],
        &["export", "x"],
        &["delete", "x"],
    ] {
        admin(&missing, args).bad_input(&["no database file"]);
    }
    let foreign = dir.path().join("foreign.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE stuff (x INTEGER)")
        .unwrap();
    drop(conn);
    admin(&foreign, &["list"]).bad_input(&["no session store"]);
    admin(&foreign, &["delete", "x"]).bad_input(&["no session store"]);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database at all").unwrap();
    admin(&text, &["check"]).bad_input(&["cannot use the database"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_killed_at_any_moment_leaves_a_sound_copy_or_none_and_the_database_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let server = Launch::new().start(&db);
    // Enough sessions that a copy takes more than an instant.
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(played(&server, &format!("P{n}")).await.0);
    }
    let mut complete = 0;
    for attempt in 0..12u64 {
        let copy = dir.path().join(format!("backup-{attempt}.db"));
        let mut backup = std::process::Command::new(env!("CARGO_BIN_EXE_kingdom"))
            .args(["admin", "--db", db.to_str().unwrap(), "backup", "--to"])
            .arg(&copy)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // SIGKILL at a different moment each time, from at once to after
        // it probably finished.
        std::thread::sleep(std::time::Duration::from_millis(attempt * attempt));
        let _ = backup.kill();
        let status = backup.wait().unwrap();
        if copy.exists() {
            // A file at the destination is a whole, sound backup.
            let check = admin(&copy, &["check"]);
            assert_eq!(
                check.code, 0,
                "attempt {attempt} ({status}): {}{}",
                check.stdout, check.stderr
            );
            let list = admin(&copy, &["list"]);
            assert_eq!(list.code, 0, "{}", list.stderr);
            for id in &ids {
                assert!(list.stdout.contains(id.as_str()), "{}", list.stdout);
            }
            complete += 1;
        }
        // The live database is untouched and still served.
        let check = admin(&db, &["check"]);
        assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
        let listing = server.client(DEV).get_ok("/sessions").await;
        assert_eq!(listing["sessions"].as_array().unwrap().len(), ids.len());
    }
    // One more, not killed, completes beside whatever the kills left.
    let last = dir.path().join("backup-last.db");
    let backup = admin(&db, &["backup", "--to", last.to_str().unwrap()]);
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    eprintln!("{complete} of 12 killed backups had completed");
    server.kill();
}
