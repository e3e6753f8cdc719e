//! When a failed operation is tried again, and after how long: one policy for every HTTP
//! service (HIE, the Jitsi token service, Prosody, the Notification API, OAuth2 token
//! endpoints) and for the Kafka listener's handler retries.
//!
//! Hand-written rather than taken from `backon` or `backoff`: `backon`'s jitter adds a random
//! `(0, delay)` on top of each delay, so a delay can reach twice `max_delay` and its share is not
//! configurable, while this policy promises that `max_backoff` is a ceiling and exposes the
//! jitter share; and `backoff` is unmaintained (RUSTSEC-2025-0012). Neither knows Retry-After,
//! which the HTTP services need. The policy is a small pure function of the retry number, so
//! it stays here, tested below.

use std::time::Duration;

use rand::Rng;

/// Statuses that say "try again later" without the request having been processed.
const DEFAULT_STATUSES: [u16; 4] = [429, 502, 503, 504];

/// How failed operations are retried: exponential backoff with jitter, Retry-After honoured,
/// and a bound on the total time spent.
///
/// The same type is [`hie::RetryPolicy`](crate::hie::RetryPolicy) (HTTP requests: only
/// requests that are safe to repeat are retried, a plain FHIR POST never is) and
/// [`listener::RetryPolicy`](crate::listener::RetryPolicy) (handler retries, which hold up
/// their partition). The statuses, [`retry_timeouts`](Self::retry_timeouts) and
/// [`max_retry_after`](Self::max_retry_after) concern HTTP only; the listener uses the number
/// of retries, the backoff and the total bound.
///
/// Jitter takes a random share of each delay off (delay × (1 − jitter × U[0, 1))), so a delay
/// never exceeds its backoff and [`max_backoff`](Self::max_backoff) is a true ceiling.
///
/// ```
/// use std::time::Duration;
/// use hie_vc::hie::RetryPolicy;
/// let p = RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(100))
///     .max_elapsed(Duration::from_secs(20));
/// assert_eq!(p.get_max_retries(), 5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    jitter: f64,
    max_elapsed: Duration,
    max_retry_after: Duration,
    statuses: Vec<u16>,
    retry_timeouts: bool,
}

impl Default for RetryPolicy {
    /// 3 retries, backoff 200 ms × 2ⁿ up to 5 s with 50 % jitter, Retry-After honoured up to
    /// 60 s, at most 60 s in total; on connect/transport errors and 429, 502, 503, 504.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.5,
            max_elapsed: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(60),
            statuses: DEFAULT_STATUSES.to_vec(),
            retry_timeouts: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }
    /// Retries after the first attempt (0 disables retries).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    /// The delay before the first retry; each next one is multiplied by the multiplier.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    /// The largest backoff delay.
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// The growth factor of the backoff (at least 1).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m.is_finite() { m.max(1.0) } else { 1.0 };
        self
    }
    /// The share of each delay that is random, 0.0 (exact delays) to 1.0 (full jitter). Jitter
    /// spreads the retries of many clients hit by the same outage.
    pub fn jitter(mut self, j: f64) -> Self {
        self.jitter = if j.is_finite() {
            j.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }
    /// The bound on the total time of one call, retries and waits included: no retry starts
    /// that would end its wait after this.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
    /// The longest Retry-After the SDK waits for; a longer one ends the call with the error
    /// (whose [`crate::Error::retry_after`] says how long the server asked for).
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// The HTTP statuses that are retried (default 429, 502, 503, 504).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }
    /// Whether an attempt that ran out of time is retried (off by default: a server too slow to
    /// answer is usually not helped by more of the same load).
    pub fn retry_timeouts(mut self, yes: bool) -> Self {
        self.retry_timeouts = yes;
        self
    }

    /// Retries after the first attempt.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }
    /// The bound on the total time of one call.
    pub fn get_max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    pub(crate) fn retries_status(&self, status: u16) -> bool {
        self.statuses.contains(&status)
    }
    pub(crate) fn retries_timeouts(&self) -> bool {
        self.retry_timeouts
    }

    /// The backoff before retry number `retry` (1-based), jitter applied.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.multiplier.powi(retry.saturating_sub(1).min(64) as i32);
        let base = self.initial_backoff.as_secs_f64() * exp;
        let base = base.min(self.max_backoff.as_secs_f64());
        let factor = if self.jitter > 0.0 {
            1.0 - self.jitter * rand::rng().random::<f64>()
        } else {
            1.0
        };
        Duration::from_secs_f64((base * factor).max(0.0))
    }

    /// The wait before retry number `retry`, or `None` when the call should give up: retries
    /// used up, Retry-After beyond [`Self::max_retry_after`], or the wait would end after the
    /// total bound.
    pub(crate) fn next_delay(
        &self,
        retry: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if retry > self.max_retries {
            return None;
        }
        let delay = match retry_after {
            Some(ra) if ra > self.max_retry_after => return None,
            Some(ra) => ra,
            None => self.backoff(retry),
        };
        (elapsed + delay <= self.max_elapsed).then_some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multiplier_sets_the_growth_and_the_cap_holds_under_full_jitter() {
        let exact = RetryPolicy::default()
            .jitter(0.0)
            .multiplier(3.0)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_secs(1));
        let grown: Vec<u64> = (1..=6)
            .map(|r| exact.backoff(r).as_millis() as u64)
            .collect();
        assert_eq!(grown, [10, 30, 90, 270, 810, 1000]);
        assert_eq!(
            RetryPolicy::default().multiplier(0.5),
            RetryPolicy::default().multiplier(1.0)
        );
        let full = exact.jitter(1.0);
        for r in [1, 6, 40] {
            assert!(full.backoff(r) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_stays_within_its_share() {
        let p = RetryPolicy::default()
            .jitter(0.5)
            .initial_backoff(Duration::from_millis(400));
        for _ in 0..200 {
            let d = p.backoff(1);
            assert!(
                d <= Duration::from_millis(400) && d >= Duration::from_millis(200),
                "{d:?}"
            );
        }
    }

    #[test]
    fn next_delay_respects_every_bound() {
        let p = RetryPolicy::default()
            .jitter(0.0)
            .max_retries(2)
            .max_elapsed(Duration::from_secs(3))
            .max_retry_after(Duration::from_secs(2));
        assert_eq!(
            p.next_delay(1, Duration::ZERO, None),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            p.next_delay(3, Duration::ZERO, None),
            None,
            "retries used up"
        );
        assert_eq!(
            p.next_delay(1, Duration::ZERO, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.next_delay(1, Duration::ZERO, Some(Duration::from_secs(5))),
            None
        );
        assert_eq!(
            p.next_delay(1, Duration::from_millis(2900), None),
            None,
            "would end after the total bound"
        );
        assert_eq!(
            RetryPolicy::none().next_delay(1, Duration::ZERO, None),
            None
        );
    }
}
