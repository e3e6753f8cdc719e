//! The VC workflow (`docs/guide-gaps.md` §3): one [`VirtualConsultation`] over the HIE client, a
//! Jitsi provider and the Notification API runs the ten steps of the VCI and VCE flows.
//!
//! | step | VCI | VCE |
//! |---|---|---|
//! | session token | HIE creates it at check-in | [`create_session`](VirtualConsultation::create_session) |
//! | Schedule + Slots | [`schedule`](VirtualConsultation::schedule) (optional) | [`schedule`](VirtualConsultation::schedule) with the token |
//! | Appointment(s) | [`book`](VirtualConsultation::book) | [`book`](VirtualConsultation::book) per patient, with the token |
//! | Encounter arrives | the listener, [`arrival_handler`](VirtualConsultation::arrival_handler) | same |
//! | start | [`start`](VirtualConsultation::start): practitioner join, activate, notify the patient | notify every patient of the session |
//! | finish | [`finish`](VirtualConsultation::finish): PUT `finished` + `period.end`, end the session | same |
//!
//! **Idempotent**: `start` and `finish` can run again (a redelivered Encounter, a retry after a
//! failure) — patients already notified are not notified again, a finished Encounter is not
//! PUT again, ending an ended session is fine. What was done is kept in a [`Journal`]
//! (in memory by default; plug a persistent one for several processes).
//! **Resumable**: a failure returns the error of the failing step with
//! [`Error::step`](crate::Error::step) and [`Error::completed_steps`](crate::Error::completed_steps).

mod flow;
mod handler;
mod journal;
mod patients;
mod step;

use std::sync::Arc;

pub use flow::{Booked, Finished, Scheduled, Started};
pub use handler::{ArrivalHandler, PractitionerFor};
pub use journal::{Journal, MemoryJournal, SessionRecord};
pub use step::Step;

use crate::hie::HieClient;
use crate::jitsi::JitsiProvider;
use crate::mycore::consts::{MYKAD_SYSTEM, MYKAD_SYSTEM_ALT};
use crate::mycore::QuotaWire;
use crate::notify::Notifier;
use crate::settings::VcSettings;
use crate::{Error, Result};

/// Default title of the "session starts" notification.
pub const DEFAULT_NOTIFY_TITLE: &str = "Virtual consultation";
/// Default body; `{start}` is replaced by the Encounter's start time when known.
pub const DEFAULT_NOTIFY_BODY: &str =
    "Your virtual consultation is starting. Open RekodSaya to join.";

/// Runs the VC workflow. Cheap to clone; thread-safe.
#[derive(Clone, Debug)]
pub struct VirtualConsultation {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    hie: HieClient,
    jitsi: Arc<dyn JitsiProvider>,
    notifier: Arc<dyn Notifier>,
    journal: Arc<dyn Journal>,
    quota_wire: QuotaWire,
    notify_title: String,
    notify_body: String,
    patient_id_systems: Vec<String>,
}

/// Builds a [`VirtualConsultation`].
#[derive(Debug)]
#[must_use]
pub struct VirtualConsultationBuilder {
    hie: HieClient,
    jitsi: Option<Arc<dyn JitsiProvider>>,
    notifier: Option<Arc<dyn Notifier>>,
    journal: Option<Arc<dyn Journal>>,
    quota_wire: QuotaWire,
    notify_title: String,
    notify_body: String,
    patient_id_systems: Vec<String>,
}

impl VirtualConsultation {
    /// A builder over the HIE client.
    pub fn builder(hie: HieClient) -> VirtualConsultationBuilder {
        VirtualConsultationBuilder {
            hie,
            jitsi: None,
            notifier: None,
            journal: None,
            quota_wire: QuotaWire::Integer,
            notify_title: DEFAULT_NOTIFY_TITLE.to_owned(),
            notify_body: DEFAULT_NOTIFY_BODY.to_owned(),
            patient_id_systems: vec![MYKAD_SYSTEM.to_owned(), MYKAD_SYSTEM_ALT.to_owned()],
        }
    }
    /// A builder over the services the settings name: the HIE client (`[hie]`), the Jitsi
    /// provider (`[jitsi]`), the Notification API client (`[notify]`), with the `[vc]`
    /// settings applied — what a front end's "from settings" builds. Objects that register
    /// with a runtime (the HTTP clients) are built here: call it inside the runtime.
    pub fn from_settings(
        settings: &crate::settings::Settings,
    ) -> Result<VirtualConsultationBuilder> {
        let hie = HieClient::new(settings.hie.to_config()?)?;
        let notifier = crate::notify::NotificationClient::new(settings.notify.to_config()?)?;
        Ok(Self::builder(hie)
            .jitsi(settings.jitsi.provider()?)
            .notifier(Arc::new(notifier))
            .settings(&settings.vc))
    }
    /// The HIE client.
    pub fn hie(&self) -> &HieClient {
        &self.inner.hie
    }
    /// The Jitsi provider.
    pub fn jitsi(&self) -> &Arc<dyn JitsiProvider> {
        &self.inner.jitsi
    }
    /// The journal of sessions.
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.inner.journal
    }
}

impl VirtualConsultationBuilder {
    /// The Jitsi provider (required).
    pub fn jitsi(mut self, jitsi: Arc<dyn JitsiProvider>) -> Self {
        self.jitsi = Some(jitsi);
        self
    }
    /// The notifier (required), e.g. a [`crate::notify::NotificationClient`].
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }
    /// Where session records live (default: in memory).
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }
    /// How booking writes the slot quota (default integers).
    pub fn quota_wire(mut self, wire: QuotaWire) -> Self {
        self.quota_wire = wire;
        self
    }
    /// Title and body of the "session starts" notification (`{start}` in the body is replaced
    /// by the Encounter's start time).
    pub fn notification_text(mut self, title: impl Into<String>, body: impl Into<String>) -> Self {
        self.notify_title = title.into();
        self.notify_body = body.into();
        self
    }
    /// Applies the `[vc]` settings: `quota_as_string` ([`QuotaWire::String`]), and
    /// `notify_title` / `notify_body` (either alone keeps the default of the other). Unset
    /// settings leave the builder as it is.
    pub fn settings(mut self, settings: &VcSettings) -> Self {
        if let Some(as_string) = settings.quota_as_string {
            self.quota_wire = if as_string {
                QuotaWire::String
            } else {
                QuotaWire::Integer
            };
        }
        if let Some(title) = &settings.notify_title {
            self.notify_title = title.clone();
        }
        if let Some(body) = &settings.notify_body {
            self.notify_body = body.clone();
        }
        self
    }
    /// Identifier systems of the patient id the Notification API wants, in order of preference
    /// (default: MyKad, then the alternative MyKad system one profile uses).
    pub fn patient_id_systems<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        systems: I,
    ) -> Self {
        self.patient_id_systems = systems.into_iter().map(Into::into).collect();
        self
    }
    /// The workflow; a [`crate::ErrorKind::Config`] error when the Jitsi provider or the notifier is missing.
    pub fn build(self) -> Result<VirtualConsultation> {
        let jitsi = self.jitsi.ok_or_else(|| {
            Error::config("the VC workflow needs a Jitsi provider (builder.jitsi(...))")
        })?;
        let notifier = self.notifier.ok_or_else(|| {
            Error::config("the VC workflow needs a notifier (builder.notifier(...))")
        })?;
        if self.patient_id_systems.is_empty() {
            return Err(Error::config(
                "name at least one patient identifier system to notify patients by",
            ));
        }
        Ok(VirtualConsultation {
            inner: Arc::new(Inner {
                hie: self.hie,
                jitsi,
                notifier,
                journal: self
                    .journal
                    .unwrap_or_else(|| Arc::new(MemoryJournal::default())),
                quota_wire: self.quota_wire,
                notify_title: self.notify_title,
                notify_body: self.notify_body,
                patient_id_systems: self.patient_id_systems,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hie::HieConfig;

    fn builder() -> VirtualConsultationBuilder {
        let hie = HieClient::new(
            HieConfig::builder("http://127.0.0.1:9/fhir/")
                .build()
                .unwrap(),
        )
        .unwrap();
        VirtualConsultation::builder(hie)
    }

    #[tokio::test]
    async fn from_settings_builds_every_service_the_settings_name() {
        let loader = crate::settings::SettingsLoader::new()
            .set("hie", "url", "http://127.0.0.1:9/fhir/")
            .set("jitsi", "url", "http://127.0.0.1:9/jitsi/")
            .set("notify", "url", "http://127.0.0.1:9/notify/")
            .set("notify", "email", "nurse@klinik.my")
            .set("notify", "password", "pw")
            .set("vc", "quota_as_string", "true");
        let b = VirtualConsultation::from_settings(&loader.clone().load().unwrap()).unwrap();
        assert_eq!(b.quota_wire, QuotaWire::String);
        assert_eq!(
            b.hie.config().base_url().as_str(),
            "http://127.0.0.1:9/fhir/"
        );
        assert!(b.build().is_ok());
        let no_hie = crate::settings::SettingsLoader::new().load().unwrap();
        let e = VirtualConsultation::from_settings(&no_hie).err().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn vc_settings_apply_to_the_builder() {
        let b = builder().settings(&VcSettings {
            quota_as_string: Some(true),
            notify_title: Some("Konsultasi".to_owned()),
            notify_body: None,
        });
        assert_eq!(b.quota_wire, QuotaWire::String);
        assert_eq!(b.notify_title, "Konsultasi");
        assert_eq!(b.notify_body, DEFAULT_NOTIFY_BODY);
        let b = b.settings(&VcSettings {
            quota_as_string: Some(false),
            notify_title: None,
            notify_body: Some("Body {start}".to_owned()),
        });
        assert_eq!(b.quota_wire, QuotaWire::Integer);
        assert_eq!(b.notify_title, "Konsultasi");
        assert_eq!(b.notify_body, "Body {start}");
        let unchanged = builder().settings(&VcSettings::default());
        assert_eq!(unchanged.quota_wire, QuotaWire::Integer);
        assert_eq!(unchanged.notify_title, DEFAULT_NOTIFY_TITLE);
    }
}
