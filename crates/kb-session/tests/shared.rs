//! Several processes on one store (`ManagerOptions::shared`): each test
//! runs two managers, each over its own connection to one SQLite file, as
//! two server processes would. They see each other's sessions, commands
//! and deletes; concurrent writers lose no update and apply none twice;
//! purging spares a session the other one uses; the session limit and the
//! listing count every process.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use kb_engine::{Command, PlayerId};
use kb_session::{
    Caller, CreateSession, ManagerOptions, ManualClock, SessionError, SessionManager,
};
use kb_store::SessionStore;
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};
use tempfile::TempDir;

const MINUTE: i64 = 60_000;

/// One database file and a clock the processes share.
struct Cluster {
    dir: TempDir,
    clock: Arc<ManualClock>,
}

impl Cluster {
    fn new() -> Self {
        Cluster {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(ManualClock::new(1_700_000_000_000)),
        }
    }

    fn store(&self) -> Arc<SqliteSessionStore> {
        let path = self.dir.path().join("sessions.db");
        Arc::new(SqliteSessionStore::open(SqliteOptions::new(path)).unwrap())
    }

    /// A server process: a shared manager on its own connection.
    fn process(&self) -> SessionManager {
        self.process_with(|_| {})
    }

    fn process_with(&self, tweak: impl FnOnce(&mut ManagerOptions)) -> SessionManager {
        let mut options = ManagerOptions::new(self.store());
        options.clock = self.clock.clone();
        options.shared = true;
        tweak(&mut options);
        SessionManager::new(options).unwrap()
    }
}

fn admin() -> Caller {
    Caller::admin("admin")
}

fn create(manager: &SessionManager) -> String {
    manager
        .create(&admin(), CreateSession::default(), |view| {
            view.session_id.to_owned()
        })
        .unwrap()
}

fn run(manager: &SessionManager, id: &str, command: Command) -> Result<u64, SessionError> {
    manager.execute(&admin(), id, command, None, |view, _| view.version)
}

fn rename(name: &str) -> Command {
    Command::SetPlayerName {
        player_id: PlayerId::A,
        player_name: name.to_owned(),
    }
}

/// A session's version and game, serialized as a checkpoint stores it.
fn read(manager: &SessionManager, id: &str) -> Result<(u64, String), SessionError> {
    manager.read(&admin(), id, |view| {
        (
            view.version,
            String::from_utf8(kb_session::stored::encode(view.game.state())).unwrap(),
        )
    })
}

/// The player names the session's log recorded, in order.
fn logged_names(store: &dyn SessionStore, id: &str) -> Vec<String> {
    let log = store.load_log(id).unwrap();
    assert!(log.checkpoint.is_none(), "short logs have no checkpoint");
    log.commands
        .iter()
        .filter_map(|entry| {
            let value: serde_json::Value = serde_json::from_str(entry).unwrap();
            value["playerName"].as_str().map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_session_created_by_one_process_is_played_by_the_other() {
    let cluster = Cluster::new();
    let (one, two) = (cluster.process(), cluster.process());
    let id = create(&one);
    assert_eq!(read(&two, &id).unwrap(), read(&one, &id).unwrap());

    let version = run(&two, &id, Command::Advance).unwrap();
    let (seen, state) = read(&one, &id).unwrap();
    assert_eq!(seen, version, "one sees the command two committed");
    assert_eq!(state, read(&two, &id).unwrap().1);

    let version = run(&one, &id, Command::Advance).unwrap();
    assert_eq!(read(&two, &id).unwrap().0, version);
}

#[test]
fn alternating_processes_build_the_game_one_process_would() {
    let cluster = Cluster::new();
    let (one, two) = (cluster.process(), cluster.process());
    let id = create(&one);
    let solo =
        SessionManager::new(ManagerOptions::new(Arc::new(kb_store::MemoryStore::new()))).unwrap();
    let solo_id = create(&solo);
    let commands = (0..20).flat_map(|turn| {
        [
            Command::Advance,
            rename(&format!("turn {turn}")),
            Command::AiTurn {
                player_id: PlayerId::B,
            },
        ]
    });
    let mut versions = Vec::new();
    for (i, command) in commands.enumerate() {
        let process = if i % 2 == 0 { &one } else { &two };
        let here = process.execute(&admin(), &id, command.clone(), None, |view, _| view.version);
        let there = solo.execute(&admin(), &solo_id, command, None, |view, _| view.version);
        assert_eq!(here.is_ok(), there.is_ok(), "command {i}");
        if let (Ok(here), Ok(there)) = (here, there) {
            assert_eq!(here, there, "command {i}");
            versions.push(here);
        }
    }
    assert!(
        versions.len() > 40 && versions.last() > Some(&40),
        "{versions:?}"
    );
    let (_, shared_state) = read(&one, &id).unwrap();
    assert_eq!(shared_state, read(&solo, &solo_id).unwrap().1);
    assert_eq!(read(&two, &id).unwrap().1, shared_state);
}

#[test]
fn concurrent_writers_lose_no_update_and_apply_none_twice() {
    let cluster = Cluster::new();
    let id = create(&cluster.process());
    let writers: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|name| {
            let process = cluster.process();
            let id = id.clone();
            thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut refused = 0;
                for i in 0..60 {
                    let player_name = format!("{name}-{i}");
                    match run(&process, &id, rename(&player_name)) {
                        Ok(version) => acknowledged.push((version, player_name)),
                        // Lost the race several times in a row: the client
                        // is told to retry, and nothing was written.
                        Err(SessionError::Concurrent { .. }) => refused += 1,
                        Err(other) => panic!("{other}"),
                    }
                }
                (acknowledged, refused)
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for writer in writers {
        let (done, refused) = writer.join().unwrap();
        assert!(refused < 60, "{refused} of 60 refused");
        acknowledged.extend(done);
    }
    acknowledged.sort();
    let versions: BTreeSet<u64> = acknowledged.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        versions.len(),
        acknowledged.len(),
        "a version acknowledged twice"
    );

    let store = cluster.store();
    let logged = logged_names(store.as_ref(), &id);
    let expected: Vec<String> = acknowledged.into_iter().map(|(_, name)| name).collect();
    assert_eq!(
        logged, expected,
        "the log is exactly the acknowledged commands, in order"
    );
    // A third process restores the same game.
    let restored = read(&cluster.process(), &id).unwrap();
    assert_eq!(restored.0, 1 + expected.len() as u64);
}

#[test]
fn if_match_is_checked_against_the_stored_version() {
    let cluster = Cluster::new();
    let (one, two) = (cluster.process(), cluster.process());
    let id = create(&one);
    let before = read(&one, &id).unwrap().0;
    let after = run(&two, &id, Command::Advance).unwrap();

    let stale = one.execute(&admin(), &id, Command::Advance, Some(before), |v, _| {
        v.version
    });
    assert!(
        matches!(stale, Err(SessionError::Stale { expected, actual, .. }) if expected == before && actual == after),
        "{stale:?}"
    );
    let current = one.execute(&admin(), &id, Command::Advance, Some(after), |v, _| {
        v.version
    });
    assert_eq!(current.unwrap(), after + 1);
    assert!(matches!(
        two.delete_at(&admin(), &id, Some(after)),
        Err(SessionError::Stale { .. })
    ));
    two.delete_at(&admin(), &id, Some(after + 1)).unwrap();
}

#[test]
fn a_delete_under_if_match_never_takes_a_write_it_did_not_see() {
    // One process writes without pause; the other deletes at the version it
    // read. Whatever the interleaving, a delete that succeeds removed
    // exactly that version: no acknowledged write is newer.
    let cluster = Cluster::new();
    let (writer, deleter) = (cluster.process(), cluster.process());
    for round in 0..20 {
        let id = create(&writer);
        let (deleted_at, newest_acknowledged) = thread::scope(|scope| {
            let writes = scope.spawn(|| {
                let mut newest = 0;
                // Bounded, so the deleter always gets its turn in the end.
                for i in 0..2_000 {
                    match run(&writer, &id, rename(&format!("r{round}-{i}"))) {
                        Ok(version) => newest = version,
                        Err(SessionError::Concurrent { .. }) => {}
                        Err(SessionError::NotFound { .. }) => break,
                        Err(other) => panic!("{other}"),
                    }
                }
                newest
            });
            let deleted_at = loop {
                let Ok((seen, _)) = read(&deleter, &id) else {
                    continue;
                };
                match deleter.delete_at(&admin(), &id, Some(seen)) {
                    Ok(()) => break seen,
                    Err(SessionError::Stale { .. } | SessionError::Concurrent { .. }) => {}
                    Err(other) => panic!("{other}"),
                }
            };
            (deleted_at, writes.join().unwrap())
        });
        assert!(
            newest_acknowledged <= deleted_at,
            "round {round}: deleted at version {deleted_at}, but version \
             {newest_acknowledged} was acknowledged"
        );
    }
}

#[test]
fn a_delete_in_one_process_is_seen_by_the_other() {
    let cluster = Cluster::new();
    let (one, two) = (cluster.process(), cluster.process());
    let id = create(&one);
    run(&two, &id, Command::Advance).unwrap();
    one.delete(&admin(), &id).unwrap();
    assert!(matches!(
        read(&two, &id),
        Err(SessionError::NotFound { .. })
    ));
    assert!(matches!(
        run(&two, &id, Command::Advance),
        Err(SessionError::NotFound { .. })
    ));
    assert!(two.list(&admin()).unwrap().is_empty());
}

#[test]
fn purging_spares_a_session_another_process_reads() {
    let cluster = Cluster::new();
    let (one, two) = (cluster.process(), cluster.process());
    let id = create(&one);
    // Two reads it every five minutes; its upkeep writes the reads down.
    for _ in 0..4 {
        cluster.clock.advance(5 * MINUTE);
        read(&two, &id).unwrap();
        two.maintain();
    }
    // One has not touched it for 20 minutes (timeout 15) and offers it for
    // purging: the store keeps it, as two used it since.
    assert_eq!(one.purge_expired(), 1);
    assert_eq!(cluster.store().count_sessions().unwrap(), 1);
    read(&two, &id).unwrap();
    read(&one, &id).unwrap();

    // Unused by everyone for 16 minutes: gone everywhere.
    cluster.clock.advance(16 * MINUTE);
    assert_eq!(one.maintain(), 1);
    assert_eq!(cluster.store().count_sessions().unwrap(), 0);
    assert!(matches!(
        read(&two, &id),
        Err(SessionError::NotFound { .. })
    ));
}

#[test]
fn a_session_whose_process_died_is_purged_by_another() {
    let cluster = Cluster::new();
    let survivor = cluster.process();
    let id = {
        let doomed = cluster.process();
        create(&doomed)
        // Dropped without closing: the process died.
    };
    cluster.clock.advance(10 * MINUTE);
    assert_eq!(survivor.maintain(), 0, "not idle long enough yet");
    assert!(read(&survivor, &id).is_ok());
    cluster.clock.advance(16 * MINUTE);
    assert_eq!(survivor.maintain(), 1);
    assert_eq!(cluster.store().count_sessions().unwrap(), 0);
}

#[test]
fn the_session_limit_and_the_listing_count_every_process() {
    let cluster = Cluster::new();
    let limited = |options: &mut ManagerOptions| options.max_sessions = Some(2);
    let (one, two) = (cluster.process_with(limited), cluster.process_with(limited));
    let first = create(&one);
    let second = create(&two);
    let refused = one.create(&admin(), CreateSession::default(), |_| ());
    assert!(
        matches!(
            refused,
            Err(SessionError::CapacityReached { max_sessions: 2 })
        ),
        "{refused:?}"
    );
    let mut ids = vec![first.clone(), second];
    ids.sort();
    let listed = |m: &SessionManager| -> Vec<String> {
        m.list(&admin())
            .unwrap()
            .into_iter()
            .map(|s| s.session_id)
            .collect()
    };
    assert_eq!(listed(&one), ids);
    assert_eq!(listed(&two), ids);

    two.delete(&admin(), &first).unwrap();
    create(&one);
}

#[test]
fn async_paths_serve_sessions_of_other_processes() {
    let cluster = Cluster::new();
    let one = cluster.process();
    let two = Arc::new(cluster.process());
    let id = create(&one);
    run(&one, &id, Command::Advance).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let version = runtime.block_on(async {
        assert!(
            two.try_read(&admin(), &id, |_| ()).is_none(),
            "shared reads check the store: never on the async thread"
        );
        two.execute_async(&admin(), &id, Command::Advance, None, |v, _| v.version)
            .await
            .unwrap()
    });
    assert_eq!(read(&one, &id).unwrap().0, version);
    // One writes again; two's next async command runs on the newer game.
    let newer = run(&one, &id, Command::Advance).unwrap();
    let next =
        runtime
            .block_on(two.execute_async(&admin(), &id, Command::Advance, None, |v, _| v.version));
    assert_eq!(next.unwrap(), newer + 1);
    // Deleted by one: gone for two's async path too.
    one.delete(&admin(), &id).unwrap();
    let gone =
        runtime.block_on(two.execute_async(&admin(), &id, Command::Advance, None, |_, _| ()));
    assert!(matches!(gone, Err(SessionError::NotFound { .. })));
}

#[test]
fn a_session_moving_during_a_rebuild_is_not_taken_for_corrupt() {
    // A reader reads the header, then the log; a writer committing between
    // the two must read as "moved on", never as corruption.
    let cluster = Cluster::new();
    let writer = cluster.process();
    let reader = cluster.process();
    let id = create(&writer);
    let done = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|scope| {
        scope.spawn(|| {
            // Crosses checkpoints (every 256 entries) on the way.
            for i in 0..600 {
                run(&writer, &id, rename(&format!("n{i}"))).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut last = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            match read(&reader, &id) {
                Ok((version, _)) => {
                    assert!(version >= last, "versions never go back");
                    last = version;
                }
                Err(SessionError::Concurrent { .. }) => {}
                Err(other) => panic!("{other}"),
            }
        }
    });
    assert_eq!(read(&reader, &id).unwrap(), read(&writer, &id).unwrap());
    assert!(reader.report().quarantined.is_empty());
    assert!(cluster.store().list_quarantined().unwrap().is_empty());
}
