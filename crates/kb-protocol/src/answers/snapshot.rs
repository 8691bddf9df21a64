//! The snapshot's wire shape (game-rules §9.1): `game`, `phases`,
//! `recentResourceGains`, `compensations`, `rules`, `passiveRecords` and
//! `metadata`, in the reference's field names.

use kb_engine::content::Bag;
use kb_engine::{
    Conclusion, EffectLogs, EngineMetadata, Gain, GameSnapshot, Key, LandSnapshot, Num, OrderedMap,
    PassiveRecordView, PassiveSummary, PlayerId, PlayerSnapshot, RulesSnapshot, Snapshot,
    StatSource, StatSourceMeta,
};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::schema::{
    ByPlayer, EffectsView, Mirror, PhaseDef, PlayerStart, SkipConfig, TierDef, TriggersView,
    WinConditionDef,
};

use super::{AttackLogAnswer, answers};

/// A whole-game snapshot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotAnswer<'a> {
    /// Turn, phase and players.
    pub game: GameAnswer<'a>,
    /// Phase definitions (in the content schema).
    pub phases: Vec<PhaseDef>,
    /// The resource every action costs.
    pub action_cost_resource: &'a str,
    /// Gains since the last evaluator group.
    pub recent_resource_gains: Vec<GainAnswer<'a>>,
    /// What each player's start differs from the base by.
    pub compensations: ByPlayer<PlayerStart>,
    /// Tier and win-condition rules.
    pub rules: RulesAnswer<'a>,
    /// Full passive records per owner.
    pub passive_records: ByPlayer<Vec<PassiveRecordAnswer<'a>>>,
    /// The engine's metadata.
    pub metadata: EngineMetadataAnswer<'a>,
}

impl<'a> From<&'a Snapshot<'_>> for SnapshotAnswer<'a> {
    fn from(s: &'a Snapshot<'_>) -> Self {
        SnapshotAnswer {
            game: GameAnswer::from(&s.game),
            phases: s.phases.iter().map(PhaseDef::from).collect(),
            action_cost_resource: s.action_cost_resource,
            recent_resource_gains: gains(s.recent_resource_gains),
            compensations: ByPlayer::from_engine_with(s.compensations, PlayerStart::from_engine),
            rules: RulesAnswer::from(&s.rules),
            passive_records: passive_records(&s.passive_records),
            metadata: EngineMetadataAnswer::from(&s.metadata),
        }
    }
}

/// `recentResourceGains`.
pub fn gains(gains: &[Gain]) -> Vec<GainAnswer<'_>> {
    gains.iter().map(GainAnswer::from).collect()
}

/// `passiveRecords`.
pub fn passive_records<'a>(
    records: &kb_engine::ByPlayer<Vec<PassiveRecordView<'a>>>,
) -> ByPlayer<Vec<PassiveRecordAnswer<'a>>> {
    ByPlayer::from_engine_with(records, |list| {
        list.iter().map(PassiveRecordAnswer::from).collect()
    })
}

/// The `game` part of a snapshot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GameAnswer<'a> {
    /// Turn number.
    pub turn: u32,
    /// 0 for A, 1 for B.
    pub current_player_index: usize,
    /// Current phase id.
    pub current_phase: &'a str,
    /// Current step id.
    pub current_step: &'a str,
    /// Phase index.
    pub phase_index: usize,
    /// Step index.
    pub step_index: usize,
    /// Dev-mode flag.
    pub dev_mode: bool,
    /// Both players.
    pub players: Vec<PlayerAnswer<'a>>,
    /// Whose turn it is.
    pub active_player_id: PlayerId,
    /// The other player.
    pub opponent_id: PlayerId,
    /// How the game ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<ConclusionAnswer>,
}

impl<'a> From<&'a GameSnapshot> for GameAnswer<'a> {
    fn from(g: &'a GameSnapshot) -> Self {
        GameAnswer {
            turn: g.turn,
            current_player_index: g.current_player_index,
            current_phase: &g.current_phase,
            current_step: &g.current_step,
            phase_index: g.phase_index,
            step_index: g.step_index,
            dev_mode: g.dev_mode,
            players: g.players.iter().map(PlayerAnswer::from).collect(),
            active_player_id: g.active_player_id,
            opponent_id: g.opponent_id,
            conclusion: g.conclusion.as_ref().map(ConclusionAnswer::from),
        }
    }
}

/// How a game ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConclusionAnswer {
    /// The win condition that fired.
    pub condition_id: Key,
    /// The winner.
    pub winner_id: PlayerId,
    /// The loser.
    pub loser_id: PlayerId,
    /// The player whose change fired the condition.
    pub triggered_by: PlayerId,
}

impl From<&Conclusion> for ConclusionAnswer {
    fn from(c: &Conclusion) -> Self {
        ConclusionAnswer {
            condition_id: c.condition_id.clone(),
            winner_id: c.winner_id,
            loser_id: c.loser_id,
            triggered_by: c.triggered_by,
        }
    }
}

/// A recorded gain.
#[derive(Clone, Debug, Serialize)]
pub struct GainAnswer<'a> {
    /// Resource key.
    pub key: &'a str,
    /// Amount.
    pub amount: Num,
}

impl<'a> From<&'a Gain> for GainAnswer<'a> {
    fn from(g: &'a Gain) -> Self {
        GainAnswer {
            key: &g.key,
            amount: g.amount,
        }
    }
}

/// Rules shown in snapshots.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RulesAnswer<'a> {
    /// The tiered resource.
    pub tiered_resource_key: &'a str,
    /// Tiers (in the content schema).
    pub tier_definitions: Vec<TierDef>,
    /// Win conditions (in the content schema).
    pub win_conditions: Vec<WinConditionDef>,
}

impl<'a> From<&'a RulesSnapshot<'_>> for RulesAnswer<'a> {
    fn from(r: &'a RulesSnapshot<'_>) -> Self {
        RulesAnswer {
            tiered_resource_key: r.tiered_resource_key,
            tier_definitions: r.tier_definitions.iter().map(TierDef::from).collect(),
            win_conditions: r.win_conditions.iter().map(WinConditionDef::from).collect(),
        }
    }
}

/// Engine-produced snapshot metadata.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineMetadataAnswer<'a> {
    /// Evaluation modifier ids by target.
    pub passive_evaluation_modifiers: &'a OrderedMap<Vec<Key>>,
    /// Effect logs of the result this snapshot accompanies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_logs: Option<EffectLogsAnswer<'a>>,
}

impl<'a> From<&'a EngineMetadata> for EngineMetadataAnswer<'a> {
    fn from(m: &'a EngineMetadata) -> Self {
        EngineMetadataAnswer {
            passive_evaluation_modifiers: &m.passive_evaluation_modifiers,
            effect_logs: m.effect_logs.as_ref().map(EffectLogsAnswer::from),
        }
    }
}

/// Effect logs by key.
#[derive(Clone, Debug, Serialize)]
pub struct EffectLogsAnswer<'a> {
    /// Attack logs.
    #[serde(rename = "attack:perform", skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<AttackLogAnswer<'a>>,
}

impl<'a> From<&'a EffectLogs> for EffectLogsAnswer<'a> {
    fn from(l: &'a EffectLogs) -> Self {
        EffectLogsAnswer {
            attacks: l.attacks.iter().map(AttackLogAnswer::from).collect(),
        }
    }
}

/// A passive record (triggers as top-level keys).
#[derive(Clone, Debug, Serialize)]
pub struct PassiveRecordAnswer<'a> {
    /// Id.
    pub id: &'a str,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<&'a str>,
    /// Detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// Metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<&'a Value>,
    /// Setup effects (in the content schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effects: Option<EffectsView<'a>>,
    /// Trigger lists.
    #[serde(flatten)]
    pub triggers: TriggersView<'a>,
    /// Skip flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipConfig>,
    /// Owner.
    pub owner: PlayerId,
}

impl<'a> From<&PassiveRecordView<'a>> for PassiveRecordAnswer<'a> {
    fn from(r: &PassiveRecordView<'a>) -> Self {
        PassiveRecordAnswer {
            id: r.id,
            name: r.name,
            icon: r.icon,
            detail: r.detail,
            meta: r.meta,
            effects: r.effects.map(EffectsView),
            triggers: TriggersView(r.triggers),
            skip: r.skip.map(SkipConfig::from),
            owner: r.owner,
        }
    }
}

/// A passive in a player's list.
#[derive(Clone, Debug, Serialize)]
pub struct PassiveSummaryAnswer<'a> {
    /// Id.
    pub id: &'a str,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<&'a str>,
    /// Detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// Metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<&'a Value>,
}

impl<'a> From<&'a PassiveSummary> for PassiveSummaryAnswer<'a> {
    fn from(p: &'a PassiveSummary) -> Self {
        PassiveSummaryAnswer {
            id: &p.id,
            name: p.name.as_deref(),
            icon: p.icon.as_deref(),
            detail: p.detail.as_deref(),
            meta: p.meta.as_deref(),
        }
    }
}

/// A player in a snapshot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerAnswer<'a> {
    /// Seat.
    pub id: PlayerId,
    /// Name.
    pub name: &'a str,
    /// Whether the built-in AI plays this seat.
    pub ai_controlled: bool,
    /// Resources.
    pub resources: &'a Bag,
    /// Stats.
    pub stats: &'a Bag,
    /// Stats that have ever been non-zero.
    pub stats_history: &'a OrderedMap<bool>,
    /// Population per role.
    pub population: &'a OrderedMap<u32>,
    /// Lands.
    pub lands: Vec<LandAnswer<'a>>,
    /// Buildings.
    pub buildings: &'a [Key],
    /// Unlocked actions.
    pub actions: &'a [Key],
    /// Stat attribution.
    pub stat_sources: StatSourcesAnswer<'a>,
    /// Skipped phases.
    pub skip_phases: &'a OrderedMap<OrderedMap<bool>>,
    /// Skipped steps.
    pub skip_steps: &'a OrderedMap<OrderedMap<OrderedMap<bool>>>,
    /// Passives.
    pub passives: Vec<PassiveSummaryAnswer<'a>>,
}

impl<'a> From<&'a PlayerSnapshot> for PlayerAnswer<'a> {
    fn from(p: &'a PlayerSnapshot) -> Self {
        PlayerAnswer {
            id: p.id,
            name: &p.name,
            ai_controlled: p.ai_controlled,
            resources: &p.resources,
            stats: &p.stats,
            stats_history: &p.stats_history,
            population: &p.population,
            lands: p.lands.iter().map(LandAnswer::from).collect(),
            buildings: &p.buildings,
            actions: &p.actions,
            stat_sources: StatSourcesAnswer(&p.stat_sources),
            skip_phases: &p.skip_phases,
            skip_steps: &p.skip_steps,
            passives: p.passives.iter().map(PassiveSummaryAnswer::from).collect(),
        }
    }
}

/// Stat attribution by stat and source, serialized in place (no copy of
/// the maps).
#[derive(Clone, Copy, Debug)]
pub struct StatSourcesAnswer<'a>(pub &'a OrderedMap<OrderedMap<StatSource>>);

impl Serialize for StatSourcesAnswer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Sources<'a>(&'a OrderedMap<StatSource>);
        impl Serialize for Sources<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, source) in self.0.iter() {
                    map.serialize_entry(key, &StatSourceAnswer::from(source))?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (stat, sources) in self.0.iter() {
            map.serialize_entry(stat, &Sources(sources))?;
        }
        map.end()
    }
}

/// One stat source entry.
#[derive(Clone, Debug, Serialize)]
pub struct StatSourceAnswer<'a> {
    /// Net amount from this source.
    pub amount: Num,
    /// Where it comes from.
    pub meta: StatSourceMetaAnswer<'a>,
}

impl<'a> From<&'a StatSource> for StatSourceAnswer<'a> {
    fn from(s: &'a StatSource) -> Self {
        StatSourceAnswer {
            amount: s.amount,
            meta: StatSourceMetaAnswer::from(&*s.meta),
        }
    }
}

/// Attribution metadata of a stat source.
#[derive(Clone, Debug, Serialize)]
pub struct StatSourceMetaAnswer<'a> {
    /// Source key.
    pub key: &'a str,
    /// `permanent` or `ongoing`.
    pub longevity: &'a str,
    /// `start`, `action`, `phase` or `passive`.
    pub kind: &'a str,
    /// Id of the action, step or passive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// Human-readable detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
}

impl<'a> From<&'a StatSourceMeta> for StatSourceMetaAnswer<'a> {
    fn from(m: &'a StatSourceMeta) -> Self {
        StatSourceMetaAnswer {
            key: &m.key,
            longevity: &m.longevity,
            kind: &m.kind,
            id: m.id.as_deref(),
            detail: m.detail.as_deref(),
        }
    }
}

/// A land in a snapshot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LandAnswer<'a> {
    /// Id.
    pub id: &'a str,
    /// Capacity.
    pub slots_max: u32,
    /// Used slots.
    pub slots_used: u32,
    /// Tilled.
    pub tilled: bool,
    /// Developments.
    pub developments: &'a [Key],
    /// Upkeep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<&'a Bag>,
    /// Land triggers.
    #[serde(flatten)]
    pub triggers: TriggersView<'a>,
}

impl<'a> From<&'a LandSnapshot> for LandAnswer<'a> {
    fn from(l: &'a LandSnapshot) -> Self {
        LandAnswer {
            id: &l.id,
            slots_max: l.slots_max,
            slots_used: l.slots_used,
            tilled: l.tilled,
            developments: &l.developments,
            upkeep: l.upkeep.as_ref(),
            triggers: TriggersView(&l.triggers),
        }
    }
}

answers! {
    GameSnapshot => GameAnswer,
    PlayerSnapshot => PlayerAnswer,
    Gain => GainAnswer,
    PassiveSummary => PassiveSummaryAnswer,
    EngineMetadata => EngineMetadataAnswer,
}

impl super::Answer for Snapshot<'_> {
    type Wire<'a>
        = SnapshotAnswer<'a>
    where
        Self: 'a;

    fn answer(&self) -> SnapshotAnswer<'_> {
        SnapshotAnswer::from(self)
    }
}

impl super::Answer for Conclusion {
    type Wire<'a> = ConclusionAnswer;

    fn answer(&self) -> ConclusionAnswer {
        ConclusionAnswer::from(self)
    }
}

impl<'r> super::Answer for PassiveRecordView<'r> {
    type Wire<'a>
        = PassiveRecordAnswer<'a>
    where
        Self: 'a;

    fn answer(&self) -> PassiveRecordAnswer<'_> {
        PassiveRecordAnswer::from(self)
    }
}
