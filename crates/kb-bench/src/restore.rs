//! The restore benchmark and storage figures: build a database of N
//! sessions with M commands each (written straight through the store, as a
//! server would have), then measure the time from process start to serving
//! requests, memory, and bytes on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hyper::{Method, StatusCode};
use kb_content::ContentPack;
use kb_engine::{Command, Game, GameOptions, PlayerId};
use kb_session::{LogEntry, StartEntry};
use kb_store::{ContentRecord, SessionRecord, SessionStore, Write};
use kb_store_sqlite::{SqliteOptions, SqliteSessionStore};

use crate::client::Connection;
use crate::server::{Memory, ServerOptions, ServerProcess, database_bytes};

/// The commands of `turns` turns of a simple game: A advances to its main
/// phase, acts, ends its turn; B plays by AI.
pub fn game_script(commands: usize) -> anyhow::Result<Vec<Command>> {
    let content = ContentPack::default_pack().base_session().content().clone();
    let mut game = Game::new(content, GameOptions::default())?;
    let mut script = Vec::with_capacity(commands);
    let mut turn = 0usize;
    while script.len() < commands {
        let state = game.state();
        let command = if state.active == PlayerId::B {
            Command::AiTurn {
                player_id: PlayerId::B,
            }
        } else if game.content().phases()[state.phase_index].action
            && state.players.a.resources.value("ap") > 0.0
        {
            turn += 1;
            let action = if turn.is_multiple_of(2) {
                "expand"
            } else {
                "tax"
            };
            Command::Action {
                action_id: action.into(),
                params: Default::default(),
                player_id: None,
            }
        } else {
            Command::Advance
        };
        game.apply(&command)
            .with_context(|| format!("scripted command {} ({command:?})", script.len() + 1))?;
        script.push(command);
    }
    Ok(script)
}

/// Writes `sessions` sessions, each with the start entry and `commands`
/// commands, to a fresh SQLite database at `db`.
pub fn build_database(db: &Path, sessions: usize, commands: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let store = SqliteSessionStore::open(SqliteOptions::new(db))?;
    let content = ContentPack::default_pack().base_session().clone();
    let record = content.to_record();
    store.commit(vec![Write::PutContent(ContentRecord {
        content_id: content.id().as_str().to_owned(),
        content: record.engine,
        registries: record.registries,
        metadata: record.metadata,
    })])?;
    let mut log = vec![
        LogEntry::Start(StartEntry {
            dev_mode: false,
            ai_players: vec![PlayerId::B],
            ai_level: None,
        })
        .to_json(),
    ];
    log.extend(
        game_script(commands)?
            .into_iter()
            .map(|c| LogEntry::Command(c).to_json()),
    );
    let now = 1_700_000_000_000;
    let store = Arc::new(store);
    for chunk_start in (0..sessions).step_by(500) {
        let mut writes = Vec::new();
        for n in chunk_start..(chunk_start + 500).min(sessions) {
            let header = SessionRecord {
                session_id: format!("bench-{n:08}"),
                created_at: now,
                last_accessed_at: now,
                dev_mode: false,
                config: None,
                content_id: content.id().as_str().to_owned(),
                owner: Some("local-dev".into()),
                version: 0,
            };
            writes.push(Write::SaveSession(header.clone()));
            writes.push(Write::append(
                &SessionRecord {
                    version: log.len() as u64,
                    ..header
                },
                log.clone(),
            ));
        }
        store.commit(writes)?;
    }
    store.close()?;
    Ok(started.elapsed())
}

/// What the restore benchmark measured.
#[derive(Debug)]
pub struct RestoreResult {
    /// Time to build the database.
    pub build: Duration,
    /// Database size.
    pub db_bytes: u64,
    /// From process start to the first answered request.
    pub ready_after: Duration,
    /// From process start to the first answered snapshot of a session.
    pub first_snapshot_after: Duration,
    /// Server memory right after start.
    pub memory_at_start: Memory,
    /// Sessions touched (rebuilt) after start.
    pub touched: usize,
    /// Time to touch them.
    pub touch_elapsed: Duration,
    /// Server memory after touching them.
    pub memory_after_touch: Memory,
}

/// Runs the restore benchmark on a database built for it.
pub async fn restore(
    exe: &Path,
    db: &Path,
    sessions: usize,
    touch: usize,
    clients: usize,
) -> anyhow::Result<RestoreResult> {
    let db_bytes = database_bytes(db);
    let options = ServerOptions {
        exe: exe.to_path_buf(),
        db: db.to_path_buf(),
        sync: "normal".into(),
        extra: vec!["--idle-timeout".into(), "0".into()],
        port: None,
    };
    let started = Instant::now();
    let server = ServerProcess::start(&options).await?;
    let ready_after = server.ready_after;
    let mut connection = Connection::open(server.address, "local-dev").await?;
    let (status, _) = connection
        .send(
            Method::GET,
            &format!("/sessions/bench-{:08}/snapshot", sessions / 2),
            None,
        )
        .await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "snapshot of a restored session: {status}"
    );
    let first_snapshot_after = started.elapsed();
    let memory_at_start = server.memory()?;
    let touch = touch.min(sessions);
    let touch_started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients.max(1) {
        let address = server.address;
        let ids: Vec<usize> = (c..touch).step_by(clients.max(1)).collect();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(address, "local-dev").await?;
            for n in ids {
                let (status, _) = connection
                    .send(
                        Method::GET,
                        &format!("/sessions/bench-{n:08}/snapshot"),
                        None,
                    )
                    .await?;
                anyhow::ensure!(status == StatusCode::OK, "snapshot bench-{n:08}: {status}");
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let touch_elapsed = touch_started.elapsed();
    let memory_after_touch = server.memory()?;
    server.stop()?;
    Ok(RestoreResult {
        build: Duration::ZERO,
        db_bytes,
        ready_after,
        first_snapshot_after,
        memory_at_start,
        touched: touch,
        touch_elapsed,
        memory_after_touch,
    })
}
