//! Restarts in process: a second app over the same store must serve every
//! session exactly as the first one last answered it.

use std::sync::Arc;

use axum::http::Method;
use kb_session::{ManagerOptions, SessionManager};
use kb_store::MemoryStore;
use serde_json::{Value, json};

use crate::helpers::{ALICE, TestApp, assert_same_json, player, session_id, version};

/// An app over `store`, checkpointing every `checkpoint_every` entries.
fn app_over(store: &MemoryStore, checkpoint_every: u64) -> TestApp {
    let mut options = ManagerOptions::new(Arc::new(store.reopen()));
    options.checkpoint_every = checkpoint_every;
    TestApp::game_over(Arc::new(SessionManager::new(options).expect("hydrates")))
}

/// A config starting with 1e308 gold and a farm that yields as much: the
/// first Gain Income step would make A's gold infinite.
fn overflowing_config() -> Value {
    let pack: Value = serde_json::from_str(kb_content::DEFAULT_PACK_JSON).unwrap();
    let developments: Vec<Value> = pack["developments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|development| {
            let mut development = development.clone();
            if development["id"] == "farm" {
                development["onGainIncomeStep"][0]["params"]["amount"] = json!(1e308);
            }
            development
        })
        .collect();
    let mut start = pack["start"].clone();
    start["player"]["resources"]["gold"] = json!(1e308);
    json!({"config": {"developments": developments, "start": start}})
}

#[tokio::test]
async fn sessions_survive_a_restart_across_checkpoints() {
    let store = MemoryStore::new();
    let app = app_over(&store, 4);
    let id = app.new_session(ALICE).await;
    let state = app.advance_times(ALICE, &id, 10).await;
    assert_eq!(version(&state), 11);
    drop(app);

    let app = app_over(&store, 4);
    let restored = app.snapshot(ALICE, &id).await;
    assert_eq!(version(&restored), 11);
    assert_same_json(&restored["snapshot"], &state["snapshot"], "restored");
}

#[tokio::test]
async fn an_overflowing_value_is_clamped_and_the_session_restores_exactly() {
    // A resource that would overflow to infinity (which JSON cannot hold:
    // serde_json writes `null`, and a checkpoint of it would not read back)
    // is clamped to the engine's largest game value instead, so every state
    // survives JSON; the session restores exactly across checkpoints. (The
    // manager also refuses to write a checkpoint that does not read back.)
    let store = MemoryStore::new();
    let app = app_over(&store, 4);
    let body = overflowing_config().to_string();
    let id = session_id(&app.create_session(ALICE, &body).await);
    let mut last = Value::Null;
    for _ in 0..16 {
        last = app.advance(ALICE, &id).await;
    }
    let gold = player(&last, "A")["resources"]["gold"].as_f64();
    assert!(
        gold.is_some_and(|g| g > 9.9e14 && g <= kb_engine::MAX_GAME_VALUE),
        "gold clamped near the largest game value: {gold:?}"
    );
    drop(app);

    let app = app_over(&store, 4);
    let restored = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/snapshot"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.text());
    let restored = restored.json();
    assert_eq!(version(&restored), version(&last));
    assert_same_json(&restored["snapshot"], &last["snapshot"], "restored");
    // And it keeps playing.
    assert_eq!(version(&app.advance(ALICE, &id).await), version(&last) + 1);
}
