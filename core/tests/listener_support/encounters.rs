//! Synthetic MY Core VC Encounters for the listener tests, examples and benchmark: realistic
//! shape and size (~1.5 KB), unique id per number, fake people.

/// A VC Encounter (VCI, or VCE for odd `n`) with id `enc-{n}` and versionId `version`.
pub fn vc_encounter(n: u64, version: u32) -> String {
    let (code, display) = if n % 2 == 0 {
        ("VCI", "Individual Virtual Consultation")
    } else {
        ("VCE", "Education Virtual Consultation")
    };
    format!(
        concat!(
            r#"{{"resourceType":"Encounter","id":"enc-{n}","meta":{{"versionId":"{v}","lastUpdated":"2024-03-05T10:15:30.123+08:00","source":"#,
            r#""http://hie.moh.gov.my/vc","profile":["http://fhir.hie.moh.gov.my/StructureDefinition/Encounter-my-core"]}},"#,
            r#""extension":[{{"url":"http://fhir.hie.moh.gov.my/StructureDefinition/vr-status-my-core","valueCodeableConcept":{{"coding":[{{"code":"waiting","display":"Waiting"}}]}}}}],"#,
            r#""identifier":[{{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"{n:08x}-6c4d-485a-9514-cbf6ccfeed6b"}},"#,
            r#"{{"system":"http://fhir.hie.moh.gov.my/sid/encounter-id","value":"HTJ-ENC-{n:010}"}}],"#,
            r#""status":"arrived","#,
            r#""class":{{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR","display":"Virtual"}},"#,
            r#""type":[{{"coding":[{{"system":"http://fhir.hie.moh.gov.my/CodeSystem/specialty-my-core","code":"86","display":"Addiction & Substance Abuse"}}]}}],"#,
            r#""serviceType":{{"coding":[{{"system":"http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core","code":"{code}","display":"{display}"}}]}},"#,
            r#""subject":{{"reference":"Patient/pt-{n}","type":"Patient","display":"Test Patient {n}"}},"#,
            r#""participant":[{{"type":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PPRF","display":"primary performer"}}]}}],"#,
            r#""individual":{{"reference":"Practitioner/pr-{p}","type":"Practitioner","display":"Dr Test {p}"}}}}],"#,
            r#""appointment":[{{"reference":"Appointment/ap-{n}"}}],"period":{{"start":"2024-03-05T10:15:30+08:00"}},"#,
            r#""serviceProvider":{{"reference":"Organization/11-05060009","display":"Hospital Test"}}}}"#
        ),
        n = n,
        v = version,
        p = n % 97,
        code = code,
        display = display
    )
}

/// A non-VC (outpatient) Encounter.
pub fn outpatient_encounter(n: u64) -> String {
    format!(
        r#"{{"resourceType":"Encounter","id":"amb-{n}","meta":{{"versionId":"1"}},"status":"finished","class":{{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"AMB"}},"subject":{{"reference":"Patient/pt-{n}"}}}}"#
    )
}

/// A Bundle with a VC Encounter and its Patient.
pub fn vc_bundle(n: u64) -> String {
    format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"fullUrl":"urn:uuid:enc-{n}","resource":{}}},{{"fullUrl":"urn:uuid:pt-{n}","resource":{{"resourceType":"Patient","id":"pt-{n}","gender":"female","birthDate":"1990-01-01"}}}}]}}"#,
        vc_encounter(n, 1)
    )
}

/// The number `n` of an id `enc-{n}`.
pub fn number_of(id: &str) -> Option<u64> {
    id.strip_prefix("enc-")?.parse().ok()
}
