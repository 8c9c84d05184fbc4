//! The live engine instances of one isolate, bounded in total memory.
//!
//! Every Durable Object of an isolate shares its memory (128 MB in production), so the instances
//! of its sessions together must stay well under it. A session object checks its instance out
//! for a request and back in after; checking in evicts the least recently used idle instances of
//! other sessions until the total fits the budget. An evicted session is restored from its
//! checkpoint on its next request. Pure bookkeeping, generic over what it holds, so it is tested
//! natively.

use std::collections::HashMap;

struct Entry<T> {
    /// `None` while checked out: its bytes still count.
    value: Option<T>,
    bytes: u64,
    used: u64,
}

pub struct Pool<T> {
    budget: u64,
    entries: HashMap<String, Entry<T>>,
    clock: u64,
}

/// What the pool holds, for measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub instances: usize,
    pub bytes: u64,
    pub budget: u64,
}

impl<T> Pool<T> {
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            entries: HashMap::new(),
            clock: 0,
        }
    }

    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// Takes `key`'s instance for a request, if the pool holds one.
    pub fn check_out(&mut self, key: &str) -> Option<T> {
        self.entries.get_mut(key)?.value.take()
    }

    /// Returns `key`'s instance (now `bytes` large) and evicts others past the budget; returns
    /// the evicted, for the caller to drop.
    pub fn check_in(&mut self, key: &str, value: T, bytes: u64) -> Vec<T> {
        self.clock += 1;
        self.entries.insert(
            key.to_string(),
            Entry {
                value: Some(value),
                bytes,
                used: self.clock,
            },
        );
        self.evict(key)
    }

    /// Forgets `key`'s instance (its session rolled back, was deleted, or its instance died).
    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Makes room for a new instance of `bytes` for `key` before it is made.
    pub fn reserve(&mut self, key: &str, bytes: u64) -> Vec<T> {
        self.clock += 1;
        let entry = self.entries.entry(key.to_string()).or_insert(Entry {
            value: None,
            bytes: 0,
            used: 0,
        });
        entry.bytes = entry.bytes.max(bytes);
        entry.used = self.clock;
        self.evict(key)
    }

    fn evict(&mut self, keep: &str) -> Vec<T> {
        let mut evicted = Vec::new();
        while self.total() > self.budget {
            let Some(oldest) = self
                .entries
                .iter()
                .filter(|(k, e)| k.as_str() != keep && e.value.is_some())
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(value) = self.entries.remove(&oldest).and_then(|e| e.value) {
                evicted.push(value);
            }
        }
        evicted
    }

    fn total(&self) -> u64 {
        self.entries.values().map(|e| e.bytes).sum()
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            instances: self.entries.len(),
            bytes: self.total(),
            budget: self.budget,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_idle_instance() {
        let mut pool = Pool::new(100);
        assert!(pool.check_in("a", 'a', 40).is_empty());
        assert!(pool.check_in("b", 'b', 40).is_empty());
        // "a" is used again: "b" is now the oldest.
        let a = pool.check_out("a").expect("held");
        assert!(pool.check_in("a", a, 40).is_empty());
        assert_eq!(pool.check_in("c", 'c', 40), vec!['b']);
        assert_eq!(pool.check_out("b"), None);
        assert_eq!(pool.stats().bytes, 80);
    }

    #[test]
    fn a_checked_out_instance_counts_but_is_never_evicted() {
        let mut pool = Pool::new(100);
        pool.check_in("busy", 1, 60);
        let busy = pool.check_out("busy").expect("held");
        assert_eq!(
            pool.check_in("other", 2, 60),
            Vec::<i32>::new(),
            "only idle ones go"
        );
        // The busy one grew; on check-in the other, idle one makes room.
        assert_eq!(pool.check_in("busy", busy, 70), vec![2]);
        assert_eq!(pool.stats().instances, 1);
    }

    #[test]
    fn reserving_room_evicts_before_the_new_instance_exists() {
        let mut pool = Pool::new(50);
        pool.check_in("old", "x", 30);
        assert_eq!(pool.reserve("new", 30), vec!["x"]);
        assert_eq!(pool.check_out("new"), None);
        pool.check_in("new", "y", 30);
        assert_eq!(pool.check_out("new"), Some("y"));
    }

    #[test]
    fn forgetting_frees_the_bytes() {
        let mut pool = Pool::new(10);
        pool.check_in("a", (), 8);
        pool.forget("a");
        assert_eq!(pool.stats().bytes, 0);
        assert_eq!(pool.check_out("a"), None);
    }
}
