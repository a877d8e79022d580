//! A map with a size limit that starts over when full: for what is remembered only to save
//! a read, and is safe to lose (conversation tokens already checked, the conversations the
//! SQLite writer wrote last).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

pub struct Memo<V> {
    limit: usize,
    map: Mutex<HashMap<String, V>>,
}

impl<V> Memo<V> {
    pub fn new(limit: usize) -> Memo<V> {
        Memo {
            limit,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, V>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `f` of the value remembered for `key`, if any.
    pub fn with<R>(&self, key: &str, f: impl FnOnce(&V) -> R) -> Option<R> {
        self.map().get(key).map(f)
    }

    /// The value remembered for `key`, no longer remembered.
    pub fn take(&self, key: &str) -> Option<V> {
        self.map().remove(key)
    }

    /// Remembers `value` for `key`; a new key when the memo is full first forgets everything.
    pub fn insert(&self, key: String, value: V) {
        let mut map = self.map();
        if map.len() >= self.limit && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, value);
    }

    pub fn clear(&self) {
        self.map().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_over() {
        let memo = Memo::new(2);
        memo.insert("a".into(), 1);
        memo.insert("b".into(), 2);
        memo.insert("b".into(), 3);
        assert_eq!(memo.with("a", |v| *v), Some(1));
        memo.insert("c".into(), 4);
        assert_eq!(memo.with("a", |v| *v), None);
        assert_eq!(memo.take("c"), Some(4));
        assert_eq!(memo.take("c"), None);
    }
}
