//! Slow and abusive connections: headers trickled a byte a second, bodies
//! trickled a byte a second, bodies that never finish, and many more idle
//! keep-alive connections than the server allows, all at once, while
//! polite writers play. The server runs with short limits
//! (`--header-timeout`, `--body-timeout`, `--max-connections`).
//!
//! Checked: every polite request is answered 200; every trickled header is
//! cut off by the server; every slow or unfinished body gets 408
//! `REQUEST_TIMEOUT` and its connection closed; every idle connection is
//! closed by the server (timed out, or shed to make room); and the store
//! holds every acknowledged write.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::{Client, raw_request};
use super::game::Mutation;
use super::ledger::{Ledger, Sent, gather};
use super::server::ServerSpec;
use super::vanishing::rich_sessions_at_main;
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// Longest an abusive connection may live before the round calls the
/// server's limits broken (many times the limits below).
const HANG: Duration = Duration::from_secs(60);

/// Runs one round.
pub fn run(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("slow-clients", "abusive connections");
    let db = round.dir.join("sessions.db").to_string_lossy().into_owned();
    let max_connections = round.size(400, 1000);
    let idle = round.size(1000, 3000);
    let tricklers = round.size(20, 50);
    let spec = ServerSpec::new(round.exe, db.clone(), round.dir.join("server.log")).args(&[
        "--header-timeout",
        "2s",
        "--body-timeout",
        "3s",
        "--max-connections",
        &max_connections.to_string(),
    ]);
    let server = spec.start()?;
    let address = server.address();
    let runtime = round.runtime;
    let writers = round.size(4, 8);
    let mut ledger = Ledger::default();
    let ids = rich_sessions_at_main(runtime, address, writers, &mut ledger)?;
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let mut rng = SplitMix64::new(round.seed());
    let polite: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            runtime.spawn(polite(
                address,
                id.clone(),
                format!("s{n}"),
                rng.next_u64(),
                stop.clone(),
                answered.clone(),
            ))
        })
        .collect();
    let target = ids[0].clone();
    let (verdicts, problems) = runtime.block_on(async move {
        let mut attacks = Vec::new();
        for _ in 0..idle {
            attacks.push(tokio::spawn(idle_keep_alive(address)));
        }
        for n in 0..tricklers {
            let path = format!("/sessions/{target}/actions");
            attacks.push(tokio::spawn(trickle_headers(address, path.clone())));
            attacks.push(tokio::spawn(trickle_body(
                address,
                path.clone(),
                n % 2 == 0,
            )));
        }
        let mut verdicts = Vec::new();
        let mut problems = Vec::new();
        for attack in attacks {
            match attack.await {
                Ok(Ok(())) => verdicts.push(()),
                Ok(Err(problem)) => problems.push(problem),
                Err(error) => problems.push(format!("an attack task failed: {error}")),
            }
        }
        (verdicts, problems)
    });
    report.injected = (idle + 2 * tricklers) as u64;
    report.problems.extend(problems);
    let before = answered.load(Ordering::SeqCst);
    // The polite writers were served throughout; let them write a little
    // more now that the attack is over.
    runtime.block_on(async {
        while answered.load(Ordering::SeqCst) < before + 20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    stop.store(true, Ordering::SeqCst);
    gather(runtime, polite, &mut ledger, &mut report.problems)?;
    report.notes.push(format!(
        "{} abusive connections closed by the server as they should be, {before} polite writes answered during the attack",
        verdicts.len()
    ));
    report.conclude(server, &db, &ledger)?;
    Ok(report)
}

/// A polite writer: a new connection per request (so it is never the one
/// idle the longest), every request answered 200.
async fn polite(
    address: SocketAddr,
    id: String,
    tag: String,
    seed: u64,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
) -> (String, Vec<Sent>, Vec<String>) {
    let mut rng = SplitMix64::new(seed);
    let mut sent = Vec::new();
    let mut problems = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let mutation = if rng.below(2) == 0 {
            Mutation::Rename(format!("{tag}.{n}"))
        } else {
            Mutation::Tax
        };
        let mut client = Client::new(address);
        let answer = mutation.send(&mut client, &id).await;
        let (outcome, problem) = mutation.judge(&format!("{id}: a polite "), answer);
        match problem {
            None => {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            Some(problem) => problems.push(problem),
        }
        sent.push(Sent { mutation, outcome });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (id, sent, problems)
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(HANG, stream.read_to_end(&mut received)).await;
    match read {
        Ok(Ok(_)) => Ok(received),
        // A reset is a close too.
        Ok(Err(_)) => Ok(received),
        Err(_) => Err(format!("the server kept the connection open for {HANG:?}")),
    }
}

/// One request answered, then the connection left idle: the server must
/// close it (idle timeout, or shed for a newer connection).
async fn idle_keep_alive(address: SocketAddr) -> Result<(), String> {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        // Refused at the limit: also what a limit does.
        return Ok(());
    };
    let (head, _) = raw_request("GET", "/healthz", None);
    if stream.write_all(&head).await.is_err() {
        return Ok(());
    }
    read_to_close(&mut stream).await.map(|_| ())
}

/// Headers at one byte a second: the server must close the connection
/// before they are complete.
async fn trickle_headers(address: SocketAddr, path: String) -> Result<(), String> {
    let (head, body) = raw_request("POST", &path, Some(&serde_json::json!({"actionId": "tax"})));
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    for byte in head.iter().chain(&body) {
        if stream.write_all(&[*byte]).await.is_err() {
            return Ok(());
        }
        let mut buffer = [0_u8; 256];
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
            // Closed (or reset) by the server.
            Ok(Ok(0) | Err(_)) => return Ok(()),
            Ok(Ok(_)) => {
                return Err("the server answered a request whose headers never arrived".into());
            }
            Err(_) => {}
        }
    }
    Err("the server waited for headers sent at one byte a second".to_owned())
}

/// A body at one byte a second (`finish`), or one that stops after a few
/// bytes: the server must answer 408 and close the connection (or at least
/// close it: see below), and never answer anything else.
async fn trickle_body(address: SocketAddr, path: String, finish: bool) -> Result<(), String> {
    let (head, body) = raw_request("POST", &path, Some(&serde_json::json!({"actionId": "tax"})));
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(&head)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let sent = if finish { body.len() } else { 3 };
        for byte in &body[..sent] {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        // Never finishes: hold the connection open.
        tokio::time::sleep(HANG).await;
        drop(writer);
    });
    let mut received = Vec::new();
    let read = tokio::time::timeout(HANG, reader.read_to_end(&mut received)).await;
    sender.abort();
    if read.is_err() {
        return Err(format!(
            "the server kept a slow body's connection open for {HANG:?}"
        ));
    }
    let text = String::from_utf8_lossy(&received);
    // Nothing read: the server answered 408 and closed, and the bytes this
    // client kept sending made the kernel reset the connection, which can
    // drop the answer before it is read (HTTP's lingering-close problem).
    if received.is_empty() || (text.starts_with("HTTP/1.1 408") && text.contains("REQUEST_TIMEOUT"))
    {
        Ok(())
    } else {
        Err(format!(
            "a slow body was answered {:?}",
            text.lines().next().unwrap_or_default()
        ))
    }
}
