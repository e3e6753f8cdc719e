//! What has been done for each VC session, so `start` and `finish` can run again (after a crash,
//! a retry or a redelivered Encounter) without notifying twice or failing.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;

/// The steps of the VC flows (`docs/guide-gaps.md` §3), named as in errors and timelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// VCE (1): create the Jitsi session token.
    CreateSession,
    /// VCI (1) / VCE (2): PUT Schedule + Slots in one transaction.
    Schedule,
    /// VCI (2) / VCE (3): PUT the Appointment (and the Slot with `available` decremented).
    Book,
    /// (6): get the practitioner's Jitsi join.
    PractitionerJoin,
    /// (6): start (activate) the Jitsi session.
    Activate,
    /// Find the patients' ids to notify.
    FindPatients,
    /// (7): POST the Notification API.
    Notify,
    /// (9): PUT the Encounter `finished`.
    FinishEncounter,
    /// (10): end the Jitsi session.
    EndSession,
}

impl Step {
    /// Stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateSession => "create-session",
            Self::Schedule => "schedule",
            Self::Book => "book",
            Self::PractitionerJoin => "practitioner-join",
            Self::Activate => "activate",
            Self::FindPatients => "find-patients",
            Self::Notify => "notify",
            Self::FinishEncounter => "finish-encounter",
            Self::EndSession => "end-session",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Steps done so far in one call, for errors that let the caller resume.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub done: Vec<&'static str>,
}

impl Progress {
    pub fn did(&mut self, step: Step) {
        self.done.push(step.as_str());
    }
    /// Wraps a failure of `step` with what was done before it.
    pub fn fail(&self, step: Step, e: crate::Error) -> crate::Error {
        e.with_step(step.as_str(), self.done.clone())
    }
}
