//! Shared helpers: default content, games, effect-based setup, and short
//! accessors, so that tests read like the scenarios they check.

use std::sync::{Arc, OnceLock};

use kb_engine::content::Effect;
use kb_engine::{
    ActionOutcome, Command, Content, ContentDef, EngineError, Game, GameOptions, PlayerId,
};
use kb_protocol::schema;
use serde_json::Value;

pub use kb_engine::PlayerId::{A, B};

pub fn default_def() -> ContentDef {
    parse_def(serde_json::from_str(include_str!("../../kb-content/content/default.json")).unwrap())
        .expect("default content parses")
}

/// Reads content written in the reference schema (`kb_protocol::schema`).
pub fn parse_def(json: Value) -> serde_json::Result<ContentDef> {
    serde_json::from_value::<schema::ContentDef>(json).map(ContentDef::from)
}

/// An engine type with a form in the reference schema.
pub trait FromSchema: Sized {
    /// Its schema form.
    type Schema: serde::de::DeserializeOwned + schema::Mirror<Engine = Self>;
}

macro_rules! from_schema {
    ($($name:ident),*) => {$(
        impl FromSchema for kb_engine::content::$name {
            type Schema = schema::$name;
        }
    )*};
}

from_schema!(
    ActionDef,
    ActionEffect,
    StepDef,
    WinConditionDef,
    DevelopmentDef,
    GameConfig
);

impl FromSchema for kb_engine::content::Effects {
    type Schema = schema::EffectList;
}

impl FromSchema for kb_engine::Rounding {
    type Schema = schema::Rounding;
}

impl FromSchema for ContentDef {
    type Schema = schema::ContentDef;
}

impl<T: FromSchema> FromSchema for Vec<T>
where
    T::Schema: Clone,
{
    type Schema = Vec<T::Schema>;
}

/// Reads an engine type from JSON in the reference schema.
pub fn read<T: FromSchema>(json: Value) -> serde_json::Result<T> {
    serde_json::from_value::<T::Schema>(json).map(schema::Mirror::into_engine)
}

/// An action written in the reference schema.
pub fn action_def(json: Value) -> serde_json::Result<kb_engine::content::ActionDef> {
    serde_json::from_value::<schema::ActionDef>(json).map(Into::into)
}

/// Content in the reference schema.
pub fn def_json(def: &ContentDef) -> Value {
    serde_json::to_value(schema::ContentDef::from(def)).unwrap()
}

pub fn content() -> Arc<Content> {
    static CONTENT: OnceLock<Arc<Content>> = OnceLock::new();
    CONTENT
        .get_or_init(|| Arc::new(Content::new(default_def()).expect("default content is valid")))
        .clone()
}

pub fn new_game() -> Game {
    Game::new(content(), GameOptions::default()).unwrap()
}

pub fn dev_game() -> Game {
    let options = GameOptions {
        dev_mode: true,
        ..GameOptions::default()
    };
    Game::new(content(), options).unwrap()
}

/// A game on the default content edited by `edit`.
pub fn game_with(edit: impl FnOnce(&mut ContentDef)) -> Game {
    let mut def = default_def();
    edit(&mut def);
    let content = Arc::new(Content::new(def).expect("edited content is valid"));
    Game::new(content, GameOptions::default()).unwrap()
}

pub fn effects(json: Value) -> Vec<Effect> {
    serde_json::from_value::<Vec<schema::EffectDef>>(json)
        .expect("effects parse")
        .into_iter()
        .map(Effect::from)
        .collect()
}

/// Runs effects as `player` (test setup).
pub fn setup(game: &mut Game, player: PlayerId, json: Value) {
    game.run_effects_as(player, &effects(json))
        .expect("setup effects run");
}

pub fn advance(game: &mut Game, n: usize) {
    for _ in 0..n {
        game.apply(&Command::Advance).expect("advance");
    }
}

/// Advances until the active player is in an action phase.
pub fn to_main(game: &mut Game) {
    for _ in 0..32 {
        if game.snapshot().game.current_phase == "main" {
            return;
        }
        game.apply(&Command::Advance).expect("advance");
    }
    panic!("never reached main");
}

pub fn act(game: &mut Game, id: &str, params: Value) -> Result<ActionOutcome, EngineError> {
    game.perform(id, params.as_object().expect("params object"))
}

/// Performs `id`, expects it refused with `code`, and checks that the
/// state did not change. Returns the error.
pub fn refused_action(game: &mut Game, id: &str, params: Value, code: &str) -> EngineError {
    let before = state_json(game);
    let error = act(game, id, params).expect_err("the action must be refused");
    assert_eq!(error.code(), code, "{id}: {error}");
    assert_eq!(state_json(game), before, "refused {id} changed the state");
    error
}

pub fn res(game: &Game, player: PlayerId, key: &str) -> f64 {
    game.state().players.get(player).resources.value(key)
}

pub fn stat(game: &Game, player: PlayerId, key: &str) -> f64 {
    game.state().players.get(player).stats.value(key)
}

pub fn passive_ids(game: &Game, player: PlayerId) -> Vec<String> {
    game.state()
        .passives
        .iter()
        .filter(|p| p.owner == player)
        .map(|p| p.id.to_string())
        .collect()
}

/// The state as a checkpoint stores it.
pub fn state_json(game: &Game) -> String {
    String::from_utf8(kb_session::stored::encode(game.state())).unwrap()
}

/// A resource add effect.
pub fn add(key: &str, amount: impl Into<f64>) -> Value {
    let amount = amount.into();
    serde_json::json!({"type": "resource", "method": "add", "params": {"key": key, "amount": amount}})
}

/// A stat add effect.
pub fn add_stat(key: &str, amount: impl Into<f64>) -> Value {
    let amount = amount.into();
    serde_json::json!({"type": "stat", "method": "add", "params": {"key": key, "amount": amount}})
}

/// Hires `role` (runs its hooks).
pub fn hire(role: &str) -> Value {
    serde_json::json!({"type": "population", "method": "add", "params": {"role": role}})
}
