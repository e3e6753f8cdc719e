//! What has been done for each VC session, so `start` and `finish` can run again (after a crash,
//! a retry or a redelivered Encounter) without notifying twice or failing.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;

/// What is known of one session (keyed by its vc-token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session was activated.
    pub activated: bool,
    /// Patient ids already notified that the session starts.
    pub notified: HashSet<String>,
    /// Encounters already PUT as finished.
    pub finished: HashSet<String>,
    /// The Jitsi session was ended.
    pub ended: bool,
}

/// Where session records live. The default keeps them in memory; a deployment that runs
/// several processes or must survive restarts provides its own (e.g. a database table).
pub trait Journal: Send + Sync + fmt::Debug {
    /// The record of `token` (empty when unknown).
    fn get(&self, token: &str) -> SessionRecord;
    /// Applies `update` to the record of `token`.
    fn update(&self, token: &str, update: &mut dyn FnMut(&mut SessionRecord));
}

/// The in-memory [`Journal`].
#[derive(Debug, Default)]
pub struct MemoryJournal {
    sessions: Mutex<HashMap<String, SessionRecord>>,
}

impl Journal for MemoryJournal {
    fn get(&self, token: &str) -> SessionRecord {
        self.sessions
            .lock()
            .map(|m| m.get(token).cloned().unwrap_or_default())
            .unwrap_or_default()
    }
    fn update(&self, token: &str, update: &mut dyn FnMut(&mut SessionRecord)) {
        if let Ok(mut m) = self.sessions.lock() {
            update(m.entry(token.to_owned()).or_default());
        }
    }
}
