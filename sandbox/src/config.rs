//! [`SandboxConfig`]: how the emulator behaves. Every setting has a default that emulates HIE
//! as the MY Core guide describes it; change only what a test needs.

use std::fmt;
use std::time::Duration;

use hie_vc::fhir::Resource;
use hie_vc::jitsi::JitsiRestContract;
use hie_vc::listener::MemoryBroker;
use hie_vc::mycore::consts::PROFILE_BASE;
use hie_vc::notify::NotificationContract;
use time::UtcOffset;

/// The default topic the sandbox publishes check-in Encounters on.
pub const DEFAULT_TOPIC: &str = "vc-encounters";
/// The default Notification API login e-mail.
pub const DEFAULT_NOTIFY_EMAIL: &str = "source-system@sandbox.invalid";
/// The default Notification API login password (a test credential of the emulator only).
pub const DEFAULT_NOTIFY_PASSWORD: &str = "sandbox-password";
/// The default id of the Organization the sandbox puts in `Encounter.serviceProvider`.
pub const DEFAULT_ORGANIZATION_ID: &str = "hie-sandbox-facility";
/// The default Jitsi domain of join URLs.
pub const DEFAULT_JITSI_DOMAIN: &str = "meet.sandbox.invalid";

/// Authentication the FHIR API demands (none by default).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FhirAuth {
    /// `Authorization: Bearer <token>` with this token.
    Bearer(String),
    /// HTTP basic with these credentials.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

impl fmt::Debug for FhirAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// What a check-in publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EventPayload {
    /// The Encounter JSON alone.
    #[default]
    Encounter,
    /// A `collection` Bundle: the Encounter first, then its Patient and Appointment.
    Bundle,
}

impl EventPayload {
    /// `encounter` or `bundle`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encounter => "encounter",
            Self::Bundle => "bundle",
        }
    }
}

impl std::str::FromStr for EventPayload {
    type Err = hie_vc::Error;
    fn from_str(name: &str) -> Result<Self, hie_vc::Error> {
        match name {
            "encounter" => Ok(Self::Encounter),
            "bundle" => Ok(Self::Bundle),
            _ => Err(hie_vc::Error::unknown_name(
                "check-in payload",
                name,
                &["encounter", "bundle"],
            )),
        }
    }
}

impl std::fmt::Display for EventPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventPayload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        name.parse()
            .map_err(|e: hie_vc::Error| serde::de::Error::custom(e.message()))
    }
}

/// A Kafka cluster to publish check-in Encounters to.
#[derive(Clone)]
pub struct KafkaTarget {
    /// `host:port[,host:port...]`.
    pub bootstrap_servers: String,
    /// librdkafka producer properties (security, `acks`, ...), applied last.
    pub properties: Vec<(String, String)>,
    /// How long a publish may take before the check-in reports it failed.
    pub timeout: Duration,
}

impl KafkaTarget {
    /// PLAINTEXT brokers, a 10 s publish bound.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            properties: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
    /// Adds a librdkafka property (e.g. `security.protocol`, `sasl.username`).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }
}

impl fmt::Debug for KafkaTarget {
    // Properties may hold SASL passwords: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaTarget")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field(
                "properties",
                &self.properties.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Where check-in Encounters go.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventTarget {
    /// An in-process broker: the one given, or a new one (see `Sandbox::broker`).
    Memory(Option<MemoryBroker>),
    /// A real Kafka cluster.
    Kafka(KafkaTarget),
}

/// The emulator's configuration.
#[derive(Clone)]
pub struct SandboxConfig {
    pub(crate) fhir_path: String,
    pub(crate) public_url: Option<String>,
    pub(crate) validate: bool,
    pub(crate) profile_base: String,
    pub(crate) require_profile_claim: bool,
    pub(crate) check_references: bool,
    pub(crate) allow_delete: bool,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
    pub(crate) local_offset: UtcOffset,
    pub(crate) max_body_bytes: usize,
    pub(crate) fhir_auth: Option<FhirAuth>,
    pub(crate) organization_id: String,
    pub(crate) organization_name: String,
    pub(crate) mark_appointment_arrived: bool,
    pub(crate) events: EventTarget,
    pub(crate) topic: String,
    pub(crate) payload: EventPayload,
    pub(crate) notify_email: String,
    pub(crate) notify_password: String,
    pub(crate) notify_token_ttl: Duration,
    pub(crate) notify_require_mykad: bool,
    pub(crate) notify_contract: NotificationContract,
    pub(crate) jitsi_domain: String,
    pub(crate) jitsi_contract: JitsiRestContract,
    pub(crate) seed: Vec<Resource>,
    pub(crate) fault_seed: Option<u64>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            fhir_path: "/fhir".to_owned(),
            public_url: None,
            validate: true,
            profile_base: PROFILE_BASE.to_owned(),
            require_profile_claim: false,
            check_references: true,
            allow_delete: true,
            default_page_size: 20,
            max_page_size: 500,
            // HIE runs in Malaysia: dates searched without a zone are Malaysian time.
            local_offset: UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC),
            max_body_bytes: 16 * 1024 * 1024,
            fhir_auth: None,
            organization_id: DEFAULT_ORGANIZATION_ID.to_owned(),
            organization_name: "HIE Sandbox Facility".to_owned(),
            mark_appointment_arrived: false,
            events: EventTarget::Memory(None),
            topic: DEFAULT_TOPIC.to_owned(),
            payload: EventPayload::Encounter,
            notify_email: DEFAULT_NOTIFY_EMAIL.to_owned(),
            notify_password: DEFAULT_NOTIFY_PASSWORD.to_owned(),
            notify_token_ttl: Duration::from_secs(3600),
            notify_require_mykad: false,
            notify_contract: NotificationContract::default(),
            jitsi_domain: DEFAULT_JITSI_DOMAIN.to_owned(),
            jitsi_contract: JitsiRestContract::default(),
            seed: Vec::new(),
            fault_seed: None,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("fhir_path", &self.fhir_path)
            .field("public_url", &self.public_url)
            .field("validate", &self.validate)
            .field("profile_base", &self.profile_base)
            .field("check_references", &self.check_references)
            .field("allow_delete", &self.allow_delete)
            .field("fhir_auth", &self.fhir_auth)
            .field("events", &self.events)
            .field("topic", &self.topic)
            .field("payload", &self.payload)
            .field("notify_email", &self.notify_email)
            .field("notify_password", &"<redacted>")
            .field("seed", &self.seed.len())
            .finish_non_exhaustive()
    }
}

impl SandboxConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The path of the FHIR base (default `/fhir`).
    pub fn fhir_path(mut self, path: impl Into<String>) -> Self {
        let p = path.into();
        self.fhir_path = format!("/{}", p.trim_matches('/'));
        self
    }
    /// The URL clients reach the sandbox at (e.g. behind a proxy), used in `Location`, links
    /// and `fullUrl`s. Default: `http://` + the request's `Host`.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }
    /// MY Core validation of every write (default on: invalid resources get 422).
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = yes;
        self
    }
    /// The base of the MY Core profile canonicals (default the current one).
    pub fn profile_base(mut self, base: impl Into<String>) -> Self {
        self.profile_base = base.into();
        self
    }
    /// Refuse writes whose `meta.profile` does not claim the MY Core profile (default off).
    pub fn require_profile_claim(mut self, yes: bool) -> Self {
        self.require_profile_claim = yes;
        self
    }
    /// References to stored types must resolve (default on: HIE needs a HealthcareService
    /// before the VC resources that name it).
    pub fn check_references(mut self, yes: bool) -> Self {
        self.check_references = yes;
        self
    }
    /// Allow DELETE (default on; HIE disables it for most source systems: off answers 403).
    pub fn allow_delete(mut self, yes: bool) -> Self {
        self.allow_delete = yes;
        self
    }
    /// Search page size when `_count` is not given, and its maximum (default 20 and 500).
    pub fn page_sizes(mut self, default: usize, max: usize) -> Self {
        self.default_page_size = default.max(1);
        self.max_page_size = max.max(self.default_page_size);
        self
    }
    /// The zone of searched dates without one (default +08:00, Malaysia).
    pub fn local_offset(mut self, offset: UtcOffset) -> Self {
        self.local_offset = offset;
        self
    }
    /// The largest request body accepted (default 16 MiB; larger gets 413).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
    /// Authentication the FHIR API demands (default none).
    pub fn fhir_auth(mut self, auth: FhirAuth) -> Self {
        self.fhir_auth = Some(auth);
        self
    }
    /// The Organization check-in puts in `Encounter.serviceProvider` (created at start).
    pub fn organization(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.organization_id = id.into();
        self.organization_name = name.into();
        self
    }
    /// Set the Appointment to `arrived` at check-in (default off: the Appointment is left
    /// as the source system wrote it).
    pub fn mark_appointment_arrived(mut self, yes: bool) -> Self {
        self.mark_appointment_arrived = yes;
        self
    }
    /// Publish check-in Encounters to this in-process broker (default: a new one).
    pub fn memory_broker(mut self, broker: MemoryBroker) -> Self {
        self.events = EventTarget::Memory(Some(broker));
        self
    }
    /// Publish check-in Encounters to a Kafka cluster.
    pub fn kafka(mut self, target: KafkaTarget) -> Self {
        self.events = EventTarget::Kafka(target);
        self
    }
    /// The topic of check-in Encounters (default [`DEFAULT_TOPIC`]).
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = topic.into();
        self
    }
    /// What a check-in publishes (default the bare Encounter).
    pub fn payload(mut self, payload: EventPayload) -> Self {
        self.payload = payload;
        self
    }
    /// The Notification API login (default [`DEFAULT_NOTIFY_EMAIL`] /
    /// [`DEFAULT_NOTIFY_PASSWORD`]).
    pub fn notify_login(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.notify_email = email.into();
        self.notify_password = password.into();
        self
    }
    /// How long a Notification API token is valid (default 1 hour).
    pub fn notify_token_ttl(mut self, ttl: Duration) -> Self {
        self.notify_token_ttl = ttl;
        self
    }
    /// Refuse notifications to patient ids that are not MyKad numbers (422; default off:
    /// any non-empty id is accepted and recorded).
    pub fn notify_require_mykad(mut self, yes: bool) -> Self {
        self.notify_require_mykad = yes;
        self
    }
    /// The Notification API's paths and field names (default: the SDK client's defaults).
    pub fn notify_contract(mut self, contract: NotificationContract) -> Self {
        self.notify_contract = contract;
        self
    }
    /// The Jitsi token service's paths and field names (default: the SDK client's defaults).
    pub fn jitsi_contract(mut self, contract: JitsiRestContract) -> Self {
        self.jitsi_contract = contract;
        self
    }
    /// The domain of Jitsi join URLs (default [`DEFAULT_JITSI_DOMAIN`]).
    pub fn jitsi_domain(mut self, domain: impl Into<String>) -> Self {
        self.jitsi_domain = domain.into();
        self
    }
    /// Resources stored at start (e.g. the Patients, Practitioners and HealthcareService a
    /// test books for). They are validated like any write.
    pub fn seed(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.seed.extend(resources);
        self
    }
    /// A fixed seed for the fault rates, for reproducible runs.
    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = Some(seed);
        self
    }

    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        let bad = |m: &str| Err(crate::Error::Config(m.to_owned()));
        if self.fhir_path == "/" || self.fhir_path.starts_with("/sandbox") {
            return bad(
                "the FHIR path must be a path of its own (e.g. /fhir), not / or under /sandbox",
            );
        }
        if self.topic.trim().is_empty() {
            return bad("the event topic is empty");
        }
        if self.notify_email.is_empty() || self.notify_password.is_empty() {
            return bad("the Notification API login needs an e-mail and a password");
        }
        if hie_vc::fhir::Id::new(self.organization_id.as_str()).is_err() {
            return bad("the service provider Organization id is not a valid FHIR id");
        }
        if let EventTarget::Kafka(k) = &self.events {
            if k.bootstrap_servers.trim().is_empty() {
                return bad("Kafka publishing needs bootstrap servers");
            }
        }
        Ok(())
    }
}
