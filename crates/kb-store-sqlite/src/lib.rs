//! SQLite implementation of the [`SessionStore`] contract:
//! [`SqliteSessionStore`], opened with [`SqliteOptions`].
//!
//! # Layout
//!
//! * `lib.rs`: options, opening (pragmas, migrations, threads), the read
//!   side and closing.
//! * `schema`: table names, the versioned schema and its migrations,
//!   including the adoption of the reference server's database.
//! * `sql`: statement texts and the tolerant decoding of header rows.
//! * `writer`: the writer thread and its group commit.
//! * `grants`: the grants table (invitations, seat credentials).
//!
//! # Database
//!
//! With the default table name `sessions`, one file holds:
//!
//! | table | holds |
//! |---|---|
//! | `sessions` | one header per live session: `session_key` (integer, never reused), `session_id`, `dev_mode` (0/1), `created_at`, `last_accessed_at` (epoch ms), `config` (JSON text or NULL), `content_id`, `owner`, `version` |
//! | `sessions_commands` | the append-only logs: `(session_key, seq) → command`, `WITHOUT ROWID` |
//! | `sessions_checkpoints` | the latest checkpoint per session: `session_key, version, state` |
//! | `sessions_contents` | `content_id, content, registries, metadata` (JSON text) |
//! | `sessions_quarantine` | quarantined headers as they were found, with `reason` and `quarantined_at`; their logs stay under their session key |
//! | `sessions_grants` | invitations and seat credentials (schema version 2): `grant_id`, `session_id`, `kind`, `role` (seat or `spectator`), `digest` (SHA-256 of the secret, never the secret), `created_at`, `expires_at`, `used_at`, `revoked_at`, `invitation_id` |
//! | `sessions_meta` | `(namespace, key) → value`: the schema version (`store`) and [`kb_store::Write::PutMeta`] values (`app`) |
//!
//! so the owner's guide's debugging command works as written:
//!
//! ```text
//! sqlite3 data/sessions.db "SELECT session_id, dev_mode, created_at, last_accessed_at FROM sessions;"
//! ```
//!
//! The file uses WAL journaling: reads run on their own connection beside
//! the writer thread.
//!
//! # Performance
//!
//! [`SqliteSessionStore::commit_stats`] shows how commits are grouped. To
//! measure throughput, `load_all` time and bytes on disk:
//!
//! ```text
//! cargo run --release -p kb-store-sqlite --example store_bench -- --runs 3 --seconds 3
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use kb_store::{
    Checkpoint, CommitTicket, ContentRecord, GameLog, GrantRecord, LoadedSessions,
    QuarantinedSession, Scan, SessionRecord, SessionStore, StoreError, UnreadableRow, Write,
    WriterQueue,
};
use rusqlite::{Connection, OptionalExtension};

mod grants;
mod schema;
mod sql;
mod writer;

pub use schema::SCHEMA_VERSION;

use schema::Names;
use sql::{Sql, describe_id};
use writer::{Counters, Job, Writer};

/// The database file used when none is configured.
pub const DEFAULT_FILE_PATH: &str = "data/sessions.db";
/// The header table name used when none is configured.
pub const DEFAULT_TABLE_NAME: &str = "sessions";

/// How long a connection waits for a lock held by another connection
/// before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection: every statement the store runs
/// fits, so none is ever re-parsed.
const STATEMENT_CACHE: usize = 48;

/// When SQLite syncs the file to disk (`PRAGMA synchronous`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// `synchronous=NORMAL`: a commit survives a crash of the process; a
    /// power loss may lose the last commits, never corrupt the file.
    #[default]
    Normal,
    /// `synchronous=FULL`: a commit is synced to disk before `commit`
    /// returns, so it survives a power loss too.
    Full,
}

impl SyncMode {
    fn pragma_value(self) -> &'static str {
        match self {
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
        }
    }

    /// What `PRAGMA synchronous` reads back in this mode.
    fn pragma_number(self) -> i64 {
        match self {
            SyncMode::Normal => 1,
            SyncMode::Full => 2,
        }
    }
}

/// Counts of the group commit, for monitoring: the average group is
/// `batches_answered / transactions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Non-empty [`SessionStore::commit`] batches handed to the writer.
    pub batches_submitted: u64,
    /// Batches the writer has answered, committed or failed.
    pub batches_answered: u64,
    /// Write transactions the writer ran to answer them.
    pub transactions: u64,
}

/// How to open a [`SqliteSessionStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// The database file; its parent directory is created when missing.
    pub file_path: PathBuf,
    /// The header table's name (`[A-Za-z0-9_]+`); the store's other tables
    /// are named after it, so several stores can share one file.
    pub table_name: String,
    /// When commits reach the disk.
    pub sync: SyncMode,
}

impl SqliteOptions {
    /// Options for `file_path` with the default table name and sync mode.
    pub fn new(file_path: impl Into<PathBuf>) -> Self {
        Self {
            file_path: file_path.into(),
            table_name: DEFAULT_TABLE_NAME.to_owned(),
            sync: SyncMode::default(),
        }
    }

    /// The same options with another table name.
    #[must_use]
    pub fn table_name(mut self, table_name: impl Into<String>) -> Self {
        self.table_name = table_name.into();
        self
    }

    /// The same options with another sync mode.
    #[must_use]
    pub fn sync(mut self, sync: SyncMode) -> Self {
        self.sync = sync;
        self
    }
}

impl Default for SqliteOptions {
    /// `data/sessions.db`, table `sessions`, [`SyncMode::Normal`].
    fn default() -> Self {
        Self::new(DEFAULT_FILE_PATH)
    }
}

/// A [`SessionStore`] in a SQLite file. See the [crate docs](crate) for
/// its tables.
///
/// Commits go through one writer thread that groups concurrent batches
/// into one transaction; reads use a connection of their own. Dropping the
/// store closes it.
pub struct SqliteSessionStore {
    options: SqliteOptions,
    sql: Arc<Sql>,
    counters: Arc<Counters>,
    /// Queue of the writer thread; `None` once closed.
    queue: WriterQueue<Job>,
    writer: Mutex<Option<JoinHandle<rusqlite::Result<()>>>>,
    /// The read connection; `None` once closed.
    reader: Mutex<Option<Connection>>,
    /// Opened with [`SqliteSessionStore::open_read_only`]: no writer.
    read_only: bool,
}

impl fmt::Debug for SqliteSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSessionStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteSessionStore {
    /// Opens (creating when needed) the store: creates the parent directory
    /// and the file, switches it to WAL, migrates its schema to
    /// [`SCHEMA_VERSION`] and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTableName`] for a table name that is not
    /// `[A-Za-z0-9_]+`, [`StoreError::SchemaTooNew`] for a database written
    /// by a newer program, [`StoreError::Backend`] when the file cannot be
    /// opened or migrated.
    pub fn open(options: SqliteOptions) -> Result<Self, StoreError> {
        if !schema::is_valid_table_name(&options.table_name) {
            return Err(StoreError::InvalidTableName(options.table_name));
        }
        if let Some(parent) = options.file_path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::backend(
                    "open (create directory)",
                    format!("{}: {e}", parent.display()),
                )
            })?;
        }
        let names = Names::new(&options.table_name);
        let sql = Arc::new(Sql::new(&names));

        let mut write_conn = connect(&options.file_path)?;
        let journal_mode: String = write_conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| StoreError::backend("open (journal mode)", e))?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::backend(
                "open (journal mode)",
                format!("SQLite kept journal mode {journal_mode:?} instead of WAL"),
            ));
        }
        write_conn
            .pragma_update(None, "synchronous", options.sync.pragma_value())
            .map_err(|e| StoreError::backend("open (synchronous)", e))?;
        let synchronous: i64 = write_conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .map_err(|e| StoreError::backend("open (synchronous)", e))?;
        if synchronous != options.sync.pragma_number() {
            return Err(StoreError::backend(
                "open (synchronous)",
                format!(
                    "SQLite kept synchronous={synchronous} instead of {:?}",
                    options.sync
                ),
            ));
        }
        schema::migrate(&mut write_conn, &names)?;

        let read_conn = connect(&options.file_path)?;
        read_conn
            .pragma_update(None, "query_only", true)
            .map_err(|e| StoreError::backend("open (read connection)", e))?;

        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let writer = Writer::new(write_conn, Arc::clone(&sql), Arc::clone(&counters));
        let handle = std::thread::Builder::new()
            .name(format!("kb-store-sqlite-writer-{}", options.table_name))
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::backend("open (start writer thread)", e))?;

        Ok(Self {
            options,
            sql,
            counters,
            queue: WriterQueue::new(sender),
            writer: Mutex::new(Some(handle)),
            reader: Mutex::new(Some(read_conn)),
            read_only: false,
        })
    }

    /// Opens an existing database for reading only, changing nothing in it:
    /// for operators' tools that look at the database of a running server
    /// (`kingdom admin check`, `export`, `list`). Every read works; `commit`
    /// and `load_all` (which may quarantine rows) fail with
    /// [`StoreError::ReadOnly`]; [`SessionStore::scan`] lists the headers.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the file is missing or is not a session
    /// database at [`SCHEMA_VERSION`] (a read-only open cannot migrate),
    /// [`StoreError::SchemaTooNew`] for a database written by a newer
    /// program, [`StoreError::InvalidTableName`] for a bad table name.
    pub fn open_read_only(options: SqliteOptions) -> Result<Self, StoreError> {
        if !schema::is_valid_table_name(&options.table_name) {
            return Err(StoreError::InvalidTableName(options.table_name));
        }
        if !options.file_path.is_file() {
            return Err(StoreError::backend(
                "open",
                format!("{}: no such database file", options.file_path.display()),
            ));
        }
        let names = Names::new(&options.table_name);
        let read_conn = Connection::open_with_flags(
            &options.file_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            StoreError::backend("open", format!("{}: {e}", options.file_path.display()))
        })?;
        read_conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StoreError::backend("open (busy timeout)", e))?;
        read_conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::check_current(&read_conn, &names)?;
        // A queue shut from the start: nothing is ever written.
        let (sender, _) = mpsc::channel();
        let queue = WriterQueue::new(sender);
        drop(queue.shut());
        Ok(Self {
            sql: Arc::new(Sql::new(&names)),
            options,
            counters: Arc::new(Counters::default()),
            queue,
            writer: Mutex::new(None),
            reader: Mutex::new(Some(read_conn)),
            read_only: true,
        })
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &SqliteOptions {
        &self.options
    }

    /// Copies the whole database to a new file `to`, consistently, while
    /// the server may be writing it: SQLite's online backup API, copying
    /// every page in one step from one read snapshot (under WAL, reading
    /// never blocks the writer). Returns the number of pages copied.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when `to` exists, cannot be written, or the
    /// copy fails (a partial copy is removed).
    pub fn backup_to(&self, to: &Path) -> Result<u64, StoreError> {
        let fail = |e: &dyn std::fmt::Display| {
            StoreError::backend("backup", format!("{}: {e}", to.display()))
        };
        if to.exists() {
            return Err(fail(&"the file exists; back up to a new file"));
        }
        let mut destination = Connection::open(to).map_err(|e| fail(&e))?;
        let mut reader = lock(&self.reader);
        let source = reader.as_mut().ok_or(StoreError::Closed)?;
        let copied = rusqlite::backup::Backup::new(source, &mut destination)
            .and_then(|backup| {
                // Every page in one step (-1): one read snapshot.
                loop {
                    match backup.step(-1)? {
                        rusqlite::backup::StepResult::Done => break,
                        _ => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
                Ok(backup.progress().pagecount)
            })
            .and_then(|pages| destination.close().map_err(|(_, e)| e).map(|()| pages));
        drop(reader);
        match copied {
            Ok(pages) => Ok(u64::try_from(pages).unwrap_or(0)),
            Err(error) => {
                let _ = std::fs::remove_file(to);
                Err(fail(&error))
            }
        }
    }

    /// SQLite's `PRAGMA integrity_check` of the file: `["ok"]`, or the
    /// problems it found.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.read("integrity_check", None, |conn| {
            conn.prepare("PRAGMA integrity_check")?
                .query_map([], |row| row.get(0))?
                .collect()
        })
    }

    /// How commits have been grouped since the store was opened.
    pub fn commit_stats(&self) -> CommitStats {
        let counters = &self.counters;
        CommitStats {
            batches_submitted: self.queue.submitted(),
            batches_answered: counters.answered.load(Ordering::Relaxed),
            transactions: counters.transactions.load(Ordering::Relaxed),
        }
    }

    /// Runs a read on the read connection.
    fn read<T>(
        &self,
        operation: &'static str,
        session_id: Option<&str>,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut reader = lock(&self.reader);
        let conn = reader.as_mut().ok_or(StoreError::Closed)?;
        f(conn).map_err(|e| StoreError::backend_on(operation, session_id, e))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent across a panic (a connection
    // or a join handle), so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens one connection with the settings every connection needs.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::backend("open", format!("{}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| StoreError::backend("open (busy timeout)", e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl SessionStore for SqliteSessionStore {
    fn load_all(&self) -> Result<LoadedSessions, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        self.queue.call("load_all", |reply| Job::LoadAll { reply })
    }

    fn scan(&self) -> Result<Scan, StoreError> {
        let sql = &self.sql;
        self.read("scan", None, |conn| {
            // One read transaction: the content ids and the headers agree.
            let tx = conn.transaction()?;
            let contents: std::collections::HashSet<String> = tx
                .prepare_cached(&sql.all_content_ids)?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut scan = Scan::default();
            {
                let mut stmt = tx.prepare_cached(&sql.all_headers)?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    match sql::decode_header(row, &contents)? {
                        Ok(record) => scan.records.push(record),
                        Err(reason) => scan.unreadable.push(UnreadableRow {
                            session_id: describe_id(row.get_ref(1)?),
                            reason,
                        }),
                    }
                }
            }
            tx.finish()?;
            Ok(scan)
        })
    }

    fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        SessionStore::submit(self, writes).wait()
    }

    fn submit(&self, writes: Vec<Write>) -> CommitTicket {
        if self.read_only {
            return CommitTicket::ready(Err(StoreError::ReadOnly));
        }
        self.queue
            .submit(writes, |writes, reply| Job::Commit { writes, reply })
    }

    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError> {
        let sql = &self.sql;
        self.read("load_log", Some(session_id), |conn| {
            // One read transaction: the checkpoint and the tail come from
            // the same snapshot.
            let tx = conn.transaction()?;
            let key: Option<i64> = tx
                .prepare_cached(&sql.session_key)?
                .query_row([session_id], |row| row.get(0))
                .optional()?;
            let Some(key) = key else {
                return Ok(GameLog::default());
            };
            let checkpoint = tx
                .prepare_cached(&sql.checkpoint)?
                .query_row([key], |row| {
                    let version: i64 = row.get(0)?;
                    Ok(Checkpoint {
                        version: u64::try_from(version)
                            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, version))?,
                        state: row.get(1)?,
                    })
                })
                .optional()?;
            let after = checkpoint.as_ref().map_or(0, |c| c.version);
            let commands = tx
                .prepare_cached(&sql.commands_after)?
                .query_map((key, i64::try_from(after).unwrap_or(i64::MAX)), |row| {
                    row.get(0)
                })?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            tx.finish()?;
            Ok(GameLog {
                checkpoint,
                commands,
            })
        })
    }

    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError> {
        let sql = &self.sql;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read("load_commands", Some(session_id), |conn| {
            conn.prepare_cached(&sql.commands_of_session)?
                .query_map((session_id, after), |row| row.get(0))?
                .collect()
        })
    }

    fn load_grants(&self, session_id: &str) -> Result<Vec<GrantRecord>, StoreError> {
        let sql = &self.sql.grants;
        self.read("load_grants", Some(session_id), |conn| {
            conn.prepare_cached(&sql.of_session)?
                .query_map([session_id], grants::decode)?
                .collect()
        })
    }

    fn find_grant(&self, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        let sql = &self.sql.grants;
        self.read("find_grant", None, |conn| {
            conn.prepare_cached(&sql.by_digest)?
                .query_row([digest], grants::decode)
                .optional()
        })
    }

    fn load_content(&self, content_id: &str) -> Result<Option<ContentRecord>, StoreError> {
        let sql = &self.sql;
        self.read("load_content", None, |conn| {
            conn.prepare_cached(&sql.content)?
                .query_row([content_id], |row| {
                    Ok(ContentRecord {
                        content_id: content_id.to_owned(),
                        content: row.get(0)?,
                        registries: row.get(1)?,
                        metadata: row.get(2)?,
                    })
                })
                .optional()
        })
    }

    fn load_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = &self.sql;
        let decoded = self.read("load_session", Some(session_id), |conn| {
            let mut stmt = conn.prepare_cached(&sql.one_header)?;
            let mut rows = stmt.query([session_id])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let content_id: Option<String> = row.get(6).ok();
            let mut contents = std::collections::HashSet::new();
            if let Some(id) = content_id.filter(|id| !id.is_empty()) {
                let stored: Option<i64> = conn
                    .prepare_cached(&sql.content_exists)?
                    .query_row([&id], |row| row.get(0))
                    .optional()?;
                if stored.is_some() {
                    contents.insert(id);
                }
            }
            let entries: i64 = row.get(sql::LOG_LENGTH_COLUMN)?;
            let entries = u64::try_from(entries).unwrap_or(0);
            sql::decode_header(row, &contents).map(|decoded| Some((decoded, entries)))
        })?;
        let Some((decoded, entries)) = decoded else {
            return Ok(None);
        };
        let mut record = decoded
            .map_err(|reason| StoreError::backend_on("load_session", Some(session_id), reason))?;
        if record.version < entries {
            // The log is the truth: rebuild the header (a read-only store
            // only reports the log's count).
            if !self.read_only {
                let id = session_id.to_owned();
                self.queue
                    .call("load_session (repair)", |reply| Job::RepairHeader {
                        session_id: id,
                        reply,
                    })?;
            }
            kb_store::warn_header_repaired(session_id, record.version, entries);
            record.version = entries;
        }
        Ok(Some(record))
    }

    fn count_sessions(&self) -> Result<u64, StoreError> {
        let sql = &self.sql;
        let count: i64 = self.read("count_sessions", None, |conn| {
            conn.prepare_cached(&sql.count_sessions)?
                .query_row([], |row| row.get(0))
        })?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let sql = &self.sql;
        self.read("get_meta", None, |conn| {
            conn.prepare_cached(&sql.get_meta)?
                .query_row([key], |row| row.get(0))
                .optional()
        })
    }

    fn list_quarantined(&self) -> Result<Vec<QuarantinedSession>, StoreError> {
        let sql = &self.sql;
        self.read("list_quarantined", None, |conn| {
            conn.prepare_cached(&sql.quarantined)?
                .query_map([], |row| {
                    Ok(QuarantinedSession {
                        session_id: describe_id(row.get_ref(0)?),
                        reason: row.get(1)?,
                        quarantined_at: row.get(2)?,
                    })
                })?
                .collect()
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        // No new commits from here on; the queued ones still run.
        let jobs = self.queue.shut();
        let reader = lock(&self.reader).take();
        let writer = lock(&self.writer).take();
        let mut result = Ok(());
        if let Some(reader) = reader
            && let Err((_, e)) = reader.close()
        {
            result = Err(StoreError::backend("close (read connection)", e));
        }
        // Dropping the last sender lets the writer drain its queue and stop;
        // its connection closes last, which checkpoints the WAL.
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

impl Drop for SqliteSessionStore {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::warn!(%error, "closing the session store failed");
        }
    }
}
