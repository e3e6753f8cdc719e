//! `hievc_memory_broker`: the in-memory Kafka stand-in the in-memory listener, the tests and
//! the sandbox use.

use std::ffi::c_char;
use std::fmt;

use hie_vc::listener::{Header, MemoryBroker, MemoryRecord};
use serde::Deserialize;

use crate::error::Failure;
use crate::fhir::parse_json;
use crate::guard::{
    arg_bytes, arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str,
    write_handle, write_out,
};
use crate::hievc_error;
use crate::json::write_json;
use crate::status::hievc_status;

/// An in-memory Kafka stand-in (topics, partitions, consumer-group offsets) for tests, demos
/// and the in-process sandbox. Thread-safe.
pub struct hievc_memory_broker {
    pub(crate) broker: MemoryBroker,
}

impl fmt::Debug for hievc_memory_broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.broker.fmt(f)
    }
}

/// An empty in-memory broker.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_new(
    out: *mut *mut hievc_memory_broker,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        write_handle(
            out,
            hievc_memory_broker {
                broker: MemoryBroker::new(),
            },
        );
        Ok(())
    })
}

/// Creates `topic` with `partitions` partitions (or grows it to that many). Sending to a
/// topic that does not exist creates it with one partition.
///
/// # Safety
/// `broker` is live; `topic` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_create_topic(
    broker: *const hievc_memory_broker,
    topic: *const c_char,
    partitions: i32,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (b, t) = unsafe { (arg_ref(broker, "broker")?, arg_str(topic, "topic")?) };
        Ok(b.broker.create_topic(t, partitions)?)
    })
}

/// Appends a record (`payload` of `len` bytes, any content; `key` NULL for none) to `topic`,
/// in `partition` (or chosen from the key when `partition` is negative). `*offset_out` (when
/// not NULL) receives the record's offset.
///
/// # Safety
/// `broker` is live; `topic` and `key` (NULL allowed) are NUL-terminated strings; `payload`
/// points at `len` readable bytes (NULL allowed when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_send(
    broker: *const hievc_memory_broker,
    topic: *const c_char,
    payload: *const u8,
    len: usize,
    key: *const c_char,
    partition: i32,
    offset_out: *mut i64,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (b, t, k) = unsafe {
            (
                arg_ref(broker, "broker")?,
                arg_str(topic, "topic")?,
                opt_str(key, "key")?,
            )
        };
        // SAFETY: caller contract: `len` readable bytes.
        let bytes = unsafe { arg_bytes(payload, len, "payload") }?;
        let record = MemoryRecord::new(bytes.to_vec());
        // SAFETY: caller contract.
        unsafe { send(b, t, record, k, partition, offset_out) }
    })
}

/// Sets the key and partition of `record`, appends it and hands its offset to `offset_out`.
///
/// # Safety
/// `offset_out` is NULL or writable for the call.
unsafe fn send(
    b: &hievc_memory_broker,
    topic: &str,
    mut record: MemoryRecord,
    key: Option<&str>,
    partition: i32,
    offset_out: *mut i64,
) -> Result<(), Failure> {
    if let Some(k) = key {
        record = record.key(k.as_bytes().to_vec());
    }
    if partition >= 0 {
        record = record.partition(partition);
    }
    let at = b.broker.send(topic, record)?;
    // SAFETY: forwarded contract.
    if let Some(offset_out) = unsafe { opt_out(offset_out) } {
        write_out(offset_out, at.offset);
    }
    Ok(())
}

/// A record header as `hievc_memory_broker_send_record` takes it (the event JSON's shape).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderArg {
    key: String,
    value: Option<String>,
}

/// `hievc_memory_broker_send` with what a Kafka producer may also send: `payload` NULL is a
/// tombstone (a record without a value, whatever `len`; a non-NULL `payload` with `len` 0 is
/// an empty value), and `headers_json` (NULL for none) gives the record's headers in order,
/// `[{"key": "name", "value": "text" | null}]` (the `headers` of an event's JSON; `null`: a
/// header without a value). E.g. to try a listener on records HIE would not send.
///
/// # Safety
/// `broker` is live; `topic`, `key` (NULL allowed) and `headers_json` (NULL allowed) are
/// NUL-terminated strings; `payload` is NULL or points at `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_send_record(
    broker: *const hievc_memory_broker,
    topic: *const c_char,
    payload: *const u8,
    len: usize,
    key: *const c_char,
    headers_json: *const c_char,
    partition: i32,
    offset_out: *mut i64,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (b, t, k, h) = unsafe {
            (
                arg_ref(broker, "broker")?,
                arg_str(topic, "topic")?,
                opt_str(key, "key")?,
                opt_str(headers_json, "headers_json")?,
            )
        };
        let headers: Vec<HeaderArg> =
            h.map_or_else(|| Ok(Vec::new()), |h| parse_json(h, "headers_json"))?;
        let mut record = if payload.is_null() {
            MemoryRecord::default()
        } else {
            // SAFETY: caller contract: `len` readable bytes.
            MemoryRecord::new(unsafe { arg_bytes(payload, len, "payload") }?.to_vec())
        };
        record.headers = headers
            .into_iter()
            .map(|h| Header {
                key: h.key,
                value: h.value.map(Into::into),
            })
            .collect();
        // SAFETY: caller contract.
        unsafe { send(b, t, record, k, partition, offset_out) }
    })
}

/// Every record of `topic` (e.g. a dead-letter topic), in partition then offset order, as a
/// JSON array in `*out`: `[{"topic", "partition", "offset", "key", "payload", "timestampMs",
/// "headers": [{"key", "value"}]}]`, key, payload and header values as text (bytes that are
/// not UTF-8 replaced by U+FFFD; `"payload": null` for a tombstone). `[]` for an unknown
/// topic. Records carry patient data: do not log them.
///
/// # Safety
/// `broker` is live; `topic` is a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_records(
    broker: *const hievc_memory_broker,
    topic: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (b, t) = unsafe { (arg_ref(broker, "broker")?, arg_str(topic, "topic")?) };
        // SAFETY: caller contract.
        let out = unsafe { arg_out(out, "out") }?;
        write_json(out, &b.broker.records(t))
    })
}

/// The committed offset (the next record the group will read) of `group` on
/// `topic`/`partition`, in `*offset_out`; -1 when the group has committed nothing there.
///
/// # Safety
/// `broker` is live; `group` and `topic` are NUL-terminated strings; `offset_out` writable.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_committed(
    broker: *const hievc_memory_broker,
    group: *const c_char,
    topic: *const c_char,
    partition: i32,
    offset_out: *mut i64,
    err: *mut *mut hievc_error,
) -> hievc_status {
    // SAFETY: `err` is NULL or writable (caller contract).
    guard(unsafe { opt_out(err) }, || {
        // SAFETY: caller contract.
        let (b, g, t) = unsafe {
            (
                arg_ref(broker, "broker")?,
                arg_str(group, "group")?,
                arg_str(topic, "topic")?,
            )
        };
        // SAFETY: caller contract.
        let offset_out = unsafe { arg_out(offset_out, "offset_out") }?;
        write_out(
            offset_out,
            b.broker.committed(g, t, partition).unwrap_or(-1),
        );
        Ok(())
    })
}

/// Frees a broker. NULL is a no-op. Listeners reading from it keep it alive until freed.
///
/// # Safety
/// `broker` is NULL or a broker not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_memory_broker_free(broker: *mut hievc_memory_broker) {
    // SAFETY: caller contract.
    guard_value((), || unsafe { free_handle(broker) })
}
