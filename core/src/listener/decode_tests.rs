//! Decoding: every payload shape, and every kind of bad input, located.

use super::*;

const ENC: &str = r#"{"resourceType":"Encounter","id":"e1","meta":{"versionId":"3"},"status":"arrived","class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"},"subject":{"reference":"Patient/p1"}}"#;
const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","gender":"female"}"#;

fn opts(format: &PayloadFormat) -> DecodeOptions<'_> {
    DecodeOptions {
        format,
        read: ReadOptions::strict(),
        max_bytes: 1 << 20,
    }
}

fn ok(payload: &str, format: &PayloadFormat) -> Decoded {
    match decode(Some(payload.as_bytes()), opts(format)) {
        Ok(d) => d,
        Err(e) => panic!("decode failed: {e}"),
    }
}

fn err(payload: &[u8], format: &PayloadFormat) -> DecodeError {
    match decode(Some(payload), opts(format)) {
        Ok(d) => panic!("decoded unexpectedly: {:?}", d.layout),
        Err(e) => e,
    }
}

fn bundle() -> String {
    format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"fullUrl":"urn:uuid:p","resource":{PATIENT}}},{{"fullUrl":"urn:uuid:e","resource":{ENC}}}]}}"#
    )
}

#[test]
fn bare_encounter_in_auto_and_encounter_formats() {
    for f in [PayloadFormat::Auto, PayloadFormat::Encounter] {
        let d = ok(ENC, &f);
        assert_eq!(d.encounter.id.as_ref().map(|i| i.as_str()), Some("e1"));
        assert_eq!(d.layout, Layout::Encounter);
        assert!(d.included.is_empty());
    }
}

#[test]
fn bundle_splits_main_encounter_and_includes() {
    for f in [PayloadFormat::Auto, PayloadFormat::Bundle] {
        let d = ok(&bundle(), &f);
        assert_eq!(d.layout, Layout::Bundle);
        assert_eq!(d.encounter.id.as_ref().map(|i| i.as_str()), Some("e1"));
        assert_eq!(d.included.len(), 1);
        assert_eq!(d.included[0].resource.resource_type(), "Patient");
        assert_eq!(d.included[0].full_url.as_deref(), Some("urn:uuid:p"));
    }
}

#[test]
fn envelope_object_and_string_payloads() {
    let f = PayloadFormat::envelope("/data/resource").unwrap();
    let obj = format!(r#"{{"type":"enc","data":{{"resource":{ENC}}}}}"#);
    let d = ok(&obj, &f);
    assert_eq!(
        d.layout,
        Layout::Envelope {
            pointer: "/data/resource".into(),
            bundle: false
        }
    );
    let as_string = serde_json::json!({"data": {"resource": bundle()}}).to_string();
    let d = ok(&as_string, &f);
    assert_eq!(d.included.len(), 1);
    assert!(matches!(d.layout, Layout::Envelope { bundle: true, .. }));
    // auto finds the common member names
    let auto = format!(r#"{{"eventType":"create","payload":{ENC}}}"#);
    let d = ok(&auto, &PayloadFormat::Auto);
    assert!(matches!(d.layout, Layout::Envelope { ref pointer, .. } if pointer == "/payload"));
    // array indexes and escaped tokens
    let f = PayloadFormat::envelope("/a~1b/1").unwrap();
    let d = ok(&format!(r#"{{"a/b":[0,{ENC}]}}"#), &f);
    assert_eq!(d.encounter.id.as_ref().map(|i| i.as_str()), Some("e1"));
}

#[test]
fn envelope_errors() {
    let f = PayloadFormat::envelope("/payload").unwrap();
    assert_eq!(
        err(br#"{"other":1}"#, &f).kind,
        DecodeErrorKind::EnvelopeMissing
    );
    assert_eq!(
        err(br#"{"payload":42}"#, &f).kind,
        DecodeErrorKind::WrongResourceType
    );
    assert_eq!(
        err(br#"{"payload":"not json"}"#, &f).kind,
        DecodeErrorKind::NotJson
    );
    assert!(PayloadFormat::envelope("payload").is_err());
    assert_eq!(
        err(br#"{"hello":"world"}"#, &PayloadFormat::Auto).kind,
        DecodeErrorKind::MissingResourceType
    );
}

#[test]
fn bad_input_is_typed_and_located() {
    let f = PayloadFormat::Auto;
    assert_eq!(
        decode(None, opts(&f)).unwrap_err().kind,
        DecodeErrorKind::Empty
    );
    assert_eq!(err(b"", &f).kind, DecodeErrorKind::Empty);
    let e = err(b"{\"resourceType\":\"Enc\xffounter\"}", &f);
    assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
    assert_eq!(e.location, "byte 20");
    assert_eq!(err(b"not json at all", &f).kind, DecodeErrorKind::NotJson);
    assert_eq!(
        err(b"{\"resourceType\":", &f).kind,
        DecodeErrorKind::NotJson
    );
    assert_eq!(
        err(PATIENT.as_bytes(), &f).kind,
        DecodeErrorKind::WrongResourceType
    );
    assert_eq!(
        err(PATIENT.as_bytes(), &PayloadFormat::Encounter).kind,
        DecodeErrorKind::WrongResourceType
    );
    assert_eq!(
        err(ENC.as_bytes(), &PayloadFormat::Bundle).kind,
        DecodeErrorKind::WrongResourceType
    );
    let e = err(
        br#"{"resourceType":"Encounter","status":"arrived","class":{"code":"VR"},"period":{"start":"yesterday"}}"#,
        &f,
    );
    assert_eq!(e.kind, DecodeErrorKind::Invalid);
    assert!(e.location.contains("period"), "{}", e.location);
    let no_enc = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{PATIENT}}}]}}"#
    );
    assert_eq!(
        err(no_enc.as_bytes(), &f).kind,
        DecodeErrorKind::NoEncounter
    );
}

#[test]
fn size_and_depth_limits() {
    let big = vec![b' '; 2 << 20];
    let e = err(&big, &PayloadFormat::Auto);
    assert_eq!(e.kind, DecodeErrorKind::TooLarge);
    let deep = format!(
        r#"{{"resourceType":"Encounter","status":"arrived","class":{{"code":"VR"}},"x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        err(deep.as_bytes(), &PayloadFormat::Auto).kind,
        DecodeErrorKind::TooDeep
    );
    let deep_env = format!(
        r#"{{"payload":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let f = PayloadFormat::envelope("/payload").unwrap();
    assert_eq!(err(deep_env.as_bytes(), &f).kind, DecodeErrorKind::TooDeep);
}

#[test]
fn parse_format_names() {
    assert_eq!(PayloadFormat::parse("auto").unwrap(), PayloadFormat::Auto);
    assert_eq!(
        PayloadFormat::parse("bundle").unwrap(),
        PayloadFormat::Bundle
    );
    assert_eq!(
        PayloadFormat::parse("envelope:/payload").unwrap(),
        PayloadFormat::Envelope {
            pointer: "/payload".into()
        }
    );
    assert!(PayloadFormat::parse("xml").is_err());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn formats() -> impl Strategy<Value = PayloadFormat> {
        prop_oneof![
            Just(PayloadFormat::Auto),
            Just(PayloadFormat::Encounter),
            Just(PayloadFormat::Bundle),
            Just(PayloadFormat::Envelope {
                pointer: "/payload".into()
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), f in formats()) {
            let _ = decode(Some(&bytes), opts(&f));
        }

        #[test]
        fn on_damaged_encounters(cut in 0usize..ENC.len(), byte in any::<u8>(), at in 0usize..ENC.len(), f in formats()) {
            // Truncated, and with one byte replaced: always a located error or a value.
            let truncated = &ENC.as_bytes()[..cut];
            if let Err(e) = decode(Some(truncated), opts(&f)) {
                prop_assert!(!e.location.is_empty());
            }
            let mut damaged = ENC.as_bytes().to_vec();
            damaged[at] = byte;
            let wrapped = [b"{\"payload\":".as_slice(), &damaged, b"}"].concat();
            for payload in [&damaged, &wrapped] {
                if let Err(e) = decode(Some(payload), opts(&f)) {
                    prop_assert!(!e.location.is_empty());
                }
            }
        }
    }
}
