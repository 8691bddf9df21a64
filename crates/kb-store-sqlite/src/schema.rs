//! The database schema: table names derived from the configured table name,
//! the SQL every connection runs, and the versioned migrations applied at
//! open.
//!
//! Version 0 is the reference TypeScript server's single table
//! (`session_id, created_at, last_accessed_at, dev_mode, config,
//! registries, metadata`), or no table at all. Each migration moves the
//! schema up one version inside its own transaction and records the new
//! version in the meta table, so a crash mid-way leaves the previous
//! version intact.

use std::collections::HashSet;

use kb_store::StoreError;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 2;

/// The meta-table namespace of the store's own bookkeeping.
pub(crate) const STORE_NAMESPACE: &str = "store";
/// The meta-table namespace of [`kb_store::Write::PutMeta`] values, kept
/// apart so that no application key can overwrite the schema version.
pub(crate) const APP_NAMESPACE: &str = "app";
const SCHEMA_VERSION_KEY: &str = "schema_version";

/// The tables of one store, all named after its table name. The fields are
/// quoted identifiers, ready to splice into SQL (a valid table name may
/// start with a digit); [`Names::raw`] gives a name as `sqlite_schema`
/// lists it.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    table: String,
    /// Session headers: exactly the configured table name.
    pub sessions: String,
    pub commands: String,
    pub checkpoints: String,
    pub contents: String,
    pub quarantine: String,
    pub meta: String,
    /// Invitations and seat credentials (version 2).
    pub grants: String,
}

const META: &str = "_meta";

impl Names {
    /// The names for a table name already checked with
    /// [`is_valid_table_name`].
    pub fn new(table: &str) -> Self {
        let quoted = |suffix: &str| format!("\"{table}{suffix}\"");
        Self {
            table: table.to_owned(),
            sessions: quoted(""),
            commands: quoted("_commands"),
            checkpoints: quoted("_checkpoints"),
            contents: quoted("_contents"),
            quarantine: quoted("_quarantine"),
            meta: quoted(META),
            grants: quoted("_grants"),
        }
    }

    /// The unquoted name of the table with this suffix.
    fn raw(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.table)
    }
}

/// Whether a table name is `[A-Za-z0-9_]+`, so it can be spliced into SQL,
/// and not one of the names SQLite reserves (`sqlite_...`).
pub(crate) fn is_valid_table_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.to_ascii_lowercase().starts_with("sqlite_")
}

/// One migration: moves the schema from version `n` to `n + 1`, where `n`
/// is its index in [`MIGRATIONS`].
type Migration = fn(&Transaction<'_>, &Names) -> rusqlite::Result<()>;

/// Every migration, in order. `SCHEMA_VERSION` is their number.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [v1_sessions_with_logs, v2_grants];

/// Brings the database up to [`SCHEMA_VERSION`], one migration per
/// transaction. Several processes opening at once are fine: each migration
/// re-reads the version under the write lock.
pub(crate) fn migrate(conn: &mut Connection, names: &Names) -> Result<(), StoreError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::backend("open (migrate)", e))?;
        let found = stored_version(&tx, names)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let migration = MIGRATIONS[found as usize];
        migration(&tx, names)
            .and_then(|()| set_version(&tx, names, found + 1))
            .and_then(|()| tx.commit())
            .map_err(|e| {
                StoreError::backend(
                    "open (migrate)",
                    format!("migration to schema version {}: {e}", found + 1),
                )
            })?;
        tracing::info!(
            table = %names.sessions,
            from = found,
            to = found + 1,
            "migrated the session store schema"
        );
    }
}

/// The schema version of the database: from the meta table when it
/// exists, else 0 (no table, or the reference server's table).
fn stored_version(tx: &Connection, names: &Names) -> Result<u32, StoreError> {
    let fail = |message: String| StoreError::backend("open (read schema version)", message);
    if table_exists(tx, &names.raw(META)).map_err(|e| fail(e.to_string()))? {
        let value: Option<String> = tx
            .query_row(
                &format!(
                    "SELECT value FROM {} WHERE namespace = ?1 AND key = ?2",
                    names.meta
                ),
                (STORE_NAMESPACE, SCHEMA_VERSION_KEY),
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| fail(e.to_string()))?;
        let value = value.ok_or_else(|| fail(format!("{} has no schema version", names.meta)))?;
        return value
            .parse()
            .map_err(|_| fail(format!("unreadable schema version {value:?}")));
    }
    if table_exists(tx, &names.raw("")).map_err(|e| fail(e.to_string()))?
        && legacy_config_column(tx, &names.raw(""))
            .map_err(|e| fail(e.to_string()))?
            .is_none()
    {
        return Err(fail(format!(
            "table {} exists but is neither a session store table nor the reference server's",
            names.sessions
        )));
    }
    Ok(0)
}

/// Checks, without changing anything, that the database holds the store's
/// tables at [`SCHEMA_VERSION`] (for a read-only open, which cannot
/// migrate).
pub(crate) fn check_current(conn: &Connection, names: &Names) -> Result<(), StoreError> {
    if !table_exists(conn, &names.raw(META))
        .map_err(|e| StoreError::backend("open (read schema version)", e))?
    {
        return Err(StoreError::backend(
            "open (read schema version)",
            format!(
                "the database holds no session store (no table {})",
                names.meta
            ),
        ));
    }
    match stored_version(conn, names)? {
        found if found > SCHEMA_VERSION => Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        }),
        SCHEMA_VERSION => Ok(()),
        found => Err(StoreError::backend(
            "open (read schema version)",
            format!(
                "schema version {found} is older than {SCHEMA_VERSION}: \
                 start `kingdom serve` on it once to migrate it"
            ),
        )),
    }
}

fn set_version(tx: &Transaction<'_>, names: &Names, version: u32) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {} (namespace, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            names.meta
        ),
        (STORE_NAMESPACE, SCHEMA_VERSION_KEY, version.to_string()),
    )?;
    Ok(())
}

pub(crate) fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        [name],
        |row| row.get(0),
    )
}

/// When `table` has the reference server's layout, the name of its config
/// column (`config`, or `config_json` in its sibling variant).
fn legacy_config_column(conn: &Connection, table: &str) -> rusqlite::Result<Option<&'static str>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let columns = stmt
        .query_map([table], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<HashSet<String>>>()?;
    let required = ["session_id", "created_at", "last_accessed_at", "dev_mode"];
    if !required.iter().all(|c| columns.contains(*c)) {
        return Ok(None);
    }
    Ok(["config", "config_json"]
        .into_iter()
        .find(|c| columns.contains(*c)))
}

/// Version 1: headers, command logs, checkpoints, contents, quarantine and
/// meta. Adopts the reference server's rows, if any: each becomes a session
/// at version 0 with the empty content id (to be rebuilt from its `config`
/// and `dev_mode`, as the reference itself did on restart), keeping its
/// timestamps, dev mode and config. Its registries and metadata were
/// derived data and are not kept.
fn v1_sessions_with_logs(tx: &Transaction<'_>, names: &Names) -> rusqlite::Result<()> {
    let Names {
        sessions,
        commands,
        checkpoints,
        contents,
        quarantine,
        meta,
        ..
    } = names;
    let legacy = format!("\"{}\"", names.raw("_reference_v0"));
    let legacy_config = if table_exists(tx, &names.raw(""))? {
        let column = legacy_config_column(tx, &names.raw(""))?;
        tx.execute_batch(&format!("ALTER TABLE {sessions} RENAME TO {legacy}"))?;
        column
    } else {
        None
    };
    // Column types are affinities only: the store validates what it reads
    // and quarantines what it cannot, rather than trusting the file. The
    // quarantine's copies of the header columns have no type at all, so
    // that they keep a corrupt value exactly as it was found.
    tx.execute_batch(&format!(
        "CREATE TABLE {sessions} (
             session_key INTEGER PRIMARY KEY AUTOINCREMENT,
             session_id TEXT UNIQUE,
             dev_mode INTEGER,
             created_at INTEGER,
             last_accessed_at INTEGER,
             config TEXT,
             content_id TEXT,
             owner TEXT,
             version INTEGER
         );
         CREATE TABLE {commands} (
             session_key INTEGER NOT NULL,
             seq INTEGER NOT NULL,
             command TEXT NOT NULL,
             PRIMARY KEY (session_key, seq)
         ) WITHOUT ROWID;
         CREATE TABLE {checkpoints} (
             session_key INTEGER PRIMARY KEY,
             version INTEGER NOT NULL,
             state BLOB NOT NULL
         );
         CREATE TABLE {contents} (
             content_id TEXT PRIMARY KEY NOT NULL,
             content TEXT NOT NULL,
             registries TEXT NOT NULL,
             metadata TEXT NOT NULL
         );
         CREATE TABLE {quarantine} (
             quarantine_id INTEGER PRIMARY KEY AUTOINCREMENT,
             session_key INTEGER,
             session_id,
             dev_mode,
             created_at,
             last_accessed_at,
             config,
             content_id,
             owner,
             version,
             reason TEXT NOT NULL,
             quarantined_at INTEGER NOT NULL
         );
         CREATE TABLE {meta} (
             namespace TEXT NOT NULL,
             key TEXT NOT NULL,
             value TEXT NOT NULL,
             PRIMARY KEY (namespace, key)
         ) WITHOUT ROWID;"
    ))?;
    if let Some(config) = legacy_config {
        tx.execute_batch(&format!(
            "INSERT INTO {sessions}
                 (session_id, dev_mode, created_at, last_accessed_at, config,
                  content_id, owner, version)
             SELECT session_id, dev_mode, created_at, last_accessed_at, {config},
                    '', NULL, 0
             FROM {legacy} ORDER BY session_id;
             DROP TABLE {legacy};"
        ))?;
    }
    Ok(())
}

/// Version 2: the grants table (invitations and seat credentials). Existing
/// sessions keep everything and start with no grants.
fn v2_grants(tx: &Transaction<'_>, names: &Names) -> rusqlite::Result<()> {
    tx.execute_batch(&crate::grants::create_table(&names.grants, &names.raw("")))
}
