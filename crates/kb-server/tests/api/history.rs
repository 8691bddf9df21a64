//! A session's past: `GET /sessions/:id/snapshot?at=V`, 304 on
//! `If-None-Match`, and `POST /sessions/:id/fork`.

use axum::http::Method;
use serde_json::Value;

use crate::helpers::*;

/// The state without its session id (a fork's differs).
fn without_id(mut state: Value) -> Value {
    state.as_object_mut().unwrap().remove("sessionId");
    state
}

async fn snapshot_at(app: &TestApp, token: &str, id: &str, at: &str) -> TestResponse {
    app.call(
        Method::GET,
        &format!("/sessions/{id}/snapshot?at={at}"),
        Some(token),
        None,
    )
    .await
}

/// Advances `id` `times` times; the snapshot at each version, as it was.
async fn play_and_remember(app: &TestApp, id: &str, times: usize) -> Vec<Value> {
    let mut seen = vec![app.snapshot(ALICE, id).await];
    for _ in 0..times {
        app.advance(ALICE, id).await;
        seen.push(app.snapshot(ALICE, id).await);
    }
    seen
}

/// Asks for each remembered version again with `snapshot?at=V`: the same
/// state, with the version as its ETag.
async fn assert_past_is_as_seen(app: &TestApp, id: &str, seen: &[Value]) {
    for state in seen {
        let at = version(state);
        let past = snapshot_at(app, ALICE, id, &at.to_string()).await;
        assert_eq!(past.status, 200, "{}", past.text());
        assert_eq!(&past.json(), state, "at {at}");
        assert_eq!(past.headers["etag"], format!("\"{at}\"").as_str());
    }
}

#[tokio::test]
async fn a_snapshot_at_a_version_is_the_state_that_version_showed() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let seen = play_and_remember(&app, &id, 4).await;
    assert_past_is_as_seen(&app, &id, &seen).await;
    let now = version(seen.last().unwrap());
    for bad in ["0", &(now + 1).to_string(), "x", "-1"] {
        let response = snapshot_at(&app, ALICE, &id, bad).await;
        assert_eq!(response.status, 400, "at={bad}: {}", response.text());
        response.envelope(400);
    }
    assert_eq!(snapshot_at(&app, BOB, &id, "1").await.status, 404);
}

#[tokio::test]
async fn a_snapshot_at_a_version_is_the_same_before_and_after_a_checkpoint() {
    // Checkpoints every 8 entries: a past version is rebuilt from the
    // latest checkpoint when it is not after it, from the start otherwise.
    let mut options =
        kb_session::ManagerOptions::new(std::sync::Arc::new(kb_store::MemoryStore::new()));
    options.checkpoint_every = 8;
    let manager = std::sync::Arc::new(kb_session::SessionManager::new(options).unwrap());
    let app = TestApp::game_over(manager);
    let id = app.new_session(ALICE).await;
    let seen = play_and_remember(&app, &id, 30).await;
    assert_past_is_as_seen(&app, &id, &seen).await;
}

#[tokio::test]
async fn a_snapshot_is_not_sent_again_when_its_etag_matches() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let state = app.snapshot(ALICE, &id).await;
    let etag = format!("\"{}\"", version(&state));
    let path = format!("/sessions/{id}/snapshot");
    let same = app
        .call_with(
            Method::GET,
            &path,
            Some(ALICE),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.headers["etag"], etag.as_str());
    app.advance(ALICE, &id).await;
    let moved = app
        .call_with(
            Method::GET,
            &path,
            Some(ALICE),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(moved.status, 200, "a newer version is sent");
}

#[tokio::test]
async fn a_fork_starts_a_session_of_the_caller_from_a_past_version() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let original = app.advance_times(ALICE, &id, 4).await;
    let at = version(&original) - 2;
    let past = snapshot_at(&app, ALICE, &id, &at.to_string()).await.json();
    let body = format!("{{\"at\": {at}}}");
    let forked = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/fork"),
            Some(ADMIN),
            Some(&body),
        )
        .await;
    assert_eq!(forked.status, 201, "{}", forked.text());
    let forked = forked.json();
    let fork_id = session_id(&forked);
    assert_ne!(fork_id, id);
    assert_eq!(version(&forked), at);
    assert_eq!(without_id(forked), without_id(past));
    // The fork plays on by itself; the original is untouched.
    let moved = app.advance(ADMIN, &fork_id).await;
    assert_eq!(version(&moved), at + 1);
    assert_eq!(version(&app.snapshot(ALICE, &id).await), version(&original));
    // It belongs to whoever forked it.
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/sessions/{fork_id}/snapshot"),
            Some(ALICE),
            None
        )
        .await
        .status,
        404
    );
    // Without a version: from the current one.
    let whole = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/fork"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(whole.status, 201);
    assert_eq!(version(&whole.json()), version(&original));
}

#[tokio::test]
async fn a_fork_refuses_bad_input() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/fork");
    for body in [
        "{\"at\": 99}",
        "{\"at\": 0}",
        "{\"at\": \"x\"}",
        "{\"at\": -1}",
        "{\"other\": 1}",
        "[]",
    ] {
        let response = app.call(Method::POST, &path, Some(ALICE), Some(body)).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        response.envelope(400);
    }
    assert_eq!(
        app.call(Method::POST, &path, Some(BOB), None).await.status,
        404
    );
    assert_eq!(
        app.call(Method::POST, &path, Some(PLAYER), None)
            .await
            .status,
        403
    );
    assert_eq!(
        app.call(Method::POST, "/sessions/none/fork", Some(ALICE), None)
            .await
            .status,
        404
    );
    assert_eq!(app.session_count().await, 1, "nothing was created");
}
