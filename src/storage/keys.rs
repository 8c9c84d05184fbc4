//! Key layout in KV and R2. Both start with the tenant, so no listing crosses tenants.

/// KV key of a session's metadata record.
pub fn session_record(tenant: &str, id: &str) -> String {
    format!("{}{id}", tenant_sessions_prefix(tenant))
}

/// KV prefix of all of a tenant's session records.
pub fn tenant_sessions_prefix(tenant: &str) -> String {
    format!("sessions/{tenant}/")
}

/// R2 prefix of a session's artifacts.
pub fn artifacts_prefix(tenant: &str, id: &str) -> String {
    format!("{tenant}/{id}/")
}

/// R2 key of one of a session's files (`path` is normalised, see `files::path`).
pub fn file_key(tenant: &str, id: &str, path: &str) -> String {
    format!("{}files/{path}", artifacts_prefix(tenant, id))
}

/// R2 key of a file's contents written since forks exist: a new object per write, never
/// changed afterwards, so sessions, forks and checkpoints can share it. `random` is 16 random
/// bytes.
pub fn object_key(tenant: &str, random: [u8; 16]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{tenant}/objects/{hex}")
}

/// Name of the tenant's reference registry (a `FileRefs` Durable Object).
pub fn refs_name(tenant: &str) -> String {
    format!("refs/{tenant}")
}

/// Name of a session's Durable Object: the tenant is part of it, so another tenant naming the
/// same session ID reaches a different, empty object.
pub fn object_name(tenant: &str, id: &str) -> String {
    format!("{tenant}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scoped_by_tenant() {
        assert_eq!(session_record("a", "ses_1"), "sessions/a/ses_1");
        assert!(session_record("a", "x").starts_with(&tenant_sessions_prefix("a")));
        assert!(!session_record("ab", "x").starts_with(&tenant_sessions_prefix("a")));
        assert_ne!(object_name("a", "ses_1"), object_name("b", "ses_1"));
        assert_eq!(artifacts_prefix("a", "ses_1"), "a/ses_1/");
        assert_eq!(file_key("a", "ses_1", "d/x.csv"), "a/ses_1/files/d/x.csv");
        assert!(file_key("a", "ses_1", "x").starts_with(&artifacts_prefix("a", "ses_1")));
        let object = object_key("a", [0xab; 16]);
        assert_eq!(object, format!("a/objects/{}", "ab".repeat(16)));
        // Shared objects are outside every session's prefix (no session id is "objects"):
        // deleting one session's prefix never deletes them.
        assert!(!object.starts_with(&artifacts_prefix("a", "ses_1")));
        assert!(!crate::ids::is_session_id("objects"));
        assert_ne!(refs_name("a"), object_name("a", "ses_1"));
    }
}
