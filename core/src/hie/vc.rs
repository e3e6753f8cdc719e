//! Typed conveniences for the Virtual Consultation flows (`docs/guide-gaps.md` §3): put the VC
//! resources under the source system's own ids, send the scheduling and booking Bundles, and find
//! the Encounter HIE created for an Appointment or a session token.

use super::bundle::BundleRequest;
use super::client::HieClient;
use super::crud::UpdateRequest;
use crate::error::Result;
use crate::fhir::{Appointment, Bundle, Encounter, Schedule, Slot};
use crate::mycore::consts::VC_TOKEN_SYSTEM;

/// More Encounters than this for one token means something else is wrong; stop paging.
const MAX_ENCOUNTERS_PER_TOKEN: usize = 10_000;

fn last_updated(e: &Encounter) -> Option<time::OffsetDateTime> {
    e.meta
        .as_ref()
        .and_then(|m| m.last_updated.as_ref())
        .and_then(|i| i.to_offset())
}

/// The most recently updated Encounter (the last one listed when none says).
fn latest(encounters: Vec<Encounter>) -> Option<Encounter> {
    let mut best: Option<Encounter> = None;
    for e in encounters {
        let newer = match &best {
            None => true,
            Some(b) => last_updated(&e) >= last_updated(b),
        };
        if newer {
            best = Some(e);
        }
    }
    best
}

impl HieClient {
    /// Puts an Appointment under its client-assigned id (`PUT Appointment/<id>`), validated
    /// against MY Core first: created (201) the first time, updated (200) afterwards.
    pub fn put_appointment(&self, appointment: Appointment) -> UpdateRequest<Appointment> {
        self.update(appointment)
    }
    /// Puts an Encounter under its id (step 9 of the flows: `status = finished`). Chain
    /// `.if_match_current()` so a change HIE made meanwhile is not overwritten.
    pub fn put_encounter(&self, encounter: Encounter) -> UpdateRequest<Encounter> {
        self.update(encounter)
    }
    /// Puts a Schedule under its client-assigned id.
    pub fn put_schedule(&self, schedule: Schedule) -> UpdateRequest<Schedule> {
        self.update(schedule)
    }
    /// Puts a Slot under its client-assigned id.
    pub fn put_slot(&self, slot: Slot) -> UpdateRequest<Slot> {
        self.update(slot)
    }
    /// Sends the scheduling transaction (Schedule + Slot, as built by
    /// `hie_vc::mycore::scheduling_bundle`). `.method(Method::PUT)` sends it the way one page
    /// of the guide prints it.
    pub fn send_scheduling_bundle(&self, bundle: Bundle) -> BundleRequest {
        self.send_bundle(bundle)
    }
    /// Sends the booking transaction (the Appointment and its Slot with the decremented
    /// quota, as built by `hie_vc::mycore::booking_bundle`).
    pub fn send_booking_bundle(&self, bundle: Bundle) -> BundleRequest {
        self.send_bundle(bundle)
    }
    /// The Encounter HIE created for an Appointment (`Encounter?appointment=Appointment/<id>`),
    /// or `None` before the patient checked in. When there are several, the most recently
    /// updated one.
    pub async fn find_encounter_for_appointment(
        &self,
        appointment_id: &str,
    ) -> Result<Option<Encounter>> {
        super::resource::check_id("appointment id", appointment_id)?;
        let found = self
            .search::<Encounter>()
            .reference("appointment", "Appointment", appointment_id)
            .max_results(MAX_ENCOUNTERS_PER_TOKEN)
            .all()
            .await?;
        Ok(latest(found))
    }
    /// Every Encounter carrying this VC session token
    /// (`Encounter?identifier=<vc-token system>|<token>`): one for a VCI session, one per
    /// patient for a VCE session.
    pub async fn find_encounters_by_vc_token(&self, token: &str) -> Result<Vec<Encounter>> {
        self.search::<Encounter>()
            .identifier(VC_TOKEN_SYSTEM, token)
            .max_results(MAX_ENCOUNTERS_PER_TOKEN)
            .all()
            .await
    }
    /// The most recently updated Encounter carrying this VC session token.
    pub async fn find_encounter_by_vc_token(&self, token: &str) -> Result<Option<Encounter>> {
        Ok(latest(self.find_encounters_by_vc_token(token).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{Id, Instant, Meta};

    fn enc(id: &str, updated: Option<&str>) -> Encounter {
        Encounter {
            id: Id::new(id).ok(),
            meta: updated.map(|u| Meta {
                last_updated: Instant::new(u).ok(),
                ..Meta::default()
            }),
            ..Encounter::default()
        }
    }

    #[test]
    fn latest_prefers_the_most_recent_update() {
        let got = latest(vec![
            enc("a", Some("2024-05-01T10:00:00+08:00")),
            enc("b", Some("2024-05-01T03:00:00Z")),
            enc("c", Some("2024-04-30T23:00:00Z")),
        ]);
        // 03:00Z is 11:00+08:00: later than a.
        assert_eq!(got.unwrap().id.unwrap().as_str(), "b");
        assert!(latest(Vec::new()).is_none());
    }
}
