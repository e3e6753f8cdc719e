//! Authentication to HIE: static bearer, OAuth2 client credentials, HTTP basic.
//!
//! HIE hands credentials out during integration without publishing the scheme, so every common
//! one is supported. Secrets live in [`Secret`], whose `Debug` never shows them, and the header
//! values built from them (by the HTTP engine, `crate::http`) are marked sensitive so no
//! logging layer prints them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A secret (password, client secret, token). `Debug` prints `Secret(***)`; there is no
/// `Display`, so a secret cannot end up in a message by accident.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }
    /// The secret itself, for the rare caller that has to hand it on.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// How the client authenticates to HIE.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header (e.g. a gateway authenticates by network or mTLS).
    #[default]
    None,
    /// `Authorization: Bearer <token>` with a token obtained elsewhere.
    Bearer(Secret),
    /// `Authorization: Basic ...`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth2 client credentials: a token fetched, cached and refreshed by the client.
    OAuth2(OAuth2),
}

impl Auth {
    /// A static bearer token.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self::Bearer(token.into())
    }
    /// HTTP basic authentication.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }
    /// OAuth2 client credentials.
    pub fn oauth2(config: OAuth2) -> Self {
        Self::OAuth2(config)
    }
    /// The scheme's name, for diagnostics.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bearer(_) => "bearer",
            Self::Basic { .. } => "basic",
            Self::OAuth2(_) => "oauth2-client-credentials",
        }
    }
}

/// How the client id and secret reach the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// HTTP basic with the url-encoded id and secret (`client_secret_basic`, the default every
    /// server must support).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Body,
}

/// OAuth2 client-credentials settings.
///
/// ```
/// use hie_vc::hie::{Auth, OAuth2};
/// let auth = Auth::oauth2(
///     OAuth2::client_credentials("https://auth.example/token", "my-client", "s3cr3t")
///         .scope("fhir/*.write"),
/// );
/// assert!(!format!("{auth:?}").contains("s3cr3t"));
/// ```
#[derive(Debug, Clone)]
pub struct OAuth2 {
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) scope: Option<String>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) method: ClientAuthMethod,
    pub(crate) refresh_before: Duration,
}

impl OAuth2 {
    /// Client credentials for the token endpoint `token_url`.
    pub fn client_credentials(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            params: Vec::new(),
            method: ClientAuthMethod::Basic,
            refresh_before: Duration::from_secs(30),
        }
    }
    /// The `scope` to ask for.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
    /// An extra form parameter of the token request (e.g. `audience`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
    /// How the client id and secret are sent.
    pub fn client_auth(mut self, method: ClientAuthMethod) -> Self {
        self.method = method;
        self
    }
    /// How long before its expiry a token is replaced (default 30 s, at most half its lifetime),
    /// so that no request leaves with a token that expires on the way.
    pub fn refresh_before(mut self, d: Duration) -> Self {
        self.refresh_before = d;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let a = Auth::basic("alice", "hunter2");
        assert!(!format!("{a:?}").contains("hunter2"));
        let o = Auth::oauth2(OAuth2::client_credentials("http://t/token", "c", "hunter2"));
        assert!(!format!("{o:?}").contains("hunter2"));
    }
}
