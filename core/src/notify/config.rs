//! The settings of a [`NotificationClient`](super::NotificationClient): where the API is, the
//! account, and the contract (paths, field names, where the login answer keeps the token).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hie::Secret;
use crate::http::{self, HttpSettings};

/// The paths and JSON field names of the Notification API (`docs/guide-gaps.md` §4).
///
/// Paths are relative to the base URL (a leading `/` is ignored). The defaults:
///
/// | call | request | 2xx response |
/// |---|---|---|
/// | login | `POST {base}/api/v2/user/session` with `{"email": …, "password": …}` | JSON with the token at the first of [`token_pointers`](Self::token_pointers) that holds a non-empty string: `/token`, `/accessToken`, `/access_token`, `/data/token` |
/// | send | `POST {base}/api/v2/notification-script` with `{"title": …, "body": …, "patientIds": ["950728106051", …]}` and `Authorization: Bearer <token>` | any (a JSON body is returned to the caller) |
///
/// A refused or expired token is answered `401`; the client then logs in once more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationContract {
    /// Login (default `api/v2/user/session`).
    pub login_path: String,
    /// Send a notification (default `api/v2/notification-script`).
    pub send_path: String,
    /// The e-mail in the login request (default `email`).
    pub email_field: String,
    /// The password in the login request (default `password`).
    pub password_field: String,
    /// JSON pointers tried in order on the login answer; the first non-empty string is the
    /// token (default `/token`, `/accessToken`, `/access_token`, `/data/token`: the response
    /// shape is not published).
    pub token_pointers: Vec<String>,
    /// The title in the send request (default `title`).
    pub title_field: String,
    /// The body in the send request (default `body`).
    pub body_field: String,
    /// The patient ids in the send request (default `patientIds`).
    pub patient_ids_field: String,
}

impl Default for NotificationContract {
    fn default() -> Self {
        Self {
            login_path: "api/v2/user/session".into(),
            send_path: "api/v2/notification-script".into(),
            email_field: "email".into(),
            password_field: "password".into(),
            token_pointers: ["/token", "/accessToken", "/access_token", "/data/token"]
                .map(String::from)
                .to_vec(),
            title_field: "title".into(),
            body_field: "body".into(),
            patient_ids_field: "patientIds".into(),
        }
    }
}

impl NotificationContract {
    fn check(&self) -> Result<()> {
        for (name, path) in [
            ("login_path", &self.login_path),
            ("send_path", &self.send_path),
        ] {
            let p = path.trim_start_matches('/');
            if p.is_empty() || p.contains('?') || p.contains('#') || p.contains("//") {
                return Err(Error::config(format!(
                    "Notification API {name} '{path}' must be a relative path without query or fragment"
                )));
            }
        }
        if self.token_pointers.is_empty() {
            return Err(Error::config(
                "no token pointer: say where the login answer keeps the token (e.g. /token)",
            ));
        }
        if let Some(p) = self.token_pointers.iter().find(|p| !p.starts_with('/')) {
            return Err(Error::config(format!(
                "'{p}' is not a JSON pointer; pointers start with '/', e.g. /data/token"
            )));
        }
        let fields = [
            &self.email_field,
            &self.password_field,
            &self.title_field,
            &self.body_field,
            &self.patient_ids_field,
        ];
        if fields.iter().any(|f| f.trim().is_empty()) {
            return Err(Error::config(
                "Notification API field names must not be empty",
            ));
        }
        Ok(())
    }
}

/// The settings of a [`NotificationClient`](super::NotificationClient); build with
/// [`NotificationConfig::builder`]. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    pub(crate) base_url: url::Url,
    pub(crate) email: String,
    pub(crate) password: Secret,
    pub(crate) contract: NotificationContract,
    pub(crate) http: HttpSettings,
}

impl NotificationConfig {
    /// Settings for the Notification API at `base_url` (the published host is a placeholder:
    /// HIE gives integrators the real one).
    pub fn builder(base_url: impl Into<String>) -> NotificationConfigBuilder {
        NotificationConfigBuilder {
            base_url: base_url.into(),
            credentials: None,
            contract: NotificationContract::default(),
            http: HttpSettings::default(),
        }
    }
    /// The base URL (ends with `/`).
    pub fn base_url(&self) -> &url::Url {
        &self.base_url
    }
    /// The login e-mail.
    pub fn email(&self) -> &str {
        &self.email
    }
    /// The contract.
    pub fn contract(&self) -> &NotificationContract {
        &self.contract
    }
}

/// Builds a [`NotificationConfig`]. Required: [`credentials`](Self::credentials).
///
/// ```
/// use hie_vc::notify::NotificationConfig;
/// let c = NotificationConfig::builder("http://10.0.0.5:8080")
///     .credentials("clinic@example.org", "pa55word")
///     .token_pointer("/result/jwt")
///     .build()
///     .unwrap();
/// assert_eq!(c.contract().token_pointers, ["/result/jwt"]);
/// assert!(!format!("{c:?}").contains("pa55word"));
/// let e = NotificationConfig::builder("http://10.0.0.5:8080").build().unwrap_err();
/// assert_eq!(e.kind(), hie_vc::ErrorKind::Config);
/// ```
#[derive(Debug)]
pub struct NotificationConfigBuilder {
    base_url: String,
    credentials: Option<(String, Secret)>,
    contract: NotificationContract,
    http: HttpSettings,
}

impl NotificationConfigBuilder {
    /// The account the source system logs in with.
    pub fn credentials(mut self, email: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.credentials = Some((email.into(), password.into()));
        self
    }
    /// The paths and field names (default [`NotificationContract::default`]).
    pub fn contract(mut self, contract: NotificationContract) -> Self {
        self.contract = contract;
        self
    }
    /// Where the login answer keeps the token: replaces the default pointers with this one.
    pub fn token_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.contract.token_pointers = vec![pointer.into()];
        self
    }
    http::http_options!("1 MiB");

    /// Checks the settings.
    pub fn build(self) -> Result<NotificationConfig> {
        let base_url = http::base_url("Notification API", &self.base_url)?;
        let (email, password) = self.credentials.ok_or_else(|| {
            Error::config(
                "the Notification API needs credentials: set credentials(email, password)",
            )
        })?;
        if email.trim().is_empty() || password.expose_secret().is_empty() {
            return Err(Error::config(
                "the Notification API e-mail and password must not be empty",
            ));
        }
        self.contract.check()?;
        Ok(NotificationConfig {
            base_url,
            email,
            password,
            contract: self.contract,
            http: self.http,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn builder() -> NotificationConfigBuilder {
        NotificationConfig::builder("http://h:1").credentials("a@b", "pw")
    }

    #[test]
    fn contract_errors_are_config_errors() {
        for bad in [
            builder().token_pointer("token"),
            builder().contract(NotificationContract {
                token_pointers: vec![],
                ..Default::default()
            }),
            builder().contract(NotificationContract {
                send_path: "x?y=1".into(),
                ..Default::default()
            }),
            builder().contract(NotificationContract {
                patient_ids_field: " ".into(),
                ..Default::default()
            }),
            NotificationConfig::builder("http://h:1").credentials("", "pw"),
            NotificationConfig::builder("not a url").credentials("a@b", "pw"),
        ] {
            assert_eq!(bad.build().unwrap_err().kind(), ErrorKind::Config);
        }
        assert!(builder().build().is_ok());
    }
}
