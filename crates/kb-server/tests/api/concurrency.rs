//! Concurrent requests: one session's requests are serialized (each sees
//! and answers exactly one state), different sessions proceed in parallel.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc;

use axum::http::Method;
use kb_session::Caller;
use serde_json::Value;

use crate::helpers::{ALICE, BOB, STEPS_TO_MAIN, TestApp, assert_same_json, resource, version};

const PARALLEL: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_advances_on_one_session_are_serialized() {
    let app = Arc::new(TestApp::game());
    let id = app.new_session(ALICE).await;
    let tasks: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let app = app.clone();
            let id = id.clone();
            tokio::spawn(async move { app.advance(ALICE, &id).await })
        })
        .collect();
    let mut by_version: BTreeMap<u64, Value> = BTreeMap::new();
    for task in tasks {
        let state = task.await.unwrap();
        let previous = by_version.insert(version(&state), state);
        assert!(previous.is_none(), "a version was answered twice");
    }
    let versions: Vec<u64> = by_version.keys().copied().collect();
    let expected: Vec<u64> = (2..=PARALLEL as u64 + 1).collect();
    assert_eq!(versions, expected, "each advance got its own version");

    // Replaying the same number of advances one by one gives, at each
    // version, the very state that version's response showed.
    let replay = app.new_session(ALICE).await;
    for (version_number, parallel) in &by_version {
        let sequential = app.advance(ALICE, &replay).await;
        assert_eq!(version(&sequential), *version_number);
        assert_same_json(
            &sequential["snapshot"],
            &parallel["snapshot"],
            &format!("version {version_number}"),
        );
        assert_eq!(sequential["advance"], parallel["advance"]);
    }
    let last = app.snapshot(ALICE, &id).await;
    assert_eq!(version(&last), PARALLEL as u64 + 1);
    assert_same_json(
        &last["snapshot"],
        &app.snapshot(ALICE, &replay).await["snapshot"],
        "final state",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_if_match_under_contention_lets_exactly_one_writer_win() {
    let app = Arc::new(TestApp::game());
    let id = app.new_session(ALICE).await;
    let tasks: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let app = app.clone();
            let path = format!("/sessions/{id}/advance");
            tokio::spawn(async move {
                app.call_with(
                    Method::POST,
                    &path,
                    Some(ALICE),
                    None,
                    &[("if-match", "\"1\"")],
                )
                .await
                .status
                .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        PARALLEL - 1,
        "{statuses:?}"
    );
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_sessions_proceed_while_one_is_busy() {
    let app = Arc::new(TestApp::game());
    let busy = app.new_session(ALICE).await;
    let free = app.new_session(BOB).await;

    // Hold `busy`'s lock from a thread of our own until told to let go.
    let (held_tx, held) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let manager = app.state.manager().clone();
    let holder = {
        let busy = busy.clone();
        std::thread::spawn(move || {
            manager
                .read(&Caller::admin("test"), &busy, |_| {
                    held_tx.send(()).unwrap();
                    released.recv().unwrap();
                })
                .unwrap();
        })
    };
    held.recv().unwrap();

    // A write to the busy session waits for the lock...
    let waiting = {
        let app = app.clone();
        let busy = busy.clone();
        tokio::spawn(async move { app.advance(ALICE, &busy).await })
    };
    // ...while the other session serves a whole turn, reads and writes.
    for _ in 0..STEPS_TO_MAIN {
        app.advance(BOB, &free).await;
    }
    assert_eq!(version(&app.snapshot(BOB, &free).await), 8);
    let created = app.new_session(BOB).await;
    app.advance(BOB, &created).await;
    assert!(
        !waiting.is_finished(),
        "the busy session answered while its lock was held"
    );

    release.send(()).unwrap();
    holder.join().unwrap();
    let state = waiting.await.unwrap();
    assert_eq!(version(&state), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_sessions_played_at_once_all_end_where_they_should() {
    const SESSIONS: usize = 12;
    let app = Arc::new(TestApp::game());
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let token = if n % 2 == 0 { ALICE } else { BOB };
                let id = app.new_session(token).await;
                app.to_main(token, &id).await;
                let response = app.act(token, &id, "tax", serde_json::json!({})).await;
                assert_eq!(response.status, 200, "{}", response.text());
                app.advance(token, &id).await;
                let turn = app.ai_whole_turn(token, &id, "B").await;
                (id, turn)
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (id, turn) = task.await.unwrap();
        assert_eq!(version(&turn), 11, "{id}");
        assert_eq!(turn["snapshot"]["game"]["turn"], 2, "{id}");
        assert_eq!(resource(&turn, "A", "gold"), 14.0);
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), SESSIONS);
    assert_eq!(app.state.manager().session_count(), SESSIONS);
}
