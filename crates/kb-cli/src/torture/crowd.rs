//! Many connections writing one session at once: every write must be
//! answered 200 with a version no other write was given, and the session
//! must end at its creation's version plus one per write.

use std::net::SocketAddr;

use anyhow::Context;
use hyper::Method;

use super::client::Client;
use super::game::Mutation;
use super::ledger::{Ledger, Outcome};
use super::server::ServerSpec;
use super::vanishing::rich_session_at_main;
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// Runs one round.
pub fn run(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("one-session", "concurrent writers");
    let db = round.dir.join("sessions.db");
    let spec = ServerSpec::new(
        round.exe,
        db.to_string_lossy(),
        round.dir.join("server.log"),
    );
    let server = spec.start()?;
    let writers = round.size(32, 64);
    let requests = round.size(20, 100);
    let seed = round.seed();
    let (ledger, problems) =
        round
            .runtime
            .block_on(crowd(server.address(), writers, requests, seed))?;
    report.injected = writers as u64;
    report.problems.extend(problems);
    report.conclude(server, &db.to_string_lossy(), &ledger)?;
    Ok(report)
}

async fn crowd(
    address: SocketAddr,
    writers: usize,
    requests: usize,
    seed: u64,
) -> anyhow::Result<(Ledger, Vec<String>)> {
    let mut setup = Client::new(address);
    let (id, base) = rich_session_at_main(&mut setup).await?;
    let mut ledger = Ledger::default();
    ledger.created(&id, base, false);
    let mut rng = SplitMix64::new(seed);
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let id = id.clone();
            let seed = rng.next_u64();
            tokio::spawn(async move {
                let mut rng = SplitMix64::new(seed);
                let mut client = Client::new(address);
                let mut sent = Vec::new();
                let mut problems = Vec::new();
                for n in 0..requests {
                    let mutation = if rng.below(3) == 0 {
                        Mutation::Tax
                    } else {
                        Mutation::Rename(format!("c{writer}.{n}"))
                    };
                    let answer = mutation.send(&mut client, &id).await;
                    let (outcome, problem) = mutation.judge("", answer);
                    problems.extend(problem);
                    sent.push((mutation, outcome));
                }
                (sent, problems)
            })
        })
        .collect();
    let mut problems = Vec::new();
    let mut acked = 0_u64;
    for task in tasks {
        let (sent, theirs) = task.await.context("a writer task failed")?;
        for (mutation, outcome) in sent {
            acked += u64::from(matches!(outcome, Outcome::Acked(_)));
            ledger.sent(&id, mutation, outcome);
        }
        problems.extend(theirs);
    }
    let last = setup
        .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
        .await
        .map_err(anyhow::Error::msg)?;
    if last.version() != Some(base + acked) {
        problems.push(format!(
            "{id}: {acked} writes acknowledged from version {base}, the session is at {:?}",
            last.version()
        ));
    }
    Ok((ledger, problems))
}
