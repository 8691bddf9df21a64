//! Running the real `kingdom` binary and talking HTTP to it.
//!
//! [`Server::start`] runs `kingdom serve --port 0` on a database, reads
//! its log (JSON lines on stderr) until it says where it listens, and kills
//! the process when dropped. [`Client`] is a small JSON client over
//! hyper-util that reports transport failures as errors instead of
//! panicking, so a test can keep sending while the server is killed.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long to wait for something that normally takes milliseconds before
/// declaring the test hung. Never an assertion about speed.
pub const HANG: Duration = Duration::from_secs(60);

/// The log line that says where the server listens.
const LISTENING: &str = "listening on http://";

/// How to start the server.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Extra flags after `serve --db DB`.
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// Default flags: loopback, any free port, no token table (the
    /// `local-dev` token).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds flags.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The command line, without starting it. The variables the server
    /// reads are removed from the inherited environment first, so the
    /// developer's shell cannot change what a test sees.
    pub fn command(&self, db: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kingdom"));
        command
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--log-format", "json"]);
        if !self.args.iter().any(|a| a == "--port") {
            command.args(["--port", "0"]);
        }
        command.args(&self.args);
        for name in [
            "KB_SERVER_HOST",
            "KB_SERVER_PORT",
            "PORT",
            "KB_SERVER_AUTH_TOKENS",
            "RUST_LOG",
        ] {
            command.env_remove(name);
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the server on `db` and waits until it listens.
    pub fn start(&self, db: &Path) -> Server {
        let mut child = self.command(db).spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let address = listening_address(&line);
                // Logged before announced, so the log holds the line by
                // the time `start` returns.
                lines.lock().unwrap().push(line);
                if let Some(address) = address {
                    let _ = address_tx.send(address);
                }
            }
        });
        let mut server = Server {
            child,
            address: None,
            log,
            reader: Some(reader),
        };
        match address_rx.recv_timeout(HANG) {
            Ok(address) => server.address = Some(address),
            Err(_) => panic!(
                "the server did not say where it listens; exit: {:?}\n{}",
                server.child.try_wait(),
                server.log_text()
            ),
        }
        server
    }
}

/// The address in a `listening on http://ADDR` log line.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let start = line.find(LISTENING)? + LISTENING.len();
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c == '"' || c.is_whitespace())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A running `kingdom serve`; killed with SIGKILL when dropped.
pub struct Server {
    child: Child,
    address: Option<SocketAddr>,
    log: Arc<Mutex<Vec<String>>>,
    /// Reads stderr into `log` until the process exits.
    reader: Option<JoinHandle<()>>,
}

impl Server {
    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address.expect("listening")
    }

    /// A client calling it with `token` (none when `None`), over loopback
    /// when it listens on every address.
    pub fn client(&self, token: Option<&str>) -> Client {
        let mut address = self.address();
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Client::new(address, token)
    }

    /// Everything it logged so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until the log holds `needle` (lines written while answering a
    /// request may reach the log reader after the answer); panics if it
    /// never does.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = std::time::Instant::now() + HANG;
        while !self.log_text().contains(needle) {
            assert!(
                std::time::Instant::now() < deadline,
                "never logged {needle:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGKILL at once (`Child::kill` on Unix), without waiting for
    /// anything in flight, and reaps the process.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Sends SIGTERM (through `kill(1)`: the workspace forbids the unsafe a
    /// direct call needs) and waits for the process to exit.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -TERM failed");
        let exit = wait_with_deadline(&mut self.child);
        // The log thread ends with the process's stderr.
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the log reader ends");
        }
        (exit, self.log_text())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a process to exit, panicking (and killing it) if it hangs.
pub fn wait_with_deadline(child: &mut Child) -> ExitStatus {
    let deadline = std::time::Instant::now() + HANG;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the binary to completion (for start-up failures): exit status and
/// stderr.
pub fn run_to_exit(launch: &Launch, db: &Path) -> (ExitStatus, String) {
    let mut child = launch.command(db).spawn().expect("the binary starts");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let status = wait_with_deadline(&mut child);
    (status, reader.join().unwrap())
}

/// One HTTP answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

/// A JSON client for one server and token.
#[derive(Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Full<Bytes>>,
    base: String,
    authorization: Option<String>,
}

/// Why a request got no answer (connection refused or reset, ...).
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

impl Client {
    /// A client for `address` presenting `token`.
    pub fn new(address: SocketAddr, token: Option<&str>) -> Self {
        Self {
            inner: HyperClient::builder(TokioExecutor::new()).build_http(),
            base: format!("http://{address}"),
            authorization: token.map(|t| format!("Bearer {t}")),
        }
    }

    /// The same server with another token.
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            authorization: token.map(|t| format!("Bearer {t}")),
            ..self.clone()
        }
    }

    /// Sends a request; a JSON `body` is sent with its content type.
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, TransportError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(value) = &self.authorization {
            builder = builder.header("authorization", value);
        }
        let payload = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(payload))?;
        let response = tokio::time::timeout(HANG, self.inner.request(request)).await??;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        // No request these tests send may cause a server error.
        assert!(status < 500, "{path} answered {status}: {body}");
        Ok(Reply { status, body })
    }

    /// Sends a request that must get an answer.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.try_send(method.clone(), path, body)
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// `GET path`, expecting 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        let reply = self.send(Method::GET, path, None).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.body
    }

    /// `POST path` with `body`, expecting `status`.
    pub async fn post_expect(&self, path: &str, body: Option<&Value>, status: u16) -> Value {
        let reply = self.send(Method::POST, path, body).await;
        assert_eq!(reply.status, status, "POST {path}: {}", reply.body);
        reply.body
    }

    /// Creates a session from `body`; returns its state.
    pub async fn create(&self, body: &Value) -> Value {
        self.post_expect("/sessions", Some(body), 201).await
    }

    /// A session's current state.
    pub async fn snapshot(&self, id: &str) -> Value {
        self.get_ok(&format!("/sessions/{id}/snapshot")).await
    }
}

/// A session's `version`.
pub fn version(state: &Value) -> u64 {
    state["version"].as_u64().expect("a version")
}

/// A session's `sessionId`.
pub fn session_id(state: &Value) -> String {
    state["sessionId"]
        .as_str()
        .expect("a session id")
        .to_owned()
}

/// Reads a SQLite table as text rows (every column cast to text), for
/// comparing database contents.
pub fn dump_table(db: &Path, table: &str, filter: &str) -> Vec<Vec<Option<String>>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the database opens read-only");
    let columns: Vec<String> = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!columns.is_empty(), "no table {table}");
    let select = columns
        .iter()
        .map(|c| format!("quote({c})"))
        .collect::<Vec<_>>()
        .join(", ");
    let order = (1..=columns.len())
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = conn
        .prepare(&format!(
            "SELECT {select} FROM \"{table}\" {filter} ORDER BY {order}"
        ))
        .unwrap();
    statement
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
