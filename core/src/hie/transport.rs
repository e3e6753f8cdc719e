//! The FHIR side of the one HTTP engine (`crate::http`): the headers every FHIR request
//! carries, URLs relative to the FHIR base and links made safe to follow, and what a FHIR call
//! is called in its `hie.request` span and its errors (the interaction, the target, the
//! server's OperationOutcome).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;

use super::config::HieConfig;
use super::status;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Engine, EngineConfig, Repeat, Request, Service};
use crate::retry::RetryPolicy;

/// The FHIR JSON media type, sent as `Accept` and as the `Content-Type` of bodies.
pub(crate) const FHIR_JSON: &str = "application/fhir+json";
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
    /// The call's own headers (`Content-Type`, `Prefer`, ...); `Accept` and the configured
    /// headers are the engine's.
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
pub(crate) type Reply = crate::http::Reply;

/// A call under way: the engine's future, boxed (see [`Transport::execute`]).
pub(crate) type Exchange =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply>> + Send + 'static>>;

/// What a FHIR call is called in its span and its errors.
struct Interaction {
    /// `read`, `update`, ...
    name: &'static str,
    /// `Patient/p1`, `Patient`, `[base]`.
    target: String,
}

impl Interaction {
    /// `update Patient/p1`, for messages (built only when needed).
    fn what(&self) -> String {
        format!("{} {}", self.name, self.target)
    }
}

impl Service for Interaction {
    fn span(&self, req: &Request, request_id: &str) -> tracing::Span {
        tracing::info_span!(
            target: "hie_vc::hie",
            "hie.request",
            interaction = self.name,
            method = %req.method,
            url = %redact_url(req.url.as_str()),
            request_id = %request_id,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        )
    }

    fn http_error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        status::http_error(status, headers, body, &self.what(), &self.target)
    }

    fn transport_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        status::transport_error(e, &self.what(), timeout)
    }

    fn too_large(&self, size: u64, limit: usize) -> Error {
        Error::new(
            ErrorKind::Decode,
            format!(
                "{}: the response body ({size} bytes or more) exceeds the limit of {limit} bytes; page with a smaller _count or raise HieConfig max_response_bytes",
                self.what()
            ),
        )
        .with_location("body")
    }
}

/// The shared state behind every clone of a client.
pub(crate) struct Transport {
    /// Shared with the futures of the calls in flight (see [`Transport::execute`]).
    engine: std::sync::Arc<Engine>,
    pub(crate) base: url::Url,
}

impl Transport {
    pub(crate) fn new(cfg: &HieConfig) -> Result<Self> {
        let engine = Engine::new(EngineConfig {
            service: "the HIE FHIR server",
            base: cfg.base_url.clone(),
            accept: FHIR_JSON,
            headers: &cfg.headers,
            connection: crate::http::Connection {
                connect_timeout: cfg.connect_timeout,
                user_agent: &cfg.user_agent,
                root_certificates_pem: &cfg.root_certificates_pem,
                insecure_host: cfg.insecure_host.as_deref(),
            },
            auth: &cfg.auth,
            request_timeout: cfg.request_timeout,
            retry: &cfg.retry,
            max_body: cfg.max_response_bytes,
        })?;
        Ok(Self {
            engine: std::sync::Arc::new(engine),
            base: cfg.base_url.clone(),
        })
    }

    /// The URL of `path` (relative to the FHIR base, e.g. `Patient/p1`).
    pub(crate) fn url(&self, path: &str) -> Result<url::Url> {
        // The base ends with '/' and paths start with a checked type name, so resolving the
        // path against the parsed base gives what parsing base + path would, without parsing
        // the scheme and host again on every call (a third of a loopback request's URL work).
        // Anything else takes the full parse.
        let first = path.split(['/', '?']).next().unwrap_or("");
        if first.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return self.base.join(path).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("could not build the URL for '{path}': {e}"),
                )
            });
        }
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

    /// Runs a call: retries, auth refresh, tracing. `Ok` only for a 2xx response. Not an
    /// `async fn`: it hands back the engine's future itself (see `Engine::send`), owning what
    /// it needs, so the request builders can return it from plain `fn`s.
    pub(crate) fn execute(&self, call: Call) -> Exchange {
        // Boxed: unboxed, the engine's ~2.5 KB future is copied whole into each request builder's
        // future and that into the caller's, touching cold memory on every call; one heap
        // block, reused call after call, saves ~120 L1 data misses per PUT for one allocation
        // (callgrind, bench/RESULTS.md, issue 10 §6).
        Box::pin(self.exchange(call))
    }

    /// The size of the engine's future for `call` (pinned by a test).
    #[cfg(test)]
    pub(crate) fn engine_future_size(&self, call: Call) -> usize {
        std::mem::size_of_val(&self.exchange(call))
    }

    /// The engine's future for `call`, unboxed.
    fn exchange(
        &self,
        call: Call,
    ) -> impl std::future::Future<Output = Result<Reply>> + Send + 'static {
        let Call {
            method,
            url,
            body,
            mut headers,
            idempotent,
            interaction,
            target,
            opts,
        } = call;
        for (n, v) in opts.headers {
            headers.insert(n, v);
        }
        let req = Request {
            method,
            url,
            headers,
            body,
            repeat: if idempotent {
                Repeat::Safe
            } else {
                Repeat::Never
            },
            authorization: None,
            timeout: opts.timeout,
            retry: opts.retry,
            request_id: opts.request_id,
        };
        let what = Interaction {
            name: interaction,
            target,
        };
        self.engine.send_owned(what, req)
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
    fn paths_resolve_as_base_plus_path() {
        for base in ["http://127.0.0.1:9999/", "https://hie.example/baseR4/"] {
            let t = transport(base);
            for path in [
                "Patient/p1",
                "Patient/p1/_history/2",
                "Patient?name=ALI&_count=20",
                "Patient/_search",
                "",
                "metadata",
                "Patient/a.b",
                "Patient/..",
                "_history",
            ] {
                let joined = t.url(path).unwrap();
                let parsed = url::Url::parse(&format!("{base}{path}")).unwrap();
                assert_eq!(joined, parsed, "{base} + {path}");
            }
        }
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
