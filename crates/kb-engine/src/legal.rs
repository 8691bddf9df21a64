//! Enumerating moves: every action the active player could try, with
//! concrete parameters derived from the content (which placeholders an
//! action uses and what they can name), and the subset that succeeds now.
//! Used by property tests, the load generator and AI policies.

use serde_json::{Value, json};

use crate::Key;
use crate::content::{ActionEffect, Effect, Params};
use crate::game::Game;

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
            for (name, handler) in uses {
                let values: Vec<Value> = match (name.as_str(), handler.as_str()) {
                    ("id", "development:add") => content
                        .developments()
                        .iter()
                        .filter(|d| !d.system)
                        .map(|d| json!(d.id))
                        .collect(),
                    ("id", "building:add") => content
                        .buildings()
                        .iter()
                        .filter(|b| !player.buildings.contains(&b.id))
                        .map(|b| json!(b.id))
                        .collect(),
                    ("role", _) => content.populations().iter().map(|p| json!(p.id)).collect(),
                    ("landId", _) => player
                        .lands
                        .iter()
                        .filter(|l| l.has_free_slot())
                        .map(|l| json!(l.id))
                        .collect(),
                    _ => continue,
                };
                if base.iter().all(|p| p.contains_key(&name)) {
                    continue;
                }
                let name = &name;
                let values = &values;
                base = base
                    .into_iter()
                    .flat_map(|p| {
                        values.iter().map(move |v| {
                            let mut p = p.clone();
                            p.insert(name.clone(), v.clone());
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

    /// The candidate moves that succeed now (each tried on a copy).
    pub fn legal_moves(&self) -> Vec<Move> {
        self.candidate_moves()
            .into_iter()
            .filter(|m| self.would_succeed(&m.action_id, &m.params))
            .collect()
    }
}

/// Collects `(placeholder name, handler)` pairs used by an effect tree.
fn placeholders(effect: &Effect, out: &mut Vec<(String, String)>) {
    let handler = effect
        .handler()
        .map(|(k, m)| format!("{k}:{m}"))
        .unwrap_or_default();
    for value in effect.params.iter().flat_map(|p| p.values()) {
        if let Some(name) = value.as_str().and_then(|s| s.strip_prefix('$')) {
            let pair = (name.to_owned(), handler.clone());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    for nested in effect.effects.iter().flat_map(|e| e.iter()) {
        placeholders(nested, out);
    }
}
