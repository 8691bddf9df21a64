//! The check after every fault: the store audited (every session replays
//! to its header's version, its checkpoint agrees, nothing unreadable,
//! nothing in quarantine), and every client's ledger held against the
//! stored logs.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use kb_session::LogEntry;
use kb_session::audit::audit_store;
use kb_store::SessionStore;
use kb_store_postgres::{PostgresOptions, PostgresSessionStore};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

use super::ledger::{Ledger, Tally};

/// Opens the database of a fault for reading: an SQLite file read-only
/// (a server may be running on it), or a PostgreSQL database.
pub fn open_store(db: &str) -> anyhow::Result<Arc<dyn SessionStore>> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let store = PostgresSessionStore::open(PostgresOptions::new(db).read_connections(1))
            .context("cannot open the PostgreSQL store")?;
        Ok(Arc::new(store))
    } else {
        let store = SqliteSessionStore::open_read_only(SqliteOptions::new(Path::new(db)))
            .with_context(|| format!("cannot open {db} to check it"))?;
        Ok(Arc::new(store))
    }
}

/// Audits the store and checks the ledger against it.
pub fn verify(store: &dyn SessionStore, ledger: &Ledger) -> anyhow::Result<Tally> {
    let audit = audit_store(store).context("cannot audit the store")?;
    let mut tally = Tally::default();
    for session in &audit.sessions {
        for problem in &session.problems {
            tally
                .problems
                .push(format!("{}: {problem}", session.session_id));
        }
    }
    for row in &audit.unreadable {
        tally.problems.push(format!(
            "{}: unreadable row: {}",
            row.session_id, row.reason
        ));
    }
    for row in &audit.quarantined {
        tally
            .problems
            .push(format!("{}: quarantined: {}", row.session_id, row.reason));
    }
    let stored: BTreeSet<&str> = audit
        .sessions
        .iter()
        .map(|session| session.session_id.as_str())
        .collect();
    for (id, session) in &ledger.sessions {
        let log = if stored.contains(id.as_str()) {
            let entries = store
                .load_commands(id, 0)
                .with_context(|| format!("cannot read the log of {id}"))?;
            let parsed: Result<Vec<LogEntry>, _> =
                entries.iter().map(|text| LogEntry::parse(text)).collect();
            match parsed {
                Ok(parsed) => Some(parsed),
                Err(error) => {
                    tally
                        .problems
                        .push(format!("{id}: a log entry is unreadable: {error}"));
                    continue;
                }
            }
        } else {
            None
        };
        tally.absorb(session.check(id, log.as_deref()));
    }
    let strangers = stored
        .iter()
        .filter(|id| !ledger.sessions.contains_key(**id))
        .count();
    if strangers > ledger.unknown_creates {
        tally.problems.push(format!(
            "{strangers} stored sessions nobody created \
             (only {} creations went unanswered)",
            ledger.unknown_creates
        ));
    }
    Ok(tally)
}
