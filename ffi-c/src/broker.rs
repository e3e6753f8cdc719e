//! `hievc_memory_broker`: the in-memory Kafka stand-in the in-memory listener, the tests and
//! the sandbox use.

use std::ffi::c_char;
use std::fmt;

use hie_vc::listener::{MemoryBroker, MemoryRecord};

use crate::error::Failure;
use crate::guard::{
    arg_out, arg_ref, arg_str, free_handle, guard, guard_value, opt_out, opt_str, write_handle,
    write_out,
};
use crate::hievc_error;
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
        let bytes: Vec<u8> = if len == 0 {
            Vec::new()
        } else if payload.is_null() {
            return Err(Failure::null("payload"));
        } else {
            // SAFETY: caller contract: `len` readable bytes.
            unsafe { std::slice::from_raw_parts(payload, len) }.to_vec()
        };
        let mut record = MemoryRecord::new(bytes);
        if let Some(k) = k {
            record = record.key(k.as_bytes().to_vec());
        }
        if partition >= 0 {
            record = record.partition(partition);
        }
        let at = b.broker.send(t, record)?;
        // SAFETY: caller contract.
        if let Some(offset_out) = unsafe { opt_out(offset_out) } {
            write_out(offset_out, at.offset);
        }
        Ok(())
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
