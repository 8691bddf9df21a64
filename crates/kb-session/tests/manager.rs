//! SessionManager behaviour: persistence of every change, restoration after
//! a restart, reads that never write, idle purge without counting downtime,
//! capacity across restarts, quarantine of corrupt sessions, ownership, and
//! what happens when the store fails.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kb_engine::{Command, PlayerId};
use kb_session::{
    Caller, CreateSession, ManagerOptions, ManualClock, SessionError, SessionManager,
};
use kb_store::testkit::FaultyStore;
use kb_store::{ContentRecord, GameLog, MemoryStore, SessionStore, Write};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

const MINUTE: i64 = 60_000;

fn options(store: Arc<dyn SessionStore>, clock: &Arc<ManualClock>) -> ManagerOptions {
    let mut options = ManagerOptions::new(store);
    options.clock = clock.clone();
    options
}

fn alice() -> Caller {
    Caller::user("alice")
}

fn create(manager: &SessionManager, caller: &Caller) -> String {
    manager
        .create(caller, CreateSession::default(), |view| {
            view.session_id.to_owned()
        })
        .unwrap()
}

fn run(
    manager: &SessionManager,
    caller: &Caller,
    id: &str,
    command: Command,
) -> Result<u64, SessionError> {
    manager.execute(caller, id, command, None, |view, _| view.version)
}

fn tax() -> Command {
    Command::Action {
        action_id: "tax".into(),
        params: Default::default(),
        player_id: None,
    }
}

/// The game of a session, serialized as a checkpoint stores it.
fn state(manager: &SessionManager, id: &str) -> String {
    manager
        .read(&Caller::admin("admin"), id, |view| {
            String::from_utf8(kb_session::stored::encode(view.game.state())).unwrap()
        })
        .unwrap()
}

/// Plays a few turns: A advances to main and taxes, B plays by AI.
fn play(manager: &SessionManager, caller: &Caller, id: &str, turns: usize) {
    for _ in 0..turns {
        for _ in 0..7 {
            run(manager, caller, id, Command::Advance).unwrap();
        }
        run(manager, caller, id, tax()).unwrap();
        run(manager, caller, id, Command::Advance).unwrap();
        run(
            manager,
            caller,
            id,
            Command::AiTurn {
                player_id: PlayerId::B,
            },
        )
        .unwrap();
    }
}

#[test]
fn a_restarted_manager_continues_every_game_exactly() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    play(&manager, &alice(), &id, 3);
    run(
        &manager,
        &alice(),
        &id,
        Command::SetDevMode { enabled: true },
    )
    .unwrap();
    run(
        &manager,
        &alice(),
        &id,
        Command::SetPlayerName {
            player_id: PlayerId::A,
            player_name: "Queen".into(),
        },
    )
    .unwrap();
    let before = state(&manager, &id);
    let version = manager.read(&alice(), &id, |v| v.version).unwrap();
    drop(manager);

    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(restarted.session_count(), 1);
    assert_eq!(
        state(&restarted, &id),
        before,
        "turn, phase, resources, names, dev mode"
    );
    assert_eq!(
        restarted.read(&alice(), &id, |v| v.version).unwrap(),
        version
    );
    // And it plays on identically.
    run(&restarted, &alice(), &id, Command::Advance).unwrap();
}

#[test]
fn checkpoints_bound_replay_and_restore_the_same_state() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let mut opts = options(Arc::new(memory.reopen()), &clock);
    opts.checkpoint_every = 5;
    let manager = SessionManager::new(opts.clone()).unwrap();
    let id = create(&manager, &alice());
    play(&manager, &alice(), &id, 4);
    let before = state(&manager, &id);
    drop(manager);
    let log = memory.load_log(&id).unwrap();
    let checkpoint = log.checkpoint.expect("a checkpoint was written");
    assert!(
        log.commands.len() < 5,
        "only the tail after the checkpoint is replayed"
    );
    assert_eq!(checkpoint.version % 5, 0);
    opts.store = Arc::new(memory.reopen());
    let restarted = SessionManager::new(opts).unwrap();
    assert_eq!(state(&restarted, &id), before);
}

#[test]
fn refused_commands_and_reads_write_nothing() {
    let spy = FaultyStore::new(Arc::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(spy.clone(), &clock)).unwrap();
    let id = create(&manager, &alice());
    let commits = spy.commits();
    // Taxing in the growth phase is refused by the engine.
    let error = run(&manager, &alice(), &id, tax()).unwrap_err();
    assert!(matches!(error, SessionError::Engine(_)), "{error:?}");
    for _ in 0..10 {
        clock.advance(1000);
        manager.read(&alice(), &id, |v| v.version).unwrap();
    }
    assert_eq!(spy.commits(), commits);
    // An AI turn when it is not the AI's turn changes nothing either.
    run(
        &manager,
        &alice(),
        &id,
        Command::AiTurn {
            player_id: PlayerId::B,
        },
    )
    .unwrap();
    assert_eq!(spy.commits(), commits);
    run(&manager, &alice(), &id, Command::Advance).unwrap();
    assert_eq!(spy.commits(), commits + 1);
}

#[test]
fn a_failed_commit_leaves_no_trace_in_memory() {
    let spy = FaultyStore::new(Arc::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(spy.clone(), &clock)).unwrap();
    let id = create(&manager, &alice());
    let before = state(&manager, &id);
    spy.set_down(true);
    let error = run(&manager, &alice(), &id, Command::Advance).unwrap_err();
    assert!(matches!(error, SessionError::Unavailable(_)), "{error:?}");
    spy.set_down(false);
    assert_eq!(
        state(&manager, &id),
        before,
        "rebuilt from the store, without the advance"
    );
    assert_eq!(run(&manager, &alice(), &id, Command::Advance).unwrap(), 2);
}

#[test]
fn idle_sessions_are_purged_and_deleted_from_the_store() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let idle = create(&manager, &alice());
    let busy = create(&manager, &alice());
    clock.advance(10 * MINUTE);
    manager.read(&alice(), &busy, |_| ()).unwrap();
    clock.advance(5 * MINUTE);
    assert_eq!(
        manager.maintain(),
        0,
        "exactly 15 minutes idle is still alive"
    );
    clock.advance(1);
    assert_eq!(manager.maintain(), 1);
    assert!(matches!(
        manager.read(&alice(), &idle, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    manager.read(&alice(), &busy, |_| ()).unwrap();
    let ids: Vec<String> = memory
        .load_all()
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.session_id)
        .collect();
    assert_eq!(ids, [busy]);
}

#[test]
fn downtime_does_not_count_as_idle_time() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    clock.advance(10 * MINUTE);
    manager.maintain(); // heartbeat: alive at 10 minutes, session idle 10 minutes
    drop(manager); // a crash: no close()

    clock.advance(5 * 60 * MINUTE);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(restarted.report().purged, 0);
    clock.advance(5 * MINUTE);
    assert_eq!(restarted.maintain(), 0);
    clock.advance(1);
    assert_eq!(
        restarted.maintain(),
        1,
        "10 minutes before the stop + 5 after the start"
    );
    let _ = id;
}

#[test]
fn a_session_only_read_survives_a_crash() {
    // A spectator reads a session for 40 minutes without writing, upkeep
    // running every minute; then the server is killed. The session was in
    // use until the crash and must not be purged at the restart.
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    let stored = || memory.load_session(&id).unwrap().unwrap().last_accessed_at;
    let mut touched_at = Vec::new();
    for minute in 1..=40 {
        clock.advance(MINUTE);
        manager.read(&alice(), &id, |_| ()).unwrap();
        manager.maintain();
        if touched_at.last().map_or(0, |&(_, at)| at) != stored() {
            touched_at.push((minute, stored()));
        }
    }
    // Written down only once it lags by more than a quarter of the idle
    // timeout (15 minutes): at minutes 4, 8, ... never on every read.
    let minutes: Vec<i64> = touched_at.iter().map(|&(minute, _)| minute).collect();
    assert_eq!(minutes, [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
    drop(manager); // a crash: no close()

    clock.advance(60 * MINUTE);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(restarted.report().purged, 0);
    restarted.read(&alice(), &id, |_| ()).unwrap();
}

#[test]
fn sessions_idle_too_long_at_the_stop_are_purged_on_start() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    create(&manager, &alice());
    clock.advance(20 * MINUTE);
    manager.close().unwrap();
    clock.advance(60 * MINUTE);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(restarted.report().purged, 1);
    assert_eq!(restarted.session_count(), 0);
}

#[test]
fn max_sessions_holds_across_restarts() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let mut opts = options(Arc::new(memory.reopen()), &clock);
    opts.max_sessions = Some(2);
    let manager = SessionManager::new(opts.clone()).unwrap();
    create(&manager, &alice());
    create(&manager, &alice());
    let error = manager
        .create(&alice(), CreateSession::default(), |_| ())
        .unwrap_err();
    assert!(matches!(
        error,
        SessionError::CapacityReached { max_sessions: 2 }
    ));
    drop(manager);
    opts.store = Arc::new(memory.reopen());
    let restarted = SessionManager::new(opts).unwrap();
    let error = restarted
        .create(&alice(), CreateSession::default(), |_| ())
        .unwrap_err();
    assert!(matches!(error, SessionError::CapacityReached { .. }));
}

#[test]
fn sessions_belong_to_their_creator() {
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(MemoryStore::new()), &clock)).unwrap();
    let id = create(&manager, &alice());
    let bob = Caller::user("bob");
    assert!(matches!(
        manager.read(&bob, &id, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    assert!(matches!(
        run(&manager, &bob, &id, Command::Advance),
        Err(SessionError::NotFound { .. })
    ));
    assert!(matches!(
        manager.delete(&bob, &id),
        Err(SessionError::NotFound { .. })
    ));
    manager.read(&Caller::admin("root"), &id, |_| ()).unwrap();
    assert!(manager.list(&bob).unwrap().is_empty());
    assert_eq!(manager.list(&alice()).unwrap().len(), 1);
}

#[test]
fn stale_versions_are_refused() {
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(MemoryStore::new()), &clock)).unwrap();
    let id = create(&manager, &alice());
    let version = manager.read(&alice(), &id, |v| v.version).unwrap();
    manager
        .execute(&alice(), &id, Command::Advance, Some(version), |_, _| ())
        .unwrap();
    let error = manager
        .execute(&alice(), &id, Command::Advance, Some(version), |_, _| ())
        .unwrap_err();
    assert!(
        matches!(error, SessionError::Stale { expected, actual, .. } if expected == version && actual == version + 1)
    );
}

#[test]
fn deleted_sessions_are_gone_everywhere() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    manager.delete(&alice(), &id).unwrap();
    assert!(matches!(
        manager.read(&alice(), &id, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    assert!(memory.load_all().unwrap().records.is_empty());
    assert_eq!(memory.load_log(&id).unwrap(), GameLog::default());
}

#[test]
fn concurrent_commands_on_one_session_are_serialized() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager =
        Arc::new(SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap());
    let id = create(&manager, &alice());
    let versions = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (manager, id, versions) = (manager.clone(), id.clone(), versions.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let v = run(&manager, &alice(), &id, Command::Advance).unwrap();
                    versions.lock().unwrap().push(v);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut versions = versions.lock().unwrap().clone();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (2..=161).collect::<Vec<u64>>(),
        "each command saw its own version"
    );
    let live = state(&manager, &id);
    drop(manager);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(state(&restarted, &id), live);
}

#[test]
fn a_corrupt_log_is_quarantined_and_the_others_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let clock = Arc::new(ManualClock::new(0));
    let open = || -> Arc<dyn SessionStore> {
        Arc::new(SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap())
    };
    let manager = SessionManager::new(options(open(), &clock)).unwrap();
    let good = create(&manager, &alice());
    let bad = create(&manager, &alice());
    play(&manager, &alice(), &good, 1);
    play(&manager, &alice(), &bad, 1);
    let good_state = state(&manager, &good);
    manager.close().unwrap();

    let conn = rusqlite_connection(&path);
    conn.execute(
        "UPDATE sessions_commands SET command = '{\"type\":\"action\",\"actionId\":\"build\",\"params\":{\"id\":\"palace\"}}'
         WHERE seq = 3 AND session_key = (SELECT session_key FROM sessions WHERE session_id = ?1)",
        [&bad],
    )
    .unwrap();
    drop(conn);

    let restarted = SessionManager::new(options(open(), &clock)).unwrap();
    assert_eq!(state(&restarted, &good), good_state);
    assert!(matches!(
        restarted.read(&alice(), &bad, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    let report = restarted.report();
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].session_id, bad);
    assert!(
        report.quarantined[0].reason.contains("log entry 3"),
        "{}",
        report.quarantined[0].reason
    );
    restarted.close().unwrap();
    let store = open();
    assert_eq!(store.list_quarantined().unwrap().len(), 1);
    assert_eq!(store.load_all().unwrap().records.len(), 1);
}

fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn player_names_and_dev_mode_at_creation_survive() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let request = CreateSession {
        dev_mode: true,
        config: None,
        player_names: vec![(PlayerId::A, "Alpha".into()), (PlayerId::B, "Beta".into())],
        ai_players: None,
        ai_level: None,
        ..CreateSession::default()
    };
    let id = manager
        .create(&alice(), request, |v| v.session_id.to_owned())
        .unwrap();
    drop(manager);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    restarted
        .read(&alice(), &id, |view| {
            let state = view.game.state();
            assert!(state.dev_mode);
            assert_eq!(state.players.a.name, "Alpha");
            assert_eq!(state.players.b.name, "Beta");
            assert_eq!(
                state.players.a.resources.value("gold"),
                100.0,
                "created in dev mode"
            );
        })
        .unwrap();
}

#[test]
fn a_later_dev_mode_toggle_does_not_reseed_the_game() {
    // The reference replayed the current flag as a creation flag (§4.5).
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    run(
        &manager,
        &alice(),
        &id,
        Command::SetDevMode { enabled: true },
    )
    .unwrap();
    drop(manager);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    restarted
        .read(&alice(), &id, |view| {
            assert!(view.game.state().dev_mode);
            assert_eq!(view.game.state().players.a.resources.value("gold"), 10.0);
        })
        .unwrap();
    assert!(
        memory.load_all().unwrap().records[0].dev_mode,
        "the header shows the flag for operators"
    );
}

#[test]
fn close_then_use_is_refused() {
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(MemoryStore::new()), &clock)).unwrap();
    let id = create(&manager, &alice());
    manager.close().unwrap();
    assert!(matches!(
        manager.read(&alice(), &id, |_| ()),
        Err(SessionError::Closed)
    ));
    let _ = Duration::from_secs(1);
}

#[test]
fn a_restored_session_plays_by_the_content_it_was_created_with() {
    // Content as an older release shipped it: Tax gave 5 gold per person.
    // The session was created then; the server's default now gives 4.
    let mut pack: serde_json::Value = serde_json::from_str(kb_content::DEFAULT_PACK_JSON).unwrap();
    let tax_def = pack["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["id"] == "tax")
        .unwrap();
    tax_def["effects"][0]["effects"][0]["params"]["amount"] = serde_json::json!(5);
    let old = kb_content::ContentPack::from_json(&pack.to_string()).unwrap();
    let old_content = old.base_session().clone();
    assert_ne!(
        old_content.id(),
        kb_content::ContentPack::default_pack().base_session().id()
    );
    let record = old_content.to_record();
    let memory = MemoryStore::new();
    let header = kb_store::SessionRecord {
        session_id: "old-game".into(),
        created_at: 0,
        last_accessed_at: 0,
        dev_mode: false,
        config: None,
        content_id: old_content.id().as_str().to_owned(),
        owner: Some("alice".into()),
        version: 0,
    };
    memory
        .commit(vec![
            Write::PutContent(ContentRecord {
                content_id: old_content.id().as_str().to_owned(),
                content: record.engine,
                registries: record.registries,
                metadata: record.metadata,
            }),
            Write::SaveSession(header.clone()),
            Write::append(
                &(kb_store::SessionRecord {
                    version: 1,
                    ..header
                }),
                vec![r#"{"type":"start","devMode":false}"#.into()],
            ),
        ])
        .unwrap();

    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    for _ in 0..7 {
        run(&manager, &alice(), "old-game", Command::Advance).unwrap();
    }
    run(&manager, &alice(), "old-game", tax()).unwrap();
    let gold = manager
        .read(&alice(), "old-game", |v| {
            v.game.state().players.a.resources.value("gold")
        })
        .unwrap();
    assert_eq!(
        gold, 15.0,
        "5 gold per person, as the session's own content says"
    );
    // A new session uses today's default.
    let fresh = create(&manager, &alice());
    for _ in 0..7 {
        run(&manager, &alice(), &fresh, Command::Advance).unwrap();
    }
    run(&manager, &alice(), &fresh, tax()).unwrap();
    let gold = manager
        .read(&alice(), &fresh, |v| {
            v.game.state().players.a.resources.value("gold")
        })
        .unwrap();
    assert_eq!(gold, 14.0);
}

#[test]
fn sessions_from_a_reference_database_are_adopted_as_fresh_games() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    let conn = rusqlite_connection(&path);
    conn.execute_batch(
        "CREATE TABLE sessions (session_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL,
            last_accessed_at INTEGER NOT NULL, dev_mode INTEGER NOT NULL, config TEXT,
            registries TEXT NOT NULL, metadata TEXT NOT NULL);
         INSERT INTO sessions VALUES ('ref-1', 1000, 2000, 1, NULL, '{}', '{}');
         INSERT INTO sessions VALUES ('ref-2', 1000, 2000, 0, '{\"actions\": 7}', '{}', '{}');",
    )
    .unwrap();
    drop(conn);
    let store = Arc::new(SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap());
    let clock = Arc::new(ManualClock::new(3000));
    let manager = SessionManager::new(options(store, &clock)).unwrap();
    let admin = Caller::admin("root");
    manager
        .read(&admin, "ref-1", |view| {
            assert!(view.game.state().dev_mode);
            assert_eq!(view.game.state().players.a.resources.value("gold"), 100.0);
            assert_eq!(view.version, 0);
        })
        .unwrap();
    assert!(matches!(
        manager.read(&admin, "ref-2", |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    assert_eq!(
        manager.report().quarantined.len(),
        1,
        "its config is not a game config"
    );
    // It plays on and persists like any session.
    run(&manager, &admin, "ref-1", Command::Advance).unwrap();
    let before = state(&manager, "ref-1");
    manager.close().unwrap();
    let store = Arc::new(SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap());
    let restarted = SessionManager::new(options(store, &clock)).unwrap();
    assert_eq!(state(&restarted, "ref-1"), before);
}

#[test]
fn try_read_never_does_io_and_read_does() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    assert_eq!(
        manager
            .try_read(&alice(), &id, |v| v.version)
            .map(Result::unwrap),
        Some(1)
    );
    assert!(matches!(
        manager.try_read(&Caller::user("bob"), &id, |_| ()),
        Some(Err(SessionError::NotFound { .. }))
    ));
    drop(manager);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert!(
        restarted.try_read(&alice(), &id, |_| ()).is_none(),
        "a session not rebuilt yet needs I/O: try_read declines"
    );
    assert_eq!(restarted.read(&alice(), &id, |v| v.version).unwrap(), 1);
    assert_eq!(
        restarted
            .try_read(&alice(), &id, |v| v.version)
            .map(Result::unwrap),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_writes_are_durable_serialized_and_rebuild_cold_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let open = move || -> Arc<dyn SessionStore> {
        Arc::new(SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap())
    };
    let clock = Arc::new(ManualClock::new(0));
    let manager = Arc::new(SessionManager::new(options(open(), &clock)).unwrap());
    let id = manager
        .create_async(&alice(), CreateSession::default(), |v| {
            v.session_id.to_owned()
        })
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (manager, id) = (manager.clone(), id.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..20 {
                    let v = manager
                        .execute_async(&alice(), &id, Command::Advance, None, |v, _| v.version)
                        .await
                        .unwrap();
                    seen.push(v);
                }
                seen
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        versions.extend(task.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=161).collect::<Vec<u64>>());
    let live = manager
        .try_read(&alice(), &id, |v| v.game.state().clone())
        .unwrap()
        .unwrap();
    let closing = manager.clone();
    tokio::task::spawn_blocking(move || closing.close())
        .await
        .unwrap()
        .unwrap();

    // Restarted: the session is cold; the async path rebuilds it off-thread.
    let reopened =
        tokio::task::spawn_blocking(move || SessionManager::new(options(open(), &clock)))
            .await
            .unwrap()
            .unwrap();
    let restarted = Arc::new(reopened);
    assert!(
        restarted.try_read(&alice(), &id, |_| ()).is_none(),
        "cold after a restart"
    );
    let version = restarted
        .execute_async(&alice(), &id, Command::Advance, Some(161), |v, _| v.version)
        .await
        .unwrap();
    assert_eq!(version, 162);
    let mut expected: kb_engine::GameState = live;
    let restored = restarted
        .try_read(&alice(), &id, |v| v.game.clone())
        .unwrap()
        .unwrap();
    let mut game =
        kb_engine::Game::from_state(restored.content().clone(), expected.clone()).unwrap();
    game.apply(&Command::Advance).unwrap();
    expected = game.into_state();
    assert_eq!(
        restored.state(),
        &expected,
        "161 commands restored, then one more"
    );
}

#[test]
fn a_damaged_content_row_is_repaired_by_the_next_session_not_spread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let open = || -> Arc<dyn SessionStore> {
        Arc::new(SqliteSessionStore::open(SqliteOptions::new(&path)).unwrap())
    };
    let clock = Arc::new(ManualClock::new(0));
    let config_json = serde_json::json!({"start": {"player": {"resources": {"gold": 7, "ap": 0}}}});
    let config: kb_protocol::schema::GameConfig =
        serde_json::from_value(config_json.clone()).unwrap();
    let request = || CreateSession {
        dev_mode: false,
        config: Some((config_json.clone(), config.clone())),
        player_names: Vec::new(),
        ai_players: None,
        ai_level: None,
        ..CreateSession::default()
    };
    let manager = SessionManager::new(options(open(), &clock)).unwrap();
    let first = manager
        .create(&alice(), request(), |v| v.session_id.to_owned())
        .unwrap();
    manager.close().unwrap();

    rusqlite_connection(&path)
        .execute("UPDATE sessions_contents SET content = '{\"broken\":'", [])
        .unwrap();
    let manager = SessionManager::new(options(open(), &clock)).unwrap();
    assert!(matches!(
        manager.read(&alice(), &first, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    let second = manager
        .create(&alice(), request(), |v| v.session_id.to_owned())
        .unwrap();
    manager.close().unwrap();

    let manager = SessionManager::new(options(open(), &clock)).unwrap();
    let gold = manager
        .read(&alice(), &second, |v| {
            v.game.state().players.a.resources.value("gold")
        })
        .unwrap();
    assert_eq!(
        gold, 7.0,
        "the second session plays by its (repaired) content"
    );
}

#[test]
fn the_ai_can_play_either_seat_and_it_survives_a_restart() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let request = CreateSession {
        ai_players: Some(vec![PlayerId::A]),
        ..CreateSession::default()
    };
    let id = manager
        .create(&alice(), request, |v| v.session_id.to_owned())
        .unwrap();
    let outcome = manager
        .execute(
            &alice(),
            &id,
            Command::AiTurn {
                player_id: PlayerId::A,
            },
            None,
            |view, outcome| {
                assert_eq!(
                    view.game.state().active,
                    PlayerId::B,
                    "A's whole turn was played"
                );
                matches!(outcome, kb_engine::Outcome::AiTurn(turn) if turn.ran_turn)
            },
        )
        .unwrap();
    assert!(outcome);
    // B is human now: the AI may not play it.
    let error = run(
        &manager,
        &alice(),
        &id,
        Command::AiTurn {
            player_id: PlayerId::B,
        },
    )
    .unwrap_err();
    assert!(matches!(
        error,
        SessionError::Engine(kb_engine::EngineError::NoAiController(PlayerId::B))
    ));
    let before = state(&manager, &id);
    drop(manager);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert_eq!(state(&restarted, &id), before);
    restarted
        .read(&alice(), &id, |v| {
            assert!(v.game.state().ai.a && !v.game.state().ai.b)
        })
        .unwrap();
}

#[test]
fn the_ai_level_is_kept_with_the_session_across_restarts_and_checkpoints() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let mut opts = options(Arc::new(memory.reopen()), &clock);
    opts.checkpoint_every = 4;
    let manager = SessionManager::new(opts.clone()).unwrap();
    let chosen = manager
        .create(
            &alice(),
            CreateSession {
                ai_level: Some("hard".into()),
                ..CreateSession::default()
            },
            |v| {
                assert_eq!(v.ai_level, Some("hard"));
                v.session_id.to_owned()
            },
        )
        .unwrap();
    let default = create(&manager, &alice());
    // Past a checkpoint: a rebuild starts from it, not from entry 1.
    play(&manager, &alice(), &chosen, 1);
    drop(manager);
    opts.store = Arc::new(memory.reopen());
    let restarted = SessionManager::new(opts).unwrap();
    let level = |id: &str| {
        restarted
            .read(&alice(), id, |v| v.ai_level.map(str::to_owned))
            .unwrap()
    };
    assert_eq!(level(&chosen).as_deref(), Some("hard"));
    assert_eq!(level(&default), None);
}

/// Polls `write` until the store holds `count` of its batches, then drops
/// it: the caller stops waiting while the commit is in flight (what a
/// client's reset does to its HTTP handler).
async fn abandon_once_held<F: std::future::Future>(write: F, store: &FaultyStore, count: usize) {
    let mut write = Box::pin(write);
    for _ in 0..10_000 {
        tokio::select! {
            _ = &mut write => panic!("the write finished while its commit was held"),
            () = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
        if store.held() == count {
            return;
        }
    }
    panic!("the write never reached the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_stops_waiting_completes_all_the_same() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(0));
    let manager = Arc::new(SessionManager::new(options(store.clone(), &clock)).unwrap());
    let id = manager
        .create_async(&alice(), CreateSession::default(), |v| {
            v.session_id.to_owned()
        })
        .await
        .unwrap();

    store.hold();
    abandon_once_held(
        manager.execute_async(&alice(), &id, Command::Advance, None, |v, _| v.version),
        &store,
        1,
    )
    .await;
    abandon_once_held(
        manager.create_async(&alice(), CreateSession::default(), |_| ()),
        &store,
        2,
    )
    .await;
    assert_eq!(store.release(), 2);

    // The abandoned command settled: the next one appends after it, and
    // memory and store agree.
    let next = manager
        .execute_async(&alice(), &id, Command::Advance, None, |v, _| v.version)
        .await
        .unwrap();
    assert_eq!(next, 3);
    assert_eq!(store.load_session(&id).unwrap().unwrap().version, 3);
    // The abandoned creation is a session like any other, once its task,
    // which nobody awaits, has settled (its commit was released above).
    for _ in 0..5_000 {
        if manager.session_count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(manager.session_count(), 2);
    assert_eq!(store.count_sessions().unwrap(), 2);
    assert!(store.list_quarantined().unwrap().is_empty());
}

#[test]
fn a_commit_whose_answer_was_lost_is_found_in_the_log_not_quarantined() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(store.clone(), &clock)).unwrap();
    let id = create(&manager, &alice());
    let doomed = create(&manager, &alice());

    // The commits land, their answers are lost: the callers are told the
    // store failed.
    store.set_answers_lost(true);
    assert!(matches!(
        run(&manager, &alice(), &id, Command::Advance),
        Err(SessionError::Unavailable(_))
    ));
    assert!(matches!(
        manager.delete(&alice(), &doomed),
        Err(SessionError::Unavailable(_))
    ));
    store.set_answers_lost(false);

    // The log is the truth: the advance is there, the next command goes
    // after it; the deleted session is gone. Nothing is quarantined.
    assert_eq!(manager.read(&alice(), &id, |v| v.version).unwrap(), 2);
    assert_eq!(run(&manager, &alice(), &id, Command::Advance).unwrap(), 3);
    assert_eq!(store.load_session(&id).unwrap().unwrap().version, 3);
    assert!(matches!(
        manager.read(&alice(), &doomed, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    assert!(manager.report().quarantined.is_empty());
    assert!(store.list_quarantined().unwrap().is_empty());
}

#[test]
fn a_stored_header_behind_its_log_is_rebuilt_from_the_log_at_start_and_at_rebuild() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let at_start = create(&manager, &alice());
    let at_rebuild = create(&manager, &alice());
    for id in [&at_start, &at_rebuild] {
        for _ in 0..3 {
            run(&manager, &alice(), id, Command::Advance).unwrap();
        }
    }
    let expected = state(&manager, &at_start);
    drop(manager);

    memory.set_stored_version(&at_start, 2);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert!(restarted.report().quarantined.is_empty());
    assert_eq!(
        restarted.read(&alice(), &at_start, |v| v.version).unwrap(),
        4
    );
    assert_eq!(state(&restarted, &at_start), expected);
    // Hydrated at 4, then damaged under the running server: the rebuild
    // on first use reads the store, which rebuilds the header from its log.
    memory.set_stored_version(&at_rebuild, 1);
    assert_eq!(
        restarted
            .read(&alice(), &at_rebuild, |v| v.version)
            .unwrap(),
        4
    );
    assert_eq!(
        run(&restarted, &alice(), &at_rebuild, Command::Advance).unwrap(),
        5
    );
    assert!(memory.list_quarantined().unwrap().is_empty());
}

#[test]
fn a_log_shorter_than_its_header_cannot_be_replayed_and_is_quarantined() {
    let memory = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(0));
    let manager = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    let id = create(&manager, &alice());
    run(&manager, &alice(), &id, Command::Advance).unwrap();
    drop(manager);
    memory.set_stored_version(&id, 9);
    let restarted = SessionManager::new(options(Arc::new(memory.reopen()), &clock)).unwrap();
    assert!(matches!(
        restarted.read(&alice(), &id, |_| ()),
        Err(SessionError::NotFound { .. })
    ));
    let quarantined = memory.list_quarantined().unwrap();
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0]
            .reason
            .contains("log holds 2 entries, header says 9"),
        "{}",
        quarantined[0].reason
    );
}
