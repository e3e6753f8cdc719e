//! `[notify]`: the HIE Notification API.

use std::fmt;

use serde::Deserialize;

use super::redact;
use crate::notify::NotificationConfig;
use crate::{Error, Result};

/// `[notify]`: the HIE Notification API.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Base URL.
    pub url: Option<String>,
    /// Login email.
    pub email: Option<String>,
    /// Login password.
    pub password: Option<String>,
    /// JSON pointer of the token in the login response.
    pub token_pointer: Option<String>,
}

impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("url", &self.url)
            .field("email", &self.email.as_ref().map(|_| "<set>"))
            .field("password", &redact(&self.password))
            .field("token_pointer", &self.token_pointer)
            .finish()
    }
}

impl NotifySettings {
    /// The Notification API client configuration.
    pub fn to_config(&self) -> Result<NotificationConfig> {
        let url = self.url.as_deref().ok_or_else(|| {
            Error::config("notify.url is not set (HIE_VC_NOTIFY_URL, --notify-url or [notify] url)")
        })?;
        let email = self
            .email
            .clone()
            .ok_or_else(|| Error::config("notify.email is not set"))?;
        let password = self
            .password
            .clone()
            .ok_or_else(|| Error::config("notify.password is not set"))?;
        let mut b = NotificationConfig::builder(url).credentials(email, password);
        if let Some(p) = &self.token_pointer {
            b = b.token_pointer(p.clone());
        }
        b.build()
    }
}
