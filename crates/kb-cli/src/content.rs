//! The content the CLI plays by: the default content pack of `kb-content`,
//! the same one the server uses.

use std::sync::Arc;

use kb_content::ContentPack;
use kb_engine::{Content, ContentDef};

/// The default content definition.
pub fn default_def() -> anyhow::Result<ContentDef> {
    Ok(ContentPack::default_pack().def().clone())
}

/// The default content, validated.
pub fn default_content() -> anyhow::Result<Arc<Content>> {
    Ok(ContentPack::default_pack().base_session().content().clone())
}
