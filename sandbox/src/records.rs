//! What the sandbox records for assertions: every notification sent, every Jitsi session and
//! what happened to it, every Encounter published. `Debug` hides tokens, names and patient ids.

use std::fmt;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::publish::Delivery;

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::fhir::store::instant_text(*t))
}

fn rfc3339_opt<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// A notification the Notification API accepted.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRecord {
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// The patient ids (MyKad numbers) it went to, as sent.
    #[serde(rename = "patientIds")]
    pub patient_ids: Vec<String>,
    /// The account (login e-mail) that sent it.
    pub sender: String,
    /// When it was accepted.
    #[serde(serialize_with = "rfc3339")]
    pub at: OffsetDateTime,
}

impl fmt::Debug for NotificationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationRecord")
            .field("title_len", &self.title.len())
            .field("body_len", &self.body.len())
            .field("patients", &self.patient_ids.len())
            .field("at", &self.at)
            .finish()
    }
}

/// Who created a Jitsi session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionOrigin {
    /// A client of the token service (the VCE flow's step 1).
    Api,
    /// HIE at a VCI check-in.
    CheckIn,
}

/// Someone who asked to join a session.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct JoinRecord {
    /// `practitioner` or `patient` (the contract's role values).
    pub role: String,
    /// The user id sent.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The display name sent.
    pub name: String,
    /// When the join token was issued.
    #[serde(serialize_with = "rfc3339")]
    pub at: OffsetDateTime,
}

impl fmt::Debug for JoinRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRecord")
            .field("role", &self.role)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A Jitsi session of the emulated token service.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JitsiSessionRecord {
    /// The session token (what the Encounter's vc-token identifier carries).
    pub token: String,
    /// The room.
    pub room: String,
    /// Who created it.
    pub origin: SessionOrigin,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: OffsetDateTime,
    /// Join tokens issued, in order.
    pub joins: Vec<JoinRecord>,
    /// When it was first activated.
    #[serde(serialize_with = "rfc3339_opt")]
    pub activated_at: Option<OffsetDateTime>,
    /// How many activate calls it received (activation is idempotent).
    pub activations: u32,
    /// When it was ended.
    #[serde(serialize_with = "rfc3339_opt")]
    pub ended_at: Option<OffsetDateTime>,
    /// How many end calls it received (the second and later answer 409).
    pub end_calls: u32,
}

impl JitsiSessionRecord {
    /// Whether the session was ended.
    pub fn is_ended(&self) -> bool {
        self.ended_at.is_some()
    }
    /// Whether the session was activated.
    pub fn is_activated(&self) -> bool {
        self.activated_at.is_some()
    }
    /// The joins of one role (`practitioner` / `patient`).
    pub fn joins_of<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a JoinRecord> + 'a {
        self.joins.iter().filter(move |j| j.role == role)
    }
}

impl fmt::Debug for JitsiSessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitsiSessionRecord")
            .field("token", &"<redacted>")
            .field("room", &self.room)
            .field("origin", &self.origin)
            .field("joins", &self.joins)
            .field("activated_at", &self.activated_at)
            .field("ended_at", &self.ended_at)
            .finish()
    }
}

/// An Encounter the check-in published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedEvent {
    /// The Encounter's id.
    #[serde(rename = "encounterId")]
    pub encounter_id: String,
    /// Its version.
    #[serde(rename = "versionId")]
    pub version_id: String,
    /// The Appointment it came from.
    #[serde(rename = "appointmentId")]
    pub appointment_id: String,
    /// Where it was written.
    pub delivery: Delivery,
    /// When.
    #[serde(serialize_with = "rfc3339")]
    pub at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_patient_data_and_tokens() {
        let n = NotificationRecord {
            title: "Your consultation".into(),
            body: "Dr Aminah is waiting".into(),
            patient_ids: vec!["950728106051".into()],
            sender: "a@b".into(),
            at: OffsetDateTime::UNIX_EPOCH,
        };
        let d = format!("{n:?}");
        assert!(!d.contains("950728106051") && !d.contains("Aminah"), "{d}");
        let s = JitsiSessionRecord {
            token: "secret-token".into(),
            room: "vc-1".into(),
            origin: SessionOrigin::Api,
            created_at: OffsetDateTime::UNIX_EPOCH,
            joins: vec![JoinRecord {
                role: "patient".into(),
                user_id: "950728106051".into(),
                name: "Siti".into(),
                at: OffsetDateTime::UNIX_EPOCH,
            }],
            activated_at: None,
            activations: 0,
            ended_at: None,
            end_calls: 0,
        };
        let d = format!("{s:?}");
        assert!(
            !d.contains("secret-token") && !d.contains("Siti") && !d.contains("9507"),
            "{d}"
        );
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["joins"][0]["userId"], "950728106051");
        assert_eq!(j["createdAt"], "1970-01-01T00:00:00.000Z");
        assert_eq!(j["endCalls"], 0);
    }
}
