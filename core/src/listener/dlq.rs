//! Dead-letter records: the original key, payload and headers, plus headers saying why and
//! where from, so a poison record can be inspected and replayed without the listener's logs.

use std::time::{SystemTime, UNIX_EPOCH};

use super::event::{Header, SourceMessage};
use super::handler::FailureReason;
use super::source::DeadLetter;
use crate::Error;

/// Header: the error text (with its causes), at most [`MAX_ERROR_LEN`] bytes.
pub const HEADER_ERROR: &str = "hievc.dlq.error";
/// Header: the failure reason (`decode/not_json`, `handler`, `handler_panic`, ...).
pub const HEADER_REASON: &str = "hievc.dlq.reason";
/// Header: the error kind (`decode`, `handler`, ...).
pub const HEADER_ERROR_KIND: &str = "hievc.dlq.error.kind";
/// Header: where in the payload, for decode errors.
pub const HEADER_LOCATION: &str = "hievc.dlq.error.location";
/// Header: the original topic.
pub const HEADER_TOPIC: &str = "hievc.dlq.original.topic";
/// Header: the original partition (decimal).
pub const HEADER_PARTITION: &str = "hievc.dlq.original.partition";
/// Header: the original offset (decimal).
pub const HEADER_OFFSET: &str = "hievc.dlq.original.offset";
/// Header: the original timestamp in milliseconds (decimal), when it had one.
pub const HEADER_TIMESTAMP: &str = "hievc.dlq.original.timestamp";
/// Header: handler attempts made (decimal; 0 for records that could not be decoded).
pub const HEADER_ATTEMPTS: &str = "hievc.dlq.attempts";
/// Header: when the record was dead-lettered, in milliseconds (decimal).
pub const HEADER_FAILED_AT: &str = "hievc.dlq.failed_at";

/// Longest error text put in a header.
pub const MAX_ERROR_LEN: usize = 2048;

/// The error and its causes on one line.
pub(crate) fn error_chain(e: &Error) -> String {
    let mut s = e.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The dead-letter record for `msg`.
pub(crate) fn record(
    msg: &SourceMessage,
    reason: FailureReason,
    error: &Error,
    attempts: u32,
) -> DeadLetter {
    let c = &msg.coordinates;
    let mut headers = msg.headers.clone();
    headers.push(Header::new(
        HEADER_ERROR,
        truncate(error_chain(error), MAX_ERROR_LEN),
    ));
    headers.push(Header::new(HEADER_REASON, reason.to_string()));
    headers.push(Header::new(HEADER_ERROR_KIND, error.kind().as_str()));
    if let Some(l) = error.location() {
        headers.push(Header::new(HEADER_LOCATION, l.to_owned()));
    }
    headers.push(Header::new(HEADER_TOPIC, c.topic.to_string()));
    headers.push(Header::new(HEADER_PARTITION, c.partition.to_string()));
    headers.push(Header::new(HEADER_OFFSET, c.offset.to_string()));
    if let Some(t) = msg.timestamp {
        headers.push(Header::new(HEADER_TIMESTAMP, t.millis().to_string()));
    }
    headers.push(Header::new(HEADER_ATTEMPTS, attempts.to_string()));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    headers.push(Header::new(HEADER_FAILED_AT, now.to_string()));
    DeadLetter {
        key: msg.key.clone(),
        payload: msg.payload.clone(),
        headers,
    }
}
