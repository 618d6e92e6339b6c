//! JSON pointers and `$ref` resolution: local references only, nested ones followed,
//! cycles and over-deep chains cut off with a note instead of recursing forever.

use serde_json::{Map, Value};

/// Escapes one reference token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `base` + `/token`, escaped.
pub fn child(base: &str, token: &str) -> String {
    format!("{base}/{}", escape(token))
}

/// Decodes `%XX` escapes (references are URI fragments).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a `$ref` could not be followed.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRef {
    /// Where the `$ref` sits.
    pub pointer: String,
    pub message: String,
}

/// The JSON pointer a local `$ref` names, or why it is not one we can follow.
pub fn local_target(reference: &str) -> Result<String, String> {
    match reference.strip_prefix('#') {
        Some(fragment) if fragment.is_empty() || fragment.starts_with('/') => {
            Ok(percent_decode(fragment))
        }
        Some(_) => Err(format!(
            "'{reference}' is not a JSON pointer (anchors are not supported)"
        )),
        None => Err(format!(
            "'{reference}' points outside this document; only local references (#/…) are supported: bundle the document first"
        )),
    }
}

/// Follows `$ref` chains from `value` (which sits at `pointer`) to a non-reference value.
/// Returns the value and the pointer it was found at.
pub fn follow<'a>(
    root: &'a Value,
    value: &'a Value,
    pointer: &str,
    max_hops: usize,
) -> Result<(&'a Value, String), BrokenRef> {
    let mut current = value;
    let mut at = pointer.to_string();
    let mut hops = 0;
    while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
        hops += 1;
        if hops > max_hops {
            return Err(BrokenRef {
                pointer: at,
                message: format!("more than {max_hops} chained $refs (a cycle?)"),
            });
        }
        let target = local_target(reference).map_err(|message| BrokenRef {
            pointer: child(&at, "$ref"),
            message,
        })?;
        current = root.pointer(&target).ok_or_else(|| BrokenRef {
            pointer: child(&at, "$ref"),
            message: format!("'{reference}' does not resolve to anything in the document"),
        })?;
        at = target;
    }
    Ok((current, at))
}

/// Keywords whose values are data, not schemas: copied as they are.
const DATA_KEYWORDS: [&str; 4] = ["enum", "const", "default", "required"];
/// OpenAPI-only or bulky keywords dropped from published input schemas.
const DROPPED_KEYWORDS: [&str; 6] = [
    "xml",
    "example",
    "examples",
    "externalDocs",
    "discriminator",
    "nullable",
];

/// Limits for one inlined schema.
#[derive(Debug, Clone, Copy)]
pub struct InlineLimits {
    /// Nested `$ref` expansions on one branch before it is cut off.
    pub max_depth: usize,
    /// Values produced before the rest is cut off.
    pub max_nodes: usize,
}

/// Inlines every local `$ref` of a schema into a self-contained JSON Schema.
pub struct Inliner<'a> {
    root: &'a Value,
    limits: InlineLimits,
    stack: Vec<String>,
    nodes: usize,
    /// Notes on what was cut off (recursion, depth, size), each once.
    pub notes: Vec<String>,
}

impl<'a> Inliner<'a> {
    pub fn new(root: &'a Value, limits: InlineLimits) -> Self {
        Inliner {
            root,
            limits,
            stack: Vec::new(),
            nodes: 0,
            notes: Vec::new(),
        }
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The schema at `pointer`, references inlined and OpenAPI 3.0 `nullable` turned
    /// into a JSON Schema type union.
    pub fn inline(&mut self, schema: &Value, pointer: &str) -> Result<Value, BrokenRef> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            self.note(format!(
                "the schema is larger than {} nodes; the rest was cut off",
                self.limits.max_nodes
            ));
            return Ok(Value::Object(Map::new()));
        }
        match schema {
            Value::Object(obj) => {
                if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                    return self.inline_ref(obj, reference, pointer);
                }
                self.inline_object(obj, pointer)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.inline(item, &format!("{pointer}/{i}"))?);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn inline_ref(
        &mut self,
        obj: &Map<String, Value>,
        reference: &str,
        pointer: &str,
    ) -> Result<Value, BrokenRef> {
        let ref_pointer = child(pointer, "$ref");
        let target = local_target(reference).map_err(|message| BrokenRef {
            pointer: ref_pointer.clone(),
            message,
        })?;
        let name = target.rsplit('/').next().unwrap_or("").to_string();
        if self.stack.contains(&target) {
            self.note(format!(
                "recursive schema '{name}' ({reference}) is cut off where it repeats"
            ));
            return Ok(cut_off(
                obj,
                format!("(recursive '{name}'; not expanded further)"),
            ));
        }
        if self.stack.len() >= self.limits.max_depth {
            self.note(format!(
                "schema nesting deeper than {} references is cut off",
                self.limits.max_depth
            ));
            return Ok(cut_off(
                obj,
                format!("('{name}'; nesting too deep, not expanded)"),
            ));
        }
        let resolved = self.root.pointer(&target).ok_or_else(|| BrokenRef {
            pointer: ref_pointer,
            message: format!("'{reference}' does not resolve to anything in the document"),
        })?;
        self.stack.push(target.clone());
        let inlined = self.inline(resolved, &target);
        self.stack.pop();
        let mut inlined = inlined?;
        // OpenAPI 3.1 allows keywords beside `$ref`; they refine the target.
        if let Value::Object(out) = &mut inlined {
            for (k, v) in obj {
                if k != "$ref" && !DROPPED_KEYWORDS.contains(&k.as_str()) {
                    let v = self.inline_keyword(k, v, pointer)?;
                    out.insert(k.clone(), v);
                }
            }
        }
        Ok(inlined)
    }

    fn inline_keyword(
        &mut self,
        key: &str,
        value: &Value,
        pointer: &str,
    ) -> Result<Value, BrokenRef> {
        if DATA_KEYWORDS.contains(&key) {
            Ok(value.clone())
        } else {
            self.inline(value, &child(pointer, key))
        }
    }

    fn inline_object(
        &mut self,
        obj: &Map<String, Value>,
        pointer: &str,
    ) -> Result<Value, BrokenRef> {
        let mut out = Map::new();
        for (k, v) in obj {
            if DROPPED_KEYWORDS.contains(&k.as_str()) {
                continue;
            }
            if k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions" {
                // A map of names to schemas: the names are data, the values schemas.
                if let Value::Object(props) = v {
                    let base = child(pointer, k);
                    let mut mapped = Map::new();
                    for (name, schema) in props {
                        mapped.insert(name.clone(), self.inline(schema, &child(&base, name))?);
                    }
                    out.insert(k.clone(), Value::Object(mapped));
                    continue;
                }
            }
            out.insert(k.clone(), self.inline_keyword(k, v, pointer)?);
        }
        if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
            make_nullable(&mut out);
        }
        Ok(Value::Object(out))
    }
}

/// A stand-in for a schema that is not expanded: any value, with a note.
fn cut_off(obj: &Map<String, Value>, note: String) -> Value {
    let mut out = Map::new();
    let description = match obj.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d} {note}"),
        None => note,
    };
    out.insert("description".into(), Value::String(description));
    Value::Object(out)
}

/// OpenAPI 3.0 `nullable: true` → JSON Schema `type: [t, "null"]`.
fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            schema.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), Value::String("null".into())]),
            );
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
            types.push(Value::String("null".into()));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_escape_and_decode() {
        assert_eq!(child("/paths", "/pets/{id}"), "/paths/~1pets~1{id}");
        assert_eq!(
            local_target("#/components/schemas/A%20B").unwrap(),
            "/components/schemas/A B"
        );
        assert!(local_target("other.yaml#/x")
            .unwrap_err()
            .contains("only local references"));
        assert!(local_target("#anchor").is_err());
    }

    #[test]
    fn nested_refs_are_inlined_and_cycles_cut() {
        let root = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {
                "name": {"$ref": "#/components/schemas/Name"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
            }},
            "Name": {"$ref": "#/components/schemas/Str"},
            "Str": {"type": "string", "nullable": true, "example": "x"}
        }}});
        let mut inliner = Inliner::new(
            &root,
            InlineLimits {
                max_depth: 10,
                max_nodes: 1000,
            },
        );
        let out = inliner
            .inline(&json!({"$ref": "#/components/schemas/Node"}), "/x")
            .unwrap();
        assert_eq!(
            out["properties"]["name"],
            json!({"type": ["string", "null"]})
        );
        let inner = &out["properties"]["children"]["items"];
        assert!(
            inner["description"]
                .as_str()
                .unwrap()
                .contains("recursive 'Node'"),
            "{inner}"
        );
        assert!(inliner.notes[0].contains("recursive schema 'Node'"));
    }

    #[test]
    fn broken_ref_names_its_pointer() {
        let root = json!({});
        let mut inliner = Inliner::new(
            &root,
            InlineLimits {
                max_depth: 10,
                max_nodes: 1000,
            },
        );
        let err = inliner
            .inline(&json!({"properties": {"a": {"$ref": "#/nope"}}}), "/s")
            .unwrap_err();
        assert_eq!(err.pointer, "/s/properties/a/$ref");
        assert!(err.message.contains("does not resolve"));
    }

    #[test]
    fn node_budget_cuts_off_huge_schemas() {
        let root = json!({});
        let big = json!({"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}});
        let mut inliner = Inliner::new(
            &root,
            InlineLimits {
                max_depth: 10,
                max_nodes: 3,
            },
        );
        inliner.inline(&big, "/s").unwrap();
        assert!(inliner.notes[0].contains("larger than 3 nodes"));
    }
}
