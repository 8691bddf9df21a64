//! Response bodies of the session routes, in the reference's shapes, plus
//! `version`.
//!
//! Static parts (registries, metadata sections) are pre-rendered once per
//! content and written verbatim; only the game's own state is serialized per
//! response. Bodies are rendered under the session's lock, straight to bytes.

use kb_content::SessionContent;
use kb_engine::content::Bag;
use kb_engine::{
    ActionTrace, AdvanceResult, AiTurnOutcome, AttackLog, EngineMetadata, Game, RequirementFailure,
    Snapshot,
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
        map.serialize_entry(
            "passiveEvaluationModifiers",
            &self.engine.passive_evaluation_modifiers,
        )?;
        if let Some(logs) = &self.engine.effect_logs {
            map.serialize_entry("effectLogs", logs)?;
        }
        map.end()
    }
}

/// The snapshot a client sees: the engine's, with static metadata merged in.
pub(crate) fn snapshot<'a>(
    game: &'a Game,
    content: &'a SessionContent,
    attacks: Vec<AttackLog>,
) -> Snapshot<'a, WireMetadata<'a>> {
    game.snapshot_with_logs(attacks)
        .map_metadata(|engine| WireMetadata {
            engine,
            sections: content.metadata_sections(),
        })
}

/// The reference's `SessionState` plus `version`, with route-specific fields
/// (`advance`, `ranTurn`...) flattened in by `E`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionState<'a, E: Serialize> {
    session_id: &'a str,
    version: u64,
    snapshot: Snapshot<'a, WireMetadata<'a>>,
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
    pub advance: &'a AdvanceResult,
}

/// The AI turn route's fields.
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
    pub costs: &'a Bag,
    pub traces: &'a [ActionTrace],
}

impl<'a> AiTurnExtra<'a> {
    pub fn of(outcome: &'a AiTurnOutcome) -> Self {
        AiTurnExtra {
            ran_turn: outcome.ran_turn,
            actions: outcome
                .actions
                .iter()
                .map(|a| AiActionWire {
                    action_id: &a.action_id,
                    costs: &a.costs,
                    traces: &a.traces,
                })
                .collect(),
            phase_complete: outcome.phase_complete,
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
    snapshot: Snapshot<'a, WireMetadata<'a>>,
    costs: &'a Bag,
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
    pub requirement_failure: Option<&'a RequirementFailure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement_failures: Option<[&'a RequirementFailure; 1]>,
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
