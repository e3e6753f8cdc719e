//! A self-hosted Jitsi Meet with token authentication: tokens are signed here (HS256 with
//! Prosody's `app_secret`, or RS256 with a private key whose public half Prosody fetches by
//! `kid` from its `asap_key_server`), and meetings are ended through Prosody's `end-meeting`
//! endpoint (`mod_muc_end_meeting`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::mint::{self, Minter};
use super::room::{check_prefix, RoomName, DEFAULT_ROOM_PREFIX};
use super::token::{Signer, TokenVerifier};
use super::EndOutcome;
use crate::error::{Error, ErrorKind, Result};
use crate::hie::{Auth, Secret};
use crate::http::{self, HttpSettings, JsonService, Repeat, Req};

/// The `aud` Jitsi deployments accept by default.
pub const DEFAULT_AUDIENCE: &str = "jitsi";

const SERVICE: &str = "Prosody end-meeting";

#[derive(Clone)]
enum KeySetting {
    Hs256 { secret: Secret, kid: Option<String> },
    Rs256 { pem: Secret, kid: String },
}

impl std::fmt::Debug for KeySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hs256 { kid, .. } => write!(f, "HS256(secret: ***, kid: {kid:?})"),
            Self::Rs256 { kid, .. } => write!(f, "RS256(private key: ***, kid: {kid})"),
        }
    }
}

/// Where and how meetings are ended: Prosody's `POST /end-meeting?conference=<room>@<muc>`.
///
/// The endpoint accepts only a *system* token: RS256, signed with a key pair of its own whose
/// public keys Prosody serves from `prosody_password_public_key_repo_url` (login tokens are not
/// accepted). Give that private key and its `kid` to have a short-lived token minted per call,
/// or a ready token. The endpoint must only be reachable from trusted back ends (Prosody's HTTP
/// port, typically 5280), never from the internet.
///
/// ```
/// use hie_vc::jitsi::EndMeeting;
/// let end = EndMeeting::new("http://prosody.internal:5280")
///     .system_token("a-system-jwt")
///     .request_timeout(std::time::Duration::from_secs(5));
/// assert!(!format!("{end:?}").contains("a-system-jwt"));
/// ```
#[derive(Debug, Clone)]
pub struct EndMeeting {
    url: String,
    muc_domain: Option<String>,
    system_key: Option<(Secret, String)>,
    system_token: Option<Secret>,
    system_ttl: Duration,
    http: HttpSettings,
}

impl EndMeeting {
    /// Prosody's HTTP base URL (e.g. `http://localhost:5280`).
    pub fn new(prosody_url: impl Into<String>) -> Self {
        Self {
            url: prosody_url.into(),
            muc_domain: None,
            system_key: None,
            system_token: None,
            system_ttl: Duration::from_secs(60),
            http: HttpSettings::default(),
        }
    }
    /// The MUC domain of the conference JID (default `conference.<domain>`, with a tenant
    /// `conference.<tenant>.<domain>`, which Prosody maps to `[tenant]room@conference.<domain>`).
    pub fn muc_domain(mut self, domain: impl Into<String>) -> Self {
        self.muc_domain = Some(domain.into());
        self
    }
    /// The RS256 private key (PEM) of the system key pair and its `kid`: a token valid for
    /// [`system_token_ttl`](Self::system_token_ttl) is minted for each call.
    pub fn system_key(mut self, private_key_pem: impl AsRef<[u8]>, kid: impl Into<String>) -> Self {
        let pem = String::from_utf8_lossy(private_key_pem.as_ref()).into_owned();
        self.system_key = Some((Secret::new(pem), kid.into()));
        self
    }
    /// A ready system token, sent as is.
    pub fn system_token(mut self, token: impl Into<Secret>) -> Self {
        self.system_token = Some(token.into());
        self
    }
    /// The lifetime of minted system tokens (default 60 s: each is used at once).
    pub fn system_token_ttl(mut self, d: Duration) -> Self {
        self.system_ttl = d;
        self
    }
    http::http_options!("1 MiB");
}

/// The settings of a [`SelfHostedJitsi`]; build with [`SelfHostedConfig::builder`].
#[derive(Debug, Clone)]
pub struct SelfHostedConfig {
    domain: String,
    minter: Minter,
    key: KeySetting,
    public_key_pem: Option<Secret>,
    end: Option<EndMeeting>,
    end_signer: Option<Signer>,
    end_url: Option<url::Url>,
    muc_domain: String,
}

impl SelfHostedConfig {
    /// Settings for the Jitsi Meet deployment at `domain` (e.g. `meet.example.org`).
    pub fn builder(domain: impl Into<String>) -> SelfHostedConfigBuilder {
        SelfHostedConfigBuilder {
            domain: domain.into(),
            app_id: None,
            key: None,
            public_key_pem: None,
            audience: DEFAULT_AUDIENCE.to_owned(),
            tenant: None,
            subject: None,
            meet_url: None,
            any_room: false,
            ttl: Duration::from_secs(2 * 3600),
            nbf_skew: Duration::from_secs(10),
            room_prefix: DEFAULT_ROOM_PREFIX.to_owned(),
            end: None,
        }
    }
    /// The domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The `iss` of minted tokens.
    pub fn app_id(&self) -> &str {
        &self.minter.issuer
    }
    /// The `aud` of minted tokens.
    pub fn audience(&self) -> &str {
        &self.minter.audience
    }
    /// The `sub` of minted tokens (the tenant, else the domain).
    pub fn subject(&self) -> &str {
        &self.minter.subject
    }
}

/// Builds a [`SelfHostedConfig`]. Required: [`app_id`](Self::app_id) and a key
/// ([`app_secret`](Self::app_secret) or [`rs256_private_key`](Self::rs256_private_key)).
///
/// ```
/// use hie_vc::jitsi::SelfHostedConfig;
/// let e = SelfHostedConfig::builder("meet.example.org").app_id("app").build().unwrap_err();
/// assert_eq!(e.kind(), hie_vc::ErrorKind::Config);
/// let c = SelfHostedConfig::builder("meet.example.org")
///     .app_id("app")
///     .app_secret("s3cret")
///     .tenant("klinik-a")
///     .build()
///     .unwrap();
/// assert_eq!(c.subject(), "klinik-a");
/// assert!(!format!("{c:?}").contains("s3cret"));
/// ```
#[derive(Debug)]
pub struct SelfHostedConfigBuilder {
    domain: String,
    app_id: Option<String>,
    key: Option<KeySetting>,
    public_key_pem: Option<Secret>,
    audience: String,
    tenant: Option<String>,
    subject: Option<String>,
    meet_url: Option<String>,
    any_room: bool,
    ttl: Duration,
    nbf_skew: Duration,
    room_prefix: String,
    end: Option<EndMeeting>,
}

impl SelfHostedConfigBuilder {
    /// Prosody's `app_id`: the `iss` of every token (required).
    pub fn app_id(mut self, id: impl Into<String>) -> Self {
        self.app_id = Some(id.into());
        self
    }
    /// Signs with HS256 and Prosody's `app_secret`.
    pub fn app_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.key = Some(KeySetting::Hs256 {
            secret: secret.into(),
            kid: None,
        });
        self
    }
    /// Signs with RS256: the private key (PEM, PKCS#1 or PKCS#8) and the `kid` under which
    /// Prosody's `asap_key_server` serves the public key (as `sha256(kid).pem`).
    pub fn rs256_private_key(mut self, pem: impl AsRef<[u8]>, kid: impl Into<String>) -> Self {
        let pem = String::from_utf8_lossy(pem.as_ref()).into_owned();
        self.key = Some(KeySetting::Rs256 {
            pem: Secret::new(pem),
            kid: kid.into(),
        });
        self
    }
    /// The RS256 public key (PEM), used only by [`SelfHostedJitsi::verifier`].
    pub fn rs256_public_key(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.public_key_pem = Some(Secret::new(
            String::from_utf8_lossy(pem.as_ref()).into_owned(),
        ));
        self
    }
    /// The `aud` (default `jitsi`; Prosody accepts any unless `asap_accepted_audiences` says
    /// otherwise).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = aud.into();
        self
    }
    /// A tenant of a multi-tenant deployment: the `sub` claim, and the first path segment of
    /// join URLs (`https://<domain>/<tenant>/<room>`).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }
    /// Overrides the `sub` claim (default: the tenant, else the domain).
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }
    /// The web address of the deployment (default `https://<domain>/`), e.g. for a port or a
    /// path prefix.
    pub fn meet_url(mut self, url: impl Into<String>) -> Self {
        self.meet_url = Some(url.into());
        self
    }
    mint::token_options!(
        "Mints tokens valid for every room (`\"room\": \"*\"`) instead of the one room. Off by default: a leaked patient link should open that consultation only.",
        "How long join tokens are valid (default 2 h; a consultation rarely runs longer, and Jitsi keeps a participant in once joined)."
    );
    /// Enables [`JitsiProvider::end`](super::JitsiProvider::end) through Prosody's end-meeting endpoint.
    pub fn end_meeting(mut self, end: EndMeeting) -> Self {
        self.end = Some(end);
        self
    }

    /// Checks the settings (and tries the signing keys once).
    pub fn build(self) -> Result<SelfHostedConfig> {
        let domain = self.domain.trim().to_ascii_lowercase();
        let probe = url::Url::parse(&format!("https://{domain}/"))
            .ok()
            .filter(|u| u.path() == "/" && u.query().is_none() && u.username().is_empty());
        let Some(host) = probe.as_ref().and_then(|u| u.host_str()).map(str::to_owned) else {
            return Err(Error::config(format!(
                "'{}' is not a Jitsi domain; give the host name, e.g. meet.example.org",
                self.domain
            )));
        };
        let app_id = self
            .app_id
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| Error::config("the Jitsi app_id is not set; set it to Prosody's app_id (the iss of every token)"))?;
        let key = self.key.ok_or_else(|| {
            Error::config("no Jitsi signing key: set app_secret (HS256) or rs256_private_key")
        })?;
        let signer = match &key {
            KeySetting::Hs256 { secret, kid } => Signer::hs256(secret, kid.clone())?,
            KeySetting::Rs256 { pem, kid } => Signer::rs256(pem, kid.clone(), "Jitsi private key")?,
        };
        if self.audience.trim().is_empty() {
            return Err(Error::config("the Jitsi audience (aud) is empty"));
        }
        if let Some(t) = &self.tenant {
            RoomName::new(t.clone())
                .map_err(|e| Error::config(format!("invalid Jitsi tenant: {}", e.message())))?;
        }
        check_prefix(&self.room_prefix)?;
        if self.ttl.is_zero() {
            return Err(Error::config(
                "the Jitsi token lifetime must be greater than zero",
            ));
        }
        let meet_url = http::base_url(
            "Jitsi Meet",
            self.meet_url
                .as_deref()
                .unwrap_or(&format!("https://{domain}/")),
        )?;
        let subject = self
            .subject
            .or_else(|| self.tenant.clone())
            .unwrap_or_else(|| domain.clone());
        let muc_domain = match (&self.end, &self.tenant) {
            (
                Some(EndMeeting {
                    muc_domain: Some(m),
                    ..
                }),
                _,
            ) => m.clone(),
            (_, Some(t)) => format!("conference.{t}.{host}"),
            _ => format!("conference.{host}"),
        };
        let (end_signer, end_url) = match &self.end {
            None => (None, None),
            Some(end) => {
                let base = http::base_url("Prosody", &end.url)?;
                let signer = match (&end.system_key, &end.system_token) {
                    (Some((pem, kid)), None) => {
                        Some(Signer::rs256(pem, kid.clone(), "Prosody system key")?)
                    }
                    (None, Some(_)) => None,
                    (Some(_), Some(_)) => {
                        return Err(Error::config(
                            "end_meeting: give a system key or a system token, not both",
                        ))
                    }
                    (None, None) => {
                        return Err(Error::config(
                            "end_meeting needs a system key (system_key) or token (system_token): Prosody's end-meeting endpoint refuses calls without one",
                        ))
                    }
                };
                if end.system_ttl.is_zero() {
                    return Err(Error::config(
                        "the system token lifetime must be greater than zero",
                    ));
                }
                (signer, Some(base))
            }
        };
        Ok(SelfHostedConfig {
            domain,
            minter: Minter {
                issuer: app_id,
                audience: self.audience,
                subject,
                any_room: self.any_room,
                ttl: self.ttl,
                nbf_skew: self.nbf_skew,
                room_prefix: self.room_prefix,
                features: None,
                signer,
                meet_url,
                path_prefix: self.tenant,
            },
            key,
            public_key_pem: self.public_key_pem,
            end: self.end,
            end_signer,
            end_url,
            muc_domain,
        })
    }
}

/// A self-hosted Jitsi Meet with token authentication. See the [module docs](super).
///
/// Sessions are local: [`create_session`](super::JitsiProvider::create_session) makes a random session
/// token and the room is derived from it; [`activate`](super::JitsiProvider::activate) has nothing to
/// call (a Jitsi room comes into being when its first participant joins, and with token
/// authentication only token holders can join); [`end`](super::JitsiProvider::end) calls Prosody when
/// [`EndMeeting`] is configured, else reports [`EndOutcome::Unsupported`].
#[derive(Debug, Clone)]
pub struct SelfHostedJitsi {
    config: Arc<SelfHostedConfig>,
    end: Option<Arc<JsonService>>,
}

impl SelfHostedJitsi {
    /// A provider with these settings. No request is made until [`JitsiProvider::end`](super::JitsiProvider::end).
    pub fn new(config: SelfHostedConfig) -> Result<Self> {
        let end = match (&config.end, &config.end_url) {
            (Some(e), Some(url)) => Some(Arc::new(JsonService::new(
                SERVICE,
                url.clone(),
                &Auth::None,
                &e.http,
            )?)),
            _ => None,
        };
        Ok(Self {
            config: Arc::new(config),
            end,
        })
    }

    /// The settings.
    pub fn config(&self) -> &SelfHostedConfig {
        &self.config
    }

    mint::minter_api!(
        "Signs `claims` with the configured key.",
        "The join URL of `room` with `token`: `https://<domain>/[<tenant>/]<room>?jwt=<token>`."
    );

    /// A verifier of this deployment's tokens (signature, `iss`, `aud`, `sub`, times). RS256
    /// needs the public key ([`SelfHostedConfigBuilder::rs256_public_key`]).
    pub fn verifier(&self) -> Result<TokenVerifier> {
        let c = &self.config;
        let v = match (&c.key, &c.public_key_pem) {
            (KeySetting::Hs256 { secret, .. }, _) => TokenVerifier::hs256(secret.clone()),
            (KeySetting::Rs256 { kid, .. }, Some(pem)) => {
                TokenVerifier::rs256_pem(pem.expose_secret()).kid(kid.clone())
            }
            (KeySetting::Rs256 { .. }, None) => {
                return Err(Error::config(
                    "verifying RS256 tokens needs the public key; set rs256_public_key",
                ))
            }
        };
        let m = &c.minter;
        Ok(v.issuer(m.issuer.clone())
            .audience(m.audience.clone())
            .subject(m.subject.clone()))
    }

    /// The `conference` parameter of the end-meeting call: `<room>@<muc domain>`.
    pub fn conference_jid(&self, room: &RoomName) -> String {
        format!("{}@{}", room.as_str(), self.config.muc_domain)
    }

    fn system_token(&self) -> Result<String> {
        let c = &self.config;
        if let Some(signer) = &c.end_signer {
            let ttl = c.end.as_ref().map_or(60, |e| e.system_ttl.as_secs());
            // No user: the token authorises a back end.
            let claims = c
                .minter
                .system_claims(Duration::from_secs(ttl), SystemTime::now());
            return signer.sign(&claims);
        }
        c.end
            .as_ref()
            .and_then(|e| e.system_token.as_ref())
            .map(|t| t.expose_secret().to_owned())
            .ok_or_else(|| Error::config("no Prosody system token configured"))
    }
}

mint::signing_provider!(SelfHostedJitsi, "self-hosted");

impl SelfHostedJitsi {
    /// Ends the meeting through Prosody's end-meeting endpoint, when one is configured.
    async fn end_session(&self, session_token: &str) -> Result<EndOutcome> {
        let room = self.room_for(session_token)?;
        let Some(endpoint) = &self.end else {
            tracing::debug!(target: "hie_vc::jitsi", "no end-meeting endpoint configured; the meeting ends when its participants leave");
            return Ok(EndOutcome::Unsupported);
        };
        let mut url = endpoint.url("end-meeting")?;
        url.query_pairs_mut()
            .append_pair("conference", &self.conference_jid(&room));
        let auth = http::bearer(&self.system_token()?)?;
        // Destroying a room twice leaves it destroyed: safe to repeat.
        let req = Req::post(url, "end meeting", Repeat::Safe).authorization(auth);
        match endpoint.send(req).await {
            Ok(_) => Ok(EndOutcome::Ended),
            // Prosody answers 404 when no such room exists: nobody is in it (any more).
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(EndOutcome::NotRunning),
            Err(e) if e.kind() == ErrorKind::Unauthorized => {
                let mut err = Error::new(
                    ErrorKind::Unauthorized,
                    format!(
                        "{}; Prosody refused the system token: check that its kid is served by prosody_password_public_key_repo_url and that iss/aud are accepted",
                        e.message()
                    ),
                )
                .with_status(401);
                if let Some(id) = e.request_id() {
                    err = err.with_request_id(id);
                }
                Err(err)
            }
            Err(e) => Err(e),
        }
    }
}
