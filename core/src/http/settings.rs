//! The connection settings every service client shares (its config builder gets the setters
//! from `http_options!`), and the base-URL check.

use std::time::Duration;

use super::client::Connection;
use super::headers::HeaderSetting;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// Default limit of a response body of the JSON services: they answer with a few hundred bytes.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

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

impl HttpSettings {
    /// What the connection pool is built from.
    pub(crate) fn connection(&self) -> Connection<'_> {
        Connection {
            connect_timeout: self.connect_timeout,
            user_agent: &self.user_agent,
            root_certificates_pem: &self.root_certificates_pem,
            insecure_host: self.insecure_host.as_deref(),
        }
    }

    /// Checks what can be checked before a client is built: timeouts and header names and
    /// values.
    pub(crate) fn check(&self) -> Result<()> {
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::config("timeouts must be greater than zero"));
        }
        for h in &self.headers {
            h.to_header()?;
        }
        Ok(())
    }
}

/// Adds the connection settings every service builder shares to a builder with an
/// `http: HttpSettings` field. The argument is the default response size limit, for the docs.
macro_rules! http_options {
    ($max_body:literal) => {
        /// The time limit of one attempt, from connecting to the end of the response body
        /// (default 30 s). Retries get a fresh limit;
        /// [`RetryPolicy::max_elapsed`](crate::hie::RetryPolicy::max_elapsed) bounds the total
        /// of all attempts.
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
        /// Requests that are not safe to repeat are retried only as the client's documentation
        /// says (never, or when the server provably did not process them).
        pub fn retry(mut self, policy: crate::hie::RetryPolicy) -> Self {
            self.http.retry = policy;
            self
        }
        /// The `User-Agent` (default `hie-vc/<version>`); operators use it to tell integrators
        /// apart.
        pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
            self.http.user_agent = ua.into();
            self
        }
        /// A header sent with every request (e.g. a facility code).
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.http
                .headers
                .push(crate::http::HeaderSetting::Plain(name.into(), value.into()));
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
                .push(crate::http::HeaderSetting::Sensitive(
                    name.into(),
                    value.into(),
                ));
            self
        }
        /// An extra trusted root certificate (PEM: one certificate or a whole CA bundle), e.g.
        /// for a sandbox with a private CA. Checked when the client is built.
        pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.http.root_certificates_pem.push(pem.into());
            self
        }
        /// Turns TLS certificate verification off for exactly this host (a sandbox with a
        /// broken certificate). Dangerous: anyone on the path can read and change the traffic,
        /// credentials included. Every other host keeps full verification.
        pub fn danger_accept_invalid_certs_for_host(mut self, host: impl Into<String>) -> Self {
            self.http.insecure_host = Some(host.into());
            self
        }
        #[doc = concat!("The largest response body accepted (default ", $max_body, "); a larger one fails the call instead of exhausting memory.")]
        pub fn max_response_bytes(mut self, n: usize) -> Self {
            self.http.max_response_bytes = n;
            self
        }
    };
}
pub(crate) use http_options;

/// Checks a base URL: absolute http(s), no credentials, no query; ends with `/`. `what` names
/// the service in messages (`the HIE FHIR base`).
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
            "the {what} URL must not carry credentials; configure them separately (e.g. Auth::basic)"
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
