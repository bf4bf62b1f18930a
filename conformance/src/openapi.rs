//! The one OpenAPI validator of the workspace: `contract/openapi.yaml`, embedded,
//! and a small JSON Schema check covering what the document uses. The kit judges
//! every answer with it; the reference server's own tests use it too.

use serde_json::Value;
use std::sync::OnceLock;

/// The contract document as written.
pub const DOCUMENT: &str = include_str!("../../contract/openapi.yaml");

/// The contract document, parsed once.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_norway::from_str(DOCUMENT).expect("contract/openapi.yaml is valid YAML")
    })
}

/// Follows local `$ref`s until a schema (or response) itself.
pub fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| spec.pointer(p)) {
            Some(s) => schema = s,
            // The document's own tests keep refs local and live; a dangling one matches nothing.
            None => return &Value::Null,
        }
    }
    schema
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// Checks `v` against `schema`; `at` names the place in errors. Hand-written
/// because the document needs only this subset, and a full JSON Schema crate
/// would not know the contract's own date-time rule (`Timestamp::parse_rfc3339`).
pub fn validate(spec: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(spec, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| validate(spec, o, v, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{at}: {v} matches {matching} of the oneOf options"));
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, v) => {
            return Err(format!("{at}: {v} is not {t}"))
        }
        Some(Value::Array(ts))
            if !ts
                .iter()
                .any(|t| t.as_str().is_some_and(|t| type_matches(t, v))) =>
        {
            return Err(format!("{at}: {v} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some("date-time"), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str())
    {
        maeum_contract::Timestamp::parse_rfc3339(s).map_err(|e| format!("{at}: {e}"))?;
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            return Err(format!("{at}: {n} < {min}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(key) {
                return Err(format!("{at}: required key {key:?} missing in {v}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (key, value) in obj {
                match props.get(key) {
                    Some(p) => validate(spec, p, value, &format!("{at}.{key}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{at}: undocumented key {key:?}"))
                    }
                    None => {}
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(spec, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The documented path (`/v1/damage-claims/{receipt_no}`) that `path` (relative to
/// the API base, without a query) is an instance of.
pub fn route_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let want: Vec<&str> = path.split('/').collect();
    spec()["paths"].as_object()?.keys().find_map(|route| {
        let have: Vec<&str> = route.split('/').collect();
        let same = have.len() == want.len()
            && have
                .iter()
                .zip(&want)
                .all(|(h, w)| h == w || (h.starts_with('{') && !w.is_empty()));
        same.then_some(route.as_str())
    })
}

/// What the document says about one answer to `method route`.
pub struct Answer<'a> {
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// Names of the headers present (any case).
    pub headers: Vec<String>,
    pub body: &'a str,
}

/// The documented response for `method route` and `status`, or why there is none.
pub fn documented(route: &str, method: &str, status: u16) -> Result<&'static Value, String> {
    let spec = spec();
    let op = spec["paths"]
        .get(route)
        .and_then(|ops| ops.get(method.to_lowercase()))
        .ok_or_else(|| format!("{method} {route} is not in the contract"))?;
    let documented = op["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{method} {route} answered {status}, which is not documented"))?;
    Ok(resolve(spec, documented))
}

/// The content types documented for this answer (none: no body).
pub fn content_types(route: &str, method: &str, status: u16) -> Result<Vec<String>, String> {
    Ok(documented(route, method, status)?
        .get("content")
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default())
}

/// Checks an answer's status, documented headers and body (against the schema of
/// its content type, or the only documented one: a wrong content type is a
/// separate finding, see [`content_types`]). Returns the parsed body.
pub fn check_answer(route: &str, method: &str, a: &Answer<'_>) -> Result<Value, String> {
    let status = a.status;
    let documented = documented(route, method, status)?;
    for name in documented
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|h| h.keys())
    {
        // Idempotent-Replayed is documented on the 200 but sent only on a replay.
        let optional = name.eq_ignore_ascii_case("Idempotent-Replayed");
        if !optional && !a.headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "{method} {route} {status}: documented header {name} missing"
            ));
        }
    }
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        if !a.body.is_empty() {
            return Err(format!(
                "{method} {route} {status}: undocumented body {}",
                clip(a.body)
            ));
        }
        return Ok(Value::Null);
    };
    let essence = a.content_type.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or(ct)
            .trim()
            .to_ascii_lowercase()
    });
    let media = essence
        .as_deref()
        .and_then(|ct| content.get(ct))
        .or_else(|| {
            (content.len() == 1)
                .then(|| content.values().next())
                .flatten()
        })
        .ok_or_else(|| {
            format!(
                "{method} {route} {status}: content type {:?} not documented",
                a.content_type
            )
        })?;
    let value: Value = serde_json::from_str(a.body).map_err(|e| {
        format!(
            "{method} {route} {status}: body is not JSON ({e}): {}",
            clip(a.body)
        )
    })?;
    validate(
        spec(),
        &media["schema"],
        &value,
        &format!("{method} {route} {status}"),
    )?;
    Ok(value)
}

/// At most 300 characters of `s`, for messages.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}… ({} bytes)", &s[..i], s.len()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_validator_rejects_undocumented_keys_and_wrong_types() {
        // Guard the guard: every check means something only if the validator can fail.
        let spec = spec();
        let item = json!({"$ref": "#/components/schemas/Item"});
        let good = json!({"id": "x", "kind": "coupon", "title": "t", "price_won": 1, "validity": {"type": "permanent"},
            "cap": null, "remaining": null, "as_of": "2023-01-05T00:00:00Z"});
        validate(spec, &item, &good, "item").unwrap();
        let mut extra = good.clone();
        extra["colour"] = json!("red");
        assert!(validate(spec, &item, &extra, "item").is_err());
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("as_of");
        assert!(validate(spec, &item, &missing, "item").is_err());
        let mut wrong = good.clone();
        wrong["validity"] = json!({"type": "days_from_claim"});
        assert!(validate(spec, &item, &wrong, "item").is_err());
        let mut bad_time = good;
        bad_time["as_of"] = json!("yesterday");
        assert!(validate(spec, &item, &bad_time, "item").is_err());
    }

    #[test]
    fn paths_map_to_their_documented_routes() {
        assert_eq!(route_of("/v1/status"), Some("/v1/status"));
        assert_eq!(
            route_of("/v1/damage-claims/D-2301-7Q4K93"),
            Some("/v1/damage-claims/{receipt_no}")
        );
        assert_eq!(route_of("/v1/damage-claims/"), None);
        assert_eq!(route_of("/v1/nope"), None);
    }

    #[test]
    fn answers_are_held_to_status_headers_content_type_and_schema() {
        let problem = r#"{"type":"about:blank","title":"t","status":401,"code":"unauthorized"}"#;
        let answer = |status, ct, headers: &[&str], body| Answer {
            status,
            content_type: ct,
            headers: headers.iter().map(|h| h.to_string()).collect(),
            body,
        };
        let ok = answer(
            401,
            Some("application/problem+json"),
            &["www-authenticate"],
            problem,
        );
        assert!(check_answer("/v1/package", "GET", &ok).is_ok());
        let no_header = answer(401, Some("application/problem+json"), &[], problem);
        assert!(check_answer("/v1/package", "GET", &no_header).is_err());
        let teapot = answer(418, Some("application/problem+json"), &[], problem);
        assert!(check_answer("/v1/package", "GET", &teapot).is_err());
        let bad = answer(
            401,
            Some("application/problem+json"),
            &["www-authenticate"],
            "{}",
        );
        assert!(check_answer("/v1/package", "GET", &bad).is_err());
        assert_eq!(
            content_types("/v1/package", "GET", 200).unwrap(),
            ["application/json"]
        );
    }
}
