//! Duplicate suppression: the same Encounter version delivered twice (Kafka redelivers after a
//! rebalance or a crash, and producers retry) reaches the handler once.
//!
//! The key is the Encounter id + `meta.versionId` (`docs/guide-gaps.md` §5). Without a versionId
//! the key falls back to id + `meta.lastUpdated`, and without either to id + a hash of the payload,
//! so an exact redelivery is still caught while distinct updates are not merged. Keys are kept as
//! 128-bit hashes so a large window stays small in memory (100 000 keys ≈ 5 MB).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::fhir::Encounter;

/// How much history the dedupe store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeWindow {
    /// Most keys remembered; the oldest are forgotten first.
    pub max_entries: usize,
    /// How long a key is remembered (`None`: until pushed out by `max_entries`).
    pub ttl: Option<Duration>,
}

impl Default for DedupeWindow {
    /// 100 000 keys for up to 72 hours (how long HIE keeps a record, so a redelivery cannot be
    /// older).
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            ttl: Some(Duration::from_secs(72 * 3600)),
        }
    }
}

impl DedupeWindow {
    /// A window of `max_entries` keys, each kept at most `ttl`.
    pub fn new(max_entries: usize, ttl: Option<Duration>) -> Self {
        Self { max_entries, ttl }
    }
}

/// A dedupe key (a 128-bit hash of what identifies an Encounter version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupeKey(u128);

impl DedupeKey {
    /// The key of an Encounter read from `payload`, or `None` when it has no id (then there is
    /// nothing to tell versions apart by, and the message is never suppressed).
    pub fn of(encounter: &Encounter, payload: &[u8]) -> Option<Self> {
        let id = encounter.id.as_ref()?.as_str();
        let meta = encounter.meta.as_ref();
        if let Some(v) = meta.and_then(|m| m.version_id.as_ref()) {
            return Some(Self::hash(&[b"v", id.as_bytes(), v.as_str().as_bytes()]));
        }
        if let Some(t) = meta.and_then(|m| m.last_updated.as_ref()) {
            return Some(Self::hash(&[b"t", id.as_bytes(), t.as_str().as_bytes()]));
        }
        Some(Self::hash(&[b"p", id.as_bytes(), payload]))
    }
    /// The key of an explicit id and version.
    pub fn from_parts(id: &str, version_id: &str) -> Self {
        Self::hash(&[b"v", id.as_bytes(), version_id.as_bytes()])
    }
    fn hash(parts: &[&[u8]]) -> Self {
        let half = |seed: u8| {
            let mut h = DefaultHasher::new();
            seed.hash(&mut h);
            for p in parts {
                p.hash(&mut h);
            }
            h.finish()
        };
        Self((u128::from(half(0)) << 64) | u128::from(half(1)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    InFlight,
    Done,
}

struct Inner {
    window: DedupeWindow,
    map: HashMap<DedupeKey, (State, Instant)>,
    order: VecDeque<(DedupeKey, Instant)>,
}

/// Whether a message may go to the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// First time: the caller owns it and must `complete` or `release` it.
    Fresh,
    /// Already handled, or being handled right now by another worker or listener.
    Duplicate,
}

/// A dedupe store. Clones share it, so listeners of one process (e.g. two group members) can
/// suppress each other's redeliveries.
#[derive(Clone)]
pub struct Dedupe {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for Dedupe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.lock();
        f.debug_struct("Dedupe")
            .field("window", &g.window)
            .field("len", &g.map.len())
            .finish()
    }
}

impl Dedupe {
    /// An empty store with `window`.
    pub fn new(window: DedupeWindow) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                window,
                map: HashMap::new(),
                order: VecDeque::new(),
            })),
        }
    }
    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }
    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether `key` was handled (or is being handled).
    pub fn contains(&self, key: DedupeKey) -> bool {
        let mut g = self.lock();
        g.expire(Instant::now());
        g.map.contains_key(&key)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still
        // consistent (every mutation is a single insert/remove), so keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims `key` for handling; `None` when it is a duplicate. The guard releases the claim
    /// when dropped unfinished (a handler call abandoned at shutdown or on revoke), so the
    /// redelivery is handled instead of being taken for a duplicate.
    pub(crate) fn guard(&self, key: DedupeKey) -> Option<ClaimGuard> {
        match self.claim(key) {
            Claim::Fresh => Some(ClaimGuard {
                dedupe: self.clone(),
                key,
                finished: false,
            }),
            Claim::Duplicate => None,
        }
    }

    pub(crate) fn claim(&self, key: DedupeKey) -> Claim {
        let now = Instant::now();
        let mut g = self.lock();
        g.expire(now);
        if g.map.contains_key(&key) {
            return Claim::Duplicate;
        }
        g.map.insert(key, (State::InFlight, now));
        g.order.push_back((key, now));
        while g.map.len() > g.window.max_entries.max(1) {
            let Some((old, at)) = g.order.pop_front() else {
                break;
            };
            g.remove_if_at(old, at);
        }
        Claim::Fresh
    }

    /// The message was handled or dead-lettered: remember it.
    pub(crate) fn complete(&self, key: DedupeKey) {
        if let Some(e) = self.lock().map.get_mut(&key) {
            e.0 = State::Done;
        }
    }

    /// Handling stopped before the offset was stored (shutdown, revoke): the record will be
    /// redelivered and must not be taken for a duplicate then.
    pub(crate) fn release(&self, key: DedupeKey) {
        let mut g = self.lock();
        if g.map.get(&key).map(|e| e.0) == Some(State::InFlight) {
            g.map.remove(&key);
        }
    }
}

/// A claimed key; see [`Dedupe::guard`].
pub(crate) struct ClaimGuard {
    dedupe: Dedupe,
    key: DedupeKey,
    finished: bool,
}

impl ClaimGuard {
    /// The record was handled or disposed of: remember the key.
    pub(crate) fn complete(mut self) {
        self.finished = true;
        self.dedupe.complete(self.key);
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.dedupe.release(self.key);
        }
    }
}

impl Inner {
    fn expire(&mut self, now: Instant) {
        let Some(ttl) = self.window.ttl else {
            return;
        };
        while let Some(&(key, at)) = self.order.front() {
            if now.duration_since(at) < ttl {
                break;
            }
            self.order.pop_front();
            self.remove_if_at(key, at);
        }
    }
    /// Removes `key` only if the entry is the one queued at `at` (a key released and claimed
    /// again has a newer entry that must stay).
    fn remove_if_at(&mut self, key: DedupeKey, at: Instant) {
        if self.map.get(&key).map(|e| e.1) == Some(at) {
            self.map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(i: u32) -> DedupeKey {
        DedupeKey::from_parts(&format!("enc-{i}"), "1")
    }

    #[test]
    fn second_claim_is_a_duplicate_until_released() {
        let d = Dedupe::new(DedupeWindow::default());
        assert_eq!(d.claim(k(1)), Claim::Fresh);
        assert_eq!(d.claim(k(1)), Claim::Duplicate);
        d.release(k(1));
        assert_eq!(d.claim(k(1)), Claim::Fresh);
        d.complete(k(1));
        d.release(k(1)); // a completed key is not released
        assert_eq!(d.claim(k(1)), Claim::Duplicate);
        assert_ne!(k(1), DedupeKey::from_parts("enc-1", "2"));
    }

    #[test]
    fn an_unfinished_guard_releases_its_claim() {
        let d = Dedupe::new(DedupeWindow::default());
        let g = d.guard(k(3)).unwrap();
        assert!(d.guard(k(3)).is_none());
        drop(g);
        let g = d.guard(k(3)).unwrap();
        g.complete();
        assert!(d.guard(k(3)).is_none());
    }

    #[test]
    fn window_forgets_oldest_keys() {
        let d = Dedupe::new(DedupeWindow::new(3, None));
        for i in 0..5 {
            assert_eq!(d.claim(k(i)), Claim::Fresh);
        }
        assert_eq!(d.len(), 3);
        assert!(!d.contains(k(0)) && !d.contains(k(1)));
        assert!(d.contains(k(2)) && d.contains(k(4)));
    }

    #[test]
    fn ttl_expires_keys() {
        let d = Dedupe::new(DedupeWindow::new(10, Some(Duration::from_millis(30))));
        d.claim(k(1));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(d.claim(k(1)), Claim::Fresh);
    }

    #[test]
    fn clones_share_the_store() {
        let a = Dedupe::new(DedupeWindow::default());
        let b = a.clone();
        assert_eq!(a.claim(k(7)), Claim::Fresh);
        assert_eq!(b.claim(k(7)), Claim::Duplicate);
    }
}
