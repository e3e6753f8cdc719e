//! The emulated Jitsi token service and Notification API, driven by the core's `RestJitsi` and
//! `NotificationClient` with their default contracts, and what the sandbox records.

mod support;

use hie_vc::hie::RetryPolicy;
use hie_vc::jitsi::{EndOutcome, JitsiProvider, Participant, RestJitsi};
use hie_vc::notify::{NotificationClient, NotificationConfig};
use hie_vc::ErrorKind;
use hie_vc_sandbox::{Sandbox, SandboxConfig, SessionOrigin};
use support::*;

fn jitsi(sandbox: &Sandbox) -> RestJitsi {
    RestJitsi::new(
        sandbox
            .jitsi_config()
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn notifier(sandbox: &Sandbox, password: &str) -> NotificationClient {
    let (email, _) = sandbox.notify_login();
    NotificationClient::new(
        NotificationConfig::builder(sandbox.notify_base())
            .credentials(email, password)
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn jitsi_sessions_joins_activation_and_end() {
    let (sandbox, _client) = start().await;
    let j = jitsi(&sandbox);
    let session = j.create_session().await.unwrap();
    let room = session.room.clone().unwrap();
    assert!(room.starts_with("vc-"));

    let doctor = j
        .join(
            &session.token,
            &Participant::practitioner("prac-1", "Dr Aminah").email("aminah@example.org"),
        )
        .await
        .unwrap();
    let patient = j
        .join(
            &session.token,
            &Participant::patient("950728106051", "Siti"),
        )
        .await
        .unwrap();
    assert!(doctor
        .url()
        .starts_with(&format!("https://meet.sandbox.invalid/{room}?jwt=")));
    // The join tokens are real Jitsi JWTs: room, user and moderator right.
    let v = sandbox.jitsi_verifier();
    let d = v.verify(doctor.token().expose_secret()).unwrap();
    assert_eq!(d.claims.room, room);
    assert_eq!(d.claims.iss, hie_vc_sandbox::JITSI_APP_ID);
    let user = d.claims.context.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("prac-1"));
    assert_eq!(user.moderator, Some(true));
    let p = v.verify(patient.token().expose_secret()).unwrap();
    assert_eq!(p.claims.context.user.unwrap().moderator, Some(false));

    j.activate(&session.token).await.unwrap();
    j.activate(&session.token).await.unwrap();
    assert_eq!(j.end(&session.token).await.unwrap(), EndOutcome::Ended);
    assert_eq!(j.end(&session.token).await.unwrap(), EndOutcome::NotRunning);

    let rec = sandbox.jitsi_session(&session.token).unwrap();
    assert_eq!(rec.origin, SessionOrigin::Api);
    assert_eq!(rec.joins_of("practitioner").count(), 1);
    assert_eq!(
        rec.joins_of("patient").next().unwrap().user_id,
        "950728106051"
    );
    assert!(rec.is_activated() && rec.is_ended());
    assert_eq!((rec.activations, rec.end_calls), (2, 2));

    // After the end nobody joins; an unknown session is 404.
    let e = j
        .join(
            &session.token,
            &Participant::patient("950728106051", "Siti"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Gone);
    let e = j.activate("no-such-session").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_vci_check_in_session_can_be_joined_through_the_service() {
    let (sandbox, client) = start_seeded().await;
    client
        .update(vci_appointment("a1", "p1"))
        .send()
        .await
        .unwrap();
    let token = sandbox
        .check_in("a1")
        .await
        .unwrap()
        .token()
        .unwrap()
        .to_owned();
    let j = jitsi(&sandbox);
    let join = j
        .join(&token, &Participant::practitioner(DOCTOR, "Dr Aminah"))
        .await
        .unwrap();
    let claims = sandbox
        .jitsi_verifier()
        .verify(join.token().expose_secret())
        .unwrap()
        .claims;
    assert_eq!(claims.room, sandbox.jitsi_session(&token).unwrap().room);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn notifications_are_recorded_with_their_patients() {
    let (sandbox, _client) = start().await;
    let n = NotificationClient::new(
        sandbox
            .notification_config()
            .retry(RetryPolicy::none())
            .build()
            .unwrap(),
    )
    .unwrap();
    n.send(
        "Virtual consultation",
        "Your doctor is ready",
        ["950728106051", "880101015555"],
    )
    .await
    .unwrap();
    let recs = sandbox.notifications();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].title, "Virtual consultation");
    assert_eq!(recs[0].body, "Your doctor is ready");
    assert_eq!(recs[0].patient_ids, ["950728106051", "880101015555"]);
    assert_eq!(recs[0].sender, sandbox.notify_login().0);
    assert_eq!(sandbox.notify_logins(), 1);

    // A revoked token: the client logs in again once, and the notification goes out.
    sandbox.revoke_notify_tokens();
    n.send("Again", "Second", ["950728106051"]).await.unwrap();
    assert_eq!(sandbox.notify_logins(), 2);
    assert_eq!(sandbox.notifications().len(), 2);

    // A wrong password is refused, and nothing is recorded.
    let wrong = notifier(&sandbox, "not-the-password");
    let e = wrong.send("T", "B", ["950728106051"]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert_eq!(sandbox.notifications().len(), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn notification_requests_are_checked() {
    let (sandbox, _client) = start_with(SandboxConfig::default().notify_require_mykad(true)).await;
    let http = reqwest::Client::new();
    let base = sandbox.notify_base();
    let (email, password) = sandbox.notify_login();
    let r = http
        .post(format!("{base}/api/v2/notification-script"))
        .body(r#"{"title":"t","body":"b","patientIds":["950728106051"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token");
    assert!(r.headers().get("www-authenticate").is_some());
    let r = http
        .post(format!("{base}/api/v2/user/session"))
        .body(serde_json::json!({"email": email, "password": password}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let send = |body: &'static str| {
        http.post(format!("{base}/api/v2/notification-script"))
            .bearer_auth(&token)
            .body(body)
            .send()
    };
    assert_eq!(
        send(r#"{"title":"t","body":"b","patientIds":[]}"#)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        send(r#"{"title":"","body":"b","patientIds":["950728106051"]}"#)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        send(r#"{"title":"t","body":"b","patientIds":["patient-1"]}"#)
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(send(r#"not json"#).await.unwrap().status(), 400);
    assert_eq!(
        send(r#"{"title":"t","body":"b","patientIds":["950728106051"]}"#)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sandbox.notifications().len(), 1);
    let r = http
        .get(format!("{}/notifications", sandbox.admin_base()))
        .send()
        .await
        .unwrap();
    let recs: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(recs[0]["patientIds"][0], "950728106051");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn notification_tokens_expire() {
    let (sandbox, _client) = start_with(
        SandboxConfig::default().notify_token_ttl(std::time::Duration::from_millis(200)),
    )
    .await;
    let n = notifier(&sandbox, sandbox.notify_login().1);
    n.send("T", "B", ["950728106051"]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    n.send("T", "B", ["950728106051"]).await.unwrap();
    assert_eq!(sandbox.notify_logins(), 2, "the expired token was replaced");
    assert_eq!(sandbox.notifications().len(), 2);
    sandbox.shutdown().await;
}
