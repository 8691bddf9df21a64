//! The engine's types are plain data: no source file of the engine names a
//! wire field in a serde attribute (`serde(rename …)`, `rename_all`,
//! `serde(flatten)`). The reference's JSON shapes live above the engine
//! (`kb_protocol::schema` for content, `kb_protocol::answers` for answers,
//! `kb_session::stored` for checkpoints and log entries).

use std::path::Path;

use super::scan::sources;

/// What marks a serde attribute that shapes the wire.
const WIRE_MARKS: &[&str] = &["serde(rename", "rename_all", "serde(flatten"];

/// Every line of the sources under `src` that contains a wire mark, as
/// `file:line: text`.
pub fn wire_attributes(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            if WIRE_MARKS.iter().any(|mark| line.contains(mark)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}
