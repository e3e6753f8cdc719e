//! `hievc_shutdown`, in a process of its own (it ends the library's runtime for good): refused
//! inside a tokio runtime, idempotent, and every later call that needs the runtime fails with
//! `HIEVC_SHUT_DOWN` while the rest of the library keeps working.

use std::ffi::{c_char, CStr};
use std::ptr;

use hievc::*;

fn kind(err: *const hievc_error) -> String {
    // SAFETY: a live error; its kind is a NUL-terminated string borrowed from it.
    unsafe { CStr::from_ptr(hievc_error_kind(err)) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn shutdown_ends_the_runtime_for_good() {
    let mut err: *mut hievc_error = ptr::null_mut();
    // SAFETY: valid pointers throughout; errors freed once.
    unsafe {
        // Inside a tokio runtime it would have to block where tokio forbids it: refused.
        let host = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let status = host.block_on(async { hievc_shutdown(&mut err) });
        assert_eq!(status, hievc_status::HIEVC_INVALID_STATE);
        hievc_error_free(err);
        err = ptr::null_mut();

        // Start the runtime (a sandbox runs on it), then shut it down, twice.
        let mut sandbox = ptr::null_mut();
        assert_eq!(
            hievc_sandbox_start(ptr::null(), &mut sandbox, &mut err),
            hievc_status::HIEVC_OK
        );
        assert_eq!(hievc_shutdown(&mut err), hievc_status::HIEVC_OK);
        assert_eq!(hievc_shutdown(ptr::null_mut()), hievc_status::HIEVC_OK);

        let mut cfg = ptr::null_mut();
        assert_eq!(
            hievc_sandbox_config(sandbox, &mut cfg, &mut err),
            hievc_status::HIEVC_OK,
            "what needs no runtime still works"
        );
        let mut client = ptr::null_mut();
        assert_eq!(
            hievc_client_new(cfg, &mut client, &mut err),
            hievc_status::HIEVC_SHUT_DOWN
        );
        assert_eq!(kind(err), "shut_down");
        assert!(client.is_null());
        hievc_error_free(err);
        err = ptr::null_mut();

        let mut out: *mut c_char = ptr::null_mut();
        let resource = c"{\"resourceType\":\"Patient\",\"id\":\"p1\"}";
        assert_eq!(
            hievc_fhir_read(resource.as_ptr(), ptr::null(), &mut out, &mut err),
            hievc_status::HIEVC_OK
        );
        hievc_string_free(out);
        hievc_config_free(cfg);
        hievc_sandbox_free(sandbox);
    }
}
