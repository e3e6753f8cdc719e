//! [`Sandbox`]: a running emulator — in-process on an ephemeral loopback port
//! ([`Sandbox::start`]), on a chosen address ([`Sandbox::bind`]), or as a server until a
//! signal ([`serve`]) — and the Rust API tests use to drive it and assert on what it recorded.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hie_vc::fhir::Resource;
use hie_vc::hie::{HieClient, HieConfigBuilder};
use hie_vc::jitsi::{JitsiRestContract, RestJitsiConfig, RestJitsiConfigBuilder, TokenVerifier};
use hie_vc::listener::MemoryBroker;
use hie_vc::notify::{NotificationConfig, NotificationConfigBuilder, NotificationContract};
use hie_vc::settings::SettingsLoader;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::app::{router, App, ConnKill, ADMIN_PATH, JITSI_PATH, NOTIFY_PATH};
use crate::checkin::CheckIn;
use crate::config::{FhirAuth, SandboxConfig};
use crate::error::Error;
use crate::faults::{Faults, Service, ServiceStats};
use crate::publish::Delivery;
use crate::records::{JitsiSessionRecord, NotificationRecord, PublishedEvent};

/// How long connections get to finish at shutdown before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running sandbox. Dropping it stops the server (without waiting); prefer
/// [`Sandbox::shutdown`].
///
/// ```no_run
/// # async fn demo() -> Result<(), hie_vc_sandbox::Error> {
/// use hie_vc_sandbox::{Sandbox, SandboxConfig};
/// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
/// let client = sandbox.hie_client().expect("client");
/// let page = client.search::<hie_vc::fhir::Encounter>().send().await;
/// # let _ = page;
/// sandbox.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sandbox {
    app: Arc<App>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1` and an ephemeral port.
    pub async fn start(config: SandboxConfig) -> Result<Self, Error> {
        Self::bind(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts a sandbox listening on `addr` (port 0: any free port).
    pub async fn bind(config: SandboxConfig, addr: SocketAddr) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let app = Arc::new(App::new(config, local)?);
        app.seed()?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router(app.clone()), stop_rx));
        tracing::info!(addr = %local, events = %app.publisher.describe(), "sandbox: listening");
        Ok(Self {
            app,
            addr: local,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:<port>` (or the configured public URL).
    pub fn url(&self) -> String {
        self.app.origin(None)
    }
    /// The FHIR base URL (`http://127.0.0.1:<port>/fhir`).
    pub fn fhir_base(&self) -> String {
        self.app.fhir_base(None)
    }
    /// The base URL of the Jitsi token service (for `RestJitsiConfig::builder`).
    pub fn jitsi_base(&self) -> String {
        format!("{}{JITSI_PATH}", self.url())
    }
    /// The base URL of the Notification API (for `NotificationConfig::builder`).
    pub fn notify_base(&self) -> String {
        format!("{}{NOTIFY_PATH}", self.url())
    }
    /// The base URL of the admin endpoints.
    pub fn admin_base(&self) -> String {
        format!("{}{ADMIN_PATH}", self.url())
    }
    /// The Notification API login (e-mail, password) the sandbox accepts.
    pub fn notify_login(&self) -> (&str, &str) {
        (
            &self.app.config.notify_email,
            &self.app.config.notify_password,
        )
    }
    /// The Notification API contract the sandbox implements.
    pub fn notify_contract(&self) -> &NotificationContract {
        self.app.notify.contract()
    }
    /// The Jitsi token service contract the sandbox implements.
    pub fn jitsi_contract(&self) -> &JitsiRestContract {
        self.app.jitsi.contract()
    }
    /// A verifier of the join tokens the emulated Jitsi service issues.
    pub fn jitsi_verifier(&self) -> TokenVerifier {
        self.app.jitsi.verifier()
    }
    /// HIE client settings for this sandbox (with its credentials when the FHIR API demands
    /// them); add your own settings and `build()`.
    pub fn hie_config(&self) -> HieConfigBuilder {
        let b = hie_vc::hie::HieConfig::builder(self.fhir_base());
        match &self.app.config.fhir_auth {
            Some(FhirAuth::Bearer(t)) => b.auth(hie_vc::hie::Auth::bearer(t.clone())),
            Some(FhirAuth::Basic { username, password }) => {
                b.auth(hie_vc::hie::Auth::basic(username.clone(), password.clone()))
            }
            None => b,
        }
    }
    /// An HIE client of this sandbox with default settings.
    pub fn hie_client(&self) -> hie_vc::Result<HieClient> {
        HieClient::new(self.hie_config().build()?)
    }
    /// Settings of the core's `RestJitsi` client for this sandbox's Jitsi token service (with
    /// the contract it implements); add your own settings and `build()`.
    pub fn jitsi_config(&self) -> RestJitsiConfigBuilder {
        RestJitsiConfig::builder(self.jitsi_base()).contract(self.jitsi_contract().clone())
    }
    /// Settings of the core's `NotificationClient` for this sandbox's Notification API (with
    /// its login and contract); add your own settings and `build()`.
    pub fn notification_config(&self) -> NotificationConfigBuilder {
        let (email, password) = self.notify_login();
        NotificationConfig::builder(self.notify_base())
            .credentials(email, password.to_owned())
            .contract(self.notify_contract().clone())
    }
    /// The settings of a front end pointed at this sandbox: `hie.url` (its FHIR API, with its
    /// credentials when the FHIR API demands them), `jitsi.provider` = `hie` with `jitsi.url`
    /// (its token service), `notify.url`, `notify.email`, `notify.password`, and `kafka.topics`
    /// (the topic check-ins publish to). A loader, so callers can add layers before loading.
    pub fn settings(&self) -> SettingsLoader {
        let (email, password) = self.notify_login();
        let mut loader = SettingsLoader::new()
            .set("hie", "url", &self.fhir_base())
            .set("jitsi", "provider", "hie")
            .set("jitsi", "url", &self.jitsi_base())
            .set("notify", "url", &self.notify_base())
            .set("notify", "email", email)
            .set("notify", "password", password)
            .set("kafka", "topics", self.topic());
        match &self.app.config.fhir_auth {
            Some(FhirAuth::Bearer(t)) => loader = loader.set("hie", "bearer_token", t),
            Some(FhirAuth::Basic { username, password }) => {
                loader = loader.set("hie", "basic_username", username).set(
                    "hie",
                    "basic_password",
                    password,
                );
            }
            None => {}
        }
        loader
    }
    /// The in-process broker check-ins publish to (`None` when publishing to Kafka).
    pub fn broker(&self) -> Option<MemoryBroker> {
        self.app.publisher.broker().cloned()
    }
    /// The topic check-ins publish to.
    pub fn topic(&self) -> &str {
        &self.app.config.topic
    }

    /// Checks in the Appointment's patient (its only Patient participant), as HIE does when
    /// the patient checks in on RekodSaya: creates, stores and publishes the VC Encounter.
    pub async fn check_in(&self, appointment_id: &str) -> Result<CheckIn, Error> {
        crate::checkin::check_in(&self.app, appointment_id, None).await
    }
    /// Checks in one patient of an Appointment with several (a Patient id or `Patient/<id>`).
    pub async fn check_in_patient(
        &self,
        appointment_id: &str,
        patient: &str,
    ) -> Result<CheckIn, Error> {
        crate::checkin::check_in(&self.app, appointment_id, Some(patient)).await
    }
    /// Publishes the current version of an Encounter again.
    pub async fn republish(&self, encounter_id: &str) -> Result<Delivery, Error> {
        crate::checkin::republish(&self.app, encounter_id).await
    }

    /// Sets the faults of a service (replacing the previous ones).
    pub fn set_faults(&self, service: Service, faults: Faults) -> Result<(), Error> {
        faults.check().map_err(Error::Config)?;
        self.app.faults.set(service, faults);
        Ok(())
    }
    /// The faults of a service.
    pub fn faults(&self, service: Service) -> Faults {
        self.app.faults.get(service)
    }
    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }
    /// Requests and injected failures of a service so far.
    pub fn stats(&self, service: Service) -> ServiceStats {
        self.app.faults.stats(service)
    }
    /// Every service's counters by name (`fhir`, `jitsi`, `notify`): the `services` of
    /// `GET /sandbox/stats`.
    pub fn all_stats(&self) -> BTreeMap<&'static str, ServiceStats> {
        self.app.faults.all_stats()
    }

    /// The current version of a stored resource (`None` when unknown or deleted).
    pub fn resource(&self, resource_type: &str, id: &str) -> Option<Resource> {
        self.app
            .engine
            .store()
            .live(resource_type, id)
            .and_then(|v| v.body.as_ref().map(|b| b.resource.clone()))
    }
    /// The current versions of every stored resource of a type, in write order.
    pub fn resources(&self, resource_type: &str) -> Vec<Resource> {
        self.app
            .engine
            .store()
            .live_of_type(resource_type)
            .into_iter()
            .filter_map(|v| v.body.as_ref().map(|b| b.resource.clone()))
            .collect()
    }
    /// How many versions a resource has (deletes included; 0 when unknown).
    pub fn version_count(&self, resource_type: &str, id: &str) -> usize {
        self.app
            .engine
            .store()
            .versions(resource_type, id)
            .map_or(0, <[_]>::len)
    }

    /// Every notification the Notification API accepted, in order.
    pub fn notifications(&self) -> Vec<NotificationRecord> {
        self.app.notify.records()
    }
    /// Successful Notification API logins so far.
    pub fn notify_logins(&self) -> u32 {
        self.app.notify.logins()
    }
    /// Invalidates every Notification API token (the next send is answered 401).
    pub fn revoke_notify_tokens(&self) {
        self.app.notify.revoke_tokens();
    }
    /// Every Jitsi session, in creation order.
    pub fn jitsi_sessions(&self) -> Vec<JitsiSessionRecord> {
        self.app.jitsi.sessions()
    }
    /// The Jitsi session of a token.
    pub fn jitsi_session(&self, token: &str) -> Option<JitsiSessionRecord> {
        self.app
            .jitsi
            .sessions()
            .into_iter()
            .find(|s| s.token == token)
    }
    /// Every Encounter published, in order.
    pub fn events(&self) -> Vec<PublishedEvent> {
        self.app
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops accepting, lets open requests finish (briefly), and waits for the server to stop.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.app.publisher.flush(SHUTDOWN_GRACE);
        tracing::info!(addr = %self.addr, "sandbox: stopped");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Runs a sandbox on `addr` until `shutdown` completes (the CLI's `hie-vc sandbox serve`).
/// `ready` is called with the running sandbox once it listens (e.g. to print its URLs).
pub async fn serve<F, R>(
    config: SandboxConfig,
    addr: SocketAddr,
    ready: R,
    shutdown: F,
) -> Result<(), Error>
where
    F: Future<Output = ()>,
    R: FnOnce(&Sandbox),
{
    let sandbox = Sandbox::bind(config, addr).await?;
    ready(&sandbox);
    shutdown.await;
    sandbox.shutdown().await;
    Ok(())
}

async fn accept_loop(listener: TcpListener, router: axum::Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "sandbox: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let kill = Arc::new(Notify::new());
        let tag = ConnKill(kill.clone());
        let router = router.clone();
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(tag.clone());
            router.clone().oneshot(req)
        });
        let mut stop_conn = stop.clone();
        conns.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // A "down" service: drop the connection without answering.
                _ = kill.notified() => {}
                _ = stop_conn.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_millis(500), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}
