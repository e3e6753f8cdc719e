//! Inputs shared by the benchmarks.

use serde_json::{json, Value};

/// A VC Encounter of about 2 KB, as HIE publishes it on check-in.
pub fn vc_encounter(i: usize) -> Value {
    json!({
        "resourceType": "Encounter",
        "id": format!("vc-enc-{i}"),
        "meta": {"versionId": "1", "lastUpdated": "2023-07-07T17:50:35.123+08:00", "source": "http://provider.hie.moh.gov.my",
                 "profile": ["http://fhir.hie.moh.gov.my/StructureDefinition/Encounter-my-core"]},
        "extension": [{"url": "http://fhir.hie.moh.gov.my/StructureDefinition/vr-status-my-core",
                       "valueCodeableConcept": {"coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/vr-status-my-core", "code": "waiting"}]}}],
        "identifier": [
            {"system": "http://fhir.hie.moh.gov.my/sid/vc-token", "value": format!("19d3b96a-6c4d-485a-9514-{i:012}")},
            {"system": "http://fhir.hie.moh.gov.my/sid/encounter-id", "value": format!("HTJ-ENC-23{i:08}")}
        ],
        "status": "arrived",
        "statusHistory": [{"status": "arrived", "period": {"start": "2023-07-07T17:50:00+08:00", "end": "2023-07-07T18:20:00+08:00"}}],
        "class": {"system": "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core", "code": "VR", "display": "Virtual"},
        "type": [{"coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/specialty-my-core", "code": "86", "display": "Addiction & Substance Abuse"}]}],
        "serviceType": {"coding": [{"system": "http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core", "code": "VCI", "display": "Individual Virtual Consultation"}]},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority", "code": "R", "display": "Routine"}]},
        "subject": {"reference": "Patient/48e364a3-aa9b-4364-8458-d75c1591ef0d", "type": "Patient", "display": "SIVAKUMAR A/L ARUMUGAM"},
        "participant": [
            {"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PPRF", "display": "primary performer"}]}],
             "individual": {"reference": "PractitionerRole/7514c6ca-e4fe-4278-9d59-a68184d3be00", "type": "PractitionerRole", "display": "DR SYAHNAZWAN AZIEZ"}},
            {"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "ATND", "display": "attender"}]}],
             "individual": {"identifier": {"system": "http://fhir.hie.moh.gov.my/sid/mmc-no", "value": "81751"}, "display": "DR SAIFUL"}}
        ],
        "appointment": [{"reference": format!("Appointment/vci-app-{i}")}],
        "period": {"start": "2023-07-07T17:50:35+08:00"},
        "serviceProvider": {"reference": "Organization/11-05060009", "display": "Hospital Tuanku Ja'afar, Seremban"}
    })
}

/// A searchset Bundle of VC Encounters of at least `bytes` bytes.
pub fn searchset(bytes: usize) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < bytes {
        let e = vc_encounter(i);
        size += serde_json::to_vec(&e).map(|v| v.len()).unwrap_or(0) + 120;
        entries.push(json!({"fullUrl": format!("https://fhir.hie.moh.gov.my/baseR4/Encounter/vc-enc-{i}"), "resource": e, "search": {"mode": "match"}}));
        i += 1;
    }
    serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "searchset", "total": i,
        "link": [{"relation": "self", "url": "https://fhir.hie.moh.gov.my/baseR4/Encounter?class=VR"}], "entry": entries}))
    .unwrap_or_default()
}
