//! Snapshots: read-only views of a game (game-rules §9.1), as plain data.
//! Taking a snapshot never changes the game. Their JSON shape (the
//! reference's field names) is `kb-protocol`'s `answers` module.

use crate::Key;
use crate::attack_log::AttackLog;
use crate::content::{
    Bag, Content, Effects, PhaseDef, PlayerStart, TierDef, Triggers, WinConditionDef,
};
use crate::map::OrderedMap;
use crate::player::{ByPlayer, PlayerId};
use crate::state::{Conclusion, Gain, GameState, PassiveRecord, SkipConfig, StatSource};

/// A whole-game snapshot. `M` is the metadata: the engine's own
/// ([`EngineMetadata`]) unless a caller merged more into it with
/// [`Snapshot::map_metadata`] (the server adds its static descriptors).
#[derive(Clone, Debug)]
pub struct Snapshot<'a, M = EngineMetadata> {
    /// Turn, phase and players.
    pub game: GameSnapshot,
    /// Phase definitions.
    pub phases: &'a [PhaseDef],
    /// The resource every action costs.
    pub action_cost_resource: &'a str,
    /// Gains since the last evaluator group.
    pub recent_resource_gains: &'a [Gain],
    /// What each player's start differs from the base by.
    pub compensations: &'a ByPlayer<PlayerStart>,
    /// Tier and win-condition rules.
    pub rules: RulesSnapshot<'a>,
    /// Full passive records per owner.
    pub passive_records: ByPlayer<Vec<PassiveRecordView<'a>>>,
    /// Metadata.
    pub metadata: M,
}

impl<'a, M> Snapshot<'a, M> {
    /// The same snapshot with its metadata replaced by `f(metadata)`.
    pub fn map_metadata<N>(self, f: impl FnOnce(M) -> N) -> Snapshot<'a, N> {
        Snapshot {
            game: self.game,
            phases: self.phases,
            action_cost_resource: self.action_cost_resource,
            recent_resource_gains: self.recent_resource_gains,
            compensations: self.compensations,
            rules: self.rules,
            passive_records: self.passive_records,
            metadata: f(self.metadata),
        }
    }
}

/// The `game` part of a snapshot.
#[derive(Clone, Debug)]
pub struct GameSnapshot {
    /// Turn number.
    pub turn: u32,
    /// 0 for A, 1 for B.
    pub current_player_index: usize,
    /// Current phase id.
    pub current_phase: Key,
    /// Current step id.
    pub current_step: Key,
    /// Phase index.
    pub phase_index: usize,
    /// Step index.
    pub step_index: usize,
    /// Dev-mode flag.
    pub dev_mode: bool,
    /// Both players.
    pub players: Vec<PlayerSnapshot>,
    /// Whose turn it is.
    pub active_player_id: PlayerId,
    /// The other player.
    pub opponent_id: PlayerId,
    /// How the game ended.
    pub conclusion: Option<Conclusion>,
}

/// Rules shown in snapshots.
#[derive(Clone, Debug)]
pub struct RulesSnapshot<'a> {
    /// The tiered resource.
    pub tiered_resource_key: &'a str,
    /// Tiers.
    pub tier_definitions: &'a [TierDef],
    /// Win conditions.
    pub win_conditions: &'a [WinConditionDef],
}

/// Engine-produced snapshot metadata.
#[derive(Clone, Debug, Default)]
pub struct EngineMetadata {
    /// Evaluation modifier ids by target.
    pub passive_evaluation_modifiers: OrderedMap<Vec<Key>>,
    /// Effect logs of the result this snapshot accompanies.
    pub effect_logs: Option<EffectLogs>,
}

/// Effect logs by key.
#[derive(Clone, Debug, Default)]
pub struct EffectLogs {
    /// Attack logs.
    pub attacks: Vec<AttackLog>,
}

/// A passive record in the reference shape (triggers as top-level keys).
#[derive(Clone, Debug)]
pub struct PassiveRecordView<'a> {
    /// Id.
    pub id: &'a str,
    /// Name.
    pub name: Option<&'a str>,
    /// Icon.
    pub icon: Option<&'a str>,
    /// Detail.
    pub detail: Option<&'a str>,
    /// Metadata.
    pub meta: Option<&'a serde_json::Value>,
    /// Setup effects.
    pub effects: Option<&'a Effects>,
    /// Trigger lists.
    pub triggers: &'a Triggers,
    /// Skip flags.
    pub skip: Option<&'a SkipConfig>,
    /// Owner.
    pub owner: PlayerId,
}

impl<'a> PassiveRecordView<'a> {
    fn of(record: &'a PassiveRecord) -> Self {
        PassiveRecordView {
            id: &record.id,
            name: record.name.as_deref(),
            icon: record.icon.as_deref(),
            detail: record.detail.as_deref(),
            meta: record.meta.as_deref(),
            effects: (!record.effects.is_empty()).then_some(&record.effects),
            triggers: &record.triggers,
            skip: record.skip.as_ref(),
            owner: record.owner,
        }
    }
}

/// A passive in a player's list.
#[derive(Clone, Debug, PartialEq)]
pub struct PassiveSummary {
    /// Id.
    pub id: Key,
    /// Name.
    pub name: Option<String>,
    /// Icon.
    pub icon: Option<String>,
    /// Detail.
    pub detail: Option<String>,
    /// Metadata.
    pub meta: Option<std::sync::Arc<serde_json::Value>>,
}

impl PassiveSummary {
    /// Summarises a record.
    pub fn of(record: &PassiveRecord) -> Self {
        PassiveSummary {
            id: record.id.clone(),
            name: record.name.clone(),
            icon: record.icon.clone(),
            detail: record.detail.clone(),
            meta: record.meta.clone(),
        }
    }
}

/// A player in a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerSnapshot {
    /// Seat.
    pub id: PlayerId,
    /// Name.
    pub name: String,
    /// Whether the built-in AI plays this seat.
    pub ai_controlled: bool,
    /// Resources.
    pub resources: Bag,
    /// Stats.
    pub stats: Bag,
    /// Stats that have ever been non-zero.
    pub stats_history: OrderedMap<bool>,
    /// Population per role.
    pub population: OrderedMap<u32>,
    /// Lands.
    pub lands: Vec<LandSnapshot>,
    /// Buildings.
    pub buildings: Vec<Key>,
    /// Unlocked actions.
    pub actions: Vec<Key>,
    /// Stat attribution.
    pub stat_sources: OrderedMap<OrderedMap<StatSource>>,
    /// Skipped phases.
    pub skip_phases: OrderedMap<OrderedMap<bool>>,
    /// Skipped steps.
    pub skip_steps: OrderedMap<OrderedMap<OrderedMap<bool>>>,
    /// Passives.
    pub passives: Vec<PassiveSummary>,
}

/// A land in a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct LandSnapshot {
    /// Id.
    pub id: Key,
    /// Capacity.
    pub slots_max: u32,
    /// Used slots.
    pub slots_used: u32,
    /// Tilled.
    pub tilled: bool,
    /// Developments.
    pub developments: Vec<Key>,
    /// Upkeep.
    pub upkeep: Option<Bag>,
    /// Land triggers.
    pub triggers: Triggers,
}

fn flags(sources: &[Key]) -> OrderedMap<bool> {
    sources.iter().map(|id| (id.clone(), true)).collect()
}

impl PlayerSnapshot {
    /// Builds the snapshot of `player`.
    pub fn of(content: &Content, state: &GameState, player: PlayerId) -> Self {
        let _ = content;
        let p = state.players.get(player);
        PlayerSnapshot {
            id: player,
            name: p.name.clone(),
            ai_controlled: *state.ai.get(player),
            resources: p.resources.clone(),
            stats: p.stats.clone(),
            stats_history: p.stats_history.iter().map(|k| (k.clone(), true)).collect(),
            population: p.population.clone(),
            lands: p
                .lands
                .iter()
                .map(|l| LandSnapshot {
                    id: l.id.clone(),
                    slots_max: l.slots_max,
                    slots_used: l.slots_used,
                    tilled: l.tilled,
                    developments: l.developments.clone(),
                    upkeep: l.upkeep.clone(),
                    triggers: l.triggers.clone(),
                })
                .collect(),
            buildings: p.buildings.clone(),
            actions: p.actions.clone(),
            stat_sources: p.stat_sources.clone(),
            skip_phases: p
                .skip_phases
                .iter()
                .map(|(k, v)| (k.clone(), flags(v)))
                .collect(),
            skip_steps: p
                .skip_steps
                .iter()
                .map(|(phase, steps)| {
                    (
                        phase.clone(),
                        steps
                            .iter()
                            .map(|(step, v)| (step.clone(), flags(v)))
                            .collect(),
                    )
                })
                .collect(),
            passives: state
                .passives
                .iter()
                .filter(|r| r.owner == player)
                .map(PassiveSummary::of)
                .collect(),
        }
    }
}

impl GameSnapshot {
    /// Builds the `game` part of a snapshot.
    pub fn of(content: &Content, state: &GameState) -> Self {
        let phase = &content.phases()[state.phase_index];
        GameSnapshot {
            turn: state.turn,
            current_player_index: state.active.index(),
            current_phase: phase.id.clone(),
            current_step: phase.steps[state.step_index].id.clone(),
            phase_index: state.phase_index,
            step_index: state.step_index,
            dev_mode: state.dev_mode,
            players: PlayerId::ALL
                .iter()
                .map(|&p| PlayerSnapshot::of(content, state, p))
                .collect(),
            active_player_id: state.active,
            opponent_id: state.active.other(),
            conclusion: state.conclusion.clone(),
        }
    }
}

impl<'a> Snapshot<'a, EngineMetadata> {
    /// Builds a snapshot; `attacks` are the attack logs of the result it
    /// accompanies, if any.
    pub fn of(content: &'a Content, state: &'a GameState, attacks: Vec<AttackLog>) -> Self {
        let rules = content.rules();
        let mut modifiers: OrderedMap<Vec<Key>> = OrderedMap::new();
        for modifier in &state.evaluation_modifiers {
            modifiers
                .entry_or_insert_with(&modifier.target, Vec::new)
                .push(modifier.id.clone());
        }
        Snapshot {
            game: GameSnapshot::of(content, state),
            phases: &content.def().phases,
            action_cost_resource: content.action_cost_resource(),
            recent_resource_gains: &state.recent_resource_gains,
            compensations: content.compensations(state.started_in_dev_mode),
            rules: RulesSnapshot {
                tiered_resource_key: &rules.tiered_resource_key,
                tier_definitions: &rules.tier_definitions,
                win_conditions: &rules.win_conditions,
            },
            passive_records: ByPlayer::new_with(|owner| {
                state
                    .passives
                    .iter()
                    .filter(|r| r.owner == owner)
                    .map(PassiveRecordView::of)
                    .collect()
            }),
            metadata: EngineMetadata {
                passive_evaluation_modifiers: modifiers,
                effect_logs: (!attacks.is_empty()).then_some(EffectLogs { attacks }),
            },
        }
    }
}
