//! Header values every service needs: configured headers (plain or secret), credentials
//! (bearer, basic) marked sensitive, the `Retry-After` a server sends and the `X-Request-Id`
//! the SDK sends.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::error::{Error, Result};
use crate::hie::Secret;

/// `X-Request-Id`: sent with every attempt of a call (retries reuse it), so a server's logs
/// and the caller's error name the same call.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A header every request of a client carries; a sensitive one is never printed.
#[derive(Clone)]
pub(crate) enum HeaderSetting {
    Plain(String, String),
    Sensitive(String, Secret),
}

impl std::fmt::Debug for HeaderSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(n, v) => write!(f, "{n}: {v}"),
            Self::Sensitive(n, _) => write!(f, "{n}: ***"),
        }
    }
}

impl HeaderSetting {
    /// The name and value to send; a secret's value is marked sensitive so that no logging
    /// layer prints it.
    pub(crate) fn to_header(&self) -> Result<(HeaderName, HeaderValue)> {
        let (name, value, secret) = match self {
            Self::Plain(n, v) => (n.as_str(), v.as_str(), false),
            Self::Sensitive(n, v) => (n.as_str(), v.expose_secret(), true),
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("'{name}' is not a valid HTTP header name")))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            Error::config(format!(
                "the value of header '{name}' has characters not allowed in HTTP headers"
            ))
        })?;
        value.set_sensitive(secret);
        Ok((name, value))
    }
}

/// Checks and converts configured headers, in order.
pub(crate) fn parse_headers(settings: &[HeaderSetting]) -> Result<Vec<(HeaderName, HeaderValue)>> {
    settings.iter().map(HeaderSetting::to_header).collect()
}

/// A header value that no logging layer prints.
pub(crate) fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config("a credential contains characters not allowed in an HTTP header")
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `Bearer <token>`, marked sensitive.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue> {
    sensitive(&format!("Bearer {token}"))
}

/// `Basic <base64(user:password)>` (RFC 7617), marked sensitive.
pub(crate) fn basic(user: &str, password: &str) -> Result<HeaderValue> {
    let raw = format!("{user}:{password}");
    sensitive(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// Reads a Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The Retry-After of a response.
pub(crate) fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// A fresh request id (a UUID v4) and its header value, formatted once.
pub(crate) fn new_request_id() -> (String, HeaderValue) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    (
        id.to_owned(),
        HeaderValue::from_str(id).expect("a UUID is a valid header value"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_headers_are_checked_and_secrets_stay_secret() {
        let h = [
            HeaderSetting::Plain("X-Facility".into(), "F1".into()),
            HeaderSetting::Sensitive("X-Api-Key".into(), "k-secret".into()),
        ];
        let parsed = parse_headers(&h).unwrap();
        assert_eq!(parsed[0].0.as_str(), "x-facility");
        assert!(!parsed[0].1.is_sensitive());
        assert!(parsed[1].1.is_sensitive());
        assert!(!format!("{h:?}").contains("k-secret"));
        for bad in [
            HeaderSetting::Plain("bad header".into(), "x".into()),
            HeaderSetting::Plain("X-Ok".into(), "line\nbreak".into()),
        ] {
            assert_eq!(
                bad.to_header().unwrap_err().kind(),
                crate::ErrorKind::Config
            );
        }
    }

    #[test]
    fn credentials_are_sensitive() {
        let v = basic("Aladdin", "open sesame").unwrap();
        assert_eq!(v.to_str().unwrap(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("QWxh"));
        assert!(bearer("t").unwrap().is_sensitive());
        assert!(bearer("a\nb").is_err());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_of(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after_of(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn request_ids_are_fresh_uuids() {
        let (a, ha) = new_request_id();
        let (b, _) = new_request_id();
        assert_ne!(a, b);
        assert_eq!(ha.to_str().unwrap(), a);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
