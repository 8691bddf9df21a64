//! The stored forms of a game state (what a checkpoint holds) and of a
//! command (what a log entry holds).
//!
//! The engine's [`GameState`] is plain data with no JSON form of its own,
//! free to change. A checkpoint must read back in every later
//! release, so it is written as `StoredState`: the same tree with the
//! field names every release since 2026-12 wrote (`phaseIndex`,
//! `recentResourceGains`, `costModifiers`…), converted from and into the
//! engine's types. Content inside (effects and triggers, skip flags,
//! percents, rounding modes) is written in the content schema of
//! `kb_protocol::schema`, seats as its `{"A", "B"}`, bags of numbers as
//! `OrderedMap`s of `Num`. Commands are
//! stored the same way, as [`StoredCommand`]s (`{"type": "action",
//! "actionId": …}`), so a log written by an earlier release replays
//! whatever the engine's `Command` looks like. That is also the one JSON
//! form of a command elsewhere: `GET …/log` and the event stream send log
//! entries as stored, and `kingdom replay` documents list them.

use std::sync::Arc;

use kb_engine::content::{Bag, Params};
use kb_engine::{
    AddPctCache, AddPctEntry, AiStep, Command, Conclusion, CostModifier, EvaluationModifier, Gain,
    GameState, Key, Land, Num, OrderedMap, PassiveRecord, PlayerId, PlayerState, ResultModifier,
    StatSource, StatSourceMeta,
};
use kb_protocol::schema::{ByPlayer, EffectList, Mirror, Percent, Rounding, SkipConfig, Triggers};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Serializes `state` as a checkpoint.
pub fn encode(state: &GameState) -> Vec<u8> {
    serde_json::to_vec(&StoredState::from(state)).expect("plain data")
}

/// Reads a checkpoint.
///
/// # Errors
///
/// Why the bytes are no stored state.
pub fn decode(bytes: &[u8]) -> serde_json::Result<GameState> {
    serde_json::from_slice::<StoredState>(bytes).map(GameState::from)
}

/// A game state as checkpoints store it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredState {
    turn: u32,
    active: PlayerId,
    phase_index: usize,
    step_index: usize,
    dev_mode: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    started_in_dev_mode: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conclusion: Option<StoredConclusion>,
    players: ByPlayer<StoredPlayer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    passives: Vec<StoredPassive>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cost_modifiers: Vec<StoredCostModifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    result_modifiers: Vec<StoredResultModifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evaluation_modifiers: Vec<StoredEvaluationModifier>,
    tiers: ByPlayer<Option<Key>>,
    ai: ByPlayer<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    recent_resource_gains: Vec<StoredGain>,
    #[serde(default, skip_serializing_if = "StoredAddPct::is_empty")]
    add_pct: StoredAddPct,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredConclusion {
    condition_id: Key,
    winner_id: PlayerId,
    loser_id: PlayerId,
    triggered_by: PlayerId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPlayer {
    id: PlayerId,
    name: String,
    resources: Bag,
    stats: Bag,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stats_history: Vec<Key>,
    population: OrderedMap<u32>,
    lands: Vec<StoredLand>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    buildings: Vec<Key>,
    actions: Vec<Key>,
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    stat_sources: OrderedMap<OrderedMap<StoredStatSource>>,
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    skip_phases: OrderedMap<Vec<Key>>,
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    skip_steps: OrderedMap<OrderedMap<Vec<Key>>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredLand {
    id: Key,
    slots_max: u32,
    slots_used: u32,
    tilled: bool,
    developments: Vec<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upkeep: Option<Bag>,
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    triggers: Triggers,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPassive {
    id: Key,
    owner: PlayerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meta: Option<Arc<Value>>,
    #[serde(default, skip_serializing_if = "EffectList::is_empty")]
    effects: EffectList,
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    triggers: Triggers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skip: Option<SkipConfig>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCostModifier {
    id: Key,
    owner: PlayerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action_id: Option<Key>,
    key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    round: Option<Rounding>,
    count: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredResultModifier {
    id: Key,
    owner: PlayerId,
    action_id: Key,
    effects: EffectList,
    count: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvaluationModifier {
    id: Key,
    owner: PlayerId,
    target: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    adjust: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<Percent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    round: Option<Rounding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    effects: Option<EffectList>,
    count: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredGain {
    key: Key,
    amount: Num,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredStatSource {
    amount: Num,
    meta: Arc<StoredStatSourceMeta>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredStatSourceMeta {
    key: Key,
    longevity: Key,
    kind: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct StoredAddPct {
    entries: Vec<StoredAddPctEntry>,
}

impl StoredAddPct {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredAddPctEntry {
    player: PlayerId,
    key: Key,
    base: f64,
    accumulated: f64,
}

/// A command as a log entry stores it, and as a `kingdom replay` document
/// and `GET /sessions/:id/log` show it: `{"type": "action", "actionId":
/// "tax", "params": {…}, "playerId": "A"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StoredCommand {
    /// Run one step of the active player's turn.
    Advance,
    /// Perform an action for the active player.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
        /// If given, the player who means to act.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        player_id: Option<PlayerId>,
    },
    /// Perform the action the built-in AI chose for its seat.
    AiAction {
        /// The AI seat.
        player_id: PlayerId,
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
    },
    /// Let the built-in AI play the seat's whole turn.
    AiTurn {
        /// The AI seat.
        player_id: PlayerId,
    },
    /// A turn of the built-in AI as the moves it chose.
    AiMoves {
        /// The AI seat.
        player_id: PlayerId,
        /// The moves, in order.
        moves: Vec<StoredAiStep>,
    },
    /// Set the dev-mode flag.
    SetDevMode {
        /// The new flag.
        enabled: bool,
    },
    /// Rename a player.
    SetPlayerName {
        /// The player.
        player_id: PlayerId,
        /// The new name.
        player_name: String,
    },
}

/// One move of a stored AI turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StoredAiStep {
    /// Run the seat's current step.
    Advance,
    /// Perform an action.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
    },
}

impl From<StoredCommand> for Command {
    fn from(body: StoredCommand) -> Self {
        match body {
            StoredCommand::Advance => Command::Advance,
            StoredCommand::Action {
                action_id,
                params,
                player_id,
            } => Command::Action {
                action_id,
                params,
                player_id,
            },
            StoredCommand::AiAction {
                player_id,
                action_id,
                params,
            } => Command::AiAction {
                player_id,
                action_id,
                params,
            },
            StoredCommand::AiTurn { player_id } => Command::AiTurn { player_id },
            StoredCommand::AiMoves { player_id, moves } => Command::AiMoves {
                player_id,
                moves: moves.into_iter().map(AiStep::from).collect(),
            },
            StoredCommand::SetDevMode { enabled } => Command::SetDevMode { enabled },
            StoredCommand::SetPlayerName {
                player_id,
                player_name,
            } => Command::SetPlayerName {
                player_id,
                player_name,
            },
        }
    }
}

impl From<StoredAiStep> for AiStep {
    fn from(body: StoredAiStep) -> Self {
        match body {
            StoredAiStep::Advance => AiStep::Advance,
            StoredAiStep::Action { action_id, params } => AiStep::Action { action_id, params },
        }
    }
}

impl From<&Command> for StoredCommand {
    fn from(command: &Command) -> Self {
        match command.clone() {
            Command::Advance => StoredCommand::Advance,
            Command::Action {
                action_id,
                params,
                player_id,
            } => StoredCommand::Action {
                action_id,
                params,
                player_id,
            },
            Command::AiAction {
                player_id,
                action_id,
                params,
            } => StoredCommand::AiAction {
                player_id,
                action_id,
                params,
            },
            Command::AiTurn { player_id } => StoredCommand::AiTurn { player_id },
            Command::AiMoves { player_id, moves } => StoredCommand::AiMoves {
                player_id,
                moves: moves
                    .into_iter()
                    .map(|step| match step {
                        AiStep::Advance => StoredAiStep::Advance,
                        AiStep::Action { action_id, params } => {
                            StoredAiStep::Action { action_id, params }
                        }
                    })
                    .collect(),
            },
            Command::SetDevMode { enabled } => StoredCommand::SetDevMode { enabled },
            Command::SetPlayerName {
                player_id,
                player_name,
            } => StoredCommand::SetPlayerName {
                player_id,
                player_name,
            },
        }
    }
}

/// Serializes `command` as a log entry's text.
pub fn encode_command(command: &Command) -> String {
    serde_json::to_string(&StoredCommand::from(command)).expect("plain data")
}

/// Reads a command from a log entry's JSON.
///
/// # Errors
///
/// Why the value is no stored command.
pub fn decode_command(value: Value) -> serde_json::Result<Command> {
    serde_json::from_value::<StoredCommand>(value).map(Command::from)
}

// ----- engine → stored -------------------------------------------------------------

impl From<&GameState> for StoredState {
    fn from(s: &GameState) -> Self {
        StoredState {
            turn: s.turn,
            active: s.active,
            phase_index: s.phase_index,
            step_index: s.step_index,
            dev_mode: s.dev_mode,
            started_in_dev_mode: s.started_in_dev_mode,
            conclusion: s.conclusion.as_ref().map(|c| StoredConclusion {
                condition_id: c.condition_id.clone(),
                winner_id: c.winner_id,
                loser_id: c.loser_id,
                triggered_by: c.triggered_by,
            }),
            players: ByPlayer::from_engine_with(&s.players, StoredPlayer::from),
            passives: s.passives.iter().map(StoredPassive::from).collect(),
            cost_modifiers: s
                .cost_modifiers
                .iter()
                .map(StoredCostModifier::from)
                .collect(),
            result_modifiers: s
                .result_modifiers
                .iter()
                .map(|m| StoredResultModifier {
                    id: m.id.clone(),
                    owner: m.owner,
                    action_id: m.action_id.clone(),
                    effects: EffectList::from(&m.effects),
                    count: m.count,
                })
                .collect(),
            evaluation_modifiers: s
                .evaluation_modifiers
                .iter()
                .map(StoredEvaluationModifier::from)
                .collect(),
            tiers: ByPlayer::from(s.tiers.clone()),
            ai: ByPlayer::from(s.ai.clone()),
            recent_resource_gains: s
                .recent_resource_gains
                .iter()
                .map(|g| StoredGain {
                    key: g.key.clone(),
                    amount: g.amount,
                })
                .collect(),
            add_pct: StoredAddPct {
                entries: s
                    .add_pct
                    .entries
                    .iter()
                    .map(|e| StoredAddPctEntry {
                        player: e.player,
                        key: e.key.clone(),
                        base: e.base,
                        accumulated: e.accumulated,
                    })
                    .collect(),
            },
        }
    }
}

impl From<&PlayerState> for StoredPlayer {
    fn from(p: &PlayerState) -> Self {
        StoredPlayer {
            id: p.id,
            name: p.name.clone(),
            resources: p.resources.clone(),
            stats: p.stats.clone(),
            stats_history: p.stats_history.clone(),
            population: p.population.clone(),
            lands: p
                .lands
                .iter()
                .map(|l| StoredLand {
                    id: l.id.clone(),
                    slots_max: l.slots_max,
                    slots_used: l.slots_used,
                    tilled: l.tilled,
                    developments: l.developments.clone(),
                    upkeep: l.upkeep.clone(),
                    triggers: Triggers::from_engine(&l.triggers),
                })
                .collect(),
            buildings: p.buildings.clone(),
            actions: p.actions.clone(),
            stat_sources: p
                .stat_sources
                .iter()
                .map(|(stat, sources)| {
                    let sources = sources
                        .iter()
                        .map(|(key, source)| {
                            let meta = &*source.meta;
                            let stored = StoredStatSource {
                                amount: source.amount,
                                meta: Arc::new(StoredStatSourceMeta {
                                    key: meta.key.clone(),
                                    longevity: meta.longevity.clone(),
                                    kind: meta.kind.clone(),
                                    id: meta.id.clone(),
                                    detail: meta.detail.clone(),
                                }),
                            };
                            (key.clone(), stored)
                        })
                        .collect();
                    (stat.clone(), sources)
                })
                .collect(),
            skip_phases: p.skip_phases.clone(),
            skip_steps: p.skip_steps.clone(),
        }
    }
}

impl From<&PassiveRecord> for StoredPassive {
    fn from(r: &PassiveRecord) -> Self {
        StoredPassive {
            id: r.id.clone(),
            owner: r.owner,
            name: r.name.clone(),
            icon: r.icon.clone(),
            detail: r.detail.clone(),
            meta: r.meta.clone(),
            effects: EffectList::from(&r.effects),
            triggers: Triggers::from_engine(&r.triggers),
            skip: r.skip.as_ref().map(SkipConfig::from),
        }
    }
}

impl From<&CostModifier> for StoredCostModifier {
    fn from(m: &CostModifier) -> Self {
        StoredCostModifier {
            id: m.id.clone(),
            owner: m.owner,
            action_id: m.action_id.clone(),
            key: m.key.clone(),
            amount: m.amount,
            percent: m.percent,
            round: m.round.map(Rounding::from),
            count: m.count,
        }
    }
}

impl From<&EvaluationModifier> for StoredEvaluationModifier {
    fn from(m: &EvaluationModifier) -> Self {
        StoredEvaluationModifier {
            id: m.id.clone(),
            owner: m.owner,
            target: m.target.clone(),
            amount: m.amount,
            adjust: m.adjust,
            percent: m.percent.as_ref().map(Percent::from),
            round: m.round.map(Rounding::from),
            effects: m.effects.as_ref().map(EffectList::from),
            count: m.count,
        }
    }
}

// ----- stored → engine -------------------------------------------------------------

impl From<StoredState> for GameState {
    fn from(s: StoredState) -> Self {
        let [a, b] = [s.players.a, s.players.b].map(PlayerState::from);
        GameState {
            turn: s.turn,
            active: s.active,
            phase_index: s.phase_index,
            step_index: s.step_index,
            dev_mode: s.dev_mode,
            started_in_dev_mode: s.started_in_dev_mode,
            conclusion: s.conclusion.map(|c| Conclusion {
                condition_id: c.condition_id,
                winner_id: c.winner_id,
                loser_id: c.loser_id,
                triggered_by: c.triggered_by,
            }),
            players: kb_engine::ByPlayer { a, b },
            passives: s.passives.into_iter().map(PassiveRecord::from).collect(),
            cost_modifiers: s
                .cost_modifiers
                .into_iter()
                .map(|m| CostModifier {
                    id: m.id,
                    owner: m.owner,
                    action_id: m.action_id,
                    key: m.key,
                    amount: m.amount,
                    percent: m.percent,
                    round: m.round.map(Into::into),
                    count: m.count,
                })
                .collect(),
            result_modifiers: s
                .result_modifiers
                .into_iter()
                .map(|m| ResultModifier {
                    id: m.id,
                    owner: m.owner,
                    action_id: m.action_id,
                    effects: m.effects.into(),
                    count: m.count,
                })
                .collect(),
            evaluation_modifiers: s
                .evaluation_modifiers
                .into_iter()
                .map(|m| EvaluationModifier {
                    id: m.id,
                    owner: m.owner,
                    target: m.target,
                    amount: m.amount,
                    adjust: m.adjust,
                    percent: m.percent.map(Into::into),
                    round: m.round.map(Into::into),
                    effects: m.effects.map(Into::into),
                    count: m.count,
                })
                .collect(),
            tiers: s.tiers.into(),
            ai: s.ai.into(),
            recent_resource_gains: s
                .recent_resource_gains
                .into_iter()
                .map(|g| Gain {
                    key: g.key,
                    amount: g.amount,
                })
                .collect(),
            add_pct: AddPctCache {
                entries: s
                    .add_pct
                    .entries
                    .into_iter()
                    .map(|e| AddPctEntry {
                        player: e.player,
                        key: e.key,
                        base: e.base,
                        accumulated: e.accumulated,
                    })
                    .collect(),
            },
        }
    }
}

impl From<StoredPlayer> for PlayerState {
    fn from(p: StoredPlayer) -> Self {
        PlayerState {
            id: p.id,
            name: p.name,
            resources: p.resources,
            stats: p.stats,
            stats_history: p.stats_history,
            population: p.population,
            lands: p
                .lands
                .into_iter()
                .map(|l| Land {
                    id: l.id,
                    slots_max: l.slots_max,
                    slots_used: l.slots_used,
                    tilled: l.tilled,
                    developments: l.developments,
                    upkeep: l.upkeep,
                    triggers: l.triggers.into_engine(),
                })
                .collect(),
            buildings: p.buildings,
            actions: p.actions,
            stat_sources: p
                .stat_sources
                .iter()
                .map(|(stat, sources)| {
                    let sources = sources
                        .iter()
                        .map(|(key, source)| {
                            let meta = &*source.meta;
                            let source = StatSource {
                                amount: source.amount,
                                meta: Arc::new(StatSourceMeta {
                                    key: meta.key.clone(),
                                    longevity: meta.longevity.clone(),
                                    kind: meta.kind.clone(),
                                    id: meta.id.clone(),
                                    detail: meta.detail.clone(),
                                }),
                            };
                            (key.clone(), source)
                        })
                        .collect();
                    (stat.clone(), sources)
                })
                .collect(),
            skip_phases: p.skip_phases,
            skip_steps: p.skip_steps,
        }
    }
}

impl From<StoredPassive> for PassiveRecord {
    fn from(r: StoredPassive) -> Self {
        PassiveRecord {
            id: r.id,
            owner: r.owner,
            name: r.name,
            icon: r.icon,
            detail: r.detail,
            meta: r.meta,
            effects: r.effects.into(),
            triggers: r.triggers.into_engine(),
            skip: r.skip.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use kb_content::ContentPack;
    use kb_engine::{Command, Game, GameOptions, PlayerId};
    use serde_json::Value;

    use super::*;

    /// A game some turns in, with passives, modifiers and stat sources.
    fn played() -> Game {
        let content = ContentPack::default_pack().base_session().content().clone();
        let mut game = Game::new(content, GameOptions::default()).unwrap();
        for _ in 0..60 {
            let command = match game.state().active {
                PlayerId::B => Command::AiTurn {
                    player_id: PlayerId::B,
                },
                PlayerId::A => Command::Advance,
            };
            game.apply(&command).unwrap();
        }
        game
    }

    #[test]
    fn a_checkpoint_reads_back_as_the_same_state() {
        let game = played();
        let bytes = encode(game.state());
        assert_eq!(decode(&bytes).unwrap(), *game.state());
    }

    /// The names every release since 2026-12 wrote, whatever the engine
    /// calls its fields.
    #[test]
    fn a_checkpoint_keeps_the_stored_field_names() {
        let game = played();
        let value: Value = serde_json::from_slice(&encode(game.state())).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "turn",
            "phaseIndex",
            "stepIndex",
            "devMode",
            "players",
            "tiers",
            "ai",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        assert!(!keys.iter().any(|k| k.contains('_')), "{keys:?}");
        let player = value["players"]["A"].as_object().unwrap();
        assert!(player.contains_key("statSources"), "{player:?}");
        let land = value["players"]["A"]["lands"][0].as_object().unwrap();
        assert!(land.contains_key("slotsMax"), "{land:?}");
        assert!(value["passives"].as_array().is_some_and(|p| !p.is_empty()));
    }

    /// Every command's log text, as releases since 2026-12 wrote it.
    #[test]
    fn a_log_entry_keeps_the_stored_command_form() {
        let params: Params = serde_json::from_value(serde_json::json!({"id": "house"})).unwrap();
        let cases = [
            (Command::Advance, r#"{"type":"advance"}"#),
            (
                Command::Action {
                    action_id: "develop".into(),
                    params: params.clone(),
                    player_id: Some(PlayerId::A),
                },
                r#"{"type":"action","actionId":"develop","params":{"id":"house"},"playerId":"A"}"#,
            ),
            (
                Command::AiAction {
                    player_id: PlayerId::B,
                    action_id: "tax".into(),
                    params: Params::new(),
                },
                r#"{"type":"aiAction","playerId":"B","actionId":"tax"}"#,
            ),
            (
                Command::AiTurn {
                    player_id: PlayerId::B,
                },
                r#"{"type":"aiTurn","playerId":"B"}"#,
            ),
            (
                Command::AiMoves {
                    player_id: PlayerId::B,
                    moves: vec![
                        AiStep::Advance,
                        AiStep::Action {
                            action_id: "develop".into(),
                            params,
                        },
                    ],
                },
                r#"{"type":"aiMoves","playerId":"B","moves":[{"type":"advance"},{"type":"action","actionId":"develop","params":{"id":"house"}}]}"#,
            ),
            (
                Command::SetDevMode { enabled: true },
                r#"{"type":"setDevMode","enabled":true}"#,
            ),
            (
                Command::SetPlayerName {
                    player_id: PlayerId::A,
                    player_name: "Ada".into(),
                },
                r#"{"type":"setPlayerName","playerId":"A","playerName":"Ada"}"#,
            ),
        ];
        for (command, text) in cases {
            assert_eq!(encode_command(&command), text);
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(decode_command(value).unwrap(), command, "{text}");
        }
    }
}
