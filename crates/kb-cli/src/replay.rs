//! `kingdom replay FILE`: a black-box door into the engine.
//!
//! The file (or stdin for `-`) holds
//! `{"devMode"?, "config"?, "playerNames"?, "aiPlayers"?, "commands": [...]}`
//! (the fields of `POST /sessions`, plus the commands); the commands are
//! played in order on a fresh game (the AI plays the seats in `aiPlayers`,
//! `["B"]` when absent, none for `[]`: two humans) and
//! the output is `{"results": [{"ok": true} | {"ok": false, "error":
//! {"code", "message"}}...], "snapshot": ...}`. A refused command is data
//! (exit 0); a file that cannot be read or parsed, an invalid config or an
//! invalid player name is an error on stderr with exit code 2.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use kb_engine::{ByPlayer, Command, Content, EngineError, Game, GameOptions, PlayerId};
use kb_protocol::schema::GameConfig;
use serde::{Deserialize, Serialize};

use crate::content;
use crate::error::input;

/// Arguments of `kingdom replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The replay file, or `-` for standard input.
    pub file: PathBuf,
    /// Pretty-print the output.
    #[arg(long)]
    pub pretty: bool,
}

/// A replay file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplayFile {
    /// Start with the content's dev-mode overlay.
    #[serde(default)]
    dev_mode: bool,
    /// A per-game content override.
    #[serde(default)]
    config: Option<GameConfig>,
    /// Names given to the players before the first command.
    #[serde(default)]
    player_names: BTreeMap<PlayerId, String>,
    /// Seats the built-in AI plays, as in `POST /sessions` (default `["B"]`).
    #[serde(default)]
    ai_players: Option<Vec<PlayerId>>,
    /// The commands, in order.
    commands: Vec<kb_session::stored::StoredCommand>,
}

/// What a command did, in the output.
#[derive(Debug, Serialize)]
struct CommandResult {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
}

impl From<Result<kb_engine::Outcome, EngineError>> for CommandResult {
    fn from(result: Result<kb_engine::Outcome, EngineError>) -> Self {
        match result {
            Ok(_) => CommandResult {
                ok: true,
                error: None,
            },
            Err(error) => CommandResult {
                ok: false,
                error: Some(ErrorBody {
                    code: error.code(),
                    message: error.to_string(),
                }),
            },
        }
    }
}

/// Runs `kingdom replay`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let text = read(&args.file)?;
    let file = parse(&text)?;
    let content = match &file.config {
        Some(config) => Arc::new(
            Content::with_config(&content::default_def()?, &config.clone().into())
                .map_err(|e| input(format!("invalid config: {e}")))?,
        ),
        None => content::default_content()?,
    };
    let options = GameOptions {
        dev_mode: file.dev_mode,
        ai: match &file.ai_players {
            Some(seats) => ByPlayer::new_with(|player| seats.contains(&player)),
            None => GameOptions::default().ai,
        },
    };
    let mut game = Game::new(content, options).context("cannot start the game")?;
    for (&player_id, name) in &file.player_names {
        let rename = Command::SetPlayerName {
            player_id,
            player_name: name.clone(),
        };
        game.apply(&rename)
            .map_err(|e| input(format!("invalid name for player {player_id}: {e}")))?;
    }
    let results: Vec<CommandResult> = file
        .commands
        .iter()
        .map(|command| game.apply(&Command::from(command.clone())).into())
        .collect();

    #[derive(Serialize)]
    struct Output<'a> {
        results: Vec<CommandResult>,
        snapshot: kb_protocol::answers::SnapshotAnswer<'a>,
    }
    let snapshot = game.snapshot();
    let output = Output {
        results,
        snapshot: kb_protocol::answers::SnapshotAnswer::from(&snapshot),
    };
    let mut stdout = std::io::stdout().lock();
    if args.pretty {
        serde_json::to_writer_pretty(&mut stdout, &output)
    } else {
        serde_json::to_writer(&mut stdout, &output)
    }
    .context("cannot write the output")?;
    writeln!(stdout).context("cannot write the output")?;
    Ok(())
}

/// Reads the file, or standard input for `-`.
fn read(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| input(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| input(format!("cannot read {}: {e}", path.display())))
}

/// Parses a replay file; errors name the path of the bad value.
fn parse(text: &str) -> anyhow::Result<ReplayFile> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            input(format!("malformed replay file: {inner}"))
        } else {
            input(format!("malformed replay file at {path}: {inner}"))
        }
    })
}
