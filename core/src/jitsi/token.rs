//! Jitsi JWTs: the claims Jitsi Meet's token authentication (Prosody `mod_auth_token` with
//! `token/util`) and 8x8 JaaS read, signing with HS256 or RS256, and verification.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind as JwtKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::hie::Secret;

/// The claims of a Jitsi token.
///
/// Prosody checks `iss` against its accepted issuers (the `app_id` by default), `aud` against
/// its accepted audiences, requires `room` (`*` for every room) and compares it with the MUC
/// room, reads `sub` as the domain or tenant, and `exp`/`nbf` bound the validity. The user in
/// `context.user` is shown in the meeting; `moderator` makes the participant a moderator
/// (token affiliation). JaaS adds `context.features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitsiClaims {
    /// Issuer: the `app_id` (self-hosted) or `chat` (JaaS).
    pub iss: String,
    /// Audience: `jitsi` unless the deployment accepts another.
    #[serde(deserialize_with = "string_or_first")]
    pub aud: String,
    /// Subject: the domain or tenant (self-hosted), the AppID (JaaS).
    pub sub: String,
    /// The room the token admits to, or `*` for any room.
    pub room: String,
    /// Issued at (seconds since the Unix epoch).
    pub iat: i64,
    /// Not before (seconds since the Unix epoch).
    pub nbf: i64,
    /// Expiry (seconds since the Unix epoch).
    pub exp: i64,
    /// Who joins, and the JaaS features.
    #[serde(default)]
    pub context: JitsiContext,
}

/// `context` of a Jitsi token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JitsiContext {
    /// The participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<JitsiUser>,
    /// JaaS features (self-hosted deployments ignore them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<JaasFeatures>,
}

/// `context.user` of a Jitsi token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JitsiUser {
    /// A stable user id (the practitioner's or patient's id in the source system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The display name in the meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail (Gravatar, invitations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Whether the participant is a moderator. Read from `true` or `"true"` (both occur).
    #[serde(
        default,
        deserialize_with = "flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub moderator: Option<bool>,
}

/// The JaaS features a token grants (`context.features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JaasFeatures {
    /// Live streaming.
    #[serde(default, deserialize_with = "flag_or_false")]
    pub livestreaming: bool,
    /// Recording.
    #[serde(default, deserialize_with = "flag_or_false")]
    pub recording: bool,
    /// Transcription.
    #[serde(default, deserialize_with = "flag_or_false")]
    pub transcription: bool,
    /// Dialling out to phone numbers.
    #[serde(rename = "outbound-call", default, deserialize_with = "flag_or_false")]
    pub outbound_call: bool,
}

impl Default for JaasFeatures {
    /// Everything off: a clinical consultation is not streamed, recorded, transcribed or dialled
    /// out unless the integrator decides so.
    fn default() -> Self {
        Self {
            livestreaming: false,
            recording: false,
            transcription: false,
            outbound_call: false,
        }
    }
}

fn string_or_first<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    match Aud::deserialize(d)? {
        Aud::One(s) => Ok(s),
        Aud::Many(v) => v
            .into_iter()
            .next()
            .ok_or_else(|| serde::de::Error::custom("empty aud")),
    }
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        None => None,
        Some(Flag::Bool(b)) => Some(b),
        Some(Flag::Text(s)) => Some(s.eq_ignore_ascii_case("true")),
    })
}

fn flag_or_false<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(flag(d)?.unwrap_or(false))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The time of a Unix timestamp.
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// A signing key and the `kid` of its header.
#[derive(Clone)]
pub(crate) struct Signer {
    alg: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"***")
            .finish()
    }
}

impl Signer {
    /// HS256 with a shared secret (Prosody's `app_secret`).
    pub(crate) fn hs256(secret: &Secret, kid: Option<String>) -> Result<Self> {
        if secret.expose_secret().is_empty() {
            return Err(Error::config(
                "the HS256 app secret is empty; set it to Prosody's app_secret",
            ));
        }
        if secret.expose_secret().len() < 32 {
            // Accepted because existing deployments may have one, but a short HMAC key can be
            // brute-forced from a single leaked token.
            tracing::warn!(
                target: "hie_vc::jitsi",
                "the HS256 app secret is shorter than 32 bytes (RFC 7518 §3.2); use a longer one"
            );
        }
        Ok(Self {
            alg: Algorithm::HS256,
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
            kid,
        })
    }

    /// RS256 with a PEM private key (PKCS#1 or PKCS#8). The key is tried once here, so a key
    /// that parses but cannot sign fails at configuration time, not at the first join.
    pub(crate) fn rs256(pem: &Secret, kid: String, what: &str) -> Result<Self> {
        if kid.trim().is_empty() {
            return Err(Error::config(format!(
                "the {what} needs a key id (kid): the verifier looks the public key up by it"
            )));
        }
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|e| {
            Error::config(format!(
                "the {what} is not an RSA private key in PEM form ({e}); give the PKCS#1 or PKCS#8 PEM text"
            ))
        })?;
        let signer = Self {
            alg: Algorithm::RS256,
            key,
            kid: Some(kid),
        };
        signer
            .sign(&serde_json::json!({"probe": true}))
            .map_err(|e| {
                Error::config(format!(
                    "the {what} cannot sign RS256 tokens: {}",
                    e.message()
                ))
            })?;
        Ok(signer)
    }

    /// The signed token for `claims`.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| {
            Error::config(format!(
                "could not sign the Jitsi token ({e}); check the signing key"
            ))
            .with_source(e)
        })
    }
}

/// A token that passed verification.
#[derive(Clone)]
pub struct VerifiedToken {
    /// The algorithm (`HS256`, `RS256`).
    pub algorithm: String,
    /// The header's key id.
    pub kid: Option<String>,
    /// The claims.
    pub claims: JitsiClaims,
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("claims", &self.claims)
            .finish()
    }
}

impl VerifiedToken {
    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        from_unix(self.claims.exp)
    }
    /// Whether the token makes its holder a moderator.
    pub fn is_moderator(&self) -> bool {
        self.claims
            .context
            .user
            .as_ref()
            .and_then(|u| u.moderator)
            .unwrap_or(false)
    }
}

/// Verifies Jitsi tokens: signature, `exp` and `nbf`, and — when set — `aud`, `iss`, `sub`
/// and `kid`. For the CLI's `token verify` and for checking tokens a token service returns.
///
/// Failures are [`ErrorKind::InvalidInput`] errors whose
/// [`location`](crate::Error::location) names what failed — `signature`, `exp`, `nbf`, `aud`,
/// `iss`, `sub`, `header.kid`, `header.alg` or `token` (not a JWT / not a Jitsi token) — so a
/// caller can tell an expired token from a forged one.
///
/// ```
/// use hie_vc::jitsi::TokenVerifier;
/// let v = TokenVerifier::hs256("app-secret").audience("jitsi").issuer("my-app");
/// let e = v.verify("not-a-jwt").unwrap_err();
/// assert_eq!(e.location(), Some("token"));
/// assert!(!format!("{v:?}").contains("app-secret"));
/// ```
#[derive(Clone)]
pub struct TokenVerifier {
    alg: Algorithm,
    key: std::result::Result<DecodingKey, String>,
    audience: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    kid: Option<String>,
    leeway: Duration,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("alg", &self.alg)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("kid", &self.kid)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    fn with(alg: Algorithm, key: std::result::Result<DecodingKey, String>) -> Self {
        Self {
            alg,
            key,
            audience: None,
            issuer: None,
            subject: None,
            kid: None,
            leeway: Duration::ZERO,
        }
    }
    /// Verifies HS256 tokens signed with `secret` (Prosody's `app_secret`).
    pub fn hs256(secret: impl Into<Secret>) -> Self {
        let secret = secret.into();
        let key = if secret.expose_secret().is_empty() {
            Err("the HS256 secret is empty".to_owned())
        } else {
            Ok(DecodingKey::from_secret(secret.expose_secret().as_bytes()))
        };
        Self::with(Algorithm::HS256, key)
    }
    /// Verifies RS256 tokens with an RSA public key in PEM form (`BEGIN PUBLIC KEY` or
    /// `BEGIN RSA PUBLIC KEY`). A bad key is reported by [`verify`](Self::verify) as a
    /// [`ErrorKind::Config`] error.
    pub fn rs256_pem(public_key_pem: impl AsRef<[u8]>) -> Self {
        let key = DecodingKey::from_rsa_pem(public_key_pem.as_ref())
            .map_err(|e| format!("the RSA public key is not valid PEM ({e})"));
        Self::with(Algorithm::RS256, key)
    }
    /// The `aud` required (e.g. `jitsi`).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }
    /// The `iss` required (the app id; `chat` for JaaS).
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }
    /// The `sub` required (domain, tenant or JaaS AppID).
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }
    /// The header `kid` required.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }
    /// Clock skew tolerated on `exp` and `nbf` (default none).
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// Verifies `token` now.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken> {
        let key = self.key.as_ref().map_err(|m| Error::config(m.clone()))?;
        let bad = |loc: &'static str, msg: String| {
            Error::new(ErrorKind::InvalidInput, msg).with_location(loc)
        };
        let header = jsonwebtoken::decode_header(token.trim())
            .map_err(|e| bad("token", format!("not a JWT ({e})")))?;
        if header.alg != self.alg {
            return Err(bad(
                "header.alg",
                format!(
                    "the token is signed with {:?}; this verifier expects {:?}",
                    header.alg, self.alg
                ),
            ));
        }
        if let Some(want) = &self.kid {
            if header.kid.as_deref() != Some(want.as_str()) {
                return Err(bad(
                    "header.kid",
                    format!(
                        "the token's kid is {:?}, expected '{want}'",
                        header.kid.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        }
        let mut v = Validation::new(self.alg);
        v.leeway = self.leeway.as_secs();
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        match &self.audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        if let Some(i) = &self.issuer {
            v.set_issuer(&[i]);
        }
        v.sub = self.subject.clone();
        let data = jsonwebtoken::decode::<JitsiClaims>(token.trim(), key, &v)
            .map_err(|e| self.explain(e, token))?;
        Ok(VerifiedToken {
            algorithm: format!("{:?}", data.header.alg),
            kid: data.header.kid,
            claims: data.claims,
        })
    }

    /// A message that says what failed, with the token's own value where that helps.
    fn explain(&self, e: jsonwebtoken::errors::Error, token: &str) -> Error {
        // The claims as sent, read without trusting them, only to word the message.
        let seen: Option<serde_json::Value> = token
            .split('.')
            .nth(1)
            .and_then(|p| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p.trim_end_matches('='))
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok());
        let claim = |name: &str| {
            seen.as_ref()
                .and_then(|v| v.get(name))
                .map(|v| v.to_string())
                .unwrap_or_else(|| "(none)".into())
        };
        let now = unix(SystemTime::now());
        let ago = |name: &str| {
            seen.as_ref()
                .and_then(|v| v.get(name))
                .and_then(|v| v.as_i64())
                .map(|t| t - now)
        };
        let (loc, msg) = match e.kind() {
            JwtKind::InvalidSignature => (
                "signature",
                "the signature does not verify with this key: a wrong key or secret, or a token that was changed".to_owned(),
            ),
            JwtKind::ExpiredSignature => (
                "exp",
                match ago("exp") {
                    Some(d) => format!("the token expired {} s ago; get a new one", -d),
                    None => "the token expired; get a new one".to_owned(),
                },
            ),
            JwtKind::ImmatureSignature => (
                "nbf",
                match ago("nbf") {
                    Some(d) => format!("the token is not valid for another {d} s (nbf); check the clocks"),
                    None => "the token is not valid yet (nbf)".to_owned(),
                },
            ),
            JwtKind::InvalidAudience => (
                "aud",
                format!(
                    "the token's aud is {}, expected '{}'",
                    claim("aud"),
                    self.audience.as_deref().unwrap_or("")
                ),
            ),
            JwtKind::InvalidIssuer => (
                "iss",
                format!(
                    "the token's iss is {}, expected '{}'",
                    claim("iss"),
                    self.issuer.as_deref().unwrap_or("")
                ),
            ),
            JwtKind::InvalidSubject => (
                "sub",
                format!(
                    "the token's sub is {}, expected '{}'",
                    claim("sub"),
                    self.subject.as_deref().unwrap_or("")
                ),
            ),
            JwtKind::MissingRequiredClaim(c) => {
                ("token", format!("the token has no '{c}' claim; it is not a Jitsi token"))
            }
            JwtKind::InvalidAlgorithm => (
                "header.alg",
                format!("the token's algorithm does not match this verifier's {:?}", self.alg),
            ),
            JwtKind::InvalidRsaKey(_) | JwtKind::InvalidKeyFormat => {
                return Error::config(format!("the verification key is not usable ({e})"))
            }
            _ => ("token", format!("not a valid Jitsi token ({e})")),
        };
        Error::new(ErrorKind::InvalidInput, msg)
            .with_location(loc)
            .with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> JitsiClaims {
        let now = unix(SystemTime::now());
        JitsiClaims {
            iss: "app".into(),
            aud: "jitsi".into(),
            sub: "meet.example".into(),
            room: "vc-1".into(),
            iat: now,
            nbf: now - 10,
            exp: now + exp_in,
            context: JitsiContext {
                user: Some(JitsiUser {
                    id: Some("u1".into()),
                    name: Some("Dr A".into()),
                    moderator: Some(true),
                    ..Default::default()
                }),
                features: None,
            },
        }
    }

    #[test]
    fn hs256_round_trip_and_failures_are_located() {
        let s = Signer::hs256(&Secret::new("s3cret"), None).unwrap();
        let t = s.sign(&claims(60)).unwrap();
        let v = TokenVerifier::hs256("s3cret")
            .audience("jitsi")
            .issuer("app");
        let ok = v.verify(&t).unwrap();
        let want = claims(60);
        assert_eq!((&ok.claims.iss, &ok.claims.room), (&want.iss, &want.room));
        assert_eq!(ok.claims.context, want.context);
        assert!(ok.is_moderator());
        let wrong = TokenVerifier::hs256("other").verify(&t).unwrap_err();
        assert_eq!(wrong.location(), Some("signature"));
        let expired = TokenVerifier::hs256("s3cret")
            .verify(&s.sign(&claims(-120)).unwrap())
            .unwrap_err();
        assert_eq!(expired.location(), Some("exp"));
        assert!(expired.message().contains("expired"), "{expired}");
        let aud = TokenVerifier::hs256("s3cret")
            .audience("other")
            .verify(&t)
            .unwrap_err();
        assert_eq!(aud.location(), Some("aud"));
        let iss = TokenVerifier::hs256("s3cret")
            .issuer("x")
            .verify(&t)
            .unwrap_err();
        assert_eq!(iss.location(), Some("iss"));
        assert!(iss.message().contains("\"app\""), "{iss}");
        let alg = TokenVerifier::rs256_pem(b"junk").verify(&t).unwrap_err();
        assert_eq!(alg.kind(), ErrorKind::Config);
    }

    #[test]
    fn moderator_reads_strings_and_aud_reads_arrays() {
        let c: JitsiClaims = serde_json::from_str(
            r#"{"iss":"a","aud":["jitsi"],"sub":"s","room":"*","iat":1,"nbf":1,"exp":2,
                "context":{"user":{"moderator":"true"},"features":{"recording":"true"}}}"#,
        )
        .unwrap();
        assert_eq!(c.aud, "jitsi");
        assert_eq!(c.context.user.unwrap().moderator, Some(true));
        assert!(c.context.features.unwrap().recording);
    }

    #[test]
    fn empty_secrets_are_config_errors() {
        assert_eq!(
            Signer::hs256(&Secret::new(""), None).unwrap_err().kind(),
            ErrorKind::Config
        );
        assert_eq!(
            TokenVerifier::hs256("").verify("a.b.c").unwrap_err().kind(),
            ErrorKind::Config
        );
        let e = Signer::rs256(&Secret::new("not pem"), "k".into(), "JaaS key").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!format!("{e:?}").contains("not pem"));
    }
}
