//! Reference counts of shared R2 objects: the change a session sends to its tenant's registry
//! (`FileRefs`, [`super::file_refs`]) when a fork or a checkpoint starts sharing its files, or
//! when it stops pointing at a shared object.
//!
//! Counts are raised before anything points at an object and lowered only after nothing does,
//! so a crash in between can leave an object stored too long, never deleted too early.

use serde::{Deserialize, Serialize};

/// One change to the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefChange {
    /// Keys and how many new references each gets.
    pub add: Vec<(String, i64)>,
    /// Keys losing one reference each (a key may appear several times).
    pub drop: Vec<String>,
}

impl RefChange {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.drop.is_empty()
    }
}

/// A file row as sharing sees it: its object and whether the registry counts it already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: String,
    pub shared: bool,
}

/// The references `copies` new holders (forks, a checkpoint) of the session's files add: an
/// object the session held alone is counted from now on, the session's own reference included.
pub fn share(files: &[Held], copies: i64) -> RefChange {
    RefChange {
        add: files
            .iter()
            .map(|f| (f.key.clone(), copies + i64::from(!f.shared)))
            .collect(),
        drop: Vec::new(),
    }
}

/// What letting go of `files` means: objects held alone are deleted at once (returned as the
/// first list), shared ones lose a reference in the registry.
pub fn release(files: Vec<Held>) -> (Vec<String>, RefChange) {
    let mut alone = Vec::new();
    let mut change = RefChange::default();
    for file in files {
        if file.shared {
            change.drop.push(file.key);
        } else {
            alone.push(file.key);
        }
    }
    (alone, change)
}

/// Applies `change` to counts: answers the keys whose count reached zero (to delete).
pub fn apply(
    counts: &mut std::collections::BTreeMap<String, i64>,
    change: &RefChange,
) -> Vec<String> {
    for (key, n) in &change.add {
        *counts.entry(key.clone()).or_default() += n;
    }
    let mut gone = Vec::new();
    for key in &change.drop {
        let count = counts.entry(key.clone()).or_default();
        *count -= 1;
        if *count <= 0 {
            counts.remove(key);
            gone.push(key.clone());
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn held(key: &str, shared: bool) -> Held {
        Held {
            key: key.into(),
            shared,
        }
    }

    #[test]
    fn an_object_lives_while_any_holder_points_at_it() {
        let mut counts = BTreeMap::new();
        // The source shares two objects with 5 forks; one was shared already (count 2).
        counts.insert("b".to_string(), 2);
        let change = share(&[held("a", false), held("b", true)], 5);
        assert_eq!(change.add, vec![("a".into(), 6), ("b".into(), 5)]);
        assert!(apply(&mut counts, &change).is_empty());
        assert_eq!(counts["a"], 6);
        assert_eq!(counts["b"], 7);
        // The source and four forks let go of "a": still held by the fifth fork.
        let drops = RefChange {
            add: vec![],
            drop: vec!["a".into(); 5],
        };
        assert!(apply(&mut counts, &drops).is_empty());
        let last = RefChange {
            add: vec![],
            drop: vec!["a".into()],
        };
        assert_eq!(apply(&mut counts, &last), vec!["a".to_string()]);
        assert!(!counts.contains_key("a"));
    }

    #[test]
    fn release_deletes_unshared_objects_directly() {
        let (alone, change) = release(vec![held("a", false), held("b", true)]);
        assert_eq!(alone, vec!["a".to_string()]);
        assert_eq!(change.drop, vec!["b".to_string()]);
        assert!(change.add.is_empty());
    }

    #[test]
    fn a_drop_without_a_count_deletes() {
        // A count lost to a crash between steps errs towards deleting only unreferenced
        // objects: a key nobody registered has no holders the registry knows of.
        let mut counts = BTreeMap::new();
        let change = RefChange {
            add: vec![],
            drop: vec!["x".into()],
        };
        assert_eq!(apply(&mut counts, &change), vec!["x".to_string()]);
    }
}
