//! The one HTTP engine under every service the SDK calls: HIE's FHIR server
//! ([`crate::hie`]), its OAuth2 token endpoint, HIE's Jitsi token service and Prosody's
//! end-meeting endpoint ([`crate::jitsi`]) and the Notification API ([`crate::notify`]).
//!
//! One place builds connection pools (redirects off so credentials stay on the configured host,
//! extra root certificates as PEM bundles, one host without certificate checks on request, a
//! pool idle timeout, `TCP_NODELAY`), checks base URLs, adds the configured plain and secret
//! headers and the credential (bearer, basic, or an OAuth2 token refreshed once after a 401),
//! sends a fresh `X-Request-Id` per call, bounds each attempt in time and each response in
//! size, parses `Retry-After`, and retries per the SDK's one [`RetryPolicy`] as far as the
//! request's [`Repeat`] allows.
//!
//! What a call *is* — its span, and the words of its errors — belongs to the service
//! ([`Service`]): the FHIR client names interactions and reads OperationOutcomes, the JSON
//! services ([`JsonCall`]) name an action and never log a URL (paths carry session tokens) or a
//! body (bodies carry passwords, tokens and patient ids).

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::Either;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Method;
use tracing::Instrument;

use crate::error::{Error, ErrorKind, Result};
use crate::hie::Auth;
use crate::retry::RetryPolicy;

mod auth;
mod client;
mod headers;
mod json;
mod settings;

pub(crate) use auth::AuthState;
pub(crate) use client::Connection;
#[cfg(test)]
pub(crate) use client::TEST_CA;
pub(crate) use headers::{
    basic, bearer, new_request_id, parse_headers, retry_after_of, sensitive, HeaderSetting,
    REQUEST_ID,
};
pub(crate) use json::{json_body, JsonService, Req};
pub(crate) use settings::{base_url, http_options, HttpSettings};

/// Whether a request may be sent again after a failure that leaves its fate unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Repeating has the effect of sending once (GET, PUT, DELETE, a conditional create, a
    /// login, ending a meeting): retried on transport errors, on connect timeouts, on other
    /// timeouts when the policy says so, and on the policy's statuses.
    Safe,
    /// Repeating may duplicate the effect (a notification, a new Jitsi session): retried only
    /// when the server provably did not process it — the connection could not be made (nothing
    /// was sent), or it answered 429/503 *with* Retry-After.
    IfUnprocessed,
    /// Never repeated (a plain FHIR POST: a lost answer would otherwise turn into a duplicate
    /// resource), except after a 401 that an OAuth2 token refresh answers.
    Never,
}

/// One logical request (retries included).
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) url: url::Url,
    /// The request's own headers; the engine adds its own (`Accept`, configured ones) where
    /// the request has none of that name.
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) repeat: Repeat,
    /// Overrides the engine's credential (a token obtained at run time).
    pub(crate) authorization: Option<HeaderValue>,
    /// Overrides the engine's time limit per attempt.
    pub(crate) timeout: Option<Duration>,
    /// Overrides the engine's retry policy.
    pub(crate) retry: Option<RetryPolicy>,
    /// The `X-Request-Id` to send (default: a fresh UUID).
    pub(crate) request_id: Option<String>,
}

impl Request {
    /// A request without a body or extra headers.
    pub(crate) fn new(method: Method, url: url::Url, repeat: Repeat) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            repeat,
            authorization: None,
            timeout: None,
            retry: None,
            request_id: None,
        }
    }
    /// Sets the body and its `Content-Type`.
    pub(crate) fn body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        self.body = Some(body.into());
        self
    }
    /// Sets the `Authorization` of this request.
    pub(crate) fn authorization(mut self, value: HeaderValue) -> Self {
        self.authorization = Some(value);
        self
    }
}

/// A successful (2xx) response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
}

impl Reply {
    /// A header as text, when present and visible ASCII.
    pub(crate) fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a call is, for the service that makes it: the span it runs in and the words of its
/// errors. The engine records `status` and `attempts` on the span.
pub(crate) trait Service: Sync {
    /// The span of the call (with empty `status` and `attempts` fields).
    fn span(&self, req: &Request, request_id: &str) -> tracing::Span;
    /// The error for a non-2xx answer. When its kind differs from the status's own (a 5xx
    /// whose body names a client error), the answer is not retried.
    fn http_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error;
    /// The error for an attempt that got no (complete) answer.
    fn transport_error(&self, e: reqwest::Error, timeout: Duration) -> Error;
    /// The error for an answer larger than `limit` bytes (`size` or more).
    fn too_large(&self, size: u64, limit: usize) -> Error;
}

/// A service named by reference (a JSON service's call, the token cache) is the service.
impl<T: Service + ?Sized> Service for &T {
    fn span(&self, req: &Request, request_id: &str) -> tracing::Span {
        (**self).span(req, request_id)
    }
    fn http_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        (**self).http_error(status, headers, body)
    }
    fn transport_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        (**self).transport_error(e, timeout)
    }
    fn too_large(&self, size: u64, limit: usize) -> Error {
        (**self).too_large(size, limit)
    }
}

/// How an engine is set up.
pub(crate) struct EngineConfig<'a> {
    /// The service's name, for warnings.
    pub(crate) service: &'static str,
    /// The checked base URL (ends with `/`).
    pub(crate) base: url::Url,
    /// The `Accept` of every request.
    pub(crate) accept: &'static str,
    /// The configured headers (checked).
    pub(crate) headers: &'a [(HeaderName, HeaderValue)],
    pub(crate) connection: Connection<'a>,
    pub(crate) auth: &'a Auth,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: &'a RetryPolicy,
    pub(crate) max_body: usize,
}

/// One service's connection pool, headers, credential, limits and retry policy. Shared by every
/// clone of the client that owns it.
pub(crate) struct Engine {
    http: reqwest::Client,
    base: url::Url,
    /// `Accept` and the configured headers: every request carries these unless it sets its own.
    headers: HeaderMap,
    auth: AuthState,
    timeout: Duration,
    retry: RetryPolicy,
    max_body: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds the pool (checking the TLS settings) and the credential.
    pub(crate) fn new(cfg: EngineConfig<'_>) -> Result<Self> {
        if cfg.request_timeout.is_zero() || cfg.connection.connect_timeout.is_zero() {
            return Err(Error::config("timeouts must be greater than zero"));
        }
        let http = cfg.connection.client_for(&cfg.base, cfg.service)?;
        Self::assemble(http, cfg)
    }

    /// An engine on an existing pool (an OAuth2 token endpoint sharing its service's).
    pub(crate) fn assemble(http: reqwest::Client, cfg: EngineConfig<'_>) -> Result<Self> {
        let auth = AuthState::new(&cfg, &http)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(cfg.accept));
        for (n, v) in cfg.headers {
            headers.append(n.clone(), v.clone());
        }
        Ok(Self {
            http,
            base: cfg.base,
            headers,
            auth,
            timeout: cfg.request_timeout,
            retry: cfg.retry.clone(),
            max_body: cfg.max_body,
        })
    }

    /// The base URL (ends with `/`).
    pub(crate) fn base(&self) -> &url::Url {
        &self.base
    }

    /// Sends `req`; `Ok` only for a 2xx answer. Retries per [`Repeat`] and the policy, and
    /// refreshes an OAuth2 token once after a 401.
    ///
    /// A plain `fn` returning the one future that does the work, not an `async fn` around it:
    /// every `async` layer stores its arguments again and is copied whole into its caller's
    /// state, and these layers (with the FHIR client's two above) made each call's future
    /// 5.6 KB, copied several times per request into cold memory.
    pub(crate) fn send<'a, S: Service + 'a>(
        &'a self,
        svc: S,
        req: Request,
    ) -> impl Future<Output = Result<Reply>> + 'a {
        start(self, svc, req)
    }

    /// [`Engine::send`] on an engine held in an `Arc`: the future holds a clone of the `Arc`
    /// instead of borrowing, so a request builder can hand it back from a plain `fn` (its own
    /// future then only holds this one, boxed, and not a copy of everything it was built from).
    pub(crate) fn send_owned<S: Service + 'static>(
        self: &Arc<Self>,
        svc: S,
        req: Request,
    ) -> impl Future<Output = Result<Reply>> + 'static {
        start(Arc::clone(self), svc, req)
    }

    /// Sets the call's `X-Request-Id` (its own, checked, or a fresh one) and joins the engine's
    /// headers to the request's own; gives the request id.
    fn prepare(&self, req: &mut Request) -> Result<String> {
        let (request_id, id_header) = match req.request_id.take() {
            Some(id) => {
                let h = HeaderValue::from_str(&id).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        "the request id has characters not allowed in an HTTP header",
                    )
                })?;
                (id, h)
            }
            None => new_request_id(),
        };
        req.headers.insert(REQUEST_ID, id_header);
        // The engine's headers join the request's own once per call (the request's win), so
        // each attempt costs one clone of a map already sized for them.
        for name in self.headers.keys() {
            if !req.headers.contains_key(name) {
                for v in self.headers.get_all(name) {
                    req.headers.append(name.clone(), v.clone());
                }
            }
        }
        Ok(request_id)
    }

    /// One attempt: the status, headers and body of any answer; or the error and whether it
    /// happened while connecting (so nothing was sent).
    async fn attempt<S: Service>(
        &self,
        svc: &S,
        req: &Request,
        authorization: Option<HeaderValue>,
        timeout: Duration,
    ) -> std::result::Result<(u16, HeaderMap, Bytes), (Error, bool)> {
        // One Request built in place: cheaper than a RequestBuilder merging header maps.
        let mut r = reqwest::Request::new(req.method.clone(), req.url.clone());
        let headers = r.headers_mut();
        headers.clone_from(&req.headers);
        if let Some(a) = authorization {
            headers.insert(AUTHORIZATION, a);
        }
        *r.timeout_mut() = Some(timeout);
        if let Some(b) = &req.body {
            *r.body_mut() = Some(reqwest::Body::from(b.clone()));
        }
        let mut resp = self.http.execute(r).await.map_err(|e| {
            let connect = e.is_connect();
            (svc.transport_error(e, timeout), connect)
        })?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let body = self
            .read_body(svc, resp, timeout)
            .await
            .map_err(|e| (e, false))?;
        Ok((status, headers, body))
    }

    /// The body, refused beyond the size limit (a declared length is checked before reading).
    async fn read_body<S: Service>(
        &self,
        svc: &S,
        mut resp: reqwest::Response,
        timeout: Duration,
    ) -> Result<Bytes> {
        let limit = self.max_body as u64;
        match resp.content_length() {
            Some(n) if n > limit => return Err(svc.too_large(n, self.max_body)),
            Some(_) => {
                return resp
                    .bytes()
                    .await
                    .map_err(|e| svc.transport_error(e, timeout))
            }
            None => {}
        }
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| svc.transport_error(e, timeout))?
        {
            let size = (buf.len() + chunk.len()) as u64;
            if size > limit {
                return Err(svc.too_large(size, self.max_body));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }
}

/// The engine's future for one call: the request id set, the engine's headers joined, then
/// [`run`] in the call's span. `E` is how the future holds its engine: borrowed (`&Engine`) or
/// owned (`Arc<Engine>`).
fn start<E: Deref<Target = Engine>, S: Service>(
    engine: E,
    svc: S,
    mut req: Request,
) -> impl Future<Output = Result<Reply>> {
    let request_id = engine.prepare(&mut req);
    let span = match &request_id {
        Ok(id) => svc.span(&req, id),
        Err(_) => tracing::Span::none(),
    };
    // A span no subscriber wants is not entered on every poll (~700 instructions per call
    // when no subscriber is installed).
    if span.is_disabled() {
        Either::Left(run(engine, svc, req, request_id, span))
    } else {
        Either::Right(run(engine, svc, req, request_id, span.clone()).instrument(span))
    }
}

/// The attempts of one call.
async fn run<E: Deref<Target = Engine>, S: Service>(
    engine: E,
    svc: S,
    req: Request,
    request_id: Result<String>,
    // The call's own span (not `Span::current()`, which is the caller's when this one is
    // disabled).
    span: tracing::Span,
) -> Result<Reply> {
    let request_id = request_id?;
    let started = Instant::now();
    let policy = req.retry.as_ref().unwrap_or(&engine.retry);
    let timeout = req.timeout.unwrap_or(engine.timeout);
    let mut retry = 0u32;
    let mut attempts = 0u32;
    let mut refreshed = false;
    loop {
        attempts += 1;
        span.record("attempts", attempts);
        let (authorization, generation) = match &req.authorization {
            Some(a) => (Some(a.clone()), 0),
            None => {
                let credential = match engine.auth.ready() {
                    Some(ready) => Ok(ready),
                    None => engine.auth.credential().await,
                };
                match credential {
                    Ok(Some(c)) => (Some(c.header), c.generation),
                    Ok(None) => (None, 0),
                    Err(e) => return Err(e.with_request_id(request_id)),
                }
            }
        };
        let (err, retryable) = match engine.attempt(&svc, &req, authorization, timeout).await {
            Ok((status, headers, body)) if (200..300).contains(&status) => {
                span.record("status", status);
                return Ok(Reply {
                    status,
                    headers,
                    body,
                    request_id,
                });
            }
            Ok((401, _, _))
                if req.authorization.is_none() && engine.auth.refreshable() && !refreshed =>
            {
                // The token may have been revoked or expired early: fetch a new one once.
                // A 401 means the request was not processed, so even a POST is resent.
                refreshed = true;
                engine.auth.invalidate(generation);
                tracing::info!(target: "hie_vc::http", "401 Unauthorized; refreshing the OAuth2 token once");
                continue;
            }
            Ok((status, headers, body)) => {
                span.record("status", status);
                let err = svc.http_error(status, &headers, &body);
                // A 5xx whose body names a client error will fail again.
                let retryable = policy.retries_status(status)
                    && err.kind() == ErrorKind::from_status(status)
                    && match req.repeat {
                        Repeat::Safe => true,
                        // 429 and 503 are the server saying it did not act on the request
                        // (RFC 6585 §4, RFC 9110 §15.6.4) and, with Retry-After, inviting
                        // the same request again later. Without Retry-After a 503 may come
                        // from a gateway that lost the upstream mid-request, so it stays
                        // ambiguous and is not repeated.
                        Repeat::IfUnprocessed => {
                            matches!(status, 429 | 503) && err.retry_after().is_some()
                        }
                        Repeat::Never => false,
                    };
                (err, retryable)
            }
            Err((err, connect)) => {
                let retryable = match req.repeat {
                    Repeat::Safe => match err.kind() {
                        ErrorKind::Transport => true,
                        ErrorKind::Timeout => policy.retries_timeouts() || connect,
                        _ => false,
                    },
                    // Only a failed connect proves that no byte of the request left.
                    Repeat::IfUnprocessed => connect,
                    Repeat::Never => false,
                };
                (err, retryable)
            }
        };
        let err = err.with_request_id(request_id.clone());
        retry += 1;
        let delay = if retryable {
            policy.next_delay(retry, started.elapsed(), err.retry_after())
        } else {
            None
        };
        match delay {
            Some(delay) => {
                tracing::warn!(
                    target: "hie_vc::http",
                    retry,
                    delay_ms = delay.as_millis() as u64,
                    kind = %err.kind(),
                    status = err.status(),
                    "retrying"
                );
                // Boxed: inline, the timer would grow every call's future for the rare retry.
                Box::pin(tokio::time::sleep(delay)).await;
            }
            None => return Err(err),
        }
    }
}
