//! The connection settings of the JSON services (shared by their config builders through
//! `http_options!`), base-URL checks and credential header values.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;

use crate::error::{Error, Result};
use crate::hie::{RetryPolicy, Secret};

/// Default limit of a response body: these services answer with a few hundred bytes.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A header every request of a service carries; a sensitive one is never printed.
#[derive(Clone)]
pub(crate) enum HeaderSetting {
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

/// The connection settings of one service (the builders' `http_options!` methods set them).
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: String,
    pub(crate) headers: Vec<HeaderSetting>,
    pub(crate) root_certificates_pem: Vec<Vec<u8>>,
    pub(crate) insecure_host: Option<String>,
    pub(crate) max_response_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("hie-vc/", env!("CARGO_PKG_VERSION")).to_owned(),
            headers: Vec::new(),
            root_certificates_pem: Vec::new(),
            insecure_host: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// Adds the connection settings every service builder shares to a builder with an
/// `http: HttpSettings` field.
macro_rules! http_options {
    () => {
        /// The time limit of one attempt, from connecting to the end of the response body
        /// (default 30 s). [`RetryPolicy::max_elapsed`](crate::hie::RetryPolicy::max_elapsed)
        /// bounds the total of all attempts.
        pub fn request_timeout(mut self, d: std::time::Duration) -> Self {
            self.http.request_timeout = d;
            self
        }
        /// The time limit to establish a connection (default 10 s).
        pub fn connect_timeout(mut self, d: std::time::Duration) -> Self {
            self.http.connect_timeout = d;
            self
        }
        /// How failed requests are retried (default [`RetryPolicy::default`](crate::hie::RetryPolicy)).
        /// Requests that are not safe to repeat are retried only when the server provably did
        /// not process them (see the type's documentation).
        pub fn retry(mut self, policy: crate::hie::RetryPolicy) -> Self {
            self.http.retry = policy;
            self
        }
        /// The `User-Agent` (default `hie-vc/<version>`).
        pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
            self.http.user_agent = ua.into();
            self
        }
        /// A header sent with every request (e.g. a facility code).
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.http
                .headers
                .push(crate::rest::HeaderSetting::Plain(name.into(), value.into()));
            self
        }
        /// A header carrying a secret (e.g. an API key); never printed or logged.
        pub fn secret_header(
            mut self,
            name: impl Into<String>,
            value: impl Into<crate::hie::Secret>,
        ) -> Self {
            self.http
                .headers
                .push(crate::rest::HeaderSetting::Sensitive(
                    name.into(),
                    value.into(),
                ));
            self
        }
        /// An extra trusted root certificate (PEM), e.g. for a private CA.
        pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.http.root_certificates_pem.push(pem.into());
            self
        }
        /// Turns TLS certificate verification off for exactly this host. Dangerous: anyone on
        /// the path can read and change the traffic, credentials included.
        pub fn danger_accept_invalid_certs_for_host(mut self, host: impl Into<String>) -> Self {
            self.http.insecure_host = Some(host.into());
            self
        }
        /// The largest response body accepted (default 1 MiB).
        pub fn max_response_bytes(mut self, n: usize) -> Self {
            self.http.max_response_bytes = n;
            self
        }
    };
}
pub(crate) use http_options;

/// A header value that no logging layer prints.
pub(crate) fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config("a credential contains characters not allowed in an HTTP header")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `Bearer <token>`, marked sensitive.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue> {
    sensitive(&format!("Bearer {token}"))
}

/// Reads a Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Checks a base URL: absolute http(s), no credentials, no query; ends with `/`.
pub(crate) fn base_url(what: &str, raw: &str) -> Result<url::Url> {
    let mut base = raw.trim().to_owned();
    if !base.ends_with('/') {
        base.push('/');
    }
    let url = url::Url::parse(&base).map_err(|e| {
        Error::config(format!(
            "the {what} URL '{raw}' is not a valid URL ({e}); give an absolute http(s) URL"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::config(format!(
            "the {what} URL '{raw}' must be an http(s) URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // URLs end up in messages; a password in one would leak.
        return Err(Error::config(format!(
            "the {what} URL must not carry credentials; configure them separately"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "the {what} URL must not carry a query or fragment"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            base_url("x", "http://h:1/p").unwrap().as_str(),
            "http://h:1/p/"
        );
        for bad in ["nope", "ftp://h/", "http://u:p@h/", "http://h/?a=1"] {
            assert_eq!(base_url("x", bad).unwrap_err().kind(), ErrorKind::Config);
        }
    }
}
