//! `kingdom serve --db postgres://…`: servers on one PostgreSQL database
//! share its sessions without `--shared`, and a server killed with SIGKILL
//! loses nothing it acknowledged. Each test gets a schema of its own on the
//! server `KB_TEST_POSTGRES_URL` names (a `postgres://` URL; by default the
//! machine's PostgreSQL), selected through the URL's `search_path`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::Method;
use serde_json::json;

use crate::util::{Launch, session_id, version};

const DEV: Option<&str> = Some("local-dev");

/// The local PostgreSQL of development and CI machines (`.ci/setup`
/// starts it when it is down).
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A schema on the test server, dropped with everything in it at the end.
pub(crate) struct Schema {
    admin_url: String,
    name: String,
}

impl Schema {
    pub(crate) fn new() -> Self {
        let admin_url = std::env::var("KB_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let name = format!(
            "kb_cli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let schema = Schema { admin_url, name };
        schema.execute(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
            schema.name
        ));
        schema
    }

    /// The URL a server is given: the test server, this schema first.
    pub(crate) fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }

    /// Runs SQL on a thread of its own (the synchronous client runs its own
    /// runtime, which cannot start inside the test's).
    fn execute(&self, sql: &str) {
        let (url, sql) = (self.admin_url.clone(), sql.to_owned());
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {url} is not reachable ({e}): start it (.ci/setup does), \
                     or set KB_TEST_POSTGRES_URL"
                )
            });
            client.batch_execute(&sql).unwrap();
        })
        .join()
        .unwrap();
    }

    /// A number from the database.
    fn count(&self, sql: &str) -> i64 {
        let (url, sql) = (self.url(), sql.to_owned());
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.query_one(&sql, &[]).unwrap().get(0)
        })
        .join()
        .unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        self.execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

#[tokio::test]
async fn servers_on_postgres_share_sessions_and_a_killed_one_loses_nothing() {
    let schema = Schema::new();
    let url = schema.url();
    let db = Path::new(&url);
    let (one, two) = (Launch::new().start(db), Launch::new().start(db));
    let log = one.log_text();
    assert!(!log.contains("is in use"), "{log}");
    assert!(
        log.contains("\"shared\":true"),
        "PostgreSQL is always shared: {log}"
    );

    let (a, b) = (one.client(DEV), two.client(DEV));
    let id = session_id(&a.create(&json!({})).await);
    let mut last = None;
    for i in 0..7 {
        let client = if i % 2 == 0 { &b } else { &a };
        last = Some(
            client
                .post_expect(&format!("/sessions/{id}/advance"), None, 200)
                .await,
        );
    }
    let acknowledged = a
        .post_expect(
            &format!("/sessions/{id}/actions"),
            Some(&json!({"actionId": "tax"})),
            200,
        )
        .await;
    assert_eq!(version(&acknowledged), 9);
    assert_ne!(last.unwrap()["snapshot"], acknowledged["snapshot"]);

    // One dies mid-game; two goes on serving what one acknowledged.
    one.kill();
    let seen = b.snapshot(&id).await;
    assert_eq!(seen["snapshot"], acknowledged["snapshot"]);
    assert_eq!(version(&seen), 9);

    // A restarted one serves it too, and the tables are where the guide says.
    let one = Launch::new().start(db);
    let a = one.client(DEV);
    assert_eq!(a.snapshot(&id).await, b.snapshot(&id).await);
    assert_eq!(schema.count("SELECT count(*) FROM sessions"), 1);
    assert_eq!(schema.count("SELECT count(*) FROM sessions_commands"), 9);

    let deleted = a
        .send(Method::DELETE, &format!("/sessions/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let gone = b
        .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(schema.count("SELECT count(*) FROM sessions_commands"), 0);
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_start_up_error() {
    let (status, log) = crate::util::run_to_exit(
        &Launch::new(),
        Path::new("postgres://kb:s3cret@127.0.0.1:1/none?connect_timeout=2"),
    );
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("cannot open the session database"), "{log}");
    assert!(log.contains("kb:***@127.0.0.1:1"), "{log}");
    assert!(
        !log.contains("s3cret"),
        "the password is never shown: {log}"
    );
}
