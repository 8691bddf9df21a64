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

/// A client and the statements prepared on it.
pub(crate) struct Connection {
    config: Config,
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl Connection {
    /// Connects.
    pub fn open(config: &Config) -> Result<Self, postgres::Error> {
        Ok(Self {
            config: config.clone(),
            client: connect(config)?,
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
        let client = connect(&self.config)?;
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

/// Connects with the settings the contract needs: a commit is durable when
/// it returns, so a server or role configured with `synchronous_commit =
/// off` is overridden for the store's own connections (the stronger
/// settings, such as `remote_apply`, are kept).
fn connect(config: &Config) -> Result<Client, postgres::Error> {
    let mut client = config.connect(NoTls)?;
    let synchronous: String = client
        .query_one("SELECT current_setting('synchronous_commit')", &[])?
        .try_get(0)?;
    if synchronous == "off" {
        client.batch_execute("SET synchronous_commit = on")?;
    }
    Ok(client)
}
