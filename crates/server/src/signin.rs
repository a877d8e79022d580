//! Sign-in abuse: attempts are limited per client address, failed attempts per account and
//! address (and, ten times looser, per account from anywhere), and password hashing (argon2,
//! slow on purpose) runs one at a time on a blocking thread with a short queue, so a login
//! flood cannot take the cores customers' turns need.

use crate::ratelimit::RateLimiter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Sign-ins waiting for the hasher before more are refused at once.
const MAX_WAITING: usize = 16;

/// Why a sign-in was not tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    /// Too many attempts from this client address.
    Address,
    /// Too many failed attempts for this account.
    Account,
    /// Too many sign-ins at once.
    Busy,
}

pub struct SignInGuard {
    by_address: RateLimiter,
    /// Failed attempts per account from one address (the documented 5, then 1 a minute).
    failures: RateLimiter,
    /// Failed attempts per account from anywhere: ten times looser, so a guesser spread over
    /// many addresses is bounded while one address cannot lock the owner out.
    failures_by_account: RateLimiter,
    hashing: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
}

/// One place in the hashing queue, given back however the sign-in ends (also when its
/// request is dropped while it waits).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SignInGuard {
    /// `per_address`: attempts (burst, per minute) from one address; `failures`: failed
    /// attempts (burst, per minute) for one account.
    pub fn new(per_address: (u32, u32), failures: (u32, u32)) -> SignInGuard {
        SignInGuard {
            by_address: RateLimiter::new(per_address.0, per_address.1),
            failures: RateLimiter::new(failures.0, failures.1),
            failures_by_account: RateLimiter::new(failures.0.saturating_mul(10), failures.1.saturating_mul(10)),
            hashing: Arc::new(Semaphore::new(1)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Counts an attempt from `address` and takes a failure in advance for `account` (given
    /// back by [`SignInGuard::succeeded`]), so attempts made at once cannot all slip through.
    pub fn admit(&self, address: &str, account: &str) -> Result<(), SignInRefusal> {
        if !self.by_address.allow(address) {
            return Err(SignInRefusal::Address);
        }
        let from_here = format!("{account}\n{address}");
        if !self.failures.allow(&from_here) {
            return Err(SignInRefusal::Account);
        }
        if !self.failures_by_account.allow(account) {
            self.failures.refund(&from_here);
            return Err(SignInRefusal::Account);
        }
        Ok(())
    }

    /// The attempt admitted for `account` from `address` was right: its failure is given back.
    pub fn succeeded(&self, address: &str, account: &str) {
        self.failures.refund(&format!("{account}\n{address}"));
        self.failures_by_account.refund(account);
    }

    /// Runs `work` (password hashing) on a blocking thread, one at a time; `Busy` when
    /// [`MAX_WAITING`] are already waiting.
    pub async fn hash<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, SignInRefusal> {
        let place = Waiting(self.waiting.clone());
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            return Err(SignInRefusal::Busy);
        }
        let permit = self.hashing.clone().acquire_owned().await;
        drop(place);
        let Ok(permit) = permit else {
            return Err(SignInRefusal::Busy);
        };
        let done = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        done.map_err(|_| SignInRefusal::Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_lock_the_account_and_attempts_the_address() {
        let guard = SignInGuard::new((4, 1), (2, 1));
        assert_eq!(guard.admit("1.2.3.4", "ana@example.com"), Ok(()));
        assert_eq!(guard.admit("1.2.3.4", "ana@example.com"), Ok(()));
        assert_eq!(
            guard.admit("1.2.3.4", "ana@example.com"),
            Err(SignInRefusal::Account),
            "two failures taken in advance"
        );
        assert_eq!(
            guard.admit("5.6.7.8", "ana@example.com"),
            Ok(()),
            "another address still may"
        );
        assert_eq!(guard.admit("1.2.3.4", "bo@example.com"), Ok(()));
        guard.succeeded("1.2.3.4", "bo@example.com");
        assert_eq!(guard.admit("1.2.3.4", "bo@example.com"), Err(SignInRefusal::Address));
    }

    #[tokio::test]
    async fn hashing_queues_a_few_and_refuses_the_rest() {
        let guard = Arc::new(SignInGuard::new((100, 100), (100, 100)));
        let mut waiting = Vec::new();
        for _ in 0..(MAX_WAITING + 8) {
            let g = guard.clone();
            waiting.push(tokio::spawn(async move {
                g.hash(|| std::thread::sleep(std::time::Duration::from_millis(20)))
                    .await
            }));
        }
        let mut busy = 0;
        for w in waiting {
            if w.await.unwrap_or(Err(SignInRefusal::Busy)).is_err() {
                busy += 1;
            }
        }
        assert!(busy >= 7, "{busy} refused");
    }
}
