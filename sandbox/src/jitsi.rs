//! The emulated HIE Jitsi token service, speaking the REST contract the SDK's `RestJitsi`
//! client uses by default ([`JitsiRestContract`]; another contract can be configured).
//!
//! Sessions are kept in memory; join tokens are real HS256 Jitsi JWTs (signed by the core's
//! self-hosted Jitsi minter with a per-sandbox secret, so tests can verify them), with join
//! URLs on the configured domain — nobody runs a Jitsi server there.

use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Method, Response};
use hie_vc::hie::Secret;
use hie_vc::jitsi::{
    JitsiRestContract, Participant, Role, RoomName, SelfHostedConfig, SelfHostedJitsi,
    TokenVerifier, DEFAULT_ROOM_PREFIX,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::Error;
use crate::jsonapi::{body_object, error, field, match_template, put, reply, string_field};
use crate::records::{JitsiSessionRecord, JoinRecord, SessionOrigin};

/// The app id (`iss`) of the sandbox's join tokens.
pub const JITSI_APP_ID: &str = "hie-vc-sandbox";

pub(crate) struct JitsiService {
    contract: JitsiRestContract,
    minter: SelfHostedJitsi,
    secret: Secret,
    sessions: Mutex<Vec<JitsiSessionRecord>>,
}

impl std::fmt::Debug for JitsiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitsiService")
            .field("contract", &self.contract)
            .finish_non_exhaustive()
    }
}

enum Call {
    Create,
    Join(String),
    Activate(String),
    End(String),
}

impl JitsiService {
    pub(crate) fn new(contract: JitsiRestContract, domain: &str) -> Result<Self, Error> {
        let secret = Secret::new(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ));
        let config = SelfHostedConfig::builder(domain)
            .app_id(JITSI_APP_ID)
            .app_secret(secret.clone())
            .build()
            .map_err(|e| Error::Config(format!("Jitsi emulator: {e}")))?;
        let minter = SelfHostedJitsi::new(config)
            .map_err(|e| Error::Config(format!("Jitsi emulator: {e}")))?;
        Ok(Self {
            contract,
            minter,
            secret,
            sessions: Mutex::new(Vec::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JitsiSessionRecord>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session: its token and room.
    pub(crate) fn create_session(&self, origin: SessionOrigin) -> (String, String) {
        let token = uuid::Uuid::new_v4().to_string();
        // A UUID always makes a valid room; fall back to the prefix alone if that ever changed.
        let room = RoomName::for_session(DEFAULT_ROOM_PREFIX, &token)
            .map(RoomName::into_string)
            .unwrap_or_else(|_| format!("{DEFAULT_ROOM_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        self.lock().push(JitsiSessionRecord {
            token: token.clone(),
            room: room.clone(),
            origin,
            created_at: OffsetDateTime::now_utc(),
            joins: Vec::new(),
            activated_at: None,
            activations: 0,
            ended_at: None,
            end_calls: 0,
        });
        (token, room)
    }

    pub(crate) fn sessions(&self) -> Vec<JitsiSessionRecord> {
        self.lock().clone()
    }

    /// A verifier of the join tokens this service issues.
    pub(crate) fn verifier(&self) -> TokenVerifier {
        // HS256 with the secret this service signs with: the verifier cannot fail to build.
        self.minter
            .verifier()
            .unwrap_or_else(|_| TokenVerifier::hs256(self.secret.clone()).issuer(JITSI_APP_ID))
    }

    pub(crate) fn contract(&self) -> &JitsiRestContract {
        &self.contract
    }

    fn route(&self, path: &str) -> Option<Call> {
        let c = &self.contract;
        if match_template(&c.create_path, path).is_some() {
            return Some(Call::Create);
        }
        let one = |t: &str| match_template(t, path).flatten();
        if let Some(t) = one(&c.join_path) {
            return Some(Call::Join(t));
        }
        if let Some(t) = one(&c.activate_path) {
            return Some(Call::Activate(t));
        }
        one(&c.end_path).map(Call::End)
    }

    /// Answers one request (`path` below the service's base).
    pub(crate) fn handle(&self, method: &Method, path: &str, body: &[u8]) -> Response<Body> {
        let Some(call) = self.route(path) else {
            return error(404, format!("no Jitsi token service endpoint at '{path}'"));
        };
        if method != Method::POST {
            return error(405, "the Jitsi token service takes POST");
        }
        let body = match body_object(body) {
            Ok(b) => b,
            Err(e) => return error(400, e),
        };
        match call {
            Call::Create => {
                let (token, room) = self.create_session(SessionOrigin::Api);
                let mut out = json!({});
                put(&mut out, &self.contract.session_token_field, json!(token));
                put(&mut out, &self.contract.room_field, json!(room));
                reply(201, &out)
            }
            Call::Join(token) => self.join(&token, &body),
            Call::Activate(token) => self.with_session(&token, |s| {
                if s.is_ended() {
                    return error(409, "the session has ended");
                }
                s.activations += 1;
                s.activated_at.get_or_insert_with(OffsetDateTime::now_utc);
                reply(200, &json!({ "status": "active" }))
            }),
            Call::End(token) => self.with_session(&token, |s| {
                s.end_calls += 1;
                if s.is_ended() {
                    return error(409, "the session has already ended");
                }
                s.ended_at = Some(OffsetDateTime::now_utc());
                reply(200, &json!({ "status": "ended" }))
            }),
        }
    }

    fn with_session(
        &self,
        token: &str,
        f: impl FnOnce(&mut JitsiSessionRecord) -> Response<Body>,
    ) -> Response<Body> {
        let mut sessions = self.lock();
        match sessions.iter_mut().find(|s| s.token == token) {
            Some(s) => f(s),
            None => error(404, "no session has this token"),
        }
    }

    fn join(&self, token: &str, body: &Value) -> Response<Body> {
        let c = &self.contract;
        let role = match field(body, &c.role_field).and_then(Value::as_str) {
            Some(r) if r == c.practitioner_role => Role::Practitioner,
            Some(r) if r == c.patient_role => Role::Patient,
            Some(r) => {
                return error(
                    400,
                    format!(
                        "'{}' is '{r}', not '{}' or '{}'",
                        c.role_field, c.practitioner_role, c.patient_role
                    ),
                )
            }
            None => return error(400, format!("'{}' is required", c.role_field)),
        };
        let (name, user_id) = match (
            string_field(body, &c.name_field),
            string_field(body, &c.user_id_field),
        ) {
            (Ok(n), Ok(u)) => (n, u),
            (Err(e), _) | (_, Err(e)) => return error(400, e),
        };
        let mut participant = Participant::new(role, user_id.clone(), name.clone());
        if let Some(e) = field(body, &c.email_field).and_then(Value::as_str) {
            participant = participant.email(e);
        }
        if let Some(a) = field(body, &c.avatar_field).and_then(Value::as_str) {
            participant = participant.avatar(a);
        }
        let role_value = c.role_value(role).to_owned();
        self.with_session(token, |s| {
            if s.is_ended() {
                return error(410, "the session has ended");
            }
            let room = match RoomName::new(s.room.clone()) {
                Ok(r) => r,
                Err(e) => return error(500, format!("stored room is invalid: {e}")),
            };
            let join = match self.minter.mint(&room, &participant) {
                Ok(j) => j,
                Err(e) => return error(400, e.to_string()),
            };
            s.joins.push(JoinRecord {
                role: role_value,
                user_id,
                name,
                at: OffsetDateTime::now_utc(),
            });
            let mut out = json!({});
            put(
                &mut out,
                &c.join_token_field,
                json!(join.token().expose_secret()),
            );
            put(&mut out, &c.join_url_field, json!(join.url()));
            reply(200, &out)
        })
    }
}
