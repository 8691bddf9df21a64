//! Logs an operator can keep: the real binary logs no line per request at
//! its default level, and instead one `info` summary per interval
//! (`--log-summary-every`) counting the requests answered per status;
//! `RUST_LOG` still brings the per-request `debug` lines back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{Value, json};

use crate::util::{HANG, Launch, Server};

/// The log's JSON lines whose message is `message`.
fn lines_saying(server: &Server, message: &str) -> Vec<Value> {
    server
        .log_text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == message)
        .collect()
}

/// The statuses counted by every summary logged so far, added up.
fn summed_statuses(server: &Server) -> BTreeMap<u16, u64> {
    let mut sums = BTreeMap::new();
    for line in lines_saying(server, "requests answered") {
        let statuses = line["fields"]["statuses"].as_str().unwrap_or_default();
        for pair in statuses.split(' ') {
            let (status, count) = pair.split_once(':').expect("status:count");
            *sums.entry(status.parse().unwrap()).or_default() += count.parse::<u64>().unwrap();
        }
    }
    sums
}

/// Sends four requests: a creation (201), two unknown sessions (404) and a
/// health check (200).
async fn four_requests(server: &Server) {
    let client = server.client(Some("local-dev"));
    client.create(&json!({})).await;
    for _ in 0..2 {
        let reply = client
            .send(Method::GET, "/sessions/nobody/snapshot", None)
            .await;
        assert_eq!(reply.status, 404);
    }
    client.get_ok("/healthz").await;
}

#[tokio::test]
async fn the_summary_counts_requests_per_status_and_request_lines_stay_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    let server = Launch::new()
        .args(&["--log-summary-every", "1"])
        .start(&dir.path().join("sessions.db"));
    four_requests(&server).await;
    // The requests may straddle two intervals: wait until the summaries
    // logged so far count them all.
    let expected = BTreeMap::from([(200, 1), (201, 1), (404, 2)]);
    let deadline = Instant::now() + HANG;
    while summed_statuses(&server) != expected {
        assert!(
            Instant::now() < deadline,
            "the summaries never counted {expected:?}:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summaries = lines_saying(&server, "requests answered");
    for summary in &summaries {
        assert_eq!(summary["level"], "INFO", "{summary}");
    }
    let total: u64 = summaries
        .iter()
        .map(|line| line["fields"]["total"].as_u64().expect("a total"))
        .sum();
    assert_eq!(total, 4, "{summaries:?}");
    if let [only] = summaries.as_slice() {
        assert_eq!(only["fields"]["statuses"], "200:1 201:1 404:2");
    }
    // No line per request at the default level.
    assert!(
        lines_saying(&server, "request answered").is_empty(),
        "{}",
        server.log_text()
    );
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[tokio::test]
async fn the_summary_interval_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let server = Launch::new()
        .env("KB_SERVER_LOG_SUMMARY_EVERY", "1")
        .start(&dir.path().join("sessions.db"));
    // Two rounds of requests, each counted by a summary logged while the
    // server runs: with the default interval (a minute) the second could
    // not come before the hang limit.
    for round in 1..=2 {
        four_requests(&server).await;
        let expected = BTreeMap::from([(200, round), (201, round), (404, 2 * round)]);
        let deadline = Instant::now() + HANG;
        while summed_statuses(&server) != expected {
            assert!(Instant::now() < deadline, "{}", server.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[tokio::test]
async fn rust_log_brings_the_request_lines_back_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    let server = Launch::new()
        .env("RUST_LOG", "kb_server=debug")
        .start(&dir.path().join("sessions.db"));
    four_requests(&server).await;
    server.wait_for_log("request answered");
    let deadline = Instant::now() + HANG;
    while lines_saying(&server, "request answered").len() < 4 {
        assert!(Instant::now() < deadline, "{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in lines_saying(&server, "request answered") {
        assert_eq!(line["level"], "DEBUG", "{line}");
        assert!(line["fields"]["status"].as_u64().is_some(), "{line}");
    }
    let (status, _) = server.terminate();
    assert!(status.success());
}
