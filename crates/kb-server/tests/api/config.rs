//! `ServeArgs` → `ServeConfig`: defaults, precedence of flags over
//! environment, and error messages that name their source.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use kb_server::config::{ConfigError, Database, SyncMode, TokenSource};
use kb_server::telemetry::LogFormat;
use kb_server::{ServeArgs, ServeConfig};

/// Parses `kingdom serve <flags>` against an injected environment.
fn config(flags: &[&str], env: &[(&str, &str)]) -> Result<ServeConfig, ConfigError> {
    let args = ServeArgs::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))
        .expect("flags parse");
    let env: HashMap<String, String> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ServeConfig::from_args(args, |name| env.get(name).cloned())
}

fn flag_error(flags: &[&str]) -> String {
    ServeArgs::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults() {
    let config = config(&[], &[]).unwrap();
    assert_eq!(
        config.database,
        Database::Sqlite(PathBuf::from("./data/sessions.db"))
    );
    assert!(!config.shared);
    assert_eq!(config.host, "127.0.0.1");
    assert_eq!(config.port, 3001);
    assert_eq!(config.idle_timeout, Some(Duration::from_secs(900)));
    assert_eq!(config.max_sessions, None);
    assert_eq!(config.sync, SyncMode::Normal);
    assert!(config.tokens.is_none());
    assert_eq!(config.token_source, None);
    assert_eq!(config.log_format, LogFormat::Text);
}

#[test]
fn every_flag_is_read() {
    let config = config(
        &[
            "--db",
            "/tmp/x.db",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--idle-timeout",
            "1h30m",
            "--max-sessions",
            "50",
            "--sync",
            "full",
            "--shared",
            "--log-format",
            "json",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(
        config.database,
        Database::Sqlite(PathBuf::from("/tmp/x.db"))
    );
    assert!(config.shared);
    assert_eq!(config.host, "0.0.0.0");
    assert_eq!(config.port, 0);
    assert_eq!(config.idle_timeout, Some(Duration::from_secs(5400)));
    assert_eq!(config.max_sessions.map(|n| n.get()), Some(50));
    assert_eq!(config.sync, SyncMode::Full);
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn database_precedence_flag_then_env_then_default() {
    let env = [("KB_SERVER_DB", "/srv/env.db")];
    assert_eq!(
        config(&["--db", "/srv/flag.db"], &env).unwrap().database,
        Database::Sqlite(PathBuf::from("/srv/flag.db"))
    );
    assert_eq!(
        config(&[], &env).unwrap().database,
        Database::Sqlite(PathBuf::from("/srv/env.db"))
    );
    assert_eq!(
        config(&[], &[("KB_SERVER_DB", "  ")]).unwrap().database,
        Database::Sqlite(PathBuf::from("./data/sessions.db"))
    );
}

#[test]
fn a_postgres_url_is_a_shared_postgres_database_and_its_password_is_masked() {
    for url in [
        "postgres://kb:s3cret@db.internal:5432/kingdom?sslmode=disable",
        "PostgreSQL://kb:s3cret@db.internal/kingdom",
    ] {
        let config = config(&[], &[("KB_SERVER_DB", url)]).unwrap();
        assert_eq!(config.database, Database::Postgres(url.to_owned()));
        assert!(config.shared, "several servers may share PostgreSQL");
        let shown = format!("{} {:?} {config:?}", config.database, config.database);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("kb:***@db.internal"), "{shown}");
    }
    // Without a password or user there is nothing to mask.
    let plain = Database::parse("postgres://db.internal/kingdom");
    assert_eq!(plain.to_string(), "postgres://db.internal/kingdom");
    // A path that merely mentions postgres is a path.
    assert_eq!(
        Database::parse("./postgres/sessions.db"),
        Database::Sqlite(PathBuf::from("./postgres/sessions.db"))
    );
}

#[test]
fn idle_timeout_zero_means_never() {
    assert_eq!(
        config(&["--idle-timeout", "0"], &[]).unwrap().idle_timeout,
        None
    );
    assert_eq!(
        config(&["--idle-timeout", "900s"], &[])
            .unwrap()
            .idle_timeout,
        Some(Duration::from_secs(900))
    );
}

#[test]
fn host_precedence_flag_then_env_then_default() {
    let env = [("KB_SERVER_HOST", "10.1.2.3")];
    assert_eq!(config(&["--host", "::1"], &env).unwrap().host, "::1");
    assert_eq!(config(&[], &env).unwrap().host, "10.1.2.3");
    assert_eq!(
        config(&[], &[("KB_SERVER_HOST", "  ")]).unwrap().host,
        "127.0.0.1"
    );
}

#[test]
fn port_precedence_flag_then_kb_server_port_then_port_then_default() {
    let both = [("KB_SERVER_PORT", "4000"), ("PORT", "5000")];
    assert_eq!(config(&["--port", "6000"], &both).unwrap().port, 6000);
    assert_eq!(config(&[], &both).unwrap().port, 4000);
    assert_eq!(config(&[], &[("PORT", "5000")]).unwrap().port, 5000);
    assert_eq!(
        config(&[], &[("KB_SERVER_PORT", ""), ("PORT", "5000")])
            .unwrap()
            .port,
        5000
    );
    assert_eq!(config(&[], &[("PORT", "0")]).unwrap().port, 0);
    // A flag or an earlier variable hides a broken later one.
    assert_eq!(
        config(&["--port", "1"], &[("KB_SERVER_PORT", "x")])
            .unwrap()
            .port,
        1
    );
    assert_eq!(
        config(&[], &[("KB_SERVER_PORT", "2"), ("PORT", "x")])
            .unwrap()
            .port,
        2
    );
}

#[test]
fn unparsable_ports_name_their_source() {
    let error = config(&[], &[("KB_SERVER_PORT", "http")]).unwrap_err();
    assert!(matches!(error, ConfigError::InvalidPort { .. }));
    assert_eq!(
        error.to_string(),
        "invalid port \"http\" in environment variable KB_SERVER_PORT: expected a number from 0 to 65535"
    );
    let error = config(&[], &[("PORT", "70000")]).unwrap_err().to_string();
    assert!(error.contains("environment variable PORT"), "{error}");
    assert!(error.contains("70000"), "{error}");
    let error = flag_error(&["--port=-3"]);
    assert!(error.contains("--port"), "{error}");
    let error = flag_error(&["--port", "65536"]);
    assert!(error.contains("--port"), "{error}");
}

#[test]
fn bad_flag_values_name_the_flag() {
    let error = flag_error(&["--idle-timeout", "900"]);
    assert!(error.contains("--idle-timeout"), "{error}");
    assert!(error.contains("missing unit"), "{error}");
    let error = flag_error(&["--idle-timeout", "soon"]);
    assert!(error.contains("--idle-timeout"), "{error}");
    let error = flag_error(&["--max-sessions", "0"]);
    assert!(error.contains("--max-sessions"), "{error}");
    assert!(error.contains("at least 1"), "{error}");
    let error = flag_error(&["--sync", "sometimes"]);
    assert!(error.contains("--sync"), "{error}");
    let error = flag_error(&["--log-format", "xml"]);
    assert!(error.contains("--log-format"), "{error}");
    let error = config(&["--host", " "], &[]).unwrap_err().to_string();
    assert_eq!(error, "invalid host in --host: it must not be empty");
}

const ENV_TABLE: &str = r#"{"env-token": {"userId": "from-env", "roles": ["admin"]}}"#;
const FILE_TABLE: &str = r#"{"file-token": {"userId": "from-file"}}"#;

fn token_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn tokens_from_the_environment() {
    let config = config(&[], &[("KB_SERVER_AUTH_TOKENS", ENV_TABLE)]).unwrap();
    assert_eq!(config.token_source, Some(TokenSource::Env));
    let table = config.tokens.unwrap();
    assert_eq!(table.lookup(b"env-token").unwrap().user_id, "from-env");
    // Blank means unset.
    let config = config_blank_tokens();
    assert!(config.tokens.is_none());
}

fn config_blank_tokens() -> ServeConfig {
    config(&[], &[("KB_SERVER_AUTH_TOKENS", " \n ")]).unwrap()
}

#[test]
fn token_file_wins_over_the_environment() {
    let file = token_file(FILE_TABLE);
    let path = file.path().to_str().unwrap();
    // Even a broken env table is not consulted when a file is given.
    let config = config(
        &["--tokens", path],
        &[("KB_SERVER_AUTH_TOKENS", "not json")],
    )
    .unwrap();
    assert_eq!(
        config.token_source,
        Some(TokenSource::File(file.path().to_owned()))
    );
    let table = config.tokens.unwrap();
    assert_eq!(table.lookup(b"file-token").unwrap().user_id, "from-file");
    assert!(table.lookup(b"env-token").is_none());
}

#[test]
fn invalid_env_tokens_name_the_variable() {
    let error = config(&[], &[("KB_SERVER_AUTH_TOKENS", "{oops")]).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::InvalidTokens {
            origin: TokenSource::Env,
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.starts_with("invalid token table in environment variable KB_SERVER_AUTH_TOKENS: "),
        "{message}"
    );
}

#[test]
fn unreadable_or_invalid_token_files_name_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("absent.json");
    let error = config(&["--tokens", missing.to_str().unwrap()], &[]).unwrap_err();
    assert!(matches!(error, ConfigError::TokenFileUnreadable { .. }));
    assert!(
        error.to_string().contains(missing.to_str().unwrap()),
        "{error}"
    );

    let file = token_file(r#"{"s3cret": {"userId": 7}}"#);
    let path = file.path().to_str().unwrap();
    let message = config(&["--tokens", path], &[]).unwrap_err().to_string();
    assert!(message.contains(path), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[test]
fn blank_token_keys_are_rejected_with_a_clear_message() {
    let message = config(
        &[],
        &[(
            "KB_SERVER_AUTH_TOKENS",
            r#"{"": {"userId": "u", "roles": ["admin"]}}"#,
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("KB_SERVER_AUTH_TOKENS"), "{message}");
    assert!(message.contains("empty or only whitespace"), "{message}");
}

#[test]
fn debug_output_of_a_config_never_shows_tokens() {
    let config = config(&[], &[("KB_SERVER_AUTH_TOKENS", ENV_TABLE)]).unwrap();
    let text = format!("{config:?}");
    assert!(!text.contains("env-token"), "{text}");
}

#[test]
fn serve_args_embed_as_a_subcommand() {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }
    #[derive(clap::Subcommand)]
    enum Command {
        Serve(ServeArgs),
    }
    let cli = Cli::try_parse_from(["kingdom", "serve", "--port", "8080"]).unwrap();
    let Command::Serve(args) = cli.command;
    assert_eq!(args.port, Some(8080));
}

#[test]
fn guests_are_off_unless_asked_for_by_flag_or_environment() {
    let limit = |c: ServeConfig| c.guests.map(usize::from);
    assert_eq!(limit(config(&[], &[]).unwrap()), None);
    assert_eq!(limit(config(&["--guests"], &[]).unwrap()), Some(20));
    assert_eq!(
        limit(config(&["--guests", "--guest-limit", "3"], &[]).unwrap()),
        Some(3)
    );
    let env = [("KB_SERVER_GUESTS", "true"), ("KB_SERVER_GUEST_LIMIT", "7")];
    assert_eq!(limit(config(&[], &env).unwrap()), Some(7));
    assert_eq!(
        limit(config(&[], &[("KB_SERVER_GUESTS", "0")]).unwrap()),
        None
    );
    let error = config(&[], &[("KB_SERVER_GUESTS", "maybe")]).unwrap_err();
    assert!(error.to_string().contains("KB_SERVER_GUESTS"), "{error}");
    let error = config(&["--guests"], &[("KB_SERVER_GUEST_LIMIT", "0")]).unwrap_err();
    assert!(
        error.to_string().contains("KB_SERVER_GUEST_LIMIT"),
        "{error}"
    );
    assert!(flag_error(&["--guest-limit", "0"]).contains("--guest-limit"));
}

#[test]
fn a_public_bind_needs_a_token_table_or_guests() {
    use kb_server::Authenticator;
    let public: std::net::SocketAddr = "0.0.0.0:3001".parse().unwrap();
    assert!(Authenticator::for_listener_with_guests(None, public, false).is_err());
    let guests_only = Authenticator::for_listener_with_guests(None, public, true).unwrap();
    assert!(!guests_only.uses_dev_token());
    let loopback: std::net::SocketAddr = "127.0.0.1:3001".parse().unwrap();
    let dev = Authenticator::for_listener_with_guests(None, loopback, true).unwrap();
    assert!(dev.uses_dev_token());
}

#[test]
fn the_summary_interval_comes_from_the_flag_then_the_environment_then_60_s() {
    let every = |args: &[&str], env: &[(&str, &str)]| config(args, env).unwrap().log_summary_every;
    assert_eq!(every(&[], &[]), Duration::from_secs(60));
    assert_eq!(
        every(&[], &[("KB_SERVER_LOG_SUMMARY_EVERY", "5")]),
        Duration::from_secs(5)
    );
    assert_eq!(
        every(
            &["--log-summary-every", "2"],
            &[("KB_SERVER_LOG_SUMMARY_EVERY", "5")]
        ),
        Duration::from_secs(2)
    );
    // Blank means unset.
    assert_eq!(
        every(&[], &[("KB_SERVER_LOG_SUMMARY_EVERY", " ")]),
        Duration::from_secs(60)
    );
    let error = config(&[], &[("KB_SERVER_LOG_SUMMARY_EVERY", "0")]).unwrap_err();
    assert!(
        error.to_string().contains("KB_SERVER_LOG_SUMMARY_EVERY"),
        "{error}"
    );
    let error = ServeArgs::try_parse_from(["serve", "--log-summary-every", "soon"]).unwrap_err();
    assert!(
        error.to_string().contains("positive number of seconds"),
        "{error}"
    );
}
