//! `kingdom serve`: opens the store (an SQLite file, locked, or a
//! PostgreSQL database), hydrates the session manager, serves HTTP until
//! SIGINT/SIGTERM, then drains requests, flushes and closes the store.
//!
//! A server holds its SQLite file alone unless started with `--shared`: the
//! lock file beside the database (`sessions.db.lock`) is locked exclusively,
//! or shared by `--shared` servers, and the OS releases it when the process
//! ends, however it ends. On PostgreSQL every server runs shared.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use kb_server::config::{Database, ServeArgs, ServeConfig, SyncMode, process_env};
use kb_server::{AppState, Authenticator, Metrics, app, telemetry};
use kb_session::{ManagerOptions, SessionManager};
use kb_store::SessionStore;
use kb_store_postgres::{PostgresOptions, PostgresSessionStore};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

/// How often idle sessions are purged and the heartbeat is written.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(15);

/// Runs `kingdom serve` to completion.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::from_args(args, process_env)?;
    telemetry::init(config.log_format, process_env("RUST_LOG").as_deref())
        .context("cannot set up logging")?;
    tracing::info!("Starting Kingdom Builder server...");
    // Every connection (an event stream is one) takes a descriptor.
    let files = crate::fdlimit::raise();
    tracing::info!(open_files = files, "open-file limit");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let listener = app::bind(&config.host, config.port).await?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let auth =
        Authenticator::for_listener_with_guests(config.tokens, address, config.guests.is_some())?;

    let database = config.database.clone();
    let (store, _lock) = {
        let (database, sync, shared) = (database.clone(), config.sync, config.shared);
        tokio::task::spawn_blocking(move || open_store(&database, sync, shared))
            .await
            .context("opening the store panicked")??
    };
    let mut options = ManagerOptions::new(store);
    options.idle_timeout = config.idle_timeout;
    options.max_sessions = config.max_sessions.map(usize::from);
    options.shared = config.shared;
    let manager = tokio::task::spawn_blocking(move || SessionManager::new(options))
        .await
        .context("session hydration panicked")?
        .context("cannot load sessions")?;
    let manager = Arc::new(manager);
    let report = manager.report();
    tracing::info!(
        database = %database,
        shared = config.shared,
        sessions = report.loaded,
        purged = report.purged,
        quarantined = report.quarantined.len(),
        "sessions restored"
    );

    let metrics = Metrics::new();
    let live = metrics
        .register_gauge("sessions_live", "Sessions held by this server.")
        .context("cannot register metrics")?;
    live.set(manager.session_count() as i64);
    let maintenance = tokio::spawn({
        let manager = manager.clone();
        let live = live.clone();
        async move {
            let mut ticks = tokio::time::interval(MAINTENANCE_INTERVAL);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let manager = manager.clone();
                if let Ok(count) = tokio::task::spawn_blocking(move || {
                    manager.maintain();
                    manager.session_count()
                })
                .await
                {
                    live.set(count as i64);
                }
            }
        }
    });

    let mut state = AppState::new(auth, metrics, manager.clone())
        .with_cors(config.cors.clone())
        .with_ai_threads(config.ai_threads)
        .with_event_heartbeat(config.event_heartbeat);
    if let Some(per_hour) = config.guests {
        tracing::info!(per_hour, "guests may create sessions without a token");
        state = state.with_guests(kb_server::guests::GuestGate::new(per_hour));
    }
    let limits = config.limits;
    app::serve_logged(
        listener,
        app::router(state),
        limits,
        config.log_summary_every,
        app::shutdown_signal(),
    )
    .await
    .context("the HTTP server failed")?;
    maintenance.abort();
    tokio::task::spawn_blocking(move || manager.close())
        .await
        .context("closing the store panicked")?
        .context("cannot close the session store cleanly")?;
    tracing::info!("session store closed");
    Ok(())
}

/// Opens the store `database` names; an SQLite file is locked first (the
/// lock is returned, to hold while serving).
fn open_store(
    database: &Database,
    sync: SyncMode,
    shared: bool,
) -> anyhow::Result<(Arc<dyn SessionStore>, Option<File>)> {
    match database {
        Database::Sqlite(path) => {
            let lock = lock_database(path, shared)?;
            let sync = match sync {
                SyncMode::Normal => kb_store_sqlite::SyncMode::Normal,
                SyncMode::Full => kb_store_sqlite::SyncMode::Full,
            };
            let store = SqliteSessionStore::open(SqliteOptions::new(path).sync(sync))
                .with_context(|| format!("cannot open the session database {database}"))?;
            Ok((Arc::new(store), Some(lock)))
        }
        Database::Postgres(url) => {
            let store = PostgresSessionStore::open(PostgresOptions::new(url.clone()))
                .with_context(|| format!("cannot open the session database {database}"))?;
            Ok((Arc::new(store), None))
        }
    }
}

/// Locks the database for this process: exclusively, or shared with other
/// `--shared` servers. Held until the returned file is dropped or the
/// process ends.
pub(crate) fn lock_database(db: &Path, shared: bool) -> anyhow::Result<File> {
    let path = lock_path(db);
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the directory {}", parent.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let locked = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match locked {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) if shared => bail!(
            "the database {} is in use by a kingdom serve without --shared; \
             stop it, or start every server on this database with --shared",
            db.display()
        ),
        Err(TryLockError::WouldBlock) => bail!(
            "the database {} is in use by another kingdom serve; stop it, \
             or start every server on this database with --shared",
            db.display()
        ),
        Err(TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// `sessions.db` → `sessions.db.lock`.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}
