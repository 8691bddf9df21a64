//! The database schema: table names derived from the configured schema and
//! table name, and the versioned migrations applied at open.
//!
//! Each migration moves the schema up one version inside its own
//! transaction (PostgreSQL's DDL is transactional) and records the new
//! version in the meta table, so a crash mid-way leaves the previous version
//! intact. Migrations take a transaction-scoped advisory lock named after
//! the store's tables first, so several processes opening the same store at
//! once migrate it exactly once: the others wait, then find it done.

use kb_store::StoreError;
use postgres::{Client, Transaction};

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 2;

/// The meta-table namespace of the store's own bookkeeping.
pub(crate) const STORE_NAMESPACE: &str = "store";
/// The meta-table namespace of [`kb_store::Write::PutMeta`] values, kept
/// apart so that no application key can overwrite the schema version.
pub(crate) const APP_NAMESPACE: &str = "app";
const SCHEMA_VERSION_KEY: &str = "schema_version";

/// PostgreSQL truncates identifiers longer than this many bytes
/// (`NAMEDATALEN - 1`), which could make two of a store's tables collide.
const MAX_IDENTIFIER: usize = 63;
/// The longest suffix of a store's table names.
const LONGEST_SUFFIX: &str = "_checkpoints";
/// The longest table name whose every derived table name stays whole.
pub const MAX_TABLE_NAME_LEN: usize = MAX_IDENTIFIER - LONGEST_SUFFIX.len();

const META: &str = "_meta";

/// The tables of one store, all named after its table name inside one
/// schema. The fields are qualified, quoted identifiers
/// (`"schema"."table"`), ready to splice into SQL (a valid table name may
/// start with a digit or be a reserved word).
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// The schema, unquoted.
    pub schema: String,
    /// The configured table name, unquoted.
    pub table: String,
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

impl Names {
    /// The names for a schema and a table name already validated. The
    /// schema may also be one the connection's `search_path` named, so it
    /// is quoted for any text.
    pub fn new(schema: &str, table: &str) -> Self {
        let schema_ident = quote_ident(schema);
        let qualified = |suffix: &str| format!("{schema_ident}.\"{table}{suffix}\"");
        Self {
            schema: schema.to_owned(),
            table: table.to_owned(),
            sessions: qualified(""),
            commands: qualified("_commands"),
            checkpoints: qualified("_checkpoints"),
            contents: qualified("_contents"),
            quarantine: qualified("_quarantine"),
            meta: qualified(META),
            grants: qualified("_grants"),
        }
    }

    /// The `LISTEN`/`NOTIFY` channel on which commits to this store are
    /// announced: `kb_` and a hash of the schema and table (a channel name
    /// is an identifier of at most 63 bytes; this one needs no quoting).
    pub fn channel(&self) -> String {
        // FNV-1a: the same in every process and every build.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.schema.bytes().chain([b'.']).chain(self.table.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("kb_{hash:016x}")
    }

    /// The unquoted name of the table with this suffix, as `pg_class`
    /// lists it.
    fn raw(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.table)
    }

    /// The key of the advisory lock that serializes migrations of this
    /// store (hashed to a `bigint` by the server).
    fn lock_name(&self) -> String {
        format!("kb-store-postgres migrate {}.{}", self.schema, self.table)
    }
}

/// An identifier quoted for SQL, whatever its text.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether a table name is `[A-Za-z0-9_]+` (so it can be spliced into SQL)
/// and short enough that PostgreSQL keeps every derived name whole.
pub(crate) fn is_valid_table_name(name: &str) -> bool {
    is_identifier(name) && name.len() <= MAX_TABLE_NAME_LEN
}

/// Whether a schema name is `[A-Za-z0-9_]+`, fits an identifier and is not
/// one of the names PostgreSQL reserves for itself (`pg_...`).
pub(crate) fn is_valid_schema_name(name: &str) -> bool {
    is_identifier(name)
        && name.len() <= MAX_IDENTIFIER
        && !name.to_ascii_lowercase().starts_with("pg_")
}

/// One migration: moves the schema from version `n` to `n + 1`, where `n`
/// is its index in [`MIGRATIONS`].
type Migration = fn(&mut Transaction<'_>, &Names) -> Result<(), postgres::Error>;

/// Every migration, in order. `SCHEMA_VERSION` is their number.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [v1_sessions_with_logs, v2_grants];

/// Brings the store's tables up to [`SCHEMA_VERSION`], one migration per
/// transaction, creating the schema first when `create_schema` and it is
/// missing.
pub(crate) fn migrate(
    client: &mut Client,
    names: &Names,
    create_schema: bool,
) -> Result<(), StoreError> {
    let fail = |e: postgres::Error| StoreError::backend("open (migrate)", e);
    loop {
        let mut tx = client.transaction().map_err(fail)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&names.lock_name()],
        )
        .map_err(fail)?;
        if create_schema && !schema_exists(&mut tx, &names.schema).map_err(fail)? {
            tx.batch_execute(&format!("CREATE SCHEMA {}", quote_ident(&names.schema)))
                .map_err(fail)?;
            tracing::info!(schema = %names.schema, "created the session store's schema");
        }
        let found = stored_version(&mut tx, names)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            tx.commit().map_err(fail)?;
            return Ok(());
        }
        let migration = MIGRATIONS[found as usize];
        migration(&mut tx, names)
            .and_then(|()| set_version(&mut tx, names, found + 1))
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

fn schema_exists(tx: &mut Transaction<'_>, schema: &str) -> Result<bool, postgres::Error> {
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
        &[&schema],
    )?
    .try_get(0)
}

/// Whether a relation (table, view, sequence, ...) of that name exists in
/// the store's schema.
fn relation_exists(
    tx: &mut Transaction<'_>,
    names: &Names,
    suffix: &str,
) -> Result<bool, postgres::Error> {
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2)",
        &[&names.schema, &names.raw(suffix)],
    )?
    .try_get(0)
}

/// The schema version of the store: from the meta table when it exists,
/// else 0 (no table yet). A table of the store's name that is not the
/// store's is an error, and is left alone.
fn stored_version(tx: &mut Transaction<'_>, names: &Names) -> Result<u32, StoreError> {
    let fail = |message: String| StoreError::backend("open (read schema version)", message);
    if relation_exists(tx, names, META).map_err(|e| fail(e.to_string()))? {
        let value: Option<String> = tx
            .query_opt(
                &format!(
                    "SELECT value FROM {} WHERE namespace = $1 AND key = $2",
                    names.meta
                ),
                &[&STORE_NAMESPACE, &SCHEMA_VERSION_KEY],
            )
            .and_then(|row| row.map(|row| row.try_get(0)).transpose())
            .map_err(|e| fail(e.to_string()))?;
        let value = value.ok_or_else(|| fail(format!("{} has no schema version", names.meta)))?;
        return value
            .parse()
            .map_err(|_| fail(format!("unreadable schema version {value:?}")));
    }
    if relation_exists(tx, names, "").map_err(|e| fail(e.to_string()))? {
        return Err(fail(format!(
            "{} exists but is not a session store table (it has no {} table)",
            names.sessions, names.meta
        )));
    }
    Ok(0)
}

fn set_version(
    tx: &mut Transaction<'_>,
    names: &Names,
    version: u32,
) -> Result<(), postgres::Error> {
    tx.execute(
        &format!(
            "INSERT INTO {} (namespace, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value",
            names.meta
        ),
        &[&STORE_NAMESPACE, &SCHEMA_VERSION_KEY, &version.to_string()],
    )?;
    Ok(())
}

/// Version 1: headers, command logs, checkpoints, contents, quarantine and
/// meta.
///
/// `session_id` sorts by byte (`COLLATE "C"`), so `load_all` returns ids in
/// the order Rust sorts them and reads them off the unique index. The header
/// table leaves room on each page (`fillfactor`) because every append
/// rewrites its row: the new row version can then stay on the same page
/// without touching the indexes (a HOT update). The JSON columns are `TEXT`:
/// the store keeps the exact text it was given, and `::jsonb` reads it in
/// `psql`. The store still validates what it reads and quarantines what it
/// cannot use (invalid JSON, a negative version, missing content) rather
/// than trusting the database. The quarantine's copies of the header columns
/// may all be NULL, so that they keep a row exactly as it was found.
fn v1_sessions_with_logs(tx: &mut Transaction<'_>, names: &Names) -> Result<(), postgres::Error> {
    let Names {
        sessions,
        commands,
        checkpoints,
        contents,
        quarantine,
        meta,
        ..
    } = names;
    tx.batch_execute(&format!(
        "CREATE TABLE {sessions} (
             session_key BIGSERIAL PRIMARY KEY,
             session_id TEXT COLLATE \"C\" NOT NULL UNIQUE,
             dev_mode BOOLEAN NOT NULL,
             created_at BIGINT NOT NULL,
             last_accessed_at BIGINT NOT NULL,
             config TEXT,
             content_id TEXT NOT NULL,
             owner TEXT,
             version BIGINT NOT NULL
         ) WITH (fillfactor = 80);
         CREATE TABLE {commands} (
             session_key BIGINT NOT NULL,
             seq BIGINT NOT NULL,
             command TEXT NOT NULL,
             PRIMARY KEY (session_key, seq)
         );
         CREATE TABLE {checkpoints} (
             session_key BIGINT PRIMARY KEY,
             version BIGINT NOT NULL,
             state BYTEA NOT NULL
         );
         CREATE TABLE {contents} (
             content_id TEXT PRIMARY KEY,
             content TEXT NOT NULL,
             registries TEXT NOT NULL,
             metadata TEXT NOT NULL
         );
         CREATE TABLE {quarantine} (
             quarantine_id BIGSERIAL PRIMARY KEY,
             session_key BIGINT,
             session_id TEXT,
             dev_mode BOOLEAN,
             created_at BIGINT,
             last_accessed_at BIGINT,
             config TEXT,
             content_id TEXT,
             owner TEXT,
             version BIGINT,
             reason TEXT NOT NULL,
             quarantined_at BIGINT NOT NULL
         );
         CREATE TABLE {meta} (
             namespace TEXT NOT NULL,
             key TEXT NOT NULL,
             value TEXT NOT NULL,
             PRIMARY KEY (namespace, key)
         );"
    ))
}

/// Version 2: the grants table (invitations and seat credentials). Existing
/// sessions keep everything and start with no grants.
fn v2_grants(tx: &mut Transaction<'_>, names: &Names) -> Result<(), postgres::Error> {
    tx.batch_execute(&crate::grants::create_table(&names.grants, &names.raw("")))
}
