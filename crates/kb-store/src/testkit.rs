//! The store conformance suite: one set of contract tests that every
//! [`SessionStore`] runs in its own tests; beside it, [`FaultyStore`] for
//! testing callers against a failing database, and the [`workload`] the
//! stores' benchmarks share.
//!
//! A store crate implements [`StoreHarness`] (how to open a handle on a
//! fresh database, twice if need be) and expands the suite with
//! [`store_conformance_tests!`](crate::store_conformance_tests), which
//! writes one `#[test]` per case so failures are reported case by case:
//!
//! ```text
//! kb_store::store_conformance_tests!(MyHarness::new());
//! ```
//!
//! The harness expression is evaluated once per test, so every case gets a
//! database of its own.
//!
//! Every case lives in the private `cases` module and is listed once, in the
//! `__kb_store_cases!` macro; a case missing from that list is dead code,
//! which the lints reject.

use crate::{MemoryStore, SessionStore};

mod faulty;
pub mod workload;

pub use faulty::FaultyStore;

/// Opens handles on one database for the conformance suite.
pub trait StoreHarness {
    /// Opens a new handle on this harness's database. Every call returns a
    /// handle on the same underlying data, so that "close and reopen" and
    /// "two handles at once" can be tested.
    fn open(&self) -> Box<dyn SessionStore>;

    /// Sets the version of a stored header without touching its log, behind
    /// the store's back (raw SQL), as a bug or an operator's hand edit
    /// could: for the cases that hold the store to "the log is the truth".
    fn set_stored_version(&self, session_id: &str, version: u64);
}

/// Runs the suite against [`MemoryStore`]: every handle is a
/// [`MemoryStore::reopen`] of one root store.
#[derive(Debug, Default)]
pub struct MemoryHarness {
    root: MemoryStore,
}

impl MemoryHarness {
    /// A harness on a new, empty memory database.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StoreHarness for MemoryHarness {
    fn open(&self) -> Box<dyn SessionStore> {
        Box::new(self.root.reopen())
    }

    fn set_stored_version(&self, session_id: &str, version: u64) {
        self.root.set_stored_version(session_id, version);
    }
}

/// Runs the named conformance case against a harness. Used by
/// [`store_conformance_tests!`](crate::store_conformance_tests).
///
/// # Panics
///
/// When the case fails, or when no case has that name.
pub fn run_case(name: &str, harness: &dyn StoreHarness) {
    let case = CASES
        .iter()
        .find(|(case_name, _)| *case_name == name)
        .unwrap_or_else(|| panic!("no conformance case named {name:?}"));
    (case.1)(harness);
}

/// The list of every conformance case, once. It calls back the macro named
/// first with its arguments followed by the case names.
#[doc(hidden)]
#[macro_export]
macro_rules! __kb_store_cases {
    ($callback:ident { $($args:tt)* }) => {
        $crate::$callback! {
            { $($args)* }
            fresh_store_is_empty,
            save_then_load_all_returns_the_header,
            save_is_an_idempotent_upsert,
            save_never_touches_log_or_checkpoint,
            save_with_a_version_other_than_the_log_conflicts,
            delete_removes_header_log_and_checkpoint,
            delete_is_idempotent,
            delete_at_a_version_checks_the_stored_one,
            append_extends_log_and_replaces_header,
            append_at_a_stale_version_conflicts_and_writes_nothing,
            append_with_more_commands_than_its_version_conflicts,
            append_to_a_missing_session_conflicts,
            append_after_save_in_one_batch,
            a_failing_write_rolls_back_the_whole_batch,
            checkpoint_newer_replaces_older_is_ignored,
            checkpoint_beyond_the_log_conflicts,
            checkpoint_of_a_missing_session_conflicts,
            load_log_returns_the_tail_after_the_checkpoint,
            load_log_of_an_unknown_session_is_empty,
            load_commands_reads_the_whole_log_past_checkpoints,
            load_range_pages_the_log,
            scan_lists_the_headers_as_stored,
            load_all_rebuilds_a_header_behind_its_log,
            load_session_rebuilds_a_header_behind_its_log,
            a_header_ahead_of_its_log_is_returned_as_stored,
            touch_updates_only_last_access,
            touch_never_moves_last_access_back,
            touch_of_a_missing_session_is_not_an_error,
            quarantine_moves_a_session_aside,
            quarantine_is_idempotent,
            quarantined_id_can_be_reused,
            list_quarantined_is_oldest_first,
            content_put_and_load,
            put_content_is_idempotent,
            header_with_unknown_content_is_rejected,
            legacy_empty_content_id_needs_no_content,
            meta_put_get_and_overwrite,
            empty_commit_succeeds,
            close_makes_later_calls_fail,
            closing_one_handle_leaves_others_open,
            everything_survives_close_and_reopen,
            two_handles_see_each_others_writes,
            many_sessions,
            load_all_is_ordered_by_session_id,
            config_json_round_trips,
            unicode_ids_and_owners,
            concurrent_commits_all_land,
            racing_appends_exactly_one_wins,
            submit_resolves_like_commit,
            load_session_returns_one_live_header,
            count_sessions_counts_live_sessions,
            delete_if_idle_spares_recently_used_sessions,
            grants_are_found_by_digest_and_listed_by_session,
            a_seat_invitation_works_once,
            a_spectator_invitation_works_until_it_expires,
            expired_revoked_and_unknown_invitations_are_refused,
            a_held_seat_refuses_a_second_credential_until_revoked,
            racing_accepts_of_one_invitation_exactly_one_wins,
            grants_survive_close_and_reopen,
            deleting_or_quarantining_a_session_deletes_its_grants,
        }
    };
}

/// Expands to one `#[test]` per conformance case, each running against a
/// fresh harness built by the given expression.
///
/// ```text
/// kb_store::store_conformance_tests!(kb_store::testkit::MemoryHarness::new());
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($harness:expr) => {
        $crate::__kb_store_cases!(__kb_store_emit_tests { $harness });
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __kb_store_emit_tests {
    ({ $harness:expr } $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let harness = $harness;
                $crate::testkit::run_case(stringify!($name), &harness);
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __kb_store_emit_table {
    ({} $($name:ident),* $(,)?) => {
        /// Every conformance case with its name.
        pub static CASES: &[(&str, fn(&dyn StoreHarness))] = &[
            $((stringify!($name), cases::$name),)*
        ];
    };
}

crate::__kb_store_cases!(__kb_store_emit_table {});

/// The cases themselves. Each opens its handles from the harness it is
/// given and panics on a contract violation.
mod cases {
    use std::sync::Barrier;

    use serde_json::json;

    use super::StoreHarness;
    use crate::{
        Checkpoint, ContentRecord, GameLog, GrantKind, GrantRecord, GrantRefusal,
        QuarantinedSession, Scan, SessionRecord, SessionStore, StoreError, Write,
    };

    const CONTENT_ID: &str = "content-default";
    const T0: i64 = 1_700_000_000_000;

    fn content(content_id: &str) -> ContentRecord {
        ContentRecord {
            content_id: content_id.to_owned(),
            content: format!(r#"{{"id":"{content_id}","actions":[]}}"#),
            registries: r#"{"actions":{"expand":{"id":"expand"}}}"#.to_owned(),
            metadata: r#"{"overview":{"hero":"welcome"}}"#.to_owned(),
        }
    }

    fn header(session_id: &str, version: u64) -> SessionRecord {
        SessionRecord {
            session_id: session_id.to_owned(),
            created_at: T0,
            last_accessed_at: T0 + 5,
            dev_mode: false,
            config: None,
            content_id: CONTENT_ID.to_owned(),
            owner: Some("owner-1".to_owned()),
            version,
        }
    }

    fn command(n: u64) -> String {
        format!(r#"{{"type":"perform","action":"expand","n":{n}}}"#)
    }

    /// Stores the default content and a new session at version 0.
    fn create(store: &dyn SessionStore, session_id: &str) -> SessionRecord {
        let record = header(session_id, 0);
        store
            .commit(vec![
                Write::PutContent(content(CONTENT_ID)),
                Write::SaveSession(record.clone()),
            ])
            .expect("create a session");
        record
    }

    /// The header after appending `n` commands to `record`.
    fn advanced(record: &SessionRecord, n: u64) -> SessionRecord {
        SessionRecord {
            version: record.version + n,
            last_accessed_at: record.last_accessed_at + 1,
            ..record.clone()
        }
    }

    /// The write appending commands `version+1 ..= version+n` to `record`.
    fn append_write(record: &SessionRecord, n: u64) -> Write {
        Write::append(
            &advanced(record, n),
            (record.version + 1..=record.version + n)
                .map(command)
                .collect(),
        )
    }

    /// Appends `n` numbered commands and returns the new header.
    fn append(store: &dyn SessionStore, record: &SessionRecord, n: u64) -> SessionRecord {
        store
            .commit(vec![append_write(record, n)])
            .expect("append commands");
        advanced(record, n)
    }

    fn checkpoint(store: &dyn SessionStore, session_id: &str, version: u64) {
        store
            .commit(vec![Write::Checkpoint {
                session_id: session_id.to_owned(),
                checkpoint: state_at(version),
            }])
            .expect("write a checkpoint");
    }

    fn state_at(version: u64) -> Checkpoint {
        Checkpoint {
            version,
            state: format!("state@{version}").into_bytes(),
        }
    }

    fn records(store: &dyn SessionStore) -> Vec<SessionRecord> {
        let loaded = store.load_all().expect("load_all");
        assert_eq!(loaded.quarantined, vec![], "nothing should be quarantined");
        loaded.records
    }

    fn ids(store: &dyn SessionStore) -> Vec<String> {
        records(store).into_iter().map(|r| r.session_id).collect()
    }

    fn log(store: &dyn SessionStore, session_id: &str) -> GameLog {
        store.load_log(session_id).expect("load_log")
    }

    fn commands(range: std::ops::RangeInclusive<u64>) -> Vec<String> {
        range.map(command).collect()
    }

    #[track_caller]
    fn assert_conflict(
        result: Result<(), StoreError>,
        session_id: &str,
        expected: u64,
        actual: u64,
    ) {
        match result {
            Err(StoreError::Conflict {
                session_id: id,
                expected: e,
                actual: a,
            }) => assert_eq!(
                (id.as_str(), e, a),
                (session_id, expected, actual),
                "conflict (session, expected, actual)"
            ),
            other => panic!("expected a conflict on {session_id:?}, got {other:?}"),
        }
    }

    #[track_caller]
    fn assert_closed<T: std::fmt::Debug>(result: Result<T, StoreError>) {
        assert!(
            matches!(result, Err(StoreError::Closed)),
            "expected StoreError::Closed, got {result:?}"
        );
    }

    pub fn fresh_store_is_empty(h: &dyn StoreHarness) {
        let store = h.open();
        let loaded = store.load_all().unwrap();
        assert!(loaded.records.is_empty() && loaded.quarantined.is_empty());
        assert_eq!(log(&*store, "nope"), GameLog::default());
        assert_eq!(store.load_content(CONTENT_ID).unwrap(), None);
        assert_eq!(store.get_meta("heartbeat").unwrap(), None);
        assert!(store.list_quarantined().unwrap().is_empty());
    }

    pub fn save_then_load_all_returns_the_header(h: &dyn StoreHarness) {
        let store = h.open();
        store
            .commit(vec![Write::PutContent(content(CONTENT_ID))])
            .unwrap();
        let record = SessionRecord {
            dev_mode: true,
            config: Some(json!({"start": {"player": {"gold": 12}}})),
            owner: None,
            ..header("s-1", 0)
        };
        store.save(&record).unwrap();
        assert_eq!(records(&*store), vec![record]);
        assert_eq!(log(&*store, "s-1"), GameLog::default());
    }

    pub fn save_is_an_idempotent_upsert(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        store.save(&record).unwrap();
        store.save(&record).unwrap();
        assert_eq!(records(&*store), vec![record.clone()]);

        let changed = SessionRecord {
            last_accessed_at: T0 + 99,
            dev_mode: true,
            config: Some(json!({"phases": []})),
            owner: Some("someone-else".to_owned()),
            ..record
        };
        store.save(&changed).unwrap();
        assert_eq!(records(&*store), vec![changed]);
    }

    pub fn save_never_touches_log_or_checkpoint(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 3);
        checkpoint(&*store, "s-1", 2);
        let changed = SessionRecord {
            dev_mode: true,
            last_accessed_at: T0 + 1000,
            ..record
        };
        store.save(&changed).unwrap();
        assert_eq!(records(&*store), vec![changed]);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: Some(state_at(2)),
                commands: vec![command(3)],
            }
        );
    }

    pub fn save_with_a_version_other_than_the_log_conflicts(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 2);

        let stale = SessionRecord {
            version: 1,
            dev_mode: true,
            ..record.clone()
        };
        assert_conflict(store.save(&stale), "s-1", 1, 2);
        let ahead = SessionRecord {
            version: 5,
            ..record.clone()
        };
        assert_conflict(store.save(&ahead), "s-1", 5, 2);
        // A new session starts with an empty log.
        assert_conflict(store.save(&header("s-2", 1)), "s-2", 1, 0);

        assert_eq!(records(&*store), vec![record]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=2));
    }

    pub fn delete_removes_header_log_and_checkpoint(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let kept = create(&*store, "s-2");
        let kept = append(&*store, &kept, 1);
        let record = append(&*store, &record, 3);
        checkpoint(&*store, &record.session_id, 2);

        store.delete("s-1").unwrap();
        assert_eq!(records(&*store), vec![kept]);
        assert_eq!(log(&*store, "s-1"), GameLog::default());
        assert_eq!(log(&*store, "s-2").commands, commands(1..=1));

        // The id starts afresh: no log or checkpoint comes back with it.
        let again = create(&*store, "s-1");
        assert_eq!(log(&*store, "s-1"), GameLog::default());
        append(&*store, &again, 1);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: None,
                commands: commands(1..=1),
            }
        );
    }

    pub fn delete_is_idempotent(h: &dyn StoreHarness) {
        let store = h.open();
        let kept = create(&*store, "s-2");
        create(&*store, "s-1");
        store.delete("s-1").unwrap();
        store.delete("s-1").unwrap();
        store.delete("never-existed").unwrap();
        assert_eq!(records(&*store), vec![kept]);
    }

    pub fn append_extends_log_and_replaces_header(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 2);
        let next = SessionRecord {
            dev_mode: true,
            last_accessed_at: T0 + 500,
            ..advanced(&record, 1)
        };
        store
            .commit(vec![Write::append(&next, vec![command(3)])])
            .unwrap();
        assert_eq!(records(&*store), vec![next]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=3));
    }

    pub fn append_at_a_stale_version_conflicts_and_writes_nothing(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let current = append(&*store, &record, 2);
        let result = store.commit(vec![
            Write::SaveSession(header("s-other", 0)),
            Write::PutMeta {
                key: "k".to_owned(),
                value: "v".to_owned(),
            },
            // Written by someone who still believes the log is at 1.
            append_write(&advanced(&record, 1), 1),
        ]);
        assert_conflict(result, "s-1", 1, 2);
        assert_eq!(records(&*store), vec![current.clone()]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=2));
        assert_eq!(store.get_meta("k").unwrap(), None);

        // Ahead of the log is a conflict too.
        let result = store.commit(vec![append_write(&advanced(&current, 3), 1)]);
        assert_conflict(result, "s-1", 5, 2);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=2));
    }

    pub fn append_with_more_commands_than_its_version_conflicts(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 1);
        let result = store.commit(vec![Write::append(&header("s-1", 2), commands(1..=3))]);
        assert!(
            matches!(result, Err(StoreError::Conflict { ref session_id, .. }) if session_id == "s-1"),
            "got {result:?}"
        );
        assert_eq!(records(&*store), vec![record]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=1));
    }

    pub fn append_to_a_missing_session_conflicts(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s-1");
        let result = store.commit(vec![append_write(&header("ghost", 3), 1)]);
        assert_conflict(result, "ghost", 3, 0);
        assert_eq!(ids(&*store), vec!["s-1"]);
        assert_eq!(log(&*store, "ghost"), GameLog::default());
    }

    pub fn load_session_returns_one_live_header(h: &dyn StoreHarness) {
        let store = h.open();
        assert_eq!(store.load_session("s-1").unwrap(), None);
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 2);
        assert_eq!(store.load_session("s-1").unwrap(), Some(record.clone()));
        assert_eq!(store.load_session("s-2").unwrap(), None);
        store
            .commit(vec![Write::Quarantine {
                session_id: "s-1".to_owned(),
                reason: "test".to_owned(),
                at: 1,
            }])
            .unwrap();
        assert_eq!(
            store.load_session("s-1").unwrap(),
            None,
            "quarantined is not live"
        );
    }

    pub fn delete_at_a_version_checks_the_stored_one(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let current = append(&*store, &record, 2);
        let delete_at = |session_id: &str, version: u64| Write::Delete {
            session_id: session_id.to_owned(),
            at_version: Some(version),
        };
        // Someone who saw version 1 may not delete version 2; the whole
        // batch writes nothing.
        let result = store.commit(vec![
            Write::SaveSession(header("s-other", 0)),
            delete_at("s-1", 1),
        ]);
        assert_conflict(result, "s-1", 1, 2);
        assert_eq!(records(&*store), vec![current]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=2));

        store.commit(vec![delete_at("s-1", 2)]).unwrap();
        assert_eq!(ids(&*store), Vec::<String>::new());
        assert_eq!(log(&*store, "s-1"), GameLog::default());
        // Deleting what is gone stays idempotent, whatever the version.
        store.commit(vec![delete_at("s-1", 7)]).unwrap();
    }

    pub fn count_sessions_counts_live_sessions(h: &dyn StoreHarness) {
        let store = h.open();
        assert_eq!(store.count_sessions().unwrap(), 0);
        for id in ["s-1", "s-2", "s-3"] {
            create(&*store, id);
        }
        assert_eq!(store.count_sessions().unwrap(), 3);
        store
            .commit(vec![Write::Delete {
                session_id: "s-2".to_owned(),
                at_version: None,
            }])
            .unwrap();
        assert_eq!(store.count_sessions().unwrap(), 2);
    }

    pub fn delete_if_idle_spares_recently_used_sessions(h: &dyn StoreHarness) {
        let store = h.open();
        let old = create(&*store, "s-old");
        create(&*store, "s-fresh");
        store
            .commit(vec![Write::Touch {
                session_id: "s-fresh".to_owned(),
                last_accessed_at: old.last_accessed_at + 100,
            }])
            .unwrap();
        let cutoff = old.last_accessed_at + 50;
        store
            .commit(vec![
                Write::DeleteIfIdle {
                    session_id: "s-old".to_owned(),
                    idle_before: cutoff,
                },
                Write::DeleteIfIdle {
                    session_id: "s-fresh".to_owned(),
                    idle_before: cutoff,
                },
                Write::DeleteIfIdle {
                    session_id: "s-missing".to_owned(),
                    idle_before: cutoff,
                },
            ])
            .unwrap();
        assert_eq!(ids(&*store), vec!["s-fresh"]);
        assert_eq!(log(&*store, "s-old"), GameLog::default());
    }

    pub fn submit_resolves_like_commit(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let tickets: Vec<_> = (1..=3)
            .map(|n| store.submit(vec![append_write(&advanced(&record, n - 1), 1)]))
            .collect();
        for ticket in tickets {
            ticket.wait().expect("queued appends land in order");
        }
        assert_eq!(log(&*store, "s-1").commands, commands(1..=3));
        let stale = store.submit(vec![append_write(&record, 1)]).wait();
        assert!(
            matches!(stale, Err(StoreError::Conflict { actual: 3, .. })),
            "got {stale:?}"
        );
        assert_eq!(
            records(&*store)[0].version,
            3,
            "the stale append wrote nothing"
        );
        store.close().unwrap();
        assert!(matches!(
            store.submit(vec![append_write(&record, 1)]).wait(),
            Err(StoreError::Closed)
        ));
    }

    pub fn append_after_save_in_one_batch(h: &dyn StoreHarness) {
        let store = h.open();
        let record = header("s-1", 0);
        store
            .commit(vec![
                Write::PutContent(content(CONTENT_ID)),
                Write::SaveSession(record.clone()),
                append_write(&record, 2),
                append_write(&advanced(&record, 2), 1),
            ])
            .unwrap();
        assert_eq!(records(&*store), vec![advanced(&advanced(&record, 2), 1)]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=3));
    }

    pub fn a_failing_write_rolls_back_the_whole_batch(h: &dyn StoreHarness) {
        let store = h.open();
        let a = create(&*store, "a");
        let a = append(&*store, &a, 2);
        checkpoint(&*store, "a", 1);
        let b = create(&*store, "b");
        let c = create(&*store, "c");
        store
            .commit(vec![Write::PutMeta {
                key: "k".to_owned(),
                value: "old".to_owned(),
            }])
            .unwrap();

        let result = store.commit(vec![
            Write::PutContent(content("content-new")),
            Write::SaveSession(header("d", 0)),
            append_write(&a, 1),
            Write::Checkpoint {
                session_id: "a".to_owned(),
                checkpoint: state_at(3),
            },
            Write::Touch {
                session_id: "b".to_owned(),
                last_accessed_at: T0 + 7777,
            },
            Write::Delete {
                session_id: "b".to_owned(),
                at_version: None,
            },
            Write::Quarantine {
                session_id: "c".to_owned(),
                reason: "test".to_owned(),
                at: T0,
            },
            Write::PutMeta {
                key: "k".to_owned(),
                value: "new".to_owned(),
            },
            Write::PutMeta {
                key: "k2".to_owned(),
                value: "new".to_owned(),
            },
            // Fails: "a" is at 3 now, within this batch.
            append_write(&a, 1),
        ]);
        assert_conflict(result, "a", 2, 3);

        assert_eq!(records(&*store), vec![a, b, c]);
        assert_eq!(
            log(&*store, "a"),
            GameLog {
                checkpoint: Some(state_at(1)),
                commands: commands(2..=2),
            }
        );
        assert_eq!(store.load_content("content-new").unwrap(), None);
        assert!(store.list_quarantined().unwrap().is_empty());
        assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("old"));
        assert_eq!(store.get_meta("k2").unwrap(), None);
    }

    pub fn checkpoint_newer_replaces_older_is_ignored(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 5);
        checkpoint(&*store, "s-1", 2);
        assert_eq!(log(&*store, "s-1").checkpoint, Some(state_at(2)));
        checkpoint(&*store, "s-1", 4);
        assert_eq!(log(&*store, "s-1").checkpoint, Some(state_at(4)));
        // Older: ignored, and not an error.
        checkpoint(&*store, "s-1", 3);
        assert_eq!(log(&*store, "s-1").checkpoint, Some(state_at(4)));
        // Same version: replaced.
        let redone = Checkpoint {
            version: 4,
            state: b"state@4, again".to_vec(),
        };
        store
            .commit(vec![Write::Checkpoint {
                session_id: "s-1".to_owned(),
                checkpoint: redone.clone(),
            }])
            .unwrap();
        assert_eq!(log(&*store, "s-1").checkpoint, Some(redone));
        // At the head of the log.
        checkpoint(&*store, "s-1", 5);
        assert_eq!(log(&*store, "s-1").checkpoint, Some(state_at(5)));
    }

    pub fn checkpoint_beyond_the_log_conflicts(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 2);
        checkpoint(&*store, "s-1", 1);
        let result = store.commit(vec![Write::Checkpoint {
            session_id: "s-1".to_owned(),
            checkpoint: state_at(3),
        }]);
        assert_conflict(result, "s-1", 3, 2);
        assert_eq!(log(&*store, "s-1").checkpoint, Some(state_at(1)));
    }

    pub fn checkpoint_of_a_missing_session_conflicts(h: &dyn StoreHarness) {
        let store = h.open();
        let result = store.commit(vec![Write::Checkpoint {
            session_id: "ghost".to_owned(),
            checkpoint: state_at(0),
        }]);
        assert_conflict(result, "ghost", 0, 0);
        // Nothing was left behind for a later session of that id.
        create(&*store, "ghost");
        assert_eq!(log(&*store, "ghost"), GameLog::default());
    }

    pub fn load_log_returns_the_tail_after_the_checkpoint(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 3);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: None,
                commands: commands(1..=3),
            }
        );
        checkpoint(&*store, "s-1", 0);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: Some(state_at(0)),
                commands: commands(1..=3),
            }
        );
        checkpoint(&*store, "s-1", 2);
        let record = append(&*store, &record, 2);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: Some(state_at(2)),
                commands: commands(3..=5),
            }
        );
        checkpoint(&*store, "s-1", record.version);
        assert_eq!(
            log(&*store, "s-1"),
            GameLog {
                checkpoint: Some(state_at(5)),
                commands: vec![],
            }
        );
    }

    pub fn load_log_of_an_unknown_session_is_empty(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 2);
        checkpoint(&*store, "s-1", 1);
        assert_eq!(log(&*store, "s-2"), GameLog::default());
        assert_eq!(log(&*store, ""), GameLog::default());
        assert_eq!(log(&*store, "s-1").commands, commands(2..=2));
    }

    pub fn load_range_pages_the_log(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 5);
        checkpoint(&*store, "s-1", 3);
        assert_eq!(store.load_range("s-1", 0, 2).unwrap(), commands(1..=2));
        assert_eq!(store.load_range("s-1", 2, 2).unwrap(), commands(3..=4));
        assert_eq!(store.load_range("s-1", 4, 10).unwrap(), commands(5..=5));
        assert_eq!(
            store.load_range("s-1", 5, 10).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(store.load_range("s-1", 0, 0).unwrap(), Vec::<String>::new());
        assert_eq!(
            store.load_range("none", 0, 5).unwrap(),
            Vec::<String>::new()
        );
    }

    pub fn load_commands_reads_the_whole_log_past_checkpoints(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 5);
        checkpoint(&*store, "s-1", 3);
        let other = create(&*store, "s-2");
        append(&*store, &other, 1);
        assert_eq!(store.load_commands("s-1", 0).unwrap(), commands(1..=5));
        assert_eq!(store.load_commands("s-1", 3).unwrap(), commands(4..=5));
        assert_eq!(store.load_commands("s-1", 5).unwrap(), Vec::<String>::new());
        assert_eq!(store.load_commands("s-1", 9).unwrap(), Vec::<String>::new());
        assert_eq!(store.load_commands("s-2", 0).unwrap(), commands(1..=1));
        assert_eq!(
            store.load_commands("none", 0).unwrap(),
            Vec::<String>::new()
        );
        store
            .commit(vec![Write::Delete {
                session_id: "s-1".to_owned(),
                at_version: None,
            }])
            .unwrap();
        assert_eq!(store.load_commands("s-1", 0).unwrap(), Vec::<String>::new());
    }

    pub fn scan_lists_the_headers_as_stored(h: &dyn StoreHarness) {
        let store = h.open();
        assert_eq!(store.scan().unwrap(), Scan::default());
        let b = create(&*store, "b");
        let b = append(&*store, &b, 3);
        let a = create(&*store, "a");
        let scan = store.scan().unwrap();
        assert_eq!(scan.records, vec![a, b]);
        assert!(scan.unreadable.is_empty());
        assert_eq!(scan.records, records(&*store));
        store.close().unwrap();
        assert_closed(store.scan());
    }

    pub fn load_all_rebuilds_a_header_behind_its_log(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 5);
        let other = create(&*store, "s-2");
        h.set_stored_version("s-1", 3);
        let loaded = records(&*store);
        assert_eq!(loaded, vec![record.clone(), other], "the log's count wins");
        // The repair was written: the header reads repaired, as stored, and
        // the log goes on from there.
        assert_eq!(store.scan().unwrap().records[0].version, 5);
        let record = append(&*store, &record, 1);
        assert_eq!(store.load_session("s-1").unwrap(), Some(record));
        assert_eq!(store.load_commands("s-1", 0).unwrap(), commands(1..=6));
        assert!(store.list_quarantined().unwrap().is_empty());
    }

    pub fn load_session_rebuilds_a_header_behind_its_log(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 4);
        h.set_stored_version("s-1", 0);
        assert_eq!(store.load_session("s-1").unwrap(), Some(record.clone()));
        assert_eq!(store.scan().unwrap().records, vec![record.clone()]);
        append(&*store, &record, 2);
        assert_eq!(store.load_session("s-1").unwrap().unwrap().version, 6);
    }

    pub fn a_header_ahead_of_its_log_is_returned_as_stored(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 2);
        h.set_stored_version("s-1", 7);
        assert_eq!(store.load_session("s-1").unwrap().unwrap().version, 7);
        assert_eq!(records(&*store)[0].version, 7);
        assert_eq!(store.load_commands("s-1", 0).unwrap(), commands(1..=2));
    }

    pub fn touch_updates_only_last_access(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let record = append(&*store, &record, 2);
        let other = create(&*store, "s-2");
        store
            .commit(vec![Write::Touch {
                session_id: "s-1".to_owned(),
                last_accessed_at: T0 + 12_345,
            }])
            .unwrap();
        let touched = SessionRecord {
            last_accessed_at: T0 + 12_345,
            ..record
        };
        assert_eq!(records(&*store), vec![touched, other]);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=2));
    }

    pub fn touch_never_moves_last_access_back(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let touch = |at| {
            store
                .commit(vec![Write::Touch {
                    session_id: "s-1".to_owned(),
                    last_accessed_at: at,
                }])
                .unwrap();
        };
        touch(T0 + 500);
        touch(T0 + 200);
        let kept = SessionRecord {
            last_accessed_at: T0 + 500,
            ..record
        };
        assert_eq!(records(&*store), vec![kept]);
    }

    pub fn touch_of_a_missing_session_is_not_an_error(h: &dyn StoreHarness) {
        let store = h.open();
        store
            .commit(vec![Write::Touch {
                session_id: "ghost".to_owned(),
                last_accessed_at: T0,
            }])
            .unwrap();
        assert!(records(&*store).is_empty());
    }

    pub fn quarantine_moves_a_session_aside(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "bad");
        append(&*store, &record, 2);
        checkpoint(&*store, "bad", 1);
        let kept = create(&*store, "good");
        store
            .commit(vec![Write::Quarantine {
                session_id: "bad".to_owned(),
                reason: "engine rejected command 2".to_owned(),
                at: T0 + 3,
            }])
            .unwrap();
        assert_eq!(records(&*store), vec![kept]);
        assert_eq!(log(&*store, "bad"), GameLog::default());
        assert_eq!(
            store.list_quarantined().unwrap(),
            vec![QuarantinedSession {
                session_id: "bad".to_owned(),
                reason: "engine rejected command 2".to_owned(),
                quarantined_at: T0 + 3,
            }]
        );
        // Later writes to the quarantined id find no session.
        assert_conflict(
            store.commit(vec![append_write(&advanced(&record, 2), 1)]),
            "bad",
            2,
            0,
        );
    }

    pub fn quarantine_is_idempotent(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "bad");
        let quarantine = |reason: &str| Write::Quarantine {
            session_id: "bad".to_owned(),
            reason: reason.to_owned(),
            at: T0,
        };
        store.commit(vec![quarantine("first")]).unwrap();
        store.commit(vec![quarantine("second")]).unwrap();
        store
            .commit(vec![Write::Quarantine {
                session_id: "never-existed".to_owned(),
                reason: "x".to_owned(),
                at: T0,
            }])
            .unwrap();
        let listed = store.list_quarantined().unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].reason, "first");
        assert!(records(&*store).is_empty());
    }

    pub fn quarantined_id_can_be_reused(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        append(&*store, &record, 3);
        checkpoint(&*store, "s-1", 2);
        store
            .commit(vec![Write::Quarantine {
                session_id: "s-1".to_owned(),
                reason: "first life".to_owned(),
                at: T0,
            }])
            .unwrap();
        // A new session of the same id starts empty: the quarantined log
        // and checkpoint are not its own.
        let again = create(&*store, "s-1");
        assert_eq!(log(&*store, "s-1"), GameLog::default());
        append(&*store, &again, 1);
        assert_eq!(log(&*store, "s-1").commands, commands(1..=1));
        store.delete("s-1").unwrap();
        assert_eq!(store.list_quarantined().unwrap().len(), 1);
    }

    pub fn list_quarantined_is_oldest_first(h: &dyn StoreHarness) {
        let store = h.open();
        for id in ["q-a", "q-b", "q-c", "q-d"] {
            create(&*store, id);
        }
        let quarantine = |id: &str, at: i64| Write::Quarantine {
            session_id: id.to_owned(),
            reason: format!("reason {id}"),
            at,
        };
        store.commit(vec![quarantine("q-a", T0 + 30)]).unwrap();
        store
            .commit(vec![quarantine("q-c", T0 + 10), quarantine("q-b", T0 + 20)])
            .unwrap();
        store.commit(vec![quarantine("q-d", T0 + 10)]).unwrap();
        let listed: Vec<(String, i64)> = store
            .list_quarantined()
            .unwrap()
            .into_iter()
            .map(|q| (q.session_id, q.quarantined_at))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("q-c".to_owned(), T0 + 10),
                ("q-d".to_owned(), T0 + 10),
                ("q-b".to_owned(), T0 + 20),
                ("q-a".to_owned(), T0 + 30),
            ]
        );
    }

    pub fn content_put_and_load(h: &dyn StoreHarness) {
        let store = h.open();
        let one = content("content-1");
        let two = ContentRecord {
            content: "{\"big\":\"".to_owned() + &"x".repeat(100_000) + "\"}",
            ..content("content-2")
        };
        store
            .commit(vec![
                Write::PutContent(one.clone()),
                Write::PutContent(two.clone()),
            ])
            .unwrap();
        assert_eq!(store.load_content("content-1").unwrap(), Some(one));
        assert_eq!(store.load_content("content-2").unwrap(), Some(two));
        assert_eq!(store.load_content("content-3").unwrap(), None);
    }

    pub fn put_content_is_idempotent(h: &dyn StoreHarness) {
        let store = h.open();
        let original = content("content-1");
        store
            .commit(vec![Write::PutContent(original.clone())])
            .unwrap();
        store
            .commit(vec![Write::PutContent(original.clone())])
            .unwrap();
        assert_eq!(
            store.load_content("content-1").unwrap(),
            Some(original.clone())
        );
        // A damaged record (here: different texts under the id) is repaired
        // by writing the content again.
        let damaged = ContentRecord {
            content: "{}".to_owned(),
            ..content("content-1")
        };
        store.commit(vec![Write::PutContent(damaged)]).unwrap();
        store
            .commit(vec![Write::PutContent(original.clone())])
            .unwrap();
        assert_eq!(store.load_content("content-1").unwrap(), Some(original));
    }

    pub fn header_with_unknown_content_is_rejected(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        let orphan = SessionRecord {
            content_id: "content-missing".to_owned(),
            ..header("s-2", 0)
        };
        let result = store.commit(vec![
            Write::PutMeta {
                key: "k".to_owned(),
                value: "v".to_owned(),
            },
            Write::SaveSession(orphan.clone()),
        ]);
        assert!(
            matches!(
                &result,
                Err(StoreError::UnknownContent { session_id, content_id })
                    if session_id == "s-2" && content_id == "content-missing"
            ),
            "got {result:?}"
        );
        assert_eq!(store.get_meta("k").unwrap(), None);
        assert_eq!(records(&*store), vec![record]);
        assert_eq!(log(&*store, "s-1"), GameLog::default());

        // Stored in the same batch, first: fine.
        store
            .commit(vec![
                Write::PutContent(content("content-missing")),
                Write::SaveSession(orphan.clone()),
            ])
            .unwrap();
        assert_eq!(ids(&*store), vec!["s-1", "s-2"]);
    }

    pub fn legacy_empty_content_id_needs_no_content(h: &dyn StoreHarness) {
        let store = h.open();
        let legacy = SessionRecord {
            content_id: String::new(),
            owner: None,
            config: Some(json!({"start": {}})),
            ..header("legacy", 0)
        };
        store.save(&legacy).unwrap();
        assert_eq!(records(&*store), vec![legacy]);
    }

    pub fn meta_put_get_and_overwrite(h: &dyn StoreHarness) {
        let store = h.open();
        let put = |key: &str, value: &str| Write::PutMeta {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        store
            .commit(vec![put("heartbeat", "1"), put("owner", "node-a")])
            .unwrap();
        store.commit(vec![put("heartbeat", "2")]).unwrap();
        assert_eq!(store.get_meta("heartbeat").unwrap().as_deref(), Some("2"));
        assert_eq!(store.get_meta("owner").unwrap().as_deref(), Some("node-a"));
        assert_eq!(store.get_meta("other").unwrap(), None);
        // Keys that look like the store's own bookkeeping are plain keys.
        store
            .commit(vec![put("schema_version", "not a number")])
            .unwrap();
        assert_eq!(
            store.get_meta("schema_version").unwrap().as_deref(),
            Some("not a number")
        );
        drop(store);
        let reopened = h.open();
        assert_eq!(
            reopened.get_meta("heartbeat").unwrap().as_deref(),
            Some("2")
        );
    }

    pub fn empty_commit_succeeds(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        store.commit(vec![]).unwrap();
        assert_eq!(records(&*store), vec![record]);
    }

    pub fn close_makes_later_calls_fail(h: &dyn StoreHarness) {
        let store = h.open();
        let record = create(&*store, "s-1");
        store.close().unwrap();
        store.close().unwrap();
        assert_closed(store.load_all());
        assert_closed(store.commit(vec![Write::SaveSession(record.clone())]));
        assert_closed(store.commit(vec![]));
        assert_closed(store.load_log("s-1"));
        assert_closed(store.load_content(CONTENT_ID));
        assert_closed(store.get_meta("k"));
        assert_closed(store.list_quarantined());
        assert_closed(store.save(&record));
        assert_closed(store.delete("s-1"));
        // Closing lost nothing, and the failed calls wrote nothing.
        let reopened = h.open();
        assert_eq!(records(&*reopened), vec![record]);
    }

    pub fn closing_one_handle_leaves_others_open(h: &dyn StoreHarness) {
        let first = h.open();
        let second = h.open();
        let record = create(&*first, "s-1");
        first.close().unwrap();
        assert_eq!(records(&*second), vec![record.clone()]);
        append(&*second, &record, 1);
        assert_eq!(log(&*second, "s-1").commands, commands(1..=1));
    }

    pub fn everything_survives_close_and_reopen(h: &dyn StoreHarness) {
        let store = h.open();
        let a = create(&*store, "a");
        let a = append(&*store, &a, 4);
        checkpoint(&*store, "a", 3);
        let b = SessionRecord {
            dev_mode: true,
            config: Some(json!({"actions": [{"id": "x"}]})),
            ..create(&*store, "b")
        };
        store.save(&b).unwrap();
        create(&*store, "c");
        store
            .commit(vec![
                Write::PutContent(content("content-2")),
                Write::PutMeta {
                    key: "k".to_owned(),
                    value: "v".to_owned(),
                },
                Write::Quarantine {
                    session_id: "c".to_owned(),
                    reason: "r".to_owned(),
                    at: T0,
                },
            ])
            .unwrap();
        store.close().unwrap();
        drop(store);

        let store = h.open();
        assert_eq!(records(&*store), vec![a, b]);
        assert_eq!(
            log(&*store, "a"),
            GameLog {
                checkpoint: Some(state_at(3)),
                commands: commands(4..=4),
            }
        );
        assert_eq!(
            store.load_content("content-2").unwrap(),
            Some(content("content-2"))
        );
        assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("v"));
        assert_eq!(
            store.list_quarantined().unwrap(),
            vec![QuarantinedSession {
                session_id: "c".to_owned(),
                reason: "r".to_owned(),
                quarantined_at: T0,
            }]
        );
    }

    pub fn two_handles_see_each_others_writes(h: &dyn StoreHarness) {
        let one = h.open();
        let two = h.open();
        let record = create(&*one, "s-1");
        assert_eq!(records(&*two), vec![record.clone()]);
        let newer = append(&*two, &record, 2);
        assert_eq!(log(&*one, "s-1").commands, commands(1..=2));
        // The first handle still believes the log is empty: its write loses.
        assert_conflict(one.commit(vec![append_write(&record, 1)]), "s-1", 0, 2);
        assert_eq!(records(&*one), vec![newer]);
    }

    pub fn many_sessions(h: &dyn StoreHarness) {
        let store = h.open();
        let n = 1000;
        let mut writes = vec![Write::PutContent(content(CONTENT_ID))];
        let mut expected: Vec<SessionRecord> = (0..n)
            .map(|i| SessionRecord {
                created_at: T0 + i,
                dev_mode: i % 3 == 0,
                ..header(&format!("session-{:x}", i * 7919 % 4099), 0)
            })
            .collect();
        writes.extend(expected.iter().cloned().map(Write::SaveSession));
        store.commit(writes).unwrap();
        for record in expected.iter_mut().step_by(10) {
            *record = append(&*store, record, 1);
        }
        expected.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        assert_eq!(records(&*store), expected);
        assert_eq!(log(&*store, &expected[0].session_id).commands.len(), 1);
    }

    pub fn load_all_is_ordered_by_session_id(h: &dyn StoreHarness) {
        let store = h.open();
        let inserted = [
            "b", "a", "B", "aa", "a-1", "Z", "é", "e", "z", "10", "9", "🎲", "日本",
        ];
        for id in inserted {
            create(&*store, id);
        }
        let mut expected: Vec<String> = inserted.iter().map(|s| (*s).to_owned()).collect();
        // Byte order of the UTF-8 text, which is also code point order.
        expected.sort();
        assert_eq!(expected[0], "10");
        assert_eq!(ids(&*store), expected);
    }

    pub fn config_json_round_trips(h: &dyn StoreHarness) {
        let store = h.open();
        let configs = [
            None,
            Some(json!(null)),
            Some(json!({})),
            Some(json!({
                "actions": [{"id": "build", "cost": {"gold": 3, "ap": 1}}],
                "start": {"player": {"gold": -1, "ratio": 0.25, "huge": u64::MAX}},
                "names": ["Zoë", "\"quoted\"", "line\nbreak", "tab\t", "🎲"],
                "nested": {"deep": {"deeper": [[], {}, [null, true, false]]}},
            })),
            Some(json!([1, 2, 3])),
            Some(json!("just a string")),
        ];
        let mut expected = Vec::new();
        for (i, config) in configs.into_iter().enumerate() {
            let record = SessionRecord {
                config,
                ..create(&*store, &format!("s-{i}"))
            };
            store.save(&record).unwrap();
            expected.push(record);
        }
        assert_eq!(records(&*store), expected);
        drop(store);
        assert_eq!(records(&*h.open()), expected);
    }

    pub fn unicode_ids_and_owners(h: &dyn StoreHarness) {
        let store = h.open();
        let ids = [
            "séance-🎲",
            "日本語のセッション",
            "'; DROP TABLE sessions; --",
            "with space and \"quotes\"",
        ];
        let mut expected = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let record = SessionRecord {
                owner: Some(format!("Zoë 👑 #{i}")),
                ..create(&*store, id)
            };
            store.save(&record).unwrap();
            let record = append(&*store, &record, 1);
            expected.push(record);
        }
        expected.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        assert_eq!(records(&*store), expected);
        for id in ids {
            assert_eq!(log(&*store, id).commands, commands(1..=1));
        }
        store.delete(ids[2]).unwrap();
        assert_eq!(records(&*store).len(), ids.len() - 1);
    }

    /// Commits from many threads at once all land, and a batch that
    /// conflicts fails alone: the stores group concurrent commits, and a
    /// bad batch must not take its neighbours in the group down with it.
    pub fn concurrent_commits_all_land(h: &dyn StoreHarness) {
        let store = h.open();
        let (n_threads, per_thread, appends) = (16, 3, 20);
        let barrier = Barrier::new(n_threads);
        std::thread::scope(|scope| {
            for t in 0..n_threads {
                let (store, barrier) = (&*store, &barrier);
                scope.spawn(move || {
                    let mut mine: Vec<SessionRecord> = (0..per_thread)
                        .map(|s| create(store, &format!("t{t}-s{s}")))
                        .collect();
                    barrier.wait();
                    for i in 0..appends {
                        if i % 3 == 2 {
                            // Writes meta, then appends to another thread's
                            // session at a version no log reaches.
                            let other = header(&format!("t{}-s0", (t + 1) % n_threads), 999);
                            let result = store.commit(vec![
                                Write::PutMeta {
                                    key: format!("poison-{t}-{i}"),
                                    value: "x".to_owned(),
                                },
                                append_write(&other, 1),
                            ]);
                            assert!(
                                matches!(result, Err(StoreError::Conflict { .. })),
                                "{result:?}"
                            );
                        }
                        for record in &mut mine {
                            *record = append(store, record, 1);
                        }
                    }
                });
            }
        });
        let all = records(&*store);
        assert_eq!(all.len(), n_threads * per_thread);
        for record in all {
            assert_eq!(record.version, appends, "{}", record.session_id);
            assert_eq!(
                log(&*store, &record.session_id).commands,
                commands(1..=appends)
            );
        }
        for t in 0..n_threads {
            for i in (2..appends).step_by(3) {
                let key = format!("poison-{t}-{i}");
                assert_eq!(store.get_meta(&key).unwrap(), None, "{key} was written");
            }
        }
    }

    pub fn racing_appends_exactly_one_wins(h: &dyn StoreHarness) {
        let store = h.open();
        let mut record = create(&*store, "contested");
        let n_threads = 6;
        for round in 0..5 {
            let barrier = Barrier::new(n_threads);
            let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n_threads)
                    .map(|t| {
                        let (store, barrier, record) = (&*store, &barrier, &record);
                        scope.spawn(move || {
                            barrier.wait();
                            store.commit(vec![Write::append(
                                &advanced(record, 1),
                                vec![format!("round {round} by {t}")],
                            )])
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners: Vec<usize> = (0..n_threads).filter(|&t| results[t].is_ok()).collect();
            assert_eq!(winners.len(), 1, "round {round}: {results:?}");
            for (t, result) in results.into_iter().enumerate() {
                if t != winners[0] {
                    let v = record.version;
                    assert_conflict(result, "contested", v, v + 1);
                }
            }
            record = advanced(&record, 1);
            let tail = log(&*store, "contested").commands;
            assert_eq!(tail.len() as u64, record.version);
            assert_eq!(
                tail.last().unwrap(),
                &format!("round {round} by {}", winners[0])
            );
        }
    }

    fn invitation(session_id: &str, grant_id: &str, role: &str) -> GrantRecord {
        GrantRecord {
            grant_id: grant_id.to_owned(),
            session_id: session_id.to_owned(),
            kind: GrantKind::Invitation,
            role: role.to_owned(),
            digest: Some(format!("digest-of-{grant_id}")),
            created_at: T0,
            expires_at: Some(T0 + 1_000),
            used_at: None,
            revoked_at: None,
            invitation_id: None,
        }
    }

    fn credential(session_id: &str, grant_id: &str, role: &str) -> GrantRecord {
        GrantRecord {
            kind: GrantKind::Credential,
            expires_at: None,
            ..invitation(session_id, grant_id, role)
        }
    }

    fn put_grant(store: &dyn SessionStore, grant: &GrantRecord) {
        store
            .commit(vec![Write::PutGrant(grant.clone())])
            .expect("put a grant");
    }

    /// Accepting an invitation: use it and store the credential, in one batch.
    fn accept(
        store: &dyn SessionStore,
        invitation: &GrantRecord,
        credential_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut credential = credential(&invitation.session_id, credential_id, &invitation.role);
        credential.invitation_id = Some(invitation.grant_id.clone());
        store.commit(vec![
            Write::UseInvitation {
                grant_id: invitation.grant_id.clone(),
                at,
            },
            Write::PutGrant(credential),
        ])
    }

    #[track_caller]
    fn assert_refused(result: Result<(), StoreError>, expected: GrantRefusal) {
        match result {
            Err(StoreError::GrantRefused { reason, .. }) => assert_eq!(reason, expected),
            other => panic!("expected a refusal ({expected}), got {other:?}"),
        }
    }

    pub fn grants_are_found_by_digest_and_listed_by_session(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s1");
        create(&*store, "s2");
        let owner_seat = GrantRecord {
            digest: None,
            ..credential("s1", "g0", "A")
        };
        let spectators = GrantRecord {
            created_at: T0 + 2,
            ..invitation("s1", "g1", "spectator")
        };
        let other = invitation("s2", "g2", "B");
        for grant in [&owner_seat, &spectators, &other] {
            put_grant(&*store, grant);
        }
        assert_eq!(
            store.load_grants("s1").unwrap(),
            vec![owner_seat.clone(), spectators.clone()]
        );
        assert_eq!(store.load_grants("s2").unwrap(), vec![other.clone()]);
        assert_eq!(store.load_grants("nope").unwrap(), vec![]);
        assert_eq!(store.find_grant("digest-of-g1").unwrap(), Some(spectators));
        assert_eq!(store.find_grant("digest-of-g2").unwrap(), Some(other));
        assert_eq!(store.find_grant("digest-of-g9").unwrap(), None);
    }

    pub fn a_seat_invitation_works_once(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        let seat = invitation("s", "inv", "B");
        put_grant(&*store, &seat);
        accept(&*store, &seat, "cred-1", T0 + 10).unwrap();
        let stored = store.find_grant("digest-of-inv").unwrap().unwrap();
        assert_eq!(stored.used_at, Some(T0 + 10));
        let cred = store.find_grant("digest-of-cred-1").unwrap().unwrap();
        assert_eq!(
            (cred.kind, cred.role.as_str(), cred.invitation_id.as_deref()),
            (GrantKind::Credential, "B", Some("inv"))
        );
        // A second use is refused and writes nothing (no second credential).
        assert_refused(
            accept(&*store, &seat, "cred-2", T0 + 11),
            GrantRefusal::Used,
        );
        assert_eq!(store.find_grant("digest-of-cred-2").unwrap(), None);
        assert_eq!(store.load_grants("s").unwrap().len(), 2);
    }

    pub fn a_spectator_invitation_works_until_it_expires(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        let watch = invitation("s", "watch", "spectator");
        put_grant(&*store, &watch);
        accept(&*store, &watch, "w1", T0 + 1).unwrap();
        accept(&*store, &watch, "w2", T0 + 2).unwrap();
        assert_refused(
            accept(&*store, &watch, "w3", T0 + 1_000),
            GrantRefusal::Expired,
        );
        assert_eq!(store.find_grant("digest-of-w3").unwrap(), None);
        assert_eq!(store.load_grants("s").unwrap().len(), 3);
    }

    pub fn expired_revoked_and_unknown_invitations_are_refused(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        let late = invitation("s", "late", "A");
        let revoked = invitation("s", "revoked", "B");
        put_grant(&*store, &late);
        put_grant(&*store, &revoked);
        let revoke = Write::RevokeGrant {
            grant_id: "revoked".to_owned(),
            at: T0 + 3,
        };
        store.commit(vec![revoke.clone()]).unwrap();
        // Revoking again keeps the first time; a missing grant is no error.
        store.commit(vec![revoke]).unwrap();
        store
            .commit(vec![Write::RevokeGrant {
                grant_id: "missing".to_owned(),
                at: T0,
            }])
            .unwrap();
        let stored = store.find_grant("digest-of-revoked").unwrap().unwrap();
        assert_eq!(stored.revoked_at, Some(T0 + 3));
        assert_refused(
            accept(&*store, &late, "c1", T0 + 1_000),
            GrantRefusal::Expired,
        );
        assert_refused(
            accept(&*store, &revoked, "c2", T0 + 4),
            GrantRefusal::Revoked,
        );
        let unknown = invitation("s", "unknown", "A");
        assert_refused(accept(&*store, &unknown, "c3", T0), GrantRefusal::Unknown);
        // A credential is not an invitation.
        let cred = credential("s", "cred", "spectator");
        put_grant(&*store, &cred);
        assert_refused(accept(&*store, &cred, "c4", T0), GrantRefusal::Unknown);
        let ids: Vec<String> = store
            .load_grants("s")
            .unwrap()
            .into_iter()
            .map(|g| g.grant_id)
            .collect();
        assert_eq!(ids, ["cred", "late", "revoked"]);
        assert_eq!(
            store.find_grant("digest-of-late").unwrap().unwrap().used_at,
            None
        );
    }

    pub fn a_held_seat_refuses_a_second_credential_until_revoked(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        put_grant(&*store, &credential("s", "first", "A"));
        // Another session's seat A and spectators are not affected.
        create(&*store, "t");
        put_grant(&*store, &credential("t", "other", "A"));
        put_grant(&*store, &credential("s", "w1", "spectator"));
        put_grant(&*store, &credential("s", "w2", "spectator"));
        let second = credential("s", "second", "A");
        assert_refused(
            store.commit(vec![Write::PutGrant(second.clone())]),
            GrantRefusal::SeatTaken,
        );
        // Accepting a seat invitation for a held seat uses nothing.
        let seat = invitation("s", "inv", "A");
        put_grant(&*store, &seat);
        assert_refused(accept(&*store, &seat, "third", T0), GrantRefusal::SeatTaken);
        assert_eq!(
            store.find_grant("digest-of-inv").unwrap().unwrap().used_at,
            None
        );
        store
            .commit(vec![Write::RevokeGrant {
                grant_id: "first".to_owned(),
                at: T0 + 1,
            }])
            .unwrap();
        accept(&*store, &seat, "third", T0 + 2).unwrap();
        assert!(store.find_grant("digest-of-third").unwrap().is_some());
    }

    pub fn racing_accepts_of_one_invitation_exactly_one_wins(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        let n_threads = 6;
        for round in 0..4 {
            let seat = invitation("s", &format!("inv{round}"), &format!("P{round}"));
            put_grant(&*store, &seat);
            let barrier = Barrier::new(n_threads);
            let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n_threads)
                    .map(|t| {
                        let (store, barrier, seat) = (&*store, &barrier, &seat);
                        scope.spawn(move || {
                            barrier.wait();
                            accept(store, seat, &format!("r{round}t{t}"), T0 + 1)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(winners, 1, "round {round}: {results:?}");
            for result in results.into_iter().filter(|r| r.is_err()) {
                assert!(
                    matches!(
                        result,
                        Err(StoreError::GrantRefused {
                            reason: GrantRefusal::Used | GrantRefusal::SeatTaken,
                            ..
                        })
                    ),
                    "{result:?}"
                );
            }
            let holders = store
                .load_grants("s")
                .unwrap()
                .into_iter()
                .filter(|g| g.holds_seat() && g.role == format!("P{round}"))
                .count();
            assert_eq!(holders, 1, "round {round}");
        }
    }

    pub fn grants_survive_close_and_reopen(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        let seat = invitation("s", "inv", "B");
        put_grant(&*store, &seat);
        accept(&*store, &seat, "cred", T0 + 5).unwrap();
        store
            .commit(vec![Write::RevokeGrant {
                grant_id: "cred".to_owned(),
                at: T0 + 6,
            }])
            .unwrap();
        let before = store.load_grants("s").unwrap();
        assert_eq!(before.len(), 2);
        store.close().unwrap();
        let reopened = h.open();
        assert_eq!(reopened.load_grants("s").unwrap(), before);
        let cred = reopened.find_grant("digest-of-cred").unwrap().unwrap();
        assert_eq!(cred.revoked_at, Some(T0 + 6));
    }

    pub fn deleting_or_quarantining_a_session_deletes_its_grants(h: &dyn StoreHarness) {
        let store = h.open();
        create(&*store, "s");
        create(&*store, "keep");
        put_grant(&*store, &credential("s", "a", "A"));
        put_grant(&*store, &credential("keep", "k", "A"));
        store.delete("s").unwrap();
        assert_eq!(store.load_grants("s").unwrap(), vec![]);
        assert_eq!(store.find_grant("digest-of-a").unwrap(), None);
        assert_eq!(store.load_grants("keep").unwrap().len(), 1);
        // A new session under the same id starts with no grants.
        create(&*store, "s");
        assert_eq!(store.load_grants("s").unwrap(), vec![]);
        // Quarantine drops them too (the log stays for inspection).
        put_grant(&*store, &credential("keep", "k2", "spectator"));
        store
            .commit(vec![Write::Quarantine {
                session_id: "keep".to_owned(),
                reason: "test".to_owned(),
                at: T0,
            }])
            .unwrap();
        assert_eq!(store.load_grants("keep").unwrap(), vec![]);
        assert_eq!(store.find_grant("digest-of-k").unwrap(), None);
    }
}
