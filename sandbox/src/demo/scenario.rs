//! The scenario: seed the reference data, then run the VCI flow and the VCE flow, each from
//! scheduling to the end of the Jitsi session, with the listener delivering the Encounters.

use std::sync::Arc;
use std::time::Duration;

use crate::Sandbox;
use hie_vc::fhir::{
    DateTime, HealthcareService, HumanName, Id, Identifier, Patient, Practitioner, Reference,
};
use hie_vc::jitsi::{EndOutcome, Participant, RestJitsi, RestJitsiConfig};
use hie_vc::listener::{KafkaConfig, Listener};
use hie_vc::mycore::consts::{MMC_SYSTEM, MYKAD_SYSTEM};
use hie_vc::mycore::{AppointmentBuilder, ScheduleBuilder, ScheduleType, SlotBuilder, VcType};
use hie_vc::notify::{NotificationClient, NotificationConfig};
use hie_vc::vc::{Booked, Scheduled, Started, VirtualConsultation};
use hie_vc::{Error, ErrorKind, Result};
use tokio::sync::mpsc;

use super::timeline::{mask, mask_url, Timeline};

/// How the demo runs.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Consume Encounters from this Kafka cluster (the sandbox must publish to it too) instead
    /// of the in-process broker.
    pub kafka: Option<String>,
    /// How long to wait for an Encounter to arrive.
    pub arrival_timeout: Option<Duration>,
}

/// What one flow did.
#[derive(Debug, Clone, Default)]
pub struct FlowReport {
    /// The Appointment ids booked.
    pub appointments: Vec<String>,
    /// The Encounter ids that arrived, in order.
    pub encounters: Vec<String>,
    /// The session token (vc-token).
    pub token: String,
    /// Patient ids notified, per arrival (empty when already notified).
    pub notified: Vec<Vec<String>>,
    /// The practitioner's join URL with the token masked.
    pub join_url: String,
    /// Encounters PUT as finished.
    pub finished: Vec<String>,
    /// What ending the session achieved.
    pub ended: Option<EndOutcome>,
}

/// What the demo did.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    /// The VCI flow.
    pub vci: FlowReport,
    /// The VCE flow.
    pub vce: FlowReport,
}

struct Patients {
    id: &'static str,
    name: &'static str,
    mykad: &'static str,
}

const PATIENTS: [Patients; 4] = [
    Patients {
        id: "pt-siti",
        name: "SITI NUR AISYAH",
        mykad: "950728106051",
    },
    Patients {
        id: "pt-kumar",
        name: "KUMAR A/L RAJU",
        mykad: "880314085523",
    },
    Patients {
        id: "pt-mei",
        name: "TAN MEI LING",
        mykad: "910605145678",
    },
    Patients {
        id: "pt-ahmad",
        name: "AHMAD BIN SALLEH",
        mykad: "770921016789",
    },
];
const SERVICE: (&str, &str) = ("hs-addiction", "Addiction & Substance Abuse");
const PRACTITIONER: (&str, &str) = ("prac-aminah", "DR AMINAH BINTI YUSOF");

fn at(minutes: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::now_utc().to_offset(offset) + time::Duration::minutes(minutes);
    DateTime::from_offset(t).into_string()
}

async fn seed(vc: &VirtualConsultation, organization: &str) -> Result<()> {
    let hie = vc.hie();
    let hs = HealthcareService {
        id: Id::new(SERVICE.0).ok(),
        active: Some(true),
        name: Some(SERVICE.1.to_owned()),
        provided_by: Some(Reference::to("Organization", organization)),
        ..Default::default()
    };
    hie.update(hs).send().await?;
    let prac = Practitioner {
        id: Id::new(PRACTITIONER.0).ok(),
        identifier: vec![Identifier::new(MMC_SYSTEM, "81751")],
        name: vec![HumanName {
            text: Some(PRACTITIONER.1.to_owned()),
            ..Default::default()
        }],
        ..Default::default()
    };
    hie.update(prac).send().await?;
    for p in &PATIENTS {
        let patient = Patient {
            id: Id::new(p.id).ok(),
            identifier: vec![Identifier::new(MYKAD_SYSTEM, p.mykad)],
            name: vec![HumanName {
                text: Some(p.name.to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        };
        hie.update(patient).send().await?;
    }
    Ok(())
}

fn practitioner() -> Participant {
    Participant::practitioner(PRACTITIONER.0, PRACTITIONER.1)
}

/// Starts the listener (in-memory or Kafka) with the ready-made arrival handler; started
/// sessions come out of the returned channel.
fn listen(
    vc: &VirtualConsultation,
    sandbox: &Sandbox,
    opts: &DemoOptions,
) -> Result<(Arc<Listener>, mpsc::UnboundedReceiver<Started>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = vc
        .arrival_handler(|_| Some(practitioner()))
        .on_started(move |s| {
            let _ = tx.send(s.clone());
        });
    let group = format!("demo-clinic-{}", std::process::id());
    let builder = match (&opts.kafka, sandbox.broker()) {
        (Some(brokers), _) => Listener::builder().kafka(
            KafkaConfig::new(brokers.clone(), group)
                .topic(sandbox.topic())
                // The demo topic is new: look for it every second rather than every five minutes.
                .property("topic.metadata.refresh.interval.ms", "1000"),
        ),
        (None, Some(broker)) => Listener::builder().memory(&broker, &group, [sandbox.topic()]),
        (None, None) => {
            return Err(Error::config(
                "the sandbox publishes to Kafka: pass the brokers to consume from",
            ))
        }
    };
    let listener = Arc::new(
        builder
            // Leaving a group commits first; on a busy machine that can take more than the
            // default bound, and the demo would rather wait than have its offsets replayed.
            .close_timeout(Duration::from_secs(30))
            .handler(handler)
            .on_error(|f| {
                // Source-level hiccups (a topic not created yet) are retried by the client; only
                // records that could not be handled matter to the demo's reader.
                if f.coordinates.is_some() {
                    eprintln!("listener: {}", f.error);
                }
            })
            .build()?,
    );
    let l = listener.clone();
    tokio::spawn(async move {
        if let Err(e) = l.run().await {
            eprintln!("listener stopped: {e}");
        }
    });
    Ok((listener, rx))
}

async fn arrival(rx: &mut mpsc::UnboundedReceiver<Started>, opts: &DemoOptions) -> Result<Started> {
    let wait = opts.arrival_timeout.unwrap_or(Duration::from_secs(60));
    match tokio::time::timeout(wait, rx.recv()).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(Error::new(
            ErrorKind::Closed,
            "the listener stopped before the Encounter arrived",
        )),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("no Encounter arrived within {wait:?}"),
        )),
    }
}

fn started_line(t: &mut Timeline, flow: &'static str, s: &Started, source: &str) {
    let enc = s.encounter.id.as_deref().unwrap_or("?");
    t.add(
        flow,
        "5",
        "listener",
        format!(
            "Encounter/{enc} received from {source} ({}, status {})",
            s.encounter.vc_type,
            s.encounter.status.as_ref().map_or("?", |x| x.as_str())
        ),
    );
    t.add(
        flow,
        "6",
        "jitsi",
        format!(
            "practitioner join {}{}",
            mask_url(s.practitioner_join.url()),
            if s.activated_now {
                ", session activated"
            } else {
                ""
            }
        ),
    );
    if s.notified.is_empty() {
        t.add(
            flow,
            "7",
            "notify",
            format!(
                "nobody new to notify ({} already notified)",
                s.already_notified.len()
            ),
        );
    } else {
        let who: Vec<String> = s.notified.iter().map(|n| mask(n)).collect();
        t.add(
            flow,
            "7",
            "notify",
            format!(
                "{} patient(s) told the session starts: {}",
                s.notified.len(),
                who.join(", ")
            ),
        );
    }
}

/// The workflow over the sandbox's services (HIE client, Jitsi REST provider, Notification
/// client), with the demo's reference data (HealthcareService, Practitioner, Patients) stored.
pub async fn prepare(sandbox: &Sandbox) -> Result<VirtualConsultation> {
    let hie = sandbox.hie_client()?;
    let jitsi = RestJitsi::new(
        RestJitsiConfig::builder(sandbox.jitsi_base())
            .contract(sandbox.jitsi_contract().clone())
            .build()?,
    )?;
    let (email, password) = sandbox.notify_login();
    let notifier = NotificationClient::new(
        NotificationConfig::builder(sandbox.notify_base())
            .credentials(email, password.to_owned())
            .contract(sandbox.notify_contract().clone())
            .build()?,
    )?;
    let vc = VirtualConsultation::builder(hie)
        .jitsi(Arc::new(jitsi))
        .notifier(Arc::new(notifier))
        .build()?;
    seed(&vc, crate::config::DEFAULT_ORGANIZATION_ID).await?;
    Ok(vc)
}

/// Schedules and books a VCI consultation for the first demo patient (`vci-app-<n>` on
/// `vci-slt-<n>`), returning the Appointment id.
pub async fn book_vci(vc: &VirtualConsultation, n: u32) -> Result<String> {
    Ok(schedule_and_book_vci(vc, n).await?.1.appointment_id)
}

/// VCI steps 1–2: `vci-sch-<n>` + `vci-slt-<n>` (quota 1) in one transaction, then
/// `vci-app-<n>` for the first demo patient booked on that slot.
async fn schedule_and_book_vci(vc: &VirtualConsultation, n: u32) -> Result<(Scheduled, Booked)> {
    let (start, end) = (at(60), at(90));
    let (sched, slot, appt) = (
        format!("vci-sch-{n}"),
        format!("vci-slt-{n}"),
        format!("vci-app-{n}"),
    );
    let schedule = ScheduleBuilder::new(sched.clone(), VcType::Vci)
        .specialty("86")
        .schedule_type(ScheduleType::Internal)
        .healthcare_service(SERVICE.0, SERVICE.1)
        .planning_horizon(start.clone(), end.clone())
        .build()?;
    let s = SlotBuilder::new(slot.clone(), VcType::Vci)
        .schedule(sched)
        .quota(1)
        .specialty("86")
        .period(start.clone(), end.clone())
        .build()?;
    let scheduled = vc.schedule(schedule, vec![s]).await?;
    let a = AppointmentBuilder::vci(appt)
        .specialty("86")
        .healthcare_service(SERVICE.0, SERVICE.1)
        .patient(PATIENTS[0].id, PATIENTS[0].name)
        .practitioner("Practitioner", PRACTITIONER.0, PRACTITIONER.1)
        .period(start, end)
        .build()?;
    let booked = vc.book(a, Some(&slot)).await?;
    Ok((scheduled, booked))
}

/// The demo's practitioner.
pub fn demo_practitioner() -> Participant {
    practitioner()
}

/// The demo's patients' MyKad numbers, in order.
pub fn demo_patient_numbers() -> Vec<&'static str> {
    PATIENTS.iter().map(|p| p.mykad).collect()
}

/// Runs both flows on `sandbox`, recording each step in `timeline`.
pub async fn run(sandbox: &Sandbox, opts: &DemoOptions, t: &mut Timeline) -> Result<DemoReport> {
    let vc = prepare(sandbox).await?;
    t.add(
        "setup",
        "-",
        "source system",
        format!(
            "HealthcareService/{}, Practitioner/{}, {} Patients stored on the sandbox ({})",
            SERVICE.0,
            PRACTITIONER.0,
            PATIENTS.len(),
            sandbox.fhir_base()
        ),
    );

    let source = match &opts.kafka {
        Some(b) => format!("kafka {b} topic {}", sandbox.topic()),
        None => format!("memory topic {}", sandbox.topic()),
    };
    let (listener, mut rx) = listen(&vc, sandbox, opts)?;
    t.add("setup", "-", "listener", format!("listening on {source}"));
    let result = flows(&vc, sandbox, opts, t, &mut rx, &source).await;
    listener.shutdown();
    let closed = listener.close().await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn flows(
    vc: &VirtualConsultation,
    sandbox: &Sandbox,
    opts: &DemoOptions,
    t: &mut Timeline,
    rx: &mut mpsc::UnboundedReceiver<Started>,
    source: &str,
) -> Result<DemoReport> {
    let mut report = DemoReport::default();

    // ---- VCI: one patient, one practitioner ----
    let f = "VCI";
    let (s, b) = schedule_and_book_vci(vc, 1).await?;
    t.add(
        f,
        "1",
        "source system",
        format!(
            "Schedule/vci-sch-1 + Slot/vci-slt-1 (quota 1) in one transaction: {}",
            statuses(&s.outcome)
        ),
    );
    t.add(
        f,
        "2",
        "source system",
        format!(
            "Appointment/{} booked on Slot/vci-slt-1 (available now {})",
            b.appointment_id,
            b.slot.as_ref().map_or(0, |(_, q)| q.available)
        ),
    );
    report.vci.appointments.push(b.appointment_id.clone());
    let c = sandbox
        .check_in(&b.appointment_id)
        .await
        .map_err(|e| Error::new(ErrorKind::Http, format!("sandbox check-in failed: {e}")))?;
    let token = c.token().unwrap_or_default().to_owned();
    t.add(
        f,
        "-",
        "patient",
        format!(
            "checks in on RekodSaya for Appointment/{}",
            b.appointment_id
        ),
    );
    t.add(
        f,
        "3-4",
        "HIE",
        format!(
            "Jitsi session token {} created; Encounter/{} published",
            mask(&token),
            c.encounter_id()
        ),
    );
    let started = arrival(rx, opts).await?;
    started_line(t, f, &started, source);
    report.vci.token = token;
    report.vci.join_url = mask_url(started.practitioner_join.url());
    report
        .vci
        .encounters
        .push(started.encounter.id.clone().unwrap_or_default());
    report.vci.notified.push(started.notified.clone());
    t.add(
        f,
        "8",
        "patient",
        "gets the join token in RekodSaya and joins",
    );
    let enc_id = started.encounter.id.clone().unwrap_or_default();
    let fin = vc.finish(&enc_id).await?;
    t.add(
        f,
        "9",
        "source system",
        format!(
            "Encounter/{enc_id} PUT finished{}",
            fin.written
                .as_ref()
                .map_or(" (already)".to_owned(), |w| format!(
                    " (HTTP {}, version {})",
                    w.status,
                    w.version_id.as_deref().unwrap_or("?")
                ))
        ),
    );
    t.add(
        f,
        "10",
        "jitsi",
        format!(
            "session end: {}",
            fin.ended
                .map_or("already ended".to_owned(), |e| format!("{e:?}"))
        ),
    );
    report.vci.finished.push(enc_id);
    report.vci.ended = fin.ended;

    // ---- VCE: a group session, three patients, one token ----
    let f = "VCE";
    let session = vc.create_session().await?;
    t.add(
        f,
        "1",
        "jitsi",
        format!(
            "session token {} created for the group",
            mask(&session.token)
        ),
    );
    let (start, end) = (at(120), at(180));
    let schedule = ScheduleBuilder::new("vce-sch-1", VcType::Vce)
        .token(session.token.clone())
        .specialty("149")
        .schedule_type(ScheduleType::Public)
        .healthcare_service(SERVICE.0, SERVICE.1)
        .planning_horizon(start.clone(), end.clone())
        .build()?;
    let slot = SlotBuilder::new("vce-slt-1", VcType::Vce)
        .schedule("vce-sch-1")
        .token(session.token.clone())
        .quota(10)
        .specialty("149")
        .period(start.clone(), end.clone())
        .build()?;
    let s = vc.schedule(schedule, vec![slot]).await?;
    t.add(
        f,
        "2",
        "source system",
        format!(
            "Schedule/vce-sch-1 + Slot/vce-slt-1 (quota 10) with the token: {}",
            statuses(&s.outcome)
        ),
    );
    for (i, p) in PATIENTS[1..].iter().enumerate() {
        let id = format!("vce-app-{}", i + 1);
        let appt = AppointmentBuilder::vce(id.clone(), session.token.clone())
            .specialty("149")
            .healthcare_service(SERVICE.0, SERVICE.1)
            .patient(p.id, p.name)
            .practitioner("Practitioner", PRACTITIONER.0, PRACTITIONER.1)
            .period(start.clone(), end.clone())
            .build()?;
        let b = vc.book(appt, Some("vce-slt-1")).await?;
        t.add(
            f,
            "3",
            "source system",
            format!(
                "Appointment/{id} booked with the token (slot available now {})",
                b.slot.as_ref().map_or(0, |(_, q)| q.available)
            ),
        );
        report.vce.appointments.push(id);
    }
    report.vce.token = session.token.clone();
    // Two patients check in: two Encounters with the session's token; the second start
    // notifies nobody again.
    for appt in report.vce.appointments.clone().iter().take(2) {
        let c = sandbox
            .check_in(appt)
            .await
            .map_err(|e| Error::new(ErrorKind::Http, format!("sandbox check-in failed: {e}")))?;
        t.add(
            f,
            "-",
            "patient",
            format!("checks in for Appointment/{appt}"),
        );
        t.add(
            f,
            "4",
            "HIE",
            format!(
                "Encounter/{} published with the session token {}",
                c.encounter_id(),
                mask(c.token().unwrap_or_default())
            ),
        );
        let started = arrival(rx, opts).await?;
        started_line(t, f, &started, source);
        report.vce.join_url = mask_url(started.practitioner_join.url());
        report
            .vce
            .encounters
            .push(started.encounter.id.clone().unwrap_or_default());
        report.vce.notified.push(started.notified.clone());
    }
    t.add(
        f,
        "8",
        "patients",
        "get the join token in RekodSaya and join the group session",
    );
    for enc_id in report.vce.encounters.clone() {
        let fin = vc.finish(&enc_id).await?;
        t.add(
            f,
            "9",
            "source system",
            format!(
                "Encounter/{enc_id} PUT finished{}",
                fin.written
                    .as_ref()
                    .map_or(" (already)".to_owned(), |w| format!(" (HTTP {})", w.status))
            ),
        );
        if let Some(ended) = fin.ended {
            t.add(f, "10", "jitsi", format!("session end: {ended:?}"));
            report.vce.ended = Some(ended);
        }
        report.vce.finished.push(enc_id);
    }
    Ok(report)
}

fn statuses(o: &hie_vc::hie::BundleOutcome) -> String {
    o.entries
        .iter()
        .map(|e| e.status.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
