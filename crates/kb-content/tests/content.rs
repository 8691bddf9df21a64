//! Black-box tests of `kb-content`: the default pack, the registries and
//! metadata it gives (in the reference protocol's shapes), configs, content
//! ids, and restoring session content from its stored record.

use std::collections::BTreeSet;
use std::sync::Arc;

use kb_content::{
    BuildError, ContentId, ContentInterner, ContentPack, ContentRecord, DEFAULT_PACK_JSON,
    Document, PackError, RestoreError, SessionContent,
};
use kb_engine::{Command, Content, Game, GameOptions, GameState, OrderedMap};
use kb_protocol::schema::{GameConfig, StartConfig};
use serde::de::IgnoredAny;
use serde_json::{Value, json};

fn pack() -> &'static ContentPack {
    ContentPack::default_pack()
}

fn default_content() -> Arc<SessionContent> {
    pack()
        .session(None)
        .expect("the default content needs no checking")
}

/// The default pack as a JSON value.
fn pack_value() -> Value {
    serde_json::from_str(DEFAULT_PACK_JSON).expect("the default pack is JSON")
}

/// The default pack edited by `edit`, loaded.
fn pack_with(edit: impl FnOnce(&mut Value)) -> Result<ContentPack, PackError> {
    let mut value = pack_value();
    edit(&mut value);
    ContentPack::from_json(&value.to_string())
}

/// The entry of `section` (an array of objects) whose `field` is `id`.
fn find<'a>(pack: &'a mut Value, section: &str, field: &str, id: &str) -> &'a mut Value {
    pack[section]
        .as_array_mut()
        .expect("an array section")
        .iter_mut()
        .find(|entry| entry[field] == id)
        .expect("the entry exists")
}

fn config(value: Value) -> GameConfig {
    serde_json::from_value(value).expect("a valid GameConfig")
}

/// An action that only adds one happiness.
fn pray_action() -> Value {
    json!({
        "id": "pray", "name": "Pray", "icon": "🙏", "category": "basic",
        "baseCosts": {"ap": 1},
        "effects": [{"type": "resource", "method": "add", "params": {"key": "happiness", "amount": 1}}]
    })
}

/// Object keys in document order (the registries and metadata keep content
/// order, which a parsed `Value` does not show).
fn keys_in_order(text: &str) -> Vec<String> {
    let map: OrderedMap<IgnoredAny> = serde_json::from_str(text).expect("a JSON object");
    map.keys().map(|key| key.to_string()).collect()
}

fn section_keys_in_order(doc: &str, section: &str) -> Vec<String> {
    let map: OrderedMap<Box<serde_json::value::RawValue>> =
        serde_json::from_str(doc).expect("a JSON object");
    keys_in_order(map.get(section).expect("the section exists").get())
}

fn object_keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Plays the same commands on a new game of each content and returns the
/// final states: growth and upkeep, a Tax, the end of A's turn, B's turn by
/// the built-in AI, and the start of A's second turn.
fn play(content: &Arc<Content>) -> GameState {
    let mut game = Game::new(Arc::clone(content), GameOptions::default()).expect("a new game");
    let tax = Command::Action {
        action_id: "tax".into(),
        params: Default::default(),
        player_id: None,
    };
    let mut commands = vec![Command::Advance; 7];
    commands.push(tax);
    commands.extend(vec![Command::Advance; 8]);
    commands.push(Command::AiTurn {
        player_id: kb_engine::PlayerId::B,
    });
    commands.extend(vec![Command::Advance; 3]);
    for command in &commands {
        game.apply(command)
            .unwrap_or_else(|e| panic!("{command:?} failed: {e}"));
    }
    game.into_state()
}

fn gold_after_first_tax(content: &Arc<Content>) -> f64 {
    let mut game = Game::new(Arc::clone(content), GameOptions::default()).expect("a new game");
    for _ in 0..7 {
        game.apply(&Command::Advance).expect("growth and upkeep");
    }
    let tax = Command::Action {
        action_id: "tax".into(),
        params: Default::default(),
        player_id: None,
    };
    game.apply(&tax).expect("tax");
    game.state().players.a.resources.value("gold")
}

// ---------------------------------------------------------------- the pack

#[test]
fn the_default_pack_validates() {
    let loaded = ContentPack::from_json(DEFAULT_PACK_JSON);
    let loaded = loaded.unwrap_or_else(|e| panic!("the default pack does not load: {e}"));
    // The engine part is valid engine content on its own.
    Content::new(loaded.def().clone()).expect("valid engine content");
    assert_eq!(loaded.def().actions.len(), 11);
    assert_eq!(loaded.presentation().stats.len(), 6);
    // The shared default is the same content.
    assert_eq!(loaded.base_session().id(), pack().base_session().id());
}

#[test]
fn the_presentation_describes_everything_the_content_uses() {
    let def = pack().def();
    let presentation = pack().presentation();
    let stats: BTreeSet<&str> = presentation.stats.iter().map(|s| s.key.as_str()).collect();
    for key in def.start.player.stats.iter().flat_map(|bag| bag.keys()) {
        assert!(stats.contains(key.as_str()), "no descriptor for stat {key}");
    }
    let triggers: BTreeSet<&str> = presentation.triggers.keys().map(|k| k.as_str()).collect();
    let mut used = BTreeSet::new();
    for step in def.phases.iter().flat_map(|p| &p.steps) {
        used.extend(step.triggers.iter().map(|t| t.to_string()));
    }
    let pack = pack_value();
    collect_trigger_names(&pack, &mut used);
    assert!(!used.is_empty());
    for trigger in &used {
        assert!(
            triggers.contains(trigger.as_str()),
            "no descriptor for {trigger}"
        );
    }
    for (key, asset) in presentation.assets.iter() {
        assert!(asset.icon.is_some() && asset.label.is_some(), "asset {key}");
    }
    for resource in &def.resources {
        let rest = &resource.rest;
        for field in ["label", "icon", "description"] {
            assert!(
                rest.get(field).is_some(),
                "resource {} has no {field}",
                resource.key
            );
        }
    }
}

/// Every `on…` key holding a list, anywhere in the pack except the
/// presentation's own trigger table.
fn collect_trigger_names(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == "triggers" && item.is_object() {
                    continue;
                }
                let is_trigger = key
                    .strip_prefix("on")
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| c.is_ascii_uppercase());
                if is_trigger && item.is_array() {
                    out.insert(key.clone());
                }
                collect_trigger_names(item, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_trigger_names(item, out)),
        _ => {}
    }
}

#[test]
fn pack_errors_name_what_failed() {
    let unknown = pack_with(|p| p["achievements"] = json!([]));
    assert!(
        matches!(&unknown, Err(PackError::UnknownSection { section }) if section == "achievements"),
        "{unknown:?}"
    );

    let layout = pack_with(|p| p["actionCategories"][1]["layout"] = json!("grid"));
    match layout {
        Err(PackError::Schema { path, .. }) => assert_eq!(path, "actionCategories[1].layout"),
        other => panic!("expected a schema error, got {other:?}"),
    }

    let typo = pack_with(|p| p["stats"][3]["displayAsPercentage"] = json!(true));
    match typo {
        Err(PackError::Schema { path, source }) => {
            assert_eq!(path, "stats[3].displayAsPercentage");
            assert!(source.to_string().contains("unknown field"), "{source}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }

    let category = pack_with(|p| find(p, "actions", "id", "tax")["category"] = json!("misc"));
    assert!(
        matches!(&category, Err(PackError::UnknownCategory { action, category })
            if action == "tax" && category == "misc"),
        "{category:?}"
    );

    let duplicate = pack_with(|p| {
        let stat = p["stats"][0].clone();
        p["stats"].as_array_mut().expect("stats").push(stat);
    });
    assert!(
        matches!(&duplicate, Err(PackError::Duplicate { section: "stats", id }) if id == "maxPopulation"),
        "{duplicate:?}"
    );

    let icon = pack_with(|p| p["primaryIconId"] = json!("crown"));
    assert!(
        matches!(&icon, Err(PackError::UnknownPrimaryIcon { id }) if id == "crown"),
        "{icon:?}"
    );

    let resource = pack_with(|p| find(p, "resources", "key", "ap")["label"] = json!(7));
    assert!(
        matches!(&resource, Err(PackError::ResourceInfo { index: 1, key, .. }) if key == "ap"),
        "{resource:?}"
    );

    let engine = pack_with(|p| {
        find(p, "actions", "id", "tax")["effects"] = json!([{"type": "foo", "method": "bar"}]);
    });
    match engine {
        Err(PackError::Engine(error)) => assert!(error.path.contains("tax"), "{error}"),
        other => panic!("expected an engine error, got {other:?}"),
    }

    let syntax = ContentPack::from_json("{\"actions\": [");
    assert!(
        matches!(syntax, Err(PackError::Schema { .. })),
        "{syntax:?}"
    );
}

// ---------------------------------------------------------- the registries

#[test]
fn registries_have_the_reference_shapes() {
    let content = default_content();
    let registries = content.registries().value();
    assert_eq!(
        object_keys(registries),
        BTreeSet::from([
            "actions",
            "buildings",
            "developments",
            "populations",
            "resources",
            "actionCategories"
        ])
    );

    let tax = &registries["actions"]["tax"];
    assert_eq!(tax["baseCosts"]["ap"], 1);
    assert_eq!(tax["name"], "Tax");
    assert_eq!(tax["icon"], "💰");
    assert_eq!(tax["category"], "basic");
    assert!(tax["effects"][0]["evaluator"].is_object());
    assert_eq!(registries["actions"]["plunder"]["system"], true);
    assert_eq!(registries["buildings"]["mill"]["costs"]["gold"], 7);
    assert_eq!(
        registries["developments"]["farm"]["onGainIncomeStep"][0]["params"]["amount"],
        2
    );
    assert_eq!(registries["populations"]["council"]["upkeep"]["gold"], 2);

    // Every definition keyed by its id, in content order.
    let def = content.def();
    for (section, ids) in [
        (
            "actions",
            def.actions
                .iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>(),
        ),
        (
            "buildings",
            def.buildings.iter().map(|b| b.id.to_string()).collect(),
        ),
        (
            "developments",
            def.developments.iter().map(|d| d.id.to_string()).collect(),
        ),
        (
            "populations",
            def.populations.iter().map(|p| p.id.to_string()).collect(),
        ),
    ] {
        assert_eq!(
            section_keys_in_order(content.registries().as_str(), section),
            ids
        );
        for id in &ids {
            assert_eq!(registries[section][id]["id"], id.as_str(), "{section}.{id}");
        }
    }

    let castle = &registries["resources"]["castleHP"];
    assert_eq!(castle["key"], "castleHP");
    assert_eq!(castle["icon"], "🏰");
    assert_eq!(castle["label"], "Castle HP");
    assert_eq!(
        castle["tags"],
        json!(["attack-target", "win-condition-zero"])
    );
    assert_eq!(
        section_keys_in_order(content.registries().as_str(), "resources"),
        ["gold", "ap", "happiness", "castleHP", "turnsPlayed"]
    );
    let allowed = BTreeSet::from(["key", "icon", "label", "description", "tags"]);
    for (key, entry) in registries["resources"].as_object().expect("resources") {
        assert!(
            object_keys(entry).is_subset(&allowed),
            "resources.{key}: {entry}"
        );
    }

    assert_eq!(
        registries["actionCategories"]["basic"],
        json!({
            "id": "basic",
            "title": "Basic",
            "subtitle": "Takes effect at once, unless stated otherwise",
            "description": "Everyday commands of your court, available every turn.",
            "icon": "⚙️",
            "order": 0,
            "layout": "grid-primary"
        })
    );
    assert_eq!(
        section_keys_in_order(content.registries().as_str(), "actionCategories"),
        ["basic", "hire", "develop", "build"]
    );
    for (id, action) in registries["actions"].as_object().expect("actions") {
        if let Some(category) = action["category"].as_str() {
            assert!(registries["actionCategories"][category].is_object(), "{id}");
        }
    }
}

#[test]
fn categories_without_a_subtitle_use_their_label_and_show_hide_when_empty_only_when_set() {
    let edited = pack_with(|p| {
        let build = find(p, "actionCategories", "id", "build");
        build.as_object_mut().expect("object").remove("subtitle");
        build["hideWhenEmpty"] = json!(true);
        build["analyticsKey"] = json!("category-build");
    })
    .expect("loads");
    let registries = edited.base_session().registries().value();
    let build = &registries["actionCategories"]["build"];
    assert_eq!(build["subtitle"], "Build");
    assert_eq!(build["hideWhenEmpty"], true);
    assert_eq!(build["analyticsKey"], "category-build");
    assert!(
        registries["actionCategories"]["basic"]
            .get("hideWhenEmpty")
            .is_none()
    );
}

// ------------------------------------------------------------ the metadata

/// What the reference's `expectSnapshotMetadata` requires of static
/// metadata (reference protocol §7.0).
fn assert_reference_static_metadata(metadata: &Value) {
    let stats = metadata["stats"].as_object().expect("stats");
    assert!(!stats.is_empty(), "at least one stat");
    assert!(
        stats.values().any(|stat| stat["displayAsPercent"] == true),
        "a stat shown as a percentage"
    );
    assert!(
        !metadata["triggers"]
            .as_object()
            .expect("triggers")
            .is_empty()
    );
    let hero_tokens = metadata["overview"]["hero"]["tokens"].as_object();
    assert!(
        hero_tokens.is_some_and(|tokens| !tokens.is_empty()),
        "hero tokens"
    );
    for asset in ["upkeep", "transfer"] {
        assert!(
            metadata["assets"][asset]["icon"].is_string(),
            "{asset} icon"
        );
    }
}

#[test]
fn metadata_has_the_reference_shapes() {
    let content = default_content();
    let metadata = content.metadata().value();
    assert_eq!(
        object_keys(metadata),
        BTreeSet::from([
            "resources",
            "populations",
            "buildings",
            "developments",
            "stats",
            "phases",
            "triggers",
            "assets",
            "overview"
        ])
    );
    assert_reference_static_metadata(metadata);

    assert_eq!(metadata["stats"]["absorption"]["displayAsPercent"], true);
    assert_eq!(metadata["stats"]["absorption"]["label"], "Absorption");
    assert!(
        metadata["stats"]["armyStrength"]
            .get("displayAsPercent")
            .is_none()
    );
    assert_eq!(
        metadata["stats"]["maxPopulation"]["format"],
        json!({"prefix": "Max "})
    );

    assert_eq!(
        section_keys_in_order(content.metadata().as_str(), "phases"),
        ["growth", "upkeep", "main"]
    );
    assert_eq!(metadata["phases"]["main"]["action"], true);
    assert!(metadata["phases"]["growth"].get("action").is_none());
    assert_eq!(metadata["phases"]["growth"]["label"], "Growth");
    assert_eq!(metadata["phases"]["growth"]["icon"], "🌳");
    assert_eq!(
        metadata["phases"]["growth"]["steps"][1],
        json!({"id": "gain-income", "label": "Gain Income", "icon": "🪙", "triggers": ["onGainIncomeStep"]})
    );
    // A step without triggers has none listed.
    assert_eq!(
        metadata["phases"]["main"]["steps"],
        json!([{"id": "main", "label": "Main Phase"}])
    );

    assert_eq!(metadata["assets"]["upkeep"]["icon"], "🧹");
    assert_eq!(metadata["assets"]["transfer"]["label"], "Transfer");
    for asset in ["passive", "land", "slot", "population"] {
        assert!(metadata["assets"][asset]["icon"].is_string(), "{asset}");
    }
    assert_eq!(
        metadata["triggers"]["onGainIncomeStep"],
        json!({"icon": "🪙", "future": "When you gain income", "past": "Income"})
    );
    assert_eq!(
        metadata["resources"]["gold"],
        json!({
            "label": "Gold",
            "icon": "🪙",
            "description": pack().def().resources[0].rest["description"]
        })
    );
    assert_eq!(metadata["buildings"]["mill"]["label"], "Mill");
    assert_eq!(metadata["developments"]["farm"]["icon"], "🌾");
    assert!(
        metadata["populations"]["council"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("1 action point per Growth phase"))
    );
    // Descriptors carry only descriptor fields.
    let allowed = BTreeSet::from(["label", "icon", "description"]);
    for section in [
        "resources",
        "populations",
        "buildings",
        "developments",
        "assets",
    ] {
        for (key, entry) in metadata[section].as_object().expect("section") {
            assert!(object_keys(entry).is_subset(&allowed), "{section}.{key}");
        }
    }
}

#[test]
fn snapshot_metadata_is_the_static_metadata_plus_the_engines() {
    let content = default_content();
    let game = Game::new(Arc::clone(content.content()), GameOptions::default()).expect("game");
    let snapshot = game.snapshot();
    let spliced = content
        .metadata()
        .splice_object(&kb_protocol::answers::Wire(&snapshot.metadata))
        .expect("the engine's fields are not static fields");
    let merged: Value = serde_json::from_str(spliced.get()).expect("valid JSON");
    assert!(merged["passiveEvaluationModifiers"].is_object());
    assert_reference_static_metadata(&merged);
    let mut without = merged.as_object().expect("object").clone();
    without.remove("passiveEvaluationModifiers");
    without.remove("effectLogs");
    assert_eq!(&Value::Object(without), content.metadata().value());
}

#[test]
fn the_overview_has_the_reference_shape_and_its_tokens_resolve() {
    let content = default_content();
    let registries = content.registries().value();
    let metadata = content.metadata().value();
    let overview = &metadata["overview"];
    let hero_tokens = overview["hero"]["tokens"].as_object().expect("hero tokens");
    let token_map = overview["tokens"].as_object().expect("token map");
    // Where each token category's candidates are looked up.
    let lookup = |category: &str| -> &Value {
        match category {
            "actions" => &registries["actions"],
            "phases" => &metadata["phases"],
            "resources" => &registries["resources"],
            "stats" => &metadata["stats"],
            "population" => &registries["populations"],
            "static" => &metadata["assets"],
            other => panic!("unknown token category {other}"),
        }
    };
    let mut token_keys = BTreeSet::new();
    for (category, tokens) in token_map {
        for (token, candidates) in tokens.as_object().expect("tokens") {
            let candidates = candidates.as_array().expect("candidate list");
            assert!(!candidates.is_empty(), "{category}.{token}");
            for candidate in candidates {
                let id = candidate.as_str().expect("candidate id");
                assert!(
                    lookup(category)[id].is_object(),
                    "{category}.{token} -> {id}"
                );
            }
            token_keys.insert(token.clone());
        }
    }
    let check_text = |text: &Value| {
        let text = text.as_str().expect("text");
        for piece in text.split('{').skip(1) {
            let token = piece.split('}').next().expect("a closing brace");
            assert!(
                hero_tokens.contains_key(token) || token_keys.contains(token),
                "unknown token {{{token}}} in {text:?}"
            );
        }
    };
    for field in ["title", "intro", "paragraph"] {
        check_text(&overview["hero"][field]);
    }
    let sections = overview["sections"].as_array().expect("sections");
    assert!(!sections.is_empty());
    for section in sections {
        for field in ["id", "icon", "title"] {
            assert!(section[field].is_string(), "{field} of {section}");
        }
        assert!(token_keys.contains(section["icon"].as_str().expect("icon")));
        match section["kind"].as_str() {
            Some("paragraph") => {
                let paragraphs = section["paragraphs"].as_array().expect("paragraphs");
                paragraphs.iter().for_each(check_text);
            }
            Some("list") => {
                for item in section["items"].as_array().expect("items") {
                    check_text(&item["label"]);
                    assert!(token_keys.contains(item["icon"].as_str().expect("item icon")));
                    item["body"]
                        .as_array()
                        .expect("body")
                        .iter()
                        .for_each(check_text);
                }
            }
            other => panic!("section kind {other:?}"),
        }
    }
}

#[test]
fn the_runtime_config_has_the_reference_shape() {
    let runtime = pack().runtime_config().value();
    assert_eq!(
        object_keys(runtime),
        BTreeSet::from(["phases", "start", "rules", "resources", "primaryIconId"])
    );
    assert_eq!(runtime["phases"].as_array().map(Vec::len), Some(3));
    assert_eq!(runtime["phases"][2]["action"], true);
    assert_eq!(runtime["start"]["player"]["resources"]["gold"], 10);
    assert_eq!(runtime["start"]["players"]["B"]["resources"]["ap"], 1);
    assert_eq!(runtime["rules"]["tieredResourceKey"], "happiness");
    assert_eq!(runtime["rules"]["absorptionRounding"], "down");
    assert_eq!(runtime["rules"]["winConditions"][1]["id"], "bankruptcy");
    assert_eq!(runtime["primaryIconId"], "castleHP");
    assert_eq!(
        &runtime["resources"],
        &default_content().registries().value()["resources"]
    );
    assert_eq!(
        keys_in_order(&serde_json::to_string(&runtime["resources"]).expect("renders")).len(),
        5
    );
    // The turn limit (ours) is written in the reference's win-condition
    // shape, which the reference client checks: a resource trigger, a
    // result in its terms, and display texts for either end.
    let limit = &runtime["rules"]["winConditions"][2];
    assert_eq!(limit["id"], "turn-limit");
    assert_eq!(
        limit["trigger"],
        json!({"type": "resource", "key": "turnsPlayed", "comparison": "gte", "value": 50, "target": "opponent"})
    );
    assert_eq!(
        limit["result"],
        json!({"subject": "none", "opponent": "none"})
    );
    for text in ["icon", "victory", "defeat"] {
        assert!(limit["display"][text].is_string(), "display.{text}");
    }
    assert_eq!(
        limit["score"]["terms"][0],
        json!({"key": "castleHP", "weight": 100})
    );

    let without_icon = pack_with(|p| {
        p.as_object_mut().expect("object").remove("primaryIconId");
    })
    .expect("loads");
    assert_eq!(
        without_icon.runtime_config().value()["primaryIconId"],
        Value::Null
    );
}

// ----------------------------------------------------------------- configs

#[test]
fn sessions_without_a_config_share_one_content() {
    let base = pack().base_session();
    let none = pack().session(None).expect("no config");
    let empty = pack()
        .session(Some(&GameConfig::default()))
        .expect("empty config");
    let empty_lists = config(json!({"actions": [], "buildings": [], "phases": []}));
    let empty_lists = pack().session(Some(&empty_lists)).expect("empty lists");
    for shared in [&none, &empty, &empty_lists] {
        assert!(Arc::ptr_eq(base, shared));
    }
}

#[test]
fn a_config_replacing_actions_changes_the_registries_and_the_id() {
    let default = default_content();
    let custom = config(json!({"actions": [pray_action()]}));
    let content = pack().session(Some(&custom)).expect("valid config");
    let registries = content.registries().value();
    assert_eq!(
        object_keys(&registries["actions"]),
        BTreeSet::from(["pray"])
    );
    assert_eq!(registries["actions"]["pray"]["icon"], "🙏");
    assert_eq!(
        registries["buildings"],
        default.registries().value()["buildings"]
    );
    assert_eq!(
        registries["actionCategories"],
        default.registries().value()["actionCategories"]
    );
    // Metadata has no action section: it stays the default's.
    assert_eq!(content.metadata(), default.metadata());
    assert_ne!(content.id(), default.id());
    // The engine plays the replacement.
    assert!(content.content().actions().contains("pray"));
    assert!(!content.content().actions().contains("tax"));
}

#[test]
fn a_config_replacing_buildings_and_populations_changes_the_metadata() {
    let default = default_content();
    // The start names every role, so replacing the roles replaces the start.
    let mut start = serde_json::to_value(StartConfig::from(&pack().def().start)).expect("renders");
    start["player"]["population"] = json!({"council": 1});
    start["modes"]["dev"]["player"]["population"] = json!({"council": 2});
    let custom = config(json!({
        "start": start,
        "actions": [pray_action()],
        "buildings": [{"id": "shrine", "name": "Shrine", "icon": "⛩️", "costs": {"gold": 3},
                       "description": "A quiet place."}],
        "populations": [{"id": "council", "name": "Elders",
                         "onGainAPStep": [{"type": "resource", "method": "add",
                                           "params": {"key": "ap", "amount": 1}}]}]
    }));
    let content = pack().session(Some(&custom)).expect("valid config");
    let metadata = content.metadata().value();
    assert_eq!(
        metadata["buildings"],
        json!({"shrine": {"label": "Shrine", "icon": "⛩️", "description": "A quiet place."}})
    );
    // A role without a description keeps the pack's description of it.
    assert_eq!(metadata["populations"]["council"]["label"], "Elders");
    assert_eq!(
        metadata["populations"]["council"]["description"],
        default.metadata().value()["populations"]["council"]["description"]
    );
    assert_ne!(content.metadata(), default.metadata());
    assert_eq!(
        object_keys(&content.registries().value()["buildings"]),
        BTreeSet::from(["shrine"])
    );
    assert_ne!(content.id(), default.id());
}

#[test]
fn a_config_start_and_phases_reach_registries_metadata_and_the_engine() {
    let mut start = serde_json::to_value(StartConfig::from(&pack().def().start)).expect("renders");
    start["player"]["resources"]["faith"] = json!(3);
    let phases = json!([
        {"id": "main", "label": "Court", "icon": "👑", "action": true,
         "steps": [{"id": "main", "title": "Hold court"}]},
        {"id": "rest", "steps": [{"id": "sleep"}]}
    ]);
    let custom = config(json!({"start": start, "phases": phases}));
    let content = pack().session(Some(&custom)).expect("valid config");

    let resources = &content.registries().value()["resources"];
    assert_eq!(resources["faith"], json!({"key": "faith"}));
    assert_eq!(
        section_keys_in_order(content.registries().as_str(), "resources"),
        [
            "gold",
            "ap",
            "happiness",
            "castleHP",
            "turnsPlayed",
            "faith"
        ]
    );
    assert_eq!(content.metadata().value()["resources"]["faith"], json!({}));

    let phases = &content.metadata().value()["phases"];
    assert_eq!(object_keys(phases), BTreeSet::from(["main", "rest"]));
    assert_eq!(phases["main"]["label"], "Court");
    assert_eq!(phases["main"]["action"], true);
    assert_eq!(
        phases["rest"],
        json!({"id": "rest", "steps": [{"id": "sleep"}]})
    );

    let game = Game::new(Arc::clone(content.content()), GameOptions::default()).expect("game");
    assert_eq!(game.state().players.a.resources.value("faith"), 3.0);
    assert_eq!(game.snapshot().game.current_phase, "main");
}

#[test]
fn a_resource_only_in_a_dev_overlay_is_registered() {
    let mut start = serde_json::to_value(StartConfig::from(&pack().def().start)).expect("renders");
    start["modes"]["dev"]["players"]["A"] = json!({"resources": {"relics": 1}});
    let content = pack()
        .session(Some(&config(json!({"start": start}))))
        .expect("valid config");
    assert_eq!(
        content.registries().value()["resources"]["relics"],
        json!({"key": "relics"})
    );
}

#[test]
fn identical_configs_give_identical_ids() {
    let custom = json!({"actions": [pray_action()], "buildings": []});
    let first = pack()
        .session(Some(&config(custom.clone())))
        .expect("valid");
    // Built again, from JSON written with another key order and spacing.
    let text = "{ \"buildings\": [], \"actions\": [ { \"effects\": [{\"params\": {\"amount\": 1.0, \"key\": \"happiness\"}, \"method\": \"add\", \"type\": \"resource\"}], \"baseCosts\": {\"ap\": 1}, \"category\": \"basic\", \"icon\": \"🙏\", \"name\": \"Pray\", \"id\": \"pray\" } ] }";
    let second: GameConfig = serde_json::from_str(text).expect("a valid GameConfig");
    let second = pack().session(Some(&second)).expect("valid");
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(first.id(), second.id());
    assert_eq!(first.registries(), second.registries());
    // Another pack load gives the same ids too.
    let reloaded = ContentPack::from_json(DEFAULT_PACK_JSON).expect("loads");
    let third = reloaded.session(Some(&config(custom))).expect("valid");
    assert_eq!(third.id(), first.id());
    assert_eq!(reloaded.base_session().id(), pack().base_session().id());
}

#[test]
fn an_invalid_config_is_a_typed_error_naming_the_entry() {
    let custom = config(json!({"actions": [
        pray_action(),
        {"id": "curse", "name": "Curse", "effects": [{"type": "foo", "method": "bar"}]}
    ]}));
    match pack().session(Some(&custom)) {
        Err(BuildError::Config(error)) => {
            assert!(error.path.starts_with("actions[1] (curse)"), "{error}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

// -------------------------------------------------------------- content ids

/// A named edit of the default pack.
type PackEdit = Box<dyn Fn(&mut Value)>;

#[test]
fn content_ids_change_with_any_content_change() {
    let default_id = pack().base_session().id().clone();
    let edits: Vec<(&str, PackEdit)> = vec![
        (
            "an engine number",
            Box::new(|p| p["rules"]["slotsPerNewLand"] = json!(2)),
        ),
        (
            "an action's description",
            Box::new(|p| {
                find(p, "actions", "id", "expand")["description"] = json!("Claim a land.");
            }),
        ),
        (
            "the order of actions",
            Box::new(|p| {
                p["actions"].as_array_mut().expect("actions").swap(0, 1);
            }),
        ),
        (
            "a stat's label (metadata only)",
            Box::new(|p| p["stats"][0]["label"] = json!("Cap")),
        ),
        (
            "a category's subtitle (registries only)",
            Box::new(|p| {
                p["actionCategories"][0]["subtitle"] = json!("Now");
            }),
        ),
        (
            "the overview",
            Box::new(|p| p["overview"]["hero"]["title"] = json!("Welcome")),
        ),
        (
            "a trigger's text",
            Box::new(|p| p["triggers"]["onBuild"]["past"] = json!("Raised")),
        ),
    ];
    let mut ids = BTreeSet::from([default_id.clone()]);
    for (what, edit) in &edits {
        let edited = pack_with(|p| edit(p)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let id = edited.base_session().id().clone();
        assert_ne!(id, default_id, "{what}");
        assert!(ids.insert(id), "{what} gives the id of another edit");
    }
}

#[test]
fn content_ids_ignore_how_the_pack_is_written() {
    let pretty = serde_json::to_string_pretty(&pack_value()).expect("renders");
    let compact = serde_json::to_string(&pack_value()).expect("renders");
    for text in [pretty, compact] {
        let loaded = ContentPack::from_json(&text).expect("loads");
        assert_eq!(loaded.base_session().id(), pack().base_session().id());
    }
}

// ------------------------------------------------------- records, restoring

fn assert_same_content(restored: &SessionContent, original: &SessionContent) {
    assert_eq!(restored.id(), original.id());
    assert_eq!(restored.def(), original.def());
    assert_eq!(restored.registries(), original.registries());
    assert_eq!(restored.metadata(), original.metadata());
    assert_eq!(
        restored.registries().as_str(),
        original.registries().as_str()
    );
    assert_eq!(restored.metadata().as_str(), original.metadata().as_str());
    assert_eq!(restored.to_record(), original.to_record());
    assert_eq!(play(restored.content()), play(original.content()));
}

#[test]
fn content_rebuilt_from_its_record_equals_the_original() {
    let default = default_content();
    let restored = SessionContent::from_record(&default.to_record()).expect("restores");
    assert_same_content(&restored, &default);

    let custom = config(json!({
        "actions": [pray_action(), registries_entry("tax"), registries_entry("raise_pop")],
        "buildings": [{"id": "shrine", "name": "Shrine", "costs": {"gold": 3}}]
    }));
    let configured = pack().session(Some(&custom)).expect("valid config");
    let record = configured.to_record();
    // The record survives being stored as JSON, e.g. in a database column.
    let stored = serde_json::to_string(&record).expect("renders");
    let record: ContentRecord = serde_json::from_str(&stored).expect("parses");
    let restored = SessionContent::from_record(&record).expect("restores");
    assert_same_content(&restored, &configured);
    let checked = SessionContent::from_record_checked(&record, configured.id()).expect("same id");
    assert_eq!(checked.id(), configured.id());
}

/// An action of the default pack, as the registries show it.
fn registries_entry(id: &str) -> Value {
    default_content().registries().value()["actions"][id].clone()
}

#[test]
fn a_restored_session_keeps_its_content_after_the_default_changes() {
    // The content a session was created with: Tax paid 5 gold.
    let old_pack = pack_with(|p| {
        let tax = find(p, "actions", "id", "tax");
        tax["effects"][0]["effects"][0]["params"]["amount"] = json!(5);
        tax["description"] = json!("Collect 5 gold per member of your population.");
    })
    .expect("loads");
    let created = old_pack.session(None).expect("no config");
    let record = created.to_record();
    let stored_id = created.id().clone();
    drop(old_pack);

    // The server now runs the current default; restoring must not use it.
    let restored = SessionContent::from_record_checked(&record, &stored_id).expect("restores");
    assert_eq!(restored.id(), &stored_id);
    assert_ne!(restored.id(), pack().base_session().id());
    assert_eq!(gold_after_first_tax(restored.content()), 15.0);
    assert_eq!(gold_after_first_tax(pack().base_session().content()), 14.0);
    assert_eq!(
        restored.registries().value()["actions"]["tax"]["description"],
        "Collect 5 gold per member of your population."
    );
    assert_eq!(play(restored.content()), play(created.content()));
}

#[test]
fn restore_errors_name_what_failed() {
    let good = default_content().to_record();
    let with = |edit: &dyn Fn(&mut ContentRecord)| {
        let mut record = good.clone();
        edit(&mut record);
        SessionContent::from_record(&record)
    };

    let cut = with(&|r| r.engine.truncate(100));
    assert!(
        matches!(
            cut,
            Err(RestoreError::Json {
                part: Document::Engine,
                ..
            })
        ),
        "{cut:?}"
    );
    let schema = with(&|r| r.engine = r#"{"actions": 5}"#.to_owned());
    assert!(
        matches!(&schema, Err(RestoreError::Schema { path, .. }) if path == "actions"),
        "{schema:?}"
    );
    let invalid = with(&|r| {
        let mut engine: Value = serde_json::from_str(&r.engine).expect("JSON");
        engine["actions"][0]["effects"] = json!([{"type": "foo", "method": "bar"}]);
        r.engine = engine.to_string();
    });
    assert!(
        matches!(invalid, Err(RestoreError::Engine(_))),
        "{invalid:?}"
    );
    let registries = with(&|r| r.registries = "{".to_owned());
    assert!(
        matches!(
            registries,
            Err(RestoreError::Json {
                part: Document::Registries,
                ..
            })
        ),
        "{registries:?}"
    );
    let metadata = with(&|r| r.metadata = "[]".to_owned());
    assert!(
        matches!(
            metadata,
            Err(RestoreError::NotObject {
                part: Document::Metadata
            })
        ),
        "{metadata:?}"
    );

    let other_id: ContentId = "sha256:00000000000000000000000000000000"
        .parse()
        .expect("an id");
    let mismatch = SessionContent::from_record_checked(&good, &other_id);
    assert!(
        matches!(&mismatch, Err(RestoreError::IdMismatch { expected, actual })
            if expected == &other_id && actual == default_content().id()),
        "{mismatch:?}"
    );
    // Any change to a stored text is a different content.
    let edited = with(&|r| r.metadata = r.metadata.replace("Castle HP", "Keep HP")).expect("valid");
    assert_ne!(edited.id(), default_content().id());
}

#[test]
fn the_interner_shares_restored_content() {
    let interner = ContentInterner::new();
    let base = Arc::clone(pack().base_session());
    interner.insert(&base);
    let record = base.to_record();

    // Known by its stored id: shared without reading the record.
    let by_id = interner
        .restore(&record, Some(base.id()))
        .expect("restores");
    assert!(Arc::ptr_eq(&by_id, &base));
    // Without an id: rebuilt, found equal, shared.
    let by_content = interner.restore(&record, None).expect("restores");
    assert!(Arc::ptr_eq(&by_content, &base));

    let custom = config(json!({"actions": [pray_action()]}));
    let configured = pack().session(Some(&custom)).expect("valid").to_record();
    let first = interner.restore(&configured, None).expect("restores");
    let second = interner
        .restore(&configured, Some(first.id()))
        .expect("restores");
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(interner.live_len(), 2);
    drop((first, second));
    assert_eq!(interner.live_len(), 1);

    // A stored id that does not match the record is refused.
    let other_id: ContentId = "sha256:0123456789abcdef0123456789abcdef"
        .parse()
        .expect("id");
    let refused = interner.restore(&configured, Some(&other_id));
    assert!(
        matches!(refused, Err(RestoreError::IdMismatch { .. })),
        "{refused:?}"
    );
}

#[test]
fn default_documents_stay_small() {
    let content = default_content();
    let registries = content.registries().byte_len();
    let metadata = content.metadata().byte_len();
    let runtime = pack().runtime_config().byte_len();
    println!(
        "default registries: {registries} bytes, metadata: {metadata} bytes, runtime config: {runtime} bytes"
    );
    assert!(registries < 64 * 1024, "{registries}");
    assert!(metadata < 32 * 1024, "{metadata}");
    assert!(runtime < 64 * 1024, "{runtime}");
}
