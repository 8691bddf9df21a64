//! The grants table (schema version 2): invitations and seat credentials,
//! stored by the digest of their secret (see [`kb_store::GrantRecord`]).
//! Owns its statement texts, the row decoding and how the writer applies
//! the grant writes. Every rule is checked inside the writer's immediate
//! transaction, which holds the database's write lock, so two processes on
//! one file cannot both pass a check; a partial unique index on live seat
//! credentials backs the seat rule up.

use kb_store::{GrantKind, GrantRecord, GrantRefusal, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str = "grant_id, session_id, kind, role, digest, created_at, expires_at, \
                       used_at, revoked_at, invitation_id";

/// Statement texts of the grants table.
#[derive(Debug)]
pub(crate) struct GrantSql {
    pub insert: String,
    pub by_id: String,
    pub by_digest: String,
    pub of_session: String,
    pub seat_held: String,
    pub mark_used: String,
    pub revoke: String,
    pub delete_of_session: String,
}

impl GrantSql {
    /// The statements for the quoted table name `grants`.
    pub fn new(grants: &str) -> Self {
        Self {
            insert: format!(
                "INSERT INTO {grants} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            by_id: format!("SELECT {COLUMNS} FROM {grants} WHERE grant_id = ?1"),
            by_digest: format!("SELECT {COLUMNS} FROM {grants} WHERE digest = ?1"),
            of_session: format!(
                "SELECT {COLUMNS} FROM {grants} WHERE session_id = ?1 ORDER BY created_at, grant_id"
            ),
            seat_held: format!(
                "SELECT 1 FROM {grants} WHERE session_id = ?1 AND role = ?2 \
                 AND kind = 'credential' AND role <> 'spectator' AND revoked_at IS NULL"
            ),
            mark_used: format!(
                "UPDATE {grants} SET used_at = ?2 WHERE grant_id = ?1 AND used_at IS NULL"
            ),
            revoke: format!(
                "UPDATE {grants} SET revoked_at = ?2 WHERE grant_id = ?1 AND revoked_at IS NULL"
            ),
            delete_of_session: format!("DELETE FROM {grants} WHERE session_id = ?1"),
        }
    }
}

/// The SQL creating the grants table and its indexes.
pub(crate) fn create_table(grants: &str, index_prefix: &str) -> String {
    format!(
        "CREATE TABLE {grants} (
             grant_id TEXT PRIMARY KEY NOT NULL,
             session_id TEXT NOT NULL,
             kind TEXT NOT NULL,
             role TEXT NOT NULL,
             digest TEXT UNIQUE,
             created_at INTEGER NOT NULL,
             expires_at INTEGER,
             used_at INTEGER,
             revoked_at INTEGER,
             invitation_id TEXT
         );
         CREATE INDEX \"{index_prefix}_grants_sid\" ON {grants} (session_id);
         CREATE UNIQUE INDEX \"{index_prefix}_grants_seat\" ON {grants} (session_id, role)
             WHERE kind = 'credential' AND role <> 'spectator' AND revoked_at IS NULL;"
    )
}

/// Decodes a row selected with the grant columns.
pub(crate) fn decode(row: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    let kind: String = row.get(2)?;
    let kind = GrantKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("unknown grant kind {kind:?}").into(),
        )
    })?;
    Ok(GrantRecord {
        grant_id: row.get(0)?,
        session_id: row.get(1)?,
        kind,
        role: row.get(3)?,
        digest: row.get(4)?,
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        used_at: row.get(7)?,
        revoked_at: row.get(8)?,
        invitation_id: row.get(9)?,
    })
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::backend("commit (grants)", e)
}

/// [`kb_store::Write::PutGrant`].
pub(crate) fn put(conn: &Connection, sql: &GrantSql, grant: GrantRecord) -> Result<(), StoreError> {
    if grant.holds_seat() {
        let held = conn
            .prepare_cached(&sql.seat_held)
            .and_then(|mut stmt| {
                stmt.query_row(params![grant.session_id, grant.role], |_| Ok(()))
                    .optional()
            })
            .map_err(backend)?;
        if held.is_some() {
            return Err(StoreError::GrantRefused {
                grant_id: grant.grant_id,
                reason: GrantRefusal::SeatTaken,
            });
        }
    }
    conn.prepare_cached(&sql.insert)
        .and_then(|mut stmt| {
            stmt.execute(params![
                grant.grant_id,
                grant.session_id,
                grant.kind.as_str(),
                grant.role,
                grant.digest,
                grant.created_at,
                grant.expires_at,
                grant.used_at,
                grant.revoked_at,
                grant.invitation_id
            ])
        })
        .map_err(backend)?;
    Ok(())
}

/// [`kb_store::Write::UseInvitation`].
pub(crate) fn use_invitation(
    conn: &Connection,
    sql: &GrantSql,
    grant_id: String,
    at: i64,
) -> Result<(), StoreError> {
    let found = conn
        .prepare_cached(&sql.by_id)
        .and_then(|mut stmt| stmt.query_row([&grant_id], decode).optional())
        .map_err(backend)?;
    let refusal = match &found {
        None => Some(GrantRefusal::Unknown),
        Some(grant) => grant.refusal_at(at),
    };
    if let Some(reason) = refusal {
        return Err(StoreError::GrantRefused { grant_id, reason });
    }
    if found.is_some_and(|grant| grant.is_seat()) {
        let changed = conn
            .prepare_cached(&sql.mark_used)
            .and_then(|mut stmt| stmt.execute(params![grant_id, at]))
            .map_err(backend)?;
        if changed != 1 {
            return Err(StoreError::GrantRefused {
                grant_id,
                reason: GrantRefusal::Used,
            });
        }
    }
    Ok(())
}

/// [`kb_store::Write::RevokeGrant`].
pub(crate) fn revoke(
    conn: &Connection,
    sql: &GrantSql,
    grant_id: String,
    at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(&sql.revoke)
        .and_then(|mut stmt| stmt.execute(params![grant_id, at]))
        .map_err(backend)?;
    Ok(())
}

/// Deletes every grant of a session (with the session).
pub(crate) fn delete_of_session(
    conn: &Connection,
    sql: &GrantSql,
    session_id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(&sql.delete_of_session)
        .and_then(|mut stmt| stmt.execute([session_id]))
        .map_err(backend)?;
    Ok(())
}
