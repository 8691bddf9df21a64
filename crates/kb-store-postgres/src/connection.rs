//! One database connection of the store: connecting with the settings the
//! store relies on, preparing each statement once per connection, and
//! reconnecting after the server dropped the connection (a restart, a
//! failover, an administrator's `pg_terminate_backend`).

use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, Config, NoTls, Statement};

/// The `application_name` the store's connections show in
/// `pg_stat_activity`, unless the connection string sets one.
pub const DEFAULT_APPLICATION_NAME: &str = "kb-store-postgres";
/// How long connecting may take, unless the connection string sets
/// `connect_timeout`: an unreachable server fails `open` instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the writer waits for a row lock, unless the connection string
/// sets `lock_timeout` (`options='-c lock_timeout=…'`). PostgreSQL's default
/// is to wait forever, and one forgotten `SELECT … FOR UPDATE` in an
/// operator's `psql` would then stall every commit; past the timeout the
/// batch that waited fails with a backend error and the others commit.
pub const WRITER_LOCK_TIMEOUT: &str = "10s";

/// Parses a libpq-style connection string or `postgres://` URL and fills in
/// the store's defaults.
pub(crate) fn parse_config(url: &str) -> Result<Config, postgres::Error> {
    let mut config: Config = url.parse()?;
    if config.get_application_name().is_none() {
        config.application_name(DEFAULT_APPLICATION_NAME);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Where a configuration points, without its password: for messages.
pub(crate) fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    if !ports.is_empty() {
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    if parts.is_empty() {
        "the default server".to_owned()
    } else {
        parts.join(" ")
    }
}

/// What a connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The writer thread's: commits and migrations.
    Write,
    /// Reads.
    Read,
}

/// A client and the statements prepared on it.
pub(crate) struct Connection {
    config: Config,
    role: Role,
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl Connection {
    /// Connects.
    pub fn open(config: &Config, role: Role) -> Result<Self, postgres::Error> {
        Ok(Self {
            config: config.clone(),
            role,
            client: connect(config, role)?,
            prepared: HashMap::new(),
        })
    }

    /// The client, for statements that need no preparing.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The statement for this text, prepared on this connection the first
    /// time it is asked for.
    pub fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Whether the connection to the server is gone.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Replaces a closed connection with a new one. Statements are
    /// prepared again as they are used.
    pub fn reconnect(&mut self) -> Result<(), postgres::Error> {
        let client = connect(&self.config, self.role)?;
        self.client = client;
        self.prepared.clear();
        tracing::warn!(
            server = %describe(&self.config),
            "reconnected the session store to PostgreSQL"
        );
        Ok(())
    }

    /// Reconnects when the connection is closed.
    pub fn ensure_open(&mut self) -> Result<(), postgres::Error> {
        if self.is_closed() {
            self.reconnect()?;
        }
        Ok(())
    }

    /// Closes the connection politely.
    pub fn close(self) -> Result<(), postgres::Error> {
        self.client.close()
    }
}

/// Connects with the settings the store relies on.
///
/// A commit is durable when it returns, so a server or role configured with
/// `synchronous_commit = off` is overridden for the store's connections (the
/// stronger settings, such as `remote_apply`, are kept).
///
/// The writer waits at most [`WRITER_LOCK_TIMEOUT`] for a row another
/// session holds, unless the connection string sets a `lock_timeout` of its
/// own (`options='-c lock_timeout=…'`): PostgreSQL's default is to wait
/// forever, and one forgotten `BEGIN; SELECT … FOR UPDATE` in an operator's
/// `psql` would then stall every commit of the process. Past the timeout
/// the batch that waited fails with a backend error; the others commit.
fn connect(config: &Config, role: Role) -> Result<Client, postgres::Error> {
    let mut client = config.connect(NoTls)?;
    let row = client.query_one(
        "SELECT current_setting('synchronous_commit'), current_setting('lock_timeout')",
        &[],
    )?;
    let synchronous: String = row.try_get(0)?;
    let lock_timeout: String = row.try_get(1)?;
    if synchronous == "off" {
        client.batch_execute("SET synchronous_commit = on")?;
    }
    if role == Role::Write && lock_timeout == "0" {
        client.batch_execute(&format!("SET lock_timeout = '{WRITER_LOCK_TIMEOUT}'"))?;
    }
    Ok(client)
}
