//! Compiled effects: the typed form of every effect kind ([`Op`]), of
//! evaluators ([`EvalOp`]), of comparisons and requirements ([`CompareOp`],
//! [`Operator`]) and of win triggers.
//!
//! Content arrives as JSON in the reference schema; each effect is compiled
//! into an [`Op`] once, when it is loaded (or when placeholders are
//! substituted into it, or it is reversed), so commands never read JSON
//! parameters. The effect kinds are defined once, in the table of
//! `kinds.rs`; this file expands it into the [`Op`] enum, the parameter
//! structs, the parse dispatch ([`Op::compile`]), the methods of the
//! reversal ([`reversed_method`]) and the reference checks
//! ([`Op::reference`]). `handlers.rs` expands the same table into the run
//! dispatch, an exhaustive `match` on [`Op`].
//!
//! Compiling never fails: an effect whose parameters the handler would
//! refuse compiles to [`Op::Invalid`], which refuses with the handler's
//! message when (and only when) it runs, as before; unknown handlers and
//! evaluators compile to `Unknown` variants, which content validation
//! reports with the entry's path.

use std::cell::Cell;
use std::sync::Arc;

use serde_json::Value;

use super::def::{Percent, SkipConfig};
use super::effect::{EffectDef, Effects, Evaluator, Params};
use super::kinds::effect_kinds;
pub use super::kinds::{AttackTarget, ResultModKind};
use crate::Key;
use crate::map::OrderedMap;

/// The most repetitions one effect may ask for (`land:add` with a count,
/// an evaluator multiplying a nested action...). Content is data a client
/// may submit; a command must stay cheap.
pub const MAX_REPETITIONS: u32 = 1000;

/// Expands the table of `kinds.rs` into the content layer's part of every
/// kind: its parameter struct, its `Op` variant, its parse arm, the method
/// of its reversal and its reference check (the `run` blocks are left to
/// `handlers.rs`).
macro_rules! define_ops {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($payload:ty) = $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident: $fty:ty, )*
        }
        names [$( ($kind:literal, $method:literal) => $reversal:literal ),+ $(,)?]
        parse($r:ident, $def:ident, $m:ident) $parse:block
        run($ctx:ident, $op:ident, $effect:ident, $mult:ident) $run:block
        refers($rop:ident) $refers:block
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Clone, Debug, PartialEq)]
            pub struct $name {
                $( $(#[doc = $fdoc])* pub $field: $fty, )*
            }
        )*

        /// One compiled effect: a kind of the table in `kinds.rs`, or one of
        /// the forms that are not a kind (nothing, a group, an unknown or
        /// refused handler).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Op {
            /// Neither `type` nor `method`: does nothing.
            Nothing,
            /// Only one of `type` and `method`: does nothing when run;
            /// content validation refuses it.
            Incomplete,
            /// `type:method` names no handler: refused when run and by
            /// validation.
            Unknown(Box<str>),
            /// A handler whose parameters it refuses (`handler`, `message`).
            Invalid(Box<(&'static str, String)>),
            /// An evaluator group: the evaluator's count multiplies the
            /// nested effects; evaluation modifiers of `target` then apply
            /// to the gains.
            Group(Box<GroupOp>),
            $( $(#[doc = $doc])* $variant($payload), )*
        }

        /// Compiles the kind `kind:method` names, or `None` when it names
        /// no kind.
        fn compile_kind(kind: &str, method: &str, def: &EffectDef) -> Option<Result<Op, Refusal>> {
            let params = def.params.as_ref();
            Some(match (kind, method) {
                $($(
                    ($kind, $method) => {
                        #[allow(unused_variables)]
                        fn parse(
                            $r: Reader<'_>,
                            $def: &EffectDef,
                            $m: &str,
                        ) -> Result<$name, Refusal> $parse
                        let mistyped = Cell::new(None);
                        let reader = Reader {
                            handler: concat!($kind, ":", $method),
                            params,
                            mistyped: &mistyped,
                        };
                        let parsed = parse(reader, def, method);
                        match mistyped.take() {
                            Some(name) => Err(Box::new((
                                concat!($kind, ":", $method),
                                format!("`{name}` must be a number"),
                            ))),
                            None => parsed.map(|kind| Op::$variant(kind.into())),
                        }
                    }
                )+)*
                _ => return None,
            })
        }

        /// Every `(type, method)` that names a kind, in table order.
        #[cfg(test)]
        const KIND_NAMES: &[(&str, &str)] = &[$($( ($kind, $method), )+)*];

        /// The method of the reversal of `kind:method` (what undoing a
        /// passive's setup runs), as its kind declares it; `None` when it
        /// names no kind.
        pub fn reversed_method(kind: &str, method: &str) -> Option<&'static str> {
            match (kind, method) {
                $($( ($kind, $method) => Some($reversal), )+)*
                _ => None,
            }
        }

        /// The registry entry a kind names, placeholders included.
        fn kind_reference(op: &Op) -> Option<(RefKind, &Key)> {
            match op {
                $( Op::$variant($rop) => {
                    let _ = &$rop;
                    $refers
                } )*
                Op::Nothing
                | Op::Incomplete
                | Op::Unknown(_)
                | Op::Invalid(_)
                | Op::Group(_) => None,
            }
        }
    };
}

effect_kinds!(define_ops);

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
/// handler's `missing `name`` refusal, and a number given as anything but
/// a number (or a `$placeholder`, filled in when the effect runs) its
/// `` `name` must be a number `` refusal.
struct Reader<'a> {
    handler: &'static str,
    params: Option<&'a Params>,
    /// The first number parameter found with another type.
    mistyped: &'a Cell<Option<String>>,
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
        let value = self.value(name)?;
        let number = value.as_f64();
        let placeholder = value.as_str().is_some_and(|text| text.contains('$'));
        if number.is_none() && !value.is_null() && !placeholder {
            let first = self.mistyped.take().unwrap_or_else(|| name.to_owned());
            self.mistyped.set(Some(first));
        }
        number
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

    /// The same parameters, refused under another handler name.
    fn named(&self, handler: &'static str) -> Reader<'a> {
        Reader {
            handler,
            params: self.params,
            mistyped: self.mistyped,
        }
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
        match compile_kind(kind, method, def) {
            Some(result) => result.unwrap_or_else(Op::Invalid),
            None => Op::Unknown(format!("{kind}:{method}").into()),
        }
    }

    /// The literal (placeholder-free) id this effect refers to, and the
    /// registry it must name, for reference checks.
    pub fn reference(&self) -> Option<(RefKind, &str)> {
        let (what, id) = kind_reference(self)?;
        Some((what, id.as_str())).filter(|(_, id)| !id.contains('$'))
    }
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
            Some(value @ Value::Object(_)) => match Evaluator::from_json(value) {
                Ok(nested) => Operand::Eval(Box::new(EvalOp::compile(&nested))),
                Err(e) => Operand::Malformed(e),
            },
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
    use crate::content::{Effect, EffectDef};

    fn compile(value: Value) -> Effect {
        Effect::new(EffectDef::from_json(&value).expect("an effect"))
    }

    #[test]
    fn parameters_become_typed_with_the_reference_defaults() {
        let effect =
            compile(json!({"type": "resource", "method": "add", "params": {"key": "gold"}}));
        assert_eq!(
            *effect.op(),
            Op::ResourceAdd(ResourceAdd {
                key: "gold".into(),
                amount: 0.0
            })
        );
        let effect = compile(json!({"type": "land", "method": "add"}));
        assert_eq!(*effect.op(), Op::LandAdd(LandAdd { count: 1.0 }));
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
    fn unknown_names_compile_to_unknown_and_keep_the_definition() {
        let written = json!({"type": "gold", "method": "print", "params": {"x": 1}});
        let effect = compile(written.clone());
        assert_eq!(*effect.op(), Op::Unknown("gold:print".into()));
        assert_eq!(effect.kind.as_deref(), Some("gold"));
        assert_eq!(effect.method.as_deref(), Some("print"));
        assert_eq!(effect.params, written["params"].as_object().cloned());
        let group = compile(json!({"evaluator": {"type": "moon"}, "effects": []}));
        let Op::Group(group) = group.op() else {
            panic!("a group");
        };
        assert_eq!(group.eval, EvalOp::Unknown("moon".into()));
    }

    #[test]
    fn substitution_and_reversal_recompile() {
        let list = Effects::from_json(&json!([
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
            Op::DevelopmentRemove(DevelopmentRemove {
                id: "farm".into(),
                land_id: "A-L1".into()
            })
        );
        let reversed = done.reversed();
        assert_eq!(
            *reversed.as_slice()[0].op(),
            Op::DevelopmentAdd(DevelopmentAdd {
                id: "farm".into(),
                land_id: Some("A-L1".into())
            })
        );
        assert!(matches!(
            reversed.as_slice()[1].op(),
            Op::StatAdd(StatAdd { sign, .. }) if *sign == -1.0
        ));
    }

    /// The reference's handlers: each must stay a kind of the table.
    const REFERENCE_HANDLERS: [&str; 24] = [
        "resource:add",
        "resource:remove",
        "resource:transfer",
        "stat:add",
        "stat:remove",
        "stat:add_pct",
        "land:add",
        "land:till",
        "development:add",
        "development:remove",
        "building:add",
        "building:remove",
        "passive:add",
        "passive:remove",
        "cost_mod:add",
        "cost_mod:remove",
        "result_mod:add",
        "result_mod:remove",
        "population:add",
        "population:remove",
        "action:add",
        "action:remove",
        "action:perform",
        "attack:perform",
    ];

    #[test]
    fn every_kind_name_compiles_to_a_kind() {
        let names: Vec<String> = KIND_NAMES.iter().map(|(k, m)| format!("{k}:{m}")).collect();
        for handler in REFERENCE_HANDLERS {
            assert!(names.iter().any(|n| n == handler), "{handler} is no kind");
        }
        for (kind, method) in KIND_NAMES {
            let effect = compile(json!({"type": kind, "method": method, "params": {}}));
            assert!(
                !matches!(effect.op(), Op::Unknown(_) | Op::Nothing | Op::Incomplete),
                "{kind}:{method} compiled to {:?}",
                effect.op()
            );
        }
    }

    #[test]
    fn every_kind_declares_the_reversal_the_reference_made() {
        // Undoing a passive's setup swapped `add` and `remove` for every
        // handler; the table's declared reversals keep that exactly.
        for (kind, method) in KIND_NAMES {
            assert_eq!(
                reversed_method(kind, method),
                Some(super::super::effect::swap_add_remove(method)),
                "{kind}:{method}"
            );
        }
        assert_eq!(reversed_method("gold", "add"), None);
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
