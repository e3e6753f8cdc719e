//! The JSON services next to HIE's FHIR server (the Jitsi token service, Prosody's end-meeting
//! endpoint, the Notification API) on the one engine: what their calls are called in spans and
//! errors, and the server's own short explanation of a refusal.
//!
//! What they never do: log a URL (paths carry session tokens, queries carry room names), a body
//! (bodies carry passwords, tokens and patient ids) or a credential. Spans carry the service, the
//! action and the host only.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;

use super::{Engine, EngineConfig, HttpSettings, Repeat, Reply, Request, Service};
use crate::error::{Error, ErrorKind, Result};
use crate::hie::Auth;

const JSON: &str = "application/json";

/// One call of a JSON service: the service and what is being done (`"create session"`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonCall {
    pub(crate) service: &'static str,
    pub(crate) action: &'static str,
}

impl Service for JsonCall {
    fn span(&self, req: &Request, request_id: &str) -> tracing::Span {
        tracing::info_span!(
            target: "hie_vc::http",
            "service.request",
            service = self.service,
            action = self.action,
            method = %req.method,
            host = req.url.host_str().unwrap_or(""),
            request_id = %request_id,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        )
    }

    /// The kind of the status, what to do, and the server's own short explanation when its
    /// body has one (`message`, `error`, `detail`, ...).
    fn http_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
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
            format!("{}: {} failed: {advice}{detail}", self.service, self.action),
        )
        .with_retry_after(super::retry_after_of(headers))
    }

    fn transport_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        let e = e.without_url();
        let (service, action) = (self.service, self.action);
        if e.is_timeout() {
            return Error::new(
                ErrorKind::Timeout,
                format!(
                    "{service}: {action} timed out after {timeout:?}; raise the request timeout or retry later"
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

    fn too_large(&self, _size: u64, limit: usize) -> Error {
        Error::new(
            ErrorKind::Decode,
            format!(
                "{}: the answer to {} exceeds the limit of {limit} bytes",
                self.service, self.action
            ),
        )
        .with_location("body")
    }
}

/// One request of a JSON service.
pub(crate) struct Req {
    url: url::Url,
    /// What is being done, for messages and spans (`"create session"`).
    action: &'static str,
    body: Option<Bytes>,
    authorization: Option<HeaderValue>,
    repeat: Repeat,
}

impl Req {
    /// A `POST` without a body.
    pub(crate) fn post(url: url::Url, action: &'static str, repeat: Repeat) -> Self {
        Self {
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
            body: Some(Bytes::from(body.to_string())),
            ..Self::post(url, action, repeat)
        }
    }
    /// Sets the `Authorization` of this request.
    pub(crate) fn authorization(mut self, value: HeaderValue) -> Self {
        self.authorization = Some(value);
        self
    }
}

/// A JSON service at a base URL, on its own engine.
pub(crate) struct JsonService {
    service: &'static str,
    engine: Engine,
}

impl std::fmt::Debug for JsonService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonService")
            .field("service", &self.service)
            .field("engine", &self.engine)
            .finish()
    }
}

impl JsonService {
    /// The service `service` (e.g. `"the Jitsi token service"`) at `base`.
    pub(crate) fn new(
        service: &'static str,
        base: url::Url,
        auth: &Auth,
        settings: &HttpSettings,
    ) -> Result<Self> {
        if matches!(auth, Auth::OAuth2(_)) {
            return Err(Error::config(format!(
                "{service} supports no OAuth2 client credentials; use Auth::bearer, Auth::basic or a secret header"
            )));
        }
        let headers = super::parse_headers(&settings.headers)?;
        let engine = Engine::new(EngineConfig {
            service,
            base,
            accept: JSON,
            headers: &headers,
            connection: settings.connection(),
            auth,
            request_timeout: settings.request_timeout,
            retry: &settings.retry,
            max_body: settings.max_response_bytes,
        })?;
        Ok(Self { service, engine })
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &url::Url {
        self.engine.base()
    }

    /// `path` resolved against the base. A leading `/` is ignored so that a base with a path
    /// prefix (`https://gw.example/jitsi/`) keeps it.
    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        self.base().join(path.trim_start_matches('/')).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("could not build a URL for {} ({e})", self.service),
            )
        })
    }

    /// Sends `req`; `Ok` only for a 2xx answer. Retries per [`Repeat`] and the policy.
    pub(crate) async fn send(&self, req: Req) -> Result<Reply> {
        let call = JsonCall {
            service: self.service,
            action: req.action,
        };
        let mut r = Request::new(Method::POST, req.url, req.repeat);
        if let Some(b) = req.body {
            r = r.body(JSON, b);
        }
        r.authorization = req.authorization;
        self.engine.send(&call, r).await
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
    use crate::http::{base_url, HeaderSetting};

    #[test]
    fn paths_keep_the_base_prefix() {
        let e = JsonService::new(
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
        let e = JsonService::new(
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
    fn tls_settings_are_the_engines_pem_bundles_included() {
        let svc = |pem: String| {
            JsonService::new(
                "svc",
                base_url("x", "https://h/").unwrap(),
                &Auth::None,
                &HttpSettings {
                    root_certificates_pem: vec![pem.into_bytes()],
                    ..HttpSettings::default()
                },
            )
        };
        let ca = crate::http::TEST_CA;
        assert!(svc(format!("{ca}{ca}")).is_ok(), "a CA bundle is accepted");
        let e = svc("not a certificate".into()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn oauth2_is_refused_with_a_config_error() {
        let auth = Auth::oauth2(crate::hie::OAuth2::client_credentials(
            "http://t/",
            "c",
            "s",
        ));
        let e = JsonService::new(
            "svc",
            base_url("x", "https://h/").unwrap(),
            &auth,
            &HttpSettings::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn errors_name_the_service_and_action_and_keep_retry_after() {
        let call = JsonCall {
            service: "the Notification API",
            action: "send notification",
        };
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("4"));
        let e = call.http_error(503, &h, br#"{"message":"maintenance"}"#);
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
        assert!(e
            .message()
            .contains("the Notification API: send notification failed"));
        assert!(e.message().contains("maintenance"));
        assert_eq!(call.too_large(10, 5).kind(), ErrorKind::Decode);
    }
}
