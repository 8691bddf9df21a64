//! Several `kingdom serve` processes on one database: a server holds its
//! database alone unless every server on it runs with `--shared`; shared
//! servers see each other's sessions, commands and deletes, and concurrent
//! writes through both lose nothing and apply nothing twice.

use std::collections::BTreeSet;

use hyper::Method;
use serde_json::json;

use crate::util::{Client, Launch, run_to_exit, session_id, version};

const DEV: Option<&str> = Some("local-dev");

#[tokio::test]
async fn a_database_in_use_is_refused_to_a_second_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let alone = Launch::new().start(&db);

    for launch in [Launch::new(), Launch::new().args(&["--shared"])] {
        let (status, log) = run_to_exit(&launch, &db);
        assert_eq!(status.code(), Some(1), "{log}");
        assert!(log.contains("is in use by"), "{log}");
        assert!(log.contains("--shared"), "names the way out: {log}");
    }
    // The first server was not disturbed.
    let client = alone.client(DEV);
    client.create(&json!({})).await;

    let (status, log) = alone.terminate();
    assert!(status.success(), "{log}");
    // Once it is gone, shared servers may start (and exclude a lone one).
    let shared = Launch::new().args(&["--shared"]).start(&db);
    let (status, log) = run_to_exit(&Launch::new(), &db);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("another kingdom serve"), "{log}");
    assert_eq!(
        shared
            .client(DEV)
            .get_ok("/sessions")
            .await
            .to_string()
            .matches("sessionId")
            .count(),
        1
    );
}

#[tokio::test]
async fn shared_servers_play_the_same_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let launch = Launch::new().args(&["--shared"]);
    let (one, two) = (launch.start(&db), launch.start(&db));
    let (a, b) = (one.client(DEV), two.client(DEV));

    let id = session_id(&a.create(&json!({})).await);
    for i in 0..7 {
        let client = if i % 2 == 0 { &b } else { &a };
        client
            .post_expect(&format!("/sessions/{id}/advance"), None, 200)
            .await;
    }
    let taxed = a
        .post_expect(
            &format!("/sessions/{id}/actions"),
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    assert_eq!(version(&taxed), 9);
    let (seen_a, seen_b) = (a.snapshot(&id).await, b.snapshot(&id).await);
    assert_eq!(seen_a, seen_b);
    assert_eq!(seen_a["snapshot"], taxed["snapshot"]);

    // A session created on two is listed by one.
    let other = session_id(&b.create(&json!({})).await);
    let listed = a.get_ok("/sessions").await.to_string();
    assert!(listed.contains(&id) && listed.contains(&other), "{listed}");

    // Deleted through two: gone on one.
    let deleted = b
        .send(Method::DELETE, &format!("/sessions/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let gone = a
        .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let gone = a
        .send(Method::POST, &format!("/sessions/{id}/advance"), None)
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[tokio::test]
async fn concurrent_writes_through_two_servers_are_each_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let launch = Launch::new().args(&["--shared"]);
    let (one, two) = (launch.start(&db), launch.start(&db));
    let (a, b) = (one.client(DEV), two.client(DEV));
    let id = session_id(&a.create(&json!({})).await);
    let start = version(&a.snapshot(&id).await);

    /// Renames player A 25 times; the versions acknowledged, and how many
    /// were refused as concurrent (409, nothing written).
    async fn rename(client: Client, id: String, tag: &str) -> (Vec<u64>, usize) {
        let mut acknowledged = Vec::new();
        let mut refused = 0;
        for i in 0..25 {
            let body = json!({"playerId": "A", "playerName": format!("{tag}{i}")});
            let reply = client
                .send(
                    Method::PATCH,
                    &format!("/sessions/{id}/player"),
                    Some(&body),
                )
                .await;
            match reply.status {
                200 => acknowledged.push(version(&reply.body)),
                409 => refused += 1,
                other => panic!("{other}: {}", reply.body),
            }
        }
        (acknowledged, refused)
    }
    let (from_a, from_b) = tokio::join!(
        rename(a.clone(), id.clone(), "a"),
        rename(b.clone(), id.clone(), "b")
    );
    let acknowledged: Vec<u64> = from_a.0.into_iter().chain(from_b.0).collect();
    let distinct: BTreeSet<u64> = acknowledged.iter().copied().collect();
    assert_eq!(distinct.len(), acknowledged.len(), "{acknowledged:?}");
    assert!(from_a.1 + from_b.1 < 50, "every write refused");
    // Every acknowledged rename is in the log once; nothing else is.
    let end = version(&b.snapshot(&id).await);
    assert_eq!(end, start + acknowledged.len() as u64);
    assert_eq!(distinct.last().copied(), Some(end));
    assert_eq!(a.snapshot(&id).await, b.snapshot(&id).await);
}
