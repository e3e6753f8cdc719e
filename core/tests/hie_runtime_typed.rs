//! What the bindings call with names known only at run time: `history_type` of any resource
//! type, and every page of a search or history merged into one result (`send_all`), against a
//! scripted local server.

#[path = "support/server.rs"]
mod server;

use hie_vc::fhir::Resource;
use hie_vc::hie::{HieClient, HieConfig};
use hie_vc::ErrorKind;
use server::{Recorded, Reply, Server};

const OBSERVATION_V2: &str = r#"{"resourceType":"Observation","id":"o1","meta":{"versionId":"2"},"status":"final","valueQuantity":{"value":1.50}}"#;

fn history_bundle(entries: &str, next: Option<&str>) -> String {
    let link = next.map_or(String::new(), |n| {
        format!(r#""link":[{{"relation":"next","url":"{n}"}}],"#)
    });
    format!(r#"{{"resourceType":"Bundle","type":"history",{link}"entry":[{entries}]}}"#)
}

fn client(s: &Server) -> HieClient {
    HieClient::new(HieConfig::builder(s.url()).build().unwrap()).unwrap()
}

#[tokio::test]
async fn history_of_a_type_named_at_run_time_follows_every_page() {
    let s = Server::start(|r: &Recorded| {
        let page2 = r.target.contains("page=2");
        let body = if page2 {
            history_bundle(
                r#"{"request":{"method":"POST","url":"Observation"},"response":{"status":"201 Created"},"resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"preliminary"}}"#,
                None,
            )
        } else {
            history_bundle(
                &format!(
                    r#"{{"request":{{"method":"PUT","url":"Observation/o1"}},"response":{{"status":"200 OK"}},"resource":{OBSERVATION_V2}}}"#
                ),
                Some("/Observation/o1/_history?page=2"),
            )
        };
        Reply::json(200, body)
    })
    .await;
    let c = client(&s);
    let merged = c
        .history_type("Observation", Some("o1"))
        .count(1)
        .send_all()
        .await
        .unwrap();
    let paths: Vec<String> = s.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        paths,
        [
            "/Observation/o1/_history?_count=1",
            "/Observation/o1/_history?page=2"
        ]
    );
    assert_eq!(merged.pages, 2);
    assert_eq!(merged.entries.len(), 2);
    // A type the model does not type is kept as it came: its JSON written back unchanged.
    let first = merged.entries[0].resource.as_ref().unwrap();
    assert!(matches!(first, Resource::Other(_)), "{first:?}");
    let json = serde_json::to_value(&merged).unwrap();
    assert_eq!(json["pages"], 2);
    assert_eq!(json["entries"][0]["versionId"], "2");
    assert_eq!(json["entries"][0]["deleted"], false);
    assert_eq!(json["entries"][1]["method"], "POST");
    let text = serde_json::to_string(&merged).unwrap();
    assert!(text.contains(OBSERVATION_V2), "{text}");

    // The type history of the same type, one page.
    let page = c.history_type("Observation", None).send().await.unwrap();
    assert_eq!(page.pages, 1);
    assert_eq!(s.requests().last().unwrap().target, "/Observation/_history");
}

#[tokio::test]
async fn malformed_type_names_are_refused_before_any_request() {
    let s = Server::start(|_: &Recorded| Reply::status(500)).await;
    let c = client(&s);
    for name in ["observation", "../Patient", ""] {
        let e = c.history_type(name, None).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{name}: {e}");
    }
    assert!(s.requests().is_empty());
}

#[tokio::test]
async fn search_send_all_merges_pages_and_says_how_many() {
    let s = Server::start(|r: &Recorded| {
        let (id, next) = if r.target.contains("page=2") {
            ("p2", String::new())
        } else {
            (
                "p1",
                r#""link":[{"relation":"next","url":"/Patient?page=2"}],"#.to_owned(),
            )
        };
        Reply::json(
            200,
            format!(
                r#"{{"resourceType":"Bundle","type":"searchset","total":2,{next}"entry":[{{"search":{{"mode":"match"}},"resource":{{"resourceType":"Patient","id":"{id}"}}}}]}}"#
            ),
        )
    })
    .await;
    let page = client(&s).search_type("Patient").send_all().await.unwrap();
    assert_eq!(page.pages, 2);
    assert_eq!(page.total, Some(2));
    assert_eq!(page.next, None);
    let ids: Vec<_> = page.matches.iter().filter_map(Resource::id).collect();
    assert_eq!(ids, ["p1", "p2"]);
    let e = client(&s)
        .search_type("Patient")
        .max_pages(0)
        .send_all()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
