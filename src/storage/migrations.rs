//! The object's SQL schema: numbered files in `migrations/`, applied in order, each once.

/// `(number, SQL)` of every migration, in order.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_session.sql")),
    (2, include_str!("../../migrations/0002_limits_and_fuel.sql")),
    (3, include_str!("../../migrations/0003_journal_input.sql")),
    (
        4,
        include_str!("../../migrations/0004_files_network_env.sql"),
    ),
    (5, include_str!("../../migrations/0005_journal_blobs.sql")),
    (6, include_str!("../../migrations/0006_checkpoints.sql")),
    (7, include_str!("../../migrations/0007_idempotency.sql")),
    (8, include_str!("../../migrations/0008_branches.sql")),
];

/// The same for the tenant's reference registry (`FileRefs`), in `migrations/refs/`.
pub const REFS_MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../../migrations/refs/0001_refs.sql"))];

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub use apply::{apply, apply_list};

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod apply {
    use serde::Deserialize;
    use worker::SqlStorage;

    use super::MIGRATIONS;

    /// Applies the session object's migrations.
    pub fn apply(sql: &SqlStorage) -> worker::Result<()> {
        apply_list(sql, MIGRATIONS)
    }

    #[derive(Deserialize)]
    struct Applied {
        version: i64,
    }

    /// Applies the migrations this object has not seen yet. Runs inside one event with no
    /// `await`, so the platform commits it atomically.
    pub fn apply_list(sql: &SqlStorage, list: &[(i64, &str)]) -> worker::Result<()> {
        sql.exec(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY)",
            None,
        )?;
        let done: Vec<Applied> = sql
            .exec("SELECT version FROM _migrations", None)?
            .to_array()?;
        for (version, text) in list {
            if done.iter().any(|a| a.version == *version) {
                continue;
            }
            sql.exec(text, None)?;
            sql.exec(
                "INSERT INTO _migrations (version) VALUES (?)",
                vec![(*version).into()],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_folder_is_registered_in_order() {
        check_folder(
            concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
            MIGRATIONS,
        );
        check_folder(
            concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/refs"),
            REFS_MIGRATIONS,
        );
    }

    fn check_folder(dir: &str, list: &[(i64, &str)]) {
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), list.len());
        for (i, (file, (version, _))) in files.iter().zip(list).enumerate() {
            assert_eq!(*version, i as i64 + 1);
            assert!(file.starts_with(&format!("{:04}_", version)), "{file}");
        }
    }
}
