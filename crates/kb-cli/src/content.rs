//! The content the CLI plays by: the default content, compiled into the
//! binary. (`kb-content` will offer this; swapping to it is one function.)

use std::sync::Arc;

use anyhow::Context as _;
use kb_engine::{Content, ContentDef};

/// The default content definition.
pub fn default_def() -> anyhow::Result<ContentDef> {
    serde_json::from_str(include_str!("../../kb-content/content/default.json"))
        .context("the built-in default content does not parse")
}

/// The default content, validated.
pub fn default_content() -> anyhow::Result<Arc<Content>> {
    let content =
        Content::new(default_def()?).context("the built-in default content is invalid")?;
    Ok(Arc::new(content))
}
