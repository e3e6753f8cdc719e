//! The engine under every interaction: one connection pool, the headers every request carries,
//! authentication with one refresh after a 401, retries of idempotent requests, a time limit per
//! attempt and a size limit per response, a request id and a tracing span per call.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Method;
use tracing::Instrument;

use super::auth::AuthState;
use super::config::HieConfig;
use super::retry::RetryPolicy;
use super::status;
use crate::error::{Error, ErrorKind, Result};

/// The FHIR JSON media type, sent as `Accept` and as the `Content-Type` of bodies.
pub(crate) const FHIR_JSON: &str = "application/fhir+json";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// `Prefer` (RFC 7240).
pub(crate) const PREFER: HeaderName = HeaderName::from_static("prefer");
/// FHIR conditional create.
pub(crate) const IF_NONE_EXIST: HeaderName = HeaderName::from_static("if-none-exist");

/// Search parameters whose values never carry patient data, so logs may show them.
const SAFE_PARAMS: [&str; 9] = [
    "_count",
    "_sort",
    "_summary",
    "_total",
    "_elements",
    "_include",
    "_revinclude",
    "_format",
    "_pretty",
];

/// A URL for logs and messages: the values of search parameters (which can carry MyKad numbers
/// or names) are replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let name = p.split_once('=').map_or(p, |(n, _)| n);
            if SAFE_PARAMS.contains(&name) {
                p.to_owned()
            } else {
                format!("{name}=***")
            }
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

/// Per-request settings that override the client's.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) request_id: Option<String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) retry: Option<RetryPolicy>,
}

/// One logical request (retries included).
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: url::Url,
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: HeaderMap,
    /// Safe to send more than once (decides retries).
    pub(crate) idempotent: bool,
    /// `read`, `update`, ... (spans and messages).
    pub(crate) interaction: &'static str,
    /// `Patient/p1`, `Patient`, `[base]` (messages).
    pub(crate) target: String,
    pub(crate) opts: CallOptions,
}

impl Call {
    /// `update Patient/p1`, for messages (built only when needed).
    pub(crate) fn what(&self) -> String {
        format!("{} {}", self.interaction, self.target)
    }
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
}

impl Reply {
    pub(crate) fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The shared state behind every clone of a client.
pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) base: url::Url,
    retry: RetryPolicy,
    timeout: Duration,
    max_body: usize,
    /// `Accept` and the configured extra headers: every call starts from these.
    pub(crate) headers: HeaderMap,
    auth: AuthState,
}

fn http_client(cfg: &HieConfig, insecure: bool) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(cfg.connect_timeout)
        .user_agent(cfg.user_agent.clone())
        // Redirects are not followed: a redirect would carry the request (and, to the same
        // host, its credentials) somewhere the integrator did not configure.
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90));
    for pem in &cfg.root_certificates_pem {
        // A PEM without a certificate parses as an empty bundle: refuse it rather than run
        // with a trust setting the integrator did not get.
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

impl Transport {
    pub(crate) fn new(cfg: &HieConfig) -> Result<Self> {
        let host_is_insecure = |u: &url::Url| {
            cfg.insecure_host
                .as_deref()
                .is_some_and(|h| u.host_str().is_some_and(|x| x.eq_ignore_ascii_case(h)))
        };
        let fhir_insecure = host_is_insecure(&cfg.base_url);
        if fhir_insecure {
            tracing::warn!(
                target: "hie_vc::hie",
                host = cfg.base_url.host_str().unwrap_or(""),
                "TLS certificate verification is OFF for this host"
            );
        }
        let http = http_client(cfg, fhir_insecure)?;
        let token_http = match &cfg.auth {
            super::auth::Auth::OAuth2(o) => {
                let insecure = url::Url::parse(&o.token_url)
                    .map(|u| host_is_insecure(&u))
                    .unwrap_or(false);
                if insecure == fhir_insecure {
                    http.clone()
                } else {
                    http_client(cfg, insecure)?
                }
            }
            _ => http.clone(),
        };
        let auth = AuthState::new(
            &cfg.auth,
            token_http,
            cfg.retry.clone(),
            cfg.request_timeout,
        )?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(FHIR_JSON));
        for (n, v) in &cfg.headers {
            headers.append(n.clone(), v.clone());
        }
        Ok(Self {
            http,
            base: cfg.base_url.clone(),
            retry: cfg.retry.clone(),
            timeout: cfg.request_timeout,
            max_body: cfg.max_response_bytes,
            headers,
            auth,
        })
    }

    /// The URL of `path` (relative to the FHIR base, e.g. `Patient/p1`).
    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        // The base ends with '/' and paths are checked type/id segments, so appending is the
        // same as `join` without resolving a relative reference.
        let mut s = String::with_capacity(self.base.as_str().len() + path.len());
        s.push_str(self.base.as_str());
        s.push_str(path);
        url::Url::parse(&s).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("could not build the URL for '{path}': {e}"),
            )
        })
    }

    /// A URL the server handed out (a `next` link), made safe to follow: it is only ever called
    /// on the configured origin, so credentials never go to a host the server names. Servers
    /// that report another base (proxies; Helios' own configured base) are rebased.
    pub(crate) fn rebase(&self, link: &str) -> Result<url::Url> {
        let u = self.base.join(link).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the server sent a link that is not a URL ({e})"),
            )
            .with_location("Bundle.link.url")
        })?;
        if u.origin() == self.base.origin() {
            return Ok(u);
        }
        if u.path().starts_with(self.base.path()) {
            let mut r = self.base.clone();
            r.set_path(u.path());
            r.set_query(u.query());
            tracing::debug!(
                target: "hie_vc::hie",
                from = %u.origin().ascii_serialization(),
                "link from another origin rebased onto the configured base"
            );
            return Ok(r);
        }
        Err(Error::new(
            ErrorKind::Decode,
            format!(
                "the server sent a link to {} outside the configured base {}; it is not followed so credentials stay on the configured host",
                u.origin().ascii_serialization(),
                self.base
            ),
        )
        .with_location("Bundle.link.url"))
    }

    /// Runs a call: retries, auth refresh, tracing. `Ok` only for a 2xx response.
    pub(crate) async fn execute(&self, call: Call) -> Result<Reply> {
        let request_id = call
            .opts
            .request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let span = tracing::info_span!(
            target: "hie_vc::hie",
            "hie.request",
            interaction = call.interaction,
            method = %call.method,
            url = %redact_url(call.url.as_str()),
            request_id = %request_id,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.run(&call, request_id).instrument(span).await
    }

    async fn run(&self, call: &Call, request_id: String) -> Result<Reply> {
        let started = Instant::now();
        let policy = call.opts.retry.as_ref().unwrap_or(&self.retry);
        let timeout = call.opts.timeout.unwrap_or(self.timeout);

        let span = tracing::Span::current();
        let mut retry = 0u32;
        let mut attempts = 0u32;
        let mut refreshed = false;
        loop {
            attempts += 1;
            span.record("attempts", attempts);
            let credential = self
                .auth
                .credential()
                .await
                .map_err(|e| e.with_request_id(request_id.clone()))?;
            let generation = credential.as_ref().map_or(0, |c| c.generation);
            let err = match self
                .attempt(call, &request_id, credential.map(|c| c.header), timeout)
                .await
            {
                Ok(reply) if (200..300).contains(&reply.status) => {
                    span.record("status", reply.status);
                    tracing::debug!(target: "hie_vc::hie", status = reply.status, attempts, "done");
                    return Ok(reply);
                }
                Ok(reply) if reply.status == 401 && self.auth.refreshable() && !refreshed => {
                    // The token may have been revoked or expired early: fetch a new one once.
                    // A 401 means the request was not processed, so even a POST is resent.
                    refreshed = true;
                    self.auth.invalidate(generation);
                    tracing::info!(target: "hie_vc::hie", "401 Unauthorized; refreshing the OAuth2 token once");
                    continue;
                }
                Ok(reply) => {
                    span.record("status", reply.status);
                    let err = status::http_error(
                        reply.status,
                        &reply.headers,
                        &reply.body,
                        &call.what(),
                        &call.target,
                    );
                    // A 5xx whose OperationOutcome names a client error will fail again.
                    let retryable = policy.retries_status(reply.status)
                        && (err.kind() == ErrorKind::from_status(reply.status));
                    (err, retryable)
                }
                Err(err) => {
                    let retryable = match err.kind() {
                        ErrorKind::Transport => true,
                        ErrorKind::Timeout => policy.retries_timeouts(),
                        _ => false,
                    };
                    (err, retryable)
                }
            };
            let (err, retryable) = err;
            let err = err.with_request_id(request_id.clone());
            if !retryable || !call.idempotent {
                if retryable {
                    tracing::debug!(target: "hie_vc::hie", "not retried: the request is not idempotent");
                }
                return Err(err);
            }
            retry += 1;
            match policy.next_delay(retry, started.elapsed(), err.retry_after()) {
                Some(delay) => {
                    tracing::warn!(
                        target: "hie_vc::hie",
                        retry,
                        delay_ms = delay.as_millis() as u64,
                        kind = %err.kind(),
                        status = err.status(),
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            }
        }
    }

    async fn attempt(
        &self,
        call: &Call,
        request_id: &str,
        authorization: Option<HeaderValue>,
        timeout: Duration,
    ) -> Result<Reply> {
        // One Request built in place: cheaper than a RequestBuilder merging header maps.
        let mut req = reqwest::Request::new(call.method.clone(), call.url.clone());
        let headers = req.headers_mut();
        // The call's headers already include the client's defaults (see `HieClient::call`).
        headers.clone_from(&call.headers);
        for (n, v) in &call.opts.headers {
            headers.insert(n.clone(), v.clone());
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID, v);
        }
        if let Some(a) = authorization {
            headers.insert(AUTHORIZATION, a);
        }
        *req.timeout_mut() = Some(timeout);
        if let Some(b) = &call.body {
            *req.body_mut() = Some(reqwest::Body::from(b.clone()));
        }
        let mut resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| status::transport_error(e, &call.what(), timeout))?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let body = self.read_body(resp, call, timeout).await?;
        Ok(Reply {
            status,
            headers,
            body,
            request_id: request_id.to_owned(),
        })
    }

    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        call: &Call,
        timeout: Duration,
    ) -> Result<Bytes> {
        let too_large = |n: u64| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "{}: the response body ({n} bytes or more) exceeds the limit of {} bytes; page with a smaller _count or raise HieConfig max_response_bytes", call.what(), self.max_body
                ),
            )
            .with_location("body")
        };
        let limit = self.max_body as u64;
        match resp.content_length() {
            Some(n) if n > limit => return Err(too_large(n)),
            Some(_) => {
                return resp
                    .bytes()
                    .await
                    .map_err(|e| status::transport_error(e, &call.what(), timeout))
            }
            None => {}
        }
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| status::transport_error(e, &call.what(), timeout))?
        {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(too_large((buf.len() + chunk.len()) as u64));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_values_are_redacted() {
        assert_eq!(
            redact_url("http://h/Patient?identifier=sys|900101015555&_count=20&name=ALI"),
            "http://h/Patient?identifier=***&_count=20&name=***"
        );
        assert_eq!(redact_url("http://h/Patient/p1"), "http://h/Patient/p1");
    }

    fn transport(base: &str) -> Transport {
        Transport::new(&HieConfig::builder(base).build().unwrap()).unwrap()
    }

    #[test]
    fn links_are_rebased_onto_the_configured_origin() {
        let t = transport("http://127.0.0.1:9999/");
        let u = t
            .rebase("http://localhost:8080/Patient?_count=20&_page=x")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9999/Patient?_count=20&_page=x"
        );
        let t = transport("https://hie.example/baseR4/");
        let u = t
            .rebase("http://internal:8080/baseR4/Slot?_getpages=abc")
            .unwrap();
        assert_eq!(u.as_str(), "https://hie.example/baseR4/Slot?_getpages=abc");
        let e = t.rebase("https://evil.example/steal?x=1").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let u = t.rebase("Slot?_page=2").unwrap();
        assert_eq!(u.as_str(), "https://hie.example/baseR4/Slot?_page=2");
    }
}
