//! Default Kingdom Builder content as data, and the descriptors built from it.
//!
//! Everything the server sends clients besides the game state comes from
//! here: the registries, the static metadata, the runtime config, and a
//! content id that names them.
//!
//! * [`ContentPack`]: one JSON document with the engine content and the
//!   presentation parts; [`ContentPack::default_pack`] is the shipped one,
//!   loaded and validated once per process.
//! * [`SessionContent`]: what one session plays by (the engine [`Content`]
//!   and its registries and metadata, each pre-rendered once as
//!   [`RenderedJson`]), named by a [`ContentId`]. Sessions without a config
//!   share one `Arc<SessionContent>`.
//! * [`ContentRecord`]: the stored form of a session's content; restoring
//!   from it never consults the current default pack.
//!   [`ContentInterner`] shares restored content between sessions.
//!
//! ```
//! use kb_content::ContentPack;
//!
//! let pack = ContentPack::default_pack();
//! let content = pack.session(None).expect("no config needs no checking");
//! assert_eq!(content.registries().value()["actions"]["tax"]["baseCosts"]["ap"], 1);
//! let restored = kb_content::SessionContent::from_record(&content.to_record()).unwrap();
//! assert_eq!(restored.id(), content.id());
//! ```
//!
//! # Layout
//!
//! The modules form a strict order, each naming only modules below it
//! (`tests/layers.rs` refuses an upward import), bottom first:
//!
//! * `json`: pre-rendered JSON and the canonical form; `id`: content ids.
//! * `document`: the rendered documents and [`BuildError`].
//! * `presentation`: the pack's presentation parts and what session
//!   content is built from.
//! * `registries`, `metadata`, `runtime`: the documents sent to clients.
//! * `session`: session content, records, restoring, interning.
//! * `pack`: the pack schema, loading and checks.
//!
//! [`Content`]: kb_engine::Content

#![deny(missing_docs)]

mod document;
mod id;
mod json;
mod metadata;
mod pack;
mod presentation;
mod registries;
mod runtime;
mod session;

pub use document::{BuildError, Document};
pub use id::{ContentId, InvalidContentId};
pub use json::{RenderedJson, SpliceError};
pub use pack::{ContentPack, DEFAULT_PACK_JSON, PackError};
pub use presentation::{
    ActionCategoryInfo, CategoryLayout, Descriptor, Presentation, StatInfo, TriggerInfo,
};
pub use session::{ContentInterner, ContentRecord, RestoreError, SessionContent, SnapshotStatics};
