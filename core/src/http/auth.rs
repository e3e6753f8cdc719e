//! The runtime side of [`Auth`]: the `Authorization` of each attempt — none, a static bearer or
//! basic value, or an OAuth2 client-credentials token that is fetched (through an engine of its
//! own, so with the same pool rules and retry policy), cached, refreshed ahead of expiry and
//! dropped after a 401.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;

use super::{basic, bearer, sensitive, Engine, EngineConfig, Repeat, Request, Service};
use crate::error::{Error, ErrorKind, Result};
use crate::hie::{Auth, ClientAuthMethod, OAuth2};

const FORM: &str = "application/x-www-form-urlencoded";

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

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Static(_) => "static(***)",
            Self::OAuth2(_) => "oauth2(***)",
        })
    }
}

impl AuthState {
    /// The credential of an engine set up by `cfg`; an OAuth2 token engine shares `http` when
    /// the token endpoint needs the same TLS settings.
    pub(crate) fn new(cfg: &EngineConfig<'_>, http: &reqwest::Client) -> Result<Self> {
        Ok(match cfg.auth {
            Auth::None => Self::None,
            Auth::Bearer(t) => Self::Static(bearer(t.expose_secret())?),
            Auth::Basic { username, password } => {
                Self::Static(basic(username, password.expose_secret())?)
            }
            Auth::OAuth2(o) => Self::OAuth2(Box::new(TokenCache::new(o, cfg, http)?)),
        })
    }

    /// The credential for the next attempt when it is at hand (none, a static one, a cached
    /// token still fresh): what nearly every attempt needs, without a future.
    pub(crate) fn ready(&self) -> Option<Option<Credential>> {
        match self {
            Self::None => Some(None),
            Self::Static(h) => Some(Some(Credential {
                header: h.clone(),
                generation: 0,
            })),
            Self::OAuth2(cache) => cache.fresh().map(|t| Some(t.credential())),
        }
    }

    /// The credential for the next attempt, fetching a token when needed. Boxed: the fetch
    /// (a lock, then a call of its own) is rare, and inline it would grow every call's future.
    pub(crate) fn credential(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Credential>>> + Send + '_>> {
        Box::pin(async move {
            match self {
                Self::None => Ok(None),
                Self::Static(h) => Ok(Some(Credential {
                    header: h.clone(),
                    generation: 0,
                })),
                Self::OAuth2(cache) => cache.credential().await.map(Some),
            }
        })
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

impl Token {
    fn credential(&self) -> Credential {
        Credential {
            header: self.header.clone(),
            generation: self.generation,
        }
    }
}

/// The OAuth2 token: cached, refreshed ahead of expiry, fetched by one request at a time.
pub(crate) struct TokenCache {
    cfg: OAuth2,
    client_basic: HeaderValue,
    /// The token endpoint: no configured headers (they are meant for the service, and the token
    /// endpoint may be another host), no credential of its own.
    engine: Engine,
    current: RwLock<Option<Arc<Token>>>,
    /// Held while a token is fetched: concurrent callers wait for that fetch instead of
    /// starting their own (single flight).
    refresh: tokio::sync::Mutex<()>,
}

impl TokenCache {
    fn new(o: &OAuth2, service: &EngineConfig<'_>, http: &reqwest::Client) -> Result<Self> {
        let url = url::Url::parse(&o.token_url).map_err(|e| {
            Error::config(format!(
                "OAuth2 token URL '{}' is not a valid URL ({e}); give an absolute https URL",
                o.token_url
            ))
        })?;
        let http = if service.connection.is_insecure(&url)
            == service.connection.is_insecure(&service.base)
        {
            http.clone()
        } else {
            service
                .connection
                .client_for(&url, "the OAuth2 token endpoint")?
        };
        let engine = Engine::assemble(
            http,
            EngineConfig {
                service: "the OAuth2 token endpoint",
                base: url,
                accept: "application/json",
                headers: &[],
                auth: &Auth::None,
                ..*service
            },
        )?;
        let client_basic = basic(
            &url::form_urlencoded::byte_serialize(o.client_id.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(o.client_secret.expose_secret().as_bytes())
                .collect::<String>(),
        )?;
        Ok(Self {
            cfg: o.clone(),
            client_basic,
            engine,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        })
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| t.refresh_at.is_none_or(|at| Instant::now() < at))
            .cloned()
    }

    async fn credential(&self) -> Result<Credential> {
        if let Some(t) = self.fresh() {
            return Ok(t.credential());
        }
        let _flight = self.refresh.lock().await;
        // Another caller may have fetched while this one waited for the lock.
        if let Some(t) = self.fresh() {
            return Ok(t.credential());
        }
        let previous = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |t| t.generation);
        let token = Arc::new(self.fetch(previous + 1).await?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&token));
        Ok(token.credential())
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

    /// Fetches a token: a token request is safe to repeat, so it is retried like any
    /// idempotent request. Boxed because the token engine's own credential step could, by
    /// type, lead back here (at run time it has none).
    fn fetch(&self, generation: u64) -> Pin<Box<dyn Future<Output = Result<Token>> + Send + '_>> {
        Box::pin(async move {
            let mut req = Request::new(Method::POST, self.engine.base().clone(), Repeat::Safe)
                .body(FORM, self.form());
            if self.cfg.method == ClientAuthMethod::Basic {
                req = req.authorization(self.client_basic.clone());
            }
            let reply = self.engine.send(self, req).await?;
            self.token_from(&reply.body, generation)
        })
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
}

/// The token request's span and errors: a refusal names the OAuth2 error code, a failure on
/// the wire names the token endpoint's origin only.
impl Service for TokenCache {
    fn span(&self, req: &Request, request_id: &str) -> tracing::Span {
        tracing::debug_span!(
            target: "hie_vc::hie::auth",
            "oauth2.token",
            host = req.url.host_str().unwrap_or(""),
            request_id = %request_id,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        )
    }

    fn http_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
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
        err.with_retry_after(super::retry_after_of(headers))
    }

    fn transport_error(&self, e: reqwest::Error, _timeout: Duration) -> Error {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        Error::new(
            kind,
            format!(
                "could not get an OAuth2 token from {}; check the token URL and the network",
                self.engine.base().origin().ascii_serialization()
            ),
        )
        .with_source(e.without_url())
    }

    fn too_large(&self, _size: u64, limit: usize) -> Error {
        Error::new(
            ErrorKind::Decode,
            format!("the OAuth2 token endpoint answered with more than {limit} bytes"),
        )
        .with_location("access_token")
    }
}
