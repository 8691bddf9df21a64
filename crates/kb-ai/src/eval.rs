//! The evaluation of a position, in gold-equivalents, from one player's
//! point of view, meant for positions in that player's action phase.
//!
//! It is zero-sum: the value of my kingdom minus the value of the
//! opponent's, plus the threats each army poses to the other castle. A
//! kingdom's value is its gold, its income and action points over a
//! horizon (what it will be able to do), its happiness (the buffer that
//! lets it tax, and the tier it sits in), its castle, and what its army and
//! defences are worth. The threats are worked out the way the engine
//! resolves an attack (absorption, then fortification, watchtowers falling
//! after the first attack). Two forecasts are exact consequences of the
//! rules: a player who cannot pay its next upkeep is bankrupt, and a player
//! whose happiness skips its growth phase gains no action points, so it can
//! never recover; both are valued as the near-certain results they are.
//!
//! Only correctly rounded arithmetic is used (no `powf`, `tanh` or other
//! library functions whose last bit may differ between platforms), so
//! every machine evaluates a position alike and picks the same move.

use kb_engine::{GameState, PlayerId, PlayerState, round_away};

use crate::model::{
    ABSORPTION, ARMY, CASTLE, FORT, FORTIFIER, GOLD, GROWTH, LEGION, MAX_POP, Model, WEARINESS,
};

/// The value of a won game.
pub(crate) const WIN: f64 = 100_000.0;

/// The development the evaluation knows falls after the first attack.
const WATCHTOWER: &str = "watchtower";

/// What the evaluation reads from one player.
#[derive(Clone, Debug, Default)]
pub(crate) struct Side {
    pub gold: f64,
    pub happiness: f64,
    pub castle: f64,
    pub army: f64,
    pub fort: f64,
    pub absorption: f64,
    pub weariness: f64,
    pub growth: f64,
    pub max_pop: f64,
    pub pop: f64,
    pub legions: f64,
    pub fortifiers: f64,
    /// Action points the next growth phase brings.
    pub ap_next: f64,
    /// Action points a growth phase brings (when not skipped).
    pub ap_per_turn: f64,
    /// Gold the next upkeep costs.
    pub upkeep: f64,
    /// Gold the next growth phase brings (after the tier's multiplier).
    pub income_next: f64,
    pub skips_growth: bool,
    pub free_slots: f64,
    pub watchtowers: f64,
    /// Gold one Tax collects.
    pub tax_gain: f64,
    /// Action points left this turn.
    pub ap: f64,
    /// Turns this player has left before a turn limit, if any.
    pub turns_left: Option<f64>,
    /// Turn-limit score.
    pub score: f64,
}

impl Side {
    pub(crate) fn read(model: &Model, state: &GameState, id: PlayerId) -> Side {
        let player = state.players.get(id);
        let resource = |key: &str| player.resources.value(key);
        let stat = |key: &str| player.stats.value(key);
        let count = |role: &str| f64::from(player.population.get(role).copied().unwrap_or(0));
        let skips_growth = player
            .skip_phases
            .get(&model.growth_phase)
            .is_some_and(|sources| !sources.is_empty());
        let mut ap_per_turn = 0.0;
        let mut upkeep = 0.0;
        for (role, gold, ap) in &model.roles {
            let n = count(role);
            upkeep += gold * n;
            ap_per_turn += ap * n;
        }
        let owns = |building: &str| player.buildings.iter().any(|b| b == building);
        for (building, gold) in &model.building_upkeep {
            if owns(building) {
                upkeep += gold;
            }
        }
        let income = base_income(model, player);
        let happiness = resource(&model.happiness);
        let multiplier = model.tier(happiness).map_or(1.0, |t| t.income);
        let income_next = if skips_growth {
            0.0
        } else {
            income + round_away(income * (multiplier - 1.0))
        };
        let tax_bonus: f64 = model
            .building_tax_bonus
            .iter()
            .filter(|(b, _)| owns(b))
            .map(|(_, gold)| gold)
            .sum();
        let pop = f64::from(player.total_population());
        let mut free_slots = 0.0;
        let mut watchtowers = 0.0;
        for land in &player.lands {
            free_slots += f64::from(land.slots_max.saturating_sub(land.slots_used));
            watchtowers += land
                .developments
                .iter()
                .filter(|d| *d == WATCHTOWER)
                .count() as f64;
        }
        let (turns_left, score) = match &model.turn_limit {
            Some(limit) => (
                Some(limit.limit - resource(&limit.key)),
                limit.score.iter().map(|(k, w)| w * resource(k)).sum(),
            ),
            None => (None, 0.0),
        };
        Side {
            gold: resource(GOLD),
            happiness,
            castle: resource(CASTLE),
            army: stat(ARMY),
            fort: stat(FORT),
            absorption: stat(ABSORPTION),
            weariness: stat(WEARINESS),
            growth: stat(GROWTH),
            max_pop: stat(MAX_POP),
            pop,
            legions: count(LEGION),
            fortifiers: count(FORTIFIER),
            ap_next: if skips_growth { 0.0 } else { ap_per_turn },
            ap_per_turn,
            upkeep,
            income_next,
            skips_growth,
            free_slots,
            watchtowers,
            tax_gain: model.tax_per_member * pop + tax_bonus,
            ap: resource(&model.ap),
            turns_left,
            score,
        }
    }

    /// Army strength after the next growth phase.
    fn army_next(&self) -> f64 {
        if self.skips_growth || self.legions == 0.0 {
            return self.army;
        }
        round_away(self.army + self.army * self.growth * self.legions)
    }

    /// Attacks possible next turn (war weariness recovers by one first).
    fn attacks_next(&self) -> f64 {
        let weariness = (self.weariness - 1.0).max(0.0);
        (self.legions - weariness).max(0.0).min(self.ap_next)
    }
}

/// Gold the growth phase's income step brings before the tier multiplier.
fn base_income(model: &Model, player: &PlayerState) -> f64 {
    let mut income = 0.0;
    for land in &player.lands {
        for development in &land.developments {
            if let Some((_, gold)) = model
                .development_income
                .iter()
                .find(|(id, _)| id == development)
            {
                income += gold;
            }
            for (building, dev, gold) in &model.building_income {
                if dev == development && player.buildings.contains(building) {
                    income += gold;
                }
            }
        }
    }
    income
}

/// Damage `attacks` attacks of `power` deal to `defender`, and how many
/// of them get through (each of those plunders).
pub(crate) fn attack_damage(power: f64, attacks: f64, defender: &Side) -> (f64, f64) {
    let (damage, hits, _) = attack(power, attacks, defender);
    (damage, hits)
}

/// [`attack_damage`], and the fortification left.
fn attack(power: f64, attacks: f64, defender: &Side) -> (f64, f64, f64) {
    let mut fort = defender.fort;
    let mut absorption = defender.absorption;
    let mut total = 0.0;
    let mut hits = 0.0;
    let mut n = 0.0;
    while n < attacks {
        let capped = absorption.clamp(0.0, 1.0);
        let after = if capped > 0.0 {
            (power * (1.0 - capped)).floor()
        } else {
            power
        };
        let soaked = fort.min(after);
        fort -= soaked;
        let damage = after - soaked;
        if damage > 0.0 {
            total += damage;
            hits += 1.0;
        }
        // Watchtowers fall after any attack.
        absorption -= 0.5 * defender.watchtowers;
        if absorption < 0.0 {
            absorption = 0.0;
        }
        n += 1.0;
        if total >= defender.castle {
            break;
        }
    }
    (total, hits, fort)
}

/// Weights of the evaluation (gold-equivalents).
#[derive(Clone, Debug)]
pub(crate) struct Weights {
    /// Turns over which income and action points are counted.
    pub horizon: f64,
    /// Value of one AP per turn, at least.
    pub ap: f64,
    /// Value of one AP per turn, as a share of what a Tax collects.
    pub ap_share: f64,
    /// Gold beyond this counts for less (it cannot all be spent).
    pub gold_cap: f64,
    pub happiness: f64,
    pub castle: f64,
    pub army: f64,
    pub legion: f64,
    pub fort: f64,
    pub absorption: f64,
    pub slot: f64,
    pub room: f64,
    /// Value of being able to destroy the other castle at once.
    pub military: f64,
    /// How much a threat fades per turn it lies ahead.
    pub decay: f64,
    /// Turns the military projection looks ahead.
    pub lookahead: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            horizon: 8.0,
            ap: 6.0,
            ap_share: 0.5,
            gold_cap: 40.0,
            happiness: 2.5,
            castle: 8.0,
            army: 0.5,
            legion: 2.0,
            fort: 0.3,
            absorption: 3.0,
            slot: 12.0,
            room: 20.0,
            military: 1500.0,
            decay: 0.7,
            lookahead: 6,
        }
    }
}

impl Weights {
    /// The default weights, each scaled by a factor in `[1 - spread,
    /// 1 + spread)` drawn from `seed`: a seed gives the AI a playing style
    /// of its own (a little more military, a little more economy...), so
    /// that games with different seeds differ, while every style stays
    /// close to the tuned one.
    pub(crate) fn styled(seed: u64, spread: f64) -> Weights {
        let mut rng = crate::rng::SplitMix64::new(seed ^ 0x5851_f42d_4c95_7f2d);
        let mut f = || 1.0 + spread * (2.0 * rng.unit() - 1.0);
        let d = Weights::default();
        Weights {
            horizon: d.horizon,
            ap: d.ap * f(),
            ap_share: d.ap_share * f(),
            gold_cap: d.gold_cap * f(),
            happiness: d.happiness * f(),
            castle: d.castle * f(),
            army: d.army * f(),
            legion: d.legion * f(),
            fort: d.fort * f(),
            absorption: d.absorption * f(),
            slot: d.slot * f(),
            room: d.room * f(),
            military: d.military * f(),
            decay: d.decay,
            lookahead: d.lookahead,
        }
    }
}

/// The value of one kingdom on its own.
fn kingdom(w: &Weights, s: &Side) -> f64 {
    let horizon = s.turns_left.map_or(w.horizon, |t| t.clamp(0.0, w.horizon));
    let net = s.income_next - s.upkeep;
    let ap_value = w.ap.max(w.ap_share * s.tax_gain);
    let gold = s.gold.min(w.gold_cap) + 0.3 * (s.gold - w.gold_cap).max(0.0);
    let mut v = gold + horizon * net + horizon * s.ap_next * ap_value;
    v += w.happiness * s.happiness.clamp(-5.0, 10.0);
    v += w.castle * s.castle;
    v += w.army * s.army.min(1000.0) + w.legion * s.legions;
    v += w.fort * s.fort.min(1000.0) + w.absorption * s.absorption.min(1.0);
    v += w.slot * two_steps(s.free_slots) + w.room * two_steps(s.max_pop - s.pop);
    // A kingdom without action points, losing gold every turn, is doomed:
    // it can never act again, and goes bankrupt when the gold runs out.
    if s.ap_next == 0.0 && s.ap == 0.0 && net < 0.0 {
        let turns = (s.gold + net) / -net;
        v -= 0.3 * WIN / (1.0 + turns.max(0.0) / 4.0);
    }
    v
}

/// The value of spare capacity: the first unit counts fully, the second
/// half, more nothing (capacity is worth what it will be used for soon).
fn two_steps(n: f64) -> f64 {
    n.clamp(0.0, 1.0) + 0.5 * (n - 1.0).clamp(0.0, 1.0)
}

/// The war as it would go if neither side changed anything but let its
/// army and fortification grow (as the Raise Strength step does) and
/// attacked as often as it can every turn, the opponent first. In `[-1,
/// 1]`: `+fade^k` when `me` destroys the other castle in round `k` (from
/// 0), `-fade^k` when the other destroys mine; the damage the loser of the
/// race dealt on the way softens its loss a little (an opponent that does
/// not play the race perfectly can still lose it), and a race nobody wins
/// in the lookahead is worth half the faded shares of castle destroyed,
/// theirs minus mine.
fn race(w: &Weights, me: &Side, them: &Side) -> f64 {
    if me.legions == 0.0 && them.legions == 0.0 {
        return 0.0;
    }
    // sides[0] is the opponent, who moves first; dealt[i] is what side i
    // destroyed of the other castle, in faded shares.
    let mut sides = [them.clone(), me.clone()];
    let mut dealt = [0.0f64; 2];
    let mut fade = 1.0;
    let rounds = me
        .turns_left
        .map_or(w.lookahead, |t| (t.max(0.0) as u32).min(w.lookahead));
    for round in 0..rounds {
        for attacker in [0, 1] {
            let defender = 1 - attacker;
            let a = &mut sides[attacker];
            a.army = grow(a.army, a.growth, a.legions, a.skips_growth);
            a.fort = grow(a.fort, a.growth, a.fortifiers, a.skips_growth);
            let attacks = if round == 0 {
                a.attacks_next()
            } else {
                a.legions.min(a.ap_next.max(1.0))
            };
            if attacks == 0.0 {
                continue;
            }
            let power = a.army;
            let d = &mut sides[defender];
            let (damage, _, fort_left) = attack(power, attacks, d);
            d.fort = fort_left;
            d.absorption = (d.absorption - 0.5 * d.watchtowers).max(0.0);
            d.watchtowers = 0.0;
            dealt[attacker] += fade * damage / d.castle.max(1.0);
            d.castle -= damage;
            if d.castle <= 0.0 {
                let consolation = 0.3 * dealt[defender].min(1.0);
                return if attacker == 1 {
                    fade - consolation
                } else {
                    -fade + consolation
                };
            }
        }
        fade *= w.decay;
    }
    0.5 * (dealt[1] - dealt[0]).clamp(-1.0, 1.0)
}

fn grow(value: f64, growth: f64, members: f64, skipped: bool) -> f64 {
    if skipped || members == 0.0 {
        return value;
    }
    round_away(value + value * growth * members).min(1e12)
}

/// The value of `state` for `me`, whose action phase it is (or just was).
pub(crate) fn evaluate(model: &Model, w: &Weights, state: &GameState, me: PlayerId) -> f64 {
    if let Some(conclusion) = &state.conclusion {
        let speed = f64::from(state.turn.min(1000));
        return if conclusion.winner_id == me {
            WIN + 1000.0 - speed
        } else {
            -WIN - 1000.0 + speed
        };
    }
    let mine = Side::read(model, state, me);
    let theirs = Side::read(model, state, me.other());
    let mut v = kingdom(w, &mine) - kingdom(w, &theirs);

    // The opponent moves next: its growth, its upkeep, then its attacks.
    if theirs.gold + theirs.income_next < theirs.upkeep {
        return v + 0.9 * WIN;
    }
    let (incoming, hits) = attack_damage(theirs.army_next(), theirs.attacks_next(), &mine);
    if incoming >= mine.castle {
        v -= 0.3 * WIN;
    } else {
        v -= w.castle * incoming + hits * 0.25 * mine.gold.min(w.gold_cap);
    }
    // Then mine: my growth, my upkeep (after their plunder), my attacks.
    // Each damaging attack plunders a quarter of what is left.
    let mut kept = mine.gold;
    let mut n = 0.0;
    while n < hits {
        kept *= 0.75;
        n += 1.0;
    }
    let plundered = mine.gold - kept;
    if mine.gold - plundered + mine.income_next < mine.upkeep {
        v -= 0.5 * WIN;
    }
    let war = race(w, &mine, &theirs);
    v += w.military * war;
    // Near a turn limit, the score decides.
    if let (Some(mine_left), Some(theirs_left)) = (mine.turns_left, theirs.turns_left) {
        let rounds = mine_left.min(theirs_left).max(0.0);
        let lead = mine.score - theirs.score;
        let lead = lead / 100.0;
        v += 0.3 * WIN / (1.0 + rounds * rounds) * (lead / (1.0 + lead.abs()));
    }
    v
}
