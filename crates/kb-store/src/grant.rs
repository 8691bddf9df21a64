//! Grants: the stored records of who may do what in one session beside its
//! owner, and the rules every store keeps for them.
//!
//! A grant is either an **invitation** (a code the owner hands out, for a
//! seat or as a spectator, with an expiry) or a **credential** (the secret
//! a joiner receives, valid for one seat, or for watching, of one
//! session). Secrets are never stored: a grant keeps the hex SHA-256
//! digest of its secret, which is how a presented secret finds it
//! ([`crate::SessionStore::find_grant`]). A credential with no digest
//! records that the session's owner itself holds a seat.
//!
//! The rules, checked by the store as it writes (so two processes cannot
//! both pass them):
//! * [`Write::UseInvitation`](crate::Write::UseInvitation) refuses an
//!   unknown, revoked or expired invitation, and a seat invitation already
//!   used; a seat invitation is marked used, so it works once. Spectator
//!   invitations work until they expire or are revoked.
//! * [`Write::PutGrant`](crate::Write::PutGrant) of a seat credential
//!   refuses a seat another live (unrevoked) credential holds.
//! * [`Write::RevokeGrant`](crate::Write::RevokeGrant) is idempotent.
//! * Deleting a session deletes its grants.

use crate::Millis;

/// The role of a grant that watches instead of holding a seat.
pub const SPECTATOR: &str = "spectator";

/// What a grant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantKind {
    /// A code that can be accepted for a credential.
    Invitation,
    /// A secret that acts for a seat (or watches).
    Credential,
}

impl GrantKind {
    /// The kind's stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantKind::Invitation => "invitation",
            GrantKind::Credential => "credential",
        }
    }

    /// Parses [`GrantKind::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "invitation" => Some(GrantKind::Invitation),
            "credential" => Some(GrantKind::Credential),
            _ => None,
        }
    }
}

/// One grant of one session.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRecord {
    /// The grant's id (public: owners revoke by it).
    pub grant_id: String,
    /// The session it is for.
    pub session_id: String,
    /// Invitation or credential.
    pub kind: GrantKind,
    /// The seat (a player id such as `"A"`) or [`SPECTATOR`].
    pub role: String,
    /// Hex SHA-256 of the secret; `None` for a seat the owner holds itself.
    pub digest: Option<String>,
    /// When it was made.
    pub created_at: Millis,
    /// After this time an invitation is refused (`None`: never expires).
    pub expires_at: Option<Millis>,
    /// When a seat invitation was used.
    pub used_at: Option<Millis>,
    /// When it was revoked.
    pub revoked_at: Option<Millis>,
    /// A credential: the invitation it was accepted from, if any.
    pub invitation_id: Option<String>,
}

impl GrantRecord {
    /// Whether the grant is for a seat (not for watching).
    pub fn is_seat(&self) -> bool {
        self.role != SPECTATOR
    }

    /// Whether this grant is the session owner's own hold on a seat: a
    /// grant without a secret, which nobody can present. Every other seat
    /// grant is an invited player's.
    pub fn is_owners(&self) -> bool {
        self.digest.is_none()
    }

    /// Whether this is a credential holding `role`'s seat right now.
    pub fn holds_seat(&self) -> bool {
        self.kind == GrantKind::Credential && self.is_seat() && self.revoked_at.is_none()
    }

    /// Why this invitation cannot be used at `at`, if it cannot.
    pub fn refusal_at(&self, at: Millis) -> Option<GrantRefusal> {
        if self.kind != GrantKind::Invitation {
            return Some(GrantRefusal::Unknown);
        }
        if self.revoked_at.is_some() {
            return Some(GrantRefusal::Revoked);
        }
        if self.expires_at.is_some_and(|expiry| at >= expiry) {
            return Some(GrantRefusal::Expired);
        }
        if self.is_seat() && self.used_at.is_some() {
            return Some(GrantRefusal::Used);
        }
        None
    }
}

/// Why a store refused a grant write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRefusal {
    /// No such invitation.
    Unknown,
    /// The invitation expired.
    Expired,
    /// The invitation was revoked.
    Revoked,
    /// The seat invitation was already used.
    Used,
    /// Another live credential holds the seat.
    SeatTaken,
}

impl std::fmt::Display for GrantRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrantRefusal::Unknown => "unknown invitation",
            GrantRefusal::Expired => "the invitation expired",
            GrantRefusal::Revoked => "the invitation was revoked",
            GrantRefusal::Used => "the invitation was already used",
            GrantRefusal::SeatTaken => "the seat is already taken",
        })
    }
}
