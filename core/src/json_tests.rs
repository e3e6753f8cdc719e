//! The JSON every binding shows of the SDK's results: one golden document per type, with the
//! camelCase names and the FHIR values embedded byte for byte as `fhir::to_json` writes them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::fhir::{self, Encounter, ReadOptions, ReadWarning, Resource, WarningKind};
use crate::hie::{
    BundleOutcome, Deleted, EntryOutcome, Fetched, HistoryEntry, HistoryPage, SearchPage,
    WriteKind, Written,
};
use crate::jitsi::{Join, Role};
use crate::listener::{
    Coordinates, Disposition, Failure as ListenerFailure, FailureReason, MetricsSnapshot,
    PartitionLag,
};
use crate::mycore::{Issue, Report, Severity, SlotQuota, VcEncounter};
use crate::notify::Sent;
use crate::vc::{Booked, Started, Step};
use crate::{Error, ErrorKind};

/// Text with a decimal whose digits JSON numbers would lose and an element the model does not
/// know: both must come out exactly as the FHIR writer writes them.
pub(crate) const PATIENT: &str =
    r#"{"resourceType":"Patient","id":"p1","gender":"female","x-local":1.50}"#;

pub(crate) fn patient() -> Resource {
    fhir::read_str::<Resource>(PATIENT, ReadOptions::strict())
        .unwrap()
        .value
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn warning() -> ReadWarning {
    ReadWarning {
        kind: WarningKind::UnknownElement,
        location: "Patient.x-local".to_owned(),
        message: "kept".to_owned(),
    }
}

#[test]
fn embedded_resources_are_the_fhir_writers_bytes() {
    let p = patient();
    let fetched = Fetched {
        resource: Box::new(p.clone()),
        etag: Some("W/\"2\"".to_owned()),
        version_id: Some("2".to_owned()),
        last_modified: None,
        warnings: vec![],
        request_id: "r1".to_owned(),
    };
    let text = json(&fetched);
    assert!(text.contains(&fhir::to_json(&p)), "{text}");
    assert!(text.contains(r#""x-local":1.50"#), "{text}");
    assert_eq!(
        text,
        format!(
            r#"{{"resource":{},"etag":"W/\"2\"","versionId":"2","lastModified":null,"warnings":[],"requestId":"r1"}}"#,
            fhir::to_json(&p)
        )
    );
}

#[test]
fn written_golden() {
    let w = Written {
        status: 201,
        kind: WriteKind::Created,
        id: Some("p1".to_owned()),
        version_id: Some("1".to_owned()),
        location: Some("http://h/fhir/Patient/p1/_history/1".to_owned()),
        etag: Some("W/\"1\"".to_owned()),
        last_modified: None,
        resource: Some(Box::new(patient())),
        outcome: None,
        warnings: vec![warning()],
        body_error: Some(Arc::new(Error::new(ErrorKind::Decode, "bad body"))),
        request_id: "r2".to_owned(),
    };
    assert_eq!(
        json(&w),
        format!(
            concat!(
                r#"{{"status":201,"kind":"created","id":"p1","versionId":"1","#,
                r#""location":"http://h/fhir/Patient/p1/_history/1","etag":"W/\"1\"","lastModified":null,"#,
                r#""resource":{},"outcome":null,"#,
                r#""warnings":[{{"kind":"unknown_element","location":"Patient.x-local","message":"kept"}}],"#,
                r#""bodyError":{{"kind":"decode","message":"bad body","httpStatus":null,"operationOutcome":null,"#,
                r#""report":null,"location":null,"requestId":null,"retryAfterMs":null,"retryable":false,"#,
                r#""step":null,"completedSteps":[]}},"requestId":"r2"}}"#
            ),
            PATIENT
        )
    );
}

#[test]
fn deleted_golden() {
    let d = Deleted {
        status: 204,
        outcome: None,
        request_id: "r3".to_owned(),
    };
    assert_eq!(
        json(&d),
        r#"{"status":204,"outcome":null,"requestId":"r3"}"#
    );
}

fn search_page(n: &str, next: Option<&str>) -> SearchPage<Resource> {
    SearchPage {
        matches: vec![patient()],
        included: vec![],
        outcome: None,
        total: Some(2),
        next: next.map(str::to_owned),
        pages: 1,
        warnings: vec![],
        request_id: n.to_owned(),
    }
}

#[test]
fn search_pages_merge_and_golden() {
    let merged = SearchPage::merge([
        search_page("r4", Some("http://h/fhir/Patient?page=2")),
        search_page("r5", None),
    ])
    .unwrap();
    assert_eq!(
        json(&merged),
        format!(
            r#"{{"matches":[{PATIENT},{PATIENT}],"included":[],"outcome":null,"total":2,"next":null,"pages":2,"warnings":[],"requestId":"r4"}}"#
        )
    );
    assert!(SearchPage::<Resource>::merge([]).is_none());
}

#[test]
fn history_golden_says_which_versions_are_deletes() {
    let entry = |resource: Option<Resource>, method: &str, status: u16| HistoryEntry {
        resource,
        full_url: None,
        method: Some(fhir::HttpVerb::from_code(method)),
        request_url: Some("Patient/p1".to_owned()),
        status: Some(status),
        version_id: None,
        last_modified: None,
    };
    let page = HistoryPage {
        entries: vec![
            entry(None, "DELETE", 204),
            entry(Some(patient()), "PUT", 200),
        ],
        total: None,
        next: None,
        pages: 1,
        warnings: vec![],
        request_id: "r6".to_owned(),
    };
    assert_eq!(
        json(&page),
        format!(
            concat!(
                r#"{{"entries":[{{"resource":null,"fullUrl":null,"method":"DELETE","requestUrl":"Patient/p1","status":204,"versionId":null,"lastModified":null,"deleted":true}},"#,
                r#"{{"resource":{},"fullUrl":null,"method":"PUT","requestUrl":"Patient/p1","status":200,"versionId":null,"lastModified":null,"deleted":false}}],"#,
                r#""total":null,"next":null,"pages":1,"warnings":[],"requestId":"r6"}}"#
            ),
            PATIENT
        )
    );
}

#[test]
fn bundle_outcome_golden() {
    let b = BundleOutcome {
        kind: Some(fhir::BundleType::TransactionResponse),
        entries: vec![EntryOutcome {
            index: 0,
            method: Some(fhir::HttpVerb::Put),
            url: Some("Slot/s1".to_owned()),
            status: 409,
            status_text: "409 Conflict".to_owned(),
            location: None,
            id: None,
            version_id: None,
            etag: None,
            last_modified: None,
            outcome: None,
            resource: None,
        }],
        request_id: "r7".to_owned(),
    };
    assert_eq!(
        json(&b),
        concat!(
            r#"{"kind":"transaction-response","success":false,"entries":[{"index":0,"method":"PUT","url":"Slot/s1","#,
            r#""status":409,"statusText":"409 Conflict","location":null,"id":null,"versionId":null,"etag":null,"#,
            r#""lastModified":null,"outcome":null,"resource":null}],"requestId":"r7"}"#
        )
    );
}

fn report() -> Report {
    Report {
        issues: vec![Issue {
            severity: Severity::Error,
            code: "required",
            rule: "vc-token-required",
            location: "Appointment.identifier".to_owned(),
            message: "no token".to_owned(),
            profile: None,
        }],
    }
}

#[test]
fn report_and_warning_golden() {
    assert_eq!(
        json(&report()),
        concat!(
            r#"{"valid":false,"errors":1,"warnings":0,"summary":"Appointment.identifier: no token","#,
            r#""issues":[{"severity":"error","code":"required","rule":"vc-token-required","#,
            r#""location":"Appointment.identifier","message":"no token","source":"workflow"}]}"#
        )
    );
    let w = warning();
    let text = json(&w);
    assert_eq!(
        text,
        r#"{"kind":"unknown_element","location":"Patient.x-local","message":"kept"}"#
    );
    assert_eq!(serde_json::from_str::<ReadWarning>(&text).unwrap(), w);
}

#[test]
fn error_info_golden_names_steps_the_same_way() {
    let e = Error::http(503, "try later")
        .with_retry_after(Some(Duration::from_secs(2)))
        .with_request_id("r8")
        .with_step(Step::Notify, vec![Step::PractitionerJoin, Step::Activate]);
    assert_eq!(e.step(), Some(Step::Notify));
    assert_eq!(
        json(&e),
        concat!(
            r#"{"kind":"service_unavailable","#,
            r#""message":"HTTP 503: step 'notify' failed (done: practitioner_join, activate): try later (request id r8)","#,
            r#""httpStatus":503,"operationOutcome":null,"report":null,"location":null,"requestId":"r8","#,
            r#""retryAfterMs":2000,"retryable":true,"step":"notify","#,
            r#""completedSteps":["practitioner_join","activate"]}"#
        )
    );
    let v = serde_json::to_value(Error::validation(report())).unwrap();
    assert_eq!(v["kind"], "validation");
    assert_eq!(v["report"]["issues"][0]["rule"], "vc-token-required");
}

#[test]
fn error_messages_carry_their_causes() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
    let e = Error::new(ErrorKind::Transport, "cannot reach HIE").with_source(io);
    assert_eq!(e.detailed_message(), "cannot reach HIE: refused by peer");
    assert_eq!(e.info().message, e.detailed_message());

    // A read error is said once, with its location.
    let read = crate::fhir::read_str::<crate::fhir::Resource>("{", Default::default()).unwrap_err();
    let e = Error::from(read.clone());
    assert_eq!(
        e.detailed_message(),
        format!("could not read FHIR JSON: {} (at $)", read.message)
    );
}

#[test]
fn metrics_golden() {
    let m = MetricsSnapshot {
        uptime: Duration::from_millis(1500),
        received: 5,
        handled: 3,
        filtered: 1,
        decode_errors: 1,
        handler_latency: crate::listener::LatencySummary {
            count: 3,
            mean: Duration::from_micros(250),
            p50: Duration::from_micros(200),
            p90: Duration::from_micros(400),
            p99: Duration::from_micros(400),
            max: Duration::from_micros(410),
        },
        partitions: vec![PartitionLag {
            topic: "vc".to_owned(),
            partition: 0,
            lag: Some(2),
            lag_stored: Some(1),
            high_watermark: Some(10),
            committed_offset: Some(8),
        }],
        ..MetricsSnapshot::default()
    };
    assert_eq!(
        json(&m),
        concat!(
            r#"{"uptimeMs":1500,"received":5,"handled":3,"filtered":1,"deduplicated":0,"decodeErrors":1,"#,
            r#""handlerFailures":0,"retries":0,"deadLettered":0,"deadLetterFailures":0,"sourceErrors":0,"#,
            r#""processed":5,"messagesPerSecond":0.0,"averageMessagesPerSecond":0.0,"#,
            r#""handlerLatencyUs":{"count":3,"mean":250,"p50":200,"p90":400,"p99":400,"max":410},"#,
            r#""totalLag":2,"partitions":[{"topic":"vc","partition":0,"lag":2,"lagStored":1,"#,
            r#""highWatermark":10,"committedOffset":8}]}"#
        )
    );
}

pub(crate) const ENCOUNTER: &str = concat!(
    r#"{"resourceType":"Encounter","id":"e1","meta":{"versionId":"3"},"identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"tok-1"}],"#,
    r#""status":"arrived","class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"},"#,
    r#""serviceType":{"coding":[{"system":"http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core","code":"VCI"}]},"#,
    r#""subject":{"reference":"Patient/p1"}}"#
);

pub(crate) fn encounter() -> Encounter {
    fhir::read_str::<Encounter>(ENCOUNTER, ReadOptions::strict())
        .unwrap()
        .value
}

pub(crate) fn vc_golden() -> String {
    concat!(
        r#"{"id":"e1","versionId":"3","type":"VCI","token":"tok-1","encounterNumber":null,"status":"arrived","#,
        r#""patient":{"reference":"Patient/p1"},"practitioners":[],"organisation":null,"appointments":[],"period":null}"#
    )
    .to_owned()
}

#[test]
fn vc_view_golden() {
    let vc = VcEncounter::from_encounter(&encounter()).unwrap();
    assert_eq!(json(&vc), vc_golden());
}

#[test]
fn listener_failure_golden() {
    let f = ListenerFailure {
        reason: FailureReason::Decode(crate::listener::DecodeErrorKind::NotJson),
        error: Error::new(ErrorKind::Decode, "not JSON").with_location("byte 0"),
        coordinates: Some(Coordinates::new("vc", 0, 7)),
        attempts: 0,
        disposition: Disposition::DeadLettered {
            topic: "vc-dlq".to_owned(),
        },
        message: None,
    };
    assert_eq!(
        json(&f),
        concat!(
            r#"{"reason":"decode/not_json","kind":"decode","message":"not JSON","location":"byte 0","#,
            r#""topic":"vc","partition":0,"offset":7,"attempts":0,"disposition":"dead_lettered","#,
            r#""deadLetterTopic":"vc-dlq"}"#
        )
    );
}

fn join() -> Join {
    Join::new(
        Role::Practitioner,
        Some("room-1".to_owned()),
        "https://meet.example/room-1?jwt=SECRET.JWT".to_owned(),
        "SECRET.JWT".to_owned(),
        Some(std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000)),
    )
}

#[test]
fn joins_serialize_their_credentials_and_debug_never_does() {
    let j = join();
    assert_eq!(
        json(&j),
        r#"{"role":"practitioner","room":"room-1","url":"https://meet.example/room-1?jwt=SECRET.JWT","token":"SECRET.JWT","expiresAtMs":1700000000000}"#
    );
    let started = Started {
        encounter: VcEncounter::from_encounter(&encounter()).unwrap(),
        practitioner_join: j,
        activated_now: true,
        notified: vec!["950728106051".to_owned()],
        already_notified: vec![],
        sent: Some(Sent {
            status: 200,
            request_id: "r9".to_owned(),
            response: Some(json!({"ok": true})),
        }),
    };
    let text = json(&started);
    assert!(
        text.starts_with(&format!(
            r#"{{"encounter":{},"practitionerJoin":{{"role":"practitioner""#,
            vc_golden()
        )),
        "{text}"
    );
    assert!(
        text.ends_with(r#""activatedNow":true,"notified":["950728106051"],"alreadyNotified":[],"sent":{"status":200,"requestId":"r9","response":{"ok":true}}}"#),
        "{text}"
    );
    let debug = format!("{started:?}");
    assert!(
        !debug.contains("SECRET") && !debug.contains("tok-1"),
        "{debug}"
    );
}

#[test]
fn booked_golden() {
    let b = Booked {
        appointment_id: "a1".to_owned(),
        slot: Some((
            "s1".to_owned(),
            SlotQuota {
                quota: 5,
                available: 4,
            },
        )),
        outcome: None,
    };
    assert_eq!(
        json(&b),
        r#"{"appointmentId":"a1","slot":{"id":"s1","quota":5,"available":4},"outcome":null}"#
    );
}
