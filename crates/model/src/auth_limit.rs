//! Failed-authentication rate limiting per source address, in memory and per listener.
//!
//! After [`AuthLimiter::max_failures`] failures from one address within a window of
//! [`AuthLimiter::window_ms`] (counted from its first failure), that address is refused
//! until the window ends — even with valid credentials. Time comes from the caller
//! (`Db::now_ms`, so tests drive it with an injected clock); nothing here sleeps.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures before an address is blocked.
pub const DEFAULT_MAX_FAILURES: u32 = 10;
/// The window, in milliseconds.
pub const DEFAULT_WINDOW_MS: i64 = 60_000;
/// Addresses tracked before expired entries are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: i64,
    failures: u32,
}

/// Counts failed authentications per source address.
#[derive(Debug)]
pub struct AuthLimiter {
    max_failures: u32,
    window_ms: i64,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl Default for AuthLimiter {
    fn default() -> Self {
        AuthLimiter::new(DEFAULT_MAX_FAILURES, DEFAULT_WINDOW_MS)
    }
}

impl AuthLimiter {
    /// A limiter allowing `max_failures` failures per `window_ms`.
    pub fn new(max_failures: u32, window_ms: i64) -> AuthLimiter {
        AuthLimiter {
            max_failures: max_failures.max(1),
            window_ms: window_ms.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Failures before an address is blocked.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// Whether `addr` is blocked at `now_ms` (it failed too often in its current window).
    pub fn is_blocked(&self, addr: IpAddr, now_ms: i64) -> bool {
        let Ok(windows) = self.windows.lock() else {
            return false;
        };
        windows.get(&addr).is_some_and(|w| {
            now_ms - w.started_ms < self.window_ms && w.failures >= self.max_failures
        })
    }

    /// Records a failure of `addr` at `now_ms`; returns whether it is now blocked.
    pub fn record_failure(&self, addr: IpAddr, now_ms: i64) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return false;
        };
        if windows.len() >= SWEEP_AT {
            let window_ms = self.window_ms;
            windows.retain(|_, w| now_ms - w.started_ms < window_ms);
        }
        let window = windows.entry(addr).or_insert(Window {
            started_ms: now_ms,
            failures: 0,
        });
        if now_ms - window.started_ms >= self.window_ms {
            *window = Window {
                started_ms: now_ms,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        window.failures >= self.max_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_is_blocked_after_the_maximum_failures_until_its_window_ends() {
        let limiter = AuthLimiter::new(3, 1_000);
        assert!(!limiter.record_failure(A, 0));
        assert!(!limiter.record_failure(A, 10));
        assert!(!limiter.is_blocked(A, 10));
        assert!(limiter.record_failure(A, 20));
        assert!(limiter.is_blocked(A, 999));
        assert!(
            !limiter.is_blocked(B, 999),
            "other addresses are not affected"
        );
        assert!(!limiter.is_blocked(A, 1_000), "the window has ended");
        assert!(!limiter.record_failure(A, 1_000), "a new window starts");
    }
}
