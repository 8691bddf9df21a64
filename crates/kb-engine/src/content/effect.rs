//! Effects as data: [`EffectDef`] (an effect's definition, plain data whose
//! JSON form is `kb_protocol::schema::EffectDef`), [`Effect`] (the definition with its compiled [`Op`]), [`Evaluator`],
//! [`Effects`] lists, and the two transformations the rules apply to them,
//! placeholder substitution and reversal (both compile their result).

use std::sync::Arc;

use serde_json::Value;

use super::op::{Op, reversed_method};
use crate::Key;
use crate::num::Rounding;

/// Free-form parameters of an effect, evaluator or action.
pub type Params = serde_json::Map<String, Value>;

/// One effect definition: the parts of the reference's
/// `{type, method, params, effects, evaluator, round, meta}`.
///
/// With an `evaluator` it is an *evaluator group*: the evaluator's count
/// multiplies the nested `effects`. Otherwise `type:method` names the
/// handler that runs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EffectDef {
    /// Handler family (`resource`, `stat`, `land`, ...).
    pub kind: Option<Key>,
    /// Handler method (`add`, `remove`, ...).
    pub method: Option<Key>,
    /// Handler parameters.
    pub params: Option<Params>,
    /// Nested effects (meaning depends on the handler or the evaluator).
    pub effects: Option<Effects>,
    /// Makes this an evaluator group.
    pub evaluator: Option<Evaluator>,
    /// Rounding used by some handlers.
    pub round: Option<Rounding>,
    /// Free-form metadata (`allowShortfall`, `source`, ...).
    pub meta: Option<Value>,
}

/// An evaluator: a function of the game that yields a count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluator {
    /// Evaluator type (`development`, `population`, `stat`, `compare`).
    pub kind: Key,
    /// Evaluator parameters.
    pub params: Option<Params>,
}

/// An effect: its definition as written (what logs and snapshots show) and
/// its compiled [`Op`] (what runs). Built only by compiling a definition, so
/// the two always agree; its JSON form is the definition's
/// (`kb_protocol::schema::EffectDef`).
#[derive(Clone)]
pub struct Effect {
    def: EffectDef,
    op: Op,
}

impl Effect {
    /// Compiles a definition.
    pub fn new(def: EffectDef) -> Effect {
        let op = Op::compile(&def);
        Effect { def, op }
    }

    /// A leaf effect `type:method` with `params`.
    pub fn leaf(kind: &str, method: &str, params: Params) -> Effect {
        Effect::new(EffectDef {
            kind: Some(kind.into()),
            method: Some(method.into()),
            params: Some(params),
            ..EffectDef::default()
        })
    }

    /// The definition as written.
    pub fn def(&self) -> &EffectDef {
        &self.def
    }

    /// The compiled effect.
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// The handler key `type:method`, if both are set.
    pub fn handler(&self) -> Option<(&str, &str)> {
        Some((self.def.kind.as_deref()?, self.def.method.as_deref()?))
    }

    /// A parameter by name.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.def.params.as_ref()?.get(name)
    }
}

impl std::ops::Deref for Effect {
    type Target = EffectDef;
    fn deref(&self) -> &EffectDef {
        &self.def
    }
}

impl PartialEq for Effect {
    fn eq(&self, other: &Self) -> bool {
        self.def == other.def
    }
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.def.fmt(f)
    }
}

impl Default for Effect {
    fn default() -> Self {
        Effect::new(EffectDef::default())
    }
}

impl From<EffectDef> for Effect {
    fn from(def: EffectDef) -> Self {
        Effect::new(def)
    }
}

/// An immutable, cheaply cloned list of effects.
///
/// Lists are shared between content and game state (a passive created from
/// a building holds the building's own list), so cloning a game state does
/// not copy effect trees. Each list remembers whether any string in it
/// starts a `$placeholder`, so substitution of a list without one is free.
#[derive(Clone, PartialEq)]
pub struct Effects(Arc<EffectsInner>);

#[derive(PartialEq)]
struct EffectsInner {
    list: Vec<Effect>,
    has_placeholders: bool,
}

impl Effects {
    /// Wraps a list.
    pub fn new(list: Vec<Effect>) -> Effects {
        let has_placeholders = list.iter().any(effect_has_placeholders);
        Effects(Arc::new(EffectsInner {
            list,
            has_placeholders,
        }))
    }

    /// The empty list.
    pub fn empty() -> Effects {
        Effects::new(Vec::new())
    }

    /// The effects.
    pub fn as_slice(&self) -> &[Effect] {
        &self.0.list
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.list.is_empty()
    }

    /// Iterates the effects.
    pub fn iter(&self) -> std::slice::Iter<'_, Effect> {
        self.0.list.iter()
    }

    /// This list with `$placeholders` replaced from `vars` (see
    /// [`substitute_value`]).
    pub fn substitute(&self, vars: &Params) -> Effects {
        if !self.0.has_placeholders {
            return self.clone();
        }
        Effects::new(self.iter().map(|e| substitute_effect(e, vars)).collect())
    }

    /// The reversal of this list (every `add` becomes `remove` and back,
    /// recursively), used to undo a passive's setup effects.
    pub fn reversed(&self) -> Effects {
        Effects::new(self.iter().map(reverse_effect).collect())
    }
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Effects {
    fn default() -> Self {
        Effects::empty()
    }
}

impl From<Vec<Effect>> for Effects {
    fn from(list: Vec<Effect>) -> Self {
        Effects::new(list)
    }
}

impl<'a> IntoIterator for &'a Effects {
    type Item = &'a Effect;
    type IntoIter = std::slice::Iter<'a, Effect>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

fn effect_has_placeholders(effect: &Effect) -> bool {
    effect.params.as_ref().is_some_and(params_have_placeholders)
        || effect
            .evaluator
            .as_ref()
            .and_then(|e| e.params.as_ref())
            .is_some_and(params_have_placeholders)
        || effect.meta.as_ref().is_some_and(value_has_placeholders)
        || effect
            .effects
            .as_ref()
            .is_some_and(|e| e.0.has_placeholders)
}

fn params_have_placeholders(params: &Params) -> bool {
    params.values().any(value_has_placeholders)
}

fn value_has_placeholders(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('$'),
        Value::Array(items) => items.iter().any(value_has_placeholders),
        Value::Object(map) => map.values().any(value_has_placeholders),
        _ => false,
    }
}

fn substitute_effect(effect: &Effect, vars: &Params) -> Effect {
    Effect::new(EffectDef {
        kind: effect.kind.clone(),
        method: effect.method.clone(),
        params: effect.params.as_ref().map(|p| substitute_params(p, vars)),
        effects: effect.effects.as_ref().map(|e| e.substitute(vars)),
        evaluator: effect.evaluator.as_ref().map(|ev| Evaluator {
            kind: ev.kind.clone(),
            params: ev.params.as_ref().map(|p| substitute_params(p, vars)),
        }),
        round: effect.round,
        meta: effect.meta.as_ref().map(|m| substitute_deep(m, vars)),
    })
}

/// Substitutes the top-level values of a parameter map. A whole-string
/// placeholder whose variable is not supplied removes the key (the
/// reference's `undefined`).
pub fn substitute_params(params: &Params, vars: &Params) -> Params {
    let mut out = Params::new();
    for (key, value) in params {
        if let Some(value) = substitute_value(value, vars) {
            out.insert(key.clone(), value);
        }
    }
    out
}

fn substitute_deep(value: &Value, vars: &Params) -> Value {
    match value {
        Value::String(_) => substitute_value(value, vars).unwrap_or(Value::Null),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| substitute_deep(v, vars)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(_) => substitute_value(v, vars).map(|v| (k.clone(), v)),
                    _ => Some((k.clone(), substitute_deep(v, vars))),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Substitutes one value.
///
/// * A string that is exactly `$name` (an identifier) becomes `vars[name]`
///   of any JSON type, or `None` (absent) when `name` is not supplied.
/// * Any other string has each `$name` of a *supplied* variable replaced by
///   its text, so `"legion_$player_$index"` becomes `"legion_A_2"`. (The
///   reference only replaced whole strings, which made every Legion share
///   one passive; PRODUCT.md Q6.)
/// * Other values are returned unchanged.
pub fn substitute_value(value: &Value, vars: &Params) -> Option<Value> {
    let Value::String(text) = value else {
        return Some(value.clone());
    };
    if !text.contains('$') {
        return Some(value.clone());
    }
    if let Some(name) = text.strip_prefix('$').filter(|n| is_identifier(n)) {
        return vars.get(name).cloned();
    }
    Some(Value::String(substitute_embedded(text, vars)))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn substitute_embedded(text: &str, vars: &Params) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        // The longest supplied variable name that prefixes `after`.
        let best = vars
            .keys()
            .filter(|name| after.starts_with(name.as_str()))
            .max_by_key(|name| name.len());
        match best {
            Some(name) => {
                out.push_str(&value_text(&vars[name.as_str()]));
                rest = &after[name.len()..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The reversal of one effect: the method its kind declares for its
/// reversal (`kinds.rs`); for a handler that names no kind, `add` and
/// `remove` swap, as the reference did for every handler.
fn reverse_effect(effect: &Effect) -> Effect {
    let declared = match (effect.kind.as_deref(), effect.method.as_deref()) {
        (Some(kind), Some(method)) => reversed_method(kind, method),
        _ => None,
    };
    let method = match (declared, effect.method.as_deref()) {
        (Some(method), _) => Some(Key::from(method)),
        (None, Some(method)) => Some(Key::from(swap_add_remove(method))),
        (None, None) => None,
    };
    Effect::new(EffectDef {
        method,
        effects: effect.effects.as_ref().map(Effects::reversed),
        ..effect.def.clone()
    })
}

/// `add` ↔ `remove`; any other method stays.
pub(super) fn swap_add_remove(method: &str) -> &str {
    match method {
        "add" => "remove",
        "remove" => "add",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars(value: Value) -> Params {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn whole_placeholders_take_any_type_and_missing_ones_vanish() {
        let v = vars(json!({"landId": "A-L2", "count": 3}));
        let params = vars(json!({"land": "$landId", "n": "$count", "x": "$missing", "k": 1}));
        assert_eq!(
            Value::Object(substitute_params(&params, &v)),
            json!({"land": "A-L2", "n": 3, "k": 1})
        );
    }

    #[test]
    fn embedded_placeholders_use_the_longest_supplied_name() {
        let v = vars(json!({"player": "A", "index": 2, "playerName": "x"}));
        let out = substitute_value(&json!("legion_$player_$index"), &v).unwrap();
        assert_eq!(out, json!("legion_A_2"));
        let out = substitute_value(&json!("a$unknown b"), &v).unwrap();
        assert_eq!(out, json!("a$unknown b"));
    }

    #[test]
    fn lists_without_placeholders_are_shared_not_copied() {
        let list = Effects::from_json(&json!([
            {"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1}}
        ]))
        .unwrap();
        let out = list.substitute(&vars(json!({"landId": "A-L1"})));
        assert!(Arc::ptr_eq(&list.0, &out.0));
    }

    #[test]
    fn reversal_swaps_add_and_remove_recursively() {
        let list = Effects::from_json(&json!([
            {"type": "passive", "method": "add", "params": {"id": "p"}, "effects": [
                {"type": "stat", "method": "remove", "params": {"key": "k", "amount": 1}},
                {"type": "stat", "method": "add_pct", "params": {"key": "k"}}
            ]}
        ]))
        .unwrap();
        let reversed = list.reversed();
        let outer = &reversed.as_slice()[0];
        assert_eq!(outer.method.as_deref(), Some("remove"));
        let inner = outer.effects.as_ref().unwrap().as_slice();
        assert_eq!(inner[0].method.as_deref(), Some("add"));
        assert_eq!(inner[1].method.as_deref(), Some("add_pct"));
    }
}
