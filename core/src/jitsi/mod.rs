//! Jitsi video sessions for virtual consultations (`docs/guide-gaps.md` §6).
//!
//! HIE only says its Jitsi API is "managed by the Jitsi team", so the SDK speaks to Jitsi through
//! one interface, [`JitsiProvider`], with three implementations:
//!
//! * [`RestJitsi`] — HIE's token service over REST. Paths and JSON field names are a
//!   [`JitsiRestContract`] (defaults documented there; the embedded sandbox implements them).
//! * [`SelfHostedJitsi`] — a Jitsi Meet deployment with token authentication (Prosody
//!   `mod_auth_token`): tokens signed locally with the `app_secret` (HS256) or an RSA key and
//!   `kid` (RS256); sessions ended through Prosody's `end-meeting` endpoint.
//! * [`JaasJitsi`] — 8x8 Jitsi as a Service: RS256 tokens for `https://8x8.vc/<AppID>/<room>`.
//!
//! A *session* is identified by its **session token** — the value HIE stores in the Encounter's
//! `vc-token` identifier (and, for VCE, on the Schedule, Slot and Appointments). Every method
//! after [`create_session`](JitsiProvider::create_session) takes that token, so a source system
//! that only received the Encounter (VCI: HIE created the session) can still join and end it.
//! The token-signing providers derive the room from it ([`RoomName::for_session`]).
//!
//! Join tokens and join URLs are credentials: [`Join`] never prints them, and nothing in this
//! module logs them. [`TokenVerifier`] checks tokens (signature, `exp`/`nbf`, `aud`, `iss`).
//!
//! ```
//! # async fn demo() -> hie_vc::Result<()> {
//! use std::sync::Arc;
//! use hie_vc::jitsi::{JitsiProvider, Participant, SelfHostedConfig, SelfHostedJitsi};
//! let jitsi: Arc<dyn JitsiProvider> = Arc::new(SelfHostedJitsi::new(
//!     SelfHostedConfig::builder("meet.example.org")
//!         .app_id("hie-vc")
//!         .app_secret("prosody-app-secret")
//!         .build()?,
//! )?);
//! let session = jitsi.create_session().await?;
//! let join = jitsi
//!     .join(&session.token, &Participant::practitioner("prac-7", "Dr Aminah").email("aminah@example.org"))
//!     .await?;
//! assert!(join.url().starts_with("https://meet.example.org/vc-"));
//! assert!(!format!("{join:?}").contains(join.token().expose_secret()));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

mod hie_rest;
mod jaas;
mod mint;
mod room;
mod self_hosted;
mod token;

use std::fmt;
use std::time::SystemTime;

pub use hie_rest::{
    JitsiRestContract, RestJitsi, RestJitsiConfig, RestJitsiConfigBuilder, TOKEN_PLACEHOLDER,
};
pub use jaas::{JaasConfig, JaasConfigBuilder, JaasJitsi, JAAS_DOMAIN};
pub use room::{RoomName, DEFAULT_ROOM_PREFIX, MAX_ROOM_LEN};
pub use self_hosted::{
    EndMeeting, SelfHostedConfig, SelfHostedConfigBuilder, SelfHostedJitsi, DEFAULT_AUDIENCE,
};
pub use token::{JaasFeatures, JitsiClaims, JitsiContext, JitsiUser, TokenVerifier, VerifiedToken};

use crate::error::Result;
use crate::hie::Secret;

/// Who joins a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The practitioner who runs the consultation: a moderator by default.
    Practitioner,
    /// A patient (or a caregiver on the patient's behalf).
    Patient,
}

crate::names::names!(Role, "participant role" {
    Practitioner => "practitioner",
    Patient => "patient",
});

/// A participant to let into a session: role, id, display name and optional e-mail/avatar.
///
/// ```
/// use hie_vc::jitsi::{Participant, Role};
/// let p = Participant::patient("950728106051", "Siti").email("siti@example.org");
/// assert_eq!(p.role(), Role::Patient);
/// assert!(!p.is_moderator());
/// assert!(Participant::practitioner("d1", "Dr Lee").is_moderator());
/// ```
///
/// JSON, as the bindings take it: `{"role": "practitioner" | "patient", "id", "name",
/// "email"?, "avatar"?, "moderator"?}`; other keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    role: Role,
    id: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    moderator: Option<bool>,
}

impl Participant {
    /// A participant with `role`, a stable user `id` and a display `name`.
    pub fn new(role: Role, id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            role,
            id: id.into(),
            name: name.into(),
            email: None,
            avatar: None,
            moderator: None,
        }
    }
    /// A practitioner.
    pub fn practitioner(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self::new(Role::Practitioner, id, name)
    }
    /// A patient.
    pub fn patient(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self::new(Role::Patient, id, name)
    }
    /// The e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
    /// The avatar image URL.
    pub fn avatar(mut self, url: impl Into<String>) -> Self {
        self.avatar = Some(url.into());
        self
    }
    /// Overrides the moderator right, which by default follows the role (practitioners
    /// moderate, patients do not) — e.g. a second practitioner in a VCE session who should not.
    pub fn moderator(mut self, yes: bool) -> Self {
        self.moderator = Some(yes);
        self
    }
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The user id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The e-mail address.
    pub fn email_address(&self) -> Option<&str> {
        self.email.as_deref()
    }
    /// The avatar URL.
    pub fn avatar_url(&self) -> Option<&str> {
        self.avatar.as_deref()
    }
    /// Whether the participant gets moderator rights.
    pub fn is_moderator(&self) -> bool {
        self.moderator.unwrap_or(self.role == Role::Practitioner)
    }

    /// Checks what every provider needs: an id and a name.
    pub(crate) fn check(&self) -> Result<()> {
        use crate::error::{Error, ErrorKind};
        if self.id.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the {} has no user id", self.role),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the {} '{}' has no display name", self.role, self.id),
            ));
        }
        Ok(())
    }

    /// `context.user` of a token.
    pub(crate) fn to_user(&self) -> JitsiUser {
        JitsiUser {
            id: Some(self.id.clone()),
            name: Some(self.name.clone()),
            email: self.email.clone(),
            avatar: self.avatar.clone(),
            moderator: Some(self.is_moderator()),
        }
    }
}

/// A created session. JSON: `{"token", "room"}` (the token is the session's identifier, as
/// the vc-token of its Encounters).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JitsiSession {
    /// The session token: the value of the VC Encounter's `vc-token` identifier.
    pub token: String,
    /// The room, when the provider tells it.
    pub room: Option<String>,
}

/// What a participant needs to join: the URL to open and the token inside it.
///
/// Both are credentials: `Debug` shows the URL with the token replaced by `***`.
#[derive(Clone)]
pub struct Join {
    role: Role,
    room: Option<String>,
    url: Secret,
    token: Secret,
    expires_at: Option<SystemTime>,
}

impl Join {
    pub(crate) fn new(
        role: Role,
        room: Option<String>,
        url: String,
        token: String,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Self {
            role,
            room,
            url: Secret::new(url),
            token: Secret::new(token),
            expires_at,
        }
    }
    /// The role the join was made for.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The room, when known.
    pub fn room(&self) -> Option<&str> {
        self.room.as_deref()
    }
    /// The URL to open. It carries the token: hand it to its participant only, never log it.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
    /// The token (a JWT for the token-signing providers).
    pub fn token(&self) -> &Secret {
        &self.token
    }
    /// When the token expires, when known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
    /// The URL with the token replaced by `***`, for logs and timelines.
    pub fn redacted_url(&self) -> String {
        let token = self.token.expose_secret();
        let url = self.url.expose_secret();
        if token.is_empty() {
            return url.to_owned();
        }
        url.replace(token, "***")
    }
}

/// JSON (camelCase): `{"role", "room", "url", "token", "expiresAtMs"}`. Unlike `Debug`, it
/// holds the URL and the token: serialize a join only to hand it to its participant.
impl serde::Serialize for Join {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let expires_at_ms = self
            .expires_at
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut m = s.serialize_struct("Join", 5)?;
        m.serialize_field("role", &self.role)?;
        m.serialize_field("room", &self.room)?;
        m.serialize_field("url", self.url.expose_secret())?;
        m.serialize_field("token", self.token.expose_secret())?;
        m.serialize_field("expiresAtMs", &expires_at_ms)?;
        m.end()
    }
}

impl fmt::Debug for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("role", &self.role)
            .field("room", &self.room)
            .field("url", &self.redacted_url())
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What [`JitsiProvider::end`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndOutcome {
    /// The meeting was ended (everyone was disconnected) or the service confirmed the end.
    Ended,
    /// Nothing was running: the meeting had already ended or nobody had joined. Ending is
    /// idempotent, so finishing a consultation twice is not an error.
    NotRunning,
    /// The provider cannot end meetings remotely (JaaS; a self-hosted deployment without an
    /// end-meeting endpoint configured). The meeting ends when its participants leave, and no
    /// new participant can join once the tokens expire.
    Unsupported,
}

crate::names::names!(EndOutcome, "session end outcome" {
    Ended => "ended",
    NotRunning => "not_running",
    Unsupported => "unsupported",
});

/// A Jitsi back end: creates sessions, lets participants join, starts and ends sessions.
///
/// Object safe, so the VC orchestration holds an `Arc<dyn JitsiProvider>` and tests can
/// substitute their own. Every method is safe to call again after a failure.
#[async_trait::async_trait]
pub trait JitsiProvider: Send + Sync + fmt::Debug {
    /// A short name of the implementation (`hie-rest`, `self-hosted`, `jaas`) for logs and
    /// timelines.
    fn kind(&self) -> &'static str;

    /// Creates a session and returns its token (and room when known). The VCE flow calls this
    /// before scheduling; for VCI, HIE creates the session at check-in.
    async fn create_session(&self) -> Result<JitsiSession>;

    /// What `participant` needs to join the session of `session_token`. A practitioner joins
    /// as moderator (see [`Participant::moderator`]).
    async fn join(&self, session_token: &str, participant: &Participant) -> Result<Join>;

    /// Marks the session started (step 6 of the flows). Idempotent.
    async fn activate(&self, session_token: &str) -> Result<()>;

    /// Ends the session (step 10 of the flows). Idempotent: a session already over is
    /// [`EndOutcome::NotRunning`], not an error.
    async fn end(&self, session_token: &str) -> Result<EndOutcome>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_never_prints_its_token() {
        let j = Join::new(
            Role::Patient,
            Some("vc-1".into()),
            "https://m.example/vc-1?jwt=eyJ.secret.sig".into(),
            "eyJ.secret.sig".into(),
            None,
        );
        let d = format!("{j:?}");
        assert!(!d.contains("secret"), "{d}");
        assert!(d.contains("https://m.example/vc-1?jwt=***"), "{d}");
        assert_eq!(j.url(), "https://m.example/vc-1?jwt=eyJ.secret.sig");
    }

    #[test]
    fn participants_need_an_id_and_a_name() {
        assert!(Participant::patient("p", "P").check().is_ok());
        assert!(Participant::patient(" ", "P").check().is_err());
        assert!(Participant::patient("p", "").check().is_err());
        let u = Participant::practitioner("d", "D")
            .moderator(false)
            .to_user();
        assert_eq!(u.moderator, Some(false));
    }
}
