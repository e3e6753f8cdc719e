//! The settings of an [`HieClient`](super::HieClient): where HIE is, how to authenticate, how long
//! to wait, how to retry, and what to check before sending.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::auth::{Auth, Secret};
use super::retry::RetryPolicy;
use crate::error::{Error, Result};
use crate::fhir::ReadMode;
use crate::mycore::consts::PROFILE_BASE;

/// What a write asks the server to send back (`Prefer: return=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefer {
    /// Headers only (`Location`, `ETag`): the least traffic.
    Minimal,
    /// The resource as stored (with the id and version the server assigned).
    Representation,
    /// An OperationOutcome with the server's hints and warnings.
    OperationOutcome,
}

impl Prefer {
    /// The `Prefer` header value.
    pub fn header_value(self) -> &'static str {
        match self {
            Self::Minimal => "return=minimal",
            Self::Representation => "return=representation",
            Self::OperationOutcome => "return=OperationOutcome",
        }
    }
}

/// Default limit of a response body: a page of 1000 VC resources stays well below it.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The settings of a client. Build one with [`HieConfig::builder`].
///
/// `Debug` shows every setting except secrets.
#[derive(Clone)]
pub struct HieConfig {
    pub(crate) base_url: url::Url,
    pub(crate) auth: Auth,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: String,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) profile_base: String,
    pub(crate) validate: bool,
    pub(crate) prefer: Option<Prefer>,
    pub(crate) read_mode: ReadMode,
    pub(crate) max_response_bytes: usize,
    pub(crate) root_certificates_pem: Vec<Vec<u8>>,
    pub(crate) insecure_host: Option<String>,
}

impl std::fmt::Debug for HieConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HieConfig")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("headers", &self.headers)
            .field("profile_base", &self.profile_base)
            .field("validate", &self.validate)
            .field("prefer", &self.prefer)
            .field("read_mode", &self.read_mode)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("root_certificates", &self.root_certificates_pem.len())
            .field("insecure_host", &self.insecure_host)
            .finish()
    }
}

impl HieConfig {
    /// Settings for the FHIR base `base_url` (e.g. `https://fhir.hie.moh.gov.my/baseR4/`, or the
    /// sandbox URL HIE gives integrators).
    pub fn builder(base_url: impl Into<String>) -> HieConfigBuilder {
        HieConfigBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("hie-vc/", env!("CARGO_PKG_VERSION")).to_owned(),
            headers: Vec::new(),
            profile_base: PROFILE_BASE.to_owned(),
            validate: true,
            prefer: None,
            read_mode: ReadMode::Lenient,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_certificates_pem: Vec::new(),
            insecure_host: None,
        }
    }
    /// The FHIR base URL (always ends with `/`).
    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }
    /// The authentication scheme.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }
    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    /// The time limit of one attempt (connect, send, whole response).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
    /// The base of MY Core profile canonicals used by client-side validation.
    pub fn profile_base(&self) -> &str {
        &self.profile_base
    }
    /// Whether resources are validated against MY Core before they are sent.
    pub fn validates(&self) -> bool {
        self.validate
    }
}

enum HeaderSetting {
    Plain(String, String),
    Sensitive(String, Secret),
}

impl std::fmt::Debug for HeaderSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(n, v) => write!(f, "{n}: {v}"),
            Self::Sensitive(n, _) => write!(f, "{n}: ***"),
        }
    }
}

/// Builds an [`HieConfig`]; every setting has a default except the base URL.
///
/// ```
/// use std::time::Duration;
/// use hie_vc::hie::{Auth, HieConfig, Prefer, RetryPolicy};
/// let config = HieConfig::builder("https://fhir.example/baseR4")
///     .auth(Auth::bearer("token-from-hie"))
///     .request_timeout(Duration::from_secs(20))
///     .retry(RetryPolicy::default().max_retries(2))
///     .prefer(Prefer::Representation)
///     .header("X-Facility", "HOSP-01")
///     .build()
///     .unwrap();
/// assert_eq!(config.base_url().as_str(), "https://fhir.example/baseR4/");
/// assert!(!format!("{config:?}").contains("token-from-hie"));
/// ```
#[derive(Debug)]
pub struct HieConfigBuilder {
    base_url: String,
    auth: Auth,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    headers: Vec<HeaderSetting>,
    profile_base: String,
    validate: bool,
    prefer: Option<Prefer>,
    read_mode: ReadMode,
    max_response_bytes: usize,
    root_certificates_pem: Vec<Vec<u8>>,
    insecure_host: Option<String>,
}

impl HieConfigBuilder {
    /// How to authenticate (default: no `Authorization` header).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// The time limit to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// The time limit of one attempt, from connecting to the end of the response body
    /// (default 30 s). Retries get a fresh limit; [`RetryPolicy::max_elapsed`] bounds the total.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    /// How failed idempotent requests are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// The `User-Agent` (default `hie-vc/<version>`); HIE operators use it to tell integrators apart.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// A header sent with every request (e.g. a facility code HIE asked for).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .push(HeaderSetting::Plain(name.into(), value.into()));
        self
    }
    /// A header carrying a secret (e.g. an API key); never printed or logged.
    pub fn secret_header(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.headers
            .push(HeaderSetting::Sensitive(name.into(), value.into()));
        self
    }
    /// The base of the MY Core profile canonicals (default [`PROFILE_BASE`]; older HIE builds
    /// used another one).
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// Whether resources are validated against MY Core before they are sent (default on): a
    /// resource HIE would refuse fails fast with the full report instead of a remote 422.
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = yes;
        self
    }
    /// What writes ask the server to return, unless a request says otherwise (default: no
    /// `Prefer` header, the server decides).
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }
    /// How responses are read (default lenient: HIE's own material has known R4 departures,
    /// which are reported as warnings instead of failing the call).
    pub fn read_mode(mut self, mode: ReadMode) -> Self {
        self.read_mode = mode;
        self
    }
    /// The largest response body accepted (default 64 MiB); a larger one fails the call instead
    /// of exhausting memory.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// An extra trusted root certificate (PEM), e.g. for a sandbox with a private CA.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }
    /// Turns TLS certificate verification off for exactly this host (a sandbox with a broken
    /// certificate). Dangerous: anyone on the path can read and change the traffic. Every other
    /// host keeps full verification.
    pub fn danger_accept_invalid_certs_for_host(mut self, host: impl Into<String>) -> Self {
        self.insecure_host = Some(host.into());
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<HieConfig> {
        let mut base = self.base_url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base_url = url::Url::parse(&base).map_err(|e| {
            Error::config(format!(
                "base URL '{}' is not a valid URL ({e}); give an absolute URL like https://fhir.hie.moh.gov.my/baseR4/",
                self.base_url
            ))
        })?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host().is_none() {
            return Err(Error::config(format!(
                "base URL '{}' must be an http(s) URL with a host",
                self.base_url
            )));
        }
        if !base_url.username().is_empty() || base_url.password().is_some() {
            // A URL is printed and logged in many places; a password in it would leak.
            return Err(Error::config(
                "the base URL must not carry credentials; use Auth::basic or another Auth instead",
            ));
        }
        if base_url.query().is_some() || base_url.fragment().is_some() {
            return Err(Error::config(
                "the base URL must not carry a query or fragment; give the FHIR base only",
            ));
        }
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::config("timeouts must be greater than zero"));
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for h in self.headers {
            let (name, value, secret) = match &h {
                HeaderSetting::Plain(n, v) => (n.as_str(), v.as_str(), false),
                HeaderSetting::Sensitive(n, v) => (n.as_str(), v.expose_secret(), true),
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("'{name}' is not a valid HTTP header name")))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                Error::config(format!(
                    "the value of header '{name}' has characters not allowed in HTTP headers"
                ))
            })?;
            value.set_sensitive(secret);
            headers.push((name, value));
        }
        Ok(HieConfig {
            base_url,
            auth: self.auth,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            retry: self.retry,
            user_agent: self.user_agent,
            headers,
            profile_base: self.profile_base,
            validate: self.validate,
            prefer: self.prefer,
            read_mode: self.read_mode,
            max_response_bytes: self.max_response_bytes,
            root_certificates_pem: self.root_certificates_pem,
            insecure_host: self.insecure_host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_normalised_and_checked() {
        let c = HieConfig::builder("http://127.0.0.1:8080").build().unwrap();
        assert_eq!(c.base_url().as_str(), "http://127.0.0.1:8080/");
        for bad in [
            "not a url",
            "ftp://x/",
            "http://x/?a=b",
            "file:///tmp",
            "https://u:pw@h/",
        ] {
            let e = HieConfig::builder(bad).build().unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn secret_headers_stay_secret() {
        let c = HieConfig::builder("https://h/base")
            .secret_header("X-Api-Key", "k-123-secret")
            .header("X-Facility", "F1")
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("k-123-secret"), "{dbg}");
        assert!(dbg.contains("F1"));
        let e = HieConfig::builder("https://h/")
            .header("bad header", "x")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }
}
