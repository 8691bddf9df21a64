//! The live routes: `GET /sessions/:id/log` and the event stream
//! `GET /sessions/:id/events` (replay, then live, what an event carries, end
//! on delete and on the game's conclusion, heartbeats, bad input, the
//! per-caller stream limit, graceful shutdown).

use axum::body::{Body, BodyDataStream};
use axum::http::Method;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

/// Opens an event stream; returns its status and body.
pub(crate) async fn open(
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
pub(crate) type Sse = (Option<String>, Option<u64>, String);

/// Reads the next event of the log or the stream's end (skipping
/// `presence` events and comment lines).
async fn next_event(body: &mut BodyDataStream, buffer: &mut String) -> Sse {
    loop {
        let event = next_any(body, buffer).await;
        if event.0.as_deref() != Some("presence") {
            return event;
        }
    }
}

/// Reads the next event, whatever it is (skipping comment lines).
pub(crate) async fn next_any(body: &mut BodyDataStream, buffer: &mut String) -> Sse {
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
        assert_eq!(data["version"], entry["version"]);
        assert_eq!(data["entry"], entry["entry"]);
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

/// The session state's `snapshot` of `id`.
async fn state_snapshot(app: &TestApp, id: &str) -> Value {
    app.snapshot(ALICE, id).await["snapshot"].clone()
}

#[tokio::test]
async fn an_event_carries_the_entry_who_made_it_its_result_and_the_state_after_it() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let (_, mut body) = open(&app, &format!("/sessions/{id}/events?after=0"), ALICE, &[]).await;
    let mut buffer = String::new();
    // The start entry: the game it created, no result.
    let (_, event_id, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event_id, Some(1));
    let start: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(start["entry"]["type"], "start");
    assert_eq!(start["result"], Value::Null);
    assert_eq!(start["playerId"], Value::Null);
    assert_eq!(start["game"], state_snapshot(&app, &id).await["game"]);
    // A command: who made it, what it did, the state after it, equal to
    // what the route answered.
    let answer = app.advance(ALICE, &id).await;
    let (_, event_id, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event_id, Some(version(&answer)));
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["entry"]["type"], "advance");
    assert_eq!(event["playerId"], "A");
    assert_eq!(event["ai"], false);
    assert_eq!(event["result"]["type"], "advance");
    assert_eq!(event["result"]["phase"], answer["advance"]["phase"]);
    assert_eq!(event["game"], answer["snapshot"]["game"]);
    assert_eq!(
        event["recentResourceGains"],
        answer["snapshot"]["recentResourceGains"]
    );
    assert_eq!(
        event["passiveRecords"],
        answer["snapshot"]["passiveRecords"]
    );
    // The AI's turn says so.
    let mut last = version(&answer);
    for _ in 0..40 {
        let state = app.advance(ALICE, &id).await;
        last = version(&state);
        if state["snapshot"]["game"]["activePlayerId"] == "B" {
            break;
        }
    }
    let turn = app.ai_whole_turn(ALICE, &id, "B").await;
    let mut seen = None;
    while seen
        .as_ref()
        .is_none_or(|e: &Value| e["version"] != version(&turn))
    {
        let (_, _, data) = next_event(&mut body, &mut buffer).await;
        seen = Some(serde_json::from_str(&data).unwrap());
    }
    let ai = seen.unwrap();
    assert!(version(&turn) > last);
    assert_eq!(ai["playerId"], "B");
    assert_eq!(ai["ai"], true);
    assert_eq!(ai["game"], turn["snapshot"]["game"]);
}

#[tokio::test]
async fn a_resumed_stream_renders_the_same_events_as_a_live_one() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let (_, mut live) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    let now = version(&app.advance_times(ALICE, &id, 6).await);
    let mut buffer = String::new();
    let mut seen = Vec::new();
    for _ in 2..=now {
        seen.push(next_event(&mut live, &mut buffer).await);
    }
    // A stream resuming from 3 plays its own replica from the log.
    let (_, mut resumed) = open(
        &app,
        &format!("/sessions/{id}/events"),
        ALICE,
        &[("last-event-id", "3")],
    )
    .await;
    let mut buffer = String::new();
    for expected in &seen[2..] {
        let event = next_event(&mut resumed, &mut buffer).await;
        assert_eq!(&event, expected);
    }
}

#[tokio::test]
async fn a_stream_ends_when_the_game_concludes() {
    let app = TestApp::game();
    // Dev mode gives A a legion and B a castle of 1 HP: one attack wins.
    let id = session_id(&app.create_session(ALICE, r#"{"devMode": true}"#).await);
    app.to_main(ALICE, &id).await;
    let (_, mut body) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    let response = app.act(ALICE, &id, "army_attack", json!({})).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let won = version(&response.json());
    let mut buffer = String::new();
    let (name, event_id, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!((name, event_id), (None, Some(won)));
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["game"]["conclusion"]["winnerId"], "A");
    let (name, event_id, data) = next_event(&mut body, &mut buffer).await;
    assert_eq!(name.as_deref(), Some("end"));
    assert_eq!(event_id, None);
    let end: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(end["reason"], "concluded");
    assert_eq!(end["version"], won);
    assert_eq!(end["conclusion"]["winnerId"], "A");
    assert_eq!(end["conclusion"]["loserId"], "B");
    assert!(body.next().await.is_none(), "the stream ends");

    // Opened on a concluded game: the end event at once.
    let (_, mut late) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    let (name, _, data) = next_event(&mut late, &mut String::new()).await;
    assert_eq!(name.as_deref(), Some("end"));
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["reason"],
        "concluded"
    );
    assert!(late.next().await.is_none());
    // Resumed from before the end: the rest of the log, then the end.
    let (_, mut resumed) = open(
        &app,
        &format!("/sessions/{id}/events?after={}", won - 1),
        ALICE,
        &[],
    )
    .await;
    let mut buffer = String::new();
    assert_eq!(next_event(&mut resumed, &mut buffer).await.1, Some(won));
    assert_eq!(
        next_event(&mut resumed, &mut buffer).await.0.as_deref(),
        Some("end")
    );
    assert!(resumed.next().await.is_none());
}

#[tokio::test]
async fn a_quiet_stream_sends_heartbeats() {
    let app = TestApp::game_with_heartbeat(std::time::Duration::from_millis(20));
    let id = app.new_session(ALICE).await;
    let (status, mut body) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    assert_eq!(status, 200);
    // Nothing happens in the session: after who is connected, what
    // arrives is comment lines only.
    let mut text = String::new();
    while text.matches("\n\n").count() < 4 {
        let chunk = body.next().await.expect("the stream goes on").unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let mut blocks = text.split_terminator("\n\n");
    let first = blocks.next().unwrap();
    assert!(first.starts_with("event: presence"), "{first:?}");
    for block in blocks {
        assert!(block.starts_with(':'), "a heartbeat comment: {block:?}");
    }
    // And the stream still delivers.
    let now = version(&app.advance(ALICE, &id).await);
    let (_, event_id, _) = next_event(&mut body, &mut String::new()).await;
    assert_eq!(event_id, Some(now));
}

#[tokio::test]
async fn graceful_shutdown_ends_open_streams_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = kb_server::app::bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    let table = kb_server::auth::TokenTable::from_json(GAME_TOKENS).unwrap();
    let state = kb_server::AppState::new(
        kb_server::Authenticator::new(table),
        kb_server::Metrics::new(),
        memory_manager(),
    );
    let id = state
        .manager()
        .create_async(
            &kb_session::Caller::user("alice"),
            kb_session::CreateSession::default(),
            |view| view.session_id.to_owned(),
        )
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kb_server::run(listener, state, async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /sessions/{id}/events HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {ALICE}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !String::from_utf8_lossy(&head).contains("\r\n\r\n") {
        let mut byte = [0; 256];
        let read = stream.read(&mut byte).await.unwrap();
        assert!(read > 0, "the stream opens");
        head.extend_from_slice(&byte[..read]);
    }
    assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 200"));
    stop.send(()).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    let all = [head, rest].concat();
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.ends_with("0\r\n\r\n"),
        "the chunked body is terminated, not cut: {text:?}"
    );
    server.await.unwrap().unwrap();
}

/// Reads events from a stream until the one with id `last`; returns each
/// event's id and data.
async fn events_until(
    body: &mut BodyDataStream,
    buffer: &mut String,
    last: u64,
) -> Vec<(u64, String)> {
    let mut events = Vec::new();
    loop {
        let (name, id, data) = next_event(body, buffer).await;
        assert_eq!(name, None, "{data}");
        let id = id.expect("an id");
        events.push((id, data));
        if id >= last {
            return events;
        }
    }
}

/// Many streams of one session, live ones and one resuming from the
/// start, each receive every commit once, in order, with the same data,
/// whether commits come one at a time or in bursts: the streams of a
/// session read the log one at a time, and the others take what it
/// rendered from the session's feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_of_a_session_receives_every_commit_once_and_in_order() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/events");
    let start = version(&app.snapshot(ALICE, &id).await);
    let mut streams = Vec::new();
    for _ in 0..6 {
        let (status, body) = open(&app, &path, ALICE, &[]).await;
        assert_eq!(status, 200);
        streams.push((body, String::new(), Vec::new()));
    }
    let mut now = start;
    for burst in [1, 3, 1, 4] {
        now = version(&app.advance_times(ALICE, &id, burst).await);
        for (body, buffer, seen) in &mut streams {
            seen.extend(events_until(body, buffer, now).await);
        }
    }
    let (status, mut late) = open(&app, &path, ALICE, &[("last-event-id", "1")]).await;
    assert_eq!(status, 200);
    let late = events_until(&mut late, &mut String::new(), now).await;
    let ids: Vec<u64> = late.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (2..=now).collect::<Vec<_>>());
    let reference = &streams[0].2;
    for (_, _, seen) in &streams {
        let ids: Vec<u64> = seen.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (start + 1..=now).collect::<Vec<_>>());
        assert_eq!(seen, reference, "every stream sends the same events");
    }
    // The resumed stream's events are the live ones.
    assert_eq!(&late[late.len() - reference.len()..], &reference[..]);
}

/// A stream that is not read while many commits are announced (more than
/// a follower's channel holds, so it is told it lagged) still sends every
/// entry once and in order, read from the log.
#[tokio::test]
async fn a_stream_that_falls_far_behind_still_sends_every_entry_once() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let start = version(&app.snapshot(ALICE, &id).await);
    let (status, mut body) = open(&app, &format!("/sessions/{id}/events"), ALICE, &[]).await;
    assert_eq!(status, 200);
    let now = version(&app.advance_times(ALICE, &id, 60).await);
    assert_eq!(now, start + 60);
    let events = events_until(&mut body, &mut String::new(), now).await;
    let ids: Vec<u64> = events.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (start + 1..=now).collect::<Vec<_>>());
}

/// Streams of one session resuming together (as after a restart), from
/// the same version and from different ones, each send exactly the log
/// after their version, with the same data for the same version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_resuming_together_each_send_the_log_after_their_version() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let now = version(&app.advance_times(ALICE, &id, 12).await);
    let path = format!("/sessions/{id}/events");
    let mut streams = Vec::new();
    for after in [1, 1, 1, 5, 5, 9, now - 1] {
        let after_text = after.to_string();
        let (status, body) = open(&app, &path, ALICE, &[("last-event-id", &after_text)]).await;
        assert_eq!(status, 200);
        streams.push((after, body));
    }
    let mut by_version = std::collections::HashMap::new();
    for (after, mut body) in streams {
        let events = events_until(&mut body, &mut String::new(), now).await;
        let ids: Vec<u64> = events.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (after + 1..=now).collect::<Vec<_>>());
        for (version, data) in events {
            let first = by_version.entry(version).or_insert_with(|| data.clone());
            assert_eq!(*first, data, "version {version}");
        }
    }
}
