//! The writer thread: it owns the write connection and applies every
//! commit, grouped.
//!
//! Callers queue their batch and block on a reply channel. The thread takes
//! the first queued job, drains whatever else is queued (up to
//! [`MAX_GROUP`]), and applies all the batches in one transaction, each
//! inside its own `SAVEPOINT`: a batch that fails is rolled back alone and
//! gets its own error, the others commit together. One `COMMIT` (one WAL
//! sync under `synchronous=FULL`) then answers every caller. Under load the
//! queue fills while a transaction commits, so the cost of a commit is
//! shared by everyone who arrived during the previous one.
//!
//! `load_all` runs here too, since it may move unreadable rows into
//! quarantine: reading and moving happen in one transaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{SystemTime, UNIX_EPOCH};

use kb_store::{LoadedSessions, Millis, QuarantinedSession, SessionRecord, StoreError, Write};
use rusqlite::{Connection, OptionalExtension, params};

use crate::grants;
use crate::sql::{LOG_LENGTH_COLUMN, Sql, decode_header, describe_id};

/// The most batches one transaction takes, so that one group cannot keep
/// its first caller waiting indefinitely.
pub(crate) const MAX_GROUP: usize = 1024;

/// Where the answer to a commit goes.
pub(crate) type CommitReply = kb_store::CommitSender;

/// Work for the writer thread, with where to send the answer.
pub(crate) enum Job {
    Commit {
        writes: Vec<Write>,
        reply: CommitReply,
    },
    LoadAll {
        reply: SyncSender<Result<LoadedSessions, StoreError>>,
    },
    /// Rebuild a header that was found behind its log.
    RepairHeader {
        session_id: String,
        reply: SyncSender<Result<(), StoreError>>,
    },
}

/// A failure that leaves the open transaction unusable: every batch of the
/// group fails with it.
struct Broken(rusqlite::Error);

pub(crate) struct Writer {
    conn: Connection,
    sql: Arc<Sql>,
    counters: Arc<Counters>,
}

/// What the writer has done, shared with the store for
/// [`CommitStats`](crate::CommitStats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub answered: AtomicU64,
    pub transactions: AtomicU64,
}

/// A stored header's key and version.
struct Stored {
    key: i64,
    version: u64,
}

impl Writer {
    pub fn new(conn: Connection, sql: Arc<Sql>, counters: Arc<Counters>) -> Self {
        Self {
            conn,
            sql,
            counters,
        }
    }

    /// Serves jobs until every sender is gone, then closes the connection.
    pub fn run(self, jobs: Receiver<Job>) -> rusqlite::Result<()> {
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
        self.conn.close().map_err(|(_, e)| e)
    }

    /// Serves a group in arrival order: consecutive commits share one
    /// transaction, a `load_all` runs between them in its own.
    fn serve(&self, group: &mut Vec<Job>) {
        let mut commits = Vec::new();
        for job in group.drain(..) {
            match job {
                Job::Commit { writes, reply } => commits.push((writes, reply)),
                Job::LoadAll { reply } => {
                    self.commit_group(std::mem::take(&mut commits));
                    // A caller that went away needs no answer.
                    let _ = reply.send(self.load_all());
                }
                Job::RepairHeader { session_id, reply } => {
                    self.commit_group(std::mem::take(&mut commits));
                    let repaired = self.stmt(Some(&session_id), &self.sql.repair_header, |stmt| {
                        stmt.execute([&session_id])
                    });
                    let _ = reply.send(repaired.map(|_| ()));
                }
            }
        }
        self.commit_group(commits);
    }

    fn commit_group(&self, batches: Vec<(Vec<Write>, CommitReply)>) {
        if batches.is_empty() {
            return;
        }
        let (writes, replies): (Vec<_>, Vec<_>) = batches.into_iter().unzip();
        let outcomes = match self.apply_group(writes) {
            Ok(outcomes) => outcomes,
            Err(Broken(error)) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                let error = Arc::new(error);
                replies
                    .iter()
                    .map(|_| Err(StoreError::backend("commit", Arc::clone(&error))))
                    .collect()
            }
        };
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        self.counters
            .answered
            .fetch_add(replies.len() as u64, Ordering::Relaxed);
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            reply.send(outcome);
        }
    }

    /// Applies every batch in one transaction: the outcome of each, or
    /// [`Broken`] when nothing of the group could be committed.
    fn apply_group(&self, batches: Vec<Vec<Write>>) -> Result<Vec<Result<(), StoreError>>, Broken> {
        self.exec("BEGIN IMMEDIATE").map_err(Broken)?;
        let mut outcomes = Vec::with_capacity(batches.len());
        for writes in batches {
            outcomes.push(self.apply_batch(writes)?);
        }
        // Some errors (a full disk, an I/O error) make SQLite roll the whole
        // transaction back on its own: then nothing is left to commit.
        if self.conn.is_autocommit() {
            return Err(Broken(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back by SQLite".to_owned()),
            )));
        }
        self.exec("COMMIT").map_err(Broken)?;
        Ok(outcomes)
    }

    /// Applies one batch inside a savepoint, undoing it alone on failure.
    fn apply_batch(&self, writes: Vec<Write>) -> Result<Result<(), StoreError>, Broken> {
        self.exec("SAVEPOINT batch").map_err(Broken)?;
        match writes.into_iter().try_for_each(|write| self.apply(write)) {
            Ok(()) => {
                self.exec("RELEASE batch").map_err(Broken)?;
                Ok(Ok(()))
            }
            Err(error) => {
                self.exec("ROLLBACK TO batch").map_err(Broken)?;
                self.exec("RELEASE batch").map_err(Broken)?;
                Ok(Err(error))
            }
        }
    }

    fn exec(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    }

    fn apply(&self, write: Write) -> Result<(), StoreError> {
        match write {
            Write::PutContent(content) => {
                let session = None;
                self.stmt(session, &self.sql.insert_content, |stmt| {
                    stmt.execute(params![
                        content.content_id,
                        content.content,
                        content.registries,
                        content.metadata
                    ])
                })?;
            }
            Write::SaveSession(record) => {
                self.check_content(&record)?;
                let actual = self
                    .find(&record.session_id)?
                    .map_or(0, |stored| stored.version);
                if record.version != actual {
                    return Err(StoreError::conflict(
                        &record.session_id,
                        record.version,
                        actual,
                    ));
                }
                self.upsert(&record)?;
            }
            Write::Append {
                session_id,
                version,
                last_accessed_at,
                dev_mode,
                commands,
            } => {
                let n = commands.len() as u64;
                let expected = version.saturating_sub(n);
                let Some(stored) = self.find(&session_id)? else {
                    return Err(StoreError::conflict(&session_id, expected, 0));
                };
                if version < n || stored.version != expected {
                    return Err(StoreError::conflict(&session_id, expected, stored.version));
                }
                let session = Some(session_id.as_str());
                self.stmt(session, &self.sql.insert_command, |stmt| {
                    for (seq, command) in (expected + 1..).zip(&commands) {
                        stmt.execute(params![stored.key, to_sql_int(seq), command])?;
                    }
                    Ok(0)
                })?;
                self.stmt(session, &self.sql.advance_session, |stmt| {
                    stmt.execute(params![
                        stored.key,
                        to_sql_int(version),
                        last_accessed_at,
                        dev_mode
                    ])
                })?;
            }
            Write::Checkpoint {
                session_id,
                checkpoint,
            } => {
                let Some(stored) = self.find(&session_id)? else {
                    return Err(StoreError::conflict(&session_id, checkpoint.version, 0));
                };
                if checkpoint.version > stored.version {
                    return Err(StoreError::conflict(
                        &session_id,
                        checkpoint.version,
                        stored.version,
                    ));
                }
                self.stmt(Some(&session_id), &self.sql.upsert_checkpoint, |stmt| {
                    stmt.execute(params![
                        stored.key,
                        to_sql_int(checkpoint.version),
                        checkpoint.state
                    ])
                })?;
            }
            Write::Touch {
                session_id,
                last_accessed_at,
            } => {
                self.stmt(Some(&session_id), &self.sql.touch_session, |stmt| {
                    stmt.execute(params![session_id, last_accessed_at])
                })?;
            }
            Write::Delete {
                session_id,
                at_version,
            } => {
                // Without a version, only the key is read, so that a row too
                // damaged to load can still be deleted.
                let key = match at_version {
                    None => self.find_key(&session_id)?,
                    Some(expected) => match self.find(&session_id)? {
                        Some(stored) if stored.version != expected => {
                            return Err(StoreError::conflict(
                                &session_id,
                                expected,
                                stored.version,
                            ));
                        }
                        stored => stored.map(|stored| stored.key),
                    },
                };
                if let Some(key) = key {
                    self.delete_key(&session_id, key)?;
                }
            }
            Write::DeleteIfIdle {
                session_id,
                idle_before,
            } => {
                let idle = self.stmt(Some(&session_id), &self.sql.find_idle_session, |stmt| {
                    stmt.query_row(params![session_id, idle_before], |row| row.get::<_, i64>(0))
                        .optional()
                })?;
                if let Some(key) = idle {
                    self.delete_key(&session_id, key)?;
                }
            }
            Write::Quarantine {
                session_id,
                reason,
                at,
            } => {
                if let Some(key) = self.find_key(&session_id)? {
                    self.quarantine(Some(&session_id), key, &reason, at)?;
                }
            }
            Write::PutMeta { key, value } => {
                self.stmt(None, &self.sql.put_meta, |stmt| {
                    stmt.execute(params![key, value])
                })?;
            }
            Write::PutGrant(grant) => grants::put(&self.conn, &self.sql.grants, grant)?,
            Write::UseInvitation { grant_id, at } => {
                grants::use_invitation(&self.conn, &self.sql.grants, grant_id, at)?;
            }
            Write::RevokeGrant { grant_id, at } => {
                grants::revoke(&self.conn, &self.sql.grants, grant_id, at)?;
            }
        }
        Ok(())
    }

    /// Runs a cached statement, wrapping its error with the session.
    fn stmt<T>(
        &self,
        session_id: Option<&str>,
        sql: &str,
        f: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| f(&mut stmt))
            .map_err(|e| StoreError::backend_on("commit", session_id, e))
    }

    /// Deletes a session's commands, checkpoint and header.
    fn delete_key(&self, session_id: &str, key: i64) -> Result<(), StoreError> {
        for sql in [
            &self.sql.delete_commands,
            &self.sql.delete_checkpoint,
            &self.sql.delete_session,
        ] {
            self.stmt(Some(session_id), sql, |stmt| stmt.execute([key]))?;
        }
        grants::delete_of_session(&self.conn, &self.sql.grants, session_id)
    }

    fn find(&self, session_id: &str) -> Result<Option<Stored>, StoreError> {
        let found = self.stmt(Some(session_id), &self.sql.find_session, |stmt| {
            stmt.query_row([session_id], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })
            .optional()
        })?;
        found
            .map(|(key, version)| {
                let version = u64::try_from(version).map_err(|_| {
                    StoreError::backend_on(
                        "commit",
                        Some(session_id),
                        format!("stored version {version} is negative"),
                    )
                })?;
                Ok(Stored { key, version })
            })
            .transpose()
    }

    /// The key of a session, without reading the rest of its header: a
    /// row too damaged to load can still be deleted or quarantined.
    fn find_key(&self, session_id: &str) -> Result<Option<i64>, StoreError> {
        self.stmt(Some(session_id), &self.sql.session_key, |stmt| {
            stmt.query_row([session_id], |row| row.get(0)).optional()
        })
    }

    fn check_content(&self, record: &SessionRecord) -> Result<(), StoreError> {
        if record.content_id.is_empty() {
            return Ok(());
        }
        let exists = self.stmt(Some(&record.session_id), &self.sql.content_exists, |stmt| {
            stmt.exists([&record.content_id])
        })?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::UnknownContent {
                session_id: record.session_id.clone(),
                content_id: record.content_id.clone(),
            })
        }
    }

    fn upsert(&self, record: &SessionRecord) -> Result<(), StoreError> {
        // A `Value` always serializes.
        let config = record.config.as_ref().map(|c| c.to_string());
        self.stmt(Some(&record.session_id), &self.sql.upsert_session, |stmt| {
            stmt.execute(params![
                record.session_id,
                record.dev_mode,
                record.created_at,
                record.last_accessed_at,
                config,
                record.content_id,
                record.owner,
                to_sql_int(record.version),
            ])
        })?;
        Ok(())
    }

    /// Moves a header row into quarantine, as it is. Its log and checkpoint
    /// stay where they are, under its session key, which is never reused.
    fn quarantine(
        &self,
        session_id: Option<&str>,
        key: i64,
        reason: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.stmt(session_id, &self.sql.quarantine_session, |stmt| {
            stmt.execute(params![key, reason, at])
        })?;
        self.stmt(session_id, &self.sql.delete_session, |stmt| {
            stmt.execute([key])
        })?;
        // Its grants are of no use any more (its log stays for inspection).
        match session_id {
            Some(id) => grants::delete_of_session(&self.conn, &self.sql.grants, id),
            None => Ok(()),
        }
    }

    /// Every readable header, in session id order; unreadable rows are
    /// quarantined in the same transaction and reported.
    fn load_all(&self) -> Result<LoadedSessions, StoreError> {
        let fail = |e: rusqlite::Error| StoreError::backend("load_all", e);
        self.exec("BEGIN IMMEDIATE").map_err(fail)?;
        let result = self.load_all_in_transaction();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.exec(end).map_err(fail);
        let loaded = result?;
        ended?;
        for q in &loaded.quarantined {
            tracing::warn!(
                session_id = %q.session_id,
                reason = %q.reason,
                "quarantined an unreadable session row"
            );
        }
        Ok(loaded)
    }

    fn load_all_in_transaction(&self) -> Result<LoadedSessions, StoreError> {
        let fail = |e: rusqlite::Error| StoreError::backend("load_all", e);
        let contents: HashSet<String> = {
            let mut stmt = self
                .conn
                .prepare_cached(&self.sql.all_content_ids)
                .map_err(fail)?;
            let ids = stmt
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(fail)?;
            ids.collect::<rusqlite::Result<_>>().map_err(fail)?
        };
        let mut loaded = LoadedSessions::default();
        let mut bad = Vec::new();
        let mut behind = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(&self.sql.all_headers)
                .map_err(fail)?;
            let mut rows = stmt.query([]).map_err(fail)?;
            while let Some(row) = rows.next().map_err(fail)? {
                match decode_header(row, &contents).map_err(fail)? {
                    Ok(mut record) => {
                        let entries: i64 = row.get(LOG_LENGTH_COLUMN).map_err(fail)?;
                        let entries = u64::try_from(entries).unwrap_or(0);
                        if record.version < entries {
                            behind.push((record.session_id.clone(), record.version, entries));
                            record.version = entries;
                        }
                        loaded.records.push(record);
                    }
                    Err(reason) => {
                        let key: i64 = row.get(0).map_err(fail)?;
                        let session_id = describe_id(row.get_ref(1).map_err(fail)?);
                        bad.push((key, session_id, reason));
                    }
                }
            }
        }
        // The log is the truth: headers behind their logs are rebuilt.
        for (session_id, stored, entries) in behind {
            self.stmt(Some(&session_id), &self.sql.repair_header, |stmt| {
                stmt.execute([&session_id])
            })?;
            kb_store::warn_header_repaired(&session_id, stored, entries);
        }
        let now = now_millis();
        for (key, session_id, reason) in bad {
            self.quarantine(Some(&session_id), key, &reason, now)?;
            loaded.quarantined.push(QuarantinedSession {
                session_id,
                reason,
                quarantined_at: now,
            });
        }
        Ok(loaded)
    }
}

/// A version or sequence number as SQLite's integer. Only versions that
/// matched the stored log reach the database, so they are far below
/// `i64::MAX`; saturating keeps the conversion total anyway.
fn to_sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
