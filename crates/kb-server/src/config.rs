//! `kingdom serve` configuration: raw flags ([`ServeArgs`], clap) turned into
//! a validated [`ServeConfig`] (the ripgrep low-args/high-args split).
//!
//! Environment fallbacks are read through a lookup function passed to
//! [`ServeConfig::from_args`], never from `std::env` directly, so tests can
//! inject values. Precedence, first found wins:
//! - database: `--db`, `KB_SERVER_DB`, `./data/sessions.db`;
//! - host: `--host`, `KB_SERVER_HOST`, `127.0.0.1`;
//! - port: `--port`, `KB_SERVER_PORT`, `PORT`, `3001` (0 = any free port);
//! - tokens: `--tokens FILE`, `KB_SERVER_AUTH_TOKENS`, none (dev token on
//!   loopback only, see [`crate::auth::Authenticator::for_listener`]);
//! - CORS origins: every `--cors-origin`, else `KB_SERVER_CORS_ORIGINS`
//!   (comma-separated), else none (see [`crate::cors`]);
//! - guests: `--guests`, `KB_SERVER_GUESTS`, off; their limit:
//!   `--guest-limit`, `KB_SERVER_GUEST_LIMIT`, 20 creations per address and
//!   hour (see [`crate::guests`]).
//!
//! Blank environment values count as unset. A value that does not parse is
//! an error naming where it came from.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{TokenTable, TokenTableError};
use crate::cors::{CorsOrigins, InvalidOrigin};
use crate::telemetry::LogFormat;

/// Environment variable for the database (a path or a PostgreSQL URL; the
/// environment keeps a password off the command line).
pub const ENV_DB: &str = "KB_SERVER_DB";
/// Environment variable for the bind host.
pub const ENV_HOST: &str = "KB_SERVER_HOST";
/// Environment variable for the bind port.
pub const ENV_PORT: &str = "KB_SERVER_PORT";
/// Generic port variable, consulted after [`ENV_PORT`].
pub const ENV_PORT_FALLBACK: &str = "PORT";
/// Environment variable holding the token table as JSON text.
pub const ENV_AUTH_TOKENS: &str = "KB_SERVER_AUTH_TOKENS";
/// Environment variable listing the CORS origins, comma-separated.
pub const ENV_CORS_ORIGINS: &str = "KB_SERVER_CORS_ORIGINS";
/// Environment variable allowing guests (`1`/`true`/`yes` or
/// `0`/`false`/`no`).
pub const ENV_GUESTS: &str = "KB_SERVER_GUESTS";
/// Environment variable for the guest creations per address and hour.
pub const ENV_GUEST_LIMIT: &str = "KB_SERVER_GUEST_LIMIT";
/// Environment variable: seconds between two request summaries (see
/// `--log-summary-every`).
pub const ENV_LOG_SUMMARY_EVERY: &str = "KB_SERVER_LOG_SUMMARY_EVERY";

/// Default SQLite database path.
pub const DEFAULT_DB_PATH: &str = "./data/sessions.db";
/// Default bind host: loopback, so a fresh install is not reachable from
/// the network.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default bind port.
pub const DEFAULT_PORT: u16 = 3001;
/// Default idle time after which a session is purged.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// SQLite durability (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncMode {
    /// `NORMAL`: durable against process crashes (WAL); a power loss may
    /// lose the last commits.
    #[default]
    Normal,
    /// `FULL`: every commit reaches the disk before it is acknowledged.
    Full,
}

/// Where sessions are stored.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else is
    /// an SQLite path.
    pub fn parse(text: &str) -> Self {
        let lower = text.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(text.trim().to_owned())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }
}

/// Shown in logs and errors: a URL's password is masked.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// The raw flags of `kingdom serve`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Parser)]
#[command(name = "serve", about = "Start the Kingdom Builder HTTP game server")]
pub struct ServeArgs {
    /// SQLite database file, created with its directory on first run; or
    /// a postgres:// URL [env: KB_SERVER_DB] [default: ./data/sessions.db].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,

    /// Address to bind [env: KB_SERVER_HOST] [default: 127.0.0.1].
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Port to bind, 0 for any free port [env: KB_SERVER_PORT, then PORT]
    /// [default: 3001].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Idle time before a session is purged, like 15m, 900s, 1h or 1h30m;
    /// 0 means never [default: 15m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// Most sessions kept at once (default: no limit).
    #[arg(long, value_name = "N", value_parser = parse_max_sessions)]
    pub max_sessions: Option<NonZeroUsize>,

    /// SQLite durability of each commit (PostgreSQL commits are always
    /// durable).
    #[arg(long, value_enum, default_value_t)]
    pub sync: SyncMode,

    /// Serve the database together with other `kingdom serve --shared`
    /// processes: every request checks the stored session. Without it, a
    /// server holds its SQLite file alone and refuses to start on one in
    /// use. Always on with PostgreSQL.
    #[arg(long)]
    pub shared: bool,

    /// JSON token table file mapping each token to
    /// {"userId": "...", "roles": [...]}; wins over KB_SERVER_AUTH_TOKENS.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,

    /// Origins whose pages may call the API from a browser (see
    /// [`crate::cors`]).
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        help = "Let web pages from ORIGIN (like https://play.example or \
                http://localhost:5173) call the API from a browser; repeat for several \
                [env: KB_SERVER_CORS_ORIGINS, comma-separated] [default: none]"
    )]
    pub cors_origins: Vec<String>,

    /// Log line format on standard error.
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormat,

    /// Seconds between two `info` lines counting the requests answered per
    /// status (request lines themselves log at `debug`)
    /// [env: KB_SERVER_LOG_SUMMARY_EVERY] [default: 60].
    #[arg(long, value_name = "SECONDS", value_parser = parse_summary_every)]
    pub log_summary_every: Option<u64>,

    /// Most AI decisions (normal or hard turns and steps) computed at once,
    /// each on a blocking thread off the async workers [default: half the
    /// cores, at least 1].
    #[arg(long, value_name = "N", value_parser = parse_ai_threads)]
    pub ai_threads: Option<NonZeroUsize>,

    /// Interval of the event streams' heartbeat comments, in milliseconds
    /// (hidden: for tests and benchmarks; default 15000).
    #[arg(long, value_name = "MS", hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub event_heartbeat_ms: Option<u64>,

    /// Let anyone create a session without a token and play it with the
    /// seat credential it gets, within --guest-limit; this also allows a
    /// public bind without a token table [env: KB_SERVER_GUESTS].
    #[arg(long)]
    pub guests: bool,

    /// Most sessions one address may create as a guest per hour
    /// [env: KB_SERVER_GUEST_LIMIT] [default: 20].
    #[arg(long, value_name = "N", value_parser = parse_ai_threads)]
    pub guest_limit: Option<NonZeroUsize>,

    /// Connection limits and time limits.
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
}

/// Where the token table came from, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `--tokens FILE`.
    File(PathBuf),
    /// [`ENV_AUTH_TOKENS`].
    Env,
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "token file {}", path.display()),
            Self::Env => write!(f, "environment variable {ENV_AUTH_TOKENS}"),
        }
    }
}

/// The validated configuration of `kingdom serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where sessions are stored.
    pub database: Database,
    /// Host (name or IP) to bind.
    pub host: String,
    /// Port to bind; 0 for any free port.
    pub port: u16,
    /// Idle time before a session is purged; `None` means never.
    pub idle_timeout: Option<Duration>,
    /// Most sessions kept at once; `None` means no limit.
    pub max_sessions: Option<NonZeroUsize>,
    /// SQLite durability.
    pub sync: SyncMode,
    /// Other processes may serve the same database (always with
    /// PostgreSQL).
    pub shared: bool,
    /// The operator's token table; `None` means none was configured.
    pub tokens: Option<TokenTable>,
    /// Where [`ServeConfig::tokens`] came from.
    pub token_source: Option<TokenSource>,
    /// Origins allowed to make cross-origin requests.
    pub cors: CorsOrigins,
    /// Log line format.
    pub log_format: LogFormat,
    /// Time between two request summaries.
    pub log_summary_every: Duration,
    /// What one connection may take.
    pub limits: crate::limits::Limits,
    /// Most AI decisions computed at once (see [`crate::ai_pool`]).
    pub ai_threads: usize,
    /// Interval of the event streams' heartbeats.
    pub event_heartbeat: Duration,
    /// Guest creations per address and hour, when guests are allowed
    /// (see [`crate::guests`]); `None`: guests are not allowed.
    pub guests: Option<NonZeroUsize>,
}

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, like `--port`.
    Flag(&'static str),
    /// An environment variable, like `KB_SERVER_PORT`.
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "{flag}"),
            Self::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A port value is not a number from 0 to 65535.
    #[error("invalid port {value:?} in {origin}: expected a number from 0 to 65535")]
    InvalidPort {
        /// Where the value came from.
        origin: Origin,
        /// The rejected text.
        value: String,
    },
    /// A summary interval is not a positive number of seconds.
    #[error(
        "invalid summary interval {value:?} in {origin}: expected a positive number of seconds"
    )]
    InvalidSummaryEvery {
        /// Where the value came from.
        origin: Origin,
        /// The rejected text.
        value: String,
    },
    /// The host is empty.
    #[error("invalid host in {origin}: it must not be empty")]
    EmptyHost {
        /// Where the value came from.
        origin: Origin,
    },
    /// The token file could not be read.
    #[error("cannot read token file {}: {source}", path.display())]
    TokenFileUnreadable {
        /// The file given with `--tokens`.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A CORS origin is not `scheme://host[:port]`.
    #[error("{error} (in {origin})")]
    InvalidCorsOrigin {
        /// Where the value came from.
        origin: Origin,
        /// What is wrong with it (in the message, so not a `source`).
        error: InvalidOrigin,
    },
    /// A value that does not parse (guests settings).
    #[error("invalid value {value:?} in {origin}: expected {expected}")]
    InvalidValue {
        /// Where the value came from.
        origin: Origin,
        /// The rejected text.
        value: String,
        /// What would do.
        expected: &'static str,
    },
    /// The token table (from a file or the environment) is invalid.
    #[error("invalid token table in {origin}: {source}")]
    InvalidTokens {
        /// Where the table came from.
        origin: TokenSource,
        /// What is wrong with it (never contains a token).
        source: TokenTableError,
    },
}

impl ServeConfig {
    /// Validates the flags, filling gaps from `env` (a lookup such as
    /// [`process_env`]) and reading the token file if one is given.
    pub fn from_args(
        args: ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let database = Database::parse(
            &args
                .db
                .or_else(|| env(ENV_DB))
                .unwrap_or_else(|| DEFAULT_DB_PATH.to_owned()),
        );
        let host = resolve_host(args.host, &env)?;
        let port = resolve_port(args.port, &env)?;
        let (tokens, token_source) = match resolve_tokens(args.tokens, &env)? {
            Some((table, source)) => (Some(table), Some(source)),
            None => (None, None),
        };
        let cors = resolve_cors(args.cors_origins, &env)?;
        let guests = resolve_guests(args.guests, args.guest_limit, &env)?;
        let log_summary_every = match args.log_summary_every {
            Some(seconds) => seconds,
            None => match env(ENV_LOG_SUMMARY_EVERY) {
                Some(value) => {
                    parse_summary_every(&value).map_err(|_| ConfigError::InvalidSummaryEvery {
                        origin: Origin::Env(ENV_LOG_SUMMARY_EVERY),
                        value,
                    })?
                }
                None => crate::telemetry::SUMMARY_INTERVAL.as_secs(),
            },
        };
        let idle_timeout =
            Some(args.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT)).filter(|idle| !idle.is_zero());
        Ok(Self {
            shared: args.shared || matches!(database, Database::Postgres(_)),
            database,
            host,
            port,
            idle_timeout,
            max_sessions: args.max_sessions,
            sync: args.sync,
            tokens,
            token_source,
            cors,
            log_format: args.log_format,
            log_summary_every: Duration::from_secs(log_summary_every),
            limits: args.limits.into(),
            ai_threads: args
                .ai_threads
                .map_or_else(crate::ai_pool::AiPool::default_threads, NonZeroUsize::get),
            event_heartbeat: args
                .event_heartbeat_ms
                .map_or(crate::routes::events::HEARTBEAT, Duration::from_millis),
            guests,
        })
    }
}

/// `--log-summary-every`: a positive number of seconds.
fn parse_summary_every(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|seconds| *seconds > 0)
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// `--ai-threads`: a positive count.
fn parse_ai_threads(text: &str) -> Result<NonZeroUsize, String> {
    text.trim()
        .parse::<NonZeroUsize>()
        .map_err(|_| format!("{text:?} is not a positive number of threads"))
}

/// `--guests` and `--guest-limit`, with their environment fallbacks.
fn resolve_guests(
    flag: bool,
    limit: Option<NonZeroUsize>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<NonZeroUsize>, ConfigError> {
    let on = flag
        || match env(ENV_GUESTS) {
            None => false,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::InvalidValue {
                        origin: Origin::Env(ENV_GUESTS),
                        value,
                        expected: "true or false",
                    });
                }
            },
        };
    let limit = match (limit, env(ENV_GUEST_LIMIT)) {
        (Some(limit), _) => limit,
        (None, Some(value)) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::InvalidValue {
                origin: Origin::Env(ENV_GUEST_LIMIT),
                value,
                expected: "a positive number of creations per hour",
            })?,
        (None, None) => NonZeroUsize::new(crate::guests::DEFAULT_GUEST_LIMIT).expect("positive"),
    };
    Ok(on.then_some(limit))
}

/// Reads a variable from the process environment; pass this to
/// [`ServeConfig::from_args`] in the binary.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn resolve_cors(
    flags: Vec<String>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<CorsOrigins, ConfigError> {
    if !flags.is_empty() {
        return CorsOrigins::parse(&flags).map_err(|error| ConfigError::InvalidCorsOrigin {
            origin: Origin::Flag("--cors-origin"),
            error,
        });
    }
    match env(ENV_CORS_ORIGINS) {
        Some(list) => {
            CorsOrigins::parse_list(&list).map_err(|error| ConfigError::InvalidCorsOrigin {
                origin: Origin::Env(ENV_CORS_ORIGINS),
                error,
            })
        }
        None => Ok(CorsOrigins::none()),
    }
}

fn resolve_host(
    flag: Option<String>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let (origin, value) = match (flag, env(ENV_HOST)) {
        (Some(value), _) => (Origin::Flag("--host"), value),
        (None, Some(value)) => (Origin::Env(ENV_HOST), value),
        (None, None) => return Ok(DEFAULT_HOST.to_owned()),
    };
    let host = value.trim();
    if host.is_empty() {
        return Err(ConfigError::EmptyHost { origin });
    }
    Ok(host.to_owned())
}

fn resolve_port(
    flag: Option<u16>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<u16, ConfigError> {
    if let Some(port) = flag {
        return Ok(port);
    }
    for name in [ENV_PORT, ENV_PORT_FALLBACK] {
        if let Some(value) = env(name) {
            return value
                .trim()
                .parse::<u16>()
                .map_err(|_| ConfigError::InvalidPort {
                    origin: Origin::Env(name),
                    value,
                });
        }
    }
    Ok(DEFAULT_PORT)
}

fn resolve_tokens(
    file: Option<PathBuf>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(TokenTable, TokenSource)>, ConfigError> {
    let (text, origin) = if let Some(path) = file {
        let text =
            std::fs::read_to_string(&path).map_err(|source| ConfigError::TokenFileUnreadable {
                path: path.clone(),
                source,
            })?;
        (text, TokenSource::File(path))
    } else if let Some(text) = env(ENV_AUTH_TOKENS) {
        (text, TokenSource::Env)
    } else {
        return Ok(None);
    };
    match TokenTable::from_json(&text) {
        Ok(table) => Ok(Some((table, origin))),
        Err(source) => Err(ConfigError::InvalidTokens { origin, source }),
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Empty text.
    #[error("empty duration: write a number with a unit, like 15m, 900s or 1h (0 means never)")]
    Empty,
    /// A number without a unit (other than `0`).
    #[error("missing unit in {0:?}: write 15m, 900s or 1h (s, m, h or d; 0 means never)")]
    MissingUnit(String),
    /// Text that is not numbers with units.
    #[error("invalid duration {0:?}: write a number with a unit, like 15m, 900s, 1h or 1h30m")]
    Invalid(String),
    /// A duration too large to represent.
    #[error("duration {0:?} is too large")]
    TooLarge(String),
}

/// Parses `0` or a sequence of `<number><unit>` with units `s`, `m`, `h`,
/// `d` (`15m`, `900s`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        return if text.bytes().all(|byte| byte == b'0') {
            Ok(Duration::ZERO)
        } else {
            Err(DurationError::MissingUnit(text.to_owned()))
        };
    }
    let mut seconds: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let units = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if digits == 0 || units == 0 {
            return Err(DurationError::Invalid(text.to_owned()));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::TooLarge(text.to_owned()))?;
        let scale = match &rest[digits..digits + units] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(DurationError::Invalid(text.to_owned())),
        };
        seconds = number
            .checked_mul(scale)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(|| DurationError::TooLarge(text.to_owned()))?;
        rest = &rest[digits + units..];
    }
    Ok(Duration::from_secs(seconds))
}

/// Why a session limit did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid session limit {0:?}: expected a whole number of at least 1")]
pub struct MaxSessionsError(String);

fn parse_max_sessions(text: &str) -> Result<NonZeroUsize, MaxSessionsError> {
    text.trim()
        .parse()
        .map_err(|_| MaxSessionsError(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            ("0", 0),
            ("000", 0),
            ("900s", 900),
            ("15m", 900),
            ("1h", 3600),
            ("1h30m", 5400),
            ("2d", 172_800),
            (" 5m ", 300),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("900"),
            Err(DurationError::MissingUnit("900".to_owned()))
        );
        for bad in ["15x", "m", "1.5h", "-1m", "15 m", "1hm", "h1"] {
            assert_eq!(
                parse_duration(bad),
                Err(DurationError::Invalid(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::TooLarge(_))
        ));
        assert!(matches!(
            parse_duration("18446744073709551615d"),
            Err(DurationError::TooLarge(_))
        ));
    }
}
