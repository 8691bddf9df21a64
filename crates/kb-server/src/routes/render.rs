//! Response bodies of the session routes, in the reference's shapes, plus
//! `version`.
//!
//! Static parts (registries, metadata sections) are pre-rendered once per
//! content and written verbatim; only the game's own state is serialized per
//! response. Bodies are rendered under the session's lock, straight to bytes.

use kb_content::SessionContent;
use kb_engine::content::{Bag, Params};
use kb_engine::{
    ActionOutcome, ActionTrace, AdvanceResult, AiTurnOutcome, AttackLog, EngineMetadata, Game,
    Snapshot,
};
use kb_protocol::answers::{
    self, EngineMetadataAnswer, PassiveRecordAnswer, RequirementFailureAnswer,
};
use kb_session::SessionView;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// Snapshot metadata: the engine's fields and the content's static sections.
pub(crate) struct WireMetadata<'a> {
    engine: EngineMetadata,
    sections: &'a [(String, Box<RawValue>)],
}

impl Serialize for WireMetadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, raw) in self.sections {
            map.serialize_entry(key, raw)?;
        }
        let engine = EngineMetadataAnswer::from(&self.engine);
        map.serialize_entry(
            "passiveEvaluationModifiers",
            engine.passive_evaluation_modifiers,
        )?;
        if let Some(logs) = &engine.effect_logs {
            map.serialize_entry("effectLogs", logs)?;
        }
        map.end()
    }
}

/// The snapshot a client sees: the engine's game state, the content's
/// static parts (pre-rendered) and metadata merged from both.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireSnapshot<'a> {
    #[serde(serialize_with = "answers::serialize")]
    game: kb_engine::GameSnapshot,
    phases: &'a RawValue,
    action_cost_resource: &'a str,
    #[serde(serialize_with = "answers::serialize")]
    recent_resource_gains: &'a [kb_engine::Gain],
    compensations: &'a RawValue,
    rules: &'a RawValue,
    passive_records: kb_protocol::schema::ByPlayer<Vec<PassiveRecordAnswer<'a>>>,
    metadata: WireMetadata<'a>,
}

/// Builds the snapshot of `game`, carrying the attack logs of the result it
/// accompanies.
pub(crate) fn snapshot<'a>(
    game: &'a Game,
    content: &'a SessionContent,
    attacks: Vec<AttackLog>,
) -> WireSnapshot<'a> {
    let statics = content.snapshot_statics();
    let engine: Snapshot<'a> = game.snapshot_with_logs(attacks);
    WireSnapshot {
        game: engine.game,
        phases: &statics.phases,
        action_cost_resource: engine.action_cost_resource,
        recent_resource_gains: engine.recent_resource_gains,
        compensations: &statics.compensations[usize::from(game.state().dev_mode)],
        rules: &statics.rules,
        passive_records: answers::passive_records(&engine.passive_records),
        metadata: WireMetadata {
            engine: engine.metadata,
            sections: content.metadata_sections(),
        },
    }
}

/// The reference's `SessionState` plus `version`, with route-specific fields
/// (`advance`, `ranTurn`...) flattened in by `E`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionState<'a, E: Serialize> {
    session_id: &'a str,
    version: u64,
    /// The AI level chosen at creation (absent when none was chosen: the
    /// reference's `easy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    ai_level: Option<&'a str>,
    snapshot: WireSnapshot<'a>,
    registries: &'a kb_content::RenderedJson,
    #[serde(flatten)]
    extra: E,
}

/// No extra fields.
#[derive(Serialize)]
pub(crate) struct Nothing {}

/// `advance` of the advance route.
#[derive(Serialize)]
pub(crate) struct AdvanceExtra<'a> {
    #[serde(serialize_with = "answers::serialize")]
    pub advance: &'a AdvanceResult,
}

/// The AI turn route's fields (reference protocol §5.5): `ranTurn`,
/// `actions` (`{actionId, params?, costs, traces}`) and `phaseComplete`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AiTurnExtra<'a> {
    pub ran_turn: bool,
    pub actions: Vec<AiActionWire<'a>>,
    pub phase_complete: bool,
}

/// One action the AI took.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AiActionWire<'a> {
    pub action_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<&'a Params>,
    pub costs: &'a Bag,
    #[serde(serialize_with = "answers::serialize")]
    pub traces: &'a [ActionTrace],
}

impl<'a> AiTurnExtra<'a> {
    /// The fields of a whole AI turn (`mode: "turn"`).
    pub fn of(outcome: &'a AiTurnOutcome) -> Self {
        AiTurnExtra {
            ran_turn: outcome.ran_turn,
            actions: outcome
                .actions
                .iter()
                .map(|a| AiActionWire {
                    action_id: &a.action_id,
                    params: None,
                    costs: &a.costs,
                    traces: &a.traces,
                })
                .collect(),
            phase_complete: outcome.phase_complete,
        }
    }

    /// The fields of one AI step that took no action.
    pub fn idle(phase_complete: bool) -> Self {
        AiTurnExtra {
            ran_turn: true,
            actions: Vec::new(),
            phase_complete,
        }
    }

    /// The fields of one AI step that performed `done` with `params`.
    pub fn acted(done: &'a ActionOutcome, params: &'a Params) -> Self {
        AiTurnExtra {
            ran_turn: true,
            actions: vec![AiActionWire {
                action_id: &done.action_id,
                params: (!params.is_empty()).then_some(params),
                costs: &done.costs,
                traces: &done.traces,
            }],
            phase_complete: false,
        }
    }
}

/// Renders a `SessionState` body.
pub(crate) fn session_state<E: Serialize>(
    view: &SessionView<'_>,
    attacks: Vec<AttackLog>,
    extra: E,
) -> Vec<u8> {
    to_bytes(&SessionState {
        session_id: view.session_id,
        version: view.version,
        ai_level: view.ai_level,
        snapshot: snapshot(view.game, view.content, attacks),
        registries: view.content.registries(),
        extra,
    })
}

/// The action route's success body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionSuccess<'a> {
    status: &'static str,
    session_id: &'a str,
    version: u64,
    snapshot: WireSnapshot<'a>,
    costs: &'a Bag,
    #[serde(serialize_with = "answers::serialize")]
    traces: &'a [ActionTrace],
}

/// Renders the action route's success body.
pub(crate) fn action_success(
    view: &SessionView<'_>,
    costs: &Bag,
    traces: &[ActionTrace],
    attacks: Vec<AttackLog>,
) -> Vec<u8> {
    to_bytes(&ActionSuccess {
        status: "success",
        session_id: view.session_id,
        version: view.version,
        snapshot: snapshot(view.game, view.content, attacks),
        costs,
        traces,
    })
}

/// The action route's error body: `{status, error, code,
/// requirementFailure?, requirementFailures?}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionError<'a> {
    pub status: &'static str,
    pub error: &'a str,
    pub code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement_failure: Option<RequirementFailureAnswer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement_failures: Option<[RequirementFailureAnswer<'a>; 1]>,
}

/// `{sessionId, <key>: value}` bodies of the query routes.
pub(crate) fn keyed<T: Serialize + ?Sized>(session_id: &str, key: &str, value: &T) -> Vec<u8> {
    struct Body<'a, T: ?Sized> {
        session_id: &'a str,
        key: &'a str,
        value: &'a T,
    }
    impl<T: Serialize + ?Sized> Serialize for Body<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry("sessionId", self.session_id)?;
            map.serialize_entry(self.key, self.value)?;
            map.end()
        }
    }
    to_bytes(&Body {
        session_id,
        key,
        value,
    })
}

/// Serializes a body. Every body is plain data; failing here is a bug.
pub(crate) fn to_bytes<T: Serialize + ?Sized>(body: &T) -> Vec<u8> {
    serde_json::to_vec(body).expect("response bodies are plain data")
}

#[cfg(test)]
mod tests {
    use kb_content::ContentPack;
    use kb_engine::{Command, Game, GameOptions, PlayerId};
    use serde_json::Value;

    use super::*;

    /// The pre-rendered statics and the spliced metadata give exactly the
    /// snapshot the engine would serialize, plus the static sections.
    #[test]
    fn wire_snapshot_is_the_engine_snapshot_with_static_metadata() {
        let content = ContentPack::default_pack().base_session().clone();
        for dev_mode in [false, true] {
            let options = GameOptions {
                dev_mode,
                ..GameOptions::default()
            };
            let mut game = Game::new(content.content().clone(), options).unwrap();
            for _ in 0..8 {
                game.apply(&Command::Advance).unwrap();
            }
            game.apply(&Command::AiTurn {
                player_id: PlayerId::B,
            })
            .unwrap();
            let wire: Value =
                serde_json::from_slice(&to_bytes(&snapshot(&game, &content, Vec::new()))).unwrap();
            let mut engine: Value = serde_json::to_value(answers::Wire(&game.snapshot())).unwrap();
            let statics = content.metadata().value().as_object().unwrap().clone();
            engine["metadata"].as_object_mut().unwrap().extend(statics);
            assert_eq!(wire, engine, "dev mode {dev_mode}");
        }
    }
}
