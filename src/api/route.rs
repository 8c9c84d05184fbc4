//! Maps a method and path to a route, or to the 404/405 the client should see.

use super::error::ApiError;

/// A matched route of API v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    /// `GET /openapi.json`: the API's OpenAPI document.
    OpenApi,
    CreateSession,
    ListSessions,
    GetSession(String),
    DeleteSession(String),
    Exec(String),
    /// `POST /v1/run`: one cell in a fresh realm, no session.
    Run,
    /// `GET /v1/sessions/{id}/files`.
    ListFiles(String),
    /// `/v1/sessions/{id}/files/{path}` (GET, HEAD, PUT, DELETE); the path still URL-encoded.
    File(String, String),
    /// `POST /mcp`: the MCP server (Streamable HTTP).
    Mcp,
    /// `POST /v1/sessions/{id}/fork`.
    Fork(String),
    /// `GET /v1/sessions/{id}/checkpoints`.
    ListCheckpoints(String),
    /// `POST /v1/sessions/{id}/checkpoints`.
    CreateCheckpoint(String),
    /// `DELETE /v1/sessions/{id}/checkpoints/{name}`.
    DeleteCheckpoint(String, String),
    /// `POST /v1/sessions/{id}/checkpoints/{name}/restore`.
    RestoreCheckpoint(String, String),
}

impl Route {
    /// Whether the route needs an API key.
    pub fn needs_auth(&self) -> bool {
        !matches!(self, Route::Health | Route::OpenApi)
    }

    /// Matches `method` and `path` (without query string).
    pub fn parse(method: &str, path: &str) -> Result<Route, ApiError> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let not_allowed = |allow| Err(ApiError::MethodNotAllowed { allow });
        match segments.as_slice() {
            ["healthz"] => match method {
                "GET" | "HEAD" => Ok(Route::Health),
                _ => not_allowed("GET, HEAD"),
            },
            ["mcp"] => match method {
                "POST" => Ok(Route::Mcp),
                _ => not_allowed("POST"),
            },
            ["openapi.json"] => match method {
                "GET" | "HEAD" => Ok(Route::OpenApi),
                _ => not_allowed("GET, HEAD"),
            },
            ["v1", "run"] => match method {
                "POST" => Ok(Route::Run),
                _ => not_allowed("POST"),
            },
            ["v1", "sessions"] => match method {
                "POST" => Ok(Route::CreateSession),
                "GET" => Ok(Route::ListSessions),
                _ => not_allowed("GET, POST"),
            },
            ["v1", "sessions", id] if !id.is_empty() => match method {
                "GET" => Ok(Route::GetSession(id.to_string())),
                "DELETE" => Ok(Route::DeleteSession(id.to_string())),
                _ => not_allowed("GET, DELETE"),
            },
            ["v1", "sessions", id, "files"] if !id.is_empty() => match method {
                "GET" => Ok(Route::ListFiles(id.to_string())),
                _ => not_allowed("GET"),
            },
            ["v1", "sessions", id, "files", rest @ ..] if !id.is_empty() => match method {
                "GET" | "HEAD" | "PUT" | "DELETE" => {
                    Ok(Route::File(id.to_string(), rest.join("/")))
                }
                _ => not_allowed("GET, HEAD, PUT, DELETE"),
            },
            ["v1", "sessions", id, "fork"] if !id.is_empty() => match method {
                "POST" => Ok(Route::Fork(id.to_string())),
                _ => not_allowed("POST"),
            },
            ["v1", "sessions", id, "checkpoints"] if !id.is_empty() => match method {
                "GET" => Ok(Route::ListCheckpoints(id.to_string())),
                "POST" => Ok(Route::CreateCheckpoint(id.to_string())),
                _ => not_allowed("GET, POST"),
            },
            ["v1", "sessions", id, "checkpoints", name] if !id.is_empty() && !name.is_empty() => {
                match method {
                    "DELETE" => Ok(Route::DeleteCheckpoint(id.to_string(), name.to_string())),
                    _ => not_allowed("DELETE"),
                }
            }
            ["v1", "sessions", id, "checkpoints", name, "restore"]
                if !id.is_empty() && !name.is_empty() =>
            {
                match method {
                    "POST" => Ok(Route::RestoreCheckpoint(id.to_string(), name.to_string())),
                    _ => not_allowed("POST"),
                }
            }
            ["v1", "sessions", id, "exec"] if !id.is_empty() => match method {
                "POST" => Ok(Route::Exec(id.to_string())),
                _ => not_allowed("POST"),
            },
            _ => Err(ApiError::NotFound(format!("no route for {path}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_every_route() {
        assert_eq!(Route::parse("GET", "/healthz"), Ok(Route::Health));
        assert_eq!(Route::parse("GET", "/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(Route::parse("HEAD", "/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(
            Route::parse("POST", "/v1/sessions"),
            Ok(Route::CreateSession)
        );
        assert_eq!(Route::parse("GET", "/v1/sessions"), Ok(Route::ListSessions));
        assert_eq!(
            Route::parse("GET", "/v1/sessions/a"),
            Ok(Route::GetSession("a".into()))
        );
        assert_eq!(
            Route::parse("DELETE", "/v1/sessions/a"),
            Ok(Route::DeleteSession("a".into()))
        );
        assert_eq!(
            Route::parse("POST", "/v1/sessions/a/exec"),
            Ok(Route::Exec("a".into()))
        );
        assert_eq!(Route::parse("POST", "/v1/run"), Ok(Route::Run));
        assert_eq!(Route::parse("POST", "/mcp"), Ok(Route::Mcp));
        assert_eq!(
            Route::parse("POST", "/v1/sessions/a/fork"),
            Ok(Route::Fork("a".into()))
        );
        assert_eq!(
            Route::parse("GET", "/v1/sessions/a/checkpoints"),
            Ok(Route::ListCheckpoints("a".into()))
        );
        assert_eq!(
            Route::parse("POST", "/v1/sessions/a/checkpoints"),
            Ok(Route::CreateCheckpoint("a".into()))
        );
        assert_eq!(
            Route::parse("DELETE", "/v1/sessions/a/checkpoints/c1"),
            Ok(Route::DeleteCheckpoint("a".into(), "c1".into()))
        );
        assert_eq!(
            Route::parse("POST", "/v1/sessions/a/checkpoints/c1/restore"),
            Ok(Route::RestoreCheckpoint("a".into(), "c1".into()))
        );
        assert_eq!(
            Route::parse("GET", "/v1/sessions/a/checkpoints/c1/restore"),
            Err(ApiError::MethodNotAllowed { allow: "POST" })
        );
        for method in ["GET", "DELETE", "QUERY"] {
            assert_eq!(
                Route::parse(method, "/mcp"),
                Err(ApiError::MethodNotAllowed { allow: "POST" })
            );
        }
        assert_eq!(
            Route::parse("GET", "/v1/sessions/a/files"),
            Ok(Route::ListFiles("a".into()))
        );
        assert_eq!(
            Route::parse("PUT", "/v1/sessions/a/files/d/x%20y.csv"),
            Ok(Route::File("a".into(), "d/x%20y.csv".into()))
        );
        assert_eq!(
            Route::parse("HEAD", "/v1/sessions/a/files/x/"),
            Ok(Route::File("a".into(), "x/".into())),
            "a trailing slash reaches the path rules, which refuse it"
        );
        assert_eq!(
            Route::parse("POST", "/v1/sessions/a/files/x"),
            Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD, PUT, DELETE"
            })
        );
    }

    #[test]
    fn wrong_method_is_405_with_the_allowed_methods() {
        assert_eq!(
            Route::parse("PUT", "/v1/sessions"),
            Err(ApiError::MethodNotAllowed { allow: "GET, POST" })
        );
        assert_eq!(
            Route::parse("GET", "/v1/sessions/a/exec"),
            Err(ApiError::MethodNotAllowed { allow: "POST" })
        );
    }

    #[test]
    fn methods_outside_the_standard_set_are_405_too() {
        for method in ["QUERY", "PATCH", "OPTIONS", "TRACE", "get", "FOO"] {
            assert_eq!(
                Route::parse(method, "/openapi.json"),
                Err(ApiError::MethodNotAllowed { allow: "GET, HEAD" }),
                "{method}"
            );
            assert_eq!(
                Route::parse(method, "/v1/sessions").map_err(|e| e.status()),
                Err(405),
                "{method}"
            );
        }
    }

    /// Every path and method of docs/openapi.json routes, and every other method answers 405
    /// with the documented methods in `Allow`.
    #[test]
    fn the_document_lists_exactly_the_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::api::openapi::SOURCE).expect("json");
        const METHODS: [&str; 9] = [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "QUERY",
        ];
        let paths = doc["paths"].as_object().expect("paths");
        for (template, item) in paths {
            let path = template
                .replace("{id}", "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa")
                .replace("{path}", "d/x.csv")
                .replace("{name}", "before-change");
            let documented: Vec<String> = METHODS
                .iter()
                .filter(|m| item.get(m.to_ascii_lowercase()).is_some())
                .map(|m| m.to_string())
                .collect();
            for method in METHODS {
                let got = Route::parse(method, &path);
                if documented.iter().any(|m| m == method) {
                    assert!(got.is_ok(), "{method} {template}: {got:?}");
                } else {
                    let Err(ApiError::MethodNotAllowed { allow }) = got else {
                        panic!("{method} {template}: {got:?}");
                    };
                    let allowed: Vec<&str> = allow.split(", ").collect();
                    let mut want: Vec<&str> = documented.iter().map(String::as_str).collect();
                    let mut have = allowed.clone();
                    want.sort_unstable();
                    have.sort_unstable();
                    assert_eq!(have, want, "Allow of {template}");
                }
            }
        }
    }

    /// And the reverse: every route the router knows is in the document.
    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::api::openapi::SOURCE).expect("json");
        for (method, template) in [
            ("GET", "/healthz"),
            ("GET", "/openapi.json"),
            ("POST", "/mcp"),
            ("POST", "/v1/run"),
            ("POST", "/v1/sessions"),
            ("GET", "/v1/sessions"),
            ("GET", "/v1/sessions/{id}"),
            ("DELETE", "/v1/sessions/{id}"),
            ("POST", "/v1/sessions/{id}/exec"),
            ("POST", "/v1/sessions/{id}/fork"),
            ("GET", "/v1/sessions/{id}/checkpoints"),
            ("POST", "/v1/sessions/{id}/checkpoints"),
            ("DELETE", "/v1/sessions/{id}/checkpoints/{name}"),
            ("POST", "/v1/sessions/{id}/checkpoints/{name}/restore"),
            ("GET", "/v1/sessions/{id}/files"),
            ("PUT", "/v1/sessions/{id}/files/{path}"),
        ] {
            assert!(
                doc["paths"][template][method.to_ascii_lowercase()].is_object(),
                "{method} {template} is not in docs/openapi.json"
            );
        }
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/v2/sessions",
            "/v1/sessions//exec",
            "/v1/sessions/a/b",
            "/healthz/x",
        ] {
            assert_eq!(
                Route::parse("GET", path).map_err(|e| e.status()),
                Err(404),
                "{path}"
            );
        }
    }

    #[test]
    fn only_health_is_public() {
        assert!(!Route::Health.needs_auth());
        assert!(!Route::OpenApi.needs_auth());
        assert!(Route::ListSessions.needs_auth());
    }
}
