//! Compiled effects: the typed form of every effect kind ([`Op`]), of
//! evaluators ([`EvalOp`]), of comparisons and requirements ([`CompareOp`],
//! [`Operator`]) and of win triggers.
//!
//! Content arrives as JSON in the reference schema; each effect is compiled
//! into an [`Op`] once, when it is loaded (or when placeholders are
//! substituted into it), so commands never read JSON parameters. This file
//! is the one definition of the effect kinds: the variant, its parameters
//! as Rust types, and how they are read from the reference schema
//! ([`Op::compile`]). Execution is an exhaustive `match` on [`Op`] in
//! `handlers.rs`, so a new variant does not compile until it runs.
//!
//! Compiling never fails: an effect whose parameters the handler would
//! refuse compiles to [`Op::Invalid`], which refuses with the handler's
//! message when (and only when) it runs, as before; unknown handlers and
//! evaluators compile to `Unknown` variants, which content validation
//! reports with the entry's path.

use std::sync::Arc;

use serde_json::Value;

use super::def::{Percent, SkipConfig};
use super::effect::{EffectDef, Effects, Evaluator, Params};
use crate::Key;
use crate::map::OrderedMap;

/// The most repetitions one effect may ask for (`land:add` with a count,
/// an evaluator multiplying a nested action...). Content is data a client
/// may submit; a command must stay cheap.
pub const MAX_REPETITIONS: u32 = 1000;

/// One compiled effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Neither `type` nor `method`: does nothing.
    Nothing,
    /// Only one of `type` and `method`: does nothing when run; content
    /// validation refuses it.
    Incomplete,
    /// `type:method` names no handler: refused when run and by validation.
    Unknown(Box<str>),
    /// A handler whose parameters it refuses (`handler`, `message`).
    Invalid(Box<(&'static str, String)>),
    /// An evaluator group: the evaluator's count multiplies the nested
    /// effects; evaluation modifiers of `target` then apply to the gains.
    Group(Box<GroupOp>),
    /// `resource:add`.
    ResourceAdd {
        /// Resource key.
        key: Key,
        /// Amount per repetition.
        amount: f64,
    },
    /// `resource:remove`.
    ResourceRemove {
        /// Resource key.
        key: Key,
        /// Amount per repetition.
        amount: f64,
        /// `meta.allowShortfall`: clamp instead of refusing.
        allow_shortfall: bool,
    },
    /// `resource:transfer` from the opponent.
    ResourceTransfer {
        /// Resource key.
        key: Key,
        /// Percent of the opponent's balance (before modifiers).
        percent: f64,
    },
    /// `stat:add` (`sign` 1) and `stat:remove` (`sign` −1).
    StatAdd {
        /// Stat key.
        key: Key,
        /// Amount per repetition.
        amount: f64,
        /// 1 or −1.
        sign: f64,
    },
    /// `stat:add_pct`.
    StatAddPct {
        /// Stat key.
        key: Key,
        /// A literal percent, else the value of stat `percent_stat`, else 0.
        percent: Option<f64>,
        /// The stat giving the percent.
        percent_stat: Option<Key>,
    },
    /// `land:add`.
    LandAdd {
        /// Lands per repetition.
        count: f64,
    },
    /// `land:till`.
    LandTill {
        /// The land (else the last tillable one).
        land_id: Option<Key>,
    },
    /// `development:add`.
    DevelopmentAdd {
        /// Development id.
        id: Key,
        /// The land (else the last with a free slot).
        land_id: Option<Key>,
    },
    /// `development:remove`.
    DevelopmentRemove {
        /// Development id.
        id: Key,
        /// The land.
        land_id: Key,
    },
    /// `building:add`.
    BuildingAdd {
        /// Building id.
        id: Key,
    },
    /// `building:remove`.
    BuildingRemove {
        /// Building id.
        id: Key,
    },
    /// `passive:add`.
    PassiveAdd(Box<PassiveOp>),
    /// `passive:remove`.
    PassiveRemove {
        /// Passive id.
        id: Key,
    },
    /// `cost_mod:add` and `cost_mod:remove`.
    CostMod(Box<CostModOp>),
    /// `result_mod:add` and `result_mod:remove`.
    ResultMod(Box<ResultModOp>),
    /// `population:add`.
    PopulationAdd {
        /// Role.
        role: Key,
    },
    /// `population:remove`.
    PopulationRemove {
        /// Role.
        role: Key,
    },
    /// `action:add` (`add`) and `action:remove`: unlock or lock an action.
    ActionUnlock {
        /// Action id.
        id: Key,
        /// Unlock (true) or lock.
        add: bool,
    },
    /// `action:perform`.
    ActionPerform(Box<PerformOp>),
    /// `attack:perform`.
    AttackPerform(Box<AttackOp>),
}

/// A registry an effect refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// Actions.
    Action,
    /// Buildings.
    Building,
    /// Developments.
    Development,
    /// Population roles.
    Role,
}

impl RefKind {
    /// Its name in messages.
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::Action => "action",
            RefKind::Building => "building",
            RefKind::Development => "development",
            RefKind::Role => "population role",
        }
    }
}

/// An evaluator group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupOp {
    /// The evaluator.
    pub eval: EvalOp,
    /// `"<type>:<params.id>"` or the type: what evaluation modifiers match.
    pub target: String,
}

/// `passive:add`.
#[derive(Clone, Debug, PartialEq)]
pub struct PassiveOp {
    /// Passive id.
    pub id: Key,
    /// Display name.
    pub name: Option<String>,
    /// Icon.
    pub icon: Option<String>,
    /// Detail.
    pub detail: Option<String>,
    /// Metadata.
    pub meta: Option<Arc<Value>>,
    /// Setup effects (the effect's nested `effects`).
    pub effects: Effects,
    /// Trigger lists (`on*` parameters holding arrays).
    pub triggers: OrderedMap<Effects>,
    /// Skip flags.
    pub skip: Option<SkipConfig>,
}

/// `cost_mod:add|remove`.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModOp {
    /// Register (true) or unregister.
    pub add: bool,
    /// Modifier id (the owner is appended).
    pub id: Key,
    /// Only for this action.
    pub action_id: Option<Key>,
    /// Cost key.
    pub key: Key,
    /// Flat change.
    pub amount: Option<f64>,
    /// Fraction.
    pub percent: Option<f64>,
}

/// `result_mod:add|remove`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultModOp {
    /// Register (true) or unregister.
    pub add: bool,
    /// Modifier id (the owner is appended).
    pub id: Key,
    /// What it modifies.
    pub kind: ResultModKind,
}

/// What a result modifier modifies.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultModKind {
    /// Runs the effect's nested effects after an action or step.
    Action {
        /// Action (or step) id.
        action_id: Key,
    },
    /// Changes the gains of an evaluation.
    Evaluation {
        /// Evaluation target (`type` or `type:id`).
        target: Key,
        /// Resources added per positive gain.
        amount: Option<f64>,
        /// Added to every gain.
        adjust: Option<f64>,
        /// Fraction of every gain.
        percent: Option<Percent>,
    },
}

/// `action:perform`.
#[derive(Clone, Debug, PartialEq)]
pub struct PerformOp {
    /// Candidate ids (`__actionId`, `actionId`, `id`, as given): the first
    /// that names an action, else the first.
    pub ids: Vec<Key>,
    /// The parameters passed to the action.
    pub forwarded: Params,
}

/// `attack:perform`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackOp {
    /// What is attacked (none: the attack does nothing).
    pub target: Option<AttackTarget>,
    /// Skip the defender's absorption.
    pub ignore_absorption: bool,
    /// Skip the defender's fortification.
    pub ignore_fortification: bool,
    /// `onDamage.defender`, run by the defender when damage was done (an
    /// error message when the list does not parse).
    pub on_damage_defender: Option<Result<Effects, String>>,
    /// `onDamage.attacker`, run by the attacker.
    pub on_damage_attacker: Option<Result<Effects, String>>,
}

/// The target of an attack.
#[derive(Clone, Debug, PartialEq)]
pub enum AttackTarget {
    /// A resource.
    Resource(Key),
    /// A stat.
    Stat(Key),
    /// A building.
    Building(Key),
}

/// A compiled evaluator: a function of the game that yields a count.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalOp {
    /// Developments `id` on the actor's lands.
    Development {
        /// Development id (empty: none).
        id: Key,
    },
    /// Members of `role`, or all members.
    Population {
        /// Role.
        role: Option<Key>,
    },
    /// The actor's stat.
    Stat {
        /// Stat key.
        key: Key,
    },
    /// 1 when the comparison holds, else 0.
    Compare(Box<CompareOp>),
    /// An unknown evaluator type: refused when run and by validation.
    Unknown(Key),
}

/// A comparison of two operands (the `compare` evaluator and requirements).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareOp {
    /// Whether it had parameters at all.
    pub has_params: bool,
    /// Left operand.
    pub left: Operand,
    /// Right operand.
    pub right: Operand,
    /// The operator (none: the comparison never holds).
    pub operator: Option<Operator>,
}

/// One side of a comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Operand {
    /// Neither a number nor an object: counts as 0.
    #[default]
    Absent,
    /// A number.
    Num(f64),
    /// An evaluator.
    Eval(Box<EvalOp>),
    /// An object that is no evaluator (the parse error): refused when run.
    Malformed(String),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `eq`
    Eq,
    /// `ne`
    Ne,
}

impl Operator {
    /// Parses `lt|lte|gt|gte|eq|ne`.
    pub fn parse(text: &str) -> Option<Operator> {
        Some(match text {
            "lt" => Operator::Lt,
            "lte" => Operator::Lte,
            "gt" => Operator::Gt,
            "gte" => Operator::Gte,
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            _ => return None,
        })
    }

    /// Whether `left <op> right` holds.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Operator::Lt => left < right,
            Operator::Lte => left <= right,
            Operator::Gt => left > right,
            Operator::Gte => left >= right,
            Operator::Eq => left == right,
            Operator::Ne => left != right,
        }
    }
}

/// Reads parameters of one handler; a missing required one becomes the
/// handler's `missing `name`` refusal.
struct Reader<'a> {
    handler: &'static str,
    params: Option<&'a Params>,
}

type Refusal = Box<(&'static str, String)>;

impl<'a> Reader<'a> {
    fn value(&self, name: &str) -> Option<&'a Value> {
        self.params?.get(name)
    }

    fn str(&self, name: &str) -> Option<&'a str> {
        self.value(name).and_then(Value::as_str)
    }

    fn key(&self, name: &str) -> Option<Key> {
        self.str(name).map(Key::from)
    }

    fn num(&self, name: &str) -> Option<f64> {
        self.value(name).and_then(Value::as_f64)
    }

    fn flag(&self, name: &str) -> bool {
        self.value(name).and_then(Value::as_bool).unwrap_or(false)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.str(name).map(str::to_owned)
    }

    fn required(&self, name: &str) -> Result<Key, Refusal> {
        self.key(name)
            .ok_or_else(|| self.refuse(format!("missing `{name}`")))
    }

    fn refuse(&self, message: impl Into<String>) -> Refusal {
        Box::new((self.handler, message.into()))
    }
}

impl Op {
    /// Compiles one effect definition. Never fails: see the module doc.
    pub fn compile(def: &EffectDef) -> Op {
        if let Some(evaluator) = &def.evaluator {
            return Op::Group(Box::new(GroupOp {
                eval: EvalOp::compile(evaluator),
                target: evaluation_target(evaluator),
            }));
        }
        let (kind, method) = match (&def.kind, &def.method) {
            (Some(kind), Some(method)) => (kind.as_str(), method.as_str()),
            (None, None) => return Op::Nothing,
            _ => return Op::Incomplete,
        };
        let params = def.params.as_ref();
        let reader = |handler: &'static str| Reader { handler, params };
        let result = match (kind, method) {
            ("resource", "add") => {
                let r = reader("resource:add");
                r.required("key").map(|key| Op::ResourceAdd {
                    key,
                    amount: r.num("amount").unwrap_or(0.0),
                })
            }
            ("resource", "remove") => {
                let r = reader("resource:remove");
                r.required("key").map(|key| Op::ResourceRemove {
                    key,
                    amount: r.num("amount").unwrap_or(0.0),
                    allow_shortfall: def
                        .meta
                        .as_ref()
                        .and_then(|meta| meta.get("allowShortfall"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            }
            ("resource", "transfer") => {
                let r = reader("resource:transfer");
                r.required("key").map(|key| Op::ResourceTransfer {
                    key,
                    percent: r.num("percent").unwrap_or(25.0),
                })
            }
            ("stat", "add" | "remove") => {
                // Both report as `stat:add`, as they always have.
                let r = reader("stat:add");
                r.required("key").map(|key| Op::StatAdd {
                    key,
                    amount: r.num("amount").unwrap_or(0.0),
                    sign: if method == "add" { 1.0 } else { -1.0 },
                })
            }
            ("stat", "add_pct") => {
                let r = reader("stat:add_pct");
                r.required("key").map(|key| Op::StatAddPct {
                    key,
                    percent: r.num("percent"),
                    percent_stat: r.key("percentStat"),
                })
            }
            ("land", "add") => Ok(Op::LandAdd {
                count: reader("land:add").num("count").unwrap_or(1.0),
            }),
            ("land", "till") => Ok(Op::LandTill {
                land_id: reader("land:till").key("landId"),
            }),
            ("development", "add") => {
                let r = reader("development:add");
                r.key("id")
                    .or_else(|| r.key("developmentId"))
                    .ok_or_else(|| r.refuse("missing `id`"))
                    .map(|id| Op::DevelopmentAdd {
                        id,
                        land_id: r.key("landId"),
                    })
            }
            ("development", "remove") => {
                let r = reader("development:remove");
                r.required("id").and_then(|id| {
                    r.required("landId")
                        .map(|land_id| Op::DevelopmentRemove { id, land_id })
                })
            }
            ("building", "add") => reader("building:add")
                .required("id")
                .map(|id| Op::BuildingAdd { id }),
            ("building", "remove") => reader("building:remove")
                .required("id")
                .map(|id| Op::BuildingRemove { id }),
            ("passive", "add") => passive_add(reader("passive:add"), def),
            ("passive", "remove") => reader("passive:remove")
                .required("id")
                .map(|id| Op::PassiveRemove { id }),
            ("cost_mod", "add") => cost_mod(reader("cost_mod:add"), true),
            ("cost_mod", "remove") => cost_mod(reader("cost_mod:remove"), false),
            ("result_mod", "add") => result_mod(reader("result_mod:add"), true),
            ("result_mod", "remove") => result_mod(reader("result_mod:remove"), false),
            ("population", "add") => reader("population:add")
                .required("role")
                .map(|role| Op::PopulationAdd { role }),
            ("population", "remove") => reader("population:remove")
                .required("role")
                .map(|role| Op::PopulationRemove { role }),
            ("action", "add") => reader("action:add")
                .required("id")
                .map(|id| Op::ActionUnlock { id, add: true }),
            ("action", "remove") => reader("action:remove")
                .required("id")
                .map(|id| Op::ActionUnlock { id, add: false }),
            ("action", "perform") => action_perform(reader("action:perform")),
            ("attack", "perform") => Ok(attack_perform(reader("attack:perform"))),
            _ => return Op::Unknown(format!("{kind}:{method}").into()),
        };
        result.unwrap_or_else(Op::Invalid)
    }

    /// The literal (placeholder-free) id this effect refers to, and the
    /// registry it must name, for reference checks.
    pub fn reference(&self) -> Option<(RefKind, &str)> {
        let (what, id) = match self {
            Op::ActionPerform(op) => (RefKind::Action, op.ids.first()?),
            Op::BuildingAdd { id } | Op::BuildingRemove { id } => (RefKind::Building, id),
            Op::DevelopmentAdd { id, .. } | Op::DevelopmentRemove { id, .. } => {
                (RefKind::Development, id)
            }
            Op::PopulationAdd { role } | Op::PopulationRemove { role } => (RefKind::Role, role),
            _ => return None,
        };
        Some((what, id.as_str())).filter(|(_, id)| !id.contains('$'))
    }
}

fn passive_add(r: Reader<'_>, def: &EffectDef) -> Result<Op, Refusal> {
    let id = r.required("id")?;
    let mut triggers = OrderedMap::new();
    for (name, value) in r.params.into_iter().flatten() {
        if name.starts_with("on") && value.is_array() {
            let list: Effects = serde_json::from_value(value.clone())
                .map_err(|e| r.refuse(format!("{name}: {e}")))?;
            triggers.insert(name.as_str(), list);
        }
    }
    let skip = match r.value("skip") {
        Some(value) => Some(
            serde_json::from_value::<SkipConfig>(value.clone())
                .map_err(|e| r.refuse(format!("skip: {e}")))?,
        ),
        None => None,
    };
    Ok(Op::PassiveAdd(Box::new(PassiveOp {
        id,
        name: r.text("name"),
        icon: r.text("icon"),
        detail: r.text("detail"),
        meta: r.value("meta").cloned().map(Arc::new),
        effects: def.effects.clone().unwrap_or_default(),
        triggers,
        skip,
    })))
}

fn cost_mod(r: Reader<'_>, add: bool) -> Result<Op, Refusal> {
    let id = r.required("id")?;
    let key = r.required("key")?;
    let amount = r.num("amount");
    let percent = r.num("percent");
    if amount.is_none() && percent.is_none() {
        return Err(r.refuse("needs `amount` or `percent`"));
    }
    Ok(Op::CostMod(Box::new(CostModOp {
        add,
        id,
        action_id: r.key("actionId"),
        key,
        amount,
        percent,
    })))
}

fn result_mod(r: Reader<'_>, add: bool) -> Result<Op, Refusal> {
    let id = r.required("id")?;
    let kind = if let Some(action_id) = r.key("actionId") {
        ResultModKind::Action { action_id }
    } else {
        let Some(evaluation) = r.value("evaluation").and_then(Value::as_object) else {
            return Err(r.refuse("needs `actionId` or `evaluation`"));
        };
        let kind = evaluation
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| r.refuse("`evaluation` needs a `type`"))?;
        let target: Key = match evaluation.get("id").and_then(Value::as_str) {
            Some(target_id) => format!("{kind}:{target_id}").into(),
            None => kind.into(),
        };
        let percent = match r.value("percent") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                serde_json::from_value::<Percent>(value.clone())
                    .map_err(|e| r.refuse(format!("percent: {e}")))?,
            ),
        };
        ResultModKind::Evaluation {
            target,
            amount: r.num("amount"),
            adjust: r.num("adjust"),
            percent,
        }
    };
    Ok(Op::ResultMod(Box::new(ResultModOp { add, id, kind })))
}

fn action_perform(r: Reader<'_>) -> Result<Op, Refusal> {
    let ids: Vec<Key> = ["__actionId", "actionId", "id"]
        .iter()
        .filter_map(|n| r.key(n))
        .collect();
    if ids.is_empty() {
        return Err(r.refuse("missing action id"));
    }
    let mut forwarded = r.params.cloned().unwrap_or_default();
    forwarded.remove("__actionId");
    forwarded.remove("actionId");
    if let Some(dev) = forwarded.get("developmentId").cloned() {
        forwarded.insert("id".into(), dev);
    }
    Ok(Op::ActionPerform(Box::new(PerformOp { ids, forwarded })))
}

fn attack_perform(r: Reader<'_>) -> Op {
    let target = r.value("target").and_then(|value| {
        let kind = value.get("type")?.as_str()?;
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(Key::from);
        match kind {
            "resource" => text("key").map(AttackTarget::Resource),
            "stat" => text("key").map(AttackTarget::Stat),
            "building" => text("id").map(AttackTarget::Building),
            _ => None,
        }
    });
    let lists = r.value("onDamage").and_then(Value::as_object);
    let side = |owner: &str| {
        lists.and_then(|lists| lists.get(owner)).map(|list| {
            serde_json::from_value::<Effects>(list.clone()).map_err(|e| format!("onDamage: {e}"))
        })
    };
    Op::AttackPerform(Box::new(AttackOp {
        target,
        ignore_absorption: r.flag("ignoreAbsorption"),
        ignore_fortification: r.flag("ignoreFortification"),
        on_damage_defender: side("defender"),
        on_damage_attacker: side("attacker"),
    }))
}

impl EvalOp {
    /// Compiles an evaluator.
    pub fn compile(evaluator: &Evaluator) -> EvalOp {
        let params = evaluator.params.as_ref();
        let get = |name: &str| params.and_then(|p| p.get(name));
        let text = |name: &str| get(name).and_then(Value::as_str).map(Key::from);
        match evaluator.kind.as_str() {
            "development" => EvalOp::Development {
                id: text("id").unwrap_or_default(),
            },
            "population" => EvalOp::Population { role: text("role") },
            "stat" => EvalOp::Stat {
                key: text("key").unwrap_or_default(),
            },
            "compare" => EvalOp::Compare(Box::new(CompareOp::compile(params))),
            other => EvalOp::Unknown(other.into()),
        }
    }
}

impl CompareOp {
    /// Compiles `{left, right, operator}`.
    pub fn compile(params: Option<&Params>) -> CompareOp {
        let Some(params) = params else {
            return CompareOp::default();
        };
        let side = |name: &str| match params.get(name) {
            Some(Value::Number(n)) => Operand::Num(n.as_f64().unwrap_or(0.0)),
            Some(value @ Value::Object(_)) => {
                match serde_json::from_value::<Evaluator>(value.clone()) {
                    Ok(nested) => Operand::Eval(Box::new(EvalOp::compile(&nested))),
                    Err(e) => Operand::Malformed(e.to_string()),
                }
            }
            _ => Operand::Absent,
        };
        CompareOp {
            has_params: true,
            left: side("left"),
            right: side("right"),
            operator: params
                .get("operator")
                .and_then(Value::as_str)
                .and_then(Operator::parse),
        }
    }
}

/// `"<type>:<params.id>"` when the evaluator has an `id` param, else the type.
fn evaluation_target(evaluator: &Evaluator) -> String {
    match evaluator.params.as_ref().and_then(|p| p.get("id")) {
        Some(Value::String(id)) => format!("{}:{id}", evaluator.kind),
        Some(other) => format!("{}:{other}", evaluator.kind),
        None => evaluator.kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::content::Effect;

    fn compile(value: Value) -> Effect {
        serde_json::from_value(value).expect("an effect")
    }

    #[test]
    fn parameters_become_typed_with_the_reference_defaults() {
        let effect =
            compile(json!({"type": "resource", "method": "add", "params": {"key": "gold"}}));
        assert_eq!(
            *effect.op(),
            Op::ResourceAdd {
                key: "gold".into(),
                amount: 0.0
            }
        );
        let effect = compile(json!({"type": "land", "method": "add"}));
        assert_eq!(*effect.op(), Op::LandAdd { count: 1.0 });
    }

    #[test]
    fn a_missing_parameter_compiles_to_the_handlers_refusal() {
        let effect = compile(json!({"type": "stat", "method": "remove", "params": {}}));
        assert_eq!(
            *effect.op(),
            Op::Invalid(Box::new(("stat:add", "missing `key`".to_owned())))
        );
        let effect = compile(
            json!({"type": "cost_mod", "method": "add", "params": {"id": "x", "key": "ap"}}),
        );
        assert_eq!(
            *effect.op(),
            Op::Invalid(Box::new((
                "cost_mod:add",
                "needs `amount` or `percent`".to_owned()
            )))
        );
    }

    #[test]
    fn unknown_names_compile_to_unknown_and_serialize_as_written() {
        let written = json!({"type": "gold", "method": "print", "params": {"x": 1}});
        let effect = compile(written.clone());
        assert_eq!(*effect.op(), Op::Unknown("gold:print".into()));
        assert_eq!(serde_json::to_value(&effect).unwrap(), written);
        let group = compile(json!({"evaluator": {"type": "moon"}, "effects": []}));
        let Op::Group(group) = group.op() else {
            panic!("a group");
        };
        assert_eq!(group.eval, EvalOp::Unknown("moon".into()));
    }

    #[test]
    fn substitution_and_reversal_recompile() {
        let list: Effects = serde_json::from_value(json!([
            {"type": "development", "method": "remove", "params": {"id": "$id", "landId": "$landId"}},
            {"type": "stat", "method": "add", "params": {"key": "k", "amount": 2}}
        ]))
        .unwrap();
        let mut vars = Params::new();
        vars.insert("id".into(), json!("farm"));
        vars.insert("landId".into(), json!("A-L1"));
        let done = list.substitute(&vars);
        assert_eq!(
            *done.as_slice()[0].op(),
            Op::DevelopmentRemove {
                id: "farm".into(),
                land_id: "A-L1".into()
            }
        );
        let reversed = done.reversed();
        assert_eq!(
            *reversed.as_slice()[0].op(),
            Op::DevelopmentAdd {
                id: "farm".into(),
                land_id: Some("A-L1".into())
            }
        );
        assert!(matches!(
            reversed.as_slice()[1].op(),
            Op::StatAdd { sign, .. } if *sign == -1.0
        ));
    }

    #[test]
    fn comparisons_compile_operands_and_operators() {
        let params: Params = serde_json::from_value(json!({
            "left": {"type": "stat", "params": {"key": "maxPopulation"}},
            "right": 3,
            "operator": "gte"
        }))
        .unwrap();
        let op = CompareOp::compile(Some(&params));
        assert_eq!(op.right, Operand::Num(3.0));
        assert_eq!(
            op.left,
            Operand::Eval(Box::new(EvalOp::Stat {
                key: "maxPopulation".into()
            }))
        );
        assert_eq!(op.operator, Some(Operator::Gte));
        assert!(Operator::Gte.holds(3.0, 3.0) && !Operator::Gt.holds(3.0, 3.0));
        let mut bad = params.clone();
        bad.insert("operator".into(), json!("approx"));
        assert_eq!(CompareOp::compile(Some(&bad)).operator, None);
    }
}
