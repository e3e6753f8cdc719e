//! The HTTP engine of the JSON services next to HIE's FHIR server: HIE's Jitsi token service,
//! Prosody's end-meeting endpoint and the Notification API.
//!
//! It shares the HIE client's conventions — [`RetryPolicy`], [`Auth`] and
//! [`Secret`](crate::hie::Secret), no redirects (credentials stay on the configured host), a
//! time limit per attempt and a size limit per response, an `X-Request-Id` per call — but not
//! its FHIR specifics (media type, OperationOutcome), so it is its own small module instead of a
//! reuse of the FHIR transport.
//!
//! What it never does: log a URL (paths carry session tokens, queries carry room names), a body
//! (bodies carry passwords, tokens and patient ids) or a credential. Spans carry the service, the
//! action and the host only.

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::Method;
use tracing::Instrument;

use crate::error::{Error, ErrorKind, Result};
use crate::hie::{Auth, RetryPolicy};

mod settings;

pub(crate) use settings::{
    base_url, bearer, http_options, parse_retry_after, sensitive, HeaderSetting, HttpSettings,
};

const JSON: &str = "application/json";
const REQUEST_ID: &str = "x-request-id";

/// Whether a request may be sent again after a failure that leaves its fate unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Repeating has the effect of sending once (a login, a lookup, ending a meeting): retried
    /// on transport errors, on timeouts when the policy says so, and on the policy's statuses.
    Safe,
    /// Repeating may duplicate the effect (a notification): retried only when the server
    /// provably did not process it — the connection could not be made (nothing was sent), or
    /// it answered 429/503 *with* Retry-After.
    Unsafe,
}

/// One request.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) url: url::Url,
    /// What is being done, for messages and spans (`"create session"`).
    pub(crate) action: &'static str,
    pub(crate) body: Option<Bytes>,
    /// Overrides the endpoint's `Authorization` (a token obtained at run time).
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) repeat: Repeat,
}

impl Req {
    /// A `POST` without a body.
    pub(crate) fn post(url: url::Url, action: &'static str, repeat: Repeat) -> Self {
        Self {
            method: Method::POST,
            url,
            action,
            body: None,
            authorization: None,
            repeat,
        }
    }
    /// A `POST` of a JSON body.
    pub(crate) fn post_json(
        url: url::Url,
        action: &'static str,
        body: &serde_json::Value,
        repeat: Repeat,
    ) -> Self {
        Self {
            method: Method::POST,
            url,
            action,
            body: Some(Bytes::from(body.to_string())),
            authorization: None,
            repeat,
        }
    }
    /// Sets the `Authorization` of this request.
    pub(crate) fn authorization(mut self, value: HeaderValue) -> Self {
        self.authorization = Some(value);
        self
    }
}

/// A 2xx response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
}

/// A JSON service at a base URL.
pub(crate) struct Endpoint {
    service: &'static str,
    http: reqwest::Client,
    base: url::Url,
    auth: Option<HeaderValue>,
    headers: HeaderMap,
    timeout: Duration,
    retry: RetryPolicy,
    max_body: usize,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("service", &self.service)
            .field("base", &self.base.as_str())
            .field("auth", &self.auth.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint for `service` (e.g. `"the Jitsi token service"`) at `base`.
    pub(crate) fn new(
        service: &'static str,
        base: url::Url,
        auth: &Auth,
        settings: &HttpSettings,
    ) -> Result<Self> {
        if settings.request_timeout.is_zero() || settings.connect_timeout.is_zero() {
            return Err(Error::config("timeouts must be greater than zero"));
        }
        let auth = match auth {
            Auth::None => None,
            Auth::Bearer(t) => Some(bearer(t.expose_secret())?),
            Auth::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose_secret());
                Some(sensitive(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))?)
            }
            Auth::OAuth2(_) => {
                return Err(Error::config(format!(
                    "{service} supports no OAuth2 client credentials; use Auth::bearer, Auth::basic or a secret header"
                )))
            }
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(JSON));
        for h in &settings.headers {
            let (name, value, secret) = match h {
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
            headers.append(name, value);
        }
        let insecure = settings
            .insecure_host
            .as_deref()
            .is_some_and(|h| base.host_str().is_some_and(|x| x.eq_ignore_ascii_case(h)));
        let mut b = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .user_agent(settings.user_agent.clone())
            // A redirect would carry the request and its credentials somewhere not configured.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        for pem in &settings.root_certificates_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| Error::config(format!("a root certificate is not valid PEM: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        if insecure {
            tracing::warn!(
                target: "hie_vc::rest",
                service,
                host = base.host_str().unwrap_or(""),
                "TLS certificate verification is OFF for this host"
            );
            b = b.danger_accept_invalid_certs(true);
        }
        let http = b
            .build()
            .map_err(|e| Error::config(format!("could not set up the HTTP client: {e}")))?;
        Ok(Self {
            service,
            http,
            base,
            auth,
            headers,
            timeout: settings.request_timeout,
            retry: settings.retry.clone(),
            max_body: settings.max_response_bytes,
        })
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &url::Url {
        &self.base
    }

    /// `path` resolved against the base. A leading `/` is ignored so that a base with a path
    /// prefix (`https://gw.example/jitsi/`) keeps it.
    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        self.base.join(path.trim_start_matches('/')).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("could not build a URL for {} ({e})", self.service),
            )
        })
    }

    /// Sends `req`; `Ok` only for a 2xx answer. Retries per [`Repeat`] and the policy.
    pub(crate) async fn send(&self, req: Req) -> Result<Reply> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let span = tracing::info_span!(
            target: "hie_vc::rest",
            "service.request",
            service = self.service,
            action = req.action,
            method = %req.method,
            host = req.url.host_str().unwrap_or(""),
            request_id = %request_id,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.run(&req, request_id).instrument(span).await
    }

    async fn run(&self, req: &Req, request_id: String) -> Result<Reply> {
        let started = Instant::now();
        let span = tracing::Span::current();
        let mut retry = 0u32;
        loop {
            span.record("attempts", retry + 1);
            let (err, retryable) = match self.attempt(req, &request_id).await {
                Ok((status, _, body)) if (200..300).contains(&status) => {
                    span.record("status", status);
                    return Ok(Reply {
                        status,
                        body,
                        request_id,
                    });
                }
                Ok((status, headers, body)) => {
                    span.record("status", status);
                    let retry_after = headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let retryable = self.retry.retries_status(status)
                        && match req.repeat {
                            Repeat::Safe => true,
                            // 429 and 503 are the server saying it did not act on the request
                            // (RFC 6585 §4, RFC 9110 §15.6.4) and, with Retry-After, inviting
                            // the same request again later. Without Retry-After a 503 may come
                            // from a gateway that lost the upstream mid-request, so it stays
                            // ambiguous and is not repeated.
                            Repeat::Unsafe => matches!(status, 429 | 503) && retry_after.is_some(),
                        };
                    (
                        self.http_error(req.action, status, retry_after, &body),
                        retryable,
                    )
                }
                Err((err, connect)) => {
                    let retryable = match req.repeat {
                        Repeat::Safe => match err.kind() {
                            ErrorKind::Transport => true,
                            ErrorKind::Timeout => self.retry.retries_timeouts() || connect,
                            _ => false,
                        },
                        // Only a failed connect proves that no byte of the request left.
                        Repeat::Unsafe => connect,
                    };
                    (err, retryable)
                }
            };
            let err = err.with_request_id(request_id.clone());
            retry += 1;
            let delay = if retryable {
                self.retry
                    .next_delay(retry, started.elapsed(), err.retry_after())
            } else {
                None
            };
            match delay {
                Some(delay) => {
                    tracing::warn!(
                        target: "hie_vc::rest",
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

    /// One attempt: the status, headers and body of any answer; or the error and whether it
    /// happened while connecting (so nothing was sent).
    async fn attempt(
        &self,
        req: &Req,
        request_id: &str,
    ) -> std::result::Result<(u16, HeaderMap, Bytes), (Error, bool)> {
        let mut headers = self.headers.clone();
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID, v);
        }
        if let Some(a) = req.authorization.as_ref().or(self.auth.as_ref()) {
            headers.insert(AUTHORIZATION, a.clone());
        }
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .timeout(self.timeout)
            .headers(headers);
        if let Some(b) = &req.body {
            rb = rb.header(CONTENT_TYPE, JSON).body(b.clone());
        }
        let mut resp = rb.send().await.map_err(|e| {
            let connect = e.is_connect();
            (self.transport_error(req.action, e), connect)
        })?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let body = self
            .read_body(resp, req.action)
            .await
            .map_err(|e| (e, false))?;
        Ok((status, headers, body))
    }

    async fn read_body(&self, mut resp: reqwest::Response, action: &str) -> Result<Bytes> {
        let limit = self.max_body;
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(action, e))?
        {
            if buf.len() + chunk.len() > limit {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!(
                        "{}: the answer to {action} exceeds the limit of {limit} bytes",
                        self.service
                    ),
                )
                .with_location("body"));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    fn transport_error(&self, action: &str, e: reqwest::Error) -> Error {
        let e = e.without_url();
        let service = self.service;
        if e.is_timeout() {
            return Error::new(
                ErrorKind::Timeout,
                format!(
                    "{service}: {action} timed out after {:?}; raise the request timeout or retry later",
                    self.timeout
                ),
            )
            .with_source(e);
        }
        let hint = if e.is_connect() {
            "could not connect; check the URL, DNS, TLS and network"
        } else {
            "the connection failed or broke; the outcome is unknown"
        };
        Error::new(
            ErrorKind::Transport,
            format!("{service}: {action} failed: {hint}"),
        )
        .with_source(e)
    }

    /// The error for a non-2xx answer: the kind of its status, what to do, and the server's own
    /// short explanation when its body has one (`message`, `error`, `detail`, ...).
    fn http_error(
        &self,
        action: &str,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Error {
        let advice = match ErrorKind::from_status(status) {
            ErrorKind::BadRequest | ErrorKind::Unprocessable => {
                "the service refused the request as invalid"
            }
            ErrorKind::Unauthorized => "authentication failed; check the configured credentials",
            ErrorKind::Forbidden => "these credentials may not do this",
            ErrorKind::NotFound => "not found; check the URL, the path settings and the ids",
            ErrorKind::Conflict | ErrorKind::Gone => "the state on the service does not allow this",
            ErrorKind::RateLimited => "rate limited; wait for the Retry-After delay",
            ErrorKind::ServiceUnavailable | ErrorKind::GatewayTimeout => {
                "the service is unavailable; retry later"
            }
            _ if (300..400).contains(&status) => {
                "the service redirected; configure the final URL (redirects are not followed)"
            }
            _ if status >= 500 => "the service failed; retry later",
            _ => "the service refused the request",
        };
        let detail = server_detail(body)
            .map(|d| format!(" (server says: {d})"))
            .unwrap_or_default();
        Error::http(
            status,
            format!("{}: {action} failed: {advice}{detail}", self.service),
        )
        .with_retry_after(retry_after)
    }
}

/// The short explanation a JSON error body carries, cut to 200 characters.
fn server_detail(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = ["message", "error_description", "error", "detail", "title"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()))?;
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    Some(s)
}

/// Parses a 2xx body as JSON, or a `Decode` error naming the action.
pub(crate) fn json_body(service: &str, action: &str, reply: &Reply) -> Result<serde_json::Value> {
    serde_json::from_slice(&reply.body).map_err(|e| {
        Error::new(
            ErrorKind::Decode,
            format!("{service}: the answer to {action} is not JSON ({e})"),
        )
        .with_status(reply.status)
        .with_request_id(reply.request_id.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_the_base_prefix() {
        let e = Endpoint::new(
            "svc",
            base_url("x", "https://gw.example/jitsi").unwrap(),
            &Auth::None,
            &HttpSettings::default(),
        )
        .unwrap();
        assert_eq!(
            e.url("/api/v1/sessions").unwrap().as_str(),
            "https://gw.example/jitsi/api/v1/sessions"
        );
    }

    #[test]
    fn credentials_never_print() {
        let e = Endpoint::new(
            "svc",
            base_url("x", "https://h/").unwrap(),
            &Auth::bearer("tok-secret-1"),
            &HttpSettings::default(),
        )
        .unwrap();
        assert!(!format!("{e:?}").contains("tok-secret-1"));
        let s = HttpSettings {
            headers: vec![HeaderSetting::Sensitive("X-Key".into(), "k-secret".into())],
            ..HttpSettings::default()
        };
        assert!(!format!("{s:?}").contains("k-secret"));
        assert!(bearer("t").unwrap().is_sensitive());
    }

    #[test]
    fn server_detail_is_short_and_optional() {
        assert_eq!(
            server_detail(br#"{"message":"room gone"}"#).as_deref(),
            Some("room gone")
        );
        assert_eq!(server_detail(b"<html>"), None);
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(500));
        assert_eq!(server_detail(long.as_bytes()).unwrap().chars().count(), 201);
    }

    #[test]
    fn oauth2_is_refused_with_a_config_error() {
        let auth = Auth::oauth2(crate::hie::OAuth2::client_credentials(
            "http://t/",
            "c",
            "s",
        ));
        let e = Endpoint::new(
            "svc",
            base_url("x", "https://h/").unwrap(),
            &auth,
            &HttpSettings::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }
}
