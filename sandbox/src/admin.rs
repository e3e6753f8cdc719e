//! The admin endpoints under `/sandbox` (never subject to faults): check-in, fault switches and
//! what was recorded, for tests and tools that drive a sandbox over HTTP.
//!
//! | endpoint | does |
//! |---|---|
//! | `POST /sandbox/check-in/{appointmentId}` (optional `{"patient": "<id>"}`) | check-in: `201` + the Encounter (`200` when already checked in) |
//! | `POST /sandbox/republish/{encounterId}` | publishes the Encounter's current version again |
//! | `GET /sandbox/faults` · `PUT /sandbox/faults/{service}` · `DELETE /sandbox/faults` | fault switches ([`Faults`] as JSON) |
//! | `GET /sandbox/stats` | requests / injected failures per service, resources per type |
//! | `GET /sandbox/notifications` | every notification accepted |
//! | `GET /sandbox/jitsi/sessions` | every Jitsi session and its joins |
//! | `GET /sandbox/events` | every Encounter published |
//! | `POST /sandbox/notify/revoke-tokens` | invalidates the Notification API tokens |

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Request, State};
use axum::http::{header, Response, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Value};

use crate::app::{status, App};
use crate::error::Error;
use crate::faults::{Faults, Service};
use crate::fhir::http::{error_response, FHIR_JSON};
use crate::jsonapi::{error, reply};

fn error_reply(e: &Error) -> Response<Body> {
    match e {
        Error::Fhir(f) => error_response(f),
        other => error(other.status(), other.to_string()),
    }
}

async fn check_in(
    State(app): State<Arc<App>>,
    Path(appointment_id): Path<String>,
    req: Request,
) -> Response<Body> {
    let Ok(body) = to_bytes(req.into_body(), 64 * 1024).await else {
        return error(413, "the check-in body is too large");
    };
    let patient = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v.get("patient").and_then(Value::as_str).map(str::to_owned),
            Err(e) => return error(400, format!("the body is not JSON: {e}")),
        }
    };
    match crate::checkin::check_in(&app, &appointment_id, patient.as_deref()).await {
        Ok(c) => {
            let base = app.fhir_base(None);
            Response::builder()
                .status(if c.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                })
                .header(header::CONTENT_TYPE, FHIR_JSON)
                .header(
                    header::LOCATION,
                    format!("{base}/Encounter/{}", c.encounter_id()),
                )
                .body(Body::from(hie_vc::fhir::to_json(&c.encounter)))
                .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Err(e) => error_reply(&e),
    }
}

async fn republish(
    State(app): State<Arc<App>>,
    Path(encounter_id): Path<String>,
) -> Response<Body> {
    match crate::checkin::republish(&app, &encounter_id).await {
        Ok(d) => reply(200, &json!(d)),
        Err(e) => error_reply(&e),
    }
}

async fn get_faults(State(app): State<Arc<App>>) -> Response<Body> {
    let mut out = serde_json::Map::new();
    for s in Service::ALL {
        out.insert(s.as_str().to_owned(), json!(app.faults.get(s)));
    }
    reply(200, &Value::Object(out))
}

async fn put_faults(
    State(app): State<Arc<App>>,
    Path(service): Path<String>,
    req: Request,
) -> Response<Body> {
    let Some(service) = Service::parse(&service) else {
        return error(404, format!("no service '{service}' (fhir, jitsi, notify)"));
    };
    let Ok(body) = to_bytes(req.into_body(), 64 * 1024).await else {
        return error(413, "the body is too large");
    };
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return error(400, format!("not a fault setting: {e}")),
    };
    if let Err(e) = faults.check() {
        return error(400, e);
    }
    app.faults.set(service, faults.clone());
    reply(200, &json!(faults))
}

async fn clear_faults(State(app): State<Arc<App>>) -> Response<Body> {
    app.faults.clear();
    status(StatusCode::NO_CONTENT)
}

async fn stats(State(app): State<Arc<App>>) -> Response<Body> {
    let services = app.faults.all_stats();
    let counts = app.engine.store().counts();
    reply(
        200,
        &json!({
            "services": services,
            "resources": counts,
            "notifications": app.notify.records().len(),
            "jitsiSessions": app.jitsi.sessions().len(),
            "events": app.events.lock().unwrap_or_else(|p| p.into_inner()).len(),
        }),
    )
}

async fn notifications(State(app): State<Arc<App>>) -> Response<Body> {
    reply(200, &json!(app.notify.records()))
}

async fn sessions(State(app): State<Arc<App>>) -> Response<Body> {
    reply(200, &json!(app.jitsi.sessions()))
}

async fn events(State(app): State<Arc<App>>) -> Response<Body> {
    let events = app.events.lock().unwrap_or_else(|p| p.into_inner()).clone();
    reply(200, &json!(events))
}

async fn revoke(State(app): State<Arc<App>>) -> Response<Body> {
    app.notify.revoke_tokens();
    status(StatusCode::NO_CONTENT)
}

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/check-in/{appointment_id}", post(check_in))
        .route("/republish/{encounter_id}", post(republish))
        .route("/faults", get(get_faults).delete(clear_faults))
        .route("/faults/{service}", put(put_faults))
        .route("/stats", get(stats))
        .route("/notifications", get(notifications))
        .route("/jitsi/sessions", get(sessions))
        .route("/events", get(events))
        .route("/notify/revoke-tokens", post(revoke))
}
