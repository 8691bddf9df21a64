//! [`RenderedJson`]: a JSON document rendered once and spliced into every
//! response, and the canonical form content ids are computed from.
//!
//! Registries and metadata are static for the life of a session but travel
//! in nearly every response. Rendering them once and embedding the text as a
//! [`RawValue`] keeps responses from re-serializing them on every request.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON document kept both as text (to splice into responses) and as a
/// parsed [`Value`] (to inspect and test).
///
/// Serializing a `RenderedJson` with `serde_json` writes the stored text
/// verbatim, so a response struct can hold a `&RenderedJson` field.
#[derive(Clone)]
pub struct RenderedJson {
    value: Value,
    raw: Arc<RawValue>,
}

impl RenderedJson {
    /// Parses `text`, keeping the text exactly as given.
    pub(crate) fn from_text(text: String) -> Result<RenderedJson, serde_json::Error> {
        let value = serde_json::from_str(&text)?;
        let raw = Arc::from(RawValue::from_string(text)?);
        Ok(RenderedJson { value, raw })
    }

    /// Renders `doc` and keeps the result.
    pub(crate) fn render<T: Serialize + ?Sized>(
        doc: &T,
    ) -> Result<RenderedJson, serde_json::Error> {
        RenderedJson::from_text(serde_json::to_string(doc)?)
    }

    /// The document, parsed.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The document as rendered, ready to embed in a response.
    pub fn raw(&self) -> &Arc<RawValue> {
        &self.raw
    }

    /// The rendered text.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// The size of the rendered text in bytes.
    pub fn byte_len(&self) -> usize {
        self.raw.get().len()
    }

    /// This object with the top-level fields of `extra` added in front,
    /// without re-rendering it: how a snapshot's static metadata gains the
    /// engine's `passiveEvaluationModifiers` and `effectLogs` (reference
    /// protocol §5.7).
    ///
    /// Fails when this document or `extra` is not an object, or when `extra`
    /// names a field this document already has (the result would hold a
    /// duplicate key).
    pub fn splice_object<T: Serialize + ?Sized>(
        &self,
        extra: &T,
    ) -> Result<Box<RawValue>, SpliceError> {
        let base = self.value.as_object().ok_or(SpliceError::BaseNotObject)?;
        let extra_value = serde_json::to_value(extra).map_err(SpliceError::Render)?;
        let extra_fields = extra_value.as_object().ok_or(SpliceError::ExtraNotObject)?;
        if let Some(key) = extra_fields.keys().find(|key| base.contains_key(*key)) {
            return Err(SpliceError::DuplicateField { key: key.clone() });
        }
        let extra_text = serde_json::to_string(&extra_value).map_err(SpliceError::Render)?;
        let base_text = self.as_str();
        let text = if extra_fields.is_empty() {
            base_text.to_owned()
        } else if base.is_empty() {
            extra_text
        } else {
            // Both are non-empty objects: `{extra…` + `,` + `…base}`.
            let mut text = String::with_capacity(extra_text.len() + base_text.len());
            text.push_str(&extra_text[..extra_text.len() - 1]);
            text.push(',');
            text.push_str(&base_text[1..]);
            text
        };
        RawValue::from_string(text).map_err(SpliceError::Render)
    }
}

/// Two documents are equal when they are the same JSON value: equal in
/// canonical form, as [content ids](crate::ContentId) compare them.
/// So `1` and `1.0` are equal, as they are to JavaScript clients.
impl PartialEq for RenderedJson {
    fn eq(&self, other: &Self) -> bool {
        if self.as_str() == other.as_str() {
            return true;
        }
        let (mut left, mut right) = (String::new(), String::new());
        write_canonical(&self.value, &mut left);
        write_canonical(&other.value, &mut right);
        left == right
    }
}

/// Shows the rendered text, not the parsed copy of it.
impl fmt::Debug for RenderedJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RenderedJson").field(&self.as_str()).finish()
    }
}

impl Serialize for RenderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// Why [`RenderedJson::splice_object`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SpliceError {
    /// The rendered document is not a JSON object.
    #[error("cannot add fields to a JSON document that is not an object")]
    BaseNotObject,
    /// The extra fields do not serialize to a JSON object.
    #[error("the fields to add do not form a JSON object")]
    ExtraNotObject,
    /// The extra fields name a field the document already has.
    #[error("field {key:?} is already present in the document")]
    DuplicateField {
        /// The field.
        key: String,
    },
    /// The extra fields failed to serialize.
    #[error("could not render the fields to add: {0}")]
    Render(#[source] serde_json::Error),
}

/// A document that did not deserialize, and where.
pub(crate) struct PathError {
    /// The path of the failure (`actions[2].baseCosts`), `.` for the whole
    /// document.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) source: serde_json::Error,
}

/// Deserializes the whole of `text` as `T` (trailing characters are an
/// error), naming the path of a failure.
pub(crate) fn deserialize_with_path<'de, T: serde::Deserialize<'de>>(
    text: &'de str,
) -> Result<T, PathError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| PathError {
        path: error.path().to_string(),
        source: error.into_inner(),
    })?;
    deserializer.end().map_err(|source| PathError {
        path: ".".to_owned(),
        source,
    })?;
    Ok(value)
}

/// Writes `value` in canonical form: no whitespace, object keys sorted by
/// their UTF-8 bytes, whole numbers up to 2^53 written as integers (so `1`,
/// `1.0` and `1e0` agree), other numbers in the shortest form that reads
/// back exactly, strings escaped as `serde_json` escapes them.
///
/// The form depends only on the JSON value: not on how the text was
/// formatted, in which order object keys were written, or whether
/// `serde_json` keeps insertion order.
pub(crate) fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

/// The largest integer an `f64` represents exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

fn write_number(n: &serde_json::Number, out: &mut String) {
    // Writing into a String cannot fail.
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() <= MAX_EXACT {
            // Exact: |f| <= 2^53 fits in i64 and the cast does not round.
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i64;
            let _ = write!(out, "{i}");
        } else {
            // `Number`'s Display writes the shortest text that reads back
            // as the same f64.
            let _ = write!(out, "{n}");
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serializing a str cannot fail.
    if let Ok(text) = serde_json::to_string(s) {
        out.push_str(&text);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canonical(value: &Value) -> String {
        let mut out = String::new();
        write_canonical(value, &mut out);
        out
    }

    #[test]
    fn canonical_form_sorts_keys_and_drops_whitespace() {
        let a: Value = serde_json::from_str(r#"{ "b": [1, 2], "a": {"y": null, "x": true} }"#)
            .expect("valid JSON");
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":true,"y":null},"b":[1,2]}"#).expect("valid JSON");
        assert_eq!(canonical(&a), r#"{"a":{"x":true,"y":null},"b":[1,2]}"#);
        assert_eq!(canonical(&a), canonical(&b));
    }

    #[test]
    fn canonical_form_keeps_array_order() {
        assert_ne!(canonical(&json!([1, 2])), canonical(&json!([2, 1])));
    }

    #[test]
    fn canonical_form_writes_whole_numbers_as_integers() {
        let a: Value = serde_json::from_str("[1.0, 1e2, -0.0, 0.25, -3, 1e300]").expect("valid");
        assert_eq!(canonical(&a), "[1,100,0,0.25,-3,1e+300]");
        assert_eq!(canonical(&json!(1)), canonical(&json!(1.0)));
        assert_ne!(canonical(&json!(1)), canonical(&json!(1.5)));
    }

    #[test]
    fn canonical_form_escapes_strings() {
        assert_eq!(canonical(&json!("a\"b\\c\n🏰")), "\"a\\\"b\\\\c\\n🏰\"");
        assert_eq!(canonical(&json!({"k\"": 1})), "{\"k\\\"\":1}");
    }

    #[test]
    fn rendered_json_keeps_its_text_and_parses_it() {
        let doc = RenderedJson::from_text(r#"{"z":1,"a":[true]}"#.to_owned()).expect("valid");
        assert_eq!(doc.as_str(), r#"{"z":1,"a":[true]}"#);
        assert_eq!(doc.value(), &json!({"a": [true], "z": 1}));
        assert_eq!(doc.byte_len(), 18);
        let wrapped = serde_json::to_string(&json!({"x": 0})).expect("renders");
        assert_eq!(wrapped, r#"{"x":0}"#);
        #[derive(Serialize)]
        struct Response<'a> {
            id: u8,
            doc: &'a RenderedJson,
        }
        let text = serde_json::to_string(&Response { id: 7, doc: &doc }).expect("renders");
        assert_eq!(text, r#"{"id":7,"doc":{"z":1,"a":[true]}}"#);
    }

    #[test]
    fn rendered_json_equality_is_json_value_equality() {
        let doc = |text: &str| RenderedJson::from_text(text.to_owned()).expect("valid");
        assert_eq!(
            doc(r#"{"a":1,"b":[2]}"#),
            doc(r#"{ "b": [2.0], "a": 1e0 }"#)
        );
        assert_ne!(doc(r#"{"a":1}"#), doc(r#"{"a":1.5}"#));
        assert_ne!(doc(r#"{"a":[1,2]}"#), doc(r#"{"a":[2,1]}"#));
    }

    #[test]
    fn rendered_json_rejects_invalid_text() {
        assert!(RenderedJson::from_text("{\"a\":".to_owned()).is_err());
    }

    #[test]
    fn splice_object_adds_fields_in_front() {
        let doc = RenderedJson::from_text(r#"{"stats":{"a":1}}"#.to_owned()).expect("valid");
        let spliced = doc
            .splice_object(&json!({"passiveEvaluationModifiers": {}}))
            .expect("splices");
        assert_eq!(
            spliced.get(),
            r#"{"passiveEvaluationModifiers":{},"stats":{"a":1}}"#
        );
        let unchanged = doc.splice_object(&json!({})).expect("splices");
        assert_eq!(unchanged.get(), doc.as_str());
        let empty = RenderedJson::from_text("{}".to_owned()).expect("valid");
        let only_extra = empty.splice_object(&json!({"e": [1]})).expect("splices");
        assert_eq!(only_extra.get(), r#"{"e":[1]}"#);
    }

    #[test]
    fn splice_object_refuses_duplicates_and_non_objects() {
        let doc = RenderedJson::from_text(r#"{"stats":{}}"#.to_owned()).expect("valid");
        assert!(matches!(
            doc.splice_object(&json!({"stats": 1})),
            Err(SpliceError::DuplicateField { key }) if key == "stats"
        ));
        assert!(matches!(
            doc.splice_object(&json!([1])),
            Err(SpliceError::ExtraNotObject)
        ));
        let array = RenderedJson::from_text("[]".to_owned()).expect("valid");
        assert!(matches!(
            array.splice_object(&json!({})),
            Err(SpliceError::BaseNotObject)
        ));
    }
}
