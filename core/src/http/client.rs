//! The one place a `reqwest::Client` is built: the same connection rules for every service.

use std::time::Duration;

use crate::error::{Error, Result};

/// How idle pooled connections are kept: long enough to carry a burst of calls, short enough
/// that a load balancer's silent close (often 60–350 s) is rarely met on reuse.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What a connection pool is built from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connection<'a> {
    /// The time limit to establish a connection.
    pub(crate) connect_timeout: Duration,
    /// The `User-Agent`.
    pub(crate) user_agent: &'a str,
    /// Extra trusted root certificates, each a PEM file with one or more certificates.
    pub(crate) root_certificates_pem: &'a [Vec<u8>],
    /// The one host whose certificate is not verified, if any.
    pub(crate) insecure_host: Option<&'a str>,
}

impl Connection<'_> {
    /// Whether `url`'s host is the one configured without certificate verification.
    pub(crate) fn is_insecure(&self, url: &url::Url) -> bool {
        self.insecure_host
            .is_some_and(|h| url.host_str().is_some_and(|x| x.eq_ignore_ascii_case(h)))
    }

    /// A client for `url`'s host (certificate verification off only when that host is the
    /// configured insecure one). `service` names the client in the warning.
    pub(crate) fn client_for(&self, url: &url::Url, service: &str) -> Result<reqwest::Client> {
        let insecure = self.is_insecure(url);
        if insecure {
            tracing::warn!(
                target: "hie_vc::http",
                service,
                host = url.host_str().unwrap_or(""),
                "TLS certificate verification is OFF for this host"
            );
        }
        self.build(insecure)
    }

    fn build(&self, insecure: bool) -> Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            // Redirects are not followed: a redirect would carry the request (and, to the same
            // host, its credentials) somewhere the integrator did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT);
        for pem in self.root_certificates_pem {
            // A PEM file may hold a whole CA bundle. One without a certificate parses as an
            // empty bundle: refuse it rather than run with a trust setting the integrator did
            // not get.
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config(format!("a root certificate is not valid PEM: {e}")))?;
            if certs.is_empty() {
                return Err(Error::config(
                    "a root certificate PEM holds no CERTIFICATE block; check the file given",
                ));
            }
            for cert in certs {
                b = b.add_root_certificate(cert);
            }
        }
        if insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        b.build()
            .map_err(|e| Error::config(format!("could not set up the HTTP client: {e}")))
    }
}

/// A self-signed P-256 CA (`openssl req -x509`), only parsed by tests.
#[cfg(test)]
pub(crate) const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBijCCAS+gAwIBAgIUbfg7Bcj6vyhSz35JK/RMhR/C7UswCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOaGllLXZjIHRlc3QgQ0EwIBcNMjYxMTIyMDE1ODA5WhgPMjEy
NjEwMjkwMTU4MDlaMBkxFzAVBgNVBAMMDmhpZS12YyB0ZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEevC99vkswkypSyysHWwI5NLgTXybShsK8j2OvmCf
mOOyezL261MXRFZ0DyB7KfK2ftYs6pEj7RK/8j0lyvLcVKNTMFEwHQYDVR0OBBYE
FPe+YAqNbUJ8hULekJG/wKKzwOsxMB8GA1UdIwQYMBaAFPe+YAqNbUJ8hULekJG/
wKKzwOsxMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAMHZEOis
HXusLIzngxhK3qjFZdsYDDp+FF+XSRU9Ts2fAiEA7mlsOOITHzMsZcs28+SR50iY
KYbXnxzeGsrDdAdVa54=
-----END CERTIFICATE-----
";

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(pems: &[Vec<u8>]) -> Connection<'_> {
        Connection {
            connect_timeout: Duration::from_secs(1),
            user_agent: "t",
            root_certificates_pem: pems,
            insecure_host: Some("Sandbox.Example"),
        }
    }

    #[test]
    fn pem_bundles_are_accepted_and_empty_ones_refused() {
        // A bundle: the same CA twice in one PEM file.
        let bundle = [format!("{TEST_CA}{TEST_CA}").into_bytes()];
        assert!(connection(&bundle).build(false).is_ok());
        let empty = [b"no certificate here".to_vec()];
        let e = connection(&empty).build(false).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn only_the_named_host_is_insecure() {
        let c = connection(&[]);
        assert!(c.is_insecure(&url::Url::parse("https://sandbox.example:8443/x").unwrap()));
        assert!(!c.is_insecure(&url::Url::parse("https://other.example/").unwrap()));
    }
}
