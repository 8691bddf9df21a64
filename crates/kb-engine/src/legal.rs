//! Enumerating moves: every action the active player could try, with
//! concrete parameters derived from the content (which placeholders an
//! action's compiled effects use and what they can name), and the subset
//! that succeeds now. Used by property tests, the load generator and AI
//! policies.

use serde_json::{Value, json};

use crate::Key;
use crate::action;
use crate::content::{ActionEffect, Effect, Op, Params};
use crate::exec::Ctx;
use crate::game::Game;
use crate::handlers;

/// An action with concrete parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Move {
    /// The action.
    pub action_id: Key,
    /// Its parameters.
    pub params: Params,
}

impl Game {
    /// Every action with parameters the active player might perform now, in
    /// content order. Some may still be refused (costs, requirements).
    pub fn candidate_moves(&self) -> Vec<Move> {
        let state = self.state();
        let content = self.content();
        if state.conclusion.is_some() || !content.phases()[state.phase_index].action {
            return Vec::new();
        }
        let player = state.players.get(state.active);
        let mut out = Vec::new();
        for action in content.actions().iter() {
            if action.system && !player.actions.contains(&action.id) {
                continue;
            }
            let mut base: Vec<Params> = vec![Params::new()];
            let mut uses = Vec::new();
            for entry in &action.effects {
                if let ActionEffect::Effect(effect) = entry {
                    placeholders(effect, &mut uses);
                }
            }
            for (name, slot) in uses {
                let values: Vec<Value> = match slot {
                    Slot::Development => content
                        .developments()
                        .iter()
                        .filter(|d| !d.system)
                        .map(|d| json!(d.id))
                        .collect(),
                    Slot::Building => content
                        .buildings()
                        .iter()
                        .filter(|b| !player.buildings.contains(&b.id))
                        .map(|b| json!(b.id))
                        .collect(),
                    Slot::Role => content.populations().iter().map(|p| json!(p.id)).collect(),
                    Slot::Land => player
                        .lands
                        .iter()
                        .filter(|l| l.has_free_slot())
                        .map(|l| json!(l.id))
                        .collect(),
                };
                if base.iter().all(|p| p.contains_key(name)) {
                    continue;
                }
                let values = &values;
                base = base
                    .into_iter()
                    .flat_map(|p| {
                        values.iter().map(move |v| {
                            let mut p = p.clone();
                            p.insert(name.to_owned(), v.clone());
                            p
                        })
                    })
                    .collect();
            }
            for entry in &action.effects {
                if let ActionEffect::Group(group) = entry {
                    base = base
                        .into_iter()
                        .flat_map(|p| {
                            group.options.iter().map(move |o| {
                                let mut p = p.clone();
                                let choices = p
                                    .entry("choices")
                                    .or_insert_with(|| Value::Object(Params::new()));
                                choices[group.id.as_str()] = json!({ "optionId": o.id });
                                p
                            })
                        })
                        .collect();
                }
            }
            out.extend(base.into_iter().map(|params| Move {
                action_id: action.id.clone(),
                params,
            }));
        }
        out
    }

    /// The candidate moves that succeed now.
    ///
    /// Each is tried on a scratch copy of the state. The checks that only
    /// read the state (requirements, costs, choices...) refuse most
    /// candidates; only a candidate that passes them runs its effects, and
    /// only then is the copy made again for the next one.
    pub fn legal_moves(&self) -> Vec<Move> {
        let candidates = self.candidate_moves();
        if candidates.is_empty() {
            return candidates;
        }
        let mut scratch = self.state().clone();
        let mut pristine = true;
        candidates
            .into_iter()
            .filter(|m| {
                if !pristine {
                    scratch.copy_from(self.state());
                }
                let mut ctx = Ctx::new(self.content(), &mut scratch, handlers::run);
                let Ok(checked) = action::check_performable(&ctx, &m.action_id, &m.params) else {
                    pristine = true;
                    return false;
                };
                pristine = false;
                action::execute(&mut ctx, checked).is_ok()
            })
            .collect()
    }
}

/// What a placeholder of an action's effects can name, and so which
/// values [`Game::candidate_moves`] offers for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// `$id` of `development:add`: every non-system development.
    Development,
    /// `$id` of `building:add`: every building the player lacks.
    Building,
    /// `$role` of any effect: every population role.
    Role,
    /// `$landId` of any effect: every land of the player with a free slot.
    Land,
}

/// Collects the placeholders an effect tree binds (`"$landId"` in a
/// parameter of its definition), with what each can name, in order of
/// first use: each parameter in the order of the parameters' names, then
/// the nested effects. A name another effect of the tree already bound is
/// not collected again; `$id` names something enumerable only for the
/// kinds whose compiled [`Op`] adds a development or a building. No effect
/// kind needs code here: a placeholder is a parameter's value.
fn placeholders<'e>(effect: &'e Effect, out: &mut Vec<(&'e str, Slot)>) {
    let op = effect.op();
    for value in effect.params.iter().flat_map(|p| p.values()) {
        let Some(name) = value.as_str().and_then(|s| s.strip_prefix('$')) else {
            continue;
        };
        let slot = match (name, op) {
            ("id", Op::DevelopmentAdd(_)) => Slot::Development,
            ("id", Op::BuildingAdd(_)) => Slot::Building,
            ("role", _) => Slot::Role,
            ("landId", _) => Slot::Land,
            _ => continue,
        };
        if !out.iter().any(|(seen, _)| *seen == name) {
            out.push((name, slot));
        }
    }
    for nested in effect.effects.iter().flat_map(|e| e.iter()) {
        placeholders(nested, out);
    }
}
