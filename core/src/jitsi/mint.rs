//! The one path from a session token to a join: the room derived from the token, the claims of
//! a participant's token, the signature and the join URL. Shared by the providers that sign
//! tokens locally ([`SelfHostedJitsi`](super::SelfHostedJitsi) and
//! [`JaasJitsi`](super::JaasJitsi)); they differ only in the values they give it.

use std::time::{Duration, SystemTime};

use super::room::RoomName;
use super::token::{from_unix, unix, JaasFeatures, JitsiClaims, JitsiContext, Signer};
use super::{JitsiSession, Join, Participant};
use crate::error::Result;

/// What a token-signing provider mints with.
#[derive(Debug, Clone)]
pub(crate) struct Minter {
    /// `iss` of every token.
    pub(crate) issuer: String,
    /// `aud` of every token.
    pub(crate) audience: String,
    /// `sub` of every token.
    pub(crate) subject: String,
    /// `"room": "*"` instead of the one room.
    pub(crate) any_room: bool,
    /// Lifetime of join tokens.
    pub(crate) ttl: Duration,
    /// How far `nbf` lies before `iat`.
    pub(crate) nbf_skew: Duration,
    /// Prefix of rooms derived from session tokens.
    pub(crate) room_prefix: String,
    /// `context.features` (JaaS only).
    pub(crate) features: Option<JaasFeatures>,
    pub(crate) signer: Signer,
    /// The web address of the meetings (ends with `/`).
    pub(crate) meet_url: url::Url,
    /// A path segment before the room (a tenant, the JaaS AppID), validated URL-safe.
    pub(crate) path_prefix: Option<String>,
}

impl Minter {
    /// The room of a session.
    pub(crate) fn room_for(&self, session_token: &str) -> Result<RoomName> {
        RoomName::for_session(&self.room_prefix, session_token)
    }

    /// A fresh session: a random token (a UUID v4) and its room.
    pub(crate) fn create_session(&self) -> Result<JitsiSession> {
        let token = uuid::Uuid::new_v4().to_string();
        let room = self.room_for(&token)?;
        Ok(JitsiSession {
            token,
            room: Some(room.into_string()),
        })
    }

    /// The claims of a token for `participant` in `room`, issued at `now`.
    pub(crate) fn claims(
        &self,
        room: &RoomName,
        participant: &Participant,
        now: SystemTime,
    ) -> JitsiClaims {
        let room = if self.any_room { "*" } else { room.as_str() };
        let mut claims = self.base_claims(room, self.ttl, now);
        claims.context = JitsiContext {
            user: Some(participant.to_user()),
            features: self.features,
        };
        claims
    }

    /// The claims of a back-end (system) token: no user, every room (Prosody requires the
    /// `room` claim by default, `asap_require_room_claim`), valid for `ttl`.
    pub(crate) fn system_claims(&self, ttl: Duration, now: SystemTime) -> JitsiClaims {
        self.base_claims("*", ttl, now)
    }

    fn base_claims(&self, room: &str, ttl: Duration, now: SystemTime) -> JitsiClaims {
        let iat = unix(now);
        JitsiClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: self.subject.clone(),
            room: room.to_owned(),
            iat,
            nbf: iat - self.nbf_skew.as_secs() as i64,
            exp: iat + ttl.as_secs() as i64,
            context: JitsiContext::default(),
        }
    }

    /// Signs `claims` with the configured key.
    pub(crate) fn sign(&self, claims: &JitsiClaims) -> Result<String> {
        self.signer.sign(claims)
    }

    /// `<meet URL>[<prefix>/]<room>?jwt=<token>`.
    pub(crate) fn join_url(&self, room: &RoomName, token: &str) -> String {
        let path = match &self.path_prefix {
            Some(p) => format!("{p}/{}", room.as_str()),
            None => room.as_str().to_owned(),
        };
        // Both parts are validated URL-safe names, and the base ends with '/'.
        let mut url = self
            .meet_url
            .join(&path)
            .unwrap_or_else(|_| self.meet_url.clone());
        url.query_pairs_mut().append_pair("jwt", token);
        url.into()
    }

    /// A token and join URL for `participant` in `room`, valid from now.
    pub(crate) fn mint(&self, room: &RoomName, participant: &Participant) -> Result<Join> {
        participant.check()?;
        let claims = self.claims(room, participant, SystemTime::now());
        let token = self.sign(&claims)?;
        Ok(Join::new(
            participant.role(),
            Some(room.as_str().to_owned()),
            self.join_url(room, &token),
            token,
            Some(from_unix(claims.exp)),
        ))
    }

    /// What `participant` needs to join the session of `session_token`.
    pub(crate) fn join(&self, session_token: &str, participant: &Participant) -> Result<Join> {
        let room = self.room_for(session_token)?;
        self.mint(&room, participant)
    }
}

/// The public minting methods of a provider whose `self.config.minter` is its [`Minter`]. The
/// arguments document what `sign` signs with and the shape of `join_url`.
macro_rules! minter_api {
    ($sign_doc:literal, $join_url_doc:literal) => {
        /// The room of a session.
        pub fn room_for(&self, session_token: &str) -> crate::Result<crate::jitsi::RoomName> {
            self.config.minter.room_for(session_token)
        }

        /// The claims of a token for `participant` in `room`, issued at `now`.
        pub fn claims(
            &self,
            room: &crate::jitsi::RoomName,
            participant: &crate::jitsi::Participant,
            now: std::time::SystemTime,
        ) -> crate::jitsi::JitsiClaims {
            self.config.minter.claims(room, participant, now)
        }

        #[doc = $sign_doc]
        pub fn sign(&self, claims: &crate::jitsi::JitsiClaims) -> crate::Result<String> {
            self.config.minter.sign(claims)
        }

        #[doc = $join_url_doc]
        pub fn join_url(&self, room: &crate::jitsi::RoomName, token: &str) -> String {
            self.config.minter.join_url(room, token)
        }

        /// A token and join URL for `participant` in `room`, valid from now.
        pub fn mint(
            &self,
            room: &crate::jitsi::RoomName,
            participant: &crate::jitsi::Participant,
        ) -> crate::Result<crate::jitsi::Join> {
            self.config.minter.mint(room, participant)
        }
    };
}
pub(crate) use minter_api;

/// The token setters of a provider's config builder (fields `any_room`, `ttl`, `nbf_skew`,
/// `room_prefix`). The arguments document `any_room` and `token_ttl`.
macro_rules! token_options {
    ($any_room_doc:literal, $ttl_doc:literal) => {
        #[doc = $any_room_doc]
        pub fn any_room(mut self, yes: bool) -> Self {
            self.any_room = yes;
            self
        }
        #[doc = $ttl_doc]
        pub fn token_ttl(mut self, d: std::time::Duration) -> Self {
            self.ttl = d;
            self
        }
        /// How far `nbf` lies before `iat` (default 10 s), so that a server whose clock runs a
        /// little behind still accepts a fresh token.
        pub fn not_before_skew(mut self, d: std::time::Duration) -> Self {
            self.nbf_skew = d;
            self
        }
        /// The prefix of rooms derived from session tokens (default `vc-`).
        pub fn room_prefix(mut self, prefix: impl Into<String>) -> Self {
            self.room_prefix = prefix.into();
            self
        }
    };
}
pub(crate) use token_options;

/// The [`JitsiProvider`](crate::jitsi::JitsiProvider) impl of a token-signing provider: sessions,
/// joins and activation through its `self.config.minter`; ending through its own
/// `end_session`.
macro_rules! signing_provider {
    ($ty:ty, $kind:literal) => {
        #[async_trait::async_trait]
        impl crate::jitsi::JitsiProvider for $ty {
            fn kind(&self) -> &'static str {
                $kind
            }

            async fn create_session(&self) -> crate::Result<crate::jitsi::JitsiSession> {
                self.config.minter.create_session()
            }

            async fn join(
                &self,
                session_token: &str,
                participant: &crate::jitsi::Participant,
            ) -> crate::Result<crate::jitsi::Join> {
                self.config.minter.join(session_token, participant)
            }

            async fn activate(&self, session_token: &str) -> crate::Result<()> {
                // Nothing to call: a Jitsi room comes into being when its first participant
                // joins. The token must still name a room.
                self.config.minter.room_for(session_token).map(|_| ())
            }

            async fn end(&self, session_token: &str) -> crate::Result<crate::jitsi::EndOutcome> {
                self.end_session(session_token).await
            }
        }
    };
}
pub(crate) use signing_provider;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hie::Secret;
    use crate::jitsi::TokenVerifier;

    fn minter(path_prefix: Option<&str>, features: Option<JaasFeatures>) -> Minter {
        Minter {
            issuer: "app".into(),
            audience: "jitsi".into(),
            subject: "meet.example.org".into(),
            any_room: false,
            ttl: Duration::from_secs(600),
            nbf_skew: Duration::from_secs(10),
            room_prefix: "vc-".into(),
            features,
            signer: Signer::hs256(&Secret::new("a-secret-of-at-least-32-bytes!!!"), None).unwrap(),
            meet_url: url::Url::parse("https://meet.example.org/").unwrap(),
            path_prefix: path_prefix.map(str::to_owned),
        }
    }

    #[test]
    fn one_path_from_session_to_a_verifiable_join() {
        let m = minter(Some("klinik-a"), None);
        let s = m.create_session().unwrap();
        let room = s.room.clone().unwrap();
        assert_eq!(room, format!("vc-{}", s.token));
        let join = m
            .join(&s.token, &Participant::patient("p1", "Siti"))
            .unwrap();
        assert!(join
            .url()
            .starts_with(&format!("https://meet.example.org/klinik-a/{room}?jwt=")));
        let v = TokenVerifier::hs256("a-secret-of-at-least-32-bytes!!!")
            .issuer("app")
            .audience("jitsi")
            .verify(join.token().expose_secret())
            .unwrap();
        assert_eq!(v.claims.room, room);
        assert_eq!(v.claims.exp - v.claims.iat, 600);
        assert_eq!(v.claims.iat - v.claims.nbf, 10);
        assert!(!v.is_moderator());
        assert!(v.claims.context.features.is_none());
    }

    #[test]
    fn any_room_features_and_system_claims() {
        let mut m = minter(None, Some(JaasFeatures::default()));
        m.any_room = true;
        let room = m.room_for("t-1").unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let c = m.claims(&room, &Participant::practitioner("d", "Dr"), now);
        assert_eq!(c.room, "*");
        assert_eq!(c.context.features, Some(JaasFeatures::default()));
        assert_eq!(c.context.user.unwrap().moderator, Some(true));
        let sys = m.system_claims(Duration::from_secs(60), now);
        assert_eq!((sys.room.as_str(), sys.exp - sys.iat), ("*", 60));
        assert!(sys.context.user.is_none() && sys.context.features.is_none());
        assert_eq!(
            m.join_url(&room, "tok"),
            "https://meet.example.org/vc-t-1?jwt=tok"
        );
        assert!(m.join("", &Participant::patient("p", "P")).is_err());
        assert!(m.join("t", &Participant::patient("", "P")).is_err());
    }
}
