//! The VC workflow end to end on the embedded sandbox — every step asserted — through the
//! in-memory source and through a real Kafka broker, and its failures mid-flow.

use hie_vc::fhir::{Encounter, Resource};
use hie_vc::mycore;
use hie_vc::vc::Step;
use hie_vc::ErrorKind;
use hie_vc_cli::demo::{self, DemoOptions, DemoReport, Timeline};
use hie_vc_sandbox::{Faults, KafkaTarget, Sandbox, SandboxConfig, Service};
use hie_vc_test_support::kafka as k;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn assert_flows(sandbox: &Sandbox, report: &DemoReport) {
    let numbers = demo::demo_patient_numbers();
    // resources stored, and valid MY Core
    for (t, n) in [
        ("Appointment", 4),
        ("Schedule", 2),
        ("Slot", 2),
        ("Encounter", 3),
    ] {
        let stored = sandbox.resources(t);
        assert_eq!(stored.len(), n, "{t}");
        for r in &stored {
            let report = mycore::validate(r);
            assert!(report.is_valid(), "{t} {:?}: {:?}", r.id(), report.issues);
        }
    }
    let slot = |id: &str| match sandbox.resource("Slot", id) {
        Some(Resource::Slot(s)) => mycore::SlotQuota::read(&s).unwrap().0,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (slot("vci-slt-1").available, slot("vce-slt-1").available),
        (0, 7)
    );
    // each Encounter delivered (and started) once
    assert_eq!(report.vci.encounters.len(), 1);
    assert_eq!(report.vce.encounters.len(), 2);
    assert_eq!(sandbox.events().len(), 3);
    // notifications with the right patient ids: one for VCI, one for the whole VCE group
    let notes = sandbox.notifications();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].patient_ids, vec![numbers[0].to_owned()]);
    assert_eq!(
        sorted(notes[1].patient_ids.clone()),
        sorted(numbers[1..].iter().map(|s| (*s).to_owned()).collect())
    );
    assert_eq!(
        report.vce.notified[1],
        Vec::<String>::new(),
        "the second VCE arrival notifies nobody again"
    );
    // the Encounters finished, with period.end, and the sessions ended
    for id in report.vci.encounters.iter().chain(&report.vce.encounters) {
        let Some(Resource::Encounter(e)) = sandbox.resource("Encounter", id) else {
            panic!("{id}")
        };
        let e: &Encounter = &e;
        assert_eq!(e.status.as_ref().unwrap().as_str(), "finished");
        assert!(e.period.as_ref().unwrap().end.is_some());
    }
    for token in [&report.vci.token, &report.vce.token] {
        let s = sandbox.jitsi_session(token).expect("session recorded");
        assert!(s.is_ended(), "{token}");
        assert_eq!(s.activations, 1);
    }
    // the VCE Encounters carry the session's token; the VCI one a new token
    for id in &report.vce.encounters {
        let Some(Resource::Encounter(e)) = sandbox.resource("Encounter", id) else {
            panic!()
        };
        assert_eq!(
            mycore::vc_token(&e.identifier),
            Some(report.vce.token.as_str())
        );
    }
    assert_ne!(report.vci.token, report.vce.token);
    assert!(!report.vci.join_url.contains(&report.vci.token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_flows_through_the_in_memory_source() {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.unwrap();
    let report = demo::run(&sandbox, &DemoOptions::default(), &mut Timeline::silent())
        .await
        .unwrap();
    assert_flows(&sandbox, &report);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_BOOTSTRAP"]
async fn both_flows_through_real_kafka() {
    let brokers = k::bootstrap();
    let topic = k::unique("vc-flow-test");
    let sandbox = Sandbox::start(
        SandboxConfig::new()
            .kafka(KafkaTarget::new(brokers.clone()))
            .topic(topic),
    )
    .await
    .unwrap();
    let opts = DemoOptions {
        kafka: Some(brokers),
        arrival_timeout: Some(std::time::Duration::from_secs(60)),
    };
    let report = demo::run(&sandbox, &opts, &mut Timeline::silent())
        .await
        .unwrap();
    assert_flows(&sandbox, &report);
    sandbox.shutdown().await;
}

async fn checked_in(sandbox: &Sandbox, n: u32) -> (hie_vc::vc::VirtualConsultation, Encounter) {
    let vc = demo::prepare(sandbox).await.unwrap();
    let appt = demo::book_vci(&vc, n).await.unwrap();
    let c = sandbox.check_in(&appt).await.unwrap();
    (vc, c.encounter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_api_down_names_the_step_and_start_resumes_without_double_notifying() {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.unwrap();
    let (vc, enc) = checked_in(&sandbox, 1).await;
    sandbox.set_faults(Service::Notify, Faults::down()).unwrap();
    let err = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::Notify), "{err}");
    assert_eq!(
        err.completed_steps(),
        [Step::PractitionerJoin, Step::Activate, Step::FindPatients]
    );
    assert!(err.is_retryable(), "{err:?}");
    assert!(sandbox.notifications().is_empty());
    // The caller retries the idempotent step; a 503 (the API refused before acting) is
    // retried by the Notification client itself, and the patient is notified once.
    sandbox
        .set_faults(Service::Notify, Faults::fail_next(1, 503))
        .unwrap();
    let started = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap();
    assert_eq!(sandbox.stats(Service::Notify).failed, 1);
    assert_eq!(
        started.notified,
        vec![demo::demo_patient_numbers()[0].to_owned()]
    );
    assert!(!started.activated_now, "activated by the first attempt");
    let again = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap();
    assert!(again.notified.is_empty() && again.already_notified.len() == 1);
    assert_eq!(sandbox.notifications().len(), 1);
    assert_eq!(
        sandbox
            .jitsi_session(&started.encounter.token.clone().unwrap())
            .unwrap()
            .activations,
        1
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitsi_down_fails_before_anyone_is_notified() {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.unwrap();
    let (vc, enc) = checked_in(&sandbox, 2).await;
    sandbox.set_faults(Service::Jitsi, Faults::down()).unwrap();
    let err = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::PractitionerJoin), "{err}");
    assert!(err.completed_steps().is_empty());
    assert!(sandbox.notifications().is_empty());
    sandbox.clear_faults();
    let started = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap();
    assert_eq!(started.notified.len(), 1);
    // finishing with Jitsi down: the Encounter is finished, the end step names itself
    sandbox.set_faults(Service::Jitsi, Faults::down()).unwrap();
    let id = enc.id.as_ref().unwrap().as_str().to_owned();
    let err = vc.finish(&id).await.unwrap_err();
    assert_eq!(err.step(), Some(Step::EndSession));
    assert_eq!(err.completed_steps(), [Step::FinishEncounter]);
    let versions = sandbox.version_count("Encounter", &id);
    sandbox.clear_faults();
    let fin = vc.finish(&id).await.unwrap();
    assert!(fin.written.is_none(), "already finished: not written again");
    assert_eq!(sandbox.version_count("Encounter", &id), versions);
    assert!(sandbox
        .jitsi_session(&started.encounter.token.unwrap())
        .unwrap()
        .is_ended());
    let fin = vc.finish(&id).await.unwrap();
    assert!(fin.written.is_none() && fin.ended.is_none());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_vc_encounter_is_refused_with_a_typed_error() {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.unwrap();
    let (vc, mut enc) = checked_in(&sandbox, 3).await;
    enc.identifier.clear();
    enc.class = Some(hie_vc::fhir::Coding::new(
        "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core",
        "AMB",
        None,
    ));
    enc.service_type = None;
    let err = vc
        .start(&enc, &demo::demo_practitioner(), &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("not a virtual consultation"),
        "{err}"
    );
    sandbox.shutdown().await;
}
