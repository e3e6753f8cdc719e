//! [`NotificationClient`]: logs in, keeps the token, sends notifications.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use reqwest::header::HeaderValue;
use serde_json::{Map, Value};

use super::config::NotificationConfig;
use super::{Notification, Notifier, Sent};
use crate::error::{Error, ErrorKind, Result};
use crate::hie::Auth;
use crate::http::{self, JsonService, Repeat, Req};

const SERVICE: &str = "the Notification API";
/// A token whose JWT `exp` is this close is replaced before use instead of being refused.
const REFRESH_BEFORE: Duration = Duration::from_secs(30);

struct Token {
    header: HeaderValue,
    generation: u64,
    refresh_at: Option<SystemTime>,
}

struct Inner {
    endpoint: JsonService,
    config: NotificationConfig,
    login_url: url::Url,
    send_url: url::Url,
    current: RwLock<Option<Arc<Token>>>,
    /// Held while logging in: concurrent senders wait for that login instead of starting
    /// their own (single flight), so a burst after an expiry costs one login.
    login: tokio::sync::Mutex<u64>,
}

/// A client of the Notification API (`docs/guide-gaps.md` §4): tells patients that their
/// consultation starts (step 7 of the VC flows).
///
/// Logs in with e-mail and password on first use, keeps the token, sends it as a bearer token,
/// and logs in once more when a send is answered `401` (the token expired or was revoked).
/// Concurrent sends share one login. Cheap to clone.
///
/// **Retries.** Sending a notification is not idempotent: a repeat after a lost answer would
/// notify the patient twice. So a send is repeated only when the API provably did not process
/// it — the connection could not be made, or it answered 429/503 with Retry-After (the server
/// saying "not done, come back then") — and after a 401 (not processed either). A timeout, a
/// broken connection, a 500 or 502 end the call with the error, and the caller decides.
/// Logging in is repeated per the [`RetryPolicy`](crate::hie::RetryPolicy).
///
/// The password and tokens are never logged, printed or put in errors.
///
/// ```no_run
/// # async fn demo() -> hie_vc::Result<()> {
/// use hie_vc::notify::{NotificationClient, NotificationConfig};
/// let notify = NotificationClient::new(
///     NotificationConfig::builder("http://notify.hie.example:8080")
///         .credentials("clinic@example.org", std::env::var("NOTIFY_PASSWORD").unwrap_or_default())
///         .build()?,
/// )?;
/// notify
///     .send("Virtual consultation", "Your doctor is ready: open RekodSaya to join.", ["950728106051"])
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NotificationClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for NotificationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let logged_in = self
            .inner
            .current
            .read()
            .map(|t| t.is_some())
            .unwrap_or(false);
        f.debug_struct("NotificationClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("email", &self.inner.config.email)
            .field("logged_in", &logged_in)
            .finish_non_exhaustive()
    }
}

impl NotificationClient {
    /// A client with these settings. No request is made until the first call.
    pub fn new(config: NotificationConfig) -> Result<Self> {
        let endpoint =
            JsonService::new(SERVICE, config.base_url.clone(), &Auth::None, &config.http)?;
        let login_url = endpoint.url(&config.contract.login_path)?;
        let send_url = endpoint.url(&config.contract.send_path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                endpoint,
                config,
                login_url,
                send_url,
                current: RwLock::new(None),
                login: tokio::sync::Mutex::new(0),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &NotificationConfig {
        &self.inner.config
    }

    /// Logs in now, replacing any kept token: checks the credentials (e.g. at start-up).
    pub async fn login(&self) -> Result<()> {
        let mut generation = self.inner.login.lock().await;
        *generation += 1;
        let token = Arc::new(self.fetch(*generation).await?);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(token);
        Ok(())
    }

    /// Sends a notification with `title` and `body` to the patients `patient_ids` (MyKad-style
    /// numbers). See [`NotificationClient::notify`].
    pub async fn send<I, S>(&self, title: &str, body: &str, patient_ids: I) -> Result<Sent>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.notify(&Notification::new(title, body, patient_ids))
            .await
    }

    /// Sends `notification`: `POST {base}/api/v2/notification-script`.
    ///
    /// A 2xx answer is success even when its body is not JSON ([`Sent::response`] is then
    /// `None`): the notification went out, and failing would invite a duplicate.
    pub async fn notify(&self, notification: &Notification) -> Result<Sent> {
        notification.check()?;
        let c = &self.inner.config.contract;
        let mut body = Map::new();
        body.insert(c.title_field.clone(), notification.title().into());
        body.insert(c.body_field.clone(), notification.body().into());
        body.insert(
            c.patient_ids_field.clone(),
            Value::Array(
                notification
                    .patient_ids()
                    .iter()
                    .map(|p| Value::String(p.clone()))
                    .collect(),
            ),
        );
        let body = Value::Object(body);
        let mut relogged = false;
        loop {
            let token = self.credential().await?;
            let req = Req::post_json(
                self.inner.send_url.clone(),
                "send notification",
                &body,
                Repeat::IfUnprocessed,
            )
            .authorization(token.header.clone());
            match self.inner.endpoint.send(req).await {
                Ok(reply) => {
                    let response = if reply.body.is_empty() {
                        None
                    } else {
                        serde_json::from_slice(&reply.body).ok()
                    };
                    return Ok(Sent {
                        status: reply.status,
                        request_id: reply.request_id,
                        response,
                    });
                }
                // A 401 means the request was not processed, so resending is safe.
                Err(e) if e.status() == Some(401) && !relogged => {
                    relogged = true;
                    self.invalidate(token.generation);
                    tracing::info!(
                        target: "hie_vc::notify",
                        "the Notification API refused the token (401); logging in again once"
                    );
                }
                Err(e) if e.status() == Some(401) => {
                    let mut err = Error::new(
                        ErrorKind::Unauthorized,
                        format!(
                            "{}; the token was refused right after a fresh login: the account may lack the right to send notifications",
                            e.message()
                        ),
                    )
                    .with_status(401);
                    if let Some(id) = e.request_id() {
                        err = err.with_request_id(id);
                    }
                    return Err(err);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        let guard = self.inner.current.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| t.refresh_at.is_none_or(|at| SystemTime::now() < at))
            .cloned()
    }

    async fn credential(&self) -> Result<Arc<Token>> {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let mut generation = self.inner.login.lock().await;
        // Another sender may have logged in while this one waited.
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        *generation += 1;
        let token = Arc::new(self.fetch(*generation).await?);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&token));
        Ok(token)
    }

    /// Drops the token of `generation` after a 401, unless a newer one already replaced it.
    fn invalidate(&self, generation: u64) {
        let mut guard = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_some_and(|t| t.generation == generation) {
            *guard = None;
        }
    }

    async fn fetch(&self, generation: u64) -> Result<Token> {
        let cfg = &self.inner.config;
        let c = &cfg.contract;
        let action = "log in";
        let mut body = Map::new();
        body.insert(c.email_field.clone(), cfg.email.clone().into());
        body.insert(
            c.password_field.clone(),
            cfg.password.expose_secret().into(),
        );
        // Logging in again only opens another session: safe to repeat.
        let req = Req::post_json(
            self.inner.login_url.clone(),
            action,
            &Value::Object(body),
            Repeat::Safe,
        );
        let reply = self.inner.endpoint.send(req).await.map_err(|e| {
            if matches!(e.status(), Some(401 | 403)) {
                let mut err = Error::new(
                    ErrorKind::Unauthorized,
                    format!(
                        "{}; the Notification API refused the login of '{}': check the e-mail and password",
                        e.message(),
                        cfg.email
                    ),
                )
                .with_status(e.status().unwrap_or(401));
                if let Some(id) = e.request_id() {
                    err = err.with_request_id(id);
                }
                err
            } else {
                e
            }
        })?;
        let v = http::json_body(SERVICE, action, &reply)?;
        let Some(token) = c.token_pointers.iter().find_map(|p| {
            v.pointer(p)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        }) else {
            // Name the keys that are there (never their values) so the pointer can be fixed.
            let keys = v
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| "none: the answer is not an object".to_owned());
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "{SERVICE}: the login answer has no token at {}; its top-level keys are [{keys}]; set the token pointer",
                    c.token_pointers.join(", ")
                ),
            )
            .with_location(c.token_pointers.join(" | "))
            .with_status(reply.status)
            .with_request_id(reply.request_id));
        };
        tracing::debug!(target: "hie_vc::notify", generation, "logged in to the Notification API");
        Ok(Token {
            header: http::bearer(token)?,
            generation,
            refresh_at: jwt_refresh_at(token),
        })
    }
}

/// When a JWT token should be replaced: shortly before its `exp`. The claim is read without
/// verification — only as a hint to save a refused request; a 401 still triggers a re-login.
/// Opaque tokens, and an `exp` too close or implausible, give `None`.
fn jwt_refresh_at(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let exp = serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()?;
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(exp))?;
    let left = at.duration_since(SystemTime::now()).ok()?;
    (left > REFRESH_BEFORE * 2).then(|| at - REFRESH_BEFORE)
}

#[async_trait::async_trait]
impl Notifier for NotificationClient {
    async fn notify(&self, notification: &Notification) -> Result<Sent> {
        NotificationClient::notify(self, notification).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt_with_exp(exp: u64) -> String {
        let e = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            e(r#"{"alg":"HS256"}"#),
            e(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    #[test]
    fn jwt_expiry_is_a_hint_only() {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let at = jwt_refresh_at(&jwt_with_exp(now + 3600)).unwrap();
        let d = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(d, now + 3600 - 30);
        assert!(jwt_refresh_at(&jwt_with_exp(now + 10)).is_none());
        assert!(jwt_refresh_at("opaque-token").is_none());
        assert!(jwt_refresh_at("a.!!!.c").is_none());
    }
}
