//! `advance`: run one step of the active player's turn (or skip it) and
//! move the pointer, game-rules §1.4, with the rules PRODUCT.md adds:
//!
//! * leaving an action phase forfeits the player's unspent AP;
//! * gains of a step are evaluated as target `step:<stepId>`, so income
//!   modifiers change the income actually received (Q3);
//! * a player who cannot pay upkeep is bankrupt and loses (Q10): the step is
//!   undone and the game ends with the win condition that declares it, a
//!   resource condition that holds for the balance the unpaid upkeep would
//!   leave (the default content's `bankruptcy`: gold below 0).

use crate::Key;
use crate::content::{Effect, WinTriggerKind};
use crate::error::EngineError;
use crate::exec::{Ctx, Frame, GainMode, conclusion_for, trigger_holds};
use crate::num::Num;
use crate::player::PlayerId;
use crate::result::{AdvanceResult, SkipInfo, SkipSource};
use crate::snapshot::PlayerSnapshot;
use crate::state::{Gain, GameState};
use crate::triggers::{self, Bundle};

/// How an advance ended.
pub(crate) enum Advanced {
    /// The step ran (or was skipped) and the pointer moved.
    Done(AdvanceResult),
    /// The player could not pay upkeep, which makes them lose by the win
    /// condition numbered `condition`; the caller restores the state from
    /// before the step and records the conclusion.
    Bankrupt {
        player: PlayerId,
        condition: usize,
        result: AdvanceResult,
    },
}

pub(crate) fn advance(ctx: &mut Ctx<'_>) -> Result<Advanced, EngineError> {
    if ctx.state.conclusion.is_some() {
        return Err(EngineError::GameConcluded);
    }
    let content = ctx.content;
    let phase = &content.phases()[ctx.state.phase_index];
    let step = &phase.steps[ctx.state.step_index];
    let player = ctx.state.active;
    ctx.actor = player;

    let state = ctx.player(player);
    let phase_skip = state
        .skip_phases
        .get(&phase.id)
        .filter(|sources| !sources.is_empty())
        .cloned();
    let step_skip = state
        .skip_steps
        .get(&phase.id)
        .and_then(|steps| steps.get(&step.id))
        .filter(|sources| !sources.is_empty())
        .cloned();
    let skipped = match (phase_skip, step_skip) {
        (Some(sources), _) => Some(skip_info(ctx, "phase", &phase.id, None, &sources, player)),
        (None, Some(sources)) => Some(skip_info(
            ctx,
            "step",
            &phase.id,
            Some(&step.id),
            &sources,
            player,
        )),
        (None, None) => None,
    };

    let mut effects: Vec<Effect> = Vec::new();
    if skipped.is_none() {
        let frame = Frame::Step {
            phase: phase.id.clone(),
            step: step.id.clone(),
        };
        ctx.step_gains = Some(Vec::new());
        let ran = ctx.in_frame(frame, |ctx| {
            for trigger in &step.triggers {
                let bundles: Vec<Bundle> = triggers::collect(ctx, trigger, player);
                for bundle in &bundles {
                    match triggers::run_bundle(ctx, bundle, Some(&mut effects)) {
                        Err(EngineError::Insufficient { key, need, have }) if bundle.upkeep => {
                            match bankruptcy_condition(ctx.content, &key, have - need) {
                                Some(condition) => return Ok(Some(condition)),
                                None => return Err(EngineError::Insufficient { key, need, have }),
                            }
                        }
                        other => other?,
                    }
                }
            }
            if let Some(list) = &step.effects {
                effects.extend(list.iter().cloned());
                ctx.run_effects(list.as_slice(), 1.0)?;
            }
            let gains = aggregate(ctx.step_gains.take().unwrap_or_default());
            ctx.run_evaluation_modifiers(
                &format!("step:{}", step.id),
                gains,
                GainMode::ApplyToResources,
            )?;
            ctx.run_result_modifiers(&step.id)?;
            Ok(None)
        });
        ctx.step_gains = None;
        if let Some(condition) = ran? {
            let result = AdvanceResult {
                phase: phase.id.clone(),
                step: step.id.clone(),
                effects,
                player: Box::new(PlayerSnapshot::of(content, ctx.state, player)),
                skipped: None,
            };
            return Ok(Advanced::Bankrupt {
                player,
                condition,
                result,
            });
        }
    }

    let leaves_phase = skipped.as_ref().is_some_and(|s| s.kind == "phase")
        || ctx.state.step_index + 1 >= phase.steps.len();
    if leaves_phase && phase.action {
        forfeit_action_points(ctx, player)?;
    }
    let result = AdvanceResult {
        phase: phase.id.clone(),
        step: step.id.clone(),
        effects,
        player: Box::new(PlayerSnapshot::of(content, ctx.state, player)),
        skipped,
    };
    move_pointer(ctx.state, content.phases().len(), leaves_phase);
    Ok(Advanced::Done(result))
}

/// Records the conclusion of win condition number `condition`, which made
/// `player` bankrupt, on `state`.
pub(crate) fn declare_bankrupt(
    content: &crate::content::Content,
    state: &mut GameState,
    player: PlayerId,
    condition: usize,
) {
    let condition = content.rules().win_conditions.get(condition);
    if let Some(conclusion) = condition.and_then(|c| conclusion_for(c, player)) {
        state.conclusion = Some(conclusion);
    }
}

/// The win condition (by number) that an upkeep payment in `key`, unpaid,
/// makes its payer lose by: a `resource` condition on the payer's own `key`
/// that holds for `balance`, what the payment would leave (the reference's
/// shape; the default content's `bankruptcy` is `gold < 0`), or a
/// `bankruptcy` trigger on `key` (how content stored before said it).
fn bankruptcy_condition(
    content: &crate::content::Content,
    key: &str,
    balance: f64,
) -> Option<usize> {
    content.rules().win_conditions.iter().position(|c| {
        let trigger = &c.trigger;
        trigger.key == key
            && match &trigger.kind {
                WinTriggerKind::Bankruptcy => true,
                WinTriggerKind::Resource => {
                    trigger.target != Some(crate::content::WinTarget::Opponent)
                        && trigger_holds(trigger, balance)
                }
                WinTriggerKind::Unknown(_) => false,
            }
    })
}

fn forfeit_action_points(ctx: &mut Ctx<'_>, player: PlayerId) -> Result<(), EngineError> {
    let ap = ctx.content.action_cost_resource();
    if ap.is_empty() {
        return Ok(());
    }
    if ctx.player(player).resources.value(ap) > 0.0 {
        ctx.set_resource(player, ap, 0.0)?;
    }
    Ok(())
}

fn move_pointer(state: &mut GameState, n_phases: usize, leaves_phase: bool) {
    state.add_pct.entries.clear();
    if !leaves_phase {
        state.step_index += 1;
        return;
    }
    state.step_index = 0;
    state.phase_index += 1;
    if state.phase_index >= n_phases {
        state.phase_index = 0;
        if state.active == PlayerId::B {
            state.active = PlayerId::A;
            state.turn = state.turn.saturating_add(1);
        } else {
            state.active = PlayerId::B;
        }
    }
}

/// Sums gains per key, in first-seen order.
fn aggregate(gains: Vec<Gain>) -> Vec<Gain> {
    let mut out: Vec<Gain> = Vec::new();
    for gain in gains {
        match out.iter_mut().find(|g| g.key == gain.key) {
            Some(existing) => existing.amount = Num(existing.amount.0 + gain.amount.0),
            None => out.push(gain),
        }
    }
    out
}

fn skip_info(
    ctx: &Ctx<'_>,
    kind: &str,
    phase: &Key,
    step: Option<&Key>,
    sources: &[Key],
    player: PlayerId,
) -> SkipInfo {
    let mut seen: Vec<&Key> = Vec::new();
    let sources = sources
        .iter()
        .filter(|id| {
            let fresh = !seen.contains(id);
            seen.push(id);
            fresh
        })
        .map(|id| {
            let record = ctx
                .state
                .passives
                .iter()
                .rev()
                .find(|p| p.owner == player && p.id == *id);
            SkipSource {
                id: id.clone(),
                detail: record.and_then(|r| r.detail.clone()),
                meta: record.and_then(|r| r.meta.clone()),
            }
        })
        .collect();
    SkipInfo {
        kind: kind.into(),
        phase_id: phase.clone(),
        step_id: step.cloned(),
        sources,
    }
}
