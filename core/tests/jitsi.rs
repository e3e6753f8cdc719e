//! Jitsi tokens: claims for self-hosted (HS256, RS256) and JaaS, verification failures with
//! their reasons, configuration errors, redaction. The providers that call out are tested in
//! `jitsi_http.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hie_vc::hie::Auth;
use hie_vc::jitsi::{
    EndMeeting, EndOutcome, JaasConfig, JaasFeatures, JaasJitsi, JitsiProvider, Participant,
    RestJitsiConfig, Role, RoomName, SelfHostedConfig, SelfHostedJitsi, TokenVerifier,
};
use hie_vc::ErrorKind;

const KEY_A: &str = include_str!("data/jitsi/rsa_a.key.pem");
const PUB_A: &str = include_str!("data/jitsi/rsa_a.pub.pem");
const KEY_B: &str = include_str!("data/jitsi/rsa_b.key.pem");
const PUB_B: &str = include_str!("data/jitsi/rsa_b.pub.pem");
const SECRET: &str = "prosody-app-secret-0123456789";
const JAAS_APP: &str = "vpaas-magic-cookie-0123456789abcdef";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn doctor() -> Participant {
    Participant::practitioner("prac-7", "Dr Aminah").email("aminah@example.org")
}

fn patient() -> Participant {
    Participant::patient("950728106051", "Siti").avatar("https://img.example/siti.png")
}

fn hs256() -> SelfHostedJitsi {
    SelfHostedJitsi::new(
        SelfHostedConfig::builder("meet.example.org")
            .app_id("hie-vc")
            .app_secret(SECRET)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn jaas() -> JaasJitsi {
    JaasJitsi::new(
        JaasConfig::builder(JAAS_APP)
            .api_key("4f4910", KEY_B)
            .public_key(PUB_B)
            .features(JaasFeatures {
                recording: true,
                transcription: true,
                ..JaasFeatures::default()
            })
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn self_hosted_hs256_tokens_carry_every_claim() {
    let jitsi: Arc<dyn JitsiProvider> = Arc::new(hs256());
    let session = jitsi.create_session().await.unwrap();
    let room = session.room.clone().unwrap();
    assert_eq!(room, format!("vc-{}", session.token));
    let before = now();
    let join = jitsi.join(&session.token, &doctor()).await.unwrap();
    let v = hs256()
        .verifier()
        .unwrap()
        .verify(join.token().expose_secret())
        .unwrap();
    let c = &v.claims;
    assert_eq!(v.algorithm, "HS256");
    assert_eq!(v.kid, None);
    assert_eq!((c.iss.as_str(), c.aud.as_str()), ("hie-vc", "jitsi"));
    assert_eq!(
        (c.sub.as_str(), c.room.as_str()),
        ("meet.example.org", room.as_str())
    );
    assert!(c.iat >= before && c.iat <= now());
    assert_eq!(c.nbf, c.iat - 10);
    assert_eq!(c.exp, c.iat + 2 * 3600);
    let user = c.context.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("prac-7"));
    assert_eq!(user.name.as_deref(), Some("Dr Aminah"));
    assert_eq!(user.email.as_deref(), Some("aminah@example.org"));
    assert_eq!(user.moderator, Some(true));
    assert!(c.context.features.is_none());
    assert_eq!(
        join.url(),
        format!(
            "https://meet.example.org/{room}?jwt={}",
            join.token().expose_secret()
        )
    );
    assert_eq!(join.role(), Role::Practitioner);
    assert_eq!(join.room(), Some(room.as_str()));

    let pj = jitsi.join(&session.token, &patient()).await.unwrap();
    let pv = hs256()
        .verifier()
        .unwrap()
        .verify(pj.token().expose_secret())
        .unwrap();
    assert!(!pv.is_moderator());
    assert_eq!(
        pv.claims.context.user.unwrap().avatar.as_deref(),
        Some("https://img.example/siti.png")
    );
    // No remote calls: activation checks the token, end reports that it cannot end remotely.
    jitsi.activate(&session.token).await.unwrap();
    assert_eq!(
        jitsi.end(&session.token).await.unwrap(),
        EndOutcome::Unsupported
    );
}

#[tokio::test]
async fn self_hosted_rs256_with_tenant_any_room_and_custom_claims() {
    let j = SelfHostedJitsi::new(
        SelfHostedConfig::builder("Meet.Example.org")
            .app_id("hie-vc")
            .rs256_private_key(KEY_A, "hie-vc/key-1")
            .rs256_public_key(PUB_A)
            .tenant("klinik-a")
            .audience("jitsi-meet")
            .any_room(true)
            .token_ttl(Duration::from_secs(600))
            .room_prefix("consult-")
            .build()
            .unwrap(),
    )
    .unwrap();
    let join = j.join("tok-1", &patient()).await.unwrap();
    let v = j
        .verifier()
        .unwrap()
        .verify(join.token().expose_secret())
        .unwrap();
    assert_eq!(v.algorithm, "RS256");
    assert_eq!(v.kid.as_deref(), Some("hie-vc/key-1"));
    assert_eq!(v.claims.sub, "klinik-a");
    assert_eq!(v.claims.aud, "jitsi-meet");
    assert_eq!(v.claims.room, "*");
    assert_eq!(v.claims.exp - v.claims.iat, 600);
    assert!(join
        .url()
        .starts_with("https://meet.example.org/klinik-a/consult-tok-1?jwt=eyJ"));
    // The other key pair's public key refuses the signature.
    let e = TokenVerifier::rs256_pem(PUB_B)
        .verify(join.token().expose_secret())
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.location()),
        (ErrorKind::InvalidInput, Some("signature"))
    );
}

#[tokio::test]
async fn jaas_tokens_follow_the_jaas_format() {
    let j = jaas();
    let join = j.join("session-9", &doctor()).await.unwrap();
    let v = j
        .verifier()
        .unwrap()
        .verify(join.token().expose_secret())
        .unwrap();
    assert_eq!(
        v.kid.as_deref(),
        Some(format!("{JAAS_APP}/4f4910").as_str())
    );
    let c = &v.claims;
    assert_eq!(
        (c.iss.as_str(), c.aud.as_str(), c.sub.as_str()),
        ("chat", "jitsi", JAAS_APP)
    );
    assert_eq!(c.room, "vc-session-9");
    let f = c.context.features.unwrap();
    assert!(f.recording && f.transcription && !f.livestreaming && !f.outbound_call);
    assert_eq!(c.context.user.as_ref().unwrap().moderator, Some(true));
    assert_eq!(
        join.url(),
        format!(
            "https://8x8.vc/{JAAS_APP}/vc-session-9?jwt={}",
            join.token().expose_secret()
        )
    );
    // A full kid is accepted as well; a kid of another tenant is not.
    assert!(JaasConfig::builder(JAAS_APP)
        .api_key(format!("{JAAS_APP}/4f4910"), KEY_B)
        .build()
        .is_ok());
    let e = JaasConfig::builder(JAAS_APP)
        .api_key("vpaas-magic-cookie-other/4f4910", KEY_B)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert_eq!(j.end("session-9").await.unwrap(), EndOutcome::Unsupported);
}

#[test]
fn expired_immature_and_foreign_tokens_are_refused_with_their_reason() {
    let j = hs256();
    let room = RoomName::new("vc-1").unwrap();
    let verifier = j.verifier().unwrap();
    let old = SystemTime::now() - Duration::from_secs(3 * 3600);
    let expired = j.sign(&j.claims(&room, &doctor(), old)).unwrap();
    let e = verifier.verify(&expired).unwrap_err();
    assert_eq!(
        (e.kind(), e.location()),
        (ErrorKind::InvalidInput, Some("exp"))
    );
    assert!(e.message().contains("expired"), "{e}");
    // The same token passes with enough leeway: the failure was the time, nothing else.
    assert!(verifier
        .clone()
        .leeway(Duration::from_secs(2 * 3600))
        .verify(&expired)
        .is_ok());
    let future = SystemTime::now() + Duration::from_secs(3600);
    let e = verifier
        .verify(&j.sign(&j.claims(&room, &doctor(), future)).unwrap())
        .unwrap_err();
    assert_eq!(e.location(), Some("nbf"));
    let fresh = j
        .sign(&j.claims(&room, &doctor(), SystemTime::now()))
        .unwrap();
    let e = TokenVerifier::hs256("another-secret")
        .verify(&fresh)
        .unwrap_err();
    assert_eq!(e.location(), Some("signature"));
    let e = TokenVerifier::hs256(SECRET)
        .issuer("someone-else")
        .verify(&fresh)
        .unwrap_err();
    assert_eq!(e.location(), Some("iss"));
    let e = TokenVerifier::hs256(SECRET)
        .audience("x")
        .verify(&fresh)
        .unwrap_err();
    assert_eq!(e.location(), Some("aud"));
    let e = TokenVerifier::hs256(SECRET)
        .subject("x")
        .verify(&fresh)
        .unwrap_err();
    assert_eq!(e.location(), Some("sub"));
    let e = TokenVerifier::rs256_pem(PUB_A).verify(&fresh).unwrap_err();
    assert_eq!(e.location(), Some("header.alg"));
    let rs = jaas().mint(&room, &patient()).unwrap();
    let e = TokenVerifier::rs256_pem(PUB_B)
        .kid("other-kid")
        .verify(rs.token().expose_secret())
        .unwrap_err();
    assert_eq!(e.location(), Some("header.kid"));
    let e = TokenVerifier::hs256(SECRET)
        .verify("eyJhbGciOi.garbage")
        .unwrap_err();
    assert_eq!(e.location(), Some("token"));
}

#[test]
fn missing_or_wrong_settings_are_config_errors() {
    let cases = [
        SelfHostedConfig::builder("meet.example.org")
            .app_secret(SECRET)
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .app_secret("")
            .build(),
        SelfHostedConfig::builder("meet.example.org/path")
            .app_id("a")
            .app_secret("s")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .rs256_private_key(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                "k",
            )
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .rs256_private_key(KEY_A, "")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .rs256_private_key(PUB_A, "k")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .app_secret("s")
            .tenant("Bad Tenant")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .app_secret("s")
            .room_prefix("X")
            .build(),
        SelfHostedConfig::builder("meet.example.org")
            .app_id("a")
            .app_secret("s")
            .end_meeting(EndMeeting::new("http://prosody:5280"))
            .build(),
    ];
    for (i, c) in cases.into_iter().enumerate() {
        assert_eq!(c.unwrap_err().kind(), ErrorKind::Config, "case {i}");
    }
    for c in [
        JaasConfig::builder(JAAS_APP).build(),
        JaasConfig::builder("my-app").api_key("k", KEY_B).build(),
        JaasConfig::builder(JAAS_APP)
            .api_key("k", "not a key")
            .build(),
        JaasConfig::builder(JAAS_APP)
            .api_key("k", KEY_B)
            .token_ttl(Duration::from_secs(90_000))
            .build(),
    ] {
        assert_eq!(c.unwrap_err().kind(), ErrorKind::Config);
    }
    // RS256 verification without the public key is a configuration gap, said as such.
    let j = JaasJitsi::new(
        JaasConfig::builder(JAAS_APP)
            .api_key("k", KEY_B)
            .build()
            .unwrap(),
    );
    assert_eq!(j.verifier().unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let key_body = KEY_A.lines().nth(1).unwrap();
    let self_hosted = SelfHostedConfig::builder("meet.example.org")
        .app_id("a")
        .rs256_private_key(KEY_A, "k1")
        .end_meeting(EndMeeting::new("http://prosody:5280").system_token("system-jwt-secret"));
    let dbg = format!("{self_hosted:?}");
    let built = self_hosted.build().unwrap();
    let provider = SelfHostedJitsi::new(built.clone()).unwrap();
    let hs = hs256();
    let join = hs.join("t", &doctor()).await.unwrap();
    let jaas_builder = JaasConfig::builder(JAAS_APP).api_key("k", KEY_B);
    let outputs = [
        dbg,
        format!("{built:?}"),
        format!("{provider:?}"),
        format!("{hs:?}"),
        format!("{:?}", hs.verifier().unwrap()),
        format!("{join:?}"),
        format!("{jaas_builder:?}"),
        format!("{:?}", jaas()),
        format!(
            "{:?}",
            RestJitsiConfig::builder("http://h")
                .auth(Auth::basic("svc", "rest-password"))
                .secret_header("X-Api-Key", "api-key-secret")
        ),
    ];
    let secrets = [
        key_body,
        KEY_B.lines().nth(1).unwrap(),
        "system-jwt-secret",
        SECRET,
        join.token().expose_secret(),
        "rest-password",
        "api-key-secret",
    ];
    for out in &outputs {
        for s in &secrets {
            assert!(!out.contains(s), "secret leaked in {out}");
        }
    }
    assert!(format!("{join:?}").contains("jwt=***"));
}
