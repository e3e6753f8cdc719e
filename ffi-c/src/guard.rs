//! The panic boundary every export runs in, and the checked conversions of its arguments.
//!
//! Since Rust 1.81 a panic unwinding out of an `extern "C"` function aborts the host, so each
//! export runs its body inside `catch_unwind`: a panic becomes `HIEVC_PANIC` (with its message
//! in the error) for fallible functions, and a documented neutral value for accessors.
//!
//! One convention for raw pointers: every export that takes one is an `unsafe extern "C" fn`
//! whose `# Safety` states the caller's contract, and only `unsafe fn` helpers turn a raw
//! pointer into something usable ([`arg_ref`] and [`arg_str`] for inputs, [`arg_out`] and
//! [`opt_out`] for out-parameters, each taking the caller's word once, at the boundary).
//! What they return ([`Out`], references, `&str`) is then used by safe code only.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::error::{store, Failure};
use crate::hievc_error;
use crate::status::hievc_status::{self, *};

/// The optional `hievc_error **err` out-parameter of a fallible export, checked by
/// [`opt_out`].
pub(crate) type ErrOut<'a> = Option<Out<'a, *mut hievc_error>>;

/// Runs a fallible export: `Ok` → `HIEVC_OK`; `Err` → its status, with the detail written to
/// `*err` when the caller passed one; a panic → `HIEVC_PANIC`.
pub(crate) fn guard(err: ErrOut<'_>, f: impl FnOnce() -> Result<(), Failure>) -> hievc_status {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return HIEVC_OK,
        Ok(Err(failure)) => failure,
        Err(payload) => panic_failure(payload.as_ref()),
    };
    let status = failure.status;
    // Building the error allocates only; keep even that from unwinding into C.
    let _ = catch_unwind(AssertUnwindSafe(|| store(err, failure)));
    status
}

/// Runs an infallible export (accessor, free): a panic gives `default`.
pub(crate) fn guard_value<R>(default: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(default)
}

pub(crate) fn panic_failure(payload: &(dyn Any + Send)) -> Failure {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    Failure::new(
        HIEVC_PANIC,
        format!("internal error (panic) in libhievc: {what}; please report it"),
    )
}

/// A C string of `s`; interior NULs (never in JSON, possible in free text) become U+FFFD.
pub(crate) fn to_cstring(s: impl Into<String>) -> CString {
    let s = s.into();
    match CString::new(s) {
        Ok(c) => c,
        Err(e) => {
            let bytes: Vec<u8> = e
                .into_vec()
                .into_iter()
                .flat_map(|b| {
                    if b == 0 {
                        "\u{FFFD}".as_bytes().to_vec()
                    } else {
                        vec![b]
                    }
                })
                .collect();
            CString::new(bytes).unwrap_or_default()
        }
    }
}

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string that outlives the call.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Failure::new(
            HIEVC_INVALID_UTF8,
            format!(
                "argument '{name}' is not valid UTF-8 (byte {}): pass UTF-8 text",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional string argument: NULL (and, for convenience, "") is `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    let s = unsafe { arg_str(p, name) }?;
    Ok((!s.is_empty()).then_some(s))
}

/// A required byte-buffer argument of `len` bytes: any content (no NUL terminator, not
/// necessarily UTF-8). NULL is allowed for `len` 0 only.
///
/// # Safety
/// `p` is NULL or points at `len` readable bytes that outlive the call.
pub(crate) unsafe fn arg_bytes<'a>(
    p: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and `len` readable bytes per the contract above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A required handle argument.
///
/// # Safety
/// `p` is NULL or points at a live `T` created by this library.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: forwarded contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// A checked out-parameter: not NULL and, by the export's contract, writable for the call.
///
/// Only [`arg_out`] and [`opt_out`] make one (they are `unsafe`: they take the caller's word),
/// so writing through it is safe. A write consumes it: an out-parameter is written at most
/// once, as the last step of a successful call.
#[derive(Debug)]
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    call: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Writes `value` (what was there is not dropped: C hands in uninitialised memory).
    pub(crate) fn write(self, value: T) {
        // SAFETY: non-NULL by construction, writable per the contract `arg_out`'s caller
        // vouched for.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// Checks a required out-parameter before any work is done (so nothing is lost when it is
/// NULL): NULL is `HIEVC_NULL_ARGUMENT`.
///
/// # Safety
/// `p` is NULL or valid for writes of a `T` for `'a` (the duration of the call).
pub(crate) unsafe fn arg_out<'a, T>(p: *mut T, name: &str) -> Result<Out<'a, T>, Failure> {
    NonNull::new(p)
        .map(|ptr| Out {
            ptr,
            call: PhantomData,
        })
        .ok_or_else(|| Failure::null(name))
}

/// An optional out-parameter: NULL means the caller does not want the value.
///
/// # Safety
/// As [`arg_out`].
pub(crate) unsafe fn opt_out<'a, T>(p: *mut T) -> Option<Out<'a, T>> {
    NonNull::new(p).map(|ptr| Out {
        ptr,
        call: PhantomData,
    })
}

/// Writes a result to a checked out-parameter (the last step of a successful call).
pub(crate) fn write_out<T>(p: Out<'_, T>, value: T) {
    p.write(value);
}

/// Hands a new handle to the caller (freed with the matching `_free`).
pub(crate) fn write_handle<T>(p: Out<'_, *mut T>, value: T) {
    p.write(Box::into_raw(Box::new(value)));
}

/// Frees a handle created by [`write_handle`]; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from [`write_handle`] for this `T` and was not freed before.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: forwarded contract.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Locks a mutex; a poisoned one (a panic while it was held, caught by a panic boundary) still
/// holds consistent data here: every critical section is a plain read or replacement.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The C string of an optional value, or NULL.
pub(crate) fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// Frees a string returned by this library (through a `char **` out-parameter). NULL is a
/// no-op. Do not pass strings borrowed from an object (`hievc_error_message`,
/// `hievc_event_json`, ...) or `free()` a returned string: each side frees its own memory.
///
/// # Safety
/// `s` is NULL or a string returned by this library, not freed before.
#[no_mangle]
pub unsafe extern "C" fn hievc_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in this library and is freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hievc_error_free, hievc_error_json, hievc_error_kind, hievc_error_message};

    /// An export shaped like every other, whose body panics after checking its out-parameter
    /// — what a bug in the library would do. (A real export cannot be made to panic on purpose,
    /// and a host callback may not unwind into Rust.)
    ///
    /// # Safety
    /// `out` is writable; `err` is NULL or writable.
    unsafe extern "C" fn buggy_export(
        index: usize,
        out: *mut *mut c_char,
        err: *mut *mut hievc_error,
    ) -> hievc_status {
        // SAFETY: `err` is NULL or writable (caller contract).
        guard(unsafe { opt_out(err) }, || {
            // SAFETY: caller contract.
            let out = unsafe { arg_out(out, "out") }?;
            let parts = ["a", "b"];
            out.write(to_cstring(parts[index]).into_raw());
            Ok(())
        })
    }

    fn text(p: *const c_char) -> String {
        // SAFETY: the accessors return NUL-terminated strings borrowed from a live error.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_in_an_export_is_hievc_panic_not_an_abort() {
        let sentinel: *mut c_char = std::ptr::dangling_mut();
        let mut out = sentinel;
        let mut err: *mut hievc_error = std::ptr::null_mut();
        // SAFETY: valid pointers.
        let status = unsafe { buggy_export(5, &mut out, &mut err) };
        assert_eq!(status, HIEVC_PANIC);
        assert_eq!(out, sentinel, "no output after a panic");
        assert!(!err.is_null(), "the panic is described in the error");
        // SAFETY: a live error from the boundary.
        unsafe {
            assert_eq!(text(hievc_error_kind(err)), "panic");
            let message = text(hievc_error_message(err));
            assert!(
                message.starts_with("internal error (panic) in libhievc: index out of bounds")
                    && message.ends_with("please report it"),
                "{message}"
            );
            assert!(text(hievc_error_json(err)).contains("\"statusName\":\"panic\""));
            hievc_error_free(err);
        }
        // The same export still works, and with a NULL `err` a panic is the status alone.
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(buggy_export(1, &mut out, std::ptr::null_mut()), HIEVC_OK);
            assert_eq!(CStr::from_ptr(out).to_str(), Ok("b"));
            hievc_string_free(out);
            assert_eq!(buggy_export(9, &mut out, std::ptr::null_mut()), HIEVC_PANIC);
        }
    }

    #[test]
    fn panic_payloads_of_any_type_become_a_message() {
        let of = |p: Box<dyn Any + Send>| panic_failure(p.as_ref()).info.message.clone();
        assert!(of(Box::new("static text")).contains(": static text;"));
        assert!(of(Box::new(String::from("formatted 7"))).contains(": formatted 7;"));
        assert!(of(Box::new(42_u8)).contains(": unknown panic payload;"));
        assert_eq!(panic_failure(&"x").status, HIEVC_PANIC);
    }

    #[test]
    fn an_accessor_that_panics_gives_its_neutral_value() {
        let v: i64 = guard_value(-1, || panic!("accessor bug"));
        assert_eq!(v, -1);
    }

    #[test]
    fn interior_nuls_in_output_text_become_replacement_characters() {
        assert_eq!(to_cstring("a\0b").to_str(), Ok("a\u{FFFD}b"));
        assert_eq!(to_cstring("plain").to_str(), Ok("plain"));
    }
}
