//! The test harness shared by the PostgreSQL store's test files: a fresh
//! schema per test on the server named by `KB_TEST_POSTGRES_URL`, dropped
//! when the harness is dropped, so tests run in parallel without meeting.
//!
//! Each file uses a part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use kb_store::SessionStore;
use kb_store::testkit::StoreHarness;
use kb_store_postgres::{PostgresOptions, PostgresSessionStore};
use postgres::{Client, NoTls};

/// The server used when `KB_TEST_POSTGRES_URL` is not set: the local
/// PostgreSQL of the development and CI machines.
pub const DEFAULT_TEST_URL: &str = "host=127.0.0.1 user=postgres dbname=test";

static NEXT_SCHEMA: AtomicUsize = AtomicUsize::new(0);

/// The server the tests use.
pub fn test_url() -> String {
    std::env::var("KB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_owned())
}

/// `url` with one more connection parameter, in either syntax.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    if url.contains("://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        let value = value
            .replace('%', "%25")
            .replace('=', "%3D")
            .replace(' ', "%20");
        format!("{url}{separator}{key}={value}")
    } else {
        format!(
            "{url} {key}='{}'",
            value.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// A plain client on the test server, or a failure that says how to get
/// one: the tests never skip silently.
pub fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test PostgreSQL server ({url}): {e}\n\
             The kb-store-postgres tests need a running PostgreSQL. Start this machine's with\n    \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             (.ci/setup does it), or set KB_TEST_POSTGRES_URL to a server that accepts connections."
        )
    })
}

/// A schema of its own on the test server, for one test.
pub struct PgHarness {
    url: String,
    schema: String,
}

impl PgHarness {
    /// A fresh, empty schema `kb_test_<pid>_<n>`.
    pub fn new() -> Self {
        let harness = Self::unmade();
        harness
            .admin()
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
                harness.schema
            ))
            .expect("create the test schema");
        harness
    }

    /// A name for a schema that does not exist yet (a leftover of a crashed
    /// run is dropped); dropped with the harness if something creates it.
    pub fn unmade() -> Self {
        let n = NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed);
        let harness = Self {
            url: test_url(),
            schema: format!("kb_test_{}_{n}", std::process::id()),
        };
        harness
            .admin()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", harness.schema))
            .expect("clear the test schema's name");
        harness
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection string of the store's connections: the test server,
    /// with the schema's name as `application_name`, so that a test can find
    /// its own store's backends in `pg_stat_activity`.
    pub fn url(&self) -> String {
        with_param(&self.url, "application_name", &self.schema)
    }

    /// Options for a store in this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::new(self.url()).schema(&self.schema)
    }

    /// Opens a store in this schema.
    pub fn store(&self) -> PostgresSessionStore {
        PostgresSessionStore::open(self.options()).expect("open the PostgreSQL store")
    }

    /// A plain client on the test server (not counted as the store's).
    pub fn admin(&self) -> Client {
        connect(&self.url)
    }

    /// A plain client whose unqualified names are this schema's tables,
    /// for raw SQL as an operator would type it.
    pub fn sql(&self) -> Client {
        let mut client = self.admin();
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .expect("set the search path");
        client
    }

    /// How many of the store's backends (by application name) are waiting
    /// for a lock.
    pub fn backends_waiting_for_a_lock(&self, client: &mut Client) -> i64 {
        client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&self.schema],
            )
            .unwrap()
            .get(0)
    }

    /// How many backends the store's connections (by application name)
    /// have open.
    pub fn backends(&self, client: &mut Client) -> i64 {
        client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&self.schema],
            )
            .unwrap()
            .get(0)
    }
}

impl StoreHarness for PgHarness {
    fn open(&self) -> Box<dyn SessionStore> {
        Box::new(self.store())
    }

    fn set_stored_version(&self, session_id: &str, version: u64) {
        let version = i64::try_from(version).unwrap();
        let changed = self
            .sql()
            .execute(
                "UPDATE sessions SET version = $2 WHERE session_id = $1",
                &[&session_id, &version],
            )
            .unwrap();
        assert_eq!(changed, 1, "no session {session_id}");
    }
}

impl Drop for PgHarness {
    fn drop(&mut self) {
        // Stores of this harness are dropped by now; a failure here must not
        // hide the test's own.
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}
