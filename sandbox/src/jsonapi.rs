//! Helpers shared by the emulated JSON APIs (Jitsi token service, Notification API): path
//! templates with a `{token}` segment, fields named by name or JSON pointer, JSON answers.

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use serde_json::{json, Map, Value};

/// A JSON answer.
pub(crate) fn reply(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// An error answer: `{"message": ...}`.
pub(crate) fn error(status: u16, message: impl Into<String>) -> Response<Body> {
    reply(
        status,
        &json!({ "message": message.into(), "status": status }),
    )
}

/// Decodes `%XX` escapes of a path segment (`None` when malformed or not UTF-8).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Matches `path` against `template` (segments, `{token}` a whole segment). `Some(None)`:
/// matched without a token; `Some(Some(t))`: matched, the token decoded.
pub(crate) fn match_template(template: &str, path: &str) -> Option<Option<String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut token = None;
    for (ts, ps) in t.iter().zip(&p) {
        if *ts == "{token}" {
            if ps.is_empty() {
                return None;
            }
            token = Some(percent_decode(ps)?);
        } else if ts != ps {
            return None;
        }
    }
    Some(token)
}

/// A field of a JSON object: a top-level name, or a JSON pointer when it starts with `/`.
pub(crate) fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    if name.starts_with('/') {
        v.pointer(name)
    } else {
        v.get(name)
    }
}

/// Sets a field (a name, or a JSON pointer whose missing objects are created).
pub(crate) fn put(v: &mut Value, name: &str, value: Value) {
    if !name.starts_with('/') {
        if let Value::Object(o) = v {
            o.insert(name.to_owned(), value);
        }
        return;
    }
    let segs: Vec<String> = name[1..]
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = v;
    for (i, s) in segs.iter().enumerate() {
        let Value::Object(o) = cur else { return };
        if i + 1 == segs.len() {
            o.insert(s.clone(), value);
            return;
        }
        cur = o
            .entry(s.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// A request body as a JSON object (an empty body is `{}`).
pub(crate) fn body_object(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("the body must be a JSON object".to_owned()),
        Err(e) => Err(format!("the body is not JSON: {e}")),
    }
}

/// A required non-empty string field.
pub(crate) fn string_field(v: &Value, name: &str) -> Result<String, String> {
    match field(v, name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("'{name}' is empty")),
        Some(_) => Err(format!("'{name}' must be a string")),
        None => Err(format!("'{name}' is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        let t = "api/v1/sessions/{token}/join";
        assert_eq!(
            match_template(t, "/api/v1/sessions/abc%2Dd/join"),
            Some(Some("abc-d".into()))
        );
        assert_eq!(match_template(t, "api/v1/sessions//join"), None);
        assert_eq!(match_template(t, "api/v1/sessions/a/end"), None);
        assert_eq!(
            match_template("api/v1/sessions", "api/v1/sessions"),
            Some(None)
        );
        assert_eq!(percent_decode("%zz"), None);
    }

    #[test]
    fn fields_by_name_or_pointer() {
        let mut v = json!({});
        put(&mut v, "/data/token", json!("t"));
        put(&mut v, "room", json!("r"));
        assert_eq!(v, json!({"data": {"token": "t"}, "room": "r"}));
        assert_eq!(field(&v, "/data/token"), Some(&json!("t")));
        assert_eq!(string_field(&v, "room").unwrap(), "r");
        assert!(string_field(&v, "nope").is_err());
        assert!(body_object(b"[1]").is_err());
        assert_eq!(body_object(b" ").unwrap(), json!({}));
    }
}
