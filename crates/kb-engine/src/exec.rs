//! The execution context and the machinery every effect goes through:
//! running effect lists and evaluator groups, evaluators, modifiers,
//! passives, the resource-change hook (tiers and win conditions) and stat
//! attribution.
//!
//! A [`Ctx`] works on a scratch copy of the game state; the caller keeps the
//! copy only when the whole command succeeded, which is what makes every
//! command atomic.
//!
//! This is the lowest of the rule layers: it names no module of the rules
//! above it. Running one effect is the dispatch over every effect kind
//! (`handlers::run`), which a context receives as its [`Runner`] when it is
//! made, so effects that run effects again (passives, groups, tiers) recurse
//! through the runner, not through an import.

use serde_json::Value;

use crate::Key;
use crate::content::{
    CompareOp, Content, Effect, Effects, EvalOp, GroupOp, MAX_REPETITIONS, Operand, Params,
    WinTriggerKind,
};
use crate::error::{CompareDetails, EngineError, RequirementFailure};
use crate::num::{Num, Rounding, round_opt};
use crate::player::PlayerId;
use crate::result::{ActionTrace, AttackLog, PlayerTrace};
use crate::state::{
    Conclusion, Gain, GameState, PassiveRecord, Percent, PlayerState, StatSource, StatSourceMeta,
};

/// A stat-attribution frame: what is causing the stat changes being made.
#[derive(Clone, Debug)]
pub(crate) enum Frame {
    Start,
    Action(Key),
    Step {
        phase: Key,
        step: Key,
    },
    Passive {
        key: Key,
        id: Key,
        name: Option<String>,
    },
}

/// Whether evaluation-modifier percentages change the player's resources
/// (gains of evaluator groups and steps) or only the value read back
/// (attack power, plunder percent).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GainMode {
    ApplyToResources,
    ValueOnly,
}

/// Runs one effect: the dispatch over every effect kind. It lives above
/// this module (`handlers::run`), which is why a context is given it when
/// it is made instead of naming it: the machinery here runs effects without
/// depending on the code of any one of them.
pub(crate) type Runner = for<'c> fn(&mut Ctx<'c>, &Effect, f64) -> Result<(), EngineError>;

pub(crate) struct Ctx<'a> {
    pub content: &'a Content,
    pub state: &'a mut GameState,
    /// The player effects act for. Usually the active player; tier changes
    /// and attacks switch it temporarily.
    pub actor: PlayerId,
    pub frames: Vec<Frame>,
    /// Depth of action resolution (0 outside actions).
    pub action_depth: u32,
    pub traces: Vec<ActionTrace>,
    pub logs: Vec<AttackLog>,
    /// Positive resource gains of the step being run, for step evaluation.
    pub step_gains: Option<Vec<Gain>>,
    /// Current nesting of effects (see [`MAX_DEPTH`]).
    depth: u32,
    /// Effects run so far by this context (see [`MAX_EFFECTS`]).
    effects_run: u32,
    /// The effect dispatch.
    runner: Runner,
}

/// How deep effects may nest (effect groups, passives' setup, nested
/// actions, triggers). Content is data a client may submit: a recursive
/// action must be refused, not overflow the stack.
pub(crate) const MAX_DEPTH: u32 = 64;

/// How many effects one context (one step, one action, one query) may run.
/// Depth and repetitions are bounded one by one, but their product is not:
/// an effect repeated 1,000 times that performs an action repeating 1,000
/// more would run for hours. Content is data a client may submit, so the
/// whole work of a command is bounded too. The default content runs a few
/// dozen effects per command.
pub(crate) const MAX_EFFECTS: u32 = 100_000;

impl<'a> Ctx<'a> {
    pub fn new(content: &'a Content, state: &'a mut GameState, runner: Runner) -> Self {
        let actor = state.active;
        Ctx {
            content,
            state,
            actor,
            frames: Vec::new(),
            action_depth: 0,
            traces: Vec::new(),
            logs: Vec::new(),
            step_gains: None,
            depth: 0,
            effects_run: 0,
            runner,
        }
    }

    pub fn player(&self, id: PlayerId) -> &PlayerState {
        self.state.players.get(id)
    }

    pub fn player_mut(&mut self, id: PlayerId) -> &mut PlayerState {
        self.state.players.get_mut(id)
    }

    pub fn actor_state(&self) -> &PlayerState {
        self.player(self.actor)
    }

    /// Runs `f` with `player` as the actor, restoring the actor afterwards
    /// on every path.
    pub fn as_player<T>(
        &mut self,
        player: PlayerId,
        f: impl FnOnce(&mut Self) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let saved = std::mem::replace(&mut self.actor, player);
        let result = f(self);
        self.actor = saved;
        result
    }

    /// Runs `f` inside an attribution frame.
    pub fn in_frame<T>(
        &mut self,
        frame: Frame,
        f: impl FnOnce(&mut Self) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        self.frames.push(frame);
        let result = f(self);
        self.frames.pop();
        result
    }

    // ----- effect lists -------------------------------------------------

    /// Runs a list of effects with a multiplier.
    pub fn run_effects(&mut self, effects: &[Effect], mult: f64) -> Result<(), EngineError> {
        for effect in effects {
            self.run_effect(effect, mult)?;
        }
        Ok(())
    }

    pub fn run_effect(&mut self, effect: &Effect, mult: f64) -> Result<(), EngineError> {
        if self.depth >= MAX_DEPTH {
            return Err(EngineError::TooDeep(MAX_DEPTH));
        }
        self.effects_run += 1;
        if self.effects_run > MAX_EFFECTS {
            return Err(EngineError::TooMuchWork(MAX_EFFECTS));
        }
        self.depth += 1;
        let result = (self.runner)(self, effect, mult);
        self.depth -= 1;
        result
    }

    /// Runs an evaluator group: the evaluator's count times `mult`
    /// multiplies the nested effects, then the evaluation modifiers of the
    /// group's target apply to the gains they made.
    pub fn run_group(
        &mut self,
        group: &GroupOp,
        nested: Option<&Effects>,
        mult: f64,
    ) -> Result<(), EngineError> {
        let count = self.evaluate(&group.eval)?;
        let total = count * mult;
        if total == 0.0 {
            return Ok(());
        }
        self.state.recent_resource_gains.clear();
        if let Some(nested) = nested {
            self.run_effects(nested.as_slice(), total)?;
        }
        let gains = self.state.recent_resource_gains.clone();
        self.run_evaluation_modifiers(&group.target, gains, GainMode::ApplyToResources)?;
        Ok(())
    }

    // ----- evaluators and requirements ------------------------------------

    pub fn evaluate(&self, evaluator: &EvalOp) -> Result<f64, EngineError> {
        let player = self.actor_state();
        Ok(match evaluator {
            EvalOp::Development { id } => {
                let count = player
                    .lands
                    .iter()
                    .flat_map(|land| land.developments.iter())
                    .filter(|d| *d == id)
                    .count();
                count as f64
            }
            EvalOp::Population { role } => match role {
                Some(role) => f64::from(player.population.get(role).copied().unwrap_or(0)),
                None => f64::from(player.total_population()),
            },
            EvalOp::Stat { key } => player.stats.value(key),
            EvalOp::Compare(compare) => {
                let (left, right) = self.compare_sides(compare)?;
                f64::from(u8::from(holds(compare, left, right)))
            }
            EvalOp::Unknown(other) => {
                return Err(EngineError::invalid(
                    "evaluator",
                    format!("unknown evaluator {:?}", other.as_str()),
                ));
            }
        })
    }

    fn compare_sides(&self, compare: &CompareOp) -> Result<(f64, f64), EngineError> {
        let side = |operand: &Operand| -> Result<f64, EngineError> {
            match operand {
                Operand::Num(n) => Ok(*n),
                Operand::Eval(nested) => self.evaluate(nested),
                Operand::Malformed(message) => {
                    Err(EngineError::invalid("evaluator:compare", message.clone()))
                }
                Operand::Absent => Ok(0.0),
            }
        };
        Ok((side(&compare.left)?, side(&compare.right)?))
    }

    /// Checks a requirement; `Some(failure)` when it does not hold.
    pub fn check_requirement(
        &self,
        requirement: &crate::content::RequirementDef,
    ) -> Result<Option<RequirementFailure>, EngineError> {
        let compare = requirement.compare();
        let (left, right) = self.compare_sides(compare)?;
        if holds(compare, left, right) {
            return Ok(None);
        }
        Ok(Some(RequirementFailure {
            requirement: requirement.clone(),
            details: CompareDetails {
                left: Num(left),
                right: Num(right),
            },
            message: requirement.message.clone(),
        }))
    }

    // ----- resources, the change hook, tiers, win conditions --------------

    /// Sets a resource of `player` (clamped to its lower bound) and runs the
    /// resource-change hook.
    pub fn set_resource(
        &mut self,
        player: PlayerId,
        key: &str,
        value: f64,
    ) -> Result<(), EngineError> {
        let value = match self.content.lower_bound(key) {
            Some(bound) if value < bound => bound,
            _ => finite(key, value)?,
        };
        self.player_mut(player).resources.set(key, value);
        self.resource_changed(player, key)
    }

    /// Adds `amount` of `key` to the actor: the body of `resource:add`.
    ///
    /// The sum is not clamped at zero: adding to a negative balance adds
    /// (PRODUCT.md Q5; the reference lifted any negative balance to 0). The
    /// resource's lower bound, if it has one, still holds.
    pub fn add_resource(
        &mut self,
        key: &str,
        amount: f64,
        round: Option<Rounding>,
    ) -> Result<(), EngineError> {
        let total = round_opt(amount, round);
        let player = self.actor;
        let current = self.player(player).resources.value(key);
        if total > 0.0 {
            self.record_gain(key, total);
        }
        self.set_resource(player, key, current + total)
    }

    /// Records a positive gain (for evaluator groups and step evaluation).
    pub fn record_gain(&mut self, key: &str, amount: f64) {
        let gain = Gain {
            key: key.into(),
            amount: Num(amount),
        };
        if let Some(step_gains) = &mut self.step_gains {
            step_gains.push(gain.clone());
        }
        self.state.recent_resource_gains.push(gain);
    }

    /// The resource-change hook: recompute the tier, check win conditions.
    pub fn resource_changed(&mut self, player: PlayerId, key: &str) -> Result<(), EngineError> {
        if key == self.content.rules().tiered_resource_key {
            self.update_tier(player)?;
        }
        self.check_win_conditions(player, key);
        Ok(())
    }

    fn update_tier(&mut self, player: PlayerId) -> Result<(), EngineError> {
        let rules = self.content.rules();
        let value = self
            .player(player)
            .resources
            .value(&rules.tiered_resource_key);
        let new = tier_for(rules, value).map(|i| rules.tier_definitions[i].id.clone());
        if new == *self.state.tiers.get(player) {
            return Ok(());
        }
        let old = std::mem::replace(self.state.tiers.get_mut(player), new.clone());
        let find = |id: &Option<Key>| {
            id.as_ref()
                .and_then(|id| rules.tier_definitions.iter().find(|t| t.id == *id))
        };
        self.as_player(player, |ctx| {
            if let Some(exit) = find(&old).and_then(|t| t.exit_effects.as_ref()) {
                ctx.run_effects(exit.as_slice(), 1.0)?;
            }
            if let Some(enter) = find(&new).and_then(|t| t.enter_effects.as_ref()) {
                ctx.run_effects(enter.as_slice(), 1.0)?;
            }
            Ok(())
        })
    }

    /// Ends the game when a win condition on `key` holds for `subject`.
    pub fn check_win_conditions(&mut self, subject: PlayerId, key: &str) {
        if self.state.conclusion.is_some() {
            return;
        }
        for condition in &self.content.rules().win_conditions {
            let trigger = &condition.trigger;
            if trigger.kind != WinTriggerKind::Resource || trigger.key != key {
                continue;
            }
            let whose = match trigger.target {
                Some(crate::content::WinTarget::Opponent) => subject.other(),
                _ => subject,
            };
            let value = self.player(whose).resources.value(key);
            if !trigger_holds(trigger, value) {
                continue;
            }
            let conclusion = conclusion_for(condition, subject)
                .or_else(|| decided_by_score(condition, self.state, subject));
            if let Some(conclusion) = conclusion {
                self.state.conclusion = Some(conclusion);
                return;
            }
        }
    }

    // ----- stats and attribution ----------------------------------------

    /// Sets a stat of the actor (clamped at 0) and attributes the change.
    pub fn set_stat(&mut self, key: &str, value: f64) -> Result<(), EngineError> {
        let player = self.actor;
        let value = finite(key, value)?.max(0.0);
        let before = self.player(player).stats.value(key);
        let state = self.player_mut(player);
        state.stats.set(key, value);
        if value != 0.0 && !state.stats_history.iter().any(|k| k == key) {
            state.stats_history.push(key.into());
        }
        let delta = value - before;
        if delta != 0.0 {
            self.attribute(player, key, delta);
        }
        Ok(())
    }

    fn attribute(&mut self, player: PlayerId, stat: &str, delta: f64) {
        let meta = match self.frames.last() {
            None | Some(Frame::Start) => StatSourceMeta {
                key: "start:setup".into(),
                longevity: "permanent".into(),
                kind: "start".into(),
                id: None,
                detail: Some("Initial setup".into()),
            },
            Some(Frame::Action(id)) => StatSourceMeta {
                key: format!("action:{id}:{stat}").into(),
                longevity: "permanent".into(),
                kind: "action".into(),
                id: Some(id.clone()),
                detail: Some("Resolution".into()),
            },
            Some(Frame::Step { phase, step }) => StatSourceMeta {
                key: format!("phase:{phase}:{step}:{stat}").into(),
                longevity: "permanent".into(),
                kind: "phase".into(),
                id: Some(step.clone()),
                detail: None,
            },
            Some(Frame::Passive { key, id, name }) => StatSourceMeta {
                key: format!("passive:{key}:{stat}").into(),
                longevity: "ongoing".into(),
                kind: "passive".into(),
                id: Some(id.clone()),
                detail: Some(name.clone().unwrap_or_else(|| "Passive".into())),
            },
        };
        let sources = self
            .player_mut(player)
            .stat_sources
            .entry_or_insert_with(stat, Default::default);
        let entry = sources.entry_or_insert_with(&meta.key.clone(), || StatSource {
            amount: Num(0.0),
            meta: std::sync::Arc::new(meta),
        });
        entry.amount.0 += delta;
        if entry.amount.0.abs() < 1e-9 {
            let key = entry.meta.key.clone();
            sources.remove(&key);
        }
        let player_state = self.player_mut(player);
        player_state.stat_sources.retain(|_, s| !s.is_empty());
    }

    // ----- passives --------------------------------------------------------

    /// Adds a passive for `record.owner` (the actor) and runs its setup.
    pub fn add_passive(&mut self, record: PassiveRecord) -> Result<(), EngineError> {
        let owner = record.owner;
        if let Some(skip) = &record.skip {
            let player = self.player_mut(owner);
            for phase in &skip.phases {
                player
                    .skip_phases
                    .entry_or_insert_with(phase, Vec::new)
                    .push(record.id.clone());
            }
            for step in &skip.steps {
                player
                    .skip_steps
                    .entry_or_insert_with(&step.phase_id, Default::default)
                    .entry_or_insert_with(&step.step_id, Vec::new)
                    .push(record.id.clone());
            }
        }
        let setup = record.effects.clone();
        let frame = passive_frame(&record);
        self.state.passives.push(record);
        self.as_player(owner, |ctx| {
            ctx.in_frame(frame, |ctx| ctx.run_effects(setup.as_slice(), 1.0))
        })
    }

    /// Removes the most recent passive `id` of `owner`, reversing its setup.
    /// A missing passive is not an error.
    pub fn remove_passive(&mut self, owner: PlayerId, id: &str) -> Result<(), EngineError> {
        let Some(index) = self
            .state
            .passives
            .iter()
            .rposition(|p| p.owner == owner && p.id == id)
        else {
            return Ok(());
        };
        let record = self.state.passives.remove(index);
        if let Some(skip) = &record.skip {
            let player = self.player_mut(owner);
            for phase in &skip.phases {
                if let Some(sources) = player.skip_phases.get_mut(phase) {
                    remove_one(sources, &record.id);
                }
            }
            player.skip_phases.retain(|_, sources| !sources.is_empty());
            for step in &skip.steps {
                if let Some(steps) = player.skip_steps.get_mut(&step.phase_id) {
                    if let Some(sources) = steps.get_mut(&step.step_id) {
                        remove_one(sources, &record.id);
                    }
                    steps.retain(|_, sources| !sources.is_empty());
                }
            }
            player.skip_steps.retain(|_, steps| !steps.is_empty());
        }
        let reversed = record.effects.reversed();
        let frame = passive_frame(&record);
        self.as_player(owner, |ctx| {
            ctx.in_frame(frame, |ctx| ctx.run_effects(reversed.as_slice(), 1.0))
        })
    }

    // ----- modifiers ---------------------------------------------------------

    /// Runs the result modifiers registered for `id` (an action or a step)
    /// that belong to the actor.
    pub fn run_result_modifiers(&mut self, id: &str) -> Result<(), EngineError> {
        let matching: Vec<Effects> = self
            .state
            .result_modifiers
            .iter()
            .filter(|m| m.owner == self.actor && m.action_id == id)
            .map(|m| m.effects.clone())
            .collect();
        for effects in matching {
            self.run_effects(effects.as_slice(), 1.0)?;
        }
        Ok(())
    }

    /// Passes `gains` through the evaluation modifiers of `target` owned by
    /// the actor, and returns the adjusted gains. In
    /// [`GainMode::ApplyToResources`] percentage changes are also applied to
    /// the actor's resources (PRODUCT.md Q3: income modifiers work).
    pub fn run_evaluation_modifiers(
        &mut self,
        target: &str,
        mut gains: Vec<Gain>,
        mode: GainMode,
    ) -> Result<Vec<Gain>, EngineError> {
        let matching: Vec<_> = self
            .state
            .evaluation_modifiers
            .iter()
            .filter(|m| m.owner == self.actor && m.matches(target))
            .cloned()
            .collect();
        if matching.is_empty() {
            return Ok(gains);
        }
        let mut global_pct = 0.0;
        let mut key_pct: Vec<(Key, f64)> = Vec::new();
        let mut rounding: Option<Rounding> = None;
        let mut any_pct = false;
        for modifier in &matching {
            if let Some(effects) = &modifier.effects {
                self.run_effects(effects.as_slice(), 1.0)?;
            }
            if let Some(adjust) = modifier.adjust {
                for gain in &mut gains {
                    gain.amount.0 += adjust;
                }
            }
            if let Some(amount) = modifier.amount {
                let positive: Vec<Key> = gains
                    .iter()
                    .filter(|g| g.amount.0 > 0.0)
                    .map(|g| g.key.clone())
                    .collect();
                for key in positive {
                    self.add_resource(&key, amount, None)?;
                }
            }
            if let Some(percent) = &modifier.percent {
                any_pct = true;
                match percent {
                    Percent::All(p) => global_pct += p,
                    Percent::PerKey(map) => {
                        for (key, p) in map.iter() {
                            match key_pct.iter_mut().find(|(k, _)| k == key) {
                                Some((_, total)) => *total += p.0,
                                None => key_pct.push((key.clone(), p.0)),
                            }
                        }
                    }
                }
                if modifier.round.is_some() {
                    rounding = modifier.round;
                }
            }
        }
        if any_pct {
            for gain in &mut gains {
                let pct = global_pct
                    + key_pct
                        .iter()
                        .find(|(k, _)| *k == gain.key)
                        .map_or(0.0, |(_, p)| *p);
                let extra = round_opt(gain.amount.0 * pct, rounding);
                gain.amount.0 += extra;
                if mode == GainMode::ApplyToResources && extra != 0.0 {
                    let player = self.actor;
                    let current = self.player(player).resources.value(&gain.key);
                    self.set_resource(player, &gain.key, current + extra)?;
                }
            }
        }
        Ok(gains)
    }

    // ----- traces -------------------------------------------------------------

    pub fn trace_of(&self, player: PlayerId) -> PlayerTrace {
        PlayerTrace::of(self.state, player)
    }
}

/// The largest magnitude a game value takes. Values beyond it (content that
/// multiplies huge numbers, or centuries of exponential army growth) are
/// clamped: a game must stay playable and its state must survive JSON, which
/// cannot hold infinity. Far above anything a game reaches, and within the
/// integers JavaScript clients represent exactly.
pub const MAX_GAME_VALUE: f64 = 1e15;

/// `value` clamped to ±[`MAX_GAME_VALUE`]; refused when it is not a number
/// at all.
pub(crate) fn finite(key: &str, value: f64) -> Result<f64, EngineError> {
    if value.is_nan() {
        return Err(EngineError::OutOfRange(key.into()));
    }
    Ok(value.clamp(-MAX_GAME_VALUE, MAX_GAME_VALUE))
}

fn holds(compare: &CompareOp, left: f64, right: f64) -> bool {
    compare.operator.is_some_and(|op| op.holds(left, right))
}

/// The tier index for `value`: the last tier whose range holds it, scanning
/// up to the first tier whose minimum is above it. A value below every
/// minimum falls in the lowest tier (PRODUCT.md Q8: Despair covers every
/// happiness ≤ −10; the reference gave such values no tier at all).
pub(crate) fn tier_for(rules: &crate::content::RulesDef, value: f64) -> Option<usize> {
    let tiers = &rules.tier_definitions;
    let mut found = None;
    for (i, tier) in tiers.iter().enumerate() {
        if tier.range.min.is_some_and(|min| value < min) {
            break;
        }
        if tier.range.max.is_some_and(|max| value > max) {
            continue;
        }
        found = Some(i);
    }
    if found.is_none()
        && tiers
            .first()
            .and_then(|t| t.range.min)
            .is_some_and(|min| value < min)
    {
        found = Some(0);
    }
    found
}

/// Whether a `resource` win trigger's comparison holds for `value`.
pub(crate) fn trigger_holds(trigger: &crate::content::WinTrigger, value: f64) -> bool {
    use crate::content::Comparison;
    let threshold = trigger.value.unwrap_or(0.0);
    match trigger.comparison {
        Some(Comparison::Lt) => value < threshold,
        Some(Comparison::Lte) => value <= threshold,
        Some(Comparison::Gt) => value > threshold,
        Some(Comparison::Gte) => value >= threshold,
        None => false,
    }
}

pub(crate) fn conclusion_for(
    condition: &crate::content::WinConditionDef,
    subject: PlayerId,
) -> Option<Conclusion> {
    use crate::content::WinOutcome;
    let winner = if condition.result.subject == WinOutcome::Victory {
        subject
    } else if condition.result.opponent == Some(WinOutcome::Victory) {
        subject.other()
    } else {
        return None;
    };
    Some(Conclusion {
        condition_id: condition.id.clone(),
        winner_id: winner,
        loser_id: winner.other(),
        triggered_by: subject,
    })
}

/// The conclusion of a condition decided by score: the higher weighted sum
/// of resources wins; a tie goes to the side the score's `tie` names.
fn decided_by_score(
    condition: &crate::content::WinConditionDef,
    state: &GameState,
    subject: PlayerId,
) -> Option<Conclusion> {
    let score = condition.score.as_ref()?;
    let total = |player: PlayerId| -> f64 {
        let resources = &state.players.get(player).resources;
        score
            .terms
            .iter()
            .map(|t| t.weight * resources.value(&t.key))
            .sum()
    };
    let (mine, theirs) = (total(subject), total(subject.other()));
    let winner = if mine > theirs {
        subject
    } else if theirs > mine {
        subject.other()
    } else {
        match score.tie {
            crate::content::WinTie::Subject => subject,
            crate::content::WinTie::Opponent => subject.other(),
        }
    };
    Some(Conclusion {
        condition_id: condition.id.clone(),
        winner_id: winner,
        loser_id: winner.other(),
        triggered_by: subject,
    })
}

/// `floor(mult)` repetitions, as the reference counts iterations, refused
/// beyond [`MAX_REPETITIONS`].
pub(crate) fn repetitions(handler: &str, mult: f64) -> Result<u32, EngineError> {
    // NaN and non-positive multipliers repeat nothing.
    if mult.is_nan() || mult <= 0.0 {
        return Ok(0);
    }
    if mult.floor() > f64::from(MAX_REPETITIONS) {
        return Err(EngineError::TooMany {
            handler: handler.to_owned(),
            count: mult.floor(),
            limit: MAX_REPETITIONS,
        });
    }
    Ok(mult.floor() as u32)
}

/// The placeholders of a development's lists (`$id`, `$landId`).
pub(crate) fn development_vars(id: &str, land_id: &str) -> Params {
    let mut vars = Params::new();
    vars.insert("id".into(), Value::String(id.into()));
    vars.insert("landId".into(), Value::String(land_id.into()));
    vars
}

/// The attribution frame of a passive's effects (its setup, its reversal
/// and its trigger bundles).
pub(crate) fn passive_frame(record: &PassiveRecord) -> Frame {
    Frame::Passive {
        key: format!("{}_{}", record.id, record.owner).into(),
        id: record.id.clone(),
        name: record.name.clone(),
    }
}

fn remove_one(list: &mut Vec<Key>, id: &str) {
    if let Some(pos) = list.iter().rposition(|k| k == id) {
        list.remove(pos);
    }
}
