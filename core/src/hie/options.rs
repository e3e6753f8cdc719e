//! [`RequestOptions`]: the per-request settings every interaction shares, as plain data, so that
//! each binding (C's options JSON, Python's keyword arguments, Node's option objects) fills one
//! struct and core applies it the same way everywhere.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::RetryPolicy;
use crate::error::{Error, ErrorKind, Result};

/// Per-request settings: time limit, request id, extra headers, retries. Every field is
/// optional; what is unset keeps the client's setting.
///
/// Applied to any request builder with its `options` method:
///
/// ```
/// use hie_vc::hie::{HieClient, HieConfig, RequestOptions};
/// # fn demo() -> hie_vc::Result<()> {
/// let client = HieClient::new(HieConfig::builder("http://127.0.0.1:8090/fhir/").build()?)?;
/// let mut opts = RequestOptions::new();
/// opts.timeout_ms = Some(5_000);
/// opts.max_retries = Some(0);
/// let request = client.read_type("Patient", "p1").options(&opts)?;
/// # let _ = request; Ok(()) }
/// ```
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RequestOptions {
    /// The time limit of each attempt, in milliseconds.
    #[serde(alias = "timeoutMs")]
    pub timeout_ms: Option<u64>,
    /// The `X-Request-Id` to send (default: a fresh UUID per call; retries reuse it).
    #[serde(alias = "requestId")]
    pub request_id: Option<String>,
    /// Extra headers for this request only.
    pub headers: BTreeMap<String, String>,
    /// The most retries of this request; 0 turns retries off (default: the client's policy).
    #[serde(alias = "maxRetries")]
    pub max_retries: Option<u32>,
}

impl RequestOptions {
    /// Options that change nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extra headers, checked: an invalid name or value is an `InvalidInput` error that
    /// names the header (never its value, which may be a credential).
    pub fn header_pairs(&self) -> Result<Vec<(HeaderName, HeaderValue)>> {
        self.headers
            .iter()
            .map(|(k, v)| {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("'{k}' is not a valid HTTP header name"),
                    )
                })?;
                let mut value = HeaderValue::from_str(v).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("the value of header '{k}' is not valid in HTTP"),
                    )
                })?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .collect()
    }

    /// The retry policy `max_retries` asks for, if any.
    pub fn retry_policy(&self) -> Option<RetryPolicy> {
        self.max_retries.map(|n| {
            if n == 0 {
                RetryPolicy::none()
            } else {
                RetryPolicy::default().max_retries(n)
            }
        })
    }

    /// The time limit as a duration.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout_ms.map(Duration::from_millis)
    }
}

impl fmt::Debug for RequestOptions {
    /// Header values are left out: a caller may pass credentials in them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout_ms", &self.timeout_ms)
            .field("request_id", &self.request_id)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_and_camel_case_keys_are_accepted_unknown_ones_refused() {
        let a: RequestOptions =
            serde_json::from_str(r#"{"timeout_ms": 5, "request_id": "r", "max_retries": 0}"#)
                .unwrap();
        let b: RequestOptions =
            serde_json::from_str(r#"{"timeoutMs": 5, "requestId": "r", "maxRetries": 0}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.timeout(), Some(Duration::from_millis(5)));
        assert!(a.retry_policy().is_some());
        assert!(serde_json::from_str::<RequestOptions>(r#"{"timeout": 5}"#).is_err());
    }

    #[test]
    fn bad_headers_are_named_and_values_never_shown() {
        let mut o = RequestOptions::new();
        o.headers
            .insert("Authorization".into(), "Bearer s3cret".into());
        assert!(!format!("{o:?}").contains("s3cret"));
        assert_eq!(o.header_pairs().unwrap().len(), 1);
        o.headers.insert("bad name".into(), "x".into());
        let e = o.header_pairs().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("bad name"));
        let mut o = RequestOptions::new();
        o.headers
            .insert("X-Secret".into(), "line\nbreak-s3cret".into());
        let e = o.header_pairs().unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }
}
