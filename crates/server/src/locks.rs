//! Async locks by key (a conversation id), kept only while someone holds or waits for one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct KeyedLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds the lock of one key; the key is forgotten when nobody else wants it.
pub struct KeyedGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the lock of `key`.
    pub async fn lock(&self, key: &str) -> KeyedGuard<'_> {
        let mutex = self.map().entry(key.to_string()).or_default().clone();
        let guard = mutex.lock_owned().await;
        KeyedGuard {
            locks: self,
            key: key.to_string(),
            guard: Some(guard),
        }
    }

    /// Keys held or waited for now.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for KeyedGuard<'_> {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else { return };
        let mutex = OwnedMutexGuard::mutex(&guard).clone();
        drop(guard);
        let mut map = self.locks.map();
        // The map's Arc and `mutex`: nobody else holds or waits for it.
        if map.get(&self.key).is_some_and(|m| Arc::ptr_eq(m, &mutex)) && Arc::strong_count(&mutex) == 2 {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_holder_per_key_in_arrival_order_and_nothing_kept_after() {
        let locks = Arc::new(KeyedLocks::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = locks.lock("c1").await;
        let mut waiting = Vec::new();
        for n in 0..3 {
            let (locks, order) = (locks.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _g = locks.lock("c1").await;
                order.lock().unwrap().push(n);
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Another key is free meanwhile.
        drop(locks.lock("c2").await);
        assert!(order.lock().unwrap().is_empty(), "c1 is held");
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            [0, 1, 2],
            "in arrival order (tokio's mutex is fair)"
        );
        assert!(locks.is_empty(), "no key kept");
    }
}
