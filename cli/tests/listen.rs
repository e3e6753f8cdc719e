//! What `hie-vc listen` prints for arriving Encounters and for records it skips, on the
//! in-memory source (no broker needed): coordinates as `topic/partition@offset`, the reason in
//! plain words, and JSON lines for scripts with `--json`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use hie_vc::listener::{Listener, MemoryBroker, MemoryRecord};
use hie_vc_cli::listen::{self, Lines, ListenOutput};

const T: &str = "vc-encounters";

/// A writer whose text the test reads afterwards.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

const ENCOUNTER: &str = r#"{"resourceType":"Encounter","id":"enc-1","meta":{"versionId":"1"},
  "identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"tok-1"}],
  "status":"arrived",
  "class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR"},
  "subject":{"reference":"Patient/pt-1"}}"#;

/// A broker with: a record that is not JSON (offset 0), a VC Encounter (1), an Appointment (2)
/// carrying a name that must not be printed, and a second VC Encounter (3).
fn broker() -> MemoryBroker {
    let broker = MemoryBroker::new();
    broker.create_topic(T, 1).unwrap();
    for payload in [
        "not json at all".to_owned(),
        ENCOUNTER.to_owned(),
        r#"{"resourceType":"Appointment","id":"a","status":"booked","participant":[{"actor":{"display":"SITI SECRET"},"status":"accepted"}]}"#.to_owned(),
        ENCOUNTER.replace("enc-1", "enc-2"),
    ] {
        broker.send(T, MemoryRecord::new(payload)).unwrap();
    }
    broker
}

async fn listen(broker: &MemoryBroker, json: bool, dlq: Option<&str>) -> (u64, Captured, Captured) {
    let (out, err) = (Captured::default(), Captured::default());
    let mut builder = Listener::builder().memory(broker, "cli", [T]);
    if let Some(dlq) = dlq {
        builder = builder.dead_letter_topic(dlq);
    }
    let output = ListenOutput {
        out: Lines::new(out.clone()),
        err: Lines::new(err.clone()),
        json,
    };
    let stop = tokio::time::sleep(std::time::Duration::from_secs(20));
    let seen = listen::run(builder, output, Some(2), stop).await.unwrap();
    (seen, out, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_records_are_told_in_plain_words_with_their_coordinates() {
    let broker = broker();
    let (seen, out, err) = listen(&broker, false, None).await;
    assert_eq!(seen, 2);
    let out = out.lines();
    assert_eq!(out.len(), 2, "{out:?}");
    for (line, (id, offset)) in out.iter().zip([("enc-1", 1), ("enc-2", 3)]) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["encounter"]["id"], id);
        assert_eq!(v["offset"], offset);
        assert_eq!(v["vc"]["token"], "tok-1");
    }
    let err = err.lines();
    assert_eq!(
        err,
        [
            "hie-vc listen: skipped record vc-encounters/0@0: the message is not JSON",
            "hie-vc listen: skipped record vc-encounters/0@2: the message is a FHIR resource but not an Encounter (at resourceType)",
        ],
    );
    for line in &err {
        assert!(
            !line.contains("Some(") && !line.contains("Coordinates {"),
            "{line}"
        );
        assert!(!line.contains("SITI SECRET"), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_json_skipped_records_are_json_lines_in_order_among_the_encounters() {
    let broker = broker();
    let (seen, out, err) = listen(&broker, true, Some("vc-dead")).await;
    assert_eq!(seen, 2);
    assert!(err.lines().is_empty(), "{:?}", err.lines());
    let lines: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["topic"], T);
        assert_eq!(line["partition"], 0);
        assert_eq!(line["offset"], i);
    }
    assert_eq!(lines[1]["encounter"]["id"], "enc-1");
    assert_eq!(lines[3]["encounter"]["id"], "enc-2");
    let not_json = &lines[0]["error"];
    assert_eq!(lines[0]["record"], "vc-encounters/0@0");
    assert_eq!(not_json["reason"], "decode/not_json");
    assert_eq!(not_json["disposition"], "dead_lettered");
    assert_eq!(not_json["deadLetterTopic"], "vc-dead");
    assert_eq!(
        not_json["description"],
        "skipped record vc-encounters/0@0: the message is not JSON; sent to dead-letter topic vc-dead"
    );
    assert_eq!(lines[2]["error"]["reason"], "decode/wrong_resource_type");
    assert!(lines[0].get("encounter").is_none());
    assert!(!out.lines()[2].contains("SITI SECRET"));
    assert_eq!(broker.records("vc-dead").len(), 2);
}
