//! Mints or verifies Jitsi tokens from a JSON request on stdin and prints the result as JSON:
//! the bridge for `tests/python/test_jitsi_tokens.py`, which checks the tokens with PyJWT (an
//! independent implementation) and has the SDK verify tokens PyJWT made.
//!
//! ```text
//! echo '{"provider":"self-hosted","domain":"meet.example.org","app_id":"app","app_secret":"s",
//!        "participants":[{"role":"practitioner","id":"d1","name":"Dr A"}]}' \
//!   | cargo run -q -p hie-vc --example jitsi_mint
//! ```
//!
//! Mint request: `provider` (`self-hosted` | `jaas`) and its settings — self-hosted: `domain`,
//! `app_id`, `app_secret` or `private_key_pem` + `kid`, optional `audience`, `tenant`,
//! `any_room`; JaaS: `app_id`, `key_id`, `private_key_pem`, optional `features` — plus
//! optional `ttl_secs`, `room_prefix`, `session_token` (default: a new session), `issued_at`
//! (Unix seconds; default now) and `participants` (`role`, `id`, `name`, `email`, `avatar`,
//! `moderator`). Answer: `{"session_token", "room", "joins": [{"role", "room", "token", "url",
//! "expires_at"}]}`.
//!
//! Verify request: `{"verify": {"token", "alg": "HS256"|"RS256", "secret" | "public_key_pem",
//! "audience", "issuer", "subject", "kid", "leeway_secs"}}` (all but `token` and the key
//! optional). Answer: `{"algorithm", "kid", "claims"}`.
//!
//! Errors: `{"error": {"kind", "message", "location"}}` on stdout, exit status 2. Tokens are
//! printed because printing them is this tool's job; the SDK itself never does.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hie_vc::jitsi::{
    JaasConfig, JaasFeatures, JaasJitsi, JitsiProvider, Participant, Role, SelfHostedConfig,
    SelfHostedJitsi, TokenVerifier,
};
use hie_vc::{Error, ErrorKind, Result};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct MintRequest {
    provider: String,
    domain: Option<String>,
    app_id: Option<String>,
    app_secret: Option<String>,
    private_key_pem: Option<String>,
    kid: Option<String>,
    key_id: Option<String>,
    audience: Option<String>,
    tenant: Option<String>,
    #[serde(default)]
    any_room: bool,
    features: Option<JaasFeatures>,
    ttl_secs: Option<u64>,
    room_prefix: Option<String>,
    session_token: Option<String>,
    issued_at: Option<u64>,
    #[serde(default)]
    participants: Vec<ParticipantSpec>,
}

#[derive(Deserialize)]
struct ParticipantSpec {
    role: String,
    id: String,
    name: String,
    email: Option<String>,
    avatar: Option<String>,
    moderator: Option<bool>,
}

#[derive(Deserialize)]
struct VerifyRequest {
    token: String,
    alg: String,
    secret: Option<String>,
    public_key_pem: Option<String>,
    audience: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    kid: Option<String>,
    leeway_secs: Option<u64>,
}

fn bad_input(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

fn participant(p: &ParticipantSpec) -> Result<Participant> {
    let role = match p.role.as_str() {
        "practitioner" => Role::Practitioner,
        "patient" => Role::Patient,
        other => return Err(bad_input(format!("unknown role '{other}'"))),
    };
    let mut out = Participant::new(role, p.id.clone(), p.name.clone());
    if let Some(e) = &p.email {
        out = out.email(e.clone());
    }
    if let Some(a) = &p.avatar {
        out = out.avatar(a.clone());
    }
    if let Some(m) = p.moderator {
        out = out.moderator(m);
    }
    Ok(out)
}

/// The provider, and a function minting at a given time (for `issued_at`).
type MintAt = Box<dyn Fn(&str, &Participant, SystemTime) -> Result<(String, String, String)>>;

fn provider(r: &MintRequest) -> Result<(Box<dyn JitsiProvider>, MintAt)> {
    let ttl = r.ttl_secs.map(Duration::from_secs);
    match r.provider.as_str() {
        "self-hosted" => {
            let mut b = SelfHostedConfig::builder(r.domain.clone().unwrap_or_default());
            if let Some(a) = &r.app_id {
                b = b.app_id(a.clone());
            }
            if let Some(s) = &r.app_secret {
                b = b.app_secret(s.clone());
            }
            if let Some(pem) = &r.private_key_pem {
                b = b.rs256_private_key(pem, r.kid.clone().unwrap_or_default());
            }
            if let Some(a) = &r.audience {
                b = b.audience(a.clone());
            }
            if let Some(t) = &r.tenant {
                b = b.tenant(t.clone());
            }
            if let Some(t) = ttl {
                b = b.token_ttl(t);
            }
            if let Some(p) = &r.room_prefix {
                b = b.room_prefix(p.clone());
            }
            let j = SelfHostedJitsi::new(b.any_room(r.any_room).build()?)?;
            let minter = j.clone();
            let at: MintAt = Box::new(move |token, p, now| {
                let room = minter.room_for(token)?;
                let jwt = minter.sign(&minter.claims(&room, p, now))?;
                Ok((room.to_string(), minter.join_url(&room, &jwt), jwt))
            });
            Ok((Box::new(j), at))
        }
        "jaas" => {
            let mut b = JaasConfig::builder(r.app_id.clone().unwrap_or_default());
            if let (Some(k), Some(pem)) = (&r.key_id, &r.private_key_pem) {
                b = b.api_key(k.clone(), pem);
            }
            if let Some(f) = r.features {
                b = b.features(f);
            }
            if let Some(t) = ttl {
                b = b.token_ttl(t);
            }
            if let Some(p) = &r.room_prefix {
                b = b.room_prefix(p.clone());
            }
            let j = JaasJitsi::new(b.any_room(r.any_room).build()?);
            let minter = j.clone();
            let at: MintAt = Box::new(move |token, p, now| {
                let room = minter.room_for(token)?;
                let jwt = minter.sign(&minter.claims(&room, p, now))?;
                Ok((room.to_string(), minter.join_url(&room, &jwt), jwt))
            });
            Ok((Box::new(j), at))
        }
        other => Err(bad_input(format!(
            "unknown provider '{other}' (self-hosted | jaas)"
        ))),
    }
}

async fn mint(r: MintRequest) -> Result<Value> {
    let (jitsi, mint_at) = provider(&r)?;
    let session = match &r.session_token {
        Some(t) => t.clone(),
        None => jitsi.create_session().await?.token,
    };
    let mut joins = Vec::new();
    for spec in &r.participants {
        let p = participant(spec)?;
        let (room, url, token, expires_at) = match r.issued_at {
            Some(at) => {
                let (room, url, token) =
                    mint_at(&session, &p, UNIX_EPOCH + Duration::from_secs(at))?;
                (Some(room), url, token, None)
            }
            // The provider interface, as the VC orchestration uses it.
            None => {
                let j = jitsi.join(&session, &p).await?;
                let exp = j
                    .expires_at()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs());
                let token = j.token().expose_secret().to_owned();
                (j.room().map(str::to_owned), j.url().to_owned(), token, exp)
            }
        };
        joins.push(json!({
            "role": p.role().as_str(), "room": room, "token": token, "url": url, "expires_at": expires_at,
        }));
    }
    let room = joins
        .first()
        .and_then(|j| j["room"].as_str())
        .map(str::to_owned);
    Ok(json!({"session_token": session, "room": room, "joins": joins}))
}

fn verify(r: VerifyRequest) -> Result<Value> {
    let mut v = match (r.alg.as_str(), &r.secret, &r.public_key_pem) {
        ("HS256", Some(s), _) => TokenVerifier::hs256(s.clone()),
        ("RS256", _, Some(pem)) => TokenVerifier::rs256_pem(pem),
        _ => {
            return Err(Error::config(
                "give alg HS256 with secret, or RS256 with public_key_pem",
            ))
        }
    };
    if let Some(a) = r.audience {
        v = v.audience(a);
    }
    if let Some(i) = r.issuer {
        v = v.issuer(i);
    }
    if let Some(s) = r.subject {
        v = v.subject(s);
    }
    if let Some(k) = r.kid {
        v = v.kid(k);
    }
    if let Some(l) = r.leeway_secs {
        v = v.leeway(Duration::from_secs(l));
    }
    let ok = v.verify(&r.token)?;
    Ok(json!({"algorithm": ok.algorithm, "kid": ok.kid, "claims": ok.claims}))
}

async fn run(input: &str) -> Result<Value> {
    let v: Value = serde_json::from_str(input)
        .map_err(|e| bad_input(format!("the request is not JSON: {e}")))?;
    if let Some(req) = v.get("verify") {
        let req: VerifyRequest = serde_json::from_value(req.clone())
            .map_err(|e| bad_input(format!("bad verify request: {e}")))?;
        return verify(req);
    }
    let req: MintRequest =
        serde_json::from_value(v).map_err(|e| bad_input(format!("bad mint request: {e}")))?;
    mint(req).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read stdin: {e}");
        std::process::exit(1);
    }
    match run(&input).await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            println!(
                "{}",
                json!({"error": {"kind": e.kind().as_str(), "message": e.message(), "location": e.location()}})
            );
            std::process::exit(2);
        }
    }
}
