//! `kb-content`'s layering, enforced as the engine's is (the same scanner):
//! every module belongs to one layer, and a module names (`crate::x`) only
//! modules of layers below its own. Each layer is one module, so the crate
//! has no import circle.

use std::path::Path;

#[path = "../../kb-engine/tests/layers/scan.rs"]
mod scan;

/// The layers, bottom first.
const LAYERS: &[(&str, &[&str])] = &[
    // Pre-rendered JSON and the canonical form.
    ("json", &["json"]),
    // Content ids (hashes of canonical JSON).
    ("id", &["id"]),
    // The rendered documents and why building one fails.
    ("document", &["document"]),
    // The presentation parts of a pack and the sources of session content.
    ("presentation", &["presentation"]),
    // The documents sent to clients.
    ("registries", &["registries"]),
    ("metadata", &["metadata"]),
    ("runtime", &["runtime"]),
    // Session content, records, interning.
    ("session", &["session"]),
    // The pack: loading, checks, building sessions.
    ("pack", &["pack"]),
];

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let upward = scan::upward_imports(&src, LAYERS);
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn every_layer_is_one_module() {
    assert!(LAYERS.iter().all(|(_, modules)| modules.len() == 1));
}
