//! `kingdom admin`: the operator's tools, on the database itself.
//!
//! * `backup --to FILE`: an online, consistent copy of an SQLite database,
//!   taken while a server serves it (SQLite's online backup API). For
//!   PostgreSQL, use `pg_dump` (the README says how).
//! * `check`: SQLite's integrity check, then every session's whole log
//!   replayed and checked against its header and checkpoint, the
//!   unreadable rows and the quarantine listed. Exit code 1 when anything
//!   is wrong.
//! * `list`, `export SESSION`: read the database.
//! * `import FILE`, `delete SESSION`: write it.
//!
//! Reading commands open an SQLite file read-only, so they are safe beside
//! a running server. Writing commands refuse an SQLite file a lone
//! `kingdom serve` holds (its memory would not see the change: use the
//! HTTP API, `DELETE /sessions/ID`, or stop it); servers sharing the
//! database (`--shared`, PostgreSQL) read the store on every request, so
//! writing beside them is safe.
//!
//! Exit codes: 0 done, 1 failure (or `check` found a problem), 2 bad input
//! (a missing file, a database of another schema, an unknown session, a
//! document that is not a session archive).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use kb_server::config::{DEFAULT_DB_PATH, Database, ENV_DB, process_env};
use kb_session::archive::{self, ArchiveError, SessionArchive};
use kb_session::audit::audit_store;
use kb_store::{SessionStore, StoreError};
use kb_store_postgres::{PostgresOptions, PostgresSessionStore};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};
use serde::Serialize;

use crate::error::input;

/// `kingdom admin`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The database: an SQLite file or a postgres:// URL [env: KB_SERVER_DB]
    /// [default: ./data/sessions.db].
    #[arg(long, global = true, value_name = "PATH|URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Admin,
}

#[derive(Debug, clap::Subcommand)]
enum Admin {
    /// Copy an SQLite database, consistently, while a server serves it.
    Backup {
        /// The new file (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Check the database: integrity, every session replayed to its
    /// header, the quarantine. Exit code 1 when something is wrong.
    Check {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the sessions.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write one session (header, content, whole log) as a JSON document.
    Export {
        /// The session id.
        session: String,
        /// The file to write (must not exist); standard output by default.
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Add a session from a document `export` wrote (on another server, or
    /// this one after a delete).
    Import {
        /// The document, or `-` for standard input.
        file: PathBuf,
    },
    /// Delete one session with its log.
    Delete {
        /// The session id.
        session: String,
    },
}

/// Runs `kingdom admin`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let database = Database::parse(
        &args
            .db
            .or_else(|| process_env(ENV_DB).filter(|value| !value.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_DB_PATH.to_owned()),
    );
    match args.command {
        Admin::Backup { to } => backup(&database, &to),
        Admin::Check { json } => check(&database, json),
        Admin::List { json } => list(&database, json),
        Admin::Export { session, to } => export(&database, &session, to.as_deref()),
        Admin::Import { file } => import(&database, &file),
        Admin::Delete { session } => delete(&database, &session),
    }
}

/// Opens the database to read it, changing nothing.
fn open_to_read(database: &Database) -> anyhow::Result<Arc<dyn SessionStore>> {
    match database {
        Database::Sqlite(path) => {
            if !path.is_file() {
                return Err(input(format!("no database file at {}", path.display())));
            }
            let store = SqliteSessionStore::open_read_only(SqliteOptions::new(path))
                .map_err(|error| unusable(database, &error))?;
            Ok(Arc::new(store))
        }
        Database::Postgres(_) => open_postgres(database),
    }
}

/// Opens the database to write it; an SQLite file is locked beside other
/// sharing processes, so a lone server on it refuses us (and we it).
fn open_to_write(
    database: &Database,
    create: bool,
) -> anyhow::Result<(Arc<dyn SessionStore>, Option<std::fs::File>)> {
    match database {
        Database::Sqlite(path) => {
            if !create && !path.is_file() {
                return Err(input(format!("no database file at {}", path.display())));
            }
            if path.is_file() {
                // Check the schema before anything could migrate it.
                SqliteSessionStore::open_read_only(SqliteOptions::new(path))
                    .map_err(|error| unusable(database, &error))?;
            }
            let lock = crate::serve::lock_database(path, true).map_err(|_| {
                anyhow::anyhow!(
                    "a kingdom serve holds {} alone, and would not see the change: stop it \
                     first, or change the session through its HTTP API \
                     (DELETE /sessions/ID)",
                    path.display()
                )
            })?;
            let store = SqliteSessionStore::open(SqliteOptions::new(path))
                .map_err(|error| unusable(database, &error))?;
            Ok((Arc::new(store), Some(lock)))
        }
        Database::Postgres(_) => Ok((open_postgres(database)?, None)),
    }
}

fn open_postgres(database: &Database) -> anyhow::Result<Arc<dyn SessionStore>> {
    let Database::Postgres(url) = database else {
        unreachable!("called for PostgreSQL")
    };
    let store = PostgresSessionStore::open(PostgresOptions::new(url.clone()).read_connections(1))
        .map_err(|error| unusable(database, &error))?;
    Ok(Arc::new(store))
}

/// A database that cannot be opened: bad input when it is not a session
/// database this program reads, a failure otherwise.
fn unusable(database: &Database, error: &StoreError) -> anyhow::Error {
    let message = format!("cannot use the database {database}: {error}");
    match error {
        StoreError::SchemaTooNew { .. } | StoreError::InvalidTableName(_) => input(message),
        StoreError::Backend { operation, .. }
            if operation.starts_with("open") && matches!(database, Database::Sqlite(_)) =>
        {
            input(message)
        }
        _ => anyhow::anyhow!(message),
    }
}

fn backup(database: &Database, to: &Path) -> anyhow::Result<()> {
    let Database::Sqlite(path) = database else {
        return Err(input(
            "kingdom admin backup copies SQLite databases; back up PostgreSQL with pg_dump \
             (see the README, \"Backup and restore\")",
        ));
    };
    if to.exists() {
        return Err(input(format!(
            "{} exists: back up to a new file",
            to.display()
        )));
    }
    if !path.is_file() {
        return Err(input(format!("no database file at {}", path.display())));
    }
    let store = SqliteSessionStore::open_read_only(SqliteOptions::new(path))
        .map_err(|error| unusable(database, &error))?;
    // The copy is made under a name of its own beside the destination,
    // checked, and only then renamed to it: a backup killed half-way
    // leaves no file at the destination, only a `.partial` one.
    let partial = partial_name(to);
    let _ = std::fs::remove_file(&partial);
    let pages = store.backup_to(&partial).context("the backup failed")?;
    drop(store);
    let sessions = match check_copy(&partial) {
        Ok(sessions) => sessions,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), to.display()))?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The rename itself is durable once the directory is.
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot sync {}", parent.display()))?;
    }
    println!(
        "backed up {} to {} ({pages} pages, {sessions} sessions); integrity check: ok",
        path.display(),
        to.display()
    );
    Ok(())
}

/// Where a backup to `to` is written before it is checked:
/// `FILE.partial-PID` beside it.
fn partial_name(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    to.with_file_name(name)
}

/// Opens a copy as a database of its own, checks its integrity and counts
/// its sessions.
fn check_copy(copy: &Path) -> anyhow::Result<usize> {
    let store = SqliteSessionStore::open_read_only(SqliteOptions::new(copy))
        .context("the backup does not open")?;
    let integrity = store.integrity_check()?;
    anyhow::ensure!(
        integrity == ["ok"],
        "the backup fails its integrity check: {integrity:?}"
    );
    Ok(store.scan()?.records.len())
}

/// The report of `admin check`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckReport {
    database: String,
    integrity: Vec<String>,
    sessions: usize,
    problems: Vec<String>,
    quarantined: Vec<String>,
    sound: bool,
}

fn check(database: &Database, json: bool) -> anyhow::Result<()> {
    let store = open_to_read(database)?;
    let integrity = match database {
        Database::Sqlite(path) => SqliteSessionStore::open_read_only(SqliteOptions::new(path))?
            .integrity_check()
            .context("the integrity check failed to run")?,
        Database::Postgres(_) => vec!["not run (PostgreSQL checks its own pages)".to_owned()],
    };
    let audit = audit_store(store.as_ref()).context("cannot read the database")?;
    let mut problems = Vec::new();
    if let Database::Sqlite(_) = database
        && integrity != ["ok"]
    {
        problems.extend(integrity.iter().map(|line| format!("integrity: {line}")));
    }
    for session in &audit.sessions {
        for problem in &session.problems {
            problems.push(format!("{}: {problem}", session.session_id));
        }
    }
    for row in &audit.unreadable {
        problems.push(format!(
            "{}: the row cannot be read: {}",
            row.session_id, row.reason
        ));
    }
    let quarantined: Vec<String> = audit
        .quarantined
        .iter()
        .map(|row| format!("{}: {}", row.session_id, row.reason))
        .collect();
    let report = CheckReport {
        database: database.to_string(),
        integrity,
        sessions: audit.sessions.len(),
        sound: problems.is_empty() && quarantined.is_empty(),
        problems,
        quarantined,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("database: {}", report.database);
        println!("integrity: {}", report.integrity.join("; "));
        println!(
            "sessions: {} replayed to their headers, {} with problems",
            report.sessions,
            audit.sessions.iter().filter(|s| !s.is_sound()).count()
        );
        for problem in &report.problems {
            println!("problem: {problem}");
        }
        for row in &report.quarantined {
            println!("quarantined: {row}");
        }
        println!("{}", if report.sound { "sound" } else { "NOT SOUND" });
    }
    anyhow::ensure!(
        report.sound,
        "the check found {} problems and {} quarantined sessions",
        report.problems.len(),
        report.quarantined.len()
    );
    Ok(())
}

/// One line of `admin list --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    session_id: String,
    owner: Option<String>,
    version: u64,
    dev_mode: bool,
    created_at: i64,
    last_accessed_at: i64,
}

fn list(database: &Database, json: bool) -> anyhow::Result<()> {
    let store = open_to_read(database)?;
    let scan = store.scan().context("cannot read the database")?;
    let listed: Vec<Listed> = scan
        .records
        .into_iter()
        .map(|record| Listed {
            session_id: record.session_id,
            owner: record.owner,
            version: record.version,
            dev_mode: record.dev_mode,
            created_at: record.created_at,
            last_accessed_at: record.last_accessed_at,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<36}  {:<16}  {:>7}  {:>3}  {:>13}  {:>13}",
        "SESSION", "OWNER", "VERSION", "DEV", "CREATED", "LAST ACCESS"
    )?;
    for session in &listed {
        writeln!(
            out,
            "{:<36}  {:<16}  {:>7}  {:>3}  {:>13}  {:>13}",
            session.session_id,
            session.owner.as_deref().unwrap_or("-"),
            session.version,
            if session.dev_mode { "yes" } else { "no" },
            session.created_at,
            session.last_accessed_at
        )?;
    }
    if !scan.unreadable.is_empty() {
        writeln!(
            out,
            "{} rows cannot be read (kingdom admin check says why)",
            scan.unreadable.len()
        )?;
    }
    Ok(())
}

fn archive_error(error: ArchiveError) -> anyhow::Error {
    match error {
        ArchiveError::Store(error) => anyhow::Error::new(error),
        other => input(other.to_string()),
    }
}

fn export(database: &Database, session: &str, to: Option<&Path>) -> anyhow::Result<()> {
    if let Some(to) = to
        && to.exists()
    {
        return Err(input(format!(
            "{} exists: export to a new file",
            to.display()
        )));
    }
    let store = open_to_read(database)?;
    let archive = archive::export(store.as_ref(), session).map_err(archive_error)?;
    let text = serde_json::to_string_pretty(&archive)?;
    match to {
        Some(to) => {
            std::fs::write(to, text + "\n")
                .with_context(|| format!("cannot write {}", to.display()))?;
            eprintln!(
                "exported session {session} (version {}) to {}",
                archive.session.version,
                to.display()
            );
        }
        None => println!("{text}"),
    }
    Ok(())
}

fn import(database: &Database, file: &Path) -> anyhow::Result<()> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(file)
            .map_err(|error| input(format!("cannot read {}: {error}", file.display())))?
    };
    let archive: SessionArchive = serde_json::from_str(&text).map_err(|error| {
        input(format!(
            "{} is not a session archive (kingdom admin export writes them): {error}",
            file.display()
        ))
    })?;
    let (store, _lock) = open_to_write(database, true)?;
    let version = archive::import(store.as_ref(), &archive).map_err(archive_error)?;
    store.close()?;
    println!(
        "imported session {} at version {version}",
        archive.session.session_id
    );
    Ok(())
}

fn delete(database: &Database, session: &str) -> anyhow::Result<()> {
    let (store, _lock) = open_to_write(database, false)?;
    if store.load_session(session)?.is_none() {
        return Err(input(format!("no session {session:?} in the database")));
    }
    store.commit(vec![kb_store::Write::Delete {
        session_id: session.to_owned(),
        at_version: None,
    }])?;
    store.close()?;
    println!("deleted session {session}");
    Ok(())
}
