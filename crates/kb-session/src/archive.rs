//! One session as one self-contained JSON document, to move it between
//! servers or keep it aside: its header, the content it plays by and its
//! whole log ([`SessionArchive`]). [`export`] reads it from a store;
//! [`import`] checks it (the content matches its id, the log replays to
//! the header's version) and writes it to another, where the session plays
//! on at the same version with the same game.
//!
//! The content's and the log's JSON texts are kept exactly as stored (a
//! content id is a hash of its text). The session's grants (seats held,
//! invitations, credentials) travel with it, as stored: by the digests of
//! their secrets, never the secrets, so a credential keeps working on the
//! server the session moves to.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use kb_store::{
    ContentRecord, GrantKind, GrantRecord, SessionRecord, SessionStore, StoreError, Write,
};

use crate::contents::{ContentProblem, Contents};
use crate::log::replay;

/// The value of [`SessionArchive::format`].
pub const FORMAT: &str = "kingdom-session";
/// The value of [`SessionArchive::format_version`] this program writes and
/// reads.
pub const FORMAT_VERSION: u32 = 1;

/// One session, self-contained.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionArchive {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The header.
    pub session: ArchivedHeader,
    /// The content it plays by.
    pub content: ArchivedContent,
    /// Its log, entry 1 first: the start entry, then every command.
    pub log: Vec<Box<RawValue>>,
    /// Its grants, oldest first (absent in archives without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<ArchivedGrant>,
}

/// A grant in an archive (see [`kb_store::GrantRecord`]; its session is
/// the archive's).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchivedGrant {
    /// The grant id.
    pub grant_id: String,
    /// `invitation` or `credential`.
    pub kind: String,
    /// The seat or `spectator`.
    pub role: String,
    /// The hex SHA-256 digest of its secret (none: the owner's own seat).
    pub digest: Option<String>,
    /// When it was made (epoch ms).
    pub created_at: i64,
    /// When an invitation expires.
    pub expires_at: Option<i64>,
    /// When a seat invitation was used.
    pub used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// A credential's invitation.
    pub invitation_id: Option<String>,
}

/// A session header in an archive.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchivedHeader {
    /// The session id.
    pub session_id: String,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Last use (epoch ms).
    pub last_accessed_at: i64,
    /// The config it was created with, if any.
    pub config: Option<serde_json::Value>,
    /// Who created it.
    pub owner: Option<String>,
    /// The number of log entries.
    pub version: u64,
}

/// Content in an archive: its id and its texts, as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchivedContent {
    /// The content id (a hash of `content`).
    pub content_id: String,
    /// The engine content.
    pub content: Box<RawValue>,
    /// The registries served to clients.
    pub registries: Box<RawValue>,
    /// The static descriptors served to clients.
    pub metadata: Box<RawValue>,
}

/// Why a session cannot be exported or imported.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// No such session in the store.
    #[error("no session {0:?} in the database")]
    UnknownSession(String),
    /// The session id is taken in the destination.
    #[error("session {0:?} already exists in the database; delete it first to replace it")]
    Exists(String),
    /// The document is not a session archive this program reads.
    #[error("not a session archive: {0}")]
    Malformed(String),
    /// The archive (or the stored session) is inconsistent.
    #[error("session {session_id:?} cannot be moved: {reason}")]
    Unsound {
        /// The session.
        session_id: String,
        /// What is wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads one session from `store` as an archive.
///
/// # Errors
///
/// [`ArchiveError::UnknownSession`], [`ArchiveError::Unsound`] for a session
/// whose content is missing or that never played (adopted from the
/// reference server), [`ArchiveError::Store`].
pub fn export(store: &dyn SessionStore, session_id: &str) -> Result<SessionArchive, ArchiveError> {
    let unsound = |reason: String| ArchiveError::Unsound {
        session_id: session_id.to_owned(),
        reason,
    };
    let record = store
        .load_session(session_id)?
        .ok_or_else(|| ArchiveError::UnknownSession(session_id.to_owned()))?;
    if record.content_id.is_empty() {
        return Err(unsound(
            "it was adopted from the reference server and has no log yet; play it once".into(),
        ));
    }
    let content = store
        .load_content(&record.content_id)?
        .ok_or_else(|| unsound(format!("its content {} is missing", record.content_id)))?;
    let raw = |text: String, what: &str| {
        RawValue::from_string(text)
            .map_err(|e| unsound(format!("its stored {what} is not JSON: {e}")))
    };
    let log = store
        .load_commands(session_id, 0)?
        .into_iter()
        .map(|entry| raw(entry, "log"))
        .collect::<Result<Vec<_>, _>>()?;
    let grants = store
        .load_grants(session_id)?
        .into_iter()
        .map(|grant| ArchivedGrant {
            grant_id: grant.grant_id,
            kind: grant.kind.as_str().to_owned(),
            role: grant.role,
            digest: grant.digest,
            created_at: grant.created_at,
            expires_at: grant.expires_at,
            used_at: grant.used_at,
            revoked_at: grant.revoked_at,
            invitation_id: grant.invitation_id,
        })
        .collect();
    Ok(SessionArchive {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        session: ArchivedHeader {
            session_id: record.session_id,
            created_at: record.created_at,
            last_accessed_at: record.last_accessed_at,
            config: record.config,
            owner: record.owner,
            version: record.version,
        },
        content: ArchivedContent {
            content_id: content.content_id,
            content: raw(content.content, "content")?,
            registries: raw(content.registries, "registries")?,
            metadata: raw(content.metadata, "metadata")?,
        },
        log,
        grants,
    })
}

/// Checks an archive and writes its session to `store`, in one commit.
/// Returns the session's version.
///
/// # Errors
///
/// [`ArchiveError::Malformed`] for another format or version,
/// [`ArchiveError::Exists`] when the id is taken, [`ArchiveError::Unsound`]
/// when the content does not match its id or the log does not replay to
/// the header's version, [`ArchiveError::Store`].
pub fn import(store: &dyn SessionStore, archive: &SessionArchive) -> Result<u64, ArchiveError> {
    if archive.format != FORMAT {
        return Err(ArchiveError::Malformed(format!(
            "format is {:?}, not {FORMAT:?}",
            archive.format
        )));
    }
    if archive.format_version != FORMAT_VERSION {
        return Err(ArchiveError::Malformed(format!(
            "format version {} (this program reads {FORMAT_VERSION})",
            archive.format_version
        )));
    }
    let header = &archive.session;
    let unsound = |reason: String| ArchiveError::Unsound {
        session_id: header.session_id.clone(),
        reason,
    };
    if header.session_id.is_empty() {
        return Err(unsound("its session id is empty".into()));
    }
    if store.load_session(&header.session_id)?.is_some() {
        return Err(ArchiveError::Exists(header.session_id.clone()));
    }
    let content = ContentRecord {
        content_id: archive.content.content_id.clone(),
        content: archive.content.content.get().to_owned(),
        registries: archive.content.registries.get().to_owned(),
        metadata: archive.content.metadata.get().to_owned(),
    };
    let contents = Contents::new();
    let restored = contents
        .restore(&content)
        .map_err(|problem| match problem {
            ContentProblem::Store(error) => ArchiveError::Store(error),
            ContentProblem::Corrupt(reason) => unsound(reason),
        })?;
    let entries: Vec<String> = archive.log.iter().map(|e| e.get().to_owned()).collect();
    let (game, reached) = replay(restored.content().clone(), false, None, &entries)
        .map_err(|reason| unsound(format!("its log cannot be replayed: {reason}")))?;
    if entries.is_empty() || reached != header.version {
        return Err(unsound(format!(
            "its header says version {}, its log holds {reached} entries",
            header.version
        )));
    }
    let mut record = SessionRecord {
        session_id: header.session_id.clone(),
        created_at: header.created_at,
        last_accessed_at: header.last_accessed_at,
        dev_mode: game.state().dev_mode,
        config: header.config.clone(),
        content_id: content.content_id.clone(),
        owner: header.owner.clone(),
        version: 0,
    };
    let mut writes = vec![
        Write::PutContent(content),
        Write::SaveSession(record.clone()),
    ];
    record.version = reached;
    writes.push(Write::append(&record, entries));
    for grant in &archive.grants {
        let kind = GrantKind::parse(&grant.kind).ok_or_else(|| {
            unsound(format!(
                "grant {:?} has kind {:?}",
                grant.grant_id, grant.kind
            ))
        })?;
        writes.push(Write::PutGrant(GrantRecord {
            grant_id: grant.grant_id.clone(),
            session_id: header.session_id.clone(),
            kind,
            role: grant.role.clone(),
            digest: grant.digest.clone(),
            created_at: grant.created_at,
            expires_at: grant.expires_at,
            used_at: grant.used_at,
            revoked_at: grant.revoked_at,
            invitation_id: grant.invitation_id.clone(),
        }));
    }
    store.commit(writes)?;
    Ok(reached)
}
