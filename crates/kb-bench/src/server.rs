//! The server under test: a `kingdom serve` child process on a database of
//! its own, with readiness detection and memory readings.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::client::Connection;

/// A running `kingdom serve`.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
    /// From spawn to the first answered request.
    pub ready_after: Duration,
}

/// How to start the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The `kingdom` executable.
    pub exe: PathBuf,
    /// The database file.
    pub db: PathBuf,
    /// `normal` or `full`.
    pub sync: String,
    /// Extra arguments.
    pub extra: Vec<String>,
    /// The port to listen on (a free one when `None`), so that a restarted
    /// server answers where its clients reconnect.
    pub port: Option<u16>,
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl ServerProcess {
    /// Starts the server and waits until it answers `/healthz`.
    pub async fn start(options: &ServerOptions) -> anyhow::Result<ServerProcess> {
        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        let started = Instant::now();
        let child = Command::new(&options.exe)
            .arg("serve")
            .arg("--db")
            .arg(&options.db)
            .arg("--port")
            .arg(port.to_string())
            .arg("--sync")
            .arg(&options.sync)
            .args(&options.extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", options.exe.display()))?;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut server = ServerProcess {
            child,
            address,
            ready_after: Duration::ZERO,
        };
        let deadline = started + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("the server exited during start-up: {status}");
            }
            if let Ok(mut connection) = Connection::open(address, "-").await
                && let Ok((status, _)) = connection.send(hyper::Method::GET, "/healthz", None).await
                && status.is_success()
            {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not answer within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now and at its peak, in bytes.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        memory_of(self.pid())
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and waits
    /// for it to be gone.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Stops the server with SIGTERM-like gentleness when possible (waits for
    /// the exit), else kills it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        // `kill` sends SIGKILL; to shut down gracefully we ask the OS tool.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Memory of a process.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Resident set size now.
    pub rss: u64,
    /// Peak resident set size.
    pub peak: u64,
}

/// Reads `/proc/<pid>/status`.
pub fn memory_of(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    Ok(Memory {
        rss: field("VmRSS:"),
        peak: field("VmHWM:"),
    })
}

/// The size of a SQLite database with its WAL.
pub fn database_bytes(db: &Path) -> u64 {
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    size(db.to_path_buf()) + size(PathBuf::from(wal))
}

/// A process's CPU time, user and system, over all its threads (living or
/// not): `utime + stime` of `/proc/<pid>/stat`, in 10 ms ticks.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which may hold spaces.
    let rest = stat.rsplit_once(')').context("a stat line")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis(ticks * 10))
}
