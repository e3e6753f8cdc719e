//! The steps of the VC flows (`docs/guide-gaps.md` §3), and what one call has done of them: a
//! failing step names itself and the steps done before it in the error, so the caller can
//! resume.

/// The steps of the VC flows, named as in errors and timelines.
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

// snake_case like every other name the SDK gives (error kinds, options, JSON values).
crate::names::names!(Step, "VC workflow step" {
    CreateSession => "create_session",
    Schedule => "schedule",
    Book => "book",
    PractitionerJoin => "practitioner_join",
    Activate => "activate",
    FindPatients => "find_patients",
    Notify => "notify",
    FinishEncounter => "finish_encounter",
    EndSession => "end_session",
});

/// Steps done so far in one call, for errors that let the caller resume.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub done: Vec<Step>,
}

impl Progress {
    pub fn did(&mut self, step: Step) {
        self.done.push(step);
    }
    /// Wraps a failure of `step` with what was done before it.
    pub fn fail(&self, step: Step, e: crate::Error) -> crate::Error {
        e.with_step(step, self.done.clone())
    }
}
