//! The engine's layering, enforced: every module belongs to one layer (see
//! `ARCHITECTURE.md`), and a module may name (`crate::x`, in a `use` or in
//! a path) only modules of its own layer or of layers below. The test reads
//! the sources, so an upward import fails here before review.
//!
//! It also checks that the engine's types are plain data: no engine source
//! names a wire field in a serde attribute (`wire.rs`).
//!
//! The rules are five layers of one module each, so they form a strict
//! order with no circle: `exec` (the context and the machinery every effect
//! uses) < `triggers` < `attack` < `action` < `handlers` (the dispatch over
//! every effect kind, handed to a context as its runner).

use std::path::Path;

mod scan;
mod wire;

/// The layers, bottom first. Modules of `content` include its submodules.
/// A layer of several modules lets them name each other; none does now
/// (the AI's policy, which works on a `Game` that plays it, is part of
/// `game`).
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["num", "map", "player"]),
    ("content", &["content"]),
    ("state", &["state", "error"]),
    ("logs", &["attack_log"]),
    ("snapshot", &["snapshot"]),
    ("result", &["result"]),
    ("exec", &["exec"]),
    ("triggers", &["triggers"]),
    ("attack", &["attack"]),
    ("action", &["action"]),
    ("handlers", &["handlers"]),
    ("flow", &["advance", "setup"]),
    ("game", &["game"]),
    ("legal", &["legal"]),
];

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let upward = scan::upward_imports(&src, LAYERS);
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn a_planted_upward_import_is_found() {
    let dir = std::env::temp_dir().join(format!("kb-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("exec.rs"), "use crate::handlers::run;\n").unwrap();
    std::fs::write(dir.join("handlers.rs"), "use crate::exec::Ctx;\n").unwrap();
    let upward = scan::upward_imports(&dir, LAYERS);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(upward.len(), 1, "{upward:?}");
    assert!(upward[0].contains("`exec` (exec) uses `crate::handlers` (handlers)"));
}

#[test]
fn the_import_scanner_sees_groups_and_paths() {
    let text = "use crate::{Key, attack};\nuse crate::content::{A, B};\nlet x = crate::game::f();\nuse crate::{a::{b, c}, d};";
    assert_eq!(
        scan::named_modules(text),
        ["Key", "attack", "content", "game", "a", "d"]
    );
}

#[test]
fn every_layer_is_listed_once() {
    let mut all: Vec<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "a module is in two layers");
}

#[test]
fn no_engine_source_names_a_wire_field_in_a_serde_attribute() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = wire::wire_attributes(&src);
    assert!(
        found.is_empty(),
        "serde attributes shaping the wire (the JSON form belongs in kb-protocol or kb-session):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_planted_wire_attribute_is_found() {
    let dir = std::env::temp_dir().join(format!("kb-wire-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::write(
        dir.join("content/def.rs"),
        "#[serde(rename_all = \"camelCase\")]\nstruct A {\n    #[serde(rename = \"type\")]\n    kind: u8,\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("num.rs"),
        "    #[serde(flatten)]\n    rest: Params,\n",
    )
    .unwrap();
    std::fs::write(dir.join("state.rs"), "#[serde(default)]\nstruct Plain;\n").unwrap();
    let found = wire::wire_attributes(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].ends_with("def.rs:1: #[serde(rename_all = \"camelCase\")]"));
    assert!(found[1].ends_with("def.rs:3: #[serde(rename = \"type\")]"));
    assert!(found[2].ends_with("num.rs:1: #[serde(flatten)]"));
}
