//! 8x8 Jitsi as a Service (JaaS): RS256 tokens with `kid` = `<AppID>/<API key id>`,
//! `iss` = `chat`, `aud` = `jitsi`, `sub` = the AppID, rooms at `https://8x8.vc/<AppID>/<room>`.

use std::sync::Arc;
use std::time::Duration;

use super::mint::{self, Minter};
use super::room::{check_prefix, DEFAULT_ROOM_PREFIX};
use super::token::{JaasFeatures, Signer, TokenVerifier};
use super::EndOutcome;
use crate::error::{Error, Result};
use crate::hie::Secret;

/// The JaaS meeting domain.
pub const JAAS_DOMAIN: &str = "8x8.vc";
/// Every JaaS AppID starts with this.
const APP_ID_PREFIX: &str = "vpaas-magic-cookie-";
/// JaaS requires these values.
const JAAS_ISSUER: &str = "chat";
const JAAS_AUDIENCE: &str = "jitsi";

/// The settings of a [`JaasJitsi`]; build with [`JaasConfig::builder`].
#[derive(Debug, Clone)]
pub struct JaasConfig {
    app_id: String,
    kid: String,
    public_key_pem: Option<Secret>,
    minter: Minter,
}

impl JaasConfig {
    /// Settings for the JaaS tenant `app_id` (`vpaas-magic-cookie-…`, from the JaaS console).
    pub fn builder(app_id: impl Into<String>) -> JaasConfigBuilder {
        JaasConfigBuilder {
            app_id: app_id.into(),
            key_id: None,
            private_key_pem: None,
            public_key_pem: None,
            features: JaasFeatures::default(),
            domain: JAAS_DOMAIN.to_owned(),
            any_room: false,
            ttl: Duration::from_secs(2 * 3600),
            nbf_skew: Duration::from_secs(10),
            room_prefix: DEFAULT_ROOM_PREFIX.to_owned(),
        }
    }
    /// The AppID (the `sub` of every token).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }
    /// The header `kid`: `<AppID>/<API key id>`.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// Builds a [`JaasConfig`]. Required: [`api_key`](Self::api_key).
///
/// ```
/// use hie_vc::jitsi::JaasConfig;
/// let e = JaasConfig::builder("vpaas-magic-cookie-1234").build().unwrap_err();
/// assert_eq!(e.kind(), hie_vc::ErrorKind::Config);
/// let e = JaasConfig::builder("my-app").build().unwrap_err();
/// assert!(e.message().contains("vpaas-magic-cookie-"));
/// ```
#[derive(Debug)]
pub struct JaasConfigBuilder {
    app_id: String,
    key_id: Option<String>,
    private_key_pem: Option<Secret>,
    public_key_pem: Option<Secret>,
    features: JaasFeatures,
    domain: String,
    any_room: bool,
    ttl: Duration,
    nbf_skew: Duration,
    room_prefix: String,
}

impl JaasConfigBuilder {
    /// The API key: its id from the JaaS console (`4f4910` or the full
    /// `vpaas-magic-cookie-…/4f4910`) and the RSA private key (PEM) created with it.
    pub fn api_key(mut self, key_id: impl Into<String>, private_key_pem: impl AsRef<[u8]>) -> Self {
        self.key_id = Some(key_id.into());
        self.private_key_pem = Some(Secret::new(
            String::from_utf8_lossy(private_key_pem.as_ref()).into_owned(),
        ));
        self
    }
    /// The public key (PEM) uploaded to the JaaS console, used only by
    /// [`JaasJitsi::verifier`].
    pub fn public_key(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.public_key_pem = Some(Secret::new(
            String::from_utf8_lossy(pem.as_ref()).into_owned(),
        ));
        self
    }
    /// The features granted (`context.features`; default: all off).
    pub fn features(mut self, features: JaasFeatures) -> Self {
        self.features = features;
        self
    }
    /// The meeting domain (default `8x8.vc`; JaaS staging uses another).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }
    mint::token_options!(
        "Mints tokens valid for every room of the tenant (`\"room\": \"*\"`). Off by default.",
        "How long join tokens are valid (default 2 h; JaaS refuses tokens valid for more than 24 h)."
    );

    /// Checks the settings and tries the private key once.
    pub fn build(self) -> Result<JaasConfig> {
        let app_id = self.app_id.trim().to_owned();
        let id = app_id.strip_prefix(APP_ID_PREFIX).unwrap_or("");
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::config(format!(
                "'{app_id}' is not a JaaS AppID; it looks like {APP_ID_PREFIX}<id> (JaaS console, API keys)"
            )));
        }
        let (Some(key_id), Some(pem)) = (self.key_id, self.private_key_pem) else {
            return Err(Error::config(
                "no JaaS API key: set api_key(<key id>, <private key PEM>) from the JaaS console",
            ));
        };
        let key_id = key_id.trim();
        let kid = match key_id.split_once('/') {
            Some((app, id)) if app == app_id && !id.is_empty() && !id.contains('/') => {
                key_id.to_owned()
            }
            Some(_) => {
                return Err(Error::config(format!(
                    "the JaaS key id '{key_id}' must be <key id> or {app_id}/<key id>"
                )))
            }
            None if key_id.is_empty() => return Err(Error::config("the JaaS key id is empty")),
            None => format!("{app_id}/{key_id}"),
        };
        let signer = Signer::rs256(&pem, kid.clone(), "JaaS private key")?;
        let domain = self.domain.trim().to_ascii_lowercase();
        let meet_url = url::Url::parse(&format!("https://{domain}/"))
            .ok()
            .filter(|u| u.path() == "/")
            .ok_or_else(|| Error::config(format!("'{domain}' is not a JaaS domain")))?;
        check_prefix(&self.room_prefix)?;
        if self.ttl.is_zero() || self.ttl > Duration::from_secs(24 * 3600) {
            return Err(Error::config(
                "the JaaS token lifetime must be more than zero and at most 24 h",
            ));
        }
        Ok(JaasConfig {
            minter: Minter {
                issuer: JAAS_ISSUER.to_owned(),
                audience: JAAS_AUDIENCE.to_owned(),
                subject: app_id.clone(),
                any_room: self.any_room,
                ttl: self.ttl,
                nbf_skew: self.nbf_skew,
                room_prefix: self.room_prefix,
                features: Some(self.features),
                signer,
                meet_url,
                // Rooms live under the tenant: https://8x8.vc/<AppID>/<room>. The AppID is
                // checked alphanumeric (and '-') above.
                path_prefix: Some(app_id.clone()),
            },
            app_id,
            kid,
            public_key_pem: self.public_key_pem,
        })
    }
}

/// 8x8 JaaS. Tokens are signed locally; like a self-hosted deployment, JaaS has no call to start
/// a meeting ([`activate`](super::JitsiProvider::activate) only checks the token) and the SDK knows of
/// no public API to end one ([`end`](super::JitsiProvider::end) reports [`EndOutcome::Unsupported`]:
/// the meeting ends when its participants leave).
#[derive(Debug, Clone)]
pub struct JaasJitsi {
    config: Arc<JaasConfig>,
}

impl JaasJitsi {
    /// A provider with these settings.
    pub fn new(config: JaasConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The settings.
    pub fn config(&self) -> &JaasConfig {
        &self.config
    }

    mint::minter_api!(
        "Signs `claims` (RS256, header `kid` = `<AppID>/<key id>`).",
        "`https://8x8.vc/<AppID>/<room>?jwt=<token>`."
    );

    /// A verifier of this tenant's tokens; needs [`JaasConfigBuilder::public_key`].
    pub fn verifier(&self) -> Result<TokenVerifier> {
        let c = &self.config;
        let pem = c.public_key_pem.as_ref().ok_or_else(|| {
            Error::config("verifying JaaS tokens needs the public key; set public_key")
        })?;
        Ok(TokenVerifier::rs256_pem(pem.expose_secret())
            .kid(c.kid.clone())
            .issuer(JAAS_ISSUER)
            .audience(JAAS_AUDIENCE)
            .subject(c.app_id.clone()))
    }
}

mint::signing_provider!(JaasJitsi, "jaas");

impl JaasJitsi {
    /// JaaS has no public API to end a meeting known to the SDK.
    async fn end_session(&self, session_token: &str) -> Result<EndOutcome> {
        self.room_for(session_token)?;
        Ok(EndOutcome::Unsupported)
    }
}
