//! What the clients were told: for every session, the mutations sent to it
//! and what became of each (acknowledged at a version, refused, or
//! unanswered), and what the store must therefore hold.
//!
//! An acknowledged mutation must be in the log at the version its answer
//! showed. An unanswered one may or may not have been applied, but at most
//! once. A refused one must not have been. Renames carry a tag no other
//! request carries, so their entries can be traced to the one request that
//! sent them; for a session with a single writer the whole log must be
//! explained, in order, by the requests sent to it.

use std::collections::{BTreeMap, HashMap, HashSet};

use kb_session::LogEntry;

use super::game::{Mutation, tag_of};

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 2xx, showing this version.
    Acked(u64),
    /// Answered 2xx without changing anything (an AI turn with nothing to
    /// play), showing the session at this version.
    Observed(u64),
    /// Answered 4xx: nothing may have changed.
    Refused(u16),
    /// No answer, or 5xx: it may or may not have been applied.
    Unknown,
}

/// One request and what became of it.
#[derive(Clone, Debug)]
pub struct Sent {
    /// What was sent.
    pub mutation: Mutation,
    /// What the client was told.
    pub outcome: Outcome,
}

/// One session's record.
#[derive(Clone, Debug)]
pub struct SessionLedger {
    /// The version its creation was acknowledged at (the entries before
    /// are its creation's).
    pub base: u64,
    /// One client wrote it, one request at a time, so the order of `sent`
    /// is the order its log must follow.
    pub single_writer: bool,
    /// The mutations sent, in order (for a single writer).
    pub sent: Vec<Sent>,
    /// Whether it was deleted: `Some(Acked(_))` acknowledged, `Some(Unknown)`
    /// in flight.
    pub deleted: Option<Outcome>,
}

/// Everything the clients of one fault were told.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// By session id.
    pub sessions: BTreeMap<String, SessionLedger>,
    /// Creations that got no answer (their ids are unknown: the store may
    /// hold up to this many sessions nobody was told of).
    pub unknown_creates: usize,
}

/// What checking a ledger against a store found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Acknowledged mutations, creations and deletions checked.
    pub checked: usize,
    /// Of them, missing from the store (or not what was acknowledged).
    pub lost: usize,
    /// Entries applied more than once, or that no request explains.
    pub duplicated: usize,
    /// What is wrong, in words.
    pub problems: Vec<String>,
}

impl Tally {
    /// Adds another tally.
    pub fn absorb(&mut self, other: Tally) {
        self.checked += other.checked;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.problems.extend(other.problems);
    }

    fn lost(&mut self, problem: String) {
        self.lost += 1;
        self.problems.push(problem);
    }

    fn duplicated(&mut self, problem: String) {
        self.duplicated += 1;
        self.problems.push(problem);
    }
}

impl Ledger {
    /// A session whose creation was acknowledged at `base`.
    pub fn created(&mut self, id: &str, base: u64, single_writer: bool) {
        self.sessions.insert(
            id.to_owned(),
            SessionLedger {
                base,
                single_writer,
                sent: Vec::new(),
                deleted: None,
            },
        );
    }

    /// Records a request to a known session.
    pub fn sent(&mut self, id: &str, mutation: Mutation, outcome: Outcome) {
        if let Some(session) = self.sessions.get_mut(id) {
            session.sent.push(Sent { mutation, outcome });
        }
    }

    /// Adds another ledger's sessions (several clients' records).
    pub fn merge(&mut self, other: Ledger) {
        self.unknown_creates += other.unknown_creates;
        for (id, theirs) in other.sessions {
            match self.sessions.get_mut(&id) {
                Some(ours) => {
                    ours.single_writer = false;
                    ours.sent.extend(theirs.sent);
                    if theirs.deleted.is_some() {
                        ours.deleted = theirs.deleted;
                    }
                }
                None => {
                    self.sessions.insert(id, theirs);
                }
            }
        }
    }

    /// Acknowledged mutations, creations and deletions.
    pub fn acknowledged(&self) -> usize {
        self.sessions
            .values()
            .map(|session| {
                1 + session
                    .sent
                    .iter()
                    .filter(|sent| matches!(sent.outcome, Outcome::Acked(_)))
                    .count()
                    + usize::from(matches!(session.deleted, Some(Outcome::Acked(_))))
            })
            .sum()
    }
}

impl SessionLedger {
    /// Checks a stored log (`None`: the session is not stored) against what
    /// the clients were told.
    pub fn check(&self, id: &str, log: Option<&[LogEntry]>) -> Tally {
        let mut tally = Tally::default();
        let acked = self
            .sent
            .iter()
            .filter(|sent| matches!(sent.outcome, Outcome::Acked(_)))
            .count();
        match (self.deleted, log) {
            (Some(Outcome::Acked(_)), None) => {
                tally.checked += 2 + acked;
                return tally;
            }
            (Some(Outcome::Acked(_)), Some(_)) => {
                tally.checked += 1;
                tally.lost(format!(
                    "{id}: its deletion was acknowledged, it is still stored"
                ));
                return tally;
            }
            (Some(_), None) => {
                // Deleted by a request whose answer was lost.
                tally.checked += 1 + acked;
                return tally;
            }
            (None, None) => {
                tally.checked += 1;
                tally.lost(format!(
                    "{id}: its creation was acknowledged, it is not stored"
                ));
                return tally;
            }
            (_, Some(log)) => {
                tally.checked += 1;
                if (log.len() as u64) < self.base {
                    tally.lost(format!(
                        "{id}: created at version {}, its log holds {} entries",
                        self.base,
                        log.len()
                    ));
                    return tally;
                }
                if self.single_writer {
                    self.check_in_order(id, log, &mut tally);
                } else {
                    self.check_unordered(id, log, &mut tally);
                }
            }
        }
        tally
    }

    /// Many writers: every acknowledged mutation at its version, no version
    /// acknowledged twice, every tag in the log sent once and applied once.
    fn check_unordered(&self, id: &str, log: &[LogEntry], tally: &mut Tally) {
        let mut versions = HashSet::new();
        for sent in &self.sent {
            let Outcome::Acked(version) = sent.outcome else {
                continue;
            };
            tally.checked += 1;
            if !versions.insert(version) {
                tally.duplicated(format!("{id}: version {version} was acknowledged twice"));
            }
            check_anchor(id, log, version, &sent.mutation, tally);
        }
        let sent_tags: HashSet<&str> = self
            .sent
            .iter()
            .filter(|sent| !refused(sent))
            .filter_map(|sent| sent.mutation.tag())
            .collect();
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for (index, entry) in log.iter().enumerate() {
            let Some(tag) = tag_of(entry) else { continue };
            let version = index as u64 + 1;
            if version <= self.base {
                continue;
            }
            if let Some(first) = seen.insert(tag, version) {
                tally.duplicated(format!(
                    "{id}: {tag:?} is applied at versions {first} and {version}"
                ));
            } else if !sent_tags.contains(tag) {
                tally.duplicated(format!(
                    "{id}: entry {version} ({tag:?}) comes from no request that may have run"
                ));
            }
        }
    }

    /// One writer: the log after creation is explained, in order, by the
    /// requests sent: each acknowledged one at its version, each unanswered
    /// one at most once in between, nothing else.
    fn check_in_order(&self, id: &str, log: &[LogEntry], tally: &mut Tally) {
        let mut position = self.base;
        let mut pending: Vec<&Mutation> = Vec::new();
        for sent in &self.sent {
            match sent.outcome {
                Outcome::Refused(_) => {}
                Outcome::Unknown => pending.push(&sent.mutation),
                Outcome::Observed(version) => {
                    // Nothing of its own, but every unanswered request
                    // before it has landed by then or never will.
                    if version < position {
                        tally.lost(format!(
                            "{id}: {:?} showed version {version}, \
                             after version {position} was reached",
                            sent.mutation
                        ));
                        continue;
                    }
                    let Some(between) = log.get(position as usize..version as usize) else {
                        tally.lost(format!(
                            "{id}: {:?} showed version {version}, the log holds {} entries",
                            sent.mutation,
                            log.len()
                        ));
                        continue;
                    };
                    explain(id, between, position, &pending, tally);
                    position = version;
                    pending.clear();
                }
                Outcome::Acked(version) => {
                    tally.checked += 1;
                    if version <= position {
                        tally.lost(format!(
                            "{id}: {:?} acknowledged at version {version}, \
                             after version {position} was reached",
                            sent.mutation
                        ));
                        continue;
                    }
                    let between = log.get(position as usize..version as usize - 1);
                    explain(id, between.unwrap_or(&[]), position, &pending, tally);
                    check_anchor(id, log, version, &sent.mutation, tally);
                    position = version;
                    pending.clear();
                }
            }
        }
        let rest = log.get(position as usize..).unwrap_or(&[]);
        explain(id, rest, position, &pending, tally);
    }
}

fn refused(sent: &Sent) -> bool {
    matches!(sent.outcome, Outcome::Refused(_))
}

/// The entry at `version` must be `mutation`'s.
fn check_anchor(id: &str, log: &[LogEntry], version: u64, mutation: &Mutation, tally: &mut Tally) {
    match log.get((version as usize).wrapping_sub(1)) {
        Some(entry) if *entry == mutation.entry() => {}
        Some(entry) => tally.lost(format!(
            "{id}: {mutation:?} was acknowledged at version {version}, the log holds {entry:?} there"
        )),
        None => tally.lost(format!(
            "{id}: {mutation:?} was acknowledged at version {version}, the log holds {} entries",
            log.len()
        )),
    }
}

/// `entries` (after entry `after`) must each be one of `pending`, in order,
/// each used at most once.
fn explain(id: &str, entries: &[LogEntry], after: u64, pending: &[&Mutation], tally: &mut Tally) {
    let mut candidates = pending.iter();
    for (offset, entry) in entries.iter().enumerate() {
        if !candidates.any(|mutation| mutation.entry() == *entry) {
            tally.duplicated(format!(
                "{id}: entry {} ({entry:?}) is explained by no unanswered request \
                 (applied twice, or from nowhere)",
                after + offset as u64 + 1
            ));
            return;
        }
    }
}

/// What a writer task returns: its session's id, what it sent, and its
/// problems.
pub type WriterRun = (String, Vec<Sent>, Vec<String>);

/// Waits for writers that each return their session's id, what they sent
/// and their problems, and takes in what they sent; their problems are
/// added to `problems`.
pub fn gather(
    runtime: &tokio::runtime::Runtime,
    writers: Vec<tokio::task::JoinHandle<WriterRun>>,
    ledger: &mut Ledger,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    for writer in writers {
        let (id, sent, theirs) = runtime
            .block_on(writer)
            .map_err(|error| anyhow::anyhow!("a writer failed: {error}"))?;
        for sent in sent {
            ledger.sent(&id, sent.mutation, sent.outcome);
        }
        problems.extend(theirs);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_writer(sent: Vec<(Mutation, Outcome)>) -> SessionLedger {
        SessionLedger {
            base: 1,
            single_writer: true,
            sent: sent
                .into_iter()
                .map(|(mutation, outcome)| Sent { mutation, outcome })
                .collect(),
            deleted: None,
        }
    }

    fn log(mutations: &[Mutation]) -> Vec<LogEntry> {
        // Entry 1 stands for the creation; its content is not checked.
        std::iter::once(Mutation::Advance.entry())
            .chain(mutations.iter().map(Mutation::entry))
            .collect()
    }

    #[test]
    fn an_idle_ai_turn_after_an_unanswered_write_that_landed_is_no_loss() {
        // The case a SIGKILL made: the rename's answer was lost, its commit
        // landed, and the next request, an AI turn with nothing to play,
        // showed the version the rename made.
        let rename = Mutation::Rename("k7.3".into());
        let ledger = one_writer(vec![
            (Mutation::Tax, Outcome::Acked(2)),
            (rename.clone(), Outcome::Unknown),
            (Mutation::AiTurn, Outcome::Observed(3)),
            (Mutation::Tax, Outcome::Acked(4)),
        ]);
        let tally = ledger.check("s", Some(&log(&[Mutation::Tax, rename, Mutation::Tax])));
        assert_eq!(
            (tally.lost, tally.duplicated),
            (0, 0),
            "{:?}",
            tally.problems
        );
    }

    #[test]
    fn an_observed_version_the_log_does_not_reach_is_a_loss() {
        let ledger = one_writer(vec![
            (Mutation::Tax, Outcome::Acked(2)),
            (Mutation::AiTurn, Outcome::Observed(3)),
        ]);
        let tally = ledger.check("s", Some(&log(&[Mutation::Tax])));
        assert_eq!(tally.lost, 1, "{:?}", tally.problems);
    }

    #[test]
    fn an_entry_no_request_explains_before_an_observation_is_reported() {
        let ledger = one_writer(vec![
            (Mutation::Tax, Outcome::Acked(2)),
            (Mutation::AiTurn, Outcome::Observed(3)),
        ]);
        let stray = Mutation::Rename("nobody".into());
        let tally = ledger.check("s", Some(&log(&[Mutation::Tax, stray])));
        assert_eq!(tally.lost + tally.duplicated, 1, "{:?}", tally.problems);
    }

    #[test]
    fn an_acknowledged_write_missing_from_the_log_is_a_loss() {
        let ledger = one_writer(vec![
            (Mutation::Tax, Outcome::Acked(2)),
            (Mutation::AiTurn, Outcome::Acked(3)),
        ]);
        let tally = ledger.check("s", Some(&log(&[Mutation::Tax, Mutation::Advance])));
        assert_eq!(tally.lost, 1, "{:?}", tally.problems);
    }
}
