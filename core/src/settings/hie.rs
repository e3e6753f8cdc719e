//! `[hie]`: the HIE FHIR server and how to authenticate.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::redact;
use crate::hie::{Auth, HieConfig, OAuth2, RetryPolicy};
use crate::{Error, Result};

/// `[hie]`: the HIE FHIR server and how to authenticate.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HieSettings {
    /// Base URL, e.g. `https://fhir.hie.moh.gov.my/baseR4/`.
    pub url: Option<String>,
    /// Static bearer token.
    pub bearer_token: Option<String>,
    /// HTTP basic user.
    pub basic_username: Option<String>,
    /// HTTP basic password.
    pub basic_password: Option<String>,
    /// OAuth2 client-credentials token endpoint.
    pub oauth_token_url: Option<String>,
    /// OAuth2 client id.
    pub oauth_client_id: Option<String>,
    /// OAuth2 client secret.
    pub oauth_client_secret: Option<String>,
    /// OAuth2 scope.
    pub oauth_scope: Option<String>,
    /// Per-request time limit in seconds.
    pub timeout_secs: Option<u64>,
    /// Validate MY Core rules before sending (default true).
    pub validate: Option<bool>,
    /// Base of the MY Core profile canonicals.
    pub profile_base: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Time limit of establishing a connection, in seconds (default 10).
    pub connect_timeout_secs: Option<u64>,
    /// Retries after a failed attempt (default 3; 0 disables retries).
    pub max_retries: Option<u32>,
    /// Delay before the first retry, in milliseconds (default 200; doubles each time).
    pub retry_initial_backoff_ms: Option<u64>,
    /// Bound on one call's total time, retries and waits included, in seconds (default 60).
    pub retry_max_elapsed_secs: Option<u64>,
    /// Headers sent with every request, each `Name: value` (e.g. a facility code HIE asked for).
    pub headers: Vec<String>,
    /// Headers carrying secrets (e.g. an API key), each `Name: value`: sent like `headers`,
    /// never printed or logged.
    pub secret_headers: Vec<String>,
}

/// Splits `Name: value`; `what` names the entry in the error without quoting it (it may be
/// a secret).
fn header(entry: &str, what: impl FnOnce() -> String) -> Result<(String, String)> {
    match entry.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(Error::config(format!("{} is not 'Name: value'", what()))),
    }
}

impl fmt::Debug for HieSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HieSettings")
            .field("url", &self.url)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("basic_username", &self.basic_username)
            .field("basic_password", &redact(&self.basic_password))
            .field("oauth_token_url", &self.oauth_token_url)
            .field("oauth_client_id", &self.oauth_client_id)
            .field("oauth_client_secret", &redact(&self.oauth_client_secret))
            .field("oauth_scope", &self.oauth_scope)
            .field("timeout_secs", &self.timeout_secs)
            .field("validate", &self.validate)
            .field("profile_base", &self.profile_base)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("max_retries", &self.max_retries)
            .field("retry_initial_backoff_ms", &self.retry_initial_backoff_ms)
            .field("retry_max_elapsed_secs", &self.retry_max_elapsed_secs)
            .field("headers", &self.headers)
            .field(
                "secret_headers",
                &self
                    .secret_headers
                    .iter()
                    .map(|h| format!("{}: <redacted>", h.split(':').next().unwrap_or("").trim()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HieSettings {
    /// The authentication these settings describe (at most one scheme may be set).
    pub fn auth(&self) -> Result<Auth> {
        let schemes = [
            self.bearer_token.is_some(),
            self.basic_username.is_some(),
            self.oauth_token_url.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            return Err(Error::config(
                "set only one of hie.bearer_token, hie.basic_username, hie.oauth_token_url",
            ));
        }
        if let Some(t) = &self.bearer_token {
            return Ok(Auth::bearer(t.clone()));
        }
        if let Some(u) = &self.basic_username {
            let p = self.basic_password.clone().ok_or_else(|| {
                Error::config("hie.basic_username is set but hie.basic_password is not")
            })?;
            return Ok(Auth::basic(u.clone(), p));
        }
        if let Some(url) = &self.oauth_token_url {
            let id = self.oauth_client_id.clone().ok_or_else(|| {
                Error::config("hie.oauth_token_url is set but hie.oauth_client_id is not")
            })?;
            let secret = self.oauth_client_secret.clone().ok_or_else(|| {
                Error::config("hie.oauth_token_url is set but hie.oauth_client_secret is not")
            })?;
            let mut o = OAuth2::client_credentials(url.clone(), id, secret);
            if let Some(scope) = &self.oauth_scope {
                o = o.scope(scope.clone());
            }
            return Ok(Auth::oauth2(o));
        }
        Ok(Auth::None)
    }

    /// The HIE client configuration.
    pub fn to_config(&self) -> Result<HieConfig> {
        let url = self.url.as_deref().ok_or_else(|| {
            Error::config("hie.url is not set (HIE_VC_HIE_URL, --hie-url or [hie] url)")
        })?;
        let mut b = HieConfig::builder(url).auth(self.auth()?);
        if let Some(t) = self.timeout_secs {
            b = b.request_timeout(Duration::from_secs(t));
        }
        if let Some(v) = self.validate {
            b = b.validate(v);
        }
        if let Some(p) = &self.profile_base {
            b = b.profile_base(p.clone());
        }
        if let Some(ua) = &self.user_agent {
            b = b.user_agent(ua.clone());
        }
        if let Some(t) = self.connect_timeout_secs {
            b = b.connect_timeout(Duration::from_secs(t));
        }
        if self.max_retries.is_some()
            || self.retry_initial_backoff_ms.is_some()
            || self.retry_max_elapsed_secs.is_some()
        {
            let mut p = RetryPolicy::default();
            if let Some(n) = self.max_retries {
                p = p.max_retries(n);
            }
            if let Some(ms) = self.retry_initial_backoff_ms {
                p = p.initial_backoff(Duration::from_millis(ms));
            }
            if let Some(s) = self.retry_max_elapsed_secs {
                p = p.max_elapsed(Duration::from_secs(s));
            }
            b = b.retry(p);
        }
        for (i, h) in self.headers.iter().enumerate() {
            let (name, value) = header(h, || format!("hie.headers entry {} ('{h}')", i + 1))?;
            b = b.header(name, value);
        }
        for (i, h) in self.secret_headers.iter().enumerate() {
            let (name, value) = header(h, || format!("hie.secret_headers entry {}", i + 1))?;
            b = b.secret_header(name, value);
        }
        b.build()
    }
}
