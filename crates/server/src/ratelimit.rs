//! Token buckets for the public endpoints, keyed by client address or conversation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Most keys remembered; past that, full buckets are forgotten.
const MAX_KEYS: usize = 100_000;

pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    /// Requests allowed in a burst.
    capacity: f64,
    /// Requests regained per second.
    per_second: f64,
}

impl RateLimiter {
    pub fn new(capacity: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            capacity: f64::from(capacity),
            per_second: f64::from(per_minute) / 60.0,
        }
    }

    /// Gives back a token taken for `key`.
    pub fn refund(&self, key: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((tokens, _)) = buckets.get_mut(key) {
            *tokens = (*tokens + 1.0).min(self.capacity);
        }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refuses() {
        let l = RateLimiter::new(3, 1);
        assert!(l.allow("a") && l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"), "keys are separate");
    }
}
