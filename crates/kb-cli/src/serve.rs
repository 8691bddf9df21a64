//! `kingdom serve`: opens the SQLite store, hydrates the session manager,
//! serves HTTP until SIGINT/SIGTERM, then drains requests, flushes and
//! closes the store.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kb_server::config::{ServeArgs, ServeConfig, SyncMode, process_env};
use kb_server::{AppState, Authenticator, Metrics, app, telemetry};
use kb_session::{ManagerOptions, SessionManager};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

/// How often idle sessions are purged and the heartbeat is written.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(15);

/// Runs `kingdom serve` to completion.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::from_args(args, process_env)?;
    telemetry::init(config.log_format, process_env("RUST_LOG").as_deref())
        .context("cannot set up logging")?;
    tracing::info!("Starting Kingdom Builder server...");
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
    let auth = Authenticator::for_listener(config.tokens, address)?;

    let sync = match config.sync {
        SyncMode::Normal => kb_store_sqlite::SyncMode::Normal,
        SyncMode::Full => kb_store_sqlite::SyncMode::Full,
    };
    let db_path = config.db_path.clone();
    let store = SqliteSessionStore::open(SqliteOptions::new(&db_path).sync(sync))
        .with_context(|| format!("cannot open the session database {}", db_path.display()))?;
    let mut options = ManagerOptions::new(Arc::new(store));
    options.idle_timeout = config.idle_timeout;
    options.max_sessions = config.max_sessions.map(usize::from);
    let manager = tokio::task::spawn_blocking(move || SessionManager::new(options))
        .await
        .context("session hydration panicked")?
        .context("cannot load sessions")?;
    let manager = Arc::new(manager);
    let report = manager.report();
    tracing::info!(
        database = %db_path.display(),
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

    let state = AppState::new(auth, metrics, manager.clone());
    app::run(listener, state, app::shutdown_signal())
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
