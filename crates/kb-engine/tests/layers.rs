//! The engine's layering, enforced: every module belongs to one layer (see
//! `ARCHITECTURE.md`), and a module may name (`crate::x`, in a `use` or in
//! a path) only modules of its own layer or of layers below. The test reads
//! the sources, so an upward import fails here before review.
//!
//! The rules are five layers of one module each, so they form a strict
//! order with no circle: `exec` (the context and the machinery every effect
//! uses) < `triggers` < `attack` < `action` < `handlers` (the dispatch over
//! every effect kind, handed to a context as its runner).

use std::path::{Path, PathBuf};

/// The layers, bottom first. Modules of `content` include its submodules.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["num", "map", "player"]),
    ("content", &["content"]),
    ("state", &["state", "error"]),
    ("views", &["result", "snapshot"]),
    ("exec", &["exec"]),
    ("triggers", &["triggers"]),
    ("attack", &["attack"]),
    ("action", &["action"]),
    ("handlers", &["handlers"]),
    ("flow", &["advance", "setup"]),
    ("api", &["game", "ai", "legal"]),
];

/// Names at the crate root that are not modules (re-exports, `Key`).
const ROOT_ITEMS: &[&str] = &["Key"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// The module a source file belongs to (`src/content/op.rs` → `content`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module named after `crate::` in `text`: `crate::a::b` gives `a`,
/// `crate::{a, b::c, D}` gives `a`, `b` and `D` (top level of the group).
fn named_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("crate::") {
        let after = &rest[pos + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut at_top = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        if !item.is_empty() {
                            out.push(std::mem::take(&mut item));
                        }
                        at_top = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && at_top {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        out.push(std::mem::take(&mut item));
                        at_top = false;
                    }
                }
            }
            if !item.is_empty() {
                out.push(item);
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
        rest = after;
    }
    out
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let own = layer_of(&module)
            .unwrap_or_else(|| panic!("module `{module}` belongs to no layer: add it to LAYERS"));
        let text = std::fs::read_to_string(file).expect("readable source");
        for named in named_modules(&text) {
            if ROOT_ITEMS.contains(&named.as_str()) || named == module {
                continue;
            }
            let Some(target) = layer_of(&named) else {
                panic!("{}: `crate::{named}` names no known module", file.display());
            };
            if target > own {
                upward.push(format!(
                    "{}: `{module}` ({}) uses `crate::{named}` ({})",
                    file.display(),
                    LAYERS[own].0,
                    LAYERS[target].0
                ));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_import_scanner_sees_groups_and_paths() {
    let text = "use crate::{Key, attack};\nuse crate::content::{A, B};\nlet x = crate::game::f();\nuse crate::{a::{b, c}, d};";
    assert_eq!(
        named_modules(text),
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
