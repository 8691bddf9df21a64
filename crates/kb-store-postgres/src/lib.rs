//! PostgreSQL implementation of the [`SessionStore`] contract:
//! [`PostgresSessionStore`], opened with [`PostgresOptions`], so that several
//! server processes can share one database.
//!
//! # Layout
//!
//! * `lib.rs`: options, opening, the read side and closing.
//! * `connection`: connecting, prepared statements, reconnecting.
//! * `schema`: table names, the versioned schema and its migrations.
//! * `sql`: statement texts (and why each is race-free across processes),
//!   and the tolerant decoding of header rows.
//! * `writer`: the writer thread and its group commit.
//! * `grants`: the grants table (invitations, seat credentials).
//!
//! # Database
//!
//! With the default table name `sessions`, the store's schema (by default
//! the first existing schema of the connection's `search_path`, usually
//! `public`) holds:
//!
//! | table | holds |
//! |---|---|
//! | `sessions` | one header per live session: `session_key` (`BIGSERIAL`, never reused), `session_id` (`TEXT COLLATE "C"`, unique), `dev_mode` (`BOOLEAN`), `created_at`, `last_accessed_at` (`BIGINT` epoch ms), `config` (JSON `TEXT` or NULL), `content_id`, `owner`, `version` (`BIGINT`) |
//! | `sessions_commands` | the append-only logs: `(session_key, seq)` primary key → `command` (`TEXT`) |
//! | `sessions_checkpoints` | the latest checkpoint per session: `session_key` → `version`, `state` (`BYTEA`) |
//! | `sessions_contents` | `content_id` → `content`, `registries`, `metadata` (JSON `TEXT`) |
//! | `sessions_quarantine` | quarantined headers as they were found, with `reason` and `quarantined_at`; their logs stay under their session key |
//! | `sessions_grants` | invitations and seat credentials (schema version 2): `grant_id`, `session_id`, `kind`, `role` (seat or `spectator`), `digest` (SHA-256 of the secret, never the secret), `created_at`, `expires_at`, `used_at`, `revoked_at`, `invitation_id` |
//! | `sessions_meta` | `(namespace, key)` → `value`: the schema version (`store`) and [`kb_store::Write::PutMeta`] values (`app`) |
//!
//! so the owner's guide's debugging query works as written:
//!
//! ```text
//! psql "$DATABASE_URL" -c "SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions;"
//! ```
//!
//! # Several processes
//!
//! Every process opens its own store on the same tables. Opening migrates
//! the schema once, under an advisory lock. Appends carry the version they
//! expect and the statement that writes checks it, so of two processes
//! appending to one session exactly one succeeds and the other gets
//! [`StoreError::Conflict`]; no command number can be stored twice; an idle
//! purge ([`kb_store::Write::DeleteIfIdle`]) compares the last access time in
//! the statement that deletes, so it spares a session another process used
//! meanwhile. The `sql` module lists each statement's guarantee.
//!
//! # Group commit
//!
//! Commits go through one writer thread per store, which applies every
//! batch queued while the previous transaction ran in one transaction; a
//! failing batch is rolled back alone (a savepoint guards each batch of
//! several writes) and the others commit. A group that PostgreSQL picked as
//! a deadlock victim, or whose connection was lost before its `COMMIT`, is
//! tried again.
//! [`PostgresSessionStore::commit_stats`] shows how commits are grouped.
//! Reads use a small pool of connections of their own
//! ([`PostgresOptions::read_connections`]). To measure throughput and `load_all`:
//!
//! ```text
//! cargo run --release -p kb-store-postgres --example store_bench -- --runs 3 --seconds 3
//! ```

#![deny(missing_docs)]

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use kb_store::{
    Checkpoint, CommitTicket, ContentRecord, GameLog, LoadedSessions, QuarantinedSession, Scan,
    SessionRecord, SessionStore, StoreError, UnreadableRow, Write, WriterQueue,
};

mod backoff;
mod connection;
mod grants;
mod schema;
mod sql;
mod writer;

pub use connection::{DEFAULT_APPLICATION_NAME, WRITER_LOCK_TIMEOUT};
pub use schema::{MAX_TABLE_NAME_LEN, SCHEMA_VERSION};

use connection::{Connection, Role, describe, parse_config};
use schema::Names;
use sql::{LOG_LENGTH_COLUMN, RawHeader, Sql};
use writer::{Candidate, Counters, Job, Rechecked, Writer};

/// Read connections a store opens by default: reads (every request of a
/// shared server reads a header) run in parallel up to this many.
pub const DEFAULT_READ_CONNECTIONS: usize = 4;

/// The header table name used when none is configured.
pub const DEFAULT_TABLE_NAME: &str = "sessions";

/// Counts of the group commit, for monitoring: the average group is
/// `batches_answered / transactions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Non-empty [`SessionStore::commit`] batches handed to the writer.
    pub batches_submitted: u64,
    /// Batches the writer has answered, committed or failed.
    pub batches_answered: u64,
    /// Write transactions the writer began to answer them (a group tried
    /// again counts again).
    pub transactions: u64,
    /// Groups tried again after a deadlock with another process or a lost
    /// connection.
    pub retries: u64,
}

/// How to open a [`PostgresSessionStore`].
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The server to connect to: a libpq-style connection string
    /// (`host=127.0.0.1 user=kb dbname=kingdom`) or a `postgres://` URL.
    /// TLS is not supported; the store's connections are named
    /// [`DEFAULT_APPLICATION_NAME`] unless it sets `application_name`, and
    /// the writer waits at most [`WRITER_LOCK_TIMEOUT`] for a row lock
    /// unless it sets `lock_timeout` (`options='-c lock_timeout=30s'`).
    pub url: String,
    /// The header table's name (`[A-Za-z0-9_]+`, at most
    /// [`MAX_TABLE_NAME_LEN`] bytes); the store's other tables are named
    /// after it, so several stores can share one schema.
    pub table_name: String,
    /// The schema holding the tables (`[A-Za-z0-9_]+`, not `pg_...`),
    /// created when missing; `None` for the first existing schema of the
    /// connection's `search_path`, resolved once at open.
    pub schema: Option<String>,
    /// Read connections, used in parallel by concurrent reads (at least
    /// one); default [`DEFAULT_READ_CONNECTIONS`].
    pub read_connections: usize,
}

impl PostgresOptions {
    /// Options for `url` with the default table name and schema.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            table_name: DEFAULT_TABLE_NAME.to_owned(),
            schema: None,
            read_connections: DEFAULT_READ_CONNECTIONS,
        }
    }

    /// The same options with another number of read connections.
    #[must_use]
    pub fn read_connections(mut self, count: usize) -> Self {
        self.read_connections = count;
        self
    }

    /// The same options with another table name.
    #[must_use]
    pub fn table_name(mut self, table_name: impl Into<String>) -> Self {
        self.table_name = table_name.into();
        self
    }

    /// The same options with an explicit schema.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

impl fmt::Debug for PostgresOptions {
    /// Shows where the options point, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = parse_config(&self.url).map_or_else(
            |_| "<unparsable connection string>".to_owned(),
            |c| describe(&c),
        );
        f.debug_struct("PostgresOptions")
            .field("url", &server)
            .field("table_name", &self.table_name)
            .field("schema", &self.schema)
            .finish()
    }
}

/// A [`SessionStore`] in a PostgreSQL database. See the [crate docs](crate)
/// for its tables and how several processes share them.
///
/// Commits go through one writer thread with a connection of its own that
/// groups concurrent batches into one transaction; reads use a few others
/// connection. Either reconnects after the server dropped it. Dropping the
/// store closes it.
pub struct PostgresSessionStore {
    options: PostgresOptions,
    schema: String,
    sql: Arc<Sql>,
    counters: Arc<Counters>,
    /// Queue of the writer thread; `None` once closed.
    queue: WriterQueue<Job>,
    writer: Mutex<Option<JoinHandle<Result<(), postgres::Error>>>>,
    /// The read connections; `None` once closed.
    readers: Vec<Mutex<Option<Connection>>>,
    /// Where a read waits when every read connection is busy.
    next_reader: AtomicUsize,
    /// The server, for the listening connection.
    config: postgres::Config,
    /// The channel commits are announced on (see [`SessionStore::watch_changes`]).
    channel: String,
    /// The listening thread, once started, and its stop flag.
    listener: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

impl fmt::Debug for PostgresSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSessionStore")
            .field("options", &self.options)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// A readable header row and the length of its log.
type Scanned = (SessionRecord, u64);

/// A read that failed.
enum ReadFailure {
    Database(postgres::Error),
    /// A stored value the store cannot use.
    Unreadable(String),
}

impl From<postgres::Error> for ReadFailure {
    fn from(error: postgres::Error) -> Self {
        ReadFailure::Database(error)
    }
}

impl PostgresSessionStore {
    /// Opens the store: connects (the writer and the readers), creates the
    /// schema when one is configured and missing, migrates the tables to
    /// [`SCHEMA_VERSION`] and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTableName`] for a table or schema name that is
    /// not valid (checked before connecting), [`StoreError::SchemaTooNew`]
    /// for tables written by a newer program, [`StoreError::Backend`] when
    /// the server cannot be reached or the tables cannot be migrated (for
    /// example a foreign table already has the store's name).
    pub fn open(options: PostgresOptions) -> Result<Self, StoreError> {
        if !schema::is_valid_table_name(&options.table_name) {
            return Err(StoreError::InvalidTableName(options.table_name));
        }
        if let Some(schema) = &options.schema
            && !schema::is_valid_schema_name(schema)
        {
            return Err(StoreError::InvalidTableName(schema.clone()));
        }
        let config = parse_config(&options.url)
            .map_err(|e| StoreError::backend("open (connection string)", e))?;
        let connect = |role: Role| {
            Connection::open(&config, role).map_err(|e| {
                StoreError::backend(
                    "open (connect)",
                    format!("{role:?} connection to {}: {e}", describe(&config)),
                )
            })
        };

        let mut write_conn = connect(Role::Write)?;
        let schema = match &options.schema {
            Some(schema) => schema.clone(),
            None => current_schema(&mut write_conn)?,
        };
        let names = Names::new(&schema, &options.table_name);
        schema::migrate(write_conn.client(), &names, options.schema.is_some())?;
        let sql = Arc::new(Sql::new(&names));
        let readers = (0..options.read_connections.max(1))
            .map(|_| connect(Role::Read).map(|conn| Mutex::new(Some(conn))))
            .collect::<Result<Vec<_>, _>>()?;

        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let writer = Writer::new(write_conn, Arc::clone(&sql), Arc::clone(&counters));
        let handle = std::thread::Builder::new()
            .name(format!("kb-store-postgres-writer-{}", options.table_name))
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::backend("open (start writer thread)", e))?;

        Ok(Self {
            options,
            schema,
            sql,
            counters,
            queue: WriterQueue::new(sender),
            writer: Mutex::new(Some(handle)),
            readers,
            next_reader: AtomicUsize::new(0),
            config,
            channel: names.channel(),
            listener: Mutex::new(None),
        })
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }

    /// The schema holding the store's tables: the configured one, or the
    /// one the connection's `search_path` gave at open.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// How commits have been grouped since the store was opened.
    pub fn commit_stats(&self) -> CommitStats {
        let counters = &self.counters;
        CommitStats {
            batches_submitted: self.queue.submitted(),
            batches_answered: counters.answered.load(Ordering::Relaxed),
            transactions: counters.transactions.load(Ordering::Relaxed),
            retries: counters.retries.load(Ordering::Relaxed),
        }
    }

    /// A free read connection, or (all busy) the next one in turn.
    fn free_reader(&self) -> MutexGuard<'_, Option<Connection>> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return guard;
            }
        }
        let next = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[next])
    }

    /// Runs a read on a read connection, reconnecting (once) when the
    /// server dropped it: reads are safe to repeat.
    fn read<T>(
        &self,
        operation: &'static str,
        session_id: Option<&str>,
        mut f: impl FnMut(&mut Connection) -> Result<T, ReadFailure>,
    ) -> Result<T, StoreError> {
        let mut reader = self.free_reader();
        let conn = reader.as_mut().ok_or(StoreError::Closed)?;
        let mut reconnected = false;
        loop {
            conn.ensure_open()
                .map_err(|e| StoreError::backend_on(operation, session_id, e))?;
            match f(conn) {
                Ok(value) => return Ok(value),
                Err(ReadFailure::Database(_)) if conn.is_closed() && !reconnected => {
                    reconnected = true;
                }
                Err(ReadFailure::Database(e)) => {
                    return Err(StoreError::backend_on(operation, session_id, e));
                }
                Err(ReadFailure::Unreadable(reason)) => {
                    return Err(StoreError::backend_on(operation, session_id, reason));
                }
            }
        }
    }

    /// Every header row: the readable ones, in session id order, each with
    /// the length of its log, and the keys of the others.
    fn scan_headers(&self) -> Result<(Vec<Scanned>, Vec<Candidate>), StoreError> {
        let sql = &self.sql;
        self.read("load_all", None, |conn| {
            let statement = conn.prepared(&sql.all_headers)?;
            let mut rows = conn
                .client()
                .query_raw(&statement, std::iter::empty::<i64>())?;
            let mut records = Vec::new();
            let mut unreadable = Vec::new();
            while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
                let raw = RawHeader::read(&row)?;
                match raw.decode(row.try_get(9)?) {
                    Ok(record) => {
                        let entries = unsigned("log length", row.try_get(LOG_LENGTH_COLUMN)?)?;
                        records.push((record, entries));
                    }
                    Err(reason) => unreadable.push(Candidate {
                        key: raw.key,
                        session_id: raw.describe_id(),
                        reason,
                    }),
                }
            }
            Ok((records, unreadable))
        })
    }
}

/// The first existing schema of the connection's `search_path`.
fn current_schema(conn: &mut Connection) -> Result<String, StoreError> {
    let fail = |e: &dyn fmt::Display| StoreError::backend("open (current schema)", e.to_string());
    let schema: Option<String> = conn
        .client()
        .query_one("SELECT current_schema()", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| fail(&e))?;
    schema.ok_or_else(|| {
        fail(&"no schema of the connection's search_path exists: create one, or set PostgresOptions::schema")
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent across a panic (a connection or a
    // join handle), so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unsigned(what: &str, value: i64) -> Result<u64, ReadFailure> {
    u64::try_from(value).map_err(|_| ReadFailure::Unreadable(format!("{what} {value} is negative")))
}

impl SessionStore for PostgresSessionStore {
    fn load_all(&self) -> Result<LoadedSessions, StoreError> {
        let (scanned, unreadable) = self.scan_headers()?;
        let mut behind = Vec::new();
        let mut records: Vec<SessionRecord> = scanned
            .into_iter()
            .map(|(mut record, entries)| {
                if record.version < entries {
                    behind.push((record.session_id.clone(), record.version, entries));
                    record.version = entries;
                }
                record
            })
            .collect();
        if !behind.is_empty() {
            let session_ids = behind.iter().map(|(id, ..)| id.clone()).collect();
            self.queue
                .call("load_all (repair headers)", |reply| Job::RepairHeaders {
                    session_ids,
                    reply,
                })?;
            for (session_id, stored, entries) in &behind {
                kb_store::warn_header_repaired(session_id, *stored, *entries);
            }
        }
        let mut quarantined = Vec::new();
        if !unreadable.is_empty() {
            let rechecked = self.queue.call("load_all", |reply| Job::Quarantine {
                candidates: unreadable,
                reply,
            })?;
            let mut repaired = false;
            for outcome in rechecked {
                match outcome {
                    Rechecked::Moved(q) => quarantined.push(q),
                    Rechecked::Readable(record) => {
                        records.push(record);
                        repaired = true;
                    }
                    Rechecked::Gone => {}
                }
            }
            if repaired {
                records.sort_by(|a, b| a.session_id.cmp(&b.session_id));
            }
        }
        Ok(LoadedSessions {
            records,
            quarantined,
        })
    }

    fn scan(&self) -> Result<Scan, StoreError> {
        let (records, unreadable) = self.scan_headers()?;
        Ok(Scan {
            records: records.into_iter().map(|(record, _)| record).collect(),
            unreadable: unreadable
                .into_iter()
                .map(|candidate| UnreadableRow {
                    session_id: candidate.session_id,
                    reason: candidate.reason,
                })
                .collect(),
        })
    }

    fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        SessionStore::submit(self, writes).wait()
    }

    fn submit(&self, writes: Vec<Write>) -> CommitTicket {
        self.queue
            .submit(writes, |writes, reply| Job::Commit { writes, reply })
    }

    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError> {
        let sql = &self.sql;
        self.read("load_log", Some(session_id), |conn| {
            let statement = conn.prepared(&sql.game_log)?;
            let mut log = GameLog::default();
            for row in conn.client().query(&statement, &[&session_id])? {
                let seq: Option<i64> = row.try_get(0)?;
                if seq.is_some() {
                    log.commands.push(row.try_get(3)?);
                } else {
                    log.checkpoint = Some(Checkpoint {
                        version: unsigned("checkpoint version", row.try_get(1)?)?,
                        state: row.try_get(2)?,
                    });
                }
            }
            Ok(log)
        })
    }

    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError> {
        let sql = &self.sql;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read("load_commands", Some(session_id), |conn| {
            let statement = conn.prepared(&sql.commands_of_session)?;
            let rows = conn.client().query(&statement, &[&session_id, &after])?;
            Ok(rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }

    fn load_grants(&self, session_id: &str) -> Result<Vec<kb_store::GrantRecord>, StoreError> {
        let sql = &self.sql.grants;
        self.read("load_grants", Some(session_id), |conn| {
            let statement = conn.prepared(&sql.of_session)?;
            let rows = conn.client().query(&statement, &[&session_id])?;
            rows.iter()
                .map(|row| grants::decode(row).map_err(ReadFailure::Unreadable))
                .collect()
        })
    }

    fn find_grant(&self, digest: &str) -> Result<Option<kb_store::GrantRecord>, StoreError> {
        let sql = &self.sql.grants;
        self.read("find_grant", None, |conn| {
            let statement = conn.prepared(&sql.by_digest)?;
            let Some(row) = conn.client().query_opt(&statement, &[&digest])? else {
                return Ok(None);
            };
            grants::decode(&row)
                .map(Some)
                .map_err(ReadFailure::Unreadable)
        })
    }

    fn load_content(&self, content_id: &str) -> Result<Option<ContentRecord>, StoreError> {
        let sql = &self.sql;
        self.read("load_content", None, |conn| {
            let statement = conn.prepared(&sql.content)?;
            let Some(row) = conn.client().query_opt(&statement, &[&content_id])? else {
                return Ok(None);
            };
            Ok(Some(ContentRecord {
                content_id: content_id.to_owned(),
                content: row.try_get(0)?,
                registries: row.try_get(1)?,
                metadata: row.try_get(2)?,
            }))
        })
    }

    fn load_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = &self.sql;
        let found = self.read("load_session", Some(session_id), |conn| {
            let statement = conn.prepared(&sql.one_header)?;
            let Some(row) = conn.client().query_opt(&statement, &[&session_id])? else {
                return Ok(None);
            };
            let raw = RawHeader::read(&row)?;
            let record = raw
                .decode(row.try_get(9)?)
                .map_err(ReadFailure::Unreadable)?;
            let entries = unsigned("log length", row.try_get(LOG_LENGTH_COLUMN)?)?;
            Ok(Some((record, entries)))
        })?;
        let Some((mut record, entries)) = found else {
            return Ok(None);
        };
        if record.version < entries {
            let session_ids = vec![session_id.to_owned()];
            self.queue
                .call("load_session (repair header)", |reply| Job::RepairHeaders {
                    session_ids,
                    reply,
                })?;
            kb_store::warn_header_repaired(session_id, record.version, entries);
            record.version = entries;
        }
        Ok(Some(record))
    }

    fn count_sessions(&self) -> Result<u64, StoreError> {
        let sql = &self.sql;
        self.read("count_sessions", None, |conn| {
            let statement = conn.prepared(&sql.count_sessions)?;
            let count: i64 = conn.client().query_one(&statement, &[])?.try_get(0)?;
            unsigned("count", count)
        })
    }

    fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let sql = &self.sql;
        self.read("get_meta", None, |conn| {
            let statement = conn.prepared(&sql.get_meta)?;
            let row = conn.client().query_opt(&statement, &[&key])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }

    fn list_quarantined(&self) -> Result<Vec<QuarantinedSession>, StoreError> {
        let sql = &self.sql;
        self.read("list_quarantined", None, |conn| {
            let statement = conn.prepared(&sql.quarantined)?;
            let rows = conn.client().query(&statement, &[])?;
            let list = rows
                .iter()
                .map(|row| {
                    Ok(QuarantinedSession {
                        session_id: row.try_get(0)?,
                        reason: row.try_get(1)?,
                        quarantined_at: row.try_get(2)?,
                    })
                })
                .collect::<Result<_, postgres::Error>>()?;
            Ok(list)
        })
    }

    fn watch_changes(&self, on_change: kb_store::OnChange) -> bool {
        let mut listener = lock(&self.listener);
        if listener.is_some() {
            return true;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (config, channel) = (self.config.clone(), self.channel.clone());
        let stopping = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name(format!(
                "kb-store-postgres-listen-{}",
                self.options.table_name
            ))
            .spawn(move || listen(&config, &channel, &stopping, &on_change));
        match spawned {
            Ok(handle) => {
                *listener = Some((stop, handle));
                true
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start the PostgreSQL listener; followers poll");
                false
            }
        }
    }

    fn close(&self) -> Result<(), StoreError> {
        if let Some((stop, handle)) = lock(&self.listener).take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
        // No new commits from here on; the queued ones still run.
        let jobs = self.queue.shut();
        let readers: Vec<Connection> = self
            .readers
            .iter()
            .filter_map(|reader| lock(reader).take())
            .collect();
        let writer = lock(&self.writer).take();
        let mut result = Ok(());
        for reader in readers {
            // A read connection holds nothing to flush: one the server had
            // already dropped (a restart since it was last used) is closed.
            if !reader.is_closed()
                && let Err(e) = reader.close()
                && !e.is_closed()
            {
                result = Err(StoreError::backend("close (read connection)", e));
            }
        }
        // Dropping the last sender lets the writer drain its queue and stop.
        drop(jobs);
        if let Some(writer) = writer {
            let stopped = match writer.join() {
                Ok(closed) => closed.map_err(|e| StoreError::backend("close", e)),
                Err(_) => Err(StoreError::backend("close", "the writer thread panicked")),
            };
            result = result.and(stopped);
        }
        result
    }
}

impl Drop for PostgresSessionStore {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::warn!(%error, "closing the session store failed");
        }
    }
}

/// How long the listening thread waits for a notification before it looks
/// at its stop flag.
const LISTEN_TICK: Duration = Duration::from_millis(250);

/// The listening thread: `LISTEN`s on `channel` and passes every
/// notification to `on_change` until `stop` is set, reconnecting (and
/// telling `on_change` that it may have missed some) after the server
/// dropped it.
fn listen(
    config: &postgres::Config,
    channel: &str,
    stop: &AtomicBool,
    on_change: &kb_store::OnChange,
) {
    use postgres::fallible_iterator::FallibleIterator;

    let mut failing = false;
    while !stop.load(Ordering::Relaxed) {
        let connected = Connection::open(config, Role::Read).and_then(|mut conn| {
            conn.client().batch_execute(&format!("LISTEN {channel}"))?;
            Ok(conn)
        });
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "the PostgreSQL listener cannot connect; followers poll meanwhile");
                    failing = true;
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if failing {
            tracing::info!("the PostgreSQL listener is connected again");
            failing = false;
        }
        // Whatever was committed before the LISTEN took effect.
        on_change(None);
        while !stop.load(Ordering::Relaxed) {
            let error = {
                let mut notifications = conn.client().notifications();
                let mut batch = notifications.timeout_iter(LISTEN_TICK);
                loop {
                    match batch.next() {
                        Ok(Some(notification)) => {
                            if let Some((id, version)) = notification.payload().rsplit_once(' ')
                                && let Ok(version) = version.parse::<u64>()
                            {
                                on_change(Some((id, version)));
                            }
                        }
                        Ok(None) => break None,
                        Err(error) => break Some(error),
                    }
                }
            };
            if let Some(error) = error {
                tracing::warn!(%error, "the PostgreSQL listener lost its connection");
                break;
            }
            if conn.is_closed() {
                break;
            }
        }
    }
}
