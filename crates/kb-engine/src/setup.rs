//! Building the initial state of a game from content (game-rules §4.3),
//! with start population and start developments running their normal hooks
//! (PRODUCT.md Q11) and per-player overrides honoured in full (Q22).

use crate::content::{Content, triggers};
use crate::error::EngineError;
use crate::exec::{Ctx, Frame};
use crate::handlers::{self, assign_member, place_development};
use crate::map::OrderedMap;
use crate::player::{ByPlayer, PlayerId};
use crate::state::{AddPctCache, GameState, Land, PlayerState};

/// Default display names.
pub(crate) fn default_name(player: PlayerId) -> &'static str {
    match player {
        PlayerId::A => "Player",
        PlayerId::B => "Opponent",
    }
}

pub(crate) fn initial_state(
    content: &Content,
    dev_mode: bool,
    ai: ByPlayer<bool>,
) -> Result<GameState, EngineError> {
    let starts = content.start(dev_mode);
    let mut state = GameState {
        turn: 1,
        active: PlayerId::A,
        phase_index: 0,
        step_index: 0,
        dev_mode,
        started_in_dev_mode: dev_mode,
        conclusion: None,
        players: ByPlayer::new_with(|player| {
            let start = starts.get(player);
            PlayerState {
                id: player,
                name: default_name(player).to_owned(),
                resources: start.resources.clone(),
                stats: start
                    .stats
                    .keys()
                    .map(|k| (k.clone(), crate::num::Num(0.0)))
                    .collect(),
                stats_history: Vec::new(),
                population: start.population.keys().map(|k| (k.clone(), 0)).collect(),
                lands: Vec::new(),
                buildings: Vec::new(),
                actions: Vec::new(),
                stat_sources: OrderedMap::new(),
                skip_phases: OrderedMap::new(),
                skip_steps: OrderedMap::new(),
            }
        }),
        passives: Vec::new(),
        cost_modifiers: Vec::new(),
        result_modifiers: Vec::new(),
        evaluation_modifiers: Vec::new(),
        tiers: ByPlayer::default(),
        ai,
        recent_resource_gains: Vec::new(),
        add_pct: AddPctCache::default(),
    };
    let mut ctx = Ctx::new(content, &mut state, handlers::run);
    for player in PlayerId::ALL {
        let start = starts.get(player);
        ctx.as_player(player, |ctx| {
            ctx.in_frame(Frame::Start, |ctx| {
                for (key, value) in start.stats.iter() {
                    ctx.set_stat(key, value.0)?;
                }
                Ok(())
            })?;
            for (role, count) in start.population.iter() {
                for _ in 0..(count.0.max(0.0) as u32) {
                    assign_member(ctx, role)?;
                }
            }
            let slots = content.rules().slots_per_new_land;
            for (i, land) in start.lands.iter().enumerate() {
                let id = format!("{player}-L{}", i + 1);
                let land_triggers = triggers(&land.rest, &format!("start lands[{i}]"))
                    .map_err(|e| EngineError::invalid("start", e.to_string()))?;
                ctx.player_mut(player).lands.push(Land {
                    id: id.as_str().into(),
                    slots_max: land.slots_max.unwrap_or(slots),
                    slots_used: land.slots_used.unwrap_or(land.developments.len() as u32),
                    tilled: land.tilled.unwrap_or(false),
                    developments: Vec::new(),
                    upkeep: land.upkeep.clone(),
                    triggers: land_triggers,
                });
                for development in &land.developments {
                    place_development(ctx, development, &id, false)?;
                }
            }
            Ok(())
        })?;
    }
    for player in PlayerId::ALL {
        let unlocked = content
            .actions()
            .iter()
            .filter(|a| !a.system)
            .map(|a| a.id.clone())
            .collect();
        ctx.player_mut(player).actions = unlocked;
    }
    let tiered = content.rules().tiered_resource_key.clone();
    for player in PlayerId::ALL {
        ctx.resource_changed(player, &tiered)?;
    }
    ctx.state.recent_resource_gains.clear();
    Ok(state)
}
