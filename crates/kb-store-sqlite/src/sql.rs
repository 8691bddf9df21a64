//! The SQL text of every statement the store runs, built once per store from
//! its table names so that `prepare_cached` finds them by the same string,
//! and the decoding of header rows, which tolerates anything a damaged file
//! may hold.

use std::collections::HashSet;

use kb_store::SessionRecord;
use rusqlite::types::ValueRef;

use crate::schema::{APP_NAMESPACE, Names};

/// The header columns, in the order [`decode_header`] reads them, for a
/// query on the header table aliased `s`; the tenth column
/// ([`LOG_LENGTH_COLUMN`]) is the number of commands its log holds.
const HEADER_COLUMNS: &str = "s.session_key, s.session_id, s.dev_mode, s.created_at, \
                              s.last_accessed_at, s.config, s.content_id, s.owner, s.version";

/// The index of the log-length column of a header query.
pub(crate) const LOG_LENGTH_COLUMN: usize = 9;

/// Statement texts for one store.
#[derive(Debug)]
pub(crate) struct Sql {
    pub find_session: String,
    pub find_idle_session: String,
    pub one_header: String,
    pub count_sessions: String,
    pub upsert_session: String,
    pub touch_session: String,
    pub advance_session: String,
    pub delete_session: String,
    pub content_exists: String,
    pub insert_content: String,
    pub insert_command: String,
    pub delete_commands: String,
    pub upsert_checkpoint: String,
    pub delete_checkpoint: String,
    pub quarantine_session: String,
    pub repair_header: String,
    pub put_meta: String,
    pub all_headers: String,
    pub all_content_ids: String,
    pub session_key: String,
    pub checkpoint: String,
    pub commands_after: String,
    pub commands_of_session: String,
    pub content: String,
    pub get_meta: String,
    pub quarantined: String,
    /// The grants table's statements.
    pub grants: crate::grants::GrantSql,
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
        let log_length = format!(
            "(SELECT COALESCE(MAX(c.seq), 0) FROM {commands} c WHERE c.session_key = s.session_key)"
        );
        Self {
            find_session: format!(
                "SELECT session_key, version FROM {sessions} WHERE session_id = ?1"
            ),
            find_idle_session: format!(
                "SELECT session_key FROM {sessions} WHERE session_id = ?1 AND last_accessed_at < ?2"
            ),
            one_header: format!(
                "SELECT {HEADER_COLUMNS}, {log_length} FROM {sessions} s WHERE s.session_id = ?1"
            ),
            count_sessions: format!("SELECT COUNT(*) FROM {sessions}"),
            upsert_session: format!(
                "INSERT INTO {sessions}
                     (session_id, dev_mode, created_at, last_accessed_at, config,
                      content_id, owner, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (session_id) DO UPDATE SET
                     dev_mode = excluded.dev_mode,
                     created_at = excluded.created_at,
                     last_accessed_at = excluded.last_accessed_at,
                     config = excluded.config,
                     content_id = excluded.content_id,
                     owner = excluded.owner,
                     version = excluded.version"
            ),
            touch_session: format!(
                "UPDATE {sessions} SET last_accessed_at = MAX(last_accessed_at, ?2) \
                 WHERE session_id = ?1"
            ),
            advance_session: format!(
                "UPDATE {sessions} SET version = ?2, last_accessed_at = ?3, dev_mode = ?4 \
                 WHERE session_key = ?1"
            ),
            delete_session: format!("DELETE FROM {sessions} WHERE session_key = ?1"),
            content_exists: format!("SELECT 1 FROM {contents} WHERE content_id = ?1"),
            insert_content: format!(
                "INSERT INTO {contents} (content_id, content, registries, metadata)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (content_id) DO UPDATE SET \
                 content = excluded.content, registries = excluded.registries, \
                 metadata = excluded.metadata"
            ),
            insert_command: format!(
                "INSERT INTO {commands} (session_key, seq, command) VALUES (?1, ?2, ?3)"
            ),
            delete_commands: format!("DELETE FROM {commands} WHERE session_key = ?1"),
            upsert_checkpoint: format!(
                "INSERT INTO {checkpoints} (session_key, version, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (session_key) DO UPDATE SET
                     version = excluded.version, state = excluded.state
                 WHERE excluded.version >= {checkpoints}.version"
            ),
            delete_checkpoint: format!("DELETE FROM {checkpoints} WHERE session_key = ?1"),
            quarantine_session: format!(
                "INSERT INTO {quarantine}
                     (session_key, session_id, dev_mode, created_at, last_accessed_at,
                      config, content_id, owner, version, reason, quarantined_at)
                 SELECT session_key, session_id, dev_mode, created_at, last_accessed_at,
                        config, content_id, owner, version, ?2, ?3
                 FROM {sessions} WHERE session_key = ?1"
            ),
            // The log is the truth: a header behind its log takes the log's
            // count (the condition is checked by the statement that writes).
            repair_header: format!(
                "UPDATE {sessions} SET version = \
                 (SELECT MAX(seq) FROM {commands} c WHERE c.session_key = {sessions}.session_key) \
                 WHERE session_id = ?1 AND version < \
                 (SELECT COALESCE(MAX(seq), 0) FROM {commands} c \
                  WHERE c.session_key = {sessions}.session_key)"
            ),
            put_meta: format!(
                "INSERT INTO {meta} (namespace, key, value) VALUES ('{APP_NAMESPACE}', ?1, ?2)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value"
            ),
            all_headers: format!(
                "SELECT {HEADER_COLUMNS}, {log_length} FROM {sessions} s ORDER BY s.session_id"
            ),
            all_content_ids: format!("SELECT content_id FROM {contents}"),
            session_key: format!("SELECT session_key FROM {sessions} WHERE session_id = ?1"),
            checkpoint: format!("SELECT version, state FROM {checkpoints} WHERE session_key = ?1"),
            commands_after: format!(
                "SELECT command FROM {commands} WHERE session_key = ?1 AND seq > ?2 ORDER BY seq"
            ),
            commands_of_session: format!(
                "SELECT command FROM {commands} WHERE session_key = \
                 (SELECT session_key FROM {sessions} WHERE session_id = ?1) \
                 AND seq > ?2 ORDER BY seq"
            ),
            content: format!(
                "SELECT content, registries, metadata FROM {contents} WHERE content_id = ?1"
            ),
            get_meta: format!(
                "SELECT value FROM {meta} WHERE namespace = '{APP_NAMESPACE}' AND key = ?1"
            ),
            quarantined: format!(
                "SELECT session_id, reason, quarantined_at FROM {quarantine}
                 ORDER BY quarantined_at, quarantine_id"
            ),
            grants: crate::grants::GrantSql::new(&names.grants),
        }
    }
}

/// Reads a header row selected with [`HEADER_COLUMNS`]: the record, or
/// why the row cannot be used. `contents` holds every stored content id.
pub(crate) fn decode_header(
    row: &rusqlite::Row<'_>,
    contents: &HashSet<String>,
) -> rusqlite::Result<Result<SessionRecord, String>> {
    let column = |index: usize| row.get_ref(index);
    let values = [
        column(1)?,
        column(2)?,
        column(3)?,
        column(4)?,
        column(5)?,
        column(6)?,
        column(7)?,
        column(8)?,
    ];
    Ok(decode_values(values, contents))
}

fn decode_values(
    [
        session_id,
        dev_mode,
        created_at,
        last_accessed_at,
        config,
        content_id,
        owner,
        version,
    ]: [ValueRef<'_>; 8],
    contents: &HashSet<String>,
) -> Result<SessionRecord, String> {
    let session_id = text("session_id", session_id)?;
    let dev_mode = match integer("dev_mode", dev_mode)? {
        0 => false,
        1 => true,
        other => return Err(format!("dev_mode is {other}, not 0 or 1")),
    };
    let created_at = integer("created_at", created_at)?;
    let last_accessed_at = integer("last_accessed_at", last_accessed_at)?;
    let config = match config {
        ValueRef::Null => None,
        value => {
            let text = text("config", value)?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| format!("config is not valid JSON: {e}"))?,
            )
        }
    };
    let content_id = text("content_id", content_id)?;
    if !content_id.is_empty() && !contents.contains(&content_id) {
        return Err(format!("content {content_id:?} is missing"));
    }
    let owner = match owner {
        ValueRef::Null => None,
        value => Some(text("owner", value)?),
    };
    let version = integer("version", version)?;
    let version = u64::try_from(version).map_err(|_| format!("version is negative ({version})"))?;
    Ok(SessionRecord {
        session_id,
        created_at,
        last_accessed_at,
        dev_mode,
        config,
        content_id,
        owner,
        version,
    })
}

fn text(column: &str, value: ValueRef<'_>) -> Result<String, String> {
    match value {
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("{column} is not valid UTF-8 text")),
        other => Err(format!("{column} is {}, not TEXT", type_name(other))),
    }
}

fn integer(column: &str, value: ValueRef<'_>) -> Result<i64, String> {
    match value {
        ValueRef::Integer(n) => Ok(n),
        other => Err(format!("{column} is {}, not INTEGER", type_name(other))),
    }
}

fn type_name(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

/// A session id as far as it can be read, for reports about a bad row.
pub(crate) fn describe_id(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}
