//! The writer thread: it owns the write connection and applies every
//! commit, grouped.
//!
//! Callers queue their batch and wait on its ticket. The thread takes the
//! first queued job, drains whatever else is queued (up to [`MAX_GROUP`]),
//! and applies all the batches in one transaction, each batch of several
//! writes inside its own `SAVEPOINT` (see [`Writer::try_group`] for why one
//! write needs none): a batch that fails is rolled back alone and gets its
//! own error, the others commit together. One `COMMIT` (one WAL flush) then
//! answers every caller. Under load the queue fills while a transaction
//! runs, so the cost of a commit is shared by everyone who arrived during
//! the previous one.
//!
//! A whole group is tried again, from the start, when PostgreSQL chose it as
//! the victim of a deadlock with another process, or when the connection was
//! lost before the `COMMIT` was sent (the server then rolled the transaction
//! back, so nothing of it was applied), after a jittered pause that doubles
//! from one attempt to the next, up to [`MAX_ATTEMPTS`] in all (see
//! [`crate::backoff`]); then its batches fail with an error that says so. A connection lost while committing
//! is not tried again: the commit may or may not have happened, and the
//! callers are told it failed.
//!
//! The writer also moves unreadable rows that `load_all` found into
//! quarantine, after checking them again under a row lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{SystemTime, UNIX_EPOCH};

use kb_store::{
    CommitSender, GrantRefusal, Millis, QuarantinedSession, SessionRecord, StoreError, Write,
};

use crate::grants;
use postgres::Row;
use postgres::error::SqlState;
use postgres::types::ToSql;

use crate::backoff::{GaveUp, Jitter, MAX_ATTEMPTS};
use crate::connection::Connection;
use crate::sql::{RawHeader, Sql, to_sql_int};

/// The most batches one transaction takes. Each batch of several writes is
/// a subtransaction with its own transaction id, and PostgreSQL caches 64
/// of them per backend: past that, every other backend's visibility checks
/// must consult `pg_subtrans` while the transaction runs. It also keeps one
/// group from holding its first caller for long.
pub(crate) const MAX_GROUP: usize = 64;

/// Params of one statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Work for the writer thread, with where to send the answer.
pub(crate) enum Job {
    Commit {
        writes: Vec<Write>,
        reply: CommitSender,
    },
    /// Rebuild headers found behind their logs from their logs.
    RepairHeaders {
        session_ids: Vec<String>,
        reply: SyncSender<Result<(), StoreError>>,
    },
    /// Check rows `load_all` could not read again, and quarantine those
    /// still unreadable.
    Quarantine {
        candidates: Vec<Candidate>,
        reply: SyncSender<Result<Vec<Rechecked>, StoreError>>,
    },
}

/// A header row `load_all` could not read.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub key: i64,
    pub session_id: String,
    /// Why it could not be read.
    pub reason: String,
}

/// What became of a [`Candidate`].
#[derive(Debug)]
pub(crate) enum Rechecked {
    /// Still unreadable: moved into quarantine.
    Moved(QuarantinedSession),
    /// Rewritten since (by another process): readable now, and live.
    Readable(SessionRecord),
    /// Deleted or quarantined by someone else since.
    Gone,
}

/// What the writer has done, shared with the store for
/// [`CommitStats`](crate::CommitStats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub answered: AtomicU64,
    pub transactions: AtomicU64,
    pub retries: AtomicU64,
}

/// Why one write failed.
enum Failure {
    /// The contract refuses the batch (a conflict, unknown content, a
    /// damaged row): it is rolled back and answered with this error.
    Rejected(StoreError),
    /// A statement failed.
    Database {
        session_id: Option<String>,
        error: postgres::Error,
    },
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Rejected(error)
    }
}

/// Why a whole group could not be committed.
struct GroupFailure {
    error: postgres::Error,
    /// Whether trying the group again is safe and may succeed.
    retry: bool,
    /// Whether to try it again with a savepoint around every batch.
    guard_all: bool,
}

/// The savepoint of the open transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Savepoint {
    /// None was set.
    None,
    /// Set, with no write after it.
    Clean,
    /// Set, with the writes of batches that succeeded after it.
    Dirty,
}

pub(crate) struct Writer {
    conn: Connection,
    sql: Arc<Sql>,
    counters: Arc<Counters>,
    jitter: Jitter,
}

impl Writer {
    pub fn new(conn: Connection, sql: Arc<Sql>, counters: Arc<Counters>) -> Self {
        Self {
            conn,
            sql,
            counters,
            jitter: Jitter::new(),
        }
    }

    /// Serves jobs until every sender is gone, then closes the connection.
    pub fn run(mut self, jobs: Receiver<Job>) -> Result<(), postgres::Error> {
        let mut group = Vec::new();
        while let Ok(first) = jobs.recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.serve(&mut group);
        }
        if self.conn.is_closed() {
            return Ok(());
        }
        self.conn.close()
    }

    /// Serves a group in arrival order: consecutive commits share one
    /// transaction, a quarantine job runs between them in its own.
    fn serve(&mut self, group: &mut Vec<Job>) {
        let mut commits = Vec::new();
        for job in group.drain(..) {
            match job {
                Job::Commit { writes, reply } => commits.push((writes, reply)),
                Job::RepairHeaders { session_ids, reply } => {
                    self.commit_group(std::mem::take(&mut commits));
                    let _ = reply.send(self.repair_headers(&session_ids));
                }
                Job::Quarantine { candidates, reply } => {
                    self.commit_group(std::mem::take(&mut commits));
                    // A caller that went away needs no answer.
                    let _ = reply.send(self.quarantine(candidates));
                }
            }
        }
        self.commit_group(commits);
    }

    fn commit_group(&mut self, batches: Vec<(Vec<Write>, CommitSender)>) {
        if batches.is_empty() {
            return;
        }
        let (writes, replies): (Vec<_>, Vec<_>) = batches.into_iter().unzip();
        let mut attempt = 1;
        let mut guard_all = false;
        let outcomes = loop {
            match self.try_group(&writes, guard_all) {
                Ok(outcomes) => break outcomes,
                Err(failure) => {
                    self.abandon();
                    if failure.retry && attempt < MAX_ATTEMPTS {
                        attempt += 1;
                        guard_all |= failure.guard_all;
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        let pause = self.jitter.pause(attempt);
                        tracing::warn!(
                            error = %failure.error,
                            attempt,
                            pause_ms = pause.as_millis() as u64,
                            batches = writes.len(),
                            "trying a commit group again"
                        );
                        std::thread::sleep(pause);
                        continue;
                    }
                    let error = Arc::new(failure.error);
                    if failure.retry {
                        let gave_up = Arc::new(GaveUp {
                            attempts: attempt,
                            last: error,
                        });
                        tracing::error!(
                            error = %gave_up,
                            batches = writes.len(),
                            "a commit group failed"
                        );
                        break replies
                            .iter()
                            .map(|_| Err(StoreError::backend("commit", Arc::clone(&gave_up))))
                            .collect();
                    }
                    break replies
                        .iter()
                        .map(|_| Err(StoreError::backend("commit", Arc::clone(&error))))
                        .collect();
                }
            }
        };
        self.counters
            .answered
            .fetch_add(replies.len() as u64, Ordering::Relaxed);
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            reply.send(outcome);
        }
    }

    /// Applies every batch in one transaction: the outcome of each, or why
    /// nothing of the group was committed.
    ///
    /// A batch of several writes runs inside a savepoint, so that a write
    /// rejected after others of its batch changed rows undoes them. A batch
    /// of one write needs none: a write is only ever rejected before it
    /// changes anything, and a failing statement aborts the whole
    /// transaction anyway, after which the group is tried again with
    /// `guard_all`, a savepoint around every batch, so that the failing
    /// batch fails alone. This spares the common batch, one append, a round
    /// trip.
    fn try_group(
        &mut self,
        batches: &[Vec<Write>],
        guard_all: bool,
    ) -> Result<Vec<Result<(), StoreError>>, GroupFailure> {
        self.conn.ensure_open().map_err(|error| GroupFailure {
            error,
            retry: false,
            guard_all: false,
        })?;
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        self.exec("BEGIN")?;
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut savepoint = Savepoint::None;
        for writes in batches {
            let guarded = guard_all || writes.len() > 1;
            if guarded {
                match savepoint {
                    Savepoint::None => self.exec("SAVEPOINT batch")?,
                    Savepoint::Clean => {}
                    // Keep the earlier batches' writes, and start anew.
                    Savepoint::Dirty => self.exec("RELEASE batch; SAVEPOINT batch")?,
                }
                savepoint = Savepoint::Clean;
            }
            let outcome = self.apply_batch(writes, guarded)?;
            if outcome.is_ok() && savepoint != Savepoint::None {
                savepoint = Savepoint::Dirty;
            }
            outcomes.push(outcome);
        }
        self.conn
            .client()
            .batch_execute("COMMIT")
            .map_err(|error| self.group_failure(error, true))?;
        Ok(outcomes)
    }

    /// Applies one batch; a `guarded` one inside the open savepoint, which
    /// it rolls back to on failure.
    fn apply_batch(
        &mut self,
        writes: &[Write],
        guarded: bool,
    ) -> Result<Result<(), StoreError>, GroupFailure> {
        let failure = match writes.iter().try_for_each(|write| self.apply(write)) {
            Ok(()) => return Ok(Ok(())),
            Err(failure) => failure,
        };
        let answer = match failure {
            Failure::Rejected(error) => error,
            Failure::Database { session_id, error } => {
                let mut failure = self.group_failure(error, false);
                if failure.retry || self.conn.is_closed() {
                    return Err(failure);
                }
                if !guarded {
                    failure.retry = true;
                    failure.guard_all = true;
                    return Err(failure);
                }
                StoreError::backend_on("commit", session_id.as_deref(), failure.error)
            }
        };
        if guarded {
            self.exec("ROLLBACK TO batch")?;
        }
        Ok(Err(answer))
    }

    fn exec(&mut self, sql: &str) -> Result<(), GroupFailure> {
        self.conn
            .client()
            .batch_execute(sql)
            .map_err(|error| self.group_failure(error, false))
    }

    /// Classifies an error that may concern the whole group.
    fn group_failure(&self, error: postgres::Error, committing: bool) -> GroupFailure {
        let retry = if self.conn.is_closed() {
            // The server rolls back the transaction of a lost connection,
            // unless the COMMIT itself was what got lost.
            !committing
        } else {
            error.code().is_some_and(|code| {
                *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE
            })
        };
        GroupFailure {
            error,
            retry,
            guard_all: false,
        }
    }

    /// Ends a failed transaction, if the connection still has one.
    fn abandon(&mut self) {
        if !self.conn.is_closed() {
            let _ = self.conn.client().batch_execute("ROLLBACK");
        }
    }

    /// Applies one write. A write is rejected ([`Failure::Rejected`]) only
    /// before it has changed anything, which [`Writer::try_group`] relies on.
    fn apply(&mut self, write: &Write) -> Result<(), Failure> {
        let sql = Arc::clone(&self.sql);
        match write {
            Write::PutContent(content) => {
                self.execute(
                    None,
                    &sql.put_content,
                    &[
                        &content.content_id,
                        &content.content,
                        &content.registries,
                        &content.metadata,
                    ],
                )?;
            }
            Write::SaveSession(record) => {
                self.check_content(record)?;
                let id = record.session_id.as_str();
                let config = record.config.as_ref().map(|c| c.to_string());
                let version = to_sql_int(record.version);
                let fields: [&(dyn ToSql + Sync); 8] = [
                    &id,
                    &record.dev_mode,
                    &record.created_at,
                    &record.last_accessed_at,
                    &config,
                    &record.content_id,
                    &record.owner,
                    &version,
                ];
                // A new session can only be created at version 0; any other
                // version must match the stored one.
                let saved = if record.version == 0 {
                    self.query_opt(Some(id), &sql.create_session, &fields[..7])?
                } else {
                    self.query_opt(Some(id), &sql.update_session, &fields)?
                };
                if saved.is_none() {
                    let actual = self.stored_version(id)?.unwrap_or(0);
                    return Err(StoreError::conflict(id, record.version, actual).into());
                }
            }
            Write::Append {
                session_id,
                version,
                last_accessed_at,
                dev_mode,
                commands,
            } => {
                let id = session_id.as_str();
                let n = commands.len() as u64;
                let expected = version.saturating_sub(n);
                let advanced = if *version < n {
                    None
                } else {
                    self.query_opt(
                        Some(id),
                        &sql.append,
                        &[
                            &id,
                            &to_sql_int(*version),
                            last_accessed_at,
                            dev_mode,
                            &to_sql_int(expected),
                            commands,
                        ],
                    )?
                };
                if advanced.is_none() {
                    let actual = self.stored_version(id)?.unwrap_or(0);
                    return Err(StoreError::conflict(id, expected, actual).into());
                }
                self.announce(id, *version)?;
            }
            Write::Checkpoint {
                session_id,
                checkpoint,
            } => {
                let id = session_id.as_str();
                let Some(row) = self.query_opt(Some(id), &sql.share_session, &[&id])? else {
                    return Err(StoreError::conflict(id, checkpoint.version, 0).into());
                };
                let key: i64 = get(Some(id), &row, 0)?;
                let stored = stored_u64(id, get(Some(id), &row, 1)?)?;
                if checkpoint.version > stored {
                    return Err(StoreError::conflict(id, checkpoint.version, stored).into());
                }
                self.execute(
                    Some(id),
                    &sql.put_checkpoint,
                    &[&key, &to_sql_int(checkpoint.version), &checkpoint.state],
                )?;
            }
            Write::Touch {
                session_id,
                last_accessed_at,
            } => {
                let id = session_id.as_str();
                self.execute(Some(id), &sql.touch_session, &[&id, last_accessed_at])?;
            }
            Write::Delete {
                session_id,
                at_version,
            } => {
                let id = session_id.as_str();
                let deleted = match at_version {
                    None => self.query_opt(Some(id), &sql.delete_session, &[&id])?,
                    Some(expected) => {
                        let expected_sql = to_sql_int(*expected);
                        let deleted = self.query_opt(
                            Some(id),
                            &sql.delete_session_at,
                            &[&id, &expected_sql],
                        )?;
                        if deleted.is_none()
                            && let Some(actual) = self.stored_version(id)?
                        {
                            return Err(StoreError::conflict(id, *expected, actual).into());
                        }
                        deleted
                    }
                };
                if let Some(row) = deleted {
                    self.delete_log(id, get(Some(id), &row, 0)?)?;
                    self.announce(id, 0)?;
                }
            }
            Write::DeleteIfIdle {
                session_id,
                idle_before,
            } => {
                let id = session_id.as_str();
                let deleted =
                    self.query_opt(Some(id), &sql.delete_idle_session, &[&id, idle_before])?;
                if let Some(row) = deleted {
                    self.delete_log(id, get(Some(id), &row, 0)?)?;
                    self.announce(id, 0)?;
                }
            }
            Write::Quarantine {
                session_id,
                reason,
                at,
            } => {
                let id = session_id.as_str();
                self.execute(Some(id), &sql.quarantine_by_id, &[&id, reason, at])?;
                // Its grants are of no use any more (its log stays).
                self.execute(Some(id), &sql.grants.delete_of_session, &[&id])?;
            }
            Write::PutMeta { key, value } => {
                self.execute(None, &sql.put_meta, &[key, value])?;
            }
            Write::PutGrant(grant) => {
                let id = Some(grant.session_id.as_str());
                if grant.holds_seat()
                    && self
                        .query_opt(id, &sql.grants.seat_held, &[&grant.session_id, &grant.role])?
                        .is_some()
                {
                    return Err(StoreError::GrantRefused {
                        grant_id: grant.grant_id.clone(),
                        reason: GrantRefusal::SeatTaken,
                    }
                    .into());
                }
                self.execute(
                    id,
                    &sql.grants.insert,
                    &[
                        &grant.grant_id,
                        &grant.session_id,
                        &grant.kind.as_str(),
                        &grant.role,
                        &grant.digest,
                        &grant.created_at,
                        &grant.expires_at,
                        &grant.used_at,
                        &grant.revoked_at,
                        &grant.invitation_id,
                    ],
                )?;
            }
            Write::UseInvitation { grant_id, at } => {
                let row = self.query_opt(None, &sql.grants.lock_by_id, &[grant_id])?;
                let found = row
                    .map(|row| grants::decode(&row))
                    .transpose()
                    .map_err(|reason| StoreError::backend("commit (grants)", reason))?;
                let refusal = match &found {
                    None => Some(GrantRefusal::Unknown),
                    Some(grant) => grant.refusal_at(*at),
                };
                if let Some(reason) = refusal {
                    return Err(StoreError::GrantRefused {
                        grant_id: grant_id.clone(),
                        reason,
                    }
                    .into());
                }
                if found.is_some_and(|grant| grant.is_seat()) {
                    // The row is locked, so this cannot miss; the condition
                    // is the writing statement's all the same.
                    let marked = self.execute(None, &sql.grants.mark_used, &[grant_id, at])?;
                    if marked != 1 {
                        return Err(StoreError::GrantRefused {
                            grant_id: grant_id.clone(),
                            reason: GrantRefusal::Used,
                        }
                        .into());
                    }
                }
            }
            Write::RevokeGrant { grant_id, at } => {
                self.execute(None, &sql.grants.revoke, &[grant_id, at])?;
            }
        }
        Ok(())
    }

    /// Announces that the session's log now ends at `version` (0:
    /// deleted) to the processes listening on the store's channel. The
    /// notification is delivered at `COMMIT`, and dropped with a batch
    /// rolled back to its savepoint.
    fn announce(&mut self, session_id: &str, version: u64) -> Result<(), Failure> {
        let sql = Arc::clone(&self.sql);
        let payload = format!("{session_id} {version}");
        self.execute(Some(session_id), &sql.notify, &[&payload])
            .map(|_| ())
    }

    fn execute(
        &mut self,
        session_id: Option<&str>,
        sql: &str,
        params: Params<'_>,
    ) -> Result<u64, Failure> {
        self.conn
            .prepared(sql)
            .and_then(|statement| self.conn.client().execute(&statement, params))
            .map_err(|error| database(session_id, error))
    }

    fn query_opt(
        &mut self,
        session_id: Option<&str>,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, Failure> {
        self.conn
            .prepared(sql)
            .and_then(|statement| self.conn.client().query_opt(&statement, params))
            .map_err(|error| database(session_id, error))
    }

    /// Deletes the log and checkpoint of a session whose header is gone.
    fn delete_log(&mut self, session_id: &str, key: i64) -> Result<(), Failure> {
        let sql = Arc::clone(&self.sql);
        self.execute(Some(session_id), &sql.delete_commands, &[&key])?;
        self.execute(Some(session_id), &sql.delete_checkpoint, &[&key])?;
        self.execute(
            Some(session_id),
            &sql.grants.delete_of_session,
            &[&session_id],
        )?;
        Ok(())
    }

    /// The stored version of a session, `None` when it does not exist.
    fn stored_version(&mut self, session_id: &str) -> Result<Option<u64>, Failure> {
        let sql = Arc::clone(&self.sql);
        let row = self.query_opt(Some(session_id), &sql.session_version, &[&session_id])?;
        row.map(|row| stored_u64(session_id, get(Some(session_id), &row, 0)?))
            .transpose()
    }

    fn check_content(&mut self, record: &SessionRecord) -> Result<(), Failure> {
        if record.content_id.is_empty() {
            return Ok(());
        }
        let sql = Arc::clone(&self.sql);
        let id = Some(record.session_id.as_str());
        let exists = self
            .conn
            .prepared(&sql.content_exists)
            .and_then(|statement| {
                self.conn
                    .client()
                    .query_one(&statement, &[&record.content_id])
            })
            .and_then(|row| row.try_get::<_, bool>(0))
            .map_err(|error| database(id, error))?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::UnknownContent {
                session_id: record.session_id.clone(),
                content_id: record.content_id.clone(),
            }
            .into())
        }
    }

    /// Rebuilds the version of each header from its log, where it is behind
    /// (one statement each, in autocommit).
    fn repair_headers(&mut self, session_ids: &[String]) -> Result<(), StoreError> {
        let fail =
            |id: &str, e: postgres::Error| StoreError::backend_on("repair header", Some(id), e);
        let sql = Arc::clone(&self.sql);
        for id in session_ids {
            self.conn.ensure_open().map_err(|e| fail(id, e))?;
            let statement = self
                .conn
                .prepared(&sql.repair_header)
                .map_err(|e| fail(id, e))?;
            self.conn
                .client()
                .execute(&statement, &[id])
                .map_err(|e| fail(id, e))?;
        }
        Ok(())
    }

    /// Checks again, under a row lock, the rows `load_all` could not read,
    /// and moves those still unreadable into quarantine, in one transaction.
    fn quarantine(&mut self, candidates: Vec<Candidate>) -> Result<Vec<Rechecked>, StoreError> {
        let fail = |e: postgres::Error| StoreError::backend("load_all (quarantine)", e);
        self.conn.ensure_open().map_err(fail)?;
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        self.conn.client().batch_execute("BEGIN").map_err(fail)?;
        let now = now_millis();
        let result: Result<Vec<Rechecked>, StoreError> = candidates
            .iter()
            .map(|candidate| {
                self.recheck(candidate, now).map_err(|e| {
                    StoreError::backend_on("load_all (quarantine)", Some(&candidate.session_id), e)
                })
            })
            .collect();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.conn.client().batch_execute(end).map_err(fail);
        let rechecked = result?;
        ended?;
        Ok(rechecked)
    }

    fn recheck(
        &mut self,
        candidate: &Candidate,
        now: Millis,
    ) -> Result<Rechecked, postgres::Error> {
        let sql = Arc::clone(&self.sql);
        let statement = self.conn.prepared(&sql.lock_header)?;
        let Some(row) = self
            .conn
            .client()
            .query_opt(&statement, &[&candidate.key])?
        else {
            return Ok(Rechecked::Gone);
        };
        let raw = RawHeader::read(&row)?;
        // A statement of its own, run after the lock is held, so that it
        // sees content committed with the row's latest version.
        let content_found = match raw.content_id.as_deref() {
            Some(content_id) if !content_id.is_empty() => {
                let statement = self.conn.prepared(&sql.content_exists)?;
                self.conn
                    .client()
                    .query_one(&statement, &[&content_id])?
                    .try_get(0)?
            }
            _ => true,
        };
        match raw.decode(content_found) {
            Ok(record) => Ok(Rechecked::Readable(record)),
            Err(reason) => {
                let statement = self.conn.prepared(&sql.quarantine_by_key)?;
                self.conn
                    .client()
                    .execute(&statement, &[&candidate.key, &reason, &now])?;
                let session_id = raw.describe_id();
                tracing::warn!(
                    %session_id,
                    %reason,
                    "quarantined an unreadable session row"
                );
                Ok(Rechecked::Moved(QuarantinedSession {
                    session_id,
                    reason,
                    quarantined_at: now,
                }))
            }
        }
    }
}

fn database(session_id: Option<&str>, error: postgres::Error) -> Failure {
    Failure::Database {
        session_id: session_id.map(str::to_owned),
        error,
    }
}

/// A column of a row, as the schema types it.
fn get<'a, T: postgres::types::FromSql<'a>>(
    session_id: Option<&str>,
    row: &'a Row,
    index: usize,
) -> Result<T, Failure> {
    row.try_get(index)
        .map_err(|error| database(session_id, error))
}

/// A stored version, which a damaged row may hold negative.
fn stored_u64(session_id: &str, version: i64) -> Result<u64, Failure> {
    u64::try_from(version).map_err(|_| {
        Failure::Rejected(StoreError::backend_on(
            "commit",
            Some(session_id),
            format!("stored version {version} is negative"),
        ))
    })
}

pub(crate) fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
