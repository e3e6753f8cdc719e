//! The emulated Notification API (`docs/guide-gaps.md` §4), speaking the contract the SDK's
//! `NotificationClient` uses by default ([`NotificationContract`]): a login with the configured
//! e-mail and password that hands out expiring bearer tokens, and a send that records every
//! notification it accepts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Response};
use hie_vc::notify::NotificationContract;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::jsonapi::{body_object, error, field, match_template, put, reply, string_field};
use crate::records::NotificationRecord;

struct Session {
    email: String,
    expires: Instant,
}

pub(crate) struct NotifyService {
    contract: NotificationContract,
    email: String,
    password: String,
    ttl: Duration,
    require_mykad: bool,
    tokens: Mutex<HashMap<String, Session>>,
    records: Mutex<Vec<NotificationRecord>>,
    logins: Mutex<u32>,
}

impl std::fmt::Debug for NotifyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyService")
            .field("contract", &self.contract)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A MyKad number: 12 digits (`YYMMDD` + place of birth + serial), dashes allowed.
pub(crate) fn is_mykad(id: &str) -> bool {
    let digits: String = id.chars().filter(|c| *c != '-').collect();
    digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn unauthorized(message: &str) -> Response<Body> {
    let mut r = error(401, message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"notification-api\""),
    );
    r
}

impl NotifyService {
    pub(crate) fn new(
        contract: NotificationContract,
        email: String,
        password: String,
        ttl: Duration,
        require_mykad: bool,
    ) -> Self {
        Self {
            contract,
            email,
            password,
            ttl,
            require_mykad,
            tokens: Mutex::new(HashMap::new()),
            records: Mutex::new(Vec::new()),
            logins: Mutex::new(0),
        }
    }

    pub(crate) fn records(&self) -> Vec<NotificationRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Invalidates every token handed out (the next send gets 401).
    pub(crate) fn revoke_tokens(&self) {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Successful logins so far.
    pub(crate) fn logins(&self) -> u32 {
        *self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn contract(&self) -> &NotificationContract {
        &self.contract
    }

    /// Answers one request (`path` below the service's base).
    pub(crate) fn handle(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response<Body> {
        let login = match_template(&self.contract.login_path, path).is_some();
        let send = match_template(&self.contract.send_path, path).is_some();
        if !login && !send {
            return error(404, format!("no Notification API endpoint at '{path}'"));
        }
        if method != Method::POST {
            return error(405, "the Notification API takes POST");
        }
        let body = match body_object(body) {
            Ok(b) => b,
            Err(e) => return error(400, e),
        };
        if login {
            self.login(&body)
        } else {
            self.send(headers, &body)
        }
    }

    fn login(&self, body: &Value) -> Response<Body> {
        let c = &self.contract;
        let email = field(body, &c.email_field).and_then(Value::as_str);
        let password = field(body, &c.password_field).and_then(Value::as_str);
        let (Some(email), Some(password)) = (email, password) else {
            return error(
                400,
                format!(
                    "'{}' and '{}' are required",
                    c.email_field, c.password_field
                ),
            );
        };
        if email != self.email || password != self.password {
            return unauthorized("invalid e-mail or password");
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                token.clone(),
                Session {
                    email: email.to_owned(),
                    expires: Instant::now() + self.ttl,
                },
            );
        *self.logins.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let mut out = json!({ "expiresIn": self.ttl.as_secs() });
        let pointer = c.token_pointers.first().map_or("/token", String::as_str);
        put(&mut out, pointer, json!(token));
        reply(200, &out)
    }

    /// The account of the request's bearer token, or why it is refused.
    fn sender(&self, headers: &HeaderMap) -> Result<String, &'static str> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or("a bearer token is required (log in first)")?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        match tokens.get(token) {
            Some(s) if s.expires > Instant::now() => Ok(s.email.clone()),
            Some(_) => {
                tokens.remove(token);
                Err("the token has expired")
            }
            None => Err("the token is not valid"),
        }
    }

    fn send(&self, headers: &HeaderMap, body: &Value) -> Response<Body> {
        let sender = match self.sender(headers) {
            Ok(s) => s,
            Err(why) => return unauthorized(why),
        };
        let c = &self.contract;
        let (title, text) = match (
            string_field(body, &c.title_field),
            string_field(body, &c.body_field),
        ) {
            (Ok(t), Ok(b)) => (t, b),
            (Err(e), _) | (_, Err(e)) => return error(400, e),
        };
        let ids = match field(body, &c.patient_ids_field) {
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(Value::Array(_)) => {
                return error(400, format!("'{}' is empty", c.patient_ids_field))
            }
            _ => {
                return error(
                    400,
                    format!("'{}' must be an array of patient ids", c.patient_ids_field),
                )
            }
        };
        let mut patient_ids = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            match id.as_str().map(str::trim) {
                Some(s) if !s.is_empty() && (!self.require_mykad || is_mykad(s)) => {
                    patient_ids.push(s.to_owned())
                }
                Some(s) if !s.is_empty() => {
                    return error(
                        422,
                        format!(
                            "{}[{i}] is not a MyKad number (12 digits)",
                            c.patient_ids_field
                        ),
                    )
                }
                _ => {
                    return error(
                        400,
                        format!("{}[{i}] must be a non-empty string", c.patient_ids_field),
                    )
                }
            }
        }
        let n = patient_ids.len();
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(NotificationRecord {
                title,
                body: text,
                patient_ids,
                sender,
                at: OffsetDateTime::now_utc(),
            });
        reply(
            200,
            &json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "status": "sent",
                "recipients": n,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mykad_numbers() {
        assert!(is_mykad("950728106051"));
        assert!(is_mykad("950728-10-6051"));
        assert!(!is_mykad("95072810605"));
        assert!(!is_mykad("patient-1"));
    }
}
