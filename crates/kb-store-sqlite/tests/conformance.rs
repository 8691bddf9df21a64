//! Runs the store conformance suite against [`SqliteSessionStore`] on a
//! temporary database file.

use kb_store::SessionStore;
use kb_store::testkit::StoreHarness;
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

/// A temporary directory holding one database file; every `open` is a new
/// store on that file.
struct SqliteHarness {
    dir: tempfile::TempDir,
}

impl SqliteHarness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }
}

impl StoreHarness for SqliteHarness {
    fn open(&self) -> Box<dyn SessionStore> {
        let options = SqliteOptions::new(self.dir.path().join("sessions.db"));
        Box::new(SqliteSessionStore::open(options).expect("open the SQLite store"))
    }

    fn set_stored_version(&self, session_id: &str, version: u64) {
        let conn = rusqlite::Connection::open(self.dir.path().join("sessions.db")).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let changed = conn
            .execute(
                "UPDATE sessions SET version = ?2 WHERE session_id = ?1",
                (session_id, i64::try_from(version).unwrap()),
            )
            .unwrap();
        assert_eq!(changed, 1, "no session {session_id}");
    }
}

kb_store::store_conformance_tests!(SqliteHarness::new());
