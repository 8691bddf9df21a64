//! The JSON documents this crate renders ([`Document`]), and why building
//! them can fail ([`BuildError`]).

use std::fmt;

use kb_engine::ContentError;

/// One of the JSON documents this crate renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The engine content definition.
    Engine,
    /// The registries.
    Registries,
    /// The static metadata.
    Metadata,
    /// The runtime config.
    RuntimeConfig,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::Engine => "engine content",
            Document::Registries => "registries",
            Document::Metadata => "metadata",
            Document::RuntimeConfig => "runtime config",
        })
    }
}

/// Session content could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The config does not give valid content (the error names the entry).
    #[error("invalid game config: {0}")]
    Config(#[source] ContentError),
    /// A document failed to render.
    #[error("could not render the {part}: {source}")]
    Render {
        /// The document.
        part: Document,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}
