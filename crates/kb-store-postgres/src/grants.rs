//! The grants table (schema version 2): invitations and seat credentials,
//! stored by the digest of their secret (see [`kb_store::GrantRecord`]).
//! Owns the table's definition, its statement texts and the row decoding;
//! the writer applies the grant writes with them.
//!
//! Why the rules hold across processes: using an invitation locks its row
//! (`SELECT … FOR UPDATE`) before checking it, so of two processes
//! accepting one seat invitation the second waits and then sees it used;
//! the mark itself is `UPDATE … WHERE used_at IS NULL`, checked by the
//! statement that writes. A partial unique index on live seat credentials
//! makes a second holder of one seat impossible even when two different
//! invitations race (the loser's batch fails).

use kb_store::{GrantKind, GrantRecord};
use postgres::Row;

const COLUMNS: &str = "grant_id, session_id, kind, role, digest, created_at, expires_at, \
                       used_at, revoked_at, invitation_id";

/// Statement texts of the grants table.
#[derive(Debug)]
pub(crate) struct GrantSql {
    pub insert: String,
    pub lock_by_id: String,
    pub by_digest: String,
    pub of_session: String,
    pub seat_held: String,
    pub mark_used: String,
    pub revoke: String,
    pub delete_of_session: String,
}

impl GrantSql {
    /// The statements for the qualified table name `grants`.
    pub fn new(grants: &str) -> Self {
        Self {
            insert: format!(
                "INSERT INTO {grants} ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            lock_by_id: format!("SELECT {COLUMNS} FROM {grants} WHERE grant_id = $1 FOR UPDATE"),
            by_digest: format!("SELECT {COLUMNS} FROM {grants} WHERE digest = $1"),
            of_session: format!(
                "SELECT {COLUMNS} FROM {grants} WHERE session_id = $1 ORDER BY created_at, grant_id"
            ),
            seat_held: format!(
                "SELECT 1 FROM {grants} WHERE session_id = $1 AND role = $2 \
                 AND kind = 'credential' AND role <> 'spectator' AND revoked_at IS NULL"
            ),
            mark_used: format!(
                "UPDATE {grants} SET used_at = $2 WHERE grant_id = $1 AND used_at IS NULL"
            ),
            revoke: format!(
                "UPDATE {grants} SET revoked_at = $2 WHERE grant_id = $1 AND revoked_at IS NULL"
            ),
            delete_of_session: format!("DELETE FROM {grants} WHERE session_id = $1"),
        }
    }
}

/// The SQL creating the grants table and its indexes (`prefix` names the
/// indexes, unquoted).
pub(crate) fn create_table(grants: &str, prefix: &str) -> String {
    format!(
        "CREATE TABLE {grants} (
             grant_id TEXT COLLATE \"C\" PRIMARY KEY,
             session_id TEXT COLLATE \"C\" NOT NULL,
             kind TEXT NOT NULL,
             role TEXT NOT NULL,
             digest TEXT UNIQUE,
             created_at BIGINT NOT NULL,
             expires_at BIGINT,
             used_at BIGINT,
             revoked_at BIGINT,
             invitation_id TEXT
         );
         CREATE INDEX \"{prefix}_grants_sid\" ON {grants} (session_id);
         CREATE UNIQUE INDEX \"{prefix}_grants_seat\" ON {grants} (session_id, role)
             WHERE kind = 'credential' AND role <> 'spectator' AND revoked_at IS NULL;",
    )
}

/// Decodes a row selected with the grant columns.
pub(crate) fn decode(row: &Row) -> Result<GrantRecord, String> {
    let get_err = |e: postgres::Error| e.to_string();
    let kind: String = row.try_get(2).map_err(get_err)?;
    Ok(GrantRecord {
        grant_id: row.try_get(0).map_err(get_err)?,
        session_id: row.try_get(1).map_err(get_err)?,
        kind: GrantKind::parse(&kind).ok_or_else(|| format!("unknown grant kind {kind:?}"))?,
        role: row.try_get(3).map_err(get_err)?,
        digest: row.try_get(4).map_err(get_err)?,
        created_at: row.try_get(5).map_err(get_err)?,
        expires_at: row.try_get(6).map_err(get_err)?,
        used_at: row.try_get(7).map_err(get_err)?,
        revoked_at: row.try_get(8).map_err(get_err)?,
        invitation_id: row.try_get(9).map_err(get_err)?,
    })
}
