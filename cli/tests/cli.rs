//! The `hie-vc` binary: exit codes, output formats and the settings layers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hie-vc"));
    // The test must not see a developer's own settings.
    for (k, _) in std::env::vars() {
        if k.starts_with("HIE_VC_") {
            c.env_remove(k);
        }
    }
    c
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/mycore-ig/examples")
}

fn run(c: &mut Command) -> (i32, String, String) {
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

#[test]
fn validate_exit_codes_and_formats() {
    let (code, out, _) = run(bin()
        .arg("validate")
        .arg(examples().join("vci-app-example.json")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid (0 errors"));
    // strict read of a quirky example: unreadable input
    let (code, _, err) = run(bin().arg("validate").arg(examples().join("booking.json")));
    assert_eq!(code, 4);
    assert!(err.contains("Bundle.entry[0].resource.slot"), "{err}");
    // lenient: readable, but MY Core errors by default → 1
    let (code, out, _) = run(bin()
        .args(["validate", "--lenient", "--format", "json"])
        .arg(examples().join("vce-sch-example.json")));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["rule"] == "vc-token-required"));
    let (code, out, _) = run(bin()
        .args([
            "validate",
            "--lenient",
            "--accept-published-quirks",
            "--format",
            "outcome",
        ])
        .arg(examples().join("vce-sch-example.json")));
    assert_eq!(code, 0);
    assert!(out.contains("\"resourceType\": \"OperationOutcome\""));
    let (code, _, _) = run(bin().args(["validate", "/no/such/file.json"]));
    assert_eq!(code, 4);
}

#[test]
fn usage_and_config_errors() {
    assert_eq!(run(bin().args(["--hie-ulr", "x", "get", "Patient/1"])).0, 2);
    let (code, _, err) = run(bin().args(["get", "Patient/1"]));
    assert_eq!(code, 3);
    assert!(err.contains("HIE_VC_HIE_URL"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[hie]\nulr = \"x\"\n").unwrap();
    let (code, _, err) = run(bin().args(["--config", bad.to_str().unwrap(), "get", "Patient/1"]));
    assert_eq!(code, 3);
    assert!(err.contains("ulr"), "{err}");
}

/// A one-shot HTTP server answering every request with `body`, recording the request lines.
fn serve(
    body: &'static str,
    status: &'static str,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/fhir", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.push(req.lines().next().unwrap_or_default().to_owned());
            seen.extend(
                req.lines()
                    .filter(|l| l.to_ascii_lowercase().starts_with("authorization"))
                    .map(str::to_owned),
            );
            let resp = format!("HTTP/1.1 {status}\r\ncontent-type: application/fhir+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = s.write_all(resp.as_bytes());
        }
        seen
    });
    (url, h)
}

#[test]
fn settings_layers_flags_over_env_over_file() {
    let (url, server) = serve(
        r#"{"resourceType":"Patient","id":"p1","gender":"female"}"#,
        "200 OK",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hie-vc.toml");
    std::fs::write(
        &file,
        "[hie]\nurl = \"http://127.0.0.1:1/file\"\nbearer_token = \"from-file\"\n",
    )
    .unwrap();
    let (code, out, err) = run(bin()
        .env("HIE_VC_CONFIG", &file)
        .env("HIE_VC_HIE_URL", "http://127.0.0.1:1/env")
        .env("HIE_VC_HIE_BEARER_TOKEN", "from-env")
        .args(["--hie-url", &url, "get", "Patient/p1", "--compact"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"{"resourceType":"Patient","id":"p1","gender":"female"}"#
    );
    let seen = server.join().unwrap();
    assert_eq!(seen[0], "GET /fhir/Patient/p1 HTTP/1.1");
    assert!(
        seen.iter().any(|l| l.ends_with("Bearer from-env")),
        "{seen:?}"
    );
    assert!(!err.contains("from-env"));
}

/// A password that looks like a switch or a number is a password, from the environment, a
/// flag or the file: it reaches HIE as text.
#[test]
fn settings_are_typed_by_their_key_not_by_their_look() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hie-vc.toml");
    std::fs::write(
        &file,
        "[notify]\npassword = \"false\"\n[jitsi]\napp_secret = \"0\"\n",
    )
    .unwrap();
    // base64("nurse:true"), base64("nurse:12345")
    for (env, flag, basic) in [
        ("true", None, "bnVyc2U6dHJ1ZQ=="),
        ("true", Some("12345"), "bnVyc2U6MTIzNDU="),
    ] {
        let (url, server) = serve(r#"{"resourceType":"Patient","id":"p1"}"#, "200 OK");
        let mut c = bin();
        c.env("HIE_VC_CONFIG", &file)
            .env("HIE_VC_HIE_BASIC_PASSWORD", env)
            .args(["--hie-url", &url, "--hie-basic-username", "nurse"]);
        if let Some(flag) = flag {
            c.args(["--hie-basic-password", flag]);
        }
        let (code, _, err) = run(c.args(["get", "Patient/p1"]));
        assert_eq!(code, 0, "{err}");
        let seen = server.join().unwrap();
        assert!(
            seen.iter().any(|l| l.ends_with(&format!("Basic {basic}"))),
            "{seen:?}"
        );
    }
    // A switch that is not one is refused, naming the setting.
    let (code, _, err) = run(bin().args(["--hie-validate", "yes", "get", "Patient/p1"]));
    assert_eq!(code, 3);
    assert!(err.contains("hie.validate"), "{err}");
}

#[test]
fn http_errors_map_to_exit_codes() {
    let (url, server) = serve(
        r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no such Patient"}]}"#,
        "404 Not Found",
    );
    let (code, _, err) = run(bin().args(["--hie-url", &url, "get", "Patient/zz"]));
    server.join().unwrap();
    assert_eq!(code, 6);
    assert!(err.contains("no such Patient"), "{err}");
}

#[test]
fn token_mint_then_verify() {
    let settings = [
        "--jitsi-provider",
        "self-hosted",
        "--jitsi-domain",
        "meet.example.my",
        "--jitsi-app-id",
        "hie-vc",
        "--jitsi-app-secret",
        "a-long-enough-app-secret-for-hs256-0123",
    ];
    let (code, out, err) = run(bin().args(settings).args([
        "token",
        "mint",
        "--session",
        "19d3b96a-6c4d-485a-9514-cbf6ccfeed6b",
        "--role",
        "patient",
        "--user-id",
        "950728106051",
        "--name",
        "SITI",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["url"]
        .as_str()
        .unwrap()
        .starts_with("https://meet.example.my/"));
    let token = v["token"].as_str().unwrap();
    let (code, out, _) = run(bin().args(settings).args([
        "token",
        "verify",
        "--audience",
        "jitsi",
        "--issuer",
        "hie-vc",
        token,
    ]));
    assert_eq!(code, 0);
    let claims: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(claims["claims"]["context"]["user"]["moderator"], false);
    let (code, out, _) = run(bin().args([
        "token",
        "verify",
        "--secret",
        "another-secret-that-is-long-enough-xx",
        token,
    ]));
    assert_eq!(code, 1);
    assert!(out.contains("\"at\":\"signature\""), "{out}");
    let (code, _, _) =
        run(bin()
            .args(settings)
            .args(["token", "verify", "--issuer", "someone-else", token]));
    assert_eq!(code, 1);
    let (code, _, err) = run(bin().args([
        "token",
        "mint",
        "--jitsi-provider",
        "zoom",
        "--session",
        "s",
        "--user-id",
        "u",
        "--name",
        "n",
    ]));
    assert_eq!(code, 3, "{err}");
}

#[test]
fn notify_and_sandbox_serve() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt
        .block_on(hie_vc_sandbox::Sandbox::start(
            hie_vc_sandbox::SandboxConfig::new(),
        ))
        .unwrap();
    let (email, password) = sandbox.notify_login();
    let (code, out, err) = run(bin()
        .env("HIE_VC_NOTIFY_URL", sandbox.notify_base())
        .env("HIE_VC_NOTIFY_EMAIL", email)
        .env("HIE_VC_NOTIFY_PASSWORD", password)
        .args([
            "notify",
            "--title",
            "Virtual consultation",
            "--body",
            "Starting now",
            "950728106051",
            "880314085523",
        ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sent to 2 patient(s)"), "{out}");
    assert!(!err.contains(password));
    let notes = sandbox.notifications();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].patient_ids, ["950728106051", "880314085523"]);
    let (code, _, _) = run(bin()
        .env("HIE_VC_NOTIFY_URL", sandbox.notify_base())
        .env("HIE_VC_NOTIFY_EMAIL", email)
        .env("HIE_VC_NOTIFY_PASSWORD", "wrong")
        .args(["notify", "--title", "t", "--body", "b", "1"]));
    assert_eq!(code, 5, "a refused login is a 4xx");
    rt.block_on(sandbox.shutdown());

    // `sandbox serve` answers FHIR until stopped.
    let mut child = bin()
        .args(["sandbox", "serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut reader, &mut first).unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_owned();
    let host = url.trim_start_matches("http://").to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    write!(s, "GET /fhir/metadata HTTP/1.1\r\nHost: {host}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    drop(reader);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("CapabilityStatement"));
}
