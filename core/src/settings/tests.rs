use super::*;
use std::time::Duration;

/// A value of `kind` as text (environment, flags) and as TOML.
fn sample(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Text => ("x", "\"x\""),
        Kind::Switch => ("true", "true"),
        Kind::Count => ("1", "1"),
        Kind::List => ("a, b", "[\"a\", \"b\"]"),
    }
}

#[test]
fn every_listed_key_is_a_setting_of_its_kind() {
    for key in KEYS {
        let (text, toml) = sample(key.kind);
        let (section, name) = (key.section, key.name);
        let from_text = SettingsLoader::new().set(section, name, text).load();
        assert!(from_text.is_ok(), "{section}.{name}: {from_text:?}");
        let from_file = Settings::from_toml_str(&format!("[{section}]\n{name} = {toml}\n"));
        assert_eq!(from_file.unwrap(), from_text.unwrap(), "{section}.{name}");
        // Every other kind's TOML value is refused, naming the key (the table and the
        // structures agree on each key's type).
        for other in [Kind::Text, Kind::Switch, Kind::Count, Kind::List] {
            if other == key.kind {
                continue;
            }
            let toml = format!("[{section}]\n{name} = {}\n", sample(other).1);
            let e = Settings::from_toml_str(&toml).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{toml}");
            assert!(e.to_string().contains(&format!("{section}.{name}")), "{e}");
        }
    }
    assert_eq!(Key::find("notify", "password").unwrap().kind, Kind::Text);
    assert!(Key::find("notify", "pasword").is_none());
}

#[test]
fn values_are_typed_by_their_key_not_by_their_look() {
    // Text that looks like a switch or a number stays text, from every layer.
    let s = SettingsLoader::new()
        .toml_str("[hie]\nbasic_password = \"false\"\n[jitsi]\napp_secret = \"0.5\"\n")
        .unwrap()
        .env_vars([
            ("HIE_VC_NOTIFY_PASSWORD".to_owned(), "true".to_owned()),
            ("HIE_VC_KAFKA_SASL_PASSWORD".to_owned(), "12345".to_owned()),
            ("HIE_VC_HIE_TIMEOUT_SECS".to_owned(), " 30 ".to_owned()),
        ])
        .set("hie", "oauth_client_secret", "007")
        .set("kafka", "group", "-1")
        .set("vc", "notify_title", "1e3")
        .set("hie", "validate", "false")
        .load()
        .unwrap();
    assert_eq!(s.notify.password.as_deref(), Some("true"));
    assert_eq!(s.kafka.sasl_password.as_deref(), Some("12345"));
    assert_eq!(s.hie.basic_password.as_deref(), Some("false"));
    assert_eq!(s.jitsi.app_secret.as_deref(), Some("0.5"));
    assert_eq!(s.hie.oauth_client_secret.as_deref(), Some("007"));
    assert_eq!(s.kafka.group.as_deref(), Some("-1"));
    assert_eq!(s.vc.notify_title.as_deref(), Some("1e3"));
    assert_eq!(s.hie.timeout_secs, Some(30));
    assert_eq!(s.hie.validate, Some(false));

    // Every text setting takes text that looks like anything else.
    for key in KEYS.iter().filter(|k| k.kind == Kind::Text) {
        for look in ["true", "false", "12345", "-7", "1.5"] {
            let loaded = SettingsLoader::new()
                .set(key.section, key.name, look)
                .load();
            assert!(
                loaded.is_ok(),
                "{}.{} = {look}: {loaded:?}",
                key.section,
                key.name
            );
        }
    }

    // A switch or count that is not one is refused with the key's name and the value; a later
    // layer that fixes it wins.
    for (name, bad, var) in [
        ("validate", "yes", "HIE_VC_HIE_VALIDATE"),
        ("timeout_secs", "soon", "HIE_VC_HIE_TIMEOUT_SECS"),
        ("max_retries", "-1", "HIE_VC_HIE_MAX_RETRIES"),
    ] {
        let env = SettingsLoader::new().env_vars([(var.to_owned(), bad.to_owned())]);
        let e = env.clone().load().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("hie.{name}")) && msg.contains(bad),
            "{msg}"
        );
        let fixed = if name == "validate" { "true" } else { "2" };
        assert!(env.set("hie", name, fixed).load().is_ok(), "{name}");
    }

    // A file's unquoted number for a text key is refused without quoting it (it may be secret).
    let e = Settings::from_toml_str("[notify]\npassword = 12345\n").unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Config);
    assert!(e.to_string().contains("notify.password"), "{e}");
    assert!(!e.to_string().contains("12345"), "{e}");
    let e = Settings::from_json_str(r#"{"hie":{"timeout_secs":"30"}}"#).unwrap_err();
    assert!(e.to_string().contains("hie.timeout_secs"), "{e}");
}

#[test]
fn layers_override_in_order() {
    let s = SettingsLoader::new()
        .toml_str("[hie]\nurl = \"http://file\"\ntimeout_secs = 5\n[kafka]\ntopics = [\"a\"]\n")
        .unwrap()
        .env_vars([
            ("HIE_VC_HIE_URL".to_owned(), "http://env".to_owned()),
            ("HIE_VC_KAFKA_TOPICS".to_owned(), "x, y".to_owned()),
            ("OTHER".to_owned(), "1".to_owned()),
        ])
        .set("hie", "validate", "false")
        .load()
        .unwrap();
    assert_eq!(s.hie.url.as_deref(), Some("http://env"));
    assert_eq!(s.hie.timeout_secs, Some(5));
    assert_eq!(s.hie.validate, Some(false));
    assert_eq!(s.kafka.topics, vec!["x", "y"]);
}

#[test]
fn typos_and_conflicts_are_config_errors() {
    let e = Settings::from_toml_str("[hie]\nulr = \"x\"").unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Config);
    assert!(e.to_string().contains("ulr"), "{e}");
    let s = Settings::from_json_str(r#"{"hie":{"url":"http://h","bearer_token":"a","basic_username":"u","basic_password":"p"}}"#).unwrap();
    assert_eq!(
        s.hie.to_config().unwrap_err().kind(),
        crate::ErrorKind::Config
    );
    assert_eq!(
        Settings::default().hie.to_config().unwrap_err().kind(),
        crate::ErrorKind::Config
    );
    let k = Settings::from_toml_str(
        "[kafka]\nbootstrap=\"b\"\ntopics=[\"t\"]\nsecurity_protocol=\"SASL_PLAINTEXT\"",
    )
    .unwrap();
    assert!(k
        .kafka
        .to_config()
        .unwrap_err()
        .to_string()
        .contains("sasl_username"));
}

#[test]
fn secrets_stay_out_of_debug() {
    let s = Settings::from_json_str(
        r#"{"hie":{"bearer_token":"B3ARER","basic_password":"BPASS","oauth_client_secret":"OSEC"},
            "kafka":{"sasl_password":"KPASS"},"notify":{"password":"NPASS","email":"nurse@klinik.my"},
            "jitsi":{"app_secret":"JSEC","bearer_token":"JTOK"}}"#,
    )
    .unwrap();
    let d = format!("{s:?}");
    for secret in [
        "B3ARER", "BPASS", "OSEC", "KPASS", "NPASS", "nurse@", "JSEC", "JTOK",
    ] {
        assert!(!d.contains(secret), "{d}");
    }
}

#[test]
fn builds_jitsi_providers_and_notification_config() {
    let s = Settings::from_toml_str("[jitsi]\nprovider=\"self-hosted\"\ndomain=\"meet.example.my\"\napp_id=\"hie-vc\"\napp_secret=\"s3cret\"\n").unwrap();
    assert_eq!(s.jitsi.provider().unwrap().kind(), "self-hosted");
    let s =
        Settings::from_toml_str("[jitsi]\nprovider=\"hie\"\nurl=\"http://127.0.0.1:1/jitsi\"\n")
            .unwrap();
    assert_eq!(s.jitsi.provider().unwrap().kind(), "hie-rest");
    for bad in [
        "provider=\"zoom\"",
        "provider=\"self-hosted\"\ndomain=\"d\"",
        "provider=\"jaas\"\napp_id=\"a\"",
        "provider=\"hie\"",
    ] {
        let s = Settings::from_toml_str(&format!("[jitsi]\n{bad}\n")).unwrap();
        assert_eq!(
            s.jitsi.provider().unwrap_err().kind(),
            crate::ErrorKind::Config,
            "{bad}"
        );
    }
    let s = Settings::from_toml_str(
        "[notify]\nurl=\"http://127.0.0.1:1/notify\"\nemail=\"a@b\"\npassword=\"p\"\n",
    )
    .unwrap();
    assert!(s.notify.to_config().is_ok());
    assert_eq!(
        Settings::default().notify.to_config().unwrap_err().kind(),
        crate::ErrorKind::Config
    );
}

#[test]
fn builds_client_and_kafka_configs() {
    let s = Settings::from_toml_str(
        "[hie]\nurl=\"http://127.0.0.1:1/fhir\"\nbasic_username=\"u\"\nbasic_password=\"p\"\n[kafka]\nbootstrap=\"127.0.0.1:9093\"\ntopics=[\"t\"]\nsecurity_protocol=\"sasl_plaintext\"\nsasl_mechanism=\"SCRAM-SHA-512\"\nsasl_username=\"u\"\nsasl_password=\"p\"",
    )
    .unwrap();
    assert_eq!(s.hie.to_config().unwrap().auth().scheme(), "basic");
    assert!(s.kafka.to_config().is_ok());
}

#[test]
fn hie_retry_timeouts_and_headers_from_every_layer() {
    let s = SettingsLoader::new()
        .toml_str(
            "[hie]\nurl = \"http://127.0.0.1:1/fhir\"\nmax_retries = 5\nretry_max_elapsed_secs = 20\n\
             secret_headers = [\"X-Api-Key: K3Y-S3CRET\"]\n",
        )
        .unwrap()
        .env_vars([
            ("HIE_VC_HIE_HEADERS".to_owned(), "X-Facility: 11-0506, X-Channel:vc".to_owned()),
            ("HIE_VC_HIE_RETRY_INITIAL_BACKOFF_MS".to_owned(), "50".to_owned()),
        ])
        .set("hie", "connect_timeout_secs", "3")
        .load()
        .unwrap();
    assert_eq!(s.hie.headers, ["X-Facility: 11-0506", "X-Channel:vc"]);
    assert!(!format!("{s:?}").contains("K3Y-S3CRET"));
    assert!(format!("{s:?}").contains("X-Api-Key"));
    let c = s.hie.to_config().unwrap();
    assert_eq!(
        c.retry(),
        &crate::hie::RetryPolicy::default()
            .max_retries(5)
            .initial_backoff(Duration::from_millis(50))
            .max_elapsed(Duration::from_secs(20))
    );
    assert_eq!(c.connect_timeout, Duration::from_secs(3));
    let sent: Vec<(String, String)> = c
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    for want in [
        ("x-facility", "11-0506"),
        ("x-channel", "vc"),
        ("x-api-key", "K3Y-S3CRET"),
    ] {
        assert!(
            sent.iter().any(|(n, v)| n == want.0 && v == want.1),
            "{want:?} not in the headers"
        );
    }
    assert!(c.headers.iter().any(|(_, v)| v.is_sensitive()));
    assert!(!format!("{c:?}").contains("K3Y-S3CRET"));

    // Defaults stay the defaults when nothing is set.
    let plain = Settings::from_toml_str("[hie]\nurl = \"http://127.0.0.1:1/fhir\"\n").unwrap();
    assert_eq!(
        plain.hie.to_config().unwrap().retry(),
        &crate::hie::RetryPolicy::default()
    );

    // A malformed entry is a config error naming the entry, and never quotes a secret one.
    for (toml, named, secret) in [
        (
            "headers = [\"X-Ok: 1\", \"no colon\"]",
            "hie.headers entry 2",
            None,
        ),
        (
            "secret_headers = [\": S3CRET-ONLY\"]",
            "hie.secret_headers entry 1",
            Some("S3CRET-ONLY"),
        ),
        ("headers = [\"Bad Name: v\"]", "Bad Name", None),
    ] {
        let s = Settings::from_toml_str(&format!("[hie]\nurl = \"http://h/\"\n{toml}\n")).unwrap();
        let e = s.hie.to_config().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config, "{toml}");
        assert!(e.to_string().contains(named), "{e}");
        if let Some(secret) = secret {
            assert!(!e.to_string().contains(secret) && !format!("{e:?}").contains(secret));
        }
    }
}
