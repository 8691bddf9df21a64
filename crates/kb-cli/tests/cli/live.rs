//! The event stream against the real binary: a client resumes with
//! `Last-Event-ID` after the server was killed with SIGKILL mid-game, and
//! receives exactly the log after its version (no gap, no repeat, in
//! order), then live changes; and two servers on one PostgreSQL database:
//! a stream on one follows the writes made through the other, and resumes
//! across a kill of its server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::on_postgres::Schema;
use crate::util::{HANG, Launch, session_id, version};

/// An open event stream and what it read so far.
struct Stream {
    body: Incoming,
    buffer: String,
}

impl Stream {
    async fn open(address: std::net::SocketAddr, id: &str, after: u64) -> Stream {
        Stream::open_as(address, id, after, "local-dev").await
    }

    /// [`Stream::open`] with another token or credential.
    async fn open_as(address: std::net::SocketAddr, id: &str, after: u64, token: &str) -> Stream {
        let client = HyperClient::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let request = Request::builder()
            .method(Method::GET)
            .uri(format!("http://{address}/sessions/{id}/events"))
            .header("authorization", format!("Bearer {token}"))
            .header("last-event-id", after.to_string())
            .body(Empty::new())
            .unwrap();
        let response = tokio::time::timeout(HANG, client.request(request))
            .await
            .expect("answers")
            .expect("connects");
        assert_eq!(response.status(), 200);
        Stream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// Reads the stream to its close; the data of its `end` event.
    async fn end(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(HANG, self.body.frame())
                .await
                .expect("the stream ends");
            let Some(frame) = frame else { break };
            if let Ok(data) = frame.expect("readable").into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        let block = self
            .buffer
            .split("\n\n")
            .find(|block| block.lines().any(|line| line == "event: end"))
            .unwrap_or_else(|| panic!("an end event in {:?}", self.buffer));
        let data = block
            .lines()
            .find_map(|line| line.strip_prefix("data:"))
            .expect("its data");
        serde_json::from_str(data.trim()).unwrap()
    }

    /// The next event's id and data (heartbeats skipped).
    async fn next(&mut self) -> (u64, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let Some(id) = id {
                    return (id, serde_json::from_str(&data).expect("JSON data"));
                }
                continue;
            }
            let frame = tokio::time::timeout(HANG, self.body.frame())
                .await
                .expect("an event arrives")
                .expect("the stream goes on")
                .expect("readable");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_exactly_after_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let launch = Launch::new();
    let server = launch.start(&db);
    let client = server.client(Some("local-dev"));
    let id = session_id(&client.create(&json!({"aiPlayers": []})).await);

    // A stream from the start follows a few moves.
    let mut first = Stream::open(server.address(), &id, 0).await;
    let mut seen = 0;
    for _ in 0..3 {
        client
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
    }
    let current = version(&client.snapshot(&id).await);
    while seen < current {
        let (event_id, _) = first.next().await;
        assert_eq!(event_id, seen + 1, "no gap, no repeat");
        seen = event_id;
    }

    // A mover keeps advancing while the server is killed.
    let acked = Arc::new(AtomicU64::new(current));
    let mover = {
        let (client, id, acked) = (client.clone(), id.clone(), acked.clone());
        tokio::spawn(async move {
            loop {
                match client
                    .try_send(Method::POST, &format!("/sessions/{id}/advance"), None)
                    .await
                {
                    Ok(reply) if reply.status == 200 => {
                        acked.store(version(&reply.body), Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
        })
    };
    while acked.load(Ordering::SeqCst) < current + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill();
    let _ = mover.await;
    drop(first);

    // Restarted: the stream resumes after the version it had.
    let server = launch.start(&db);
    let client = server.client(Some("local-dev"));
    let log = client.get_ok(&format!("/sessions/{id}/log")).await;
    let entries = log["entries"].as_array().unwrap().clone();
    let stored = log["version"].as_u64().unwrap();
    assert!(
        stored >= acked.load(Ordering::SeqCst),
        "every acknowledged move survived"
    );
    let mut resumed = Stream::open(server.address(), &id, seen).await;
    for entry in &entries[usize::try_from(seen).unwrap()..] {
        let (event_id, data) = resumed.next().await;
        assert_eq!(
            Some(event_id),
            entry["version"].as_u64(),
            "in log order, no gap, no repeat"
        );
        assert_eq!(data["version"], entry["version"]);
        assert_eq!(data["entry"], entry["entry"], "the event is the log entry");
    }
    // Then live.
    let next = client
        .post_expect(&format!("/sessions/{id}/advance"), None, 200)
        .await;
    let (event_id, data) = resumed.next().await;
    assert_eq!(event_id, version(&next));
    assert_eq!(event_id, stored + 1);
    assert_eq!(data["entry"]["type"], "advance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_one_postgres_server_follows_writes_through_another() {
    let schema = Schema::new();
    let url = schema.url();
    let db = std::path::Path::new(&url);
    let launch_one = Launch::new();
    let (one, two) = (launch_one.start(db), Launch::new().start(db));
    let writer = two.client(Some("local-dev"));
    let id = session_id(&writer.create(&json!({"aiPlayers": []})).await);

    // Every write through two reaches a stream on one: in order, once.
    let mut stream = Stream::open(one.address(), &id, 0).await;
    let mut seen = 0;
    // Seven advances reach A's main phase (as in `on_postgres`).
    for _ in 0..7 {
        let written = writer
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
        while seen < version(&written) {
            let (event_id, data) = stream.next().await;
            assert_eq!(event_id, seen + 1, "no gap, no repeat");
            assert_eq!(data["version"], event_id);
            seen = event_id;
        }
        assert_eq!(seen, version(&written));
    }
    // Its data is the state two answered with.
    let written = writer
        .post_expect(
            &format!("/sessions/{id}/actions"),
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    let (event_id, data) = stream.next().await;
    assert_eq!(event_id, version(&written));
    assert_eq!(data["game"], written["snapshot"]["game"]);
    assert_eq!(data["result"]["type"], "action");
    seen = event_id;

    // One is killed; two goes on; a restarted one resumes the stream.
    one.kill();
    drop(stream);
    for _ in 0..3 {
        writer
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
    }
    let one = launch_one.start(db);
    let log = writer.get_ok(&format!("/sessions/{id}/log")).await;
    let entries = log["entries"].as_array().unwrap().clone();
    let mut resumed = Stream::open(one.address(), &id, seen).await;
    for entry in &entries[usize::try_from(seen).unwrap()..] {
        let (event_id, data) = resumed.next().await;
        assert_eq!(
            Some(event_id),
            entry["version"].as_u64(),
            "no gap, no repeat"
        );
        assert_eq!(data["entry"], entry["entry"]);
    }
    // And live again, from two.
    let next = writer
        .post_expect(&format!("/sessions/{id}/advance"), None, 200)
        .await;
    let (event_id, _) = resumed.next().await;
    assert_eq!(event_id, version(&next));
    assert_eq!(
        event_id,
        log["version"].as_u64().unwrap() + 1,
        "nothing between"
    );

    // A spectator watching on one is revoked through two: its stream on
    // one ends, saying why (one learns of it on its next check).
    let invitation = writer
        .post_expect(
            &format!("/sessions/{id}/invitations"),
            Some(&json!({"seat": "spectator"})),
            201,
        )
        .await;
    let accepted = two
        .client(None)
        .post_expect(
            "/invitations/accept",
            Some(&json!({"code": invitation["code"]})),
            200,
        )
        .await;
    let credential = accepted["credential"].as_str().unwrap();
    let mut watching = Stream::open_as(one.address(), &id, event_id, credential).await;
    let grant = accepted["grantId"].as_str().unwrap();
    let revoked = writer
        .send(
            Method::DELETE,
            &format!("/sessions/{id}/credentials/{grant}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(
        watching.end().await,
        json!({"reason": "revoked", "version": event_id})
    );
}
