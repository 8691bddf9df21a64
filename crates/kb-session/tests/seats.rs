//! Seats and invitations in the session manager: the owner invites, a
//! joiner accepts for a seat credential, and the manager alone decides
//! what each caller may do (its own seat, its own session, spectators
//! read only), on a SQLite store across a restart.

use std::sync::Arc;
use std::time::Duration;

use kb_engine::{Command, PlayerId};
use kb_session::{
    Caller, CreateSession, ManagerOptions, ManualClock, SeatHolder, SessionError, SessionManager,
    StoreHealth,
};
use kb_store::{GrantKind, SessionStore};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

const HOUR: Duration = Duration::from_secs(3600);

fn manager(store: Arc<dyn SessionStore>, clock: &Arc<ManualClock>) -> Arc<SessionManager> {
    let mut options = ManagerOptions::new(store);
    options.clock = clock.clone();
    Arc::new(SessionManager::new(options).unwrap())
}

fn sqlite(path: &std::path::Path) -> Arc<dyn SessionStore> {
    Arc::new(SqliteSessionStore::open(SqliteOptions::new(path)).unwrap())
}

/// A two-human session of `owner`.
async fn two_humans(manager: &Arc<SessionManager>, owner: &Caller) -> String {
    let request = CreateSession {
        ai_players: Some(vec![]),
        ..CreateSession::default()
    };
    manager
        .create_async(owner, request, |view| view.session_id.to_owned())
        .await
        .unwrap()
}

/// The caller a credential resolves to.
async fn as_credential(manager: &Arc<SessionManager>, secret: &str) -> Caller {
    let grant = manager
        .resolve_credential_async(secret)
        .await
        .unwrap()
        .expect("a live credential");
    Caller {
        user_id: format!("grant:{}", grant.grant_id),
        admin: false,
        grant: Some(grant),
    }
}

async fn run(
    manager: &Arc<SessionManager>,
    caller: &Caller,
    id: &str,
    command: Command,
) -> Result<u64, SessionError> {
    manager
        .execute_async(caller, id, command, None, |view, _| view.version)
        .await
}

fn rename(player: PlayerId) -> Command {
    Command::SetPlayerName {
        player_id: player,
        player_name: "Bea".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_credential_acts_for_its_own_seat_only_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let m = manager(sqlite(&path), &clock);
    let id = two_humans(&m, &owner).await;
    let other = two_humans(&m, &owner).await;

    let seats = m.seats_async(&owner, &id).await.unwrap();
    assert_eq!(seats[0].holder, SeatHolder::Owner);
    assert_eq!(seats[1].holder, SeatHolder::Open);

    let invitation = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    assert!(invitation.code.len() >= 4 + 64, "{}", invitation.code);
    let accepted = m.accept_async(&invitation.code).await.unwrap();
    assert_eq!(
        (accepted.session_id.as_str(), accepted.role.as_str()),
        (id.as_str(), "B")
    );
    let bea = as_credential(&m, &accepted.credential).await;

    // Seat A's turn: B may not act, may rename itself only.
    let before = m.read_async(&owner, &id, |v| v.version).await.unwrap();
    assert!(matches!(
        run(&m, &bea, &id, Command::Advance).await,
        Err(SessionError::Forbidden(_))
    ));
    assert!(matches!(
        run(&m, &bea, &id, rename(PlayerId::A)).await,
        Err(SessionError::Forbidden(_))
    ));
    assert!(matches!(
        run(&m, &bea, &id, Command::SetDevMode { enabled: true }).await,
        Err(SessionError::Forbidden(_))
    ));
    assert_eq!(
        m.read_async(&owner, &id, |v| v.version).await.unwrap(),
        before
    );
    assert_eq!(
        run(&m, &bea, &id, rename(PlayerId::B)).await.unwrap(),
        before + 1
    );
    // Another session does not exist for it; managing is the owner's.
    assert!(matches!(
        m.read_async(&bea, &other, |v| v.version).await,
        Err(SessionError::NotFound { .. })
    ));
    assert!(matches!(
        m.invite_async(&bea, &id, "spectator", HOUR).await,
        Err(SessionError::Forbidden(_))
    ));
    assert!(matches!(
        m.delete_async(&bea, &id, None).await,
        Err(SessionError::Forbidden(_))
    ));
    // The seat is taken now: a second invitation to it is refused.
    assert!(matches!(
        m.invite_async(&owner, &id, "B", HOUR).await,
        Err(SessionError::GrantConflict(_))
    ));
    // Once it is B's turn, B acts.
    let mut version = before + 1;
    while m
        .read_async(&owner, &id, |v| v.game.state().active)
        .await
        .unwrap()
        == PlayerId::A
    {
        version = run(&m, &owner, &id, Command::Advance).await.unwrap();
    }
    assert_eq!(
        run(&m, &bea, &id, Command::Advance).await.unwrap(),
        version + 1
    );
    tokio::task::block_in_place(|| m.close().unwrap());
    drop(m);

    // After a restart the credential still works, and its revocation holds.
    let m = manager(sqlite(&path), &clock);
    let bea = as_credential(&m, &accepted.credential).await;
    assert!(m.read_async(&bea, &id, |v| v.version).await.is_ok());
    m.revoke_async(&owner, &id, &accepted.grant_id, GrantKind::Credential)
        .await
        .unwrap();
    assert_eq!(
        m.resolve_credential_async(&accepted.credential)
            .await
            .unwrap(),
        None
    );
    let seats = m.seats_async(&owner, &id).await.unwrap();
    assert_eq!(seats[1].holder, SeatHolder::Open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_refuse_bad_codes_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let m = manager(sqlite(&dir.path().join("s.db")), &clock);
    let id = two_humans(&m, &owner).await;
    // Unknown seats and AI seats.
    assert!(matches!(
        m.invite_async(&owner, &id, "C", HOUR).await,
        Err(SessionError::InvalidRequest(_))
    ));
    let vs_ai = m
        .create_async(&owner, CreateSession::default(), |v| {
            v.session_id.to_owned()
        })
        .await
        .unwrap();
    assert!(matches!(
        m.invite_async(&owner, &vs_ai, "B", HOUR).await,
        Err(SessionError::GrantConflict(_))
    ));
    assert!(matches!(
        m.invite_async(&owner, &vs_ai, "A", HOUR).await,
        Err(SessionError::GrantConflict(_))
    ));
    // Malformed, unknown, expired, revoked, used.
    for code in ["", "nope", "kbi_zz", &format!("kbc_{}", "0".repeat(64))] {
        assert!(
            matches!(
                m.accept_async(code).await,
                Err(SessionError::InvalidRequest(_))
            ),
            "{code:?}"
        );
    }
    let unknown = format!("kbi_{}", "0".repeat(64));
    assert!(matches!(
        m.accept_async(&unknown).await,
        Err(SessionError::GrantNotFound(_))
    ));
    let short = m
        .invite_async(&owner, &id, "B", Duration::from_secs(60))
        .await
        .unwrap();
    clock.advance(61_000);
    assert!(matches!(
        m.accept_async(&short.code).await,
        Err(SessionError::GrantNotFound(_))
    ));
    let revoked = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    m.revoke_async(&owner, &id, &revoked.grant_id, GrantKind::Invitation)
        .await
        .unwrap();
    assert!(matches!(
        m.accept_async(&revoked.code).await,
        Err(SessionError::GrantNotFound(_))
    ));
    // A credential's id is not an invitation's.
    assert!(matches!(
        m.revoke_async(&owner, &id, &revoked.grant_id, GrantKind::Credential)
            .await,
        Err(SessionError::GrantNotFound(_))
    ));
    let good = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    m.accept_async(&good.code).await.unwrap();
    assert!(matches!(
        m.accept_async(&good.code).await,
        Err(SessionError::GrantConflict(_))
    ));
    // A spectator link works for several watchers, who only read.
    let watch = m
        .invite_async(&owner, &id, "spectator", HOUR)
        .await
        .unwrap();
    for _ in 0..2 {
        let accepted = m.accept_async(&watch.code).await.unwrap();
        let viewer = as_credential(&m, &accepted.credential).await;
        assert!(m.read_async(&viewer, &id, |v| v.version).await.is_ok());
        assert!(matches!(
            run(&m, &viewer, &id, Command::Advance).await,
            Err(SessionError::Forbidden(_))
        ));
    }
    let seats = m.seats_async(&owner, &id).await.unwrap();
    assert_eq!(seats.iter().filter(|s| s.role == "spectator").count(), 2);
    assert!(
        seats
            .iter()
            .filter(|s| s.role == "spectator")
            .all(|s| s.connected)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_joiners_racing_for_one_seat_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let m = manager(sqlite(&dir.path().join("s.db")), &clock);
    for _ in 0..5 {
        let id = two_humans(&m, &owner).await;
        let invitation = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
        let joiners: Vec<_> = (0..4)
            .map(|_| {
                let (m, code) = (Arc::clone(&m), invitation.code.clone());
                tokio::spawn(async move { m.accept_async(&code).await })
            })
            .collect();
        let mut wins = 0;
        for joiner in joiners {
            match joiner.await.unwrap() {
                Ok(_) => wins += 1,
                Err(SessionError::GrantConflict(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(wins, 1);
    }
}

/// A shared manager (one of several processes on one SQLite file).
fn shared(path: &std::path::Path, clock: &Arc<ManualClock>) -> Arc<SessionManager> {
    let mut options = ManagerOptions::new(sqlite(path));
    options.clock = clock.clone();
    options.shared = true;
    Arc::new(SessionManager::new(options).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_hold_across_two_servers_on_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let (one, two) = (shared(&path, &clock), shared(&path, &clock));
    let id = two_humans(&one, &owner).await;
    let invitation = one.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    // Two joiners, one on each server, race for the seat: one wins.
    let (a, b) = tokio::join!(
        one.accept_async(&invitation.code),
        two.accept_async(&invitation.code)
    );
    let accepted = match (a, b) {
        (Ok(won), Err(SessionError::GrantConflict(_)))
        | (Err(SessionError::GrantConflict(_)), Ok(won)) => won,
        other => panic!("exactly one should win: {other:?}"),
    };
    // The credential works on the other server, for its seat only.
    let bea = as_credential(&two, &accepted.credential).await;
    assert!(matches!(
        run(&two, &bea, &id, Command::Advance).await,
        Err(SessionError::Forbidden(_))
    ));
    let version = run(&two, &bea, &id, rename(PlayerId::B)).await.unwrap();
    assert_eq!(
        one.read_async(&owner, &id, |v| v.version).await.unwrap(),
        version
    );
    // Revoked on one server, it is refused on the other at once.
    one.revoke_async(&owner, &id, &accepted.grant_id, GrantKind::Credential)
        .await
        .unwrap();
    assert_eq!(
        two.resolve_credential_async(&accepted.credential)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_is_connected_just_after_its_credential_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let m = manager(sqlite(&dir.path().join("s.db")), &clock);
    let id = two_humans(&m, &owner).await;
    let invitation = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    let accepted = m.accept_async(&invitation.code).await.unwrap();
    let connected = || async { m.seats_async(&owner, &id).await.unwrap()[1].connected };
    assert!(!connected().await, "never used");
    as_credential(&m, &accepted.credential).await;
    let seen = m.seats_async(&owner, &id).await.unwrap()[1].last_seen_at;
    assert_eq!(seen, Some(1_800_000_000_000));
    assert!(connected().await, "just used");
    clock.advance(120_000);
    assert!(!connected().await, "used two minutes ago");
    as_credential(&m, &accepted.credential).await;
    assert!(connected().await, "used again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_session_keeps_its_seats_where_it_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let owner = Caller::user("olga");
    let from = sqlite(&dir.path().join("from.db"));
    let m = manager(from.clone(), &clock);
    let id = two_humans(&m, &owner).await;
    let invitation = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    let accepted = m.accept_async(&invitation.code).await.unwrap();
    let archive = kb_session::archive::export(from.as_ref(), &id).unwrap();
    assert_eq!(
        archive.grants.len(),
        3,
        "owner's seat, invitation, credential"
    );
    let text = serde_json::to_string(&archive).unwrap();
    assert!(
        !text.contains(&accepted.credential),
        "no secret in an archive"
    );
    assert!(!text.contains(&invitation.code), "no secret in an archive");

    let to = sqlite(&dir.path().join("to.db"));
    let parsed: kb_session::archive::SessionArchive = serde_json::from_str(&text).unwrap();
    kb_session::archive::import(to.as_ref(), &parsed).unwrap();
    let there = manager(to, &clock);
    let bea = as_credential(&there, &accepted.credential).await;
    assert!(there.read_async(&bea, &id, |v| v.version).await.is_ok());
    let seats = there.seats_async(&owner, &id).await.unwrap();
    assert_eq!(seats[0].holder, SeatHolder::Owner);
    assert!(matches!(seats[1].holder, SeatHolder::Credential { .. }));
    // The used invitation stays used.
    assert!(matches!(
        there.accept_async(&invitation.code).await,
        Err(SessionError::GrantConflict(_))
    ));
}

/// A grant the store refuses by its rules (here a second invitation to a
/// seat the first one filled) is a client's conflict: the store works,
/// and writes go on. It used to mark the store as failing, which refused
/// every session's writes until the next heartbeat.
#[tokio::test]
async fn a_refused_grant_is_a_conflict_not_a_failing_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let m = manager(sqlite(&dir.path().join("s.db")), &clock);
    let owner = Caller::user("owner");
    let id = two_humans(&m, &owner).await;
    let first = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    let second = m.invite_async(&owner, &id, "B", HOUR).await.unwrap();
    // Quiet for a while: the health check writes its heartbeat now, and
    // not again within the second, so what follows decides what it says.
    clock.advance(10_000);
    assert!(matches!(m.store_health(), StoreHealth::Writable));
    m.accept_async(&first.code).await.unwrap();
    let refused = m.accept_async(&second.code).await;
    assert!(
        matches!(&refused, Err(SessionError::GrantConflict(message)) if message.contains("seat")),
        "{refused:?}"
    );
    assert!(
        matches!(m.store_health(), StoreHealth::Writable),
        "{:?}",
        m.store_health()
    );
}
