//! `[jitsi]`: which Jitsi provider and its settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::redact;
use crate::hie::Auth;
use crate::jitsi::{
    EndMeeting, JaasConfig, JaasJitsi, JitsiProvider, RestJitsi, RestJitsiConfig, SelfHostedConfig,
    SelfHostedJitsi,
};
use crate::{Error, Result};

/// `[jitsi]`: which Jitsi provider and its settings.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JitsiSettings {
    /// `hie` (HIE's token service), `self-hosted` (Jitsi Meet token auth) or `jaas` (8x8).
    pub provider: Option<String>,
    /// Base URL of HIE's token service.
    pub url: Option<String>,
    /// Bearer token for HIE's token service.
    pub bearer_token: Option<String>,
    /// Jitsi Meet domain (self-hosted), e.g. `meet.example.my`.
    pub domain: Option<String>,
    /// App id (`iss` for self-hosted; the AppID for JaaS).
    pub app_id: Option<String>,
    /// HS256 shared secret (self-hosted).
    pub app_secret: Option<String>,
    /// RS256 private key file (PEM) (self-hosted RS256 and JaaS).
    pub private_key_path: Option<String>,
    /// Key id (`kid`) for RS256.
    pub key_id: Option<String>,
    /// Prosody base URL for ending meetings (self-hosted).
    pub prosody_url: Option<String>,
    /// MUC domain of the conference rooms (self-hosted), e.g. `conference.meet.example.my`.
    pub muc_domain: Option<String>,
    /// Token lifetime in seconds.
    pub token_ttl_secs: Option<u64>,
}

impl fmt::Debug for JitsiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitsiSettings")
            .field("provider", &self.provider)
            .field("url", &self.url)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("domain", &self.domain)
            .field("app_id", &self.app_id)
            .field("app_secret", &redact(&self.app_secret))
            .field("private_key_path", &self.private_key_path)
            .field("key_id", &self.key_id)
            .field("prosody_url", &self.prosody_url)
            .field("muc_domain", &self.muc_domain)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .finish()
    }
}

impl JitsiSettings {
    fn private_key(&self) -> Result<Option<Vec<u8>>> {
        self.private_key_path
            .as_deref()
            .map(|p| {
                std::fs::read(p).map_err(|e| {
                    Error::config(format!("cannot read jitsi.private_key_path {p}: {e}"))
                })
            })
            .transpose()
    }

    /// The provider these settings describe (`provider` = `hie`, `self-hosted` or `jaas`).
    pub fn provider(&self) -> Result<Arc<dyn JitsiProvider>> {
        let ttl = self.token_ttl_secs.map(Duration::from_secs);
        match self.provider.as_deref().unwrap_or("hie") {
            "hie" => {
                let url = self
                    .url
                    .as_deref()
                    .ok_or_else(|| Error::config("jitsi.url (HIE's token service) is not set"))?;
                let mut b = RestJitsiConfig::builder(url);
                if let Some(t) = &self.bearer_token {
                    b = b.auth(Auth::bearer(t.clone()));
                }
                Ok(Arc::new(RestJitsi::new(b.build()?)?))
            }
            "self-hosted" => {
                let domain = self.domain.as_deref().ok_or_else(|| {
                    Error::config("jitsi.domain is not set (self-hosted provider)")
                })?;
                let mut b = SelfHostedConfig::builder(domain);
                if let Some(id) = &self.app_id {
                    b = b.app_id(id.clone());
                }
                match (&self.app_secret, self.private_key()?) {
                    (Some(_), Some(_)) => return Err(Error::config(
                        "set jitsi.app_secret (HS256) or jitsi.private_key_path (RS256), not both",
                    )),
                    (Some(secret), None) => b = b.app_secret(secret.clone()),
                    (None, Some(pem)) => {
                        let kid = self
                            .key_id
                            .clone()
                            .ok_or_else(|| Error::config("RS256 needs jitsi.key_id"))?;
                        b = b.rs256_private_key(pem, kid);
                    }
                    (None, None) => return Err(Error::config(
                        "the self-hosted provider needs jitsi.app_secret or jitsi.private_key_path",
                    )),
                }
                if let Some(t) = ttl {
                    b = b.token_ttl(t);
                }
                if let Some(p) = &self.prosody_url {
                    let mut end = EndMeeting::new(p.clone());
                    if let Some(m) = &self.muc_domain {
                        end = end.muc_domain(m.clone());
                    }
                    b = b.end_meeting(end);
                }
                Ok(Arc::new(SelfHostedJitsi::new(b.build()?)?))
            }
            "jaas" => {
                let app = self
                    .app_id
                    .as_deref()
                    .ok_or_else(|| Error::config("jitsi.app_id (the JaaS AppID) is not set"))?;
                let pem = self
                    .private_key()?
                    .ok_or_else(|| Error::config("JaaS needs jitsi.private_key_path"))?;
                let kid = self
                    .key_id
                    .clone()
                    .ok_or_else(|| Error::config("JaaS needs jitsi.key_id"))?;
                let mut b = JaasConfig::builder(app).api_key(kid, pem);
                if let Some(t) = ttl {
                    b = b.token_ttl(t);
                }
                Ok(Arc::new(JaasJitsi::new(b.build()?)))
            }
            other => Err(Error::config(format!(
                "jitsi.provider '{other}' is not hie, self-hosted or jaas"
            ))),
        }
    }
}
