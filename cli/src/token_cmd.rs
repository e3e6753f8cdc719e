//! `token` (mint or verify a Jitsi JWT) and `notify` (send a Notification API message).

use std::io::Read;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use clap::{Args, Subcommand};
use hie_vc::jitsi::{Participant, Role, TokenVerifier};
use hie_vc::notify::NotificationClient;
use hie_vc::settings::Settings;
use hie_vc::{Error, ErrorKind, Result};
use serde_json::json;

use crate::exit;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint (or, with the HIE provider, request) a join token and URL for a session.
    Mint(MintArgs),
    /// Verify a Jitsi JWT: signature, exp/nbf, and aud/iss when given; prints its claims.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct MintArgs {
    /// The session token (the Encounter's vc-token).
    #[arg(long)]
    session: String,
    /// practitioner (moderator) or patient.
    #[arg(long, default_value = "practitioner", value_parser = ["practitioner", "patient"])]
    role: String,
    /// The user's id.
    #[arg(long)]
    user_id: String,
    /// The user's display name.
    #[arg(long)]
    name: String,
    /// The user's e-mail.
    #[arg(long)]
    email: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The JWT (`-` reads it from standard input).
    token: String,
    /// HS256 secret (default: jitsi.app_secret from the settings).
    #[arg(long)]
    secret: Option<String>,
    /// RS256 public key file (PEM).
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// Required `aud`.
    #[arg(long)]
    audience: Option<String>,
    /// Required `iss`.
    #[arg(long)]
    issuer: Option<String>,
}

pub async fn token(cmd: &TokenCommand, settings: &Settings) -> Result<u8> {
    match cmd {
        TokenCommand::Mint(a) => {
            let provider = settings.jitsi.provider()?;
            let role = if a.role == "patient" {
                Role::Patient
            } else {
                Role::Practitioner
            };
            let mut p = Participant::new(role, a.user_id.clone(), a.name.clone());
            if let Some(e) = &a.email {
                p = p.email(e.clone());
            }
            let join = provider.join(&a.session, &p).await?;
            let expires = join
                .expires_at()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            println!(
                "{}",
                json!({"provider": provider.kind(), "role": role.as_str(), "room": join.room(), "url": join.url(),
                       "token": join.token().expose_secret(), "expiresAt": expires})
            );
            Ok(exit::OK)
        }
        TokenCommand::Verify(a) => {
            let mut jwt = a.token.clone();
            if jwt == "-" {
                jwt.clear();
                std::io::stdin().read_to_string(&mut jwt).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("cannot read standard input: {e}"),
                    )
                })?;
            }
            let mut v = match (&a.public_key, &a.secret, &settings.jitsi.app_secret) {
                (Some(path), _, _) => {
                    let pem = std::fs::read(path).map_err(|e| {
                        Error::config(format!("cannot read {}: {e}", path.display()))
                    })?;
                    TokenVerifier::rs256_pem(pem)
                }
                (None, Some(s), _) | (None, None, Some(s)) => TokenVerifier::hs256(s.clone()),
                (None, None, None) => {
                    return Err(Error::config(
                        "give --secret, --public-key or jitsi.app_secret to verify with",
                    ))
                }
            };
            if let Some(aud) = &a.audience {
                v = v.audience(aud.clone());
            }
            if let Some(iss) = &a.issuer {
                v = v.issuer(iss.clone());
            }
            match v.verify(jwt.trim()) {
                Ok(t) => {
                    println!(
                        "{}",
                        json!({"valid": true, "algorithm": t.algorithm, "kid": t.kid, "claims": serde_json::to_value(&t.claims).unwrap_or_default()})
                    );
                    Ok(exit::OK)
                }
                Err(e) if e.kind() == ErrorKind::InvalidInput => {
                    println!(
                        "{}",
                        json!({"valid": false, "reason": e.to_string(), "at": e.location()})
                    );
                    Ok(exit::FAILED)
                }
                Err(e) => Err(e),
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Title.
    #[arg(long)]
    title: String,
    /// Body.
    #[arg(long)]
    body: String,
    /// Patient ids (MyKad numbers).
    #[arg(required = true)]
    patient_ids: Vec<String>,
}

pub async fn notify(a: &NotifyArgs, settings: &Settings) -> Result<u8> {
    let client = NotificationClient::new(settings.notify.to_config()?)?;
    let sent = client
        .send(&a.title, &a.body, a.patient_ids.iter().cloned())
        .await?;
    println!(
        "sent to {} patient(s) (HTTP {}, request id {})",
        a.patient_ids.len(),
        sent.status,
        sent.request_id
    );
    Ok(exit::OK)
}
