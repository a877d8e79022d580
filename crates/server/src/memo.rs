//! A map with a size limit that starts over when full: for what is remembered only to save
//! a read, and is safe to lose (conversation tokens already checked, the conversations the
//! writers wrote last); and [`Dated`], a value read from something that may change (signed-in
//! callers, what entry routing reads), good until it changes here or grows old.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// A value as read when its source's change count was `generation`: good while the count
/// stays the same (changes made here) and for a while (changes made by other instances).
pub struct Dated<T> {
    value: T,
    generation: u64,
    read_at: Instant,
}

impl<T: Clone> Dated<T> {
    /// `generation`: the source's change count taken before the read.
    pub fn new(value: T, generation: u64) -> Dated<T> {
        Dated {
            value,
            generation,
            read_at: Instant::now(),
        }
    }

    /// The value, if nothing changed here since (`generation`) and it is younger than `good_for`.
    pub fn current(&self, generation: u64, good_for: Duration) -> Option<T> {
        (self.generation == generation && self.read_at.elapsed() < good_for).then(|| self.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dated_value_is_good_until_a_change_or_its_time() {
        let dated = Dated::new("v", 3);
        assert_eq!(dated.current(3, Duration::from_secs(60)), Some("v"));
        assert_eq!(dated.current(4, Duration::from_secs(60)), None, "changed since");
        assert_eq!(dated.current(3, Duration::ZERO), None, "too old");
    }

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
