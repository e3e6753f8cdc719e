//! The Notification API (`docs/guide-gaps.md` §4): how a source system tells patients that their
//! virtual consultation starts (step 7 of both flows), so they open RekodSaya and join.
//!
//! * [`NotificationClient`] — login with e-mail and password, token kept and re-obtained once
//!   after a `401`, [`send`](NotificationClient::send)`(title, body, patient_ids)`.
//! * [`NotificationConfig`] — base URL, account, HTTP settings and the
//!   [`NotificationContract`] (paths, field names, where the login answer keeps the token; the
//!   defaults are documented there and implemented by the embedded sandbox).
//! * [`Notifier`] — the interface the VC orchestration depends on, so tests can substitute it.
//!
//! Errors are [`crate::Error`]: the HTTP kinds (`Unauthorized` for refused credentials,
//! `ServiceUnavailable`, `RateLimited` with Retry-After, ...), `Transport`/`Timeout`, `Decode`
//! (no token where the pointers say, a login answer that is not JSON), `Config` and
//! `InvalidInput` (an empty title, no patients).

mod client;
mod config;

use std::fmt;

pub use client::NotificationClient;
pub use config::{NotificationConfig, NotificationConfigBuilder, NotificationContract};

use crate::error::{Error, ErrorKind, Result};

/// A notification: title, body and the patients it goes to.
///
/// Patient ids are trimmed and duplicates dropped (first occurrence kept): one patient listed
/// twice would be notified twice.
///
/// ```
/// use hie_vc::notify::Notification;
/// let n = Notification::new("VC", "Starting now", ["950728106051", " 950728106051 ", "880101015555"]);
/// assert_eq!(n.patient_ids(), ["950728106051", "880101015555"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    title: String,
    body: String,
    patient_ids: Vec<String>,
}

impl Notification {
    /// A notification of `title` and `body` to `patient_ids`.
    pub fn new<I, S>(title: impl Into<String>, body: impl Into<String>, patient_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut ids: Vec<String> = Vec::new();
        for id in patient_ids {
            let id = id.into().trim().to_owned();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Self {
            title: title.into(),
            body: body.into(),
            patient_ids: ids,
        }
    }
    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }
    /// The patient ids.
    pub fn patient_ids(&self) -> &[String] {
        &self.patient_ids
    }

    /// What the API needs: a title, a body, and at least one non-empty patient id.
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::new(ErrorKind::InvalidInput, m.to_owned()));
        if self.title.trim().is_empty() {
            return bad("the notification has no title");
        }
        if self.body.trim().is_empty() {
            return bad("the notification has no body");
        }
        if self.patient_ids.is_empty() {
            return bad("the notification has no patient ids");
        }
        if self.patient_ids.iter().any(String::is_empty) {
            return bad("a patient id of the notification is empty");
        }
        Ok(())
    }
}

/// The API's answer to a sent notification. JSON (camelCase): `{"status", "requestId",
/// "response"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The `X-Request-Id` sent with the request: quote it when asking HIE about a notification.
    pub request_id: String,
    /// The answer's JSON body, when it had one.
    pub response: Option<serde_json::Value>,
}

/// Sends notifications to patients. Implemented by [`NotificationClient`]; object safe, so
/// the VC orchestration holds an `Arc<dyn Notifier>`.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + fmt::Debug {
    /// Sends `notification`. Not idempotent: a caller that retries after an ambiguous failure
    /// (timeout, broken connection) may notify twice.
    async fn notify(&self, notification: &Notification) -> Result<Sent>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_checked() {
        assert!(Notification::new("t", "b", ["1"]).check().is_ok());
        for n in [
            Notification::new(" ", "b", ["1"]),
            Notification::new("t", "", ["1"]),
            Notification::new("t", "b", Vec::<String>::new()),
            Notification::new("t", "b", ["1", "  "]),
        ] {
            assert_eq!(n.check().unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }
}
