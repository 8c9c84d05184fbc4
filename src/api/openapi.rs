//! The OpenAPI document served at `GET /openapi.json`: `docs/openapi.json`, with the bounds
//! that a deployment sets through its vars filled in from that deployment's policy.

use serde_json::Value;

use super::wire::SessionPolicy;

/// The document as written in `docs/` (its bounds are the built-in ceilings).
pub const SOURCE: &str = include_str!("../../docs/openapi.json");

/// The document for a deployment with `policy`: each `limits` field's `maximum` is the
/// deployment's ceiling (`MAX_LIMITS`), `ttl_seconds` has `MAX_TTL_SECONDS` as its maximum and
/// `DEFAULT_TTL_SECONDS` as its default. Nothing else differs from [`SOURCE`].
pub fn document(policy: &SessionPolicy) -> Result<String, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(SOURCE)?;
    let schemas = &mut doc["components"]["schemas"];
    for (name, max) in policy.max_limits.fields() {
        if let Some(field) = schemas["LimitsRequest"]["properties"].get_mut(name) {
            field["maximum"] = max.into();
        }
    }
    let ttl = &mut schemas["CreateSessionRequest"]["properties"]["ttl_seconds"];
    ttl["maximum"] = policy.max_seconds.into();
    ttl["default"] = policy.default_seconds.into();
    schemas["ForkRequest"]["properties"]["ttl_seconds"]["maximum"] = policy.max_seconds.into();
    serde_json::to_string(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::limits::Limits;

    fn parsed(policy: &SessionPolicy) -> Value {
        serde_json::from_str(&document(policy).expect("document")).expect("json")
    }

    #[test]
    fn the_builtin_policy_serves_the_document_as_written() {
        let source: Value = serde_json::from_str(SOURCE).expect("docs/openapi.json is JSON");
        assert_eq!(parsed(&SessionPolicy::default()), source);
        assert_eq!(source["openapi"], "3.1.0");
    }

    #[test]
    fn a_deployment_with_lower_ceilings_serves_lower_maxima() {
        let policy = SessionPolicy::from_vars(|name| match name {
            "MAX_LIMITS" => Some(r#"{"fuel": 5000, "files_count": 7}"#.into()),
            "MAX_TTL_SECONDS" => Some("600".into()),
            "DEFAULT_TTL_SECONDS" => Some("60".into()),
            _ => None,
        });
        let doc = parsed(&policy);
        let schemas = &doc["components"]["schemas"];
        let limits = &schemas["LimitsRequest"]["properties"];
        assert_eq!(limits["fuel"]["maximum"], 5000);
        assert_eq!(limits["files_count"]["maximum"], 7);
        assert_eq!(
            limits["memory_bytes"]["maximum"],
            Limits::default_ceiling().memory_bytes
        );
        let ttl = &schemas["CreateSessionRequest"]["properties"]["ttl_seconds"];
        assert_eq!(ttl["maximum"], 600);
        assert_eq!(ttl["default"], 60);
    }

    #[test]
    fn every_limit_has_a_documented_ceiling() {
        let source: Value = serde_json::from_str(SOURCE).expect("json");
        let props = &source["components"]["schemas"]["LimitsRequest"]["properties"];
        for (name, max) in Limits::default_ceiling().fields() {
            assert_eq!(props[name]["minimum"], 1, "{name}");
            assert_eq!(props[name]["maximum"], max, "{name}");
        }
        assert_eq!(
            props.as_object().map(|o| o.len()),
            Some(Limits::default_ceiling().fields().len())
        );
    }

    #[test]
    fn operation_ids_are_the_mcp_tool_names() {
        let source: Value = serde_json::from_str(SOURCE).expect("json");
        let op = |path: &str, method: &str| {
            source["paths"][path][method]["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let file = "/v1/sessions/{id}/files/{path}";
        for (path, method, id) in [
            ("/v1/run", "post", "run_js"),
            ("/v1/sessions", "post", "session_create"),
            ("/v1/sessions/{id}/exec", "post", "session_exec"),
            ("/v1/sessions", "get", "session_list"),
            ("/v1/sessions/{id}", "delete", "session_delete"),
            (file, "put", "file_write"),
            (file, "get", "file_read"),
            ("/v1/sessions/{id}/files", "get", "file_list"),
            ("/mcp", "post", "mcp"),
        ] {
            assert_eq!(op(path, method), id, "{method} {path}");
        }
    }
}
