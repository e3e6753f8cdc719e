//! `hie-vc listen` over TLS against the real TLS listeners of tests/services/kafka.sh, configured
//! the way an operator would: `HIE_VC_KAFKA_*` variables and `--kafka-*` flags. Records are
//! produced over PLAINTEXT with rdkafka directly.

use std::process::{Command, Output};

use hie_vc_test_support::kafka::{self as k, Rec, TlsBroker};

fn encounter(n: u32) -> String {
    format!(
        r#"{{"resourceType":"Encounter","id":"tls-enc-{n}",
  "identifier":[{{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"tok-{n}"}}],
  "status":"arrived",
  "class":{{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"}},
  "subject":{{"reference":"Patient/pt-{n}"}}}}"#
    )
}

/// `hie-vc listen --max <max>` with only the given settings (none of the caller's own).
fn listen(max: u32, env: &[(&str, String)], args: &[String]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hie-vc"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HIE_VC_") {
            c.env_remove(key);
        }
    }
    c.arg("listen").arg("--max").arg(max.to_string()).args(args);
    for (key, value) in env {
        c.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

async fn topic_with(n: u32) -> String {
    let b = k::bootstrap();
    let topic = k::unique("cli-tls");
    k::create_topic(&b, &topic, 1).await;
    let recs = (0..n).map(|i| Rec::new(encounter(i))).collect();
    k::produce(&k::producer(&b), &topic, recs).await;
    topic
}

fn path(p: std::path::PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_SASL_SSL_BOOTSTRAP"]
async fn listen_over_sasl_ssl_from_the_environment() {
    let t = TlsBroker::from_env();
    let topic = topic_with(2).await;
    let env = |bootstrap: &str, ca: String, password: String| {
        vec![
            ("HIE_VC_KAFKA_BOOTSTRAP", bootstrap.to_owned()),
            ("HIE_VC_KAFKA_TOPICS", topic.clone()),
            ("HIE_VC_KAFKA_GROUP", k::unique("g")),
            ("HIE_VC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL".to_owned()),
            ("HIE_VC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".to_owned()),
            ("HIE_VC_KAFKA_SASL_USERNAME", k::sasl_user()),
            ("HIE_VC_KAFKA_SASL_PASSWORD", password),
            ("HIE_VC_KAFKA_SSL_CA_LOCATION", ca),
        ]
    };
    let (code, out, err) = listen(2, &env(&t.sasl_ssl, path(t.ca()), k::sasl_password()), &[]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| serde_json_id(l).unwrap_or_else(|| panic!("{l}")))
        .collect();
    assert_eq!(ids, ["tls-enc-0", "tls-enc-1"], "{out}");
    assert!(!err.contains(&k::sasl_password()), "{err}");

    // A CA that did not sign the broker: exit 3 (configuration) at once, saying why.
    let (code, _, err) = listen(
        1,
        &env(&t.sasl_ssl, path(t.other_ca()), k::sasl_password()),
        &[],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("certificate was refused"), "{err}");
    assert!(!err.contains(&k::sasl_password()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Kafka: tests/services/kafka.sh start; HIEVC_KAFKA_MTLS_BOOTSTRAP"]
async fn listen_with_mutual_tls_from_flags() {
    let t = TlsBroker::from_env();
    let topic = topic_with(1).await;
    let flags = |key_password: &str| {
        vec![
            format!("--kafka-bootstrap={}", t.mtls),
            format!("--kafka-topics={topic}"),
            format!("--kafka-group={}", k::unique("g")),
            "--kafka-security-protocol=SSL".to_owned(),
            format!("--kafka-ssl-ca-location={}", path(t.ca())),
            format!("--kafka-ssl-certificate-location={}", path(t.client_cert())),
            format!("--kafka-ssl-key-location={}", path(t.client_key())),
            format!("--kafka-ssl-key-password={key_password}"),
        ]
    };
    let (code, out, err) = listen(1, &[], &flags(&t.key_password()));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("tls-enc-0"), "{out}");
    assert!(!err.contains(&t.key_password()), "{err}");

    let wrong = "not-the-key-password-9";
    let (code, out, err) = listen(1, &[], &flags(wrong));
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("ssl.key"), "{err}");
    assert!(!err.contains(wrong), "{err}");
}

/// The Encounter id of a `listen` output line.
fn serde_json_id(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.pointer("/encounter/id")?.as_str().map(str::to_owned)
}
