//! [`HieClient`]: the entry point. Each interaction is a method that returns a request builder;
//! nothing is sent until the builder's `send()` (or `stream()`) is awaited.

use std::fmt;
use std::sync::Arc;

use reqwest::Method;

use super::bundle::BundleRequest;
use super::capabilities::CapabilitiesRequest;
use super::config::{HieConfig, Prefer};
use super::crud::{CreateRequest, DeleteRequest, ReadRequest, UpdateRequest};
use super::history::HistoryRequest;
use super::resource::{FhirResource, TypedResource};
use super::search::SearchRequest;
use super::transport::{Call, CallOptions, Exchange, Reply, Transport};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{self, Bundle, BundleType, FhirRoot, ReadMode, ReadOptions, Resource};
use crate::mycore::Validator;

/// Adds the per-request settings every request builder shares (`timeout`, `request_id`,
/// `header`, `retry`, `options`) to a builder with an `opts: CallOptions` field.
macro_rules! call_options {
    () => {
        /// The time limit of each attempt of this request (overrides the client's).
        pub fn timeout(mut self, d: std::time::Duration) -> Self {
            self.opts.timeout = Some(d);
            self
        }
        /// The `X-Request-Id` to send (default: a fresh UUID), e.g. to tie the call to your
        /// own logs; retries of this request reuse it.
        pub fn request_id(mut self, id: impl Into<String>) -> Self {
            self.opts.request_id = Some(id.into());
            self
        }
        /// An extra header for this request only.
        pub fn header(
            mut self,
            name: reqwest::header::HeaderName,
            value: reqwest::header::HeaderValue,
        ) -> Self {
            self.opts.headers.push((name, value));
            self
        }
        /// The retry policy of this request (overrides the client's).
        pub fn retry(mut self, policy: $crate::hie::RetryPolicy) -> Self {
            self.opts.retry = Some(policy);
            self
        }
        /// Applies [`RequestOptions`](crate::hie::RequestOptions) (what a binding passes):
        /// an `InvalidInput` error for a header that HTTP cannot carry.
        pub fn options(mut self, o: &$crate::hie::RequestOptions) -> $crate::Result<Self> {
            if let Some(d) = o.timeout() {
                self = self.timeout(d);
            }
            if let Some(id) = &o.request_id {
                self = self.request_id(id.clone());
            }
            for (n, v) in o.header_pairs()? {
                self = self.header(n, v);
            }
            if let Some(policy) = o.retry_policy() {
                self = self.retry(policy);
            }
            Ok(self)
        }
    };
}
pub(crate) use call_options;

/// A client of an HIE FHIR R4 server.
///
/// Cheap to clone (one `Arc`), safe to share between tasks: every clone uses the same connection
/// pool and the same OAuth2 token cache. Calls are async (tokio).
///
/// ```no_run
/// # async fn demo() -> hie_vc::Result<()> {
/// use hie_vc::fhir::Appointment;
/// use hie_vc::hie::{Auth, HieClient, HieConfig};
/// let client = HieClient::new(
///     HieConfig::builder("https://fhir.hie.moh.gov.my/baseR4/")
///         .auth(Auth::bearer("token-from-hie"))
///         .build()?,
/// )?;
/// let appt = client.read::<Appointment>("appt-1").send().await?.into_resource();
/// # let _ = appt; Ok(()) }
/// ```
#[derive(Clone)]
pub struct HieClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) config: HieConfig,
    validator: Validator,
    read_opts: ReadOptions,
}

impl fmt::Debug for HieClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HieClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("auth", &self.inner.config.auth.scheme())
            .field("validate", &self.inner.config.validate)
            .finish_non_exhaustive()
    }
}

impl HieClient {
    /// A client with these settings. No request is made until the first call.
    pub fn new(config: HieConfig) -> Result<Self> {
        let transport = Transport::new(&config)?;
        let validator = Validator::new().profile_base(config.profile_base.clone());
        let read_opts = match config.read_mode {
            ReadMode::Strict => ReadOptions::strict(),
            ReadMode::Lenient => ReadOptions::lenient(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                config,
                validator,
                read_opts,
            }),
        })
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &HieConfig {
        &self.inner.config
    }

    /// `create`: `POST [base]/[type]`; the server assigns the id.
    pub fn create<T: FhirResource>(&self, resource: T) -> CreateRequest<T> {
        CreateRequest::new(self.clone(), resource)
    }
    /// `read`: `GET [base]/[type]/[id]`.
    pub fn read<T: TypedResource>(&self, id: impl Into<String>) -> ReadRequest<T> {
        ReadRequest::new(self.clone(), T::NAME.to_owned(), id.into(), None)
    }
    /// `read` of a type named at run time.
    pub fn read_type(
        &self,
        resource_type: impl Into<String>,
        id: impl Into<String>,
    ) -> ReadRequest<Resource> {
        ReadRequest::new(self.clone(), resource_type.into(), id.into(), None)
    }
    /// `vread`: `GET [base]/[type]/[id]/_history/[vid]`.
    pub fn vread<T: TypedResource>(
        &self,
        id: impl Into<String>,
        version_id: impl Into<String>,
    ) -> ReadRequest<T> {
        ReadRequest::new(
            self.clone(),
            T::NAME.to_owned(),
            id.into(),
            Some(version_id.into()),
        )
    }
    /// `update`: `PUT [base]/[type]/[id]` with the resource's own id; creates the resource
    /// when the id is new (update-as-create, how source systems keep their own ids).
    pub fn update<T: FhirResource>(&self, resource: T) -> UpdateRequest<T> {
        UpdateRequest::new(self.clone(), resource)
    }
    /// `delete`: `DELETE [base]/[type]/[id]`.
    pub fn delete<T: TypedResource>(&self, id: impl Into<String>) -> DeleteRequest {
        DeleteRequest::new(self.clone(), T::NAME.to_owned(), id.into())
    }
    /// `delete` of a type named at run time.
    pub fn delete_type(
        &self,
        resource_type: impl Into<String>,
        id: impl Into<String>,
    ) -> DeleteRequest {
        DeleteRequest::new(self.clone(), resource_type.into(), id.into())
    }
    /// `search`: `GET [base]/[type]?params`.
    pub fn search<T: TypedResource>(&self) -> SearchRequest<T> {
        SearchRequest::new(self.clone(), T::NAME.to_owned())
    }
    /// `search` of a type named at run time.
    pub fn search_type(&self, resource_type: impl Into<String>) -> SearchRequest<Resource> {
        SearchRequest::new(self.clone(), resource_type.into())
    }
    /// Instance `history`: `GET [base]/[type]/[id]/_history`.
    pub fn history<T: TypedResource>(&self, id: impl Into<String>) -> HistoryRequest<T> {
        HistoryRequest::new(self.clone(), Some(T::NAME.to_owned()), Some(id.into()))
    }
    /// Type `history`: `GET [base]/[type]/_history`.
    pub fn type_history<T: TypedResource>(&self) -> HistoryRequest<T> {
        HistoryRequest::new(self.clone(), Some(T::NAME.to_owned()), None)
    }
    /// `history` of a type named at run time: of the instance `id`
    /// (`GET [base]/[type]/[id]/_history`) or, without one, of the type
    /// (`GET [base]/[type]/_history`). Any resource type the server knows; versions of types
    /// the model does not type come back as [`Resource::Other`].
    pub fn history_type(
        &self,
        resource_type: impl Into<String>,
        id: Option<&str>,
    ) -> HistoryRequest<Resource> {
        HistoryRequest::new(
            self.clone(),
            Some(resource_type.into()),
            id.map(str::to_owned),
        )
    }
    /// `history` at the level the arguments name, as a binding's option object gives them:
    /// an instance (type and id), a type (type only) or the server (neither). An id without
    /// a type is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error.
    pub fn history_at(
        &self,
        resource_type: Option<String>,
        id: Option<&str>,
    ) -> crate::Result<HistoryRequest<Resource>> {
        match (resource_type, id) {
            (None, None) => Ok(self.system_history()),
            (None, Some(_)) => Err(crate::Error::new(
                crate::ErrorKind::InvalidInput,
                "an id without a resource type: give both for an instance history",
            )),
            (Some(t), id) => Ok(self.history_type(t, id)),
        }
    }
    /// System `history`: `GET [base]/_history`.
    pub fn system_history(&self) -> HistoryRequest<Resource> {
        HistoryRequest::new(self.clone(), None, None)
    }
    /// A `batch` (entries processed independently): `POST [base]`.
    pub fn batch(&self) -> BundleRequest {
        BundleRequest::new(self.clone(), Bundle::new(BundleType::Batch))
    }
    /// A `transaction` (all entries or none): `POST [base]`.
    pub fn transaction(&self) -> BundleRequest {
        BundleRequest::new(self.clone(), Bundle::new(BundleType::Transaction))
    }
    /// Sends a batch or transaction Bundle built elsewhere (e.g. by
    /// `hie_vc::mycore::scheduling_bundle`).
    pub fn send_bundle(&self, bundle: Bundle) -> BundleRequest {
        BundleRequest::new(self.clone(), bundle)
    }
    /// `capabilities`: `GET [base]/metadata`.
    pub fn capabilities(&self) -> CapabilitiesRequest {
        CapabilitiesRequest::new(self.clone())
    }

    // ---- shared by the request builders ----

    pub(crate) fn call(
        &self,
        method: Method,
        path: &str,
        interaction: &'static str,
        target: String,
        opts: CallOptions,
    ) -> Result<Call> {
        let idempotent = method != Method::POST;
        Ok(Call {
            url: self.inner.transport.url(path)?,
            method,
            body: None,
            headers: reqwest::header::HeaderMap::new(),
            idempotent,
            interaction,
            target,
            opts,
        })
    }

    /// The transport's future itself, not an `async` layer around it (see
    /// `crate::http::Engine::send`).
    pub(crate) fn execute(&self, call: Call) -> Exchange {
        self.inner.transport.execute(call)
    }

    /// Client-side MY Core validation of what is about to be sent.
    pub(crate) fn check(&self, resource: &Resource, per_request: Option<bool>) -> Result<()> {
        if !per_request.unwrap_or(self.inner.config.validate) {
            return Ok(());
        }
        let report = self.inner.validator.validate(resource);
        if report.has_errors() {
            return Err(Error::validation(report));
        }
        Ok(())
    }

    /// The `Prefer` to send: the request's, else the client's.
    pub(crate) fn prefer(&self, per_request: Option<Prefer>) -> Option<Prefer> {
        per_request.or(self.inner.config.prefer)
    }

    /// Reads a response body as `T`, or a located decode error naming the call.
    ///
    /// The reader's messages withhold string values, but a few still quote what they met (a
    /// number sent as a string, a code): the error keeps the location and the reason, with
    /// every quoted span replaced by `***`, and not the reader's error itself.
    pub(crate) fn decode<T: FhirRoot>(
        &self,
        reply: &Reply,
        what: impl FnOnce() -> String,
    ) -> Result<fhir::Read<T>> {
        fhir::read::<T>(&reply.body, self.inner.read_opts).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "the server's answer to {} is not the FHIR JSON expected ({}: {}); report the request id to HIE",
                    what(),
                    e.kind.as_str(),
                    redact_quoted(&e.message)
                ),
            )
            .with_location(e.location)
            .with_status(reply.status)
            .with_request_id(reply.request_id.clone())
        })
    }
}

/// Replaces every quoted span ('...' or "...") of a message by `***`.
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push_str("***");
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push_str("***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::Patient;
    use crate::http::TEST_CA;

    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    fn send<F: Send>(_: F) {}

    #[test]
    fn the_client_and_its_futures_can_cross_threads() {
        send_sync_clone::<HieClient>();
        let c = HieClient::new(HieConfig::builder("http://127.0.0.1:9/").build().unwrap()).unwrap();
        // Every request future is Send, so it can be given to tokio::spawn.
        send(c.read::<Patient>("p").send());
        send(c.update(Patient::default()).send());
        send(c.create(Patient::default()).send());
        send(c.delete::<Patient>("p").send());
        send(c.search::<Patient>().send());
        send(c.search::<Patient>().stream());
        send(c.history::<Patient>("p").send());
        send(c.transaction().send());
        send(c.capabilities().send());
        send(c.find_encounter_for_appointment("a"));
        // Clones share one state.
        let d = c.clone();
        assert!(Arc::ptr_eq(&c.inner, &d.inner));
    }

    /// A request's future is copied into every caller's own, and its result moved out through
    /// each layer: kept small, a PUT touches a few cache lines instead of several KB of cold
    /// memory (issue 10 §6, bench/RESULTS.md). These bounds hold in debug and release builds
    /// (the futures are 90-140 bytes); an `async fn send(self)` (0.6-1.1 KB), or a result
    /// holding an Appointment inline (2.1 KB), breaks them.
    #[test]
    fn request_futures_and_results_stay_small() {
        use crate::fhir::Appointment;
        use crate::hie::{Fetched, Written};
        use std::mem::{size_of, size_of_val};
        let c = HieClient::new(HieConfig::builder("http://127.0.0.1:9/").build().unwrap()).unwrap();
        let appt = Appointment {
            id: crate::fhir::Id::new("a1").ok(),
            ..Appointment::default()
        };
        let put = c.put_appointment(appt.clone()).send();
        assert!(
            size_of_val(&put) <= 192,
            "update: {} bytes",
            size_of_val(&put)
        );
        let create = c.create(appt).send();
        assert!(
            size_of_val(&create) <= 192,
            "create: {}",
            size_of_val(&create)
        );
        let read = c.read::<Appointment>("a1").send();
        assert!(size_of_val(&read) <= 192, "read: {}", size_of_val(&read));
        let delete = c.delete::<Appointment>("a1").send();
        assert!(
            size_of_val(&delete) <= 192,
            "delete: {}",
            size_of_val(&delete)
        );
        assert!(size_of::<Written<Appointment>>() <= 256);
        assert!(size_of::<Fetched<Appointment>>() <= 160);
        // The engine's own future is boxed once per call; it only grows with what it awaits.
        let call = c
            .call(
                Method::PUT,
                "Appointment/a1",
                "update",
                String::new(),
                Default::default(),
            )
            .unwrap();
        let engine = c.inner.transport.engine_future_size(call);
        assert!(engine <= 3072, "engine: {engine} bytes");
    }

    #[test]
    fn a_request_id_that_cannot_be_a_header_is_refused_before_sending() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Port 9 (discard) is never reached: the id is checked first.
        let c = HieClient::new(HieConfig::builder("http://127.0.0.1:9/").build().unwrap()).unwrap();
        let e = rt
            .block_on(c.read::<Patient>("p").request_id("two\nlines").send())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn quoted_values_are_redacted_from_reader_messages() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "900101015555", expected a JSON boolean"#),
            r#"invalid type: string "***", expected a JSON boolean"#
        );
        assert_eq!(
            redact_quoted("invalid date '9001-99-01': expected YYYY"),
            "invalid date '***': expected YYYY"
        );
        assert_eq!(redact_quoted("unterminated \"abc"), "unterminated \"***");
        assert_eq!(redact_quoted("no quotes"), "no quotes");
    }

    #[test]
    fn tls_settings_are_checked_when_the_client_is_built() {
        let bad = HieConfig::builder("https://sandbox.example/")
            .root_certificate_pem(b"not a certificate".to_vec())
            .build()
            .unwrap();
        assert_eq!(HieClient::new(bad).unwrap_err().kind(), ErrorKind::Config);
        let ca = HieConfig::builder("https://sandbox.example/")
            .root_certificate_pem(TEST_CA.as_bytes().to_vec())
            .build()
            .unwrap();
        assert!(
            HieClient::new(ca).is_ok(),
            "a real CA certificate is accepted"
        );
        let insecure = HieConfig::builder("https://sandbox.example/")
            .danger_accept_invalid_certs_for_host("sandbox.example")
            .build()
            .unwrap();
        assert!(HieClient::new(insecure).is_ok());
        let bad_token_url = HieConfig::builder("https://h/")
            .auth(crate::hie::Auth::oauth2(
                crate::hie::OAuth2::client_credentials("not a url", "c", "s"),
            ))
            .build()
            .unwrap();
        assert_eq!(
            HieClient::new(bad_token_url).unwrap_err().kind(),
            ErrorKind::Config
        );
    }
}
