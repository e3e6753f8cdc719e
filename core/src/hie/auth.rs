//! Authentication to HIE: static bearer, OAuth2 client credentials, HTTP basic.
//!
//! HIE hands credentials out during integration without publishing the scheme, so every common
//! one is supported. Secrets live in [`Secret`], whose `Debug` never shows them, and the header
//! values built from them are marked sensitive so no logging layer prints them.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use super::retry::{parse_retry_after, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};

/// A secret (password, client secret, token). `Debug` prints `Secret(***)`; there is no
/// `Display`, so a secret cannot end up in a message by accident.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }
    /// The secret itself, for the rare caller that has to hand it on.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// How the client authenticates to HIE.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header (e.g. a gateway authenticates by network or mTLS).
    #[default]
    None,
    /// `Authorization: Bearer <token>` with a token obtained elsewhere.
    Bearer(Secret),
    /// `Authorization: Basic ...`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth2 client credentials: a token fetched, cached and refreshed by the client.
    OAuth2(OAuth2),
}

impl Auth {
    /// A static bearer token.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self::Bearer(token.into())
    }
    /// HTTP basic authentication.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }
    /// OAuth2 client credentials.
    pub fn oauth2(config: OAuth2) -> Self {
        Self::OAuth2(config)
    }
    /// The scheme's name, for diagnostics.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bearer(_) => "bearer",
            Self::Basic { .. } => "basic",
            Self::OAuth2(_) => "oauth2-client-credentials",
        }
    }
}

/// How the client id and secret reach the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// HTTP basic with the url-encoded id and secret (`client_secret_basic`, the default every
    /// server must support).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Body,
}

/// OAuth2 client-credentials settings.
///
/// ```
/// use hie_vc::hie::{Auth, OAuth2};
/// let auth = Auth::oauth2(
///     OAuth2::client_credentials("https://auth.example/token", "my-client", "s3cr3t")
///         .scope("fhir/*.write"),
/// );
/// assert!(!format!("{auth:?}").contains("s3cr3t"));
/// ```
#[derive(Debug, Clone)]
pub struct OAuth2 {
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) scope: Option<String>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) method: ClientAuthMethod,
    pub(crate) refresh_before: Duration,
}

impl OAuth2 {
    /// Client credentials for the token endpoint `token_url`.
    pub fn client_credentials(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            params: Vec::new(),
            method: ClientAuthMethod::Basic,
            refresh_before: Duration::from_secs(30),
        }
    }
    /// The `scope` to ask for.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
    /// An extra form parameter of the token request (e.g. `audience`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
    /// How the client id and secret are sent.
    pub fn client_auth(mut self, method: ClientAuthMethod) -> Self {
        self.method = method;
        self
    }
    /// How long before its expiry a token is replaced (default 30 s, at most half its lifetime),
    /// so that no request leaves with a token that expires on the way.
    pub fn refresh_before(mut self, d: Duration) -> Self {
        self.refresh_before = d;
        self
    }
}

/// An `Authorization` value and the generation of the token it came from, so that a 401 only
/// discards the token that was refused (not one a concurrent request already replaced).
pub(crate) struct Credential {
    pub(crate) header: HeaderValue,
    pub(crate) generation: u64,
}

/// The runtime side of [`Auth`].
pub(crate) enum AuthState {
    None,
    Static(HeaderValue),
    OAuth2(Box<TokenCache>),
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config("a credential contains characters not allowed in an HTTP header")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn basic_value(user: &str, password: &str) -> Result<HeaderValue> {
    let raw = format!("{user}:{password}");
    sensitive(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

impl AuthState {
    pub(crate) fn new(
        auth: &Auth,
        http: reqwest::Client,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Result<Self> {
        Ok(match auth {
            Auth::None => Self::None,
            Auth::Bearer(t) => Self::Static(sensitive(&format!("Bearer {}", t.expose_secret()))?),
            Auth::Basic { username, password } => {
                Self::Static(basic_value(username, password.expose_secret())?)
            }
            Auth::OAuth2(cfg) => {
                let url = url::Url::parse(&cfg.token_url).map_err(|e| {
                    Error::config(format!(
                        "OAuth2 token URL '{}' is not a valid URL ({e}); give an absolute https URL",
                        cfg.token_url
                    ))
                })?;
                let client_basic = basic_value(
                    &url::form_urlencoded::byte_serialize(cfg.client_id.as_bytes())
                        .collect::<String>(),
                    &url::form_urlencoded::byte_serialize(
                        cfg.client_secret.expose_secret().as_bytes(),
                    )
                    .collect::<String>(),
                )?;
                Self::OAuth2(Box::new(TokenCache {
                    cfg: cfg.clone(),
                    url,
                    client_basic,
                    http,
                    retry,
                    timeout,
                    current: RwLock::new(None),
                    refresh: tokio::sync::Mutex::new(()),
                }))
            }
        })
    }

    /// The credential for the next attempt.
    pub(crate) async fn credential(&self) -> Result<Option<Credential>> {
        match self {
            Self::None => Ok(None),
            Self::Static(h) => Ok(Some(Credential {
                header: h.clone(),
                generation: 0,
            })),
            Self::OAuth2(cache) => cache.credential().await.map(Some),
        }
    }

    /// Whether a 401 can be answered by fetching a new credential.
    pub(crate) fn refreshable(&self) -> bool {
        matches!(self, Self::OAuth2(_))
    }

    /// Drops the token of `generation` after the server refused it.
    pub(crate) fn invalidate(&self, generation: u64) {
        if let Self::OAuth2(cache) = self {
            cache.invalidate(generation);
        }
    }
}

struct Token {
    header: HeaderValue,
    refresh_at: Option<Instant>,
    generation: u64,
}

/// The OAuth2 token: cached, refreshed ahead of expiry, fetched by one request at a time.
pub(crate) struct TokenCache {
    cfg: OAuth2,
    url: url::Url,
    client_basic: HeaderValue,
    http: reqwest::Client,
    retry: RetryPolicy,
    timeout: Duration,
    current: RwLock<Option<Arc<Token>>>,
    /// Held while a token is fetched: concurrent callers wait for that fetch instead of
    /// starting their own (single flight).
    refresh: tokio::sync::Mutex<()>,
}

impl TokenCache {
    fn fresh(&self) -> Option<Arc<Token>> {
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| t.refresh_at.is_none_or(|at| Instant::now() < at))
            .cloned()
    }

    async fn credential(&self) -> Result<Credential> {
        if let Some(t) = self.fresh() {
            return Ok(Credential {
                header: t.header.clone(),
                generation: t.generation,
            });
        }
        let _flight = self.refresh.lock().await;
        // Another caller may have fetched while this one waited for the lock.
        if let Some(t) = self.fresh() {
            return Ok(Credential {
                header: t.header.clone(),
                generation: t.generation,
            });
        }
        let previous = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |t| t.generation);
        let token = Arc::new(self.fetch(previous + 1).await?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&token));
        Ok(Credential {
            header: token.header.clone(),
            generation: token.generation,
        })
    }

    fn invalidate(&self, generation: u64) {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_some_and(|t| t.generation == generation) {
            *guard = None;
        }
    }

    fn form(&self) -> String {
        let mut f = url::form_urlencoded::Serializer::new(String::new());
        f.append_pair("grant_type", "client_credentials");
        if let Some(s) = &self.cfg.scope {
            f.append_pair("scope", s);
        }
        for (k, v) in &self.cfg.params {
            f.append_pair(k, v);
        }
        if self.cfg.method == ClientAuthMethod::Body {
            f.append_pair("client_id", &self.cfg.client_id);
            f.append_pair("client_secret", self.cfg.client_secret.expose_secret());
        }
        f.finish()
    }

    async fn fetch(&self, generation: u64) -> Result<Token> {
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            let mut req = self
                .http
                .post(self.url.clone())
                .timeout(self.timeout)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(self.form());
            if self.cfg.method == ClientAuthMethod::Basic {
                req = req.header(AUTHORIZATION, self.client_basic.clone());
            }
            let (err, retry_after) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
                    match resp.bytes().await {
                        Ok(body) if (200..300).contains(&status) => {
                            return self.token_from(&body, generation)
                        }
                        Ok(body) => (self.refused(status, &body, retry_after), retry_after),
                        Err(e) => (self.transport(e), None),
                    }
                }
                Err(e) => (self.transport(e), None),
            };
            let again = match err.kind() {
                ErrorKind::Transport => true,
                ErrorKind::Timeout => self.retry.retries_timeouts(),
                _ => err.status().is_some_and(|s| self.retry.retries_status(s)),
            };
            retry += 1;
            match self
                .retry
                .next_delay(retry, started.elapsed(), retry_after)
                .filter(|_| again)
            {
                Some(delay) => {
                    tracing::warn!(
                        target: "hie_vc::hie::auth",
                        retry, delay_ms = delay.as_millis() as u64, error = %err,
                        "OAuth2 token request failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            }
        }
    }

    fn token_from(&self, body: &[u8], generation: u64) -> Result<Token> {
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: String,
            token_type: Option<String>,
            expires_in: Option<serde_json::Value>,
        }
        let t: TokenResponse = serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "the OAuth2 token endpoint answered without a JSON access_token ({e}); check the token URL"
                ),
            )
            .with_location("access_token")
        })?;
        if let Some(tt) = t.token_type.as_deref() {
            if !tt.eq_ignore_ascii_case("bearer") {
                return Err(Error::config(format!(
                    "the OAuth2 token endpoint issued a '{tt}' token; only bearer tokens are supported"
                )));
            }
        }
        // Some servers send expires_in as a string.
        let lifetime = match &t.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64);
        let refresh_at = lifetime.map(|l| {
            let skew = self.cfg.refresh_before.min(l / 2);
            Instant::now() + (l - skew)
        });
        tracing::debug!(
            target: "hie_vc::hie::auth",
            generation,
            lifetime_s = lifetime.map(|l| l.as_secs()),
            "OAuth2 token obtained"
        );
        Ok(Token {
            header: sensitive(&format!("Bearer {}", t.access_token))?,
            refresh_at,
            generation,
        })
    }

    fn refused(&self, status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
        #[derive(serde::Deserialize)]
        struct OAuthError {
            error: Option<String>,
            error_description: Option<String>,
        }
        let detail = serde_json::from_slice::<OAuthError>(body)
            .ok()
            .map(|e| {
                let code = e.error.unwrap_or_default();
                match e.error_description {
                    Some(d) => format!(" ({code}: {d})"),
                    None if !code.is_empty() => format!(" ({code})"),
                    None => String::new(),
                }
            })
            .unwrap_or_default();
        let transient = status == 429 || status >= 500;
        let err = if transient {
            Error::http(
                status,
                format!("the OAuth2 token endpoint is unavailable{detail}; retry later"),
            )
        } else {
            Error::new(
                ErrorKind::Unauthorized,
                format!(
                    "the OAuth2 token endpoint refused the client credentials{detail}; check the client id, secret and scope"
                ),
            )
            .with_status(status)
        };
        err.with_retry_after(retry_after)
    }

    fn transport(&self, e: reqwest::Error) -> Error {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        Error::new(
            kind,
            format!(
                "could not get an OAuth2 token from {}; check the token URL and the network",
                self.url.origin().ascii_serialization()
            ),
        )
        .with_source(e.without_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let a = Auth::basic("alice", "hunter2");
        assert!(!format!("{a:?}").contains("hunter2"));
        let o = Auth::oauth2(OAuth2::client_credentials("http://t/token", "c", "hunter2"));
        assert!(!format!("{o:?}").contains("hunter2"));
        let v = basic_value("alice", "hunter2").unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("YWxp"));
    }

    #[test]
    fn basic_header_is_rfc7617() {
        let v = basic_value("Aladdin", "open sesame").unwrap();
        assert_eq!(v.to_str().unwrap(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
