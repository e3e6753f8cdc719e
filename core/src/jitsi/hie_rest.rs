//! HIE's Jitsi token service over REST. Its endpoints are not published, so every path and JSON
//! field name is a setting ([`JitsiRestContract`]); the defaults are the SDK's documented
//! contract, which the embedded sandbox implements.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{EndOutcome, JitsiProvider, JitsiSession, Join, Participant, Role};
use crate::error::{Error, ErrorKind, Result};
use crate::hie::Auth;
use crate::http::{self, HttpSettings, JsonService, Repeat, Req};

const SERVICE: &str = "the Jitsi token service";

/// The paths and JSON field names of the token service.
///
/// Paths are relative to the base URL (a leading `/` is ignored) and contain `{token}` as a
/// whole segment where the session token goes (percent-encoded). Response fields are top-level
/// names, or JSON pointers when they start with `/` (e.g. `/data/token`).
///
/// The defaults:
///
/// | call | request | 2xx response |
/// |---|---|---|
/// | create | `POST {base}/api/v1/sessions` with `{}` | `{"token": "<session token>", "room": "<room>"}` (`room` optional) |
/// | join | `POST {base}/api/v1/sessions/{token}/join` with `{"role": "practitioner"\|"patient", "name", "email", "userId", "avatar"}` (`email`, `avatar` only when known) | `{"token": "<join JWT>", "url": "<join URL>"}` |
/// | activate | `POST {base}/api/v1/sessions/{token}/activate` with `{}` | any (idempotent) |
/// | end | `POST {base}/api/v1/sessions/{token}/end` with `{}` | any; `409`/`410` = already ended |
///
/// Errors are answered with a 4xx/5xx status and optionally `{"message": "..."}`; an unknown
/// session token is `404`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JitsiRestContract {
    /// Create a session (default `api/v1/sessions`).
    pub create_path: String,
    /// Get a join token (default `api/v1/sessions/{token}/join`).
    pub join_path: String,
    /// Activate (start) a session (default `api/v1/sessions/{token}/activate`).
    pub activate_path: String,
    /// End a session (default `api/v1/sessions/{token}/end`).
    pub end_path: String,
    /// The session token in the create response (default `token`).
    pub session_token_field: String,
    /// The room in the create response (default `room`).
    pub room_field: String,
    /// The role in the join request (default `role`).
    pub role_field: String,
    /// The display name in the join request (default `name`).
    pub name_field: String,
    /// The e-mail in the join request (default `email`).
    pub email_field: String,
    /// The user id in the join request (default `userId`).
    pub user_id_field: String,
    /// The avatar URL in the join request (default `avatar`).
    pub avatar_field: String,
    /// The role value of a practitioner (default `practitioner`).
    pub practitioner_role: String,
    /// The role value of a patient (default `patient`).
    pub patient_role: String,
    /// The join token in the join response (default `token`).
    pub join_token_field: String,
    /// The join URL in the join response (default `url`).
    pub join_url_field: String,
}

/// The placeholder of the session token in paths.
pub const TOKEN_PLACEHOLDER: &str = "{token}";

impl Default for JitsiRestContract {
    fn default() -> Self {
        Self {
            create_path: "api/v1/sessions".into(),
            join_path: "api/v1/sessions/{token}/join".into(),
            activate_path: "api/v1/sessions/{token}/activate".into(),
            end_path: "api/v1/sessions/{token}/end".into(),
            session_token_field: "token".into(),
            room_field: "room".into(),
            role_field: "role".into(),
            name_field: "name".into(),
            email_field: "email".into(),
            user_id_field: "userId".into(),
            avatar_field: "avatar".into(),
            practitioner_role: "practitioner".into(),
            patient_role: "patient".into(),
            join_token_field: "token".into(),
            join_url_field: "url".into(),
        }
    }
}

impl JitsiRestContract {
    /// The role value sent for `role`.
    pub fn role_value(&self, role: Role) -> &str {
        match role {
            Role::Practitioner => &self.practitioner_role,
            Role::Patient => &self.patient_role,
        }
    }

    fn check(&self) -> Result<()> {
        let paths = [
            ("create_path", &self.create_path, false),
            ("join_path", &self.join_path, true),
            ("activate_path", &self.activate_path, true),
            ("end_path", &self.end_path, true),
        ];
        for (name, path, needs_token) in paths {
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            if path.contains('?') || path.contains('#') || segments.iter().any(|s| s.is_empty()) {
                return Err(Error::config(format!(
                    "Jitsi REST {name} '{path}' must be a relative path without empty segments, query or fragment"
                )));
            }
            let holders = segments
                .iter()
                .filter(|s| s.contains(TOKEN_PLACEHOLDER))
                .count();
            let whole = segments.iter().filter(|s| **s == TOKEN_PLACEHOLDER).count();
            if holders != whole || whole > 1 || (needs_token && whole == 0) {
                return Err(Error::config(format!(
                    "Jitsi REST {name} '{path}' must contain {TOKEN_PLACEHOLDER} {} as a whole path segment",
                    if needs_token { "once" } else { "at most once" }
                )));
            }
        }
        let fields = [
            &self.session_token_field,
            &self.room_field,
            &self.role_field,
            &self.name_field,
            &self.email_field,
            &self.user_id_field,
            &self.avatar_field,
            &self.join_token_field,
            &self.join_url_field,
            &self.practitioner_role,
            &self.patient_role,
        ];
        if fields.iter().any(|f| f.trim().is_empty()) {
            return Err(Error::config(
                "Jitsi REST field names and role values must not be empty",
            ));
        }
        Ok(())
    }
}

/// A field of a response: a top-level name, or a JSON pointer when it starts with `/`.
fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    if name.starts_with('/') {
        v.pointer(name)
    } else {
        v.get(name)
    }
}

/// The settings of a [`RestJitsi`]; build with [`RestJitsiConfig::builder`].
#[derive(Debug, Clone)]
pub struct RestJitsiConfig {
    base_url: url::Url,
    auth: Auth,
    contract: JitsiRestContract,
    http: HttpSettings,
}

impl RestJitsiConfig {
    /// Settings for the token service at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> RestJitsiConfigBuilder {
        RestJitsiConfigBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            contract: JitsiRestContract::default(),
            http: HttpSettings::default(),
        }
    }
    /// The base URL (ends with `/`).
    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }
    /// The contract.
    pub fn contract(&self) -> &JitsiRestContract {
        &self.contract
    }
}

/// Builds a [`RestJitsiConfig`].
///
/// ```
/// use hie_vc::hie::Auth;
/// use hie_vc::jitsi::{JitsiRestContract, RestJitsiConfig};
/// let c = RestJitsiConfig::builder("https://jitsi-api.hie.example")
///     .auth(Auth::bearer("svc-token"))
///     .contract(JitsiRestContract { join_url_field: "/data/joinUrl".into(), ..Default::default() })
///     .build()
///     .unwrap();
/// assert_eq!(c.base_url().as_str(), "https://jitsi-api.hie.example/");
/// assert!(!format!("{c:?}").contains("svc-token"));
/// ```
#[derive(Debug)]
pub struct RestJitsiConfigBuilder {
    base_url: String,
    auth: Auth,
    contract: JitsiRestContract,
    http: HttpSettings,
}

impl RestJitsiConfigBuilder {
    /// How to authenticate: [`Auth::bearer`], [`Auth::basic`] or none (default); API keys go in
    /// a [`secret_header`](Self::secret_header). OAuth2 is refused at build.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// The paths and field names (default [`JitsiRestContract::default`]).
    pub fn contract(mut self, contract: JitsiRestContract) -> Self {
        self.contract = contract;
        self
    }
    http::http_options!("1 MiB");

    /// Checks the settings.
    pub fn build(self) -> Result<RestJitsiConfig> {
        let base_url = http::base_url("Jitsi token service", &self.base_url)?;
        self.contract.check()?;
        if matches!(self.auth, Auth::OAuth2(_)) {
            return Err(Error::config(
                "the Jitsi token service supports bearer, basic or header authentication, not OAuth2 client credentials",
            ));
        }
        Ok(RestJitsiConfig {
            base_url,
            auth: self.auth,
            contract: self.contract,
            http: self.http,
        })
    }
}

/// HIE's Jitsi token service. See [`JitsiRestContract`] for the calls it makes.
///
/// Retries: join, activate and end are safe to repeat and are retried per the
/// [`RetryPolicy`](crate::hie::RetryPolicy); create is not (a repeat would open a second
/// session), so it is retried only when the service provably did not receive it.
#[derive(Debug, Clone)]
pub struct RestJitsi {
    endpoint: Arc<JsonService>,
    contract: Arc<JitsiRestContract>,
}

impl RestJitsi {
    /// A provider with these settings. No request is made until the first call.
    pub fn new(config: RestJitsiConfig) -> Result<Self> {
        let endpoint = JsonService::new(SERVICE, config.base_url, &config.auth, &config.http)?;
        Ok(Self {
            endpoint: Arc::new(endpoint),
            contract: Arc::new(config.contract),
        })
    }

    /// The URL of `template` with `token` as its `{token}` segment.
    fn url(&self, template: &str, token: Option<&str>) -> Result<url::Url> {
        if let Some(t) = token {
            check_token(t)?;
        }
        let mut url = self.endpoint.base().clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| Error::config("the Jitsi token service URL cannot take a path"))?;
            segs.pop_if_empty();
            for s in template.trim_start_matches('/').split('/') {
                match (s, token) {
                    (TOKEN_PLACEHOLDER, Some(t)) => segs.push(t),
                    _ => segs.push(s),
                };
            }
        }
        Ok(url)
    }

    async fn post(
        &self,
        url: url::Url,
        action: &'static str,
        body: &Value,
        repeat: Repeat,
    ) -> Result<http::Reply> {
        self.endpoint
            .send(Req::post_json(url, action, body, repeat))
            .await
    }
}

/// Session tokens go into URL paths: refuse what cannot be a token there.
fn check_token(token: &str) -> Result<()> {
    if token.is_empty() || token == "." || token == ".." || token.len() > 512 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "the session token is empty, too long or a path step ('.', '..')",
        ));
    }
    if token.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "the session token contains control characters",
        ));
    }
    Ok(())
}

fn decode_error(reply: &http::Reply, action: &str, field: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!(
            "{SERVICE}: the answer to {action} has no {what} at '{field}'; check the contract's field names"
        ),
    )
    .with_location(field.to_owned())
    .with_status(reply.status)
    .with_request_id(reply.request_id.clone())
}

#[async_trait::async_trait]
impl JitsiProvider for RestJitsi {
    fn kind(&self) -> &'static str {
        "hie-rest"
    }

    async fn create_session(&self) -> Result<JitsiSession> {
        let c = &self.contract;
        let action = "create session";
        let url = self.url(&c.create_path, None)?;
        let reply = self
            .post(
                url,
                action,
                &Value::Object(Map::new()),
                Repeat::IfUnprocessed,
            )
            .await?;
        let v = http::json_body(SERVICE, action, &reply)?;
        let token = field(&v, &c.session_token_field)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| decode_error(&reply, action, &c.session_token_field, "session token"))?;
        check_token(token).map_err(|e| {
            Error::new(ErrorKind::Decode, format!("{SERVICE}: {}", e.message()))
                .with_request_id(reply.request_id.clone())
        })?;
        let room = field(&v, &c.room_field)
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(JitsiSession {
            token: token.to_owned(),
            room,
        })
    }

    async fn join(&self, session_token: &str, participant: &Participant) -> Result<Join> {
        participant.check()?;
        let c = &self.contract;
        let action = "get join token";
        let url = self.url(&c.join_path, Some(session_token))?;
        let mut body = Map::new();
        body.insert(
            c.role_field.clone(),
            c.role_value(participant.role()).into(),
        );
        body.insert(c.name_field.clone(), participant.name().into());
        body.insert(c.user_id_field.clone(), participant.id().into());
        if let Some(e) = participant.email_address() {
            body.insert(c.email_field.clone(), e.into());
        }
        if let Some(a) = participant.avatar_url() {
            body.insert(c.avatar_field.clone(), a.into());
        }
        // Asking for another join token changes nothing on the service: safe to repeat.
        let reply = self
            .post(url, action, &Value::Object(body), Repeat::Safe)
            .await?;
        let v = http::json_body(SERVICE, action, &reply)?;
        let join_url = field(&v, &c.join_url_field)
            .and_then(Value::as_str)
            .ok_or_else(|| decode_error(&reply, action, &c.join_url_field, "join URL"))?;
        let parsed = url::Url::parse(join_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                decode_error(
                    &reply,
                    action,
                    &c.join_url_field,
                    "absolute http(s) join URL",
                )
            })?;
        let token = match field(&v, &c.join_token_field).and_then(Value::as_str) {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => parsed
                .query_pairs()
                .find(|(k, _)| k == "jwt")
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| decode_error(&reply, action, &c.join_token_field, "join token"))?,
        };
        Ok(Join::new(
            participant.role(),
            None,
            join_url.to_owned(),
            token,
            None,
        ))
    }

    async fn activate(&self, session_token: &str) -> Result<()> {
        let url = self.url(&self.contract.activate_path, Some(session_token))?;
        self.post(
            url,
            "activate session",
            &Value::Object(Map::new()),
            Repeat::Safe,
        )
        .await
        .map(|_| ())
    }

    async fn end(&self, session_token: &str) -> Result<EndOutcome> {
        let url = self.url(&self.contract.end_path, Some(session_token))?;
        match self
            .post(url, "end session", &Value::Object(Map::new()), Repeat::Safe)
            .await
        {
            Ok(_) => Ok(EndOutcome::Ended),
            Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::Gone) => {
                Ok(EndOutcome::NotRunning)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_are_checked() {
        assert!(JitsiRestContract::default().check().is_ok());
        for bad in [
            JitsiRestContract {
                join_path: "api/join".into(),
                ..Default::default()
            },
            JitsiRestContract {
                end_path: "a/x{token}/end".into(),
                ..Default::default()
            },
            JitsiRestContract {
                create_path: "a//b".into(),
                ..Default::default()
            },
            JitsiRestContract {
                activate_path: "a/{token}?x=1".into(),
                ..Default::default()
            },
            JitsiRestContract {
                join_url_field: "".into(),
                ..Default::default()
            },
        ] {
            assert_eq!(
                bad.check().unwrap_err().kind(),
                ErrorKind::Config,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tokens_are_encoded_as_one_segment() {
        let j = RestJitsi::new(RestJitsiConfig::builder("http://h/gw").build().unwrap()).unwrap();
        let u = j
            .url("/api/v1/sessions/{token}/join", Some("a/b c"))
            .unwrap();
        assert_eq!(u.as_str(), "http://h/gw/api/v1/sessions/a%2Fb%20c/join");
        assert_eq!(
            j.url("api/{token}", Some("..")).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn fields_read_names_and_pointers() {
        let v: Value = serde_json::json!({"token": "t", "data": {"url": "u"}});
        assert_eq!(field(&v, "token").unwrap(), "t");
        assert_eq!(field(&v, "/data/url").unwrap(), "u");
        assert!(field(&v, "url").is_none());
    }
}
