//! `GET [base]/metadata`: the CapabilityStatement, generated from the same tables the server
//! runs on (types, search parameters), so it never advertises what is not implemented.

use hie_vc::mycore::consts::profile_url;
use serde_json::{json, Value};

use super::params::{self, Kind};
use super::store::{instant_text, RESOURCE_TYPES};
use super::Settings;

/// The CapabilityStatement JSON.
pub(crate) fn statement(settings: &Settings, base: &str) -> String {
    let profile_base = settings.profile_base.as_str();
    let mut interactions = vec![
        "read",
        "vread",
        "update",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    ];
    if settings.allow_delete {
        interactions.push("delete");
    }
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|rt| {
            let search: Vec<Value> = params::common()
                .iter()
                .chain(params::of_type(rt))
                .map(|p| {
                    json!({
                        "name": p.name,
                        "type": p.kind.fhir_type(),
                        "documentation": p.doc,
                    })
                })
                .collect();
            let includes: Vec<String> = params::of_type(rt)
                .iter()
                .filter(|p| matches!(p.kind, Kind::Reference(_)))
                .map(|p| format!("{rt}:{}", p.name))
                .collect();
            json!({
                "type": rt,
                "profile": profile_url(profile_base, rt),
                "interaction": interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchInclude": includes,
                "searchParam": search,
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant_text(time::OffsetDateTime::now_utc()),
        "publisher": "hie-vc",
        "kind": "instance",
        "software": {
            "name": "hie-vc-sandbox (HIE emulator, not HIE)",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "implementation": {
            "description": "In-memory emulator of the Malaysian HIE FHIR API for the VC workflow (MY Core). Not a production server.",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "MY Core validation on every write (422 + OperationOutcome); references to stored types must resolve (422); unknown search parameters are refused (400) unless Prefer: handling=lenient.",
            "resource": resources,
            "interaction": [
                {"code": "transaction"},
                {"code": "batch"},
                {"code": "history-system"},
            ],
        }],
    })
    .to_string()
}
