//! `client` (client.json) and `vc` (vc.json): steps against an embedded sandbox — HIE client
//! calls, fault switches, VC workflow steps, check-ins — each giving `{"result"}` or
//! `{"error"}`; the case's result is `{"steps": [...]}`.

use std::sync::Arc;
use std::time::Duration;

use hie_vc::fhir::{self, Appointment, Encounter, ReadOptions, Resource, Schedule, Slot};
use hie_vc::hie::HieClient;
use hie_vc::jitsi::Participant;
use hie_vc::notify::NotificationClient;
use hie_vc::settings::Settings;
use hie_vc::vc::VirtualConsultation;
use hie_vc_sandbox::{EventPayload, Faults, Sandbox, SandboxConfig, Service, ServiceStats};
use serde_json::{json, Value};

use crate::json::Json;
use crate::ops_fhir::{error, to_json};
use crate::spec::{array, check_keys, only_document, opt_bool, opt_str, pairs};

/// Longest a step may take (a hung step fails the case instead of the whole suite).
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// The steps of the `client` op; `vc` takes these and [`VC_STEPS`].
const CLIENT_STEPS: [&str; 9] = [
    "read",
    "create",
    "update",
    "delete",
    "search",
    "faults",
    "clear_faults",
    "stats",
    "records",
];
const VC_STEPS: [&str; 6] = [
    "create_session",
    "schedule",
    "book",
    "check_in",
    "start",
    "finish",
];

fn sandbox_config(o: &Json) -> Result<SandboxConfig, String> {
    check_keys(
        o,
        "sandbox",
        &[
            "payload",
            "validate",
            "check_references",
            "require_profile_claim",
            "allow_delete",
        ],
    )?;
    let mut c = SandboxConfig::new();
    if let Some(p) = opt_str(o, "payload")? {
        c = c.payload(p.parse::<EventPayload>().map_err(|e| e.to_string())?);
    }
    if let Some(v) = opt_bool(o, "validate")? {
        c = c.validate(v);
    }
    if let Some(v) = opt_bool(o, "check_references")? {
        c = c.check_references(v);
    }
    if let Some(v) = opt_bool(o, "require_profile_claim")? {
        c = c.require_profile_claim(v);
    }
    if let Some(v) = opt_bool(o, "allow_delete")? {
        c = c.allow_delete(v);
    }
    Ok(c)
}

/// The sandbox's own settings, then the case's `settings` (`{"section": {"key": value}}`).
fn settings(sandbox: &Sandbox, s: Option<&Json>) -> Result<Settings, String> {
    let mut loader = sandbox.settings();
    for (section, keys) in s.map(Json::members).unwrap_or_default() {
        for (key, v) in keys.members() {
            let text = match v {
                Json::Scalar(_) => v.as_str().unwrap_or_else(|| v.to_text()),
                _ => {
                    return Err(format!(
                        "settings.{section}.{key}: a string, number or boolean"
                    ))
                }
            };
            loader = loader.set(section, key, &text);
        }
    }
    loader.load().map_err(|e| format!("settings: {e}"))
}

/// A resource document, read strictly as `T` (`what` names it in errors).
fn typed<T: fhir::FhirRoot>(doc: &Json, what: &str) -> Result<T, String> {
    let bytes = only_document(doc, what)?;
    fhir::read::<T>(&bytes, ReadOptions::strict())
        .map(|r| r.value)
        .map_err(|e| format!("{what} does not read strictly: {e}"))
}

/// The resource document of a step's member `key`, read strictly as `T`.
fn resource<T: fhir::FhirRoot>(step: &Json, key: &str) -> Result<T, String> {
    typed(step.get(key).ok_or(format!("no \"{key}\""))?, key)
}

fn string(step: &Json, key: &str) -> Result<String, String> {
    opt_str(step, key)?.ok_or(format!("step \"{key}\" is required"))
}

fn outcome<T: serde::Serialize>(r: hie_vc::Result<T>) -> Value {
    match r {
        Ok(v) => json!({ "result": to_json(&v) }),
        Err(e) => error(&e),
    }
}

fn delta(now: ServiceStats, before: ServiceStats) -> Value {
    json!({
        "requests": now.requests - before.requests,
        "failed": now.failed - before.failed,
        "dropped": now.dropped - before.dropped,
    })
}

struct Run {
    sandbox: Sandbox,
    hie: HieClient,
    vc: VirtualConsultation,
    stats: Vec<ServiceStats>,
    token: Option<String>,
    encounter: Option<Encounter>,
}

impl Run {
    fn stats_now(&self) -> Vec<ServiceStats> {
        Service::ALL
            .iter()
            .map(|s| self.sandbox.stats(*s))
            .collect()
    }

    async fn step(&mut self, step: &Json) -> Result<Value, String> {
        let name = string(step, "do")?;
        let keys: &[&str] = match name.as_str() {
            "read" | "delete" => &["type", "id"],
            "create" => &["resource"],
            "update" => &["resource", "if_match"],
            "search" => &["type", "params"],
            "faults" => &["service", "faults"],
            "clear_faults" | "stats" | "records" | "create_session" | "finish" => &[],
            "schedule" => &["schedule", "slots"],
            "book" => &["appointment", "slot"],
            "check_in" => &["appointment", "patient"],
            "start" => &["practitioner"],
            other => return Err(format!("unknown step '{other}'")),
        };
        let mut allowed = vec!["do"];
        allowed.extend(keys);
        check_keys(step, &format!("step {name}"), &allowed)?;
        let hie = &self.hie;
        Ok(match name.as_str() {
            "read" => outcome(
                hie.read_type(string(step, "type")?, string(step, "id")?)
                    .send()
                    .await,
            ),
            "create" => outcome(
                hie.create(resource::<Resource>(step, "resource")?)
                    .send()
                    .await,
            ),
            "update" => {
                let mut req = hie.update(resource::<Resource>(step, "resource")?);
                if let Some(v) = opt_str(step, "if_match")? {
                    req = req.if_match(v);
                }
                outcome(req.send().await)
            }
            "delete" => outcome(
                hie.delete_type(string(step, "type")?, string(step, "id")?)
                    .send()
                    .await,
            ),
            "search" => {
                let mut req = hie.search_type(string(step, "type")?);
                for (k, v) in pairs(step, "params")? {
                    req = req.param(k, v);
                }
                outcome(req.send().await)
            }
            "faults" => {
                let service: Service = string(step, "service")?
                    .parse()
                    .map_err(|e: hie_vc::Error| e.to_string())?;
                let faults: Faults =
                    serde_json::from_value(step.get("faults").ok_or("no \"faults\"")?.to_value())
                        .map_err(|e| format!("faults: {e}"))?;
                self.sandbox
                    .set_faults(service, faults)
                    .map_err(|e| format!("faults: {e}"))?;
                json!({ "result": {} })
            }
            "clear_faults" => {
                self.sandbox.clear_faults();
                json!({ "result": {} })
            }
            "stats" => {
                let now = self.stats_now();
                let mut out = serde_json::Map::new();
                for (i, s) in Service::ALL.iter().enumerate() {
                    out.insert(s.as_str().to_owned(), delta(now[i], self.stats[i]));
                }
                self.stats = now;
                json!({ "result": out })
            }
            "records" => json!({ "result": {
                "notifications": to_json(&self.sandbox.notifications()),
                "jitsiSessions": to_json(&self.sandbox.jitsi_sessions()),
            }}),
            "create_session" => {
                let r = self.vc.create_session().await;
                if let Ok(s) = &r {
                    self.token = Some(s.token.clone());
                }
                outcome(r)
            }
            "schedule" => {
                let schedule = resource::<Schedule>(step, "schedule")?;
                let read = array(step, "slots")?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| typed::<Slot>(s, &format!("slots[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                outcome(self.vc.schedule(schedule, read).await)
            }
            "book" => {
                let appointment = resource::<Appointment>(step, "appointment")?;
                let slot = opt_str(step, "slot")?;
                outcome(self.vc.book(appointment, slot.as_deref()).await)
            }
            "check_in" => {
                let appointment = string(step, "appointment")?;
                let r = match opt_str(step, "patient")? {
                    Some(p) => self.sandbox.check_in_patient(&appointment, &p).await,
                    None => self.sandbox.check_in(&appointment).await,
                }
                .map_err(|e| format!("check-in of {appointment}: {e}"))?;
                self.encounter = Some(r.encounter.clone());
                json!({ "result": to_json(&r) })
            }
            "start" => {
                let practitioner: Participant = serde_json::from_value(
                    step.get("practitioner")
                        .ok_or("no \"practitioner\"")?
                        .to_value(),
                )
                .map_err(|e| format!("practitioner: {e}"))?;
                let enc = self
                    .encounter
                    .as_ref()
                    .ok_or("start needs a check_in step before it")?;
                outcome(self.vc.start(enc, &practitioner, &[]).await)
            }
            "finish" => {
                let enc = self
                    .encounter
                    .as_ref()
                    .ok_or("finish needs a check_in step before it")?;
                let id = enc
                    .id
                    .as_ref()
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default();
                outcome(self.vc.finish(&id).await)
            }
            _ => unreachable!("checked above"),
        })
    }
}

/// `client` and `vc`: `{"steps": [{"result"} | {"error"}, ...]}`.
pub async fn scenario(op: &str, input: &Json) -> Result<Value, String> {
    check_keys(input, "input", &["sandbox", "settings", "seed", "steps"])?;
    let empty = Json::Object(Vec::new());
    let config = sandbox_config(input.get("sandbox").unwrap_or(&empty))?;
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| format!("sandbox: {e}"))?;
    let settings = settings(&sandbox, input.get("settings"))?;
    let hie = HieClient::new(settings.hie.to_config().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let jitsi = settings.jitsi.provider().map_err(|e| e.to_string())?;
    let notifier = NotificationClient::new(settings.notify.to_config().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let vc = VirtualConsultation::builder(hie.clone())
        .jitsi(jitsi)
        .notifier(Arc::new(notifier))
        .settings(&settings.vc)
        .build()
        .map_err(|e| e.to_string())?;
    for (i, doc) in input
        .get("seed")
        .and_then(Json::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let r = typed::<Resource>(doc, &format!("seed[{i}]"))?;
        hie.update(r)
            .send()
            .await
            .map_err(|e| format!("seed[{i}] was not stored: {e}"))?;
    }
    let mut run = Run {
        stats: Vec::new(),
        sandbox,
        hie,
        vc,
        token: None,
        encounter: None,
    };
    run.stats = run.stats_now();
    let steps = array(input, "steps")?;
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let name = string(step, "do").map_err(|e| format!("steps[{i}]: {e}"))?;
        let allowed = CLIENT_STEPS.contains(&name.as_str())
            || (op == "vc" && VC_STEPS.contains(&name.as_str()));
        if !allowed {
            return Err(format!("steps[{i}]: '{name}' is not a step of the {op} op"));
        }
        let mut step = step.clone();
        if let Some(t) = &run.token {
            step = step.substitute("{{token}}", t);
        }
        if let Some(id) = run.encounter.as_ref().and_then(|e| e.id.as_ref()) {
            step = step.substitute("{{encounter}}", id.as_str());
        }
        let r = tokio::time::timeout(STEP_LIMIT, run.step(&step))
            .await
            .map_err(|_| format!("steps[{i}] ({name}) took over {STEP_LIMIT:?}"))?
            .map_err(|e| format!("steps[{i}] ({name}): {e}"))?;
        out.push(r);
    }
    run.sandbox.shutdown().await;
    Ok(json!({ "steps": out }))
}
