//! The live routes: `GET /sessions/:id/log` and the event stream
//! `GET /sessions/:id/events` (replay, then live, end on delete, bad input,
//! the per-caller stream limit).

use axum::body::{Body, BodyDataStream};
use axum::http::Method;
use futures_util::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::*;

/// Opens an event stream; returns its status and body.
async fn open(
    app: &TestApp,
    path: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> (u16, BodyDataStream) {
    let authorization = bearer(token);
    let mut headers = vec![("authorization", authorization.as_str())];
    headers.extend_from_slice(extra);
    let response = app
        .router
        .clone()
        .oneshot(request(Method::GET, path, &headers, Body::empty()))
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.into_body().into_data_stream(),
    )
}

/// One parsed event: (`event` name, `id`, data).
type Sse = (Option<String>, Option<u64>, String);

/// Reads the next event (skipping comment lines) from a stream.
async fn next_event(body: &mut BodyDataStream, buffer: &mut String) -> Sse {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut name, mut id, mut data) = (None, None, String::new());
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = value.trim().parse().ok();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if name.is_none() && id.is_none() && data.is_empty() {
                continue; // a heartbeat comment
            }
            return (name, id, data);
        }
        let chunk = body.next().await.expect("the stream goes on").unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

async fn log(app: &TestApp, id: &str, query: &str, token: &str) -> TestResponse {
    app.call(
        Method::GET,
        &format!("/sessions/{id}/log{query}"),
        Some(token),
        None,
    )
    .await
}

#[tokio::test]
async fn log_pages_through_every_committed_entry() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let state = app.advance_times(ALICE, &id, 3).await;
    let now = version(&state);
    let all = log(&app, &id, "", ALICE).await;
    assert_eq!(all.status, 200, "{}", all.text());
    let all = all.json();
    assert_eq!(all["version"], now);
    let entries = all["entries"].as_array().unwrap();
    let versions: Vec<u64> = entries
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, (1..=now).collect::<Vec<_>>());
    assert_eq!(entries.last().unwrap()["entry"]["type"], "advance");

    let page = log(&app, &id, "?after=2&limit=1", ALICE).await.json();
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    assert_eq!(page["entries"][0]["version"], 3);
    let end = log(&app, &id, &format!("?after={now}"), ALICE).await.json();
    assert_eq!(end["entries"], Value::Array(vec![]));
}

#[tokio::test]
async fn log_refuses_bad_input() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    for query in [
        "?after=abc",
        "?after=-1",
        "?after=99",
        "?limit=0",
        "?limit=x",
        "?limit=1001",
    ] {
        let response = log(&app, &id, query, ALICE).await;
        assert_eq!(response.status, 400, "{query}: {}", response.text());
        response.envelope(400);
    }
    assert_eq!(log(&app, &id, "", BOB).await.status, 404);
    assert_eq!(log(&app, "no-such-session", "", ALICE).await.status, 404);
    assert_eq!(log(&app, &id, "", NOBODY).await.status, 403);
}

#[tokio::test]
async fn a_stream_replays_the_log_then_goes_on_live_and_ends_on_delete() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let before = version(&app.advance_times(ALICE, &id, 2).await);
    let (status, mut body) = open(
        &app,
        &format!("/sessions/{id}/events"),
        ALICE,
        &[("last-event-id", "1")],
    )
    .await;
    assert_eq!(status, 200);
    let mut buffer = String::new();
    let expected_log = log(&app, &id, "?after=1", ALICE).await.json();
    for entry in expected_log["entries"].as_array().unwrap() {
        let (name, event_id, data) = next_event(&mut body, &mut buffer).await;
        assert_eq!(name, None);
        assert_eq!(event_id, entry["version"].as_u64());
        let data: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(&data, entry);
    }
    // Live: the next commit arrives, with the version after it.
    let after = version(&app.advance(ALICE, &id).await);
    assert_eq!(after, before + 1);
    let (_, event_id, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event_id, Some(after));
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["entry"]["type"], "advance");
    // Deleted: a final event, then the stream ends.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/sessions/{id}"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    let (name, _, _) = next_event(&mut body, &mut buffer).await;
    assert_eq!(name.as_deref(), Some("end"));
    assert!(
        body.next().await.is_none(),
        "the stream ends after its final event"
    );
}

#[tokio::test]
async fn a_stream_without_a_version_starts_at_the_current_one() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let (status, mut body) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    assert_eq!(status, 200);
    let now = version(&app.advance(ALICE, &id).await);
    let mut buffer = String::new();
    let (_, event_id, _) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event_id, Some(now), "only changes after the stream opened");
    // `?after=` replays like Last-Event-ID.
    let (_, mut replay) = open(
        &app,
        &format!("/sessions/{id}/events?after={}", now - 1),
        ALICE,
        &[],
    )
    .await;
    let (_, event_id, _) = next_event(&mut replay, &mut String::new()).await;
    assert_eq!(event_id, Some(now));
}

#[tokio::test]
async fn a_stream_refuses_bad_input() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/events");
    for (extra, query) in [
        (vec![("last-event-id", "x")], ""),
        (vec![("last-event-id", "99")], ""),
        (vec![], "?after=nine"),
        (vec![], "?after=99"),
    ] {
        let (status, _) = open(&app, &format!("{path}{query}"), ALICE, &extra).await;
        assert_eq!(status, 400, "{extra:?} {query}");
    }
    assert_eq!(open(&app, &path, BOB, &[]).await.0, 404);
    assert_eq!(open(&app, "/sessions/none/events", ALICE, &[]).await.0, 404);
    assert_eq!(open(&app, &path, NOBODY, &[]).await.0, 403);
}

#[tokio::test]
async fn a_caller_holds_a_bounded_number_of_streams() {
    let app = TestApp::game();
    let id = app.new_session(BOB).await;
    let path = format!("/sessions/{id}/events");
    let mut held = Vec::new();
    for _ in 0..kb_server::routes::events::MAX_STREAMS_PER_CALLER {
        let (status, body) = open(&app, &path, BOB, &[]).await;
        assert_eq!(status, 200);
        held.push(body);
    }
    let response = app.call(Method::GET, &path, Some(BOB), None).await;
    assert_eq!(response.status, 429, "{}", response.text());
    response.envelope(429);
    held.pop();
    let (status, _) = open(&app, &path, BOB, &[]).await;
    assert_eq!(status, 200, "a closed stream makes room");
}
