//! The ready-made Encounter-arrival handler: wires the listener to [`VirtualConsultation::start`].

use std::fmt;
use std::sync::Arc;

use super::{Started, VirtualConsultation};
use crate::jitsi::Participant;
use futures::future::BoxFuture;
use futures::FutureExt;

use crate::listener::{EncounterEvent, Handler, HandlerError, HandlerResult, Permanent};
use crate::mycore::VcEncounter;

/// Chooses the practitioner who runs the session of an arriving Encounter.
pub type PractitionerFor = Arc<dyn Fn(&VcEncounter) -> Option<Participant> + Send + Sync>;

/// Calls [`VirtualConsultation::start`] for each arriving VC Encounter, then `on_started`.
///
/// Errors that may pass (HIE, Jitsi or the Notification API unavailable) fail the message so
/// the listener retries it per its policy; errors that will not (not a VC Encounter, no
/// patient id, no practitioner) are permanent and go to the dead-letter topic / error callback.
/// Because `start` is idempotent, a retried or redelivered Encounter notifies nobody twice.
#[derive(Clone)]
pub struct ArrivalHandler {
    vc: VirtualConsultation,
    practitioner: PractitionerFor,
    on_started: Arc<dyn Fn(&Started) + Send + Sync>,
}

impl fmt::Debug for ArrivalHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrivalHandler").finish_non_exhaustive()
    }
}

impl VirtualConsultation {
    /// A listener handler that starts each arriving VC session with the practitioner
    /// `practitioner` picks for it.
    pub fn arrival_handler(
        &self,
        practitioner: impl Fn(&VcEncounter) -> Option<Participant> + Send + Sync + 'static,
    ) -> ArrivalHandler {
        ArrivalHandler {
            vc: self.clone(),
            practitioner: Arc::new(practitioner),
            on_started: Arc::new(|_| {}),
        }
    }
}

impl ArrivalHandler {
    /// Called after each successful start (e.g. to hand the join URL to the practitioner's app).
    pub fn on_started(mut self, f: impl Fn(&Started) + Send + Sync + 'static) -> Self {
        self.on_started = Arc::new(f);
        self
    }

    fn permanent(e: crate::Error) -> HandlerError {
        Box::new(Permanent::new(e))
    }

    /// Handles one event (what the listener calls).
    pub async fn handle_event(&self, event: EncounterEvent) -> Result<(), HandlerError> {
        let Some(vc) = event.vc() else {
            return Err(Self::permanent(crate::Error::new(
                crate::ErrorKind::InvalidInput,
                "not a VC Encounter",
            )));
        };
        let Some(practitioner) = (self.practitioner)(vc) else {
            return Err(Self::permanent(crate::Error::new(
                crate::ErrorKind::Config,
                "no practitioner for this VC Encounter",
            )));
        };
        let included: Vec<_> = event
            .included()
            .iter()
            .map(|i| i.resource.clone())
            .collect();
        match self
            .vc
            .start(event.encounter(), &practitioner, &included)
            .await
        {
            Ok(started) => {
                (self.on_started)(&started);
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(Box::new(e)),
            Err(e) => Err(Self::permanent(e)),
        }
    }
}

impl Handler for ArrivalHandler {
    fn handle(&self, event: EncounterEvent) -> BoxFuture<'_, HandlerResult> {
        self.handle_event(event).boxed()
    }
}
