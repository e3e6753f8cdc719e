//! The settings of an [`HieClient`](super::HieClient): where HIE is, how to authenticate, how long
//! to wait, how to retry, and what to check before sending.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::auth::Auth;
use crate::error::Result;
use crate::fhir::ReadMode;
use crate::http::{self, HttpSettings};
use crate::mycore::consts::PROFILE_BASE;
use crate::retry::RetryPolicy;

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
            http: HttpSettings {
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                ..HttpSettings::default()
            },
            profile_base: PROFILE_BASE.to_owned(),
            validate: true,
            prefer: None,
            read_mode: ReadMode::Lenient,
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
    http: HttpSettings,
    profile_base: String,
    validate: bool,
    prefer: Option<Prefer>,
    read_mode: ReadMode,
}

impl HieConfigBuilder {
    /// How to authenticate (default: no `Authorization` header).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    http::http_options!("64 MiB");
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
    /// Checks the settings.
    pub fn build(self) -> Result<HieConfig> {
        let base_url = http::base_url("HIE FHIR base", &self.base_url)?;
        self.http.check()?;
        let h = self.http;
        Ok(HieConfig {
            base_url,
            auth: self.auth,
            connect_timeout: h.connect_timeout,
            request_timeout: h.request_timeout,
            retry: h.retry,
            user_agent: h.user_agent,
            headers: http::parse_headers(&h.headers)?,
            profile_base: self.profile_base,
            validate: self.validate,
            prefer: self.prefer,
            read_mode: self.read_mode,
            max_response_bytes: h.max_response_bytes,
            root_certificates_pem: h.root_certificates_pem,
            insecure_host: h.insecure_host,
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
