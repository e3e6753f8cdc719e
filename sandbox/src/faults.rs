//! Fault switches: per emulated service, added latency, a share of requests answered 429 or
//! 503, the next N requests failed, or the service "down" (the connection is closed without
//! an answer, as a crashed server would). Settable from Rust and from the admin endpoint.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// An emulated service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// The FHIR API (`/fhir`).
    Fhir,
    /// The Jitsi token service (`/jitsi`).
    Jitsi,
    /// The Notification API (`/notify`).
    Notify,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 3] = [Service::Fhir, Service::Jitsi, Service::Notify];

    /// The name used on the admin endpoint (`fhir`, `jitsi`, `notify`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fhir => "fhir",
            Self::Jitsi => "jitsi",
            Self::Notify => "notify",
        }
    }

    /// The service named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::str::FromStr for Service {
    type Err = hie_vc::Error;
    fn from_str(name: &str) -> Result<Self, hie_vc::Error> {
        Self::parse(name).ok_or_else(|| {
            hie_vc::Error::unknown_name("sandbox service", name, &["fhir", "jitsi", "notify"])
        })
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The faults of one service. The default is none.
///
/// On the admin endpoint (`PUT /sandbox/faults/{service}`) this is JSON with the same field
/// names, the latency in milliseconds: `{"latency_ms": 200, "unavailable": 0.5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added before every answer.
    #[serde(rename = "latency_ms", with = "millis")]
    pub latency: Duration,
    /// Share of requests (0.0–1.0) answered `429 Too Many Requests`.
    pub rate_limited: f64,
    /// Share of requests (0.0–1.0) answered `503 Service Unavailable`.
    pub unavailable: f64,
    /// The next this-many requests are answered with [`Faults::fail_status`], whatever the rates.
    pub fail_next: u32,
    /// The status of [`Faults::fail_next`] failures (default 503).
    pub fail_status: u16,
    /// `Retry-After` (seconds) on 429 and 503 answers, when set.
    pub retry_after_secs: Option<u64>,
    /// The service is down: connections are closed without an answer.
    pub down: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            rate_limited: 0.0,
            unavailable: 0.0,
            fail_next: 0,
            fail_status: 503,
            retry_after_secs: None,
            down: false,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

impl Faults {
    /// No fault.
    pub fn none() -> Self {
        Self::default()
    }
    /// The service is down.
    pub fn down() -> Self {
        Self {
            down: true,
            ..Self::default()
        }
    }
    /// Every request waits `latency` first.
    pub fn latency(latency: Duration) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }
    /// The next `n` requests are answered `status`.
    pub fn fail_next(n: u32, status: u16) -> Self {
        Self {
            fail_next: n,
            fail_status: status,
            ..Self::default()
        }
    }
    /// Checks ranges (rates in 0–1, an error status).
    pub fn check(&self) -> Result<(), String> {
        for (name, r) in [
            ("rate_limited", self.rate_limited),
            ("unavailable", self.unavailable),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1, got {r}"));
            }
        }
        if self.rate_limited + self.unavailable > 1.0 {
            return Err("rate_limited + unavailable must not exceed 1".to_owned());
        }
        if !(400..=599).contains(&self.fail_status) {
            return Err(format!(
                "fail_status must be an HTTP error status (400-599), got {}",
                self.fail_status
            ));
        }
        Ok(())
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pass,
    /// Answer this status (with `Retry-After` seconds when set).
    Fail(u16, Option<u64>),
    /// Close the connection without answering.
    Drop,
}

/// Counters of one service, for assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServiceStats {
    /// Requests received.
    pub requests: u64,
    /// Requests answered with an injected error status.
    pub failed: u64,
    /// Connections closed because the service was down.
    pub dropped: u64,
}

#[derive(Debug)]
struct State {
    faults: HashMap<Service, Faults>,
    stats: HashMap<Service, ServiceStats>,
    rng: StdRng,
}

/// The switches of every service.
#[derive(Debug)]
pub(crate) struct FaultSwitch {
    state: Mutex<State>,
}

impl FaultSwitch {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Self {
            state: Mutex::new(State {
                faults: HashMap::new(),
                stats: HashMap::new(),
                rng,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set(&self, service: Service, faults: Faults) {
        self.lock().faults.insert(service, faults);
    }

    pub(crate) fn get(&self, service: Service) -> Faults {
        self.lock()
            .faults
            .get(&service)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn clear(&self) {
        self.lock().faults.clear();
    }

    pub(crate) fn stats(&self, service: Service) -> ServiceStats {
        self.lock().stats.get(&service).copied().unwrap_or_default()
    }
    pub(crate) fn all_stats(&self) -> BTreeMap<&'static str, ServiceStats> {
        Service::ALL
            .into_iter()
            .map(|s| (s.as_str(), self.stats(s)))
            .collect()
    }

    /// Decides the fate of one request to `service` (and counts it).
    pub(crate) fn decide(&self, service: Service) -> (Duration, Action) {
        let mut s = self.lock();
        let State {
            faults, stats, rng, ..
        } = &mut *s;
        let stat = stats.entry(service).or_default();
        stat.requests += 1;
        let Some(f) = faults.get_mut(&service) else {
            return (Duration::ZERO, Action::Pass);
        };
        let action = if f.down {
            stat.dropped += 1;
            Action::Drop
        } else if f.fail_next > 0 {
            f.fail_next -= 1;
            stat.failed += 1;
            Action::Fail(f.fail_status, f.retry_after_secs)
        } else {
            let x: f64 = rng.random();
            if x < f.rate_limited {
                stat.failed += 1;
                Action::Fail(429, f.retry_after_secs)
            } else if x < f.rate_limited + f.unavailable {
                stat.failed += 1;
                Action::Fail(503, f.retry_after_secs)
            } else {
                Action::Pass
            }
        };
        (f.latency, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_fail_next_and_down() {
        let sw = FaultSwitch::new(Some(7));
        assert_eq!(sw.decide(Service::Fhir).1, Action::Pass);
        sw.set(Service::Fhir, Faults::fail_next(2, 503));
        assert_eq!(sw.decide(Service::Fhir).1, Action::Fail(503, None));
        assert_eq!(sw.decide(Service::Fhir).1, Action::Fail(503, None));
        assert_eq!(sw.decide(Service::Fhir).1, Action::Pass);
        sw.set(
            Service::Notify,
            Faults {
                rate_limited: 1.0,
                retry_after_secs: Some(2),
                ..Faults::default()
            },
        );
        assert_eq!(sw.decide(Service::Notify).1, Action::Fail(429, Some(2)));
        assert_eq!(sw.decide(Service::Jitsi).1, Action::Pass);
        sw.set(Service::Jitsi, Faults::down());
        assert_eq!(sw.decide(Service::Jitsi).1, Action::Drop);
        let st = sw.stats(Service::Fhir);
        assert_eq!((st.requests, st.failed, st.dropped), (4, 2, 0));
        assert_eq!(sw.stats(Service::Jitsi).dropped, 1);
        sw.clear();
        assert_eq!(sw.decide(Service::Jitsi).1, Action::Pass);
    }

    #[test]
    fn a_half_rate_fails_about_half() {
        let sw = FaultSwitch::new(Some(1));
        sw.set(
            Service::Fhir,
            Faults {
                unavailable: 0.5,
                ..Faults::default()
            },
        );
        let failed = (0..1000)
            .filter(|_| sw.decide(Service::Fhir).1 != Action::Pass)
            .count();
        assert!((400..600).contains(&failed), "{failed}");
    }

    #[test]
    fn checks_and_json() {
        assert!(Faults {
            unavailable: 1.5,
            ..Faults::default()
        }
        .check()
        .is_err());
        assert!(Faults::fail_next(1, 200).check().is_err());
        let f: Faults = serde_json::from_str(r#"{"latency_ms":250,"down":true}"#).unwrap();
        assert_eq!(f.latency, Duration::from_millis(250));
        assert!(f.down && f.check().is_ok());
        assert!(serde_json::from_str::<Faults>(r#"{"latncy_ms":1}"#).is_err());
        assert_eq!(Service::parse("notify"), Some(Service::Notify));
    }
}
