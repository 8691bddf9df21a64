//! `GET /sessions/:id/forecast`: every number a player needs before a click,
//! computed by the engine on copies of the game, in one read.
//!
//! For the player to act (in an action phase), each action they hold comes
//! with every candidate parameter set the engine enumerates
//! ([`Game::candidate_moves`]), and for each: its costs, whether it would
//! succeed now (and if not, the engine's refusal), what it would change for
//! both seats, and its *outlook*: where the player would stand at their next
//! action phase if they ended the turn right after it, including whether
//! that upkeep would bankrupt them (PRODUCT.md Q10). The answer also holds
//! the outlook of ending the turn now, with a step-by-step breakdown (income
//! per growth step, upkeep per source), and, for a finished game, why it
//! ended, with the numbers.
//!
//! Outlooks advance a copy of the game through every step up to the
//! player's next action phase. The other seat's action phase is advanced
//! without actions: an outlook says what the rules do to the player if the
//! opponent leaves them alone.
//!
//! The route is a pure read: it works on clones ([`Game::clone`],
//! [`Game::perform`], [`Game::advance`]) and never writes. It uses the
//! engine's public API only.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kb_engine::content::Params;
use kb_engine::{
    AdvanceResult, Conclusion, Game, Key, PlayerId, PlayerSnapshot, RequirementFailure,
};
use kb_protocol::answers::{self, ConclusionAnswer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::render;
use super::sessions::{json, read, require};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Differences smaller than this are rounding noise, not changes.
const EPSILON: f64 = 1e-9;

/// Query of `GET /sessions/:id/forecast`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForecastQuery {
    /// Whose outlook (`A` or `B`; default: the active player). Actions are
    /// only ever forecast for the active player, who alone can act.
    player_id: Option<String>,
}

/// `GET /sessions/:id/forecast[?playerId=A]`.
pub async fn forecast(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<ForecastQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let Query(query) = query.map_err(|rejection| {
        ApiError::invalid_request("Invalid forecast request: the only parameter is playerId.")
            .with_issues(vec![kb_protocol::Issue::new(rejection.body_text())])
    })?;
    let player = match query.player_id.as_deref() {
        None => None,
        Some(text) => Some(PlayerId::parse(text).ok_or_else(|| {
            ApiError::invalid_request(format!(
                "Invalid forecast request: playerId must be \"A\" or \"B\", not {text:?}."
            ))
        })?),
    };
    read(&state, caller, id, move |view| {
        let forecast = compute(view.game, player);
        json(
            StatusCode::OK,
            render::to_bytes(&ForecastBody {
                session_id: view.session_id,
                version: view.version,
                forecast: &forecast,
            }),
            Some(view.version),
        )
    })
    .await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ForecastBody<'a> {
    session_id: &'a str,
    version: u64,
    #[serde(flatten)]
    forecast: &'a Forecast,
}

/// The forecast of one game state.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Forecast {
    /// Whose outlook `endTurn` is.
    pub player_id: PlayerId,
    /// The player to act.
    pub active_player_id: PlayerId,
    /// The turn.
    pub turn: u32,
    /// The current phase and step.
    pub phase: Key,
    /// The current step.
    pub step: Key,
    /// Whether the active player may act now (an action phase of a game
    /// in progress).
    pub action_phase: bool,
    /// The active player's actions (empty outside action phases, and when
    /// `playerId` is not the active player).
    pub actions: Vec<ActionForecast>,
    /// Where the player stands at their next action phase if the turn ends
    /// now (absent once the game is over).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_turn: Option<Outlook>,
    /// How the game ended, with the numbers (absent while it goes on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<ConclusionDetail>,
}

/// One action and its candidates.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionForecast {
    /// The action.
    pub action_id: Key,
    /// Its failing requirements (they do not depend on parameters).
    #[serde(serialize_with = "answers::serialize")]
    pub requirements: Vec<RequirementFailure>,
    /// Every parameter set the engine would try, in content order. Empty
    /// when nothing can be chosen (no free slot, every building built).
    pub candidates: Vec<Candidate>,
}

/// One action with concrete parameters.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    /// The parameters to send with the action.
    pub params: Params,
    /// What it costs (absent when the engine cannot price it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Value>,
    /// Whether the engine would perform it now.
    pub ok: bool,
    /// Why not, when it would not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Refusal>,
    /// What it changes now, per seat that changes (costs included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<PlayerDelta>,
    /// The player's next action phase, if they end the turn after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlook: Option<Outlook>,
}

/// An engine refusal.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refusal {
    /// The engine's code (`REQUIREMENT_NOT_MET`, `INSUFFICIENT`...).
    pub code: &'static str,
    /// Its message.
    pub message: String,
    /// The failed requirement, when that is why.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "answers::serialize"
    )]
    pub requirement_failure: Option<RequirementFailure>,
}

/// What changed for one seat between two snapshots of it.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlayerDelta {
    /// The seat.
    pub player_id: Option<PlayerId>,
    /// Resource changes (non-zero only).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub resources: Map<String, Value>,
    /// Stat changes.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub stats: Map<String, Value>,
    /// Population changes per role.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub population: Map<String, Value>,
    /// Lands gained (or lost, negative).
    #[serde(skip_serializing_if = "is_zero")]
    pub lands: i64,
    /// Development slots gained over all lands.
    #[serde(skip_serializing_if = "is_zero")]
    pub slots: i64,
    /// Developments built.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub developments_added: Vec<String>,
    /// Developments lost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub developments_removed: Vec<String>,
    /// Buildings built.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buildings_added: Vec<String>,
    /// Buildings lost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buildings_removed: Vec<String>,
    /// Passives that begin (`{id, name, icon, meta}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passives_added: Vec<Value>,
    /// Passives that end.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passives_removed: Vec<Value>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl PlayerDelta {
    fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.stats.is_empty()
            && self.population.is_empty()
            && self.lands == 0
            && self.slots == 0
            && self.developments_added.is_empty()
            && self.developments_removed.is_empty()
            && self.buildings_added.is_empty()
            && self.buildings_removed.is_empty()
            && self.passives_added.is_empty()
            && self.passives_removed.is_empty()
    }
}

/// Where a player stands at their next action phase.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outlook {
    /// The player.
    pub player_id: PlayerId,
    /// Their resource changes per phase of their own, in order
    /// (`growth`: income, `upkeep`: upkeep; an action phase they leave
    /// loses its unspent action points).
    pub phases: Vec<PhaseDelta>,
    /// Every step of theirs that changes a resource, with its sources
    /// (only in the end-of-turn outlook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepDelta>>,
    /// Their resources at that point.
    pub resources: Value,
    /// Whether the game ends on the way with this player bankrupt.
    pub bankrupt: bool,
    /// How the game ends on the way, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<ConclusionDetail>,
}

/// Resource changes of one phase.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhaseDelta {
    /// The phase id.
    pub phase: Key,
    /// Net changes.
    pub resources: Map<String, Value>,
}

/// Resource changes of one step.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StepDelta {
    /// The phase id.
    pub phase: Key,
    /// The step id.
    pub step: Key,
    /// Net changes.
    pub resources: Map<String, Value>,
    /// Attributed payments of the step (`{source, key, amount}`), such as
    /// the upkeep of each role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Value>,
}

/// A conclusion, with why.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConclusionDetail {
    /// The engine's conclusion, in its wire shape.
    #[serde(flatten)]
    pub conclusion: ConclusionAnswer,
    /// For a bankruptcy: what upkeep asked for and what the player had.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<Shortfall>,
}

/// An upkeep a player could not pay.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Shortfall {
    /// The player.
    pub player_id: PlayerId,
    /// The resource (`gold`).
    pub key: String,
    /// What the step asked for, up to and including the payment that
    /// failed.
    pub due: f64,
    /// What the player had.
    pub available: f64,
    /// Each payment asked (`{source, amount}`), in order.
    pub sources: Vec<Value>,
}

// ----- the computation ----------------------------------------------------------

/// The forecast of `game` for `player` (default: the active player).
pub(crate) fn compute(game: &Game, player: Option<PlayerId>) -> Forecast {
    let state = game.state();
    let active = state.active;
    let player = player.unwrap_or(active);
    let snapshot = game.snapshot();
    let concluded = state.conclusion.is_some();
    let action_phase = !concluded && in_action_phase(game);
    let actions = if action_phase && player == active {
        action_forecasts(game, player)
    } else {
        Vec::new()
    };
    Forecast {
        player_id: player,
        active_player_id: active,
        turn: state.turn,
        phase: snapshot.game.current_phase.clone(),
        step: snapshot.game.current_step.clone(),
        action_phase,
        actions,
        end_turn: (!concluded).then(|| outlook(game, player, true)),
        conclusion: state.conclusion.as_ref().map(|c| explain(game, c)),
    }
}

fn in_action_phase(game: &Game) -> bool {
    game.content()
        .phases()
        .get(game.state().phase_index)
        .is_some_and(|phase| phase.action)
}

fn action_forecasts(game: &Game, player: PlayerId) -> Vec<ActionForecast> {
    let moves = game.candidate_moves();
    let before = players_json(game);
    let held: Vec<Key> = PlayerSnapshot::of(game.content(), game.state(), player).actions;
    held.into_iter()
        .filter(|id| game.action_definition(id).is_ok())
        .map(|action_id| {
            let requirements = game.action_requirements(&action_id).unwrap_or_default();
            let mut params: Vec<Params> = moves
                .iter()
                .filter(|m| m.action_id == action_id)
                .map(|m| m.params.clone())
                .collect();
            if params.is_empty() {
                params = fallback_params(game, &action_id);
            }
            let candidates = params
                .iter()
                .map(|p| candidate(game, player, &before, &action_id, p))
                .collect();
            ActionForecast {
                action_id,
                requirements,
                candidates,
            }
        })
        .collect()
}

/// Parameters for an action [`Game::candidate_moves`] offers none for:
/// one choice per option group (no other parameter), kept where the engine
/// performs it. The enumeration names a `landId` only among lands with a
/// free slot, so an action that makes its own land (Royal Decree) has no
/// candidate once every land is full, though the engine performs it
/// without one.
fn fallback_params(game: &Game, action_id: &str) -> Vec<Params> {
    let mut all = vec![Params::new()];
    for group in game.action_options(action_id).unwrap_or_default() {
        all = all
            .into_iter()
            .flat_map(|params| {
                group.options.iter().map(move |option| {
                    let mut params = params.clone();
                    let choices = params
                        .entry("choices")
                        .or_insert_with(|| Value::Object(Map::new()));
                    choices[group.id.as_str()] = serde_json::json!({ "optionId": option.id });
                    params
                })
            })
            .collect();
    }
    all.into_iter()
        .filter(|params| game.clone().perform(action_id, params).is_ok())
        .collect()
}

fn candidate(
    game: &Game,
    player: PlayerId,
    before: &[Value],
    action_id: &str,
    params: &Params,
) -> Candidate {
    let costs = game
        .action_costs(action_id, params)
        .ok()
        .and_then(|costs| serde_json::to_value(costs).ok());
    let mut copy = game.clone();
    match copy.perform(action_id, params) {
        Ok(_) => {
            let after = players_json(&copy);
            let effects = before
                .iter()
                .zip(&after)
                .map(|(b, a)| player_delta(b, a))
                .filter(|d| !d.is_empty())
                .collect();
            Candidate {
                params: params.clone(),
                costs,
                ok: true,
                error: None,
                effects,
                outlook: Some(outlook(&copy, player, false)),
            }
        }
        Err(error) => Candidate {
            params: params.clone(),
            costs,
            ok: false,
            error: Some(Refusal {
                code: error.code(),
                message: error.to_string(),
                requirement_failure: error.requirement_failure().cloned(),
            }),
            effects: Vec::new(),
            outlook: None,
        },
    }
}

/// Both seats' snapshots, as the wire shows them, in seat order.
fn players_json(game: &Game) -> Vec<Value> {
    PlayerId::ALL
        .iter()
        .map(|&p| {
            serde_json::to_value(answers::Wire(&PlayerSnapshot::of(
                game.content(),
                game.state(),
                p,
            )))
            .unwrap_or(Value::Null)
        })
        .collect()
}

/// Advances a copy of `game` up to `player`'s next action phase (or the
/// end of the game) and reports what happened to them on the way.
pub(crate) fn outlook(game: &Game, player: PlayerId, with_steps: bool) -> Outlook {
    let mut copy = game.clone();
    let total_steps: usize = copy.content().phases().iter().map(|p| p.steps.len()).sum();
    // Two whole turns of both seats is more than enough to reach it.
    let limit = 4 * total_steps.max(1) + 4;
    let mut phases: Vec<PhaseDelta> = Vec::new();
    let mut steps = Vec::new();
    let mut conclusion = None;
    for taken in 0..limit {
        if copy.state().conclusion.is_some() {
            break;
        }
        let acting = copy.state().active;
        if taken > 0 && acting == player && in_action_phase(&copy) {
            break;
        }
        let before = (acting == player).then(|| resources_json(&copy, player));
        let Ok(result) = copy.advance() else {
            break;
        };
        if let Some(before) = before {
            let after = serde_json::to_value(&result.player.resources).unwrap_or(Value::Null);
            let delta = numeric_delta(&before, &after);
            if !delta.is_empty() {
                match phases.iter_mut().find(|p| p.phase == result.phase) {
                    Some(phase) => add_into(&mut phase.resources, &delta),
                    None => phases.push(PhaseDelta {
                        phase: result.phase.clone(),
                        resources: delta.clone(),
                    }),
                }
            }
            let sources = payments(&result);
            if with_steps && (!delta.is_empty() || !sources.is_empty()) {
                steps.push(StepDelta {
                    phase: result.phase.clone(),
                    step: result.step.clone(),
                    resources: delta,
                    sources,
                });
            }
        }
        if let Some(ended) = copy.state().conclusion.clone() {
            let shortfall = (ended.loser_id == acting)
                .then(|| shortfall(&result, acting))
                .flatten();
            conclusion = Some(ConclusionDetail {
                conclusion: ConclusionAnswer::from(&ended),
                shortfall,
            });
            break;
        }
    }
    let bankrupt = conclusion
        .as_ref()
        .is_some_and(|c| c.conclusion.loser_id == player && c.shortfall.is_some());
    Outlook {
        player_id: player,
        phases,
        steps: with_steps.then_some(steps),
        resources: resources_json(&copy, player),
        bankrupt,
        conclusion,
    }
}

fn resources_json(game: &Game, player: PlayerId) -> Value {
    serde_json::to_value(&game.state().players.get(player).resources).unwrap_or(Value::Null)
}

/// Why a finished game ended. A bankruptcy leaves the game on the step
/// that could not be paid (the step is undone), so running that step again
/// on a copy that is not yet over shows what it asked for.
fn explain(game: &Game, conclusion: &Conclusion) -> ConclusionDetail {
    let loser = conclusion.loser_id;
    let shortfall = (game.state().active == loser && !in_action_phase(game))
        .then(|| {
            let mut state = game.state().clone();
            state.conclusion = None;
            let mut copy = Game::from_state(game.content().clone(), state).ok()?;
            let result = copy.advance().ok()?;
            shortfall(&result, loser)
        })
        .flatten();
    ConclusionDetail {
        conclusion: ConclusionAnswer::from(conclusion),
        shortfall,
    }
}

/// The `resource:remove` payments of a step that name a source
/// (`{source, key, amount}`), in order.
fn payments(result: &AdvanceResult) -> Vec<Value> {
    removals(result)
        .into_iter()
        .filter(|(_, amount, source)| *amount > EPSILON && !source.is_null())
        .map(|(key, amount, source)| {
            serde_json::json!({ "source": source, "key": key, "amount": amount })
        })
        .collect()
}

/// `(key, amount, meta.source)` of every `resource:remove` a step ran.
fn removals(result: &AdvanceResult) -> Vec<(String, f64, Value)> {
    result
        .effects
        .iter()
        .filter(|e| e.handler() == Some(("resource", "remove")))
        .filter_map(|e| {
            let key = e.param("key")?.as_str()?.to_owned();
            let amount = e.param("amount")?.as_f64()?;
            let source = e.meta.as_ref().map_or(Value::Null, |m| m["source"].clone());
            Some((key, amount, source))
        })
        .collect()
}

/// What a step asked `player` to pay beyond what they had, if it did.
fn shortfall(result: &AdvanceResult, player: PlayerId) -> Option<Shortfall> {
    let have = serde_json::to_value(&result.player.resources).ok()?;
    let mut due: Vec<(String, f64)> = Vec::new();
    for (key, amount, _) in removals(result) {
        match due.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => *total += amount,
            None => due.push((key, amount)),
        }
    }
    let (key, due) = due
        .into_iter()
        .find(|(key, total)| *total > have[key.as_str()].as_f64().unwrap_or(0.0) + EPSILON)?;
    let available = have[key.as_str()].as_f64().unwrap_or(0.0);
    let sources = payments(result)
        .into_iter()
        .filter(|p| p["key"] == key.as_str())
        .collect();
    Some(Shortfall {
        player_id: player,
        key,
        due,
        available,
        sources,
    })
}

// ----- deltas -----------------------------------------------------------------------

/// `after - before` for every numeric key of two JSON maps, non-zero only.
fn numeric_delta(before: &Value, after: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
    for key in keys {
        let diff = a.get(key).and_then(Value::as_f64).unwrap_or(0.0)
            - b.get(key).and_then(Value::as_f64).unwrap_or(0.0);
        if diff.abs() > EPSILON {
            out.insert(key.clone(), number(diff));
        }
    }
    out
}

fn add_into(into: &mut Map<String, Value>, delta: &Map<String, Value>) {
    for (key, value) in delta {
        let sum =
            into.get(key).and_then(Value::as_f64).unwrap_or(0.0) + value.as_f64().unwrap_or(0.0);
        if sum.abs() > EPSILON {
            into.insert(key.clone(), number(sum));
        } else {
            into.remove(key);
        }
    }
}

/// A JSON number, integral when it is one (so `2`, not `2.0`).
fn number(n: f64) -> Value {
    let rounded = (n * 1e6).round() / 1e6;
    if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
        Value::from(rounded as i64)
    } else {
        Value::from(rounded)
    }
}

/// What changed for one seat between two wire snapshots of it.
fn player_delta(before: &Value, after: &Value) -> PlayerDelta {
    let list = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let developments = |v: &Value| -> Vec<String> {
        v["lands"]
            .as_array()
            .map(|lands| {
                lands
                    .iter()
                    .flat_map(|land| list(land, "developments"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let slots = |v: &Value| -> i64 {
        v["lands"]
            .as_array()
            .map(|lands| lands.iter().filter_map(|l| l["slotsMax"].as_i64()).sum())
            .unwrap_or(0)
    };
    let count = |v: &Value, key: &str| v[key].as_array().map_or(0, Vec::len) as i64;
    let passives =
        |v: &Value| -> Vec<Value> { v["passives"].as_array().cloned().unwrap_or_default() };
    let (passives_before, passives_after) = (passives(before), passives(after));
    let id_of = |p: &Value| p["id"].clone();
    PlayerDelta {
        player_id: after["id"].as_str().and_then(PlayerId::parse),
        resources: numeric_delta(&before["resources"], &after["resources"]),
        stats: numeric_delta(&before["stats"], &after["stats"]),
        population: numeric_delta(&before["population"], &after["population"]),
        lands: count(after, "lands") - count(before, "lands"),
        slots: slots(after) - slots(before),
        developments_added: multiset_minus(&developments(after), &developments(before)),
        developments_removed: multiset_minus(&developments(before), &developments(after)),
        buildings_added: multiset_minus(&list(after, "buildings"), &list(before, "buildings")),
        buildings_removed: multiset_minus(&list(before, "buildings"), &list(after, "buildings")),
        passives_added: passives_after
            .iter()
            .filter(|p| !passives_before.iter().any(|q| id_of(q) == id_of(p)))
            .cloned()
            .collect(),
        passives_removed: passives_before
            .iter()
            .filter(|p| !passives_after.iter().any(|q| id_of(q) == id_of(p)))
            .cloned()
            .collect(),
    }
}

/// The items of `a` not matched one for one in `b`.
fn multiset_minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut rest: Vec<&String> = b.iter().collect();
    let mut out = Vec::new();
    for item in a {
        match rest.iter().position(|r| *r == item) {
            Some(at) => {
                rest.swap_remove(at);
            }
            None => out.push(item.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_delta_keeps_changes_only_and_reads_missing_keys_as_zero() {
        let delta = numeric_delta(
            &json!({"gold": 10, "ap": 1, "happiness": 0}),
            &json!({"gold": 8.0, "ap": 1, "castleHP": 3}),
        );
        assert_eq!(Value::Object(delta), json!({"gold": -2, "castleHP": 3}));
    }

    #[test]
    fn multiset_minus_counts_duplicates() {
        let farm = || "farm".to_owned();
        assert_eq!(
            multiset_minus(&[farm(), farm(), "house".into()], &[farm()]),
            vec![farm(), "house".to_owned()]
        );
        assert!(multiset_minus(&[farm()], &[farm(), farm()]).is_empty());
    }

    #[test]
    fn numbers_are_integral_when_they_can_be() {
        assert_eq!(number(2.0), json!(2));
        assert_eq!(number(-0.5), json!(-0.5));
        assert_eq!(number(0.1 + 0.2), json!(0.3));
    }
}
