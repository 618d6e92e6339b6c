//! The `fields` projection: keep only the named (dot-path) fields of each item.

use serde_json::{Map, Value};

/// Projects a payload. A list, or an object with an `items` list, is projected item
/// by item; any other object is projected itself. Non-objects pass through.
pub fn project(payload: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return payload.clone();
    }
    match payload {
        Value::Array(items) => Value::Array(items.iter().map(|i| project_one(i, fields)).collect()),
        Value::Object(obj) if obj.get("items").is_some_and(Value::is_array) => {
            let mut out = obj.clone();
            if let Some(Value::Array(items)) = obj.get("items") {
                out.insert(
                    "items".into(),
                    Value::Array(items.iter().map(|i| project_one(i, fields)).collect()),
                );
            }
            Value::Object(out)
        }
        other => project_one(other, fields),
    }
}

fn project_one(item: &Value, fields: &[String]) -> Value {
    let Value::Object(_) = item else {
        return item.clone();
    };
    let mut out = Value::Object(Map::new());
    for path in fields {
        let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        if let Some(v) = get_path(item, &parts) {
            set_path(&mut out, &parts, v.clone());
        }
    }
    out
}

fn get_path<'a>(v: &'a Value, parts: &[&str]) -> Option<&'a Value> {
    parts.iter().try_fold(v, |cur, p| cur.get(*p))
}

fn set_path(target: &mut Value, parts: &[&str], v: Value) {
    let Some((last, init)) = parts.split_last() else {
        return;
    };
    let mut cur = target;
    for p in init {
        let Value::Object(obj) = cur else { return };
        cur = obj
            .entry((*p).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(obj) = cur {
        obj.insert((*last).to_string(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projects_items_and_nested_paths() {
        let p = json!({"items": [{"id": 1, "name": "a", "dept": {"name": "x", "code": 9}}], "total": 1});
        let out = project(&p, &["id".into(), "dept.name".into()]);
        assert_eq!(
            out,
            json!({"items": [{"id": 1, "dept": {"name": "x"}}], "total": 1})
        );
    }

    #[test]
    fn projects_single_object_and_ignores_missing() {
        let out = project(&json!({"a": 1, "b": 2}), &["a".into(), "zz".into()]);
        assert_eq!(out, json!({"a": 1}));
    }
}
