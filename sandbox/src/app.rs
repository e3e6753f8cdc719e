//! The shared state of a running sandbox and its HTTP routing: `/fhir` (configurable), `/jitsi`,
//! `/notify` and the admin endpoints under `/sandbox`, behind the fault switches.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::Router;
use hie_vc::fhir::{Bundle, BundleEntry, BundleEntryRequest, BundleType, HttpVerb, Resource, Uri};

use crate::config::{FhirAuth, SandboxConfig};
use crate::error::{Error, FhirError};
use crate::faults::{Action, FaultSwitch, Service};
use crate::fhir::http::{error_response, FhirRequest, Return};
use crate::fhir::query::Paging;
use crate::fhir::{self, Engine, Settings};
use crate::jitsi::JitsiService;
use crate::notify::NotifyService;
use crate::publish::Publisher;
use crate::records::PublishedEvent;

/// The path of the Jitsi token service.
pub const JITSI_PATH: &str = "/jitsi";
/// The path of the Notification API.
pub const NOTIFY_PATH: &str = "/notify";
/// The path of the admin endpoints.
pub const ADMIN_PATH: &str = "/sandbox";

/// Set on requests by the connection that carries them: closing it drops the connection
/// without an answer (a service that is "down").
#[derive(Clone)]
pub(crate) struct ConnKill(pub Arc<tokio::sync::Notify>);

pub(crate) struct App {
    pub config: SandboxConfig,
    pub engine: Engine,
    pub faults: FaultSwitch,
    pub publisher: Publisher,
    pub jitsi: JitsiService,
    pub notify: NotifyService,
    /// Encounters already published (and the lock that makes check-ins one at a time).
    pub published: tokio::sync::Mutex<HashSet<String>>,
    pub events: Mutex<Vec<PublishedEvent>>,
    pub local_addr: SocketAddr,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("local_addr", &self.local_addr)
            .field("publisher", &self.publisher)
            .finish_non_exhaustive()
    }
}

impl App {
    pub(crate) fn new(config: SandboxConfig, local_addr: SocketAddr) -> Result<Self, Error> {
        config.check()?;
        let settings = Settings {
            validator: config.validate.then(|| {
                hie_vc::mycore::Validator::new()
                    .profile_base(config.profile_base.clone())
                    .require_profile_claim(config.require_profile_claim)
            }),
            check_references: config.check_references,
            allow_delete: config.allow_delete,
            paging: Paging {
                default_count: config.default_page_size,
                max_count: config.max_page_size,
            },
            local: config.local_offset,
            profile_base: config.profile_base.clone(),
        };
        Ok(Self {
            engine: Engine::new(settings),
            faults: FaultSwitch::new(config.fault_seed),
            publisher: Publisher::new(&config.events)?,
            jitsi: JitsiService::new(config.jitsi_contract.clone(), &config.jitsi_domain)?,
            notify: NotifyService::new(
                config.notify_contract.clone(),
                config.notify_email.clone(),
                config.notify_password.clone(),
                config.notify_token_ttl,
                config.notify_require_mykad,
            ),
            published: tokio::sync::Mutex::new(HashSet::new()),
            events: Mutex::new(Vec::new()),
            local_addr,
            config,
        })
    }

    /// `http://host:port` as the client sees it (`None`: the listening address).
    pub(crate) fn origin(&self, headers: Option<&HeaderMap>) -> String {
        if let Some(u) = &self.config.public_url {
            return u.clone();
        }
        match headers
            .and_then(|h| h.get(header::HOST))
            .and_then(|v| v.to_str().ok())
        {
            Some(host) => format!("http://{host}"),
            None => format!("http://{}", self.local_addr),
        }
    }

    /// The FHIR base URL.
    pub(crate) fn fhir_base(&self, headers: Option<&HeaderMap>) -> String {
        format!("{}{}", self.origin(headers), self.config.fhir_path)
    }

    pub(crate) fn record_event(&self, e: PublishedEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Stores the configured Organization and the seed resources, as one transaction.
    pub(crate) fn seed(&self) -> Result<(), Error> {
        let cfg = &self.config;
        let mut b = Bundle::new(BundleType::Transaction);
        let mut seeds = cfg.seed.clone();
        let org_seeded = seeds.iter().any(|r| {
            r.resource_type() == "Organization" && r.id().as_deref() == Some(&cfg.organization_id)
        });
        if !org_seeded {
            let org = hie_vc::fhir::Organization {
                id: hie_vc::fhir::Id::new(cfg.organization_id.as_str()).ok(),
                active: Some(true),
                name: Some(cfg.organization_name.clone()),
                ..Default::default()
            };
            seeds.insert(0, Resource::from(org));
        }
        for r in seeds {
            let (method, url) = match r.id() {
                Some(id) => (HttpVerb::Put, format!("{}/{id}", r.resource_type())),
                None => (HttpVerb::Post, r.resource_type().to_owned()),
            };
            b.entry.push(BundleEntry {
                request: Some(BundleEntryRequest {
                    method: Some(method),
                    url: Uri::new(url).ok(),
                    ..BundleEntryRequest::default()
                }),
                resource: Some(r),
                ..BundleEntry::default()
            });
        }
        let base = self.fhir_base(None);
        let ctx = self.engine.ctx(&base, false);
        fhir::bundle::process(&self.engine, &ctx, Return::Minimal, b)
            .map(|_| ())
            .map_err(|e| Error::Config(format!("the seed resources were refused: {e}")))
    }
}

fn service_of(config: &SandboxConfig, path: &str) -> Option<Service> {
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if under(&config.fhir_path) {
        Some(Service::Fhir)
    } else if under(JITSI_PATH) {
        Some(Service::Jitsi)
    } else if under(NOTIFY_PATH) {
        Some(Service::Notify)
    } else {
        None
    }
}

/// The fault switches, in front of every service.
async fn faults(State(app): State<Arc<App>>, req: Request, next: Next) -> Response<Body> {
    let Some(service) = service_of(&app.config, req.uri().path()) else {
        return next.run(req).await;
    };
    let (latency, action) = app.faults.decide(service);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        Action::Pass => next.run(req).await,
        Action::Drop => match req.extensions().get::<ConnKill>() {
            Some(kill) => {
                kill.0.notify_one();
                // The connection task drops this request with its connection.
                std::future::pending().await
            }
            // Served without the sandbox's accept loop (cannot happen through `Sandbox`):
            // the closest answer to "down".
            None => crate::jsonapi::error(503, format!("{service} is down")),
        },
        Action::Fail(status, retry_after) => {
            let message = format!("{service} fault injected by the sandbox");
            let mut r = if service == Service::Fhir {
                error_response(&FhirError::new(status, "transient", message))
            } else {
                crate::jsonapi::error(status, message)
            };
            if let Some(s) = retry_after.filter(|_| matches!(status, 429 | 503)) {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

/// Echoes `X-Request-Id` so client logs and answers can be tied together.
async fn request_id(req: Request, next: Next) -> Response<Body> {
    let id = req.headers().get("x-request-id").cloned();
    let mut r = next.run(req).await;
    if let Some(id) = id {
        r.headers_mut().insert("x-request-id", id);
    }
    r
}

fn authorized(auth: &FhirAuth, headers: &HeaderMap) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    match auth {
        FhirAuth::Bearer(t) => given.strip_prefix("Bearer ") == Some(t.as_str()),
        FhirAuth::Basic { username, password } => {
            use base64::Engine as _;
            let want =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            given.strip_prefix("Basic ") == Some(want.as_str())
        }
    }
}

fn too_large(limit: usize) -> FhirError {
    FhirError::new(
        413,
        "too-costly",
        format!("the request body exceeds the sandbox's limit of {limit} bytes"),
    )
}

/// Everything that is not an admin route: the FHIR API, the Jitsi token service and the
/// Notification API (their paths are configurable, so they are matched here).
async fn services(State(app): State<Arc<App>>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let Some(service) = service_of(&app.config, &path) else {
        return crate::jsonapi::error(404, format!("nothing at '{path}'"));
    };
    let limit = app.config.max_body_bytes;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return match service {
            Service::Fhir => error_response(&too_large(limit)),
            _ => crate::jsonapi::error(413, too_large(limit).to_string()),
        };
    };
    match service {
        Service::Fhir => {
            if let Some(auth) = &app.config.fhir_auth {
                if !authorized(auth, &parts.headers) {
                    let mut r = error_response(&FhirError::new(
                        401,
                        "login",
                        "the FHIR API needs credentials (Authorization header)",
                    ));
                    let challenge = match auth {
                        FhirAuth::Bearer(_) => "Bearer realm=\"hie-sandbox\"",
                        FhirAuth::Basic { .. } => "Basic realm=\"hie-sandbox\"",
                    };
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                    return r;
                }
            }
            let base = app.fhir_base(Some(&parts.headers));
            let below = &path[app.config.fhir_path.len()..];
            fhir::http::handle(
                &app.engine,
                &FhirRequest {
                    method: &parts.method,
                    path: below.trim_start_matches('/'),
                    query: parts.uri.query(),
                    headers: &parts.headers,
                    body: &bytes,
                    base: &base,
                },
            )
        }
        Service::Jitsi => app
            .jitsi
            .handle(&parts.method, &path[JITSI_PATH.len()..], &bytes),
        Service::Notify => app.notify.handle(
            &parts.method,
            &path[NOTIFY_PATH.len()..],
            &parts.headers,
            &bytes,
        ),
    }
}

/// The router of a sandbox.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .nest(ADMIN_PATH, crate::admin::router())
        .fallback(services)
        .layer(middleware::from_fn_with_state(app.clone(), faults))
        .layer(middleware::from_fn(request_id))
        .with_state(app)
}

/// A plain status answer (admin endpoints).
pub(crate) fn status(code: StatusCode) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
