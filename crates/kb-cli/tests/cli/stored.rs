//! Stored data keeps loading: a database written by the release of
//! 2026-12 (`tests/fixtures/release-2026-12.db`, five sessions, one with a
//! checkpoint and 338 log entries, one on custom content, one between two
//! humans) opens with today's binary, every session answers the snapshot
//! that release answered before it shut down, and play goes on. Opening
//! it migrates it in place to schema version 2 (grants): its sessions get
//! seats, and a seat credential given on it still works after a restart.

use std::path::PathBuf;

use hyper::Method;
use serde_json::Value;

use crate::util::{Launch, session_id, version};

const DEV: Option<&str> = Some("local-dev");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Whether two session states are equal but for
/// `snapshot.recentResourceGains`, the one field whose rule changed since
/// that release (it is now emptied when a step or an action starts, so a
/// restored game that replays its log tail holds fewer entries).
fn same_but_recent_gains(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["snapshot"]
            .as_object_mut()
            .map(|s| s.remove("recentResourceGains"));
        v
    };
    strip(a) == strip(b)
}

#[tokio::test]
async fn a_database_written_by_the_previous_release_opens_and_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    std::fs::copy(fixture("release-2026-12.db"), &db).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("release-2026-12.snapshots.json")).unwrap(),
    )
    .unwrap();
    let sessions = expected.as_object().unwrap();
    assert!(sessions.len() >= 5);
    assert!(
        sessions.values().any(|s| version(&s["state"]) > 256),
        "the fixture has a session with a checkpoint"
    );

    let server = Launch::new().start(&db);
    let client = server.client(DEV);
    let mut after = Vec::new();
    for (name, session) in sessions {
        let id = session["sessionId"].as_str().unwrap();
        let state = client.snapshot(id).await;
        assert!(
            same_but_recent_gains(&state, &session["state"]),
            "{name}: the state differs from the one stored"
        );
        // Play on: advance through whatever the seat to move must do.
        let mut last = state;
        for _ in 0..12 {
            let game = &last["snapshot"]["game"];
            let active = game["activePlayerId"].as_str().unwrap().to_owned();
            let ai = game["players"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == active.as_str() && p["aiControlled"] == true);
            let reply = if ai {
                let body = serde_json::json!({"playerId": active, "mode": "turn"});
                let path = format!("/sessions/{id}/ai-turn");
                client.send(Method::POST, &path, Some(&body)).await
            } else {
                let path = format!("/sessions/{id}/advance");
                client.send(Method::POST, &path, None).await
            };
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            assert_eq!(version(&reply.body), version(&last) + 1, "{name}");
            last = reply.body;
        }
        after.push((id.to_owned(), last));
    }
    // Seats on the migrated file: a fixture session shows its holders, and
    // a new two-human game gets a seat credential.
    let first = sessions.values().next().unwrap()["sessionId"]
        .as_str()
        .unwrap();
    let seats = client.get_ok(&format!("/sessions/{first}/seats")).await;
    assert_eq!(seats["seats"].as_array().unwrap().len(), 2, "{seats}");
    let duel = session_id(&client.create(&serde_json::json!({"aiPlayers": []})).await);
    let invitation = client
        .post_expect(
            &format!("/sessions/{duel}/invitations"),
            Some(&serde_json::json!({"seat": "B"})),
            201,
        )
        .await;
    let accepted = server
        .client(None)
        .post_expect(
            "/invitations/accept",
            Some(&serde_json::json!({"code": invitation["code"]})),
            200,
        )
        .await;
    let credential = accepted["credential"].as_str().unwrap().to_owned();
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let schema = crate::util::dump_table(&db, "sessions_meta", "WHERE key = 'schema_version'");
    assert_eq!(
        schema[0].last().unwrap().as_deref(),
        Some("'2'"),
        "{schema:?}"
    );

    // What was played on the old data is durable too, and so is the
    // credential (its own session only).
    let server = Launch::new().start(&db);
    let guest = server.client(Some(&credential));
    assert_eq!(version(&guest.snapshot(&duel).await), 1);
    let elsewhere = guest
        .send(Method::GET, &format!("/sessions/{first}/snapshot"), None)
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    let client = server.client(DEV);
    for (id, last) in &after {
        let state = client.snapshot(id).await;
        assert_eq!(state["snapshot"], last["snapshot"], "{id}");
        assert_eq!(version(&state), version(last), "{id}");
    }
}
