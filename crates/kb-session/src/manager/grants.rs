//! Seats and invitations: the owner invites someone to a seat or to watch,
//! a joiner accepts the invitation for a seat credential, the owner
//! revokes either, and a presented credential resolves to what it allows
//! ([`SeatGrant`]). What a grant lets its holder do is decided in
//! `access`; this module makes, checks and stores grants.
//!
//! Secrets (invitation codes and credentials) are 256 bits from the
//! operating system's CSPRNG, shown once and stored only as their SHA-256
//! digest. The store checks the rules as it writes (a seat invitation
//! works once, a seat has one live holder), so two joiners racing for one
//! seat cannot both win, even on two servers. Presence (when a credential
//! was last used here) is kept in memory only: a read never writes a row.

use std::sync::Arc;
use std::time::Duration;

use kb_engine::PlayerId;
use kb_store::{GrantKind, GrantRecord, GrantRefusal, Millis, SPECTATOR, StoreError, Write};
use sha2::{Digest, Sha256};

use super::write::Mode;
use super::{Caller, Committed, SeatGrant, SessionManager, access, off_thread};
use crate::error::SessionError;

/// The prefix of an invitation code.
const INVITATION_PREFIX: &str = "kbi_";
/// The prefix of a credential.
const CREDENTIAL_PREFIX: &str = "kbc_";
/// Random bytes in a secret (256 bits).
const SECRET_BYTES: usize = 32;
/// A credential used this recently counts as connected.
const CONNECTED_WITHIN: Millis = 60_000;

/// A new invitation: its code is shown here once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The grant id (to revoke it).
    pub grant_id: String,
    /// The secret code to hand to the invitee.
    pub code: String,
    /// The seat (`"A"`, `"B"`) or `"spectator"`.
    pub role: String,
    /// When it expires.
    pub expires_at: Millis,
}

/// An accepted invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The session it is for.
    pub session_id: String,
    /// The seat or `"spectator"`.
    pub role: String,
    /// The credential's grant id.
    pub grant_id: String,
    /// The credential (secret, shown once).
    pub credential: String,
}

/// Who holds a seat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeatHolder {
    /// The built-in AI.
    Ai,
    /// The session's owner (a token's user), itself.
    Owner,
    /// A seat credential.
    Credential {
        /// Its grant id.
        grant_id: String,
    },
    /// Nobody yet.
    Open,
}

/// One seat (or spectator credential) as [`SessionManager::seats_async`]
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatView {
    /// The seat, or `"spectator"`.
    pub role: String,
    /// Who holds it.
    pub holder: SeatHolder,
    /// When its credential was last used on this server.
    pub last_seen_at: Option<Millis>,
    /// Whether its credential was used here in the last minute (the
    /// server adds whether it holds an event stream open).
    pub connected: bool,
}

/// The hex SHA-256 digest of a secret, as grants store it.
pub fn digest_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A fresh secret with `prefix`: 256 bits from the OS's CSPRNG, in hex.
fn new_secret(prefix: &str) -> Result<String, SessionError> {
    let mut bytes = [0_u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| SessionError::Unavailable(StoreError::backend("random", e.to_string())))?;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}

/// Whether `text` looks like a secret with `prefix` (cheap check before
/// any lookup).
fn well_formed(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == SECRET_BYTES * 2 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A new credential for the caller creating a session as a guest: `(grant
/// id, secret, digest)`.
pub fn new_guest_credential() -> Result<(String, String, String), SessionError> {
    let secret = new_secret(CREDENTIAL_PREFIX)?;
    let digest = digest_secret(&secret);
    Ok((uuid::Uuid::new_v4().to_string(), secret, digest))
}

fn refused(error: StoreError) -> SessionError {
    match error {
        StoreError::GrantRefused { reason, .. } => refusal(reason),
        other => SessionError::Unavailable(other),
    }
}

fn refusal(reason: GrantRefusal) -> SessionError {
    match reason {
        GrantRefusal::Unknown => SessionError::GrantNotFound("Unknown invitation.".to_owned()),
        GrantRefusal::Expired => {
            SessionError::GrantNotFound("The invitation has expired.".to_owned())
        }
        GrantRefusal::Revoked => {
            SessionError::GrantNotFound("The invitation was revoked.".to_owned())
        }
        GrantRefusal::Used => {
            SessionError::GrantConflict("The invitation was already used.".to_owned())
        }
        GrantRefusal::SeatTaken => {
            SessionError::GrantConflict("The seat is already taken.".to_owned())
        }
    }
}

impl SessionManager {
    async fn grants_of(
        self: &Arc<Self>,
        session_id: &str,
    ) -> Result<Vec<GrantRecord>, SessionError> {
        let (store, id) = (Arc::clone(&self.store), session_id.to_owned());
        off_thread(move || store.load_grants(&id).map_err(SessionError::Unavailable)).await
    }

    /// The session's AI flags, checking that `caller` may see it.
    async fn ai_seats(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Vec<(PlayerId, bool)>, SessionError> {
        self.read_async(caller, session_id, |view| {
            PlayerId::ALL
                .into_iter()
                .map(|seat| (seat, *view.game.state().ai.get(seat)))
                .collect()
        })
        .await
    }

    /// Invites someone to `role` (a seat id or `"spectator"`) of a session
    /// for `expires_in`. Owner or admin only. A seat the AI plays or a
    /// live credential holds is a conflict.
    pub async fn invite_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        role: &str,
        expires_in: Duration,
    ) -> Result<Invitation, SessionError> {
        self.check_open()?;
        let slot = self.slot_in(Mode::Async(self), caller, session_id).await?;
        access::may_manage(caller, &slot)?;
        let seats = self.ai_seats(caller, session_id).await?;
        if role != SPECTATOR {
            let Some(seat) = PlayerId::parse(role) else {
                return Err(SessionError::InvalidRequest(format!(
                    "Unknown seat {role:?}: use \"A\", \"B\" or \"spectator\"."
                )));
            };
            if seats.iter().any(|(s, ai)| *s == seat && *ai) {
                return Err(SessionError::GrantConflict(format!(
                    "Seat {role} is played by the AI."
                )));
            }
            let grants = self.grants_of(session_id).await?;
            if grants.iter().any(|g| g.holds_seat() && g.role == role) {
                return Err(SessionError::GrantConflict(format!(
                    "Seat {role} is already taken."
                )));
            }
        }
        let now = self.clock.now_ms();
        let millis = Millis::try_from(expires_in.as_millis()).unwrap_or(Millis::MAX);
        let code = new_secret(INVITATION_PREFIX)?;
        let grant = GrantRecord {
            grant_id: uuid::Uuid::new_v4().to_string(),
            session_id: session_id.to_owned(),
            kind: GrantKind::Invitation,
            role: role.to_owned(),
            digest: Some(digest_secret(&code)),
            created_at: now,
            expires_at: Some(now.saturating_add(millis)),
            used_at: None,
            revoked_at: None,
            invitation_id: None,
        };
        let invitation = Invitation {
            grant_id: grant.grant_id.clone(),
            code,
            role: grant.role.clone(),
            expires_at: grant.expires_at.unwrap_or(Millis::MAX),
        };
        self.commit_in(Mode::Async(self), vec![Write::PutGrant(grant)])
            .await
            .map_err(refused)?;
        Ok(invitation)
    }

    /// Accepts an invitation code: a credential for its seat (or to
    /// watch). A malformed code is [`SessionError::InvalidRequest`]; an
    /// unknown, expired or revoked one [`SessionError::GrantNotFound`]; a
    /// used seat invitation or a held seat [`SessionError::GrantConflict`].
    pub async fn accept_async(self: &Arc<Self>, code: &str) -> Result<Accepted, SessionError> {
        self.check_open()?;
        let code = code.trim();
        if !well_formed(code, INVITATION_PREFIX) {
            return Err(SessionError::InvalidRequest(
                "Malformed invitation code.".to_owned(),
            ));
        }
        let (store, digest) = (Arc::clone(&self.store), digest_secret(code));
        let found =
            off_thread(move || store.find_grant(&digest).map_err(SessionError::Unavailable))
                .await?;
        let Some(invitation) = found.filter(|g| g.kind == GrantKind::Invitation) else {
            return Err(refusal(GrantRefusal::Unknown));
        };
        let now = self.clock.now_ms();
        if let Some(reason) = invitation.refusal_at(now) {
            return Err(refusal(reason));
        }
        // The session must still exist (for anyone who may see it).
        let system = Caller::admin("invitations");
        self.slot_in(Mode::Async(self), &system, &invitation.session_id)
            .await
            .map_err(|_| refusal(GrantRefusal::Unknown))?;
        let credential = new_secret(CREDENTIAL_PREFIX)?;
        let grant = GrantRecord {
            grant_id: uuid::Uuid::new_v4().to_string(),
            session_id: invitation.session_id.clone(),
            kind: GrantKind::Credential,
            role: invitation.role.clone(),
            digest: Some(digest_secret(&credential)),
            created_at: now,
            expires_at: None,
            used_at: None,
            revoked_at: None,
            invitation_id: Some(invitation.grant_id.clone()),
        };
        let accepted = Accepted {
            session_id: grant.session_id.clone(),
            role: grant.role.clone(),
            grant_id: grant.grant_id.clone(),
            credential,
        };
        let writes = vec![
            Write::UseInvitation {
                grant_id: invitation.grant_id,
                at: now,
            },
            Write::PutGrant(grant),
        ];
        self.commit_in(Mode::Async(self), writes)
            .await
            .map_err(refused)?;
        self.forget_invited(&accepted.session_id).await;
        Ok(accepted)
    }

    /// Drops what this process knew of the seats a session's credentials
    /// hold (a grant was accepted or revoked): the next write reads them.
    async fn forget_invited(&self, session_id: &str) {
        if let Some(slot) = self.lookup(session_id) {
            slot.state.lock().await.invited = None;
        }
    }

    /// Revokes a grant of a session (an invitation or a credential, as
    /// `kind` says). Owner or admin only; a grant of another kind or
    /// session is [`SessionError::GrantNotFound`]. Revoking twice is fine.
    pub async fn revoke_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        grant_id: &str,
        kind: GrantKind,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        let slot = self.slot_in(Mode::Async(self), caller, session_id).await?;
        access::may_manage(caller, &slot)?;
        let grants = self.grants_of(session_id).await?;
        if !grants
            .iter()
            .any(|g| g.grant_id == grant_id && g.kind == kind)
        {
            return Err(SessionError::GrantNotFound(format!(
                "No {} {grant_id:?} in this session.",
                kind.as_str()
            )));
        }
        let write = Write::RevokeGrant {
            grant_id: grant_id.to_owned(),
            at: self.clock.now_ms(),
        };
        self.commit_in(Mode::Async(self), vec![write])
            .await
            .map_err(refused)?;
        self.forget_invited(session_id).await;
        if kind == GrantKind::Credential {
            // Its open streams end now (those on other servers of a shared
            // deployment when they next check, see `credential_revoked_async`).
            self.publish(
                session_id,
                Committed {
                    version: 0,
                    ended: false,
                    revoked: true,
                },
            );
        }
        Ok(())
    }

    /// Whether `caller` acts by a seat credential that has been revoked
    /// since it was resolved (or is gone with its session). `false` for a
    /// caller by token. Something that outlives the request, an event
    /// stream, asks when it hears of a revocation
    /// ([`Committed::revoked`]), and now and then in shared mode, where
    /// another server may have revoked it.
    pub async fn credential_revoked_async(
        self: &Arc<Self>,
        caller: &Caller,
    ) -> Result<bool, SessionError> {
        let Some(grant) = &caller.grant else {
            return Ok(false);
        };
        let grants = self.grants_of(&grant.session_id).await?;
        Ok(!grants.iter().any(|g| {
            g.grant_id == grant.grant_id
                && g.kind == GrantKind::Credential
                && g.revoked_at.is_none()
        }))
    }

    /// The seats `caller` plays in a session: a seat credential's own
    /// seat; for the owner, the human seats no credential holds; none for
    /// a spectator, an admin who does not own it, or anyone else.
    pub async fn seats_played_by(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Vec<PlayerId>, SessionError> {
        if let Some(grant) = &caller.grant {
            return Ok(grant.seat.into_iter().collect());
        }
        let slot = self.slot_in(Mode::Async(self), caller, session_id).await?;
        if slot.owner.as_deref() != Some(caller.user_id.as_str()) {
            return Ok(Vec::new());
        }
        let seats = self.seats_async(caller, session_id).await?;
        Ok(PlayerId::ALL
            .into_iter()
            .zip(seats)
            .filter(|(_, view)| view.holder == SeatHolder::Owner)
            .map(|(seat, _)| seat)
            .collect())
    }

    /// Who holds each seat (then each live spectator credential), with
    /// presence. Anyone who may see the session may ask.
    pub async fn seats_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Vec<SeatView>, SessionError> {
        let seats = self.ai_seats(caller, session_id).await?;
        let grants = self.grants_of(session_id).await?;
        let now = self.clock.now_ms();
        let seen = self.seen.lock().expect("seen lock").clone();
        let presence = |grant_id: &str| {
            let last = seen.get(grant_id).copied();
            (last, last.is_some_and(|at| now - at < CONNECTED_WITHIN))
        };
        let any_holder = grants
            .iter()
            .any(|g| g.kind == GrantKind::Credential && g.is_seat());
        let mut out = Vec::new();
        for (seat, ai) in seats {
            let role = seat.as_str();
            let held = grants.iter().find(|g| g.holds_seat() && g.role == role);
            let (holder, grant_id) = match held {
                _ if ai => (SeatHolder::Ai, None),
                Some(grant) if grant.is_owners() => (SeatHolder::Owner, None),
                Some(grant) => (
                    SeatHolder::Credential {
                        grant_id: grant.grant_id.clone(),
                    },
                    Some(grant.grant_id.as_str()),
                ),
                // Sessions from before grants: the owner holds the first
                // human seat.
                None if !any_holder && seat == PlayerId::A => (SeatHolder::Owner, None),
                None if !any_holder
                    && out.iter().all(|v: &SeatView| v.holder == SeatHolder::Ai) =>
                {
                    (SeatHolder::Owner, None)
                }
                None => (SeatHolder::Open, None),
            };
            let (last_seen_at, connected) = grant_id.map_or((None, false), presence);
            out.push(SeatView {
                role: role.to_owned(),
                holder,
                last_seen_at,
                connected,
            });
        }
        for grant in grants
            .iter()
            .filter(|g| g.kind == GrantKind::Credential && !g.is_seat() && g.revoked_at.is_none())
        {
            let (last_seen_at, connected) = presence(&grant.grant_id);
            out.push(SeatView {
                role: SPECTATOR.to_owned(),
                holder: SeatHolder::Credential {
                    grant_id: grant.grant_id.clone(),
                },
                last_seen_at,
                connected,
            });
        }
        Ok(out)
    }

    /// What a presented credential allows, if it is a live one; notes its
    /// use for presence. Blocks (a store read): call it off the async
    /// threads, or use [`SessionManager::resolve_credential_async`].
    pub fn resolve_credential(&self, secret: &str) -> Result<Option<SeatGrant>, SessionError> {
        if !well_formed(secret, CREDENTIAL_PREFIX) {
            return Ok(None);
        }
        let found = self
            .store
            .find_grant(&digest_secret(secret))
            .map_err(SessionError::Unavailable)?;
        let Some(grant) = found.filter(|g| {
            g.kind == GrantKind::Credential && g.revoked_at.is_none() && g.digest.is_some()
        }) else {
            return Ok(None);
        };
        self.seen
            .lock()
            .expect("seen lock")
            .insert(grant.grant_id.clone(), self.clock.now_ms());
        Ok(Some(SeatGrant {
            seat: PlayerId::parse(&grant.role),
            grant_id: grant.grant_id,
            session_id: grant.session_id,
        }))
    }

    /// [`SessionManager::resolve_credential`] from an async task.
    pub async fn resolve_credential_async(
        self: &Arc<Self>,
        secret: &str,
    ) -> Result<Option<SeatGrant>, SessionError> {
        let (manager, secret) = (Arc::clone(self), secret.to_owned());
        off_thread(move || manager.resolve_credential(&secret)).await
    }
}
