//! The server under torture: a `kingdom serve` child process, its log kept
//! in a file, killed with SIGKILL or stopped with SIGTERM on demand.

use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a server may take to start or stop before the run fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// The log line that says where the server listens.
const LISTENING: &str = "listening on http://";

/// How to start a server.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// The `kingdom` executable.
    pub exe: PathBuf,
    /// `--db`: an SQLite file or a `postgres://` URL.
    pub db: String,
    /// More flags after `serve --db DB`.
    pub args: Vec<String>,
    /// Where its log goes (appended to, across restarts).
    pub log: PathBuf,
}

impl ServerSpec {
    /// A server on `db`, logging to `log`.
    pub fn new(exe: &Path, db: impl Into<String>, log: PathBuf) -> Self {
        Self {
            exe: exe.to_owned(),
            db: db.into(),
            args: Vec::new(),
            log,
        }
    }

    /// The same with more flags.
    #[must_use]
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|arg| (*arg).to_owned()));
        self
    }

    /// Starts it and waits until it says where it listens.
    pub fn start(&self) -> anyhow::Result<Server> {
        let mut child = Command::new(&self.exe)
            .args([
                "serve",
                "--db",
                &self.db,
                "--port",
                "0",
                "--log-format",
                "json",
            ])
            .args(&self.args)
            // Warnings and errors, and the line that says where it listens.
            .env("RUST_LOG", "warn,kb_server::app=info")
            .env_remove("KB_SERVER_DB")
            .env_remove("KB_SERVER_PORT")
            .env_remove("KB_SERVER_HOST")
            .env_remove("PORT")
            .env_remove("KB_SERVER_AUTH_TOKENS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let stderr = child.stderr.take().context("piped stderr")?;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot write {}", self.log.display()))?;
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                if let Some(address) = listening_address(&line) {
                    let _ = address_tx.send(address);
                }
            }
        });
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(address) = address_rx.recv_timeout(Duration::from_millis(50)) {
                return Ok(Server {
                    child,
                    address,
                    log: self.log.clone(),
                });
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited during start-up ({status}); its log is {}",
                    self.log.display()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("the server did not start within {PATIENCE:?}");
            }
        }
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

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// SIGKILL, at once, and reaps it.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().context("SIGKILL")?;
        self.child.wait().context("reap")?;
        Ok(())
    }

    /// SIGTERM (in-flight requests finish, the store is flushed and closed),
    /// and waits for it to exit; fails if it exits with an error.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("kill(1)")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.child.id());
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!(
                        "the server exited with {status} on SIGTERM; its log is {}",
                        self.log.display()
                    );
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("the server did not stop within {PATIENCE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Lines of a server log that mention quarantine (there must be none).
pub fn quarantine_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("quarantin"))
        .map(str::to_owned)
        .collect()
}
