//! Reading content that arrives inside free-form JSON.
//!
//! The content schema itself (files, `GameConfig`, registries) is read and
//! written outside the engine (`kb_protocol::schema`). Effect parameters
//! and a definition's `rest` keys stay JSON, though, and some of them hold
//! content: trigger lists (`onBuild: [...]`), a passive's `skip` flags, an
//! evaluation modifier's `percent`, an attack's `onDamage` lists, the
//! evaluators of a comparison. This module reads those values into the
//! engine's plain types, with plain code over `serde_json::Value` (the
//! engine's types have no JSON form of their own). Messages say what was
//! expected, as serde's would.

use serde_json::{Map, Value};

use super::def::{Bag, Percent, SkipConfig, SkipStep};
use super::effect::{EffectDef, Effects, Evaluator};
use crate::Key;
use crate::num::{Num, Rounding};

/// What a JSON value is, for messages (serde's wording).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

fn invalid(value: &Value, expected: &str) -> String {
    format!("invalid type: {}, expected {expected}", describe(value))
}

fn object<'a>(value: &'a Value, expected: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| invalid(value, expected))
}

fn key(value: &Value) -> Result<Key, String> {
    value
        .as_str()
        .map(Key::from)
        .ok_or_else(|| invalid(value, "a string"))
}

/// A field that may be absent or `null`.
fn optional<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|value| !value.is_null())
}

fn list<T>(value: &Value, item: impl Fn(&Value) -> Result<T, String>) -> Result<Vec<T>, String> {
    value
        .as_array()
        .ok_or_else(|| invalid(value, "a sequence"))?
        .iter()
        .map(item)
        .collect()
}

fn number(value: &Value) -> Result<f64, String> {
    value.as_f64().ok_or_else(|| invalid(value, "f64"))
}

impl Rounding {
    /// Reads `up`, `down` or `nearest`.
    pub fn from_json(value: &Value) -> Result<Rounding, String> {
        match value.as_str() {
            Some("up") => Ok(Rounding::Up),
            Some("down") => Ok(Rounding::Down),
            Some("nearest") => Ok(Rounding::Nearest),
            Some(other) => Err(format!(
                "unknown variant `{other}`, expected one of `up`, `down`, `nearest`"
            )),
            None => Err(invalid(value, "a rounding mode")),
        }
    }
}

impl EffectDef {
    /// Reads an effect `{type, method, params, effects, evaluator, round,
    /// meta}`; other keys are ignored.
    pub fn from_json(value: &Value) -> Result<EffectDef, String> {
        let map = object(value, "an effect")?;
        Ok(EffectDef {
            kind: optional(map, "type").map(key).transpose()?,
            method: optional(map, "method").map(key).transpose()?,
            params: optional(map, "params")
                .map(|p| object(p, "a map").cloned())
                .transpose()?,
            effects: optional(map, "effects")
                .map(Effects::from_json)
                .transpose()?,
            evaluator: optional(map, "evaluator")
                .map(Evaluator::from_json)
                .transpose()?,
            round: optional(map, "round")
                .map(Rounding::from_json)
                .transpose()?,
            meta: optional(map, "meta").cloned(),
        })
    }
}

impl Effects {
    /// Reads a list of effects, each compiled.
    pub fn from_json(value: &Value) -> Result<Effects, String> {
        let list = list(value, |item| EffectDef::from_json(item).map(Into::into))?;
        Ok(Effects::new(list))
    }
}

impl Evaluator {
    /// Reads an evaluator `{type, params}`.
    pub fn from_json(value: &Value) -> Result<Evaluator, String> {
        let map = object(value, "an evaluator")?;
        let kind = map.get("type").ok_or("missing field `type`")?;
        Ok(Evaluator {
            kind: key(kind)?,
            params: optional(map, "params")
                .map(|p| object(p, "a map").cloned())
                .transpose()?,
        })
    }
}

impl SkipConfig {
    /// Reads skip flags `{phases?: [id], steps?: [{phaseId, stepId}]}`.
    pub fn from_json(value: &Value) -> Result<SkipConfig, String> {
        let map = object(value, "skip flags")?;
        let step = |value: &Value| {
            let map = object(value, "a skipped step")?;
            let field = |name: &str| {
                map.get(name)
                    .ok_or_else(|| format!("missing field `{name}`"))
                    .and_then(key)
            };
            Ok(SkipStep {
                phase_id: field("phaseId")?,
                step_id: field("stepId")?,
            })
        };
        Ok(SkipConfig {
            phases: optional(map, "phases")
                .map(|v| list(v, key))
                .transpose()?
                .unwrap_or_default(),
            steps: optional(map, "steps")
                .map(|v| list(v, step))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

impl Percent {
    /// Reads a fraction for every key (a number) or per key (a map).
    pub fn from_json(value: &Value) -> Result<Percent, String> {
        let untagged = || "data did not match any variant of untagged enum Percent".to_string();
        match value {
            Value::Number(_) => number(value).map(Percent::All),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| number(v).map(|n| (k.as_str(), Num(n))))
                .collect::<Result<Bag, String>>()
                .map(Percent::PerKey)
                .map_err(|_| untagged()),
            _ => Err(untagged()),
        }
    }
}
