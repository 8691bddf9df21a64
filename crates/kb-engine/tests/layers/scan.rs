//! The layering check shared by the engine's and `kb-content`'s tests:
//! reads a crate's sources and lists every `crate::x` that names a module
//! of a layer above the naming module's own.

use std::path::{Path, PathBuf};

/// Layers, bottom first: a name and its modules.
pub type Layers<'a> = &'a [(&'a str, &'a [&'a str])];

fn layer_of(layers: Layers<'_>, module: &str) -> Option<usize> {
    layers
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

/// Every `.rs` file under `dir`, into `out`.
pub fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::x` in the sources under `src` that names a module of a
/// layer above its own, as a message. Names starting with a capital are
/// items re-exported at the crate root (types, `Key`), not modules.
///
/// # Panics
///
/// When a module belongs to no layer or a name is no known module.
pub fn upward_imports(src: &Path, layers: Layers<'_>) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    for file in &files {
        let module = module_of(src, file);
        if module == "lib" {
            continue;
        }
        let own = layer_of(layers, &module)
            .unwrap_or_else(|| panic!("module `{module}` belongs to no layer: add it to LAYERS"));
        let text = std::fs::read_to_string(file).expect("readable source");
        for named in named_modules(&text) {
            if named.starts_with(char::is_uppercase) || named == module {
                continue;
            }
            let Some(target) = layer_of(layers, &named) else {
                panic!("{}: `crate::{named}` names no known module", file.display());
            };
            if target > own {
                upward.push(format!(
                    "{}: `{module}` ({}) uses `crate::{named}` ({})",
                    file.display(),
                    layers[own].0,
                    layers[target].0
                ));
            }
        }
    }
    upward
}

/// Every module named after `crate::` in `text`: `crate::a::b` gives `a`,
/// `crate::{a, b::c, D}` gives `a`, `b` and `D` (top level of the group).
pub fn named_modules(text: &str) -> Vec<String> {
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
