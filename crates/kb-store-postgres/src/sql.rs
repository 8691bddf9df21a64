//! The SQL text of every statement the store runs, built once per store from
//! its table names (each connection prepares a text once and reuses it), and
//! the decoding of header rows, which tolerates whatever an operator or a
//! damaged database may have left in a row.
//!
//! # Concurrency
//!
//! Several processes write the same tables under PostgreSQL's default READ
//! COMMITTED isolation, so every check that guards a write is made by the
//! statement that writes, never by an earlier read:
//!
//! * an append moves the version with `UPDATE … WHERE version = $expected`
//!   and inserts its commands in the same statement:
//!   a concurrent writer of the same row makes it wait, then re-evaluate the
//!   condition on the row as that writer left it, so exactly one of two
//!   racing appends updates a row and the other sees no row: a conflict;
//! * commands are keyed `(session_key, seq)`, so no command number can be
//!   written twice even by a statement that got past the version check;
//! * saving a new session is an `INSERT … ON CONFLICT (session_id) DO UPDATE
//!   … WHERE version = 0`: two processes creating one id never make two
//!   rows or a unique-key error, and neither can reset a log another one has
//!   started;
//! * an idle purge is one `DELETE … WHERE last_accessed_at < $cutoff`,
//!   re-evaluated on the latest row, so a session another process touched
//!   in the meantime survives;
//! * moving a row into quarantine is one statement (`DELETE … RETURNING`
//!   feeding an `INSERT`), so two processes cannot both move it.
//!
//! Deleting a session's log and checkpoint runs as separate statements
//! after its header is deleted: each READ COMMITTED statement sees what
//! committed before it started, including commands a racing append
//! committed while the header delete waited for its row lock.

use kb_store::SessionRecord;
use postgres::Row;

use crate::schema::{APP_NAMESPACE, Names};

/// The header columns, in the order [`RawHeader::read`] reads them, for a
/// query on the header table aliased `s`. Header queries add whether the
/// content is stored (column 9) and the log's length
/// ([`LOG_LENGTH_COLUMN`]).
const HEADER_COLUMNS: &str = "s.session_key, s.session_id, s.dev_mode, s.created_at, \
                              s.last_accessed_at, s.config, s.content_id, s.owner, s.version";
/// The index of the log-length column of a header query.
pub(crate) const LOG_LENGTH_COLUMN: usize = 10;

/// The column list of a header, as both the header and quarantine tables
/// name them.
const HEADER_FIELDS: &str = "session_key, session_id, dev_mode, created_at, last_accessed_at, \
                             config, content_id, owner, version";

/// Statement texts for one store.
#[derive(Debug)]
pub(crate) struct Sql {
    /// The grants table's statements.
    pub grants: crate::grants::GrantSql,
    // Writer.
    /// Announces a change (`$1`: `"<session id> <version>"`) on the
    /// store's channel, delivered when the transaction commits.
    pub notify: String,
    pub session_version: String,
    pub content_exists: String,
    pub put_content: String,
    pub create_session: String,
    pub update_session: String,
    pub append: String,
    pub share_session: String,
    pub put_checkpoint: String,
    pub touch_session: String,
    pub delete_session: String,
    pub delete_session_at: String,
    pub delete_idle_session: String,
    pub delete_commands: String,
    pub delete_checkpoint: String,
    pub quarantine_by_id: String,
    pub quarantine_by_key: String,
    pub lock_header: String,
    pub repair_header: String,
    pub put_meta: String,
    // Reader.
    pub all_headers: String,
    pub one_header: String,
    pub count_sessions: String,
    pub game_log: String,
    pub commands_of_session: String,
    pub content: String,
    pub get_meta: String,
    pub quarantined: String,
}

impl Sql {
    pub fn new(names: &Names) -> Self {
        let Names {
            sessions,
            commands,
            checkpoints,
            contents,
            quarantine,
            meta,
            ..
        } = names;
        let content_found =
            format!("EXISTS (SELECT 1 FROM {contents} c WHERE c.content_id = s.content_id)");
        let log_length = format!(
            "(SELECT COALESCE(max(m.seq), 0) FROM {commands} m WHERE m.session_key = s.session_key)"
        );
        let quarantine_moved = |condition: &str| {
            format!(
                "WITH moved AS (
                     DELETE FROM {sessions} WHERE {condition} RETURNING {HEADER_FIELDS}
                 )
                 INSERT INTO {quarantine} ({HEADER_FIELDS}, reason, quarantined_at)
                 SELECT {HEADER_FIELDS}, $2::TEXT, $3::BIGINT FROM moved"
            )
        };
        Self {
            notify: format!("SELECT pg_notify('{}', $1)", names.channel()),
            session_version: format!("SELECT version FROM {sessions} WHERE session_id = $1"),
            content_exists: format!(
                "SELECT EXISTS (SELECT 1 FROM {contents} WHERE content_id = $1)"
            ),
            put_content: format!(
                "INSERT INTO {contents} (content_id, content, registries, metadata)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (content_id) DO UPDATE SET
                     content = EXCLUDED.content,
                     registries = EXCLUDED.registries,
                     metadata = EXCLUDED.metadata"
            ),
            create_session: format!(
                "INSERT INTO {sessions} AS s
                     (session_id, dev_mode, created_at, last_accessed_at, config,
                      content_id, owner, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
                 ON CONFLICT (session_id) DO UPDATE SET
                     dev_mode = EXCLUDED.dev_mode,
                     created_at = EXCLUDED.created_at,
                     last_accessed_at = EXCLUDED.last_accessed_at,
                     config = EXCLUDED.config,
                     content_id = EXCLUDED.content_id,
                     owner = EXCLUDED.owner
                 WHERE s.version = 0
                 RETURNING s.session_key"
            ),
            update_session: format!(
                "UPDATE {sessions} SET
                     dev_mode = $2, created_at = $3, last_accessed_at = $4, config = $5,
                     content_id = $6, owner = $7
                 WHERE session_id = $1 AND version = $8
                 RETURNING session_key"
            ),
            // One statement: the version check, the header and the log. The
            // commands are inserted only when the UPDATE matched, and read
            // nothing but its output, so they need no snapshot of their own.
            append: format!(
                "WITH advanced AS (
                     UPDATE {sessions} SET version = $2, last_accessed_at = $3, dev_mode = $4
                     WHERE session_id = $1 AND version = $5
                     RETURNING session_key
                 ), logged AS (
                     INSERT INTO {commands} (session_key, seq, command)
                     SELECT a.session_key, $5 + t.ord, t.command
                     FROM advanced a, unnest($6::TEXT[]) WITH ORDINALITY AS t(command, ord)
                 )
                 SELECT session_key FROM advanced"
            ),
            // Key-share: a concurrent delete waits until the checkpoint is
            // written (and then removes it), appends do not wait at all.
            share_session: format!(
                "SELECT session_key, version FROM {sessions} WHERE session_id = $1 FOR KEY SHARE"
            ),
            put_checkpoint: format!(
                "INSERT INTO {checkpoints} AS c (session_key, version, state) VALUES ($1, $2, $3)
                 ON CONFLICT (session_key) DO UPDATE SET
                     version = EXCLUDED.version, state = EXCLUDED.state
                 WHERE c.version <= EXCLUDED.version"
            ),
            touch_session: format!(
                "UPDATE {sessions} SET last_accessed_at = GREATEST(last_accessed_at, $2) \
                 WHERE session_id = $1"
            ),
            delete_session: format!(
                "DELETE FROM {sessions} WHERE session_id = $1 RETURNING session_key"
            ),
            delete_session_at: format!(
                "DELETE FROM {sessions} WHERE session_id = $1 AND version = $2
                 RETURNING session_key"
            ),
            delete_idle_session: format!(
                "DELETE FROM {sessions} WHERE session_id = $1 AND last_accessed_at < $2
                 RETURNING session_key"
            ),
            delete_commands: format!("DELETE FROM {commands} WHERE session_key = $1"),
            delete_checkpoint: format!("DELETE FROM {checkpoints} WHERE session_key = $1"),
            quarantine_by_id: quarantine_moved("session_id = $1"),
            quarantine_by_key: quarantine_moved("session_key = $1"),
            // The log is the truth: a header behind its log takes the log's
            // count. The condition is the writing statement's, so an append
            // racing it (which moves header and log together) is safe.
            repair_header: format!(
                "UPDATE {sessions} s SET version = {log_length} \
                 WHERE s.session_id = $1 AND s.version < {log_length}"
            ),
            lock_header: format!(
                "SELECT {HEADER_COLUMNS} FROM {sessions} s WHERE s.session_key = $1 FOR UPDATE"
            ),
            put_meta: format!(
                "INSERT INTO {meta} (namespace, key, value) VALUES ('{APP_NAMESPACE}', $1, $2)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value"
            ),
            all_headers: format!(
                "SELECT {HEADER_COLUMNS}, {content_found}, {log_length} FROM {sessions} s \
                 ORDER BY s.session_id"
            ),
            one_header: format!(
                "SELECT {HEADER_COLUMNS}, {content_found}, {log_length} FROM {sessions} s \
                 WHERE s.session_id = $1"
            ),
            count_sessions: format!("SELECT count(*) FROM {sessions}"),
            // One statement, so one snapshot: the checkpoint (the row whose
            // seq is NULL, first) and the commands after it agree.
            game_log: format!(
                "WITH s AS (SELECT session_key FROM {sessions} WHERE session_id = $1),
                      cp AS (SELECT version, state FROM {checkpoints}
                             WHERE session_key = (SELECT session_key FROM s))
                 SELECT NULL::BIGINT AS seq, version, state, NULL::TEXT AS command FROM cp
                 UNION ALL
                 SELECT m.seq, NULL, NULL, m.command FROM {commands} m
                 WHERE m.session_key = (SELECT session_key FROM s)
                   AND m.seq > COALESCE((SELECT version FROM cp), 0)
                 ORDER BY seq NULLS FIRST"
            ),
            commands_of_session: format!(
                "SELECT m.command FROM {commands} m
                 WHERE m.session_key = (SELECT session_key FROM {sessions} WHERE session_id = $1)
                   AND m.seq > $2
                 ORDER BY m.seq"
            ),
            content: format!(
                "SELECT content, registries, metadata FROM {contents} WHERE content_id = $1"
            ),
            get_meta: format!(
                "SELECT value FROM {meta} WHERE namespace = '{APP_NAMESPACE}' AND key = $1"
            ),
            quarantined: format!(
                "SELECT COALESCE(session_id, ''), reason, quarantined_at FROM {quarantine}
                 ORDER BY quarantined_at, quarantine_id"
            ),
            grants: crate::grants::GrantSql::new(&names.grants),
        }
    }
}

/// A header row as stored, every column optional: the schema forbids most
/// NULLs, but the store does not rely on constraints an operator can drop.
#[derive(Debug)]
pub(crate) struct RawHeader {
    pub key: i64,
    pub session_id: Option<String>,
    dev_mode: Option<bool>,
    created_at: Option<i64>,
    last_accessed_at: Option<i64>,
    config: Option<String>,
    pub content_id: Option<String>,
    owner: Option<String>,
    version: Option<i64>,
}

impl RawHeader {
    /// Reads the [`HEADER_COLUMNS`] of a row. Fails only when a column has
    /// another type than the schema's, which is a damaged schema, not a
    /// damaged row: quarantining every row for it would empty the store.
    pub fn read(row: &Row) -> Result<Self, postgres::Error> {
        Ok(Self {
            key: row.try_get(0)?,
            session_id: row.try_get(1)?,
            dev_mode: row.try_get(2)?,
            created_at: row.try_get(3)?,
            last_accessed_at: row.try_get(4)?,
            config: row.try_get(5)?,
            content_id: row.try_get(6)?,
            owner: row.try_get(7)?,
            version: row.try_get(8)?,
        })
    }

    /// The session id as far as it can be read, for reports about a bad row.
    pub fn describe_id(&self) -> String {
        self.session_id.clone().unwrap_or_default()
    }

    /// The record, or why the row cannot be used. `content_found` tells
    /// whether the content it references is stored.
    pub fn decode(&self, content_found: bool) -> Result<SessionRecord, String> {
        let session_id = required("session_id", self.session_id.clone())?;
        let dev_mode = required("dev_mode", self.dev_mode)?;
        let created_at = required("created_at", self.created_at)?;
        let last_accessed_at = required("last_accessed_at", self.last_accessed_at)?;
        let config = self
            .config
            .as_deref()
            .map(|text| {
                serde_json::from_str(text).map_err(|e| format!("config is not valid JSON: {e}"))
            })
            .transpose()?;
        let content_id = required("content_id", self.content_id.clone())?;
        if !content_id.is_empty() && !content_found {
            return Err(format!("content {content_id:?} is missing"));
        }
        let version = required("version", self.version)?;
        let version =
            u64::try_from(version).map_err(|_| format!("version is negative ({version})"))?;
        Ok(SessionRecord {
            session_id,
            created_at,
            last_accessed_at,
            dev_mode,
            config,
            content_id,
            owner: self.owner.clone(),
            version,
        })
    }
}

fn required<T>(column: &str, value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| format!("{column} is NULL"))
}

/// A version or sequence number as PostgreSQL's `BIGINT`. Only versions
/// that matched the stored log reach the database, so they are far below
/// `i64::MAX`; saturating keeps the conversion total anyway.
pub(crate) fn to_sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
