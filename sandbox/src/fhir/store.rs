//! The in-memory resource store: every version of every resource is kept (for `vread` and
//! `history`), a delete is a version without content, and `meta.versionId` / `meta.lastUpdated`
//! are assigned here and nowhere else.

use std::collections::BTreeMap;
use std::sync::Arc;

use hie_vc::fhir::{self, Id, Instant, Meta, Resource};
use serde_json::Value;
use time::OffsetDateTime;

/// The resource types the sandbox stores (the VC resources and what they reference).
pub const RESOURCE_TYPES: [&str; 9] = [
    "Appointment",
    "Encounter",
    "Schedule",
    "Slot",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "HealthcareService",
];

/// The supported type named `name`, as a static string.
pub(crate) fn supported_type(name: &str) -> Option<&'static str> {
    RESOURCE_TYPES.iter().copied().find(|t| *t == name)
}

/// How a version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    /// `POST` (create).
    Create,
    /// `PUT` (update or update-as-create).
    Update,
    /// `DELETE`.
    Delete,
}

/// A stored resource version's content, in the three forms the server needs.
#[derive(Debug)]
pub(crate) struct Stored {
    /// The typed resource (with id and meta set).
    pub resource: Resource,
    /// As JSON, for search.
    pub json: Value,
    /// As FHIR JSON text, for responses.
    pub text: String,
}

/// One version of a resource.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub rt: &'static str,
    pub id: Arc<str>,
    pub vid: u64,
    /// Global write order (ties of `last_updated` cannot happen, but this is cheaper to compare).
    pub seq: u64,
    pub last_updated: OffsetDateTime,
    pub verb: Verb,
    /// `None` for a delete.
    pub body: Option<Arc<Stored>>,
}

impl Version {
    pub(crate) fn is_deleted(&self) -> bool {
        self.body.is_none()
    }
    pub(crate) fn etag(&self) -> String {
        format!("W/\"{}\"", self.vid)
    }
    pub(crate) fn path(&self) -> String {
        format!("{}/{}", self.rt, self.id)
    }
    pub(crate) fn versioned_path(&self) -> String {
        format!("{}/{}/_history/{}", self.rt, self.id, self.vid)
    }
    pub(crate) fn last_modified(&self) -> String {
        httpdate::fmt_http_date(self.last_updated.into())
    }
}

/// What is stored under a type and id.
pub(crate) enum Lookup<'a> {
    /// Nothing, ever.
    Missing,
    /// The current version is a delete.
    Deleted,
    /// The current version.
    Live(&'a Version),
}

/// All resources, all versions. Cloned (cheaply: contents are shared) to run a transaction
/// on a copy that replaces the original only when every entry succeeded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    types: BTreeMap<&'static str, BTreeMap<Arc<str>, Vec<Version>>>,
    seq: u64,
    last_time: Option<OffsetDateTime>,
}

/// `meta` of the types the store holds.
fn meta_mut(r: &mut Resource) -> Option<&mut Option<Meta>> {
    Some(match r {
        Resource::Appointment(x) => &mut x.meta,
        Resource::Encounter(x) => &mut x.meta,
        Resource::Schedule(x) => &mut x.meta,
        Resource::Slot(x) => &mut x.meta,
        Resource::Patient(x) => &mut x.meta,
        Resource::Practitioner(x) => &mut x.meta,
        Resource::PractitionerRole(x) => &mut x.meta,
        Resource::Organization(x) => &mut x.meta,
        Resource::HealthcareService(x) => &mut x.meta,
        _ => return None,
    })
}

/// An instant with milliseconds, in UTC (`2024-05-01T02:03:04.005Z`).
pub(crate) fn instant_text(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

impl Store {
    /// What is stored under `rt`/`id`.
    pub(crate) fn lookup(&self, rt: &str, id: &str) -> Lookup<'_> {
        match self
            .types
            .get(rt)
            .and_then(|m| m.get(id))
            .and_then(|v| v.last())
        {
            None => Lookup::Missing,
            Some(v) if v.is_deleted() => Lookup::Deleted,
            Some(v) => Lookup::Live(v),
        }
    }

    /// The live (not deleted) current version.
    pub(crate) fn live(&self, rt: &str, id: &str) -> Option<&Version> {
        match self.lookup(rt, id) {
            Lookup::Live(v) => Some(v),
            _ => None,
        }
    }

    /// Every version of `rt`/`id`, oldest first.
    pub(crate) fn versions(&self, rt: &str, id: &str) -> Option<&[Version]> {
        self.types
            .get(rt)
            .and_then(|m| m.get(id))
            .map(Vec::as_slice)
    }

    /// The current, live versions of every resource of `rt`, in write order.
    pub(crate) fn live_of_type(&self, rt: &str) -> Vec<&Version> {
        let mut out: Vec<&Version> = self
            .types
            .get(rt)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|v| v.last())
            .filter(|v| !v.is_deleted())
            .collect();
        out.sort_by_key(|v| v.seq);
        out
    }

    /// Every version of a type (or of everything), newest first.
    pub(crate) fn history(&self, rt: Option<&str>) -> Vec<&Version> {
        let mut out: Vec<&Version> = self
            .types
            .iter()
            .filter(|(t, _)| rt.is_none_or(|r| r == **t))
            .flat_map(|(_, m)| m.values())
            .flatten()
            .collect();
        out.sort_by_key(|v| std::cmp::Reverse(v.seq));
        out
    }

    /// The number of live resources per type.
    pub(crate) fn counts(&self) -> BTreeMap<&'static str, usize> {
        self.types
            .iter()
            .map(|(t, m)| {
                let n = m
                    .values()
                    .filter(|v| v.last().is_some_and(|v| !v.is_deleted()))
                    .count();
                (*t, n)
            })
            .collect()
    }

    fn next_time(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let now = now
            .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
            .unwrap_or(now);
        let t = match self.last_time {
            Some(last) if now <= last => last + time::Duration::milliseconds(1),
            _ => now,
        };
        self.last_time = Some(t);
        t
    }

    /// Writes a new version of `rt`/`id` (`None`: a delete), assigning `id`,
    /// `meta.versionId` and `meta.lastUpdated`, and returns it.
    pub(crate) fn write(
        &mut self,
        rt: &'static str,
        id: &str,
        resource: Option<Resource>,
        verb: Verb,
    ) -> Version {
        let last_updated = self.next_time();
        self.seq += 1;
        let seq = self.seq;
        let versions = self
            .types
            .entry(rt)
            .or_default()
            .entry(Arc::from(id))
            .or_default();
        let vid = versions.last().map_or(1, |v| v.vid + 1);
        let body = resource.map(|mut r| {
            r.set_id(Id::new(id).ok());
            if let Some(meta) = meta_mut(&mut r) {
                let m = meta.get_or_insert_with(Meta::default);
                m.version_id = Id::new(vid.to_string()).ok();
                m.last_updated = Instant::new(instant_text(last_updated)).ok();
            }
            let text = fhir::to_json(&r);
            // The model writes valid JSON; Null only if that ever broke, and search then
            // simply finds nothing in it.
            let json = serde_json::from_str(&text).unwrap_or(Value::Null);
            Arc::new(Stored {
                resource: r,
                json,
                text,
            })
        });
        let version = Version {
            rt,
            id: Arc::from(id),
            vid,
            seq,
            last_updated,
            verb,
            body,
        };
        versions.push(version.clone());
        version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hie_vc::fhir::Patient;

    fn patient() -> Resource {
        Resource::from(Patient::default())
    }

    #[test]
    fn versions_count_up_and_deletes_are_versions() {
        let mut s = Store::default();
        let v1 = s.write("Patient", "p1", Some(patient()), Verb::Update);
        let v2 = s.write("Patient", "p1", Some(patient()), Verb::Update);
        assert_eq!((v1.vid, v2.vid), (1, 2));
        assert!(v2.last_updated > v1.last_updated);
        let stored = v2.body.as_ref().unwrap();
        assert!(
            stored.text.contains(r#""versionId":"2""#),
            "{}",
            stored.text
        );
        assert_eq!(stored.json["id"], "p1");
        let d = s.write("Patient", "p1", None, Verb::Delete);
        assert_eq!(d.vid, 3);
        assert!(matches!(s.lookup("Patient", "p1"), Lookup::Deleted));
        assert!(matches!(s.lookup("Patient", "p2"), Lookup::Missing));
        assert!(s.live_of_type("Patient").is_empty());
        assert_eq!(s.history(Some("Patient")).len(), 3);
        assert_eq!(s.history(Some("Patient"))[0].vid, 3);
        assert_eq!(s.counts().get("Patient"), Some(&0));
    }

    #[test]
    fn instants_have_milliseconds_in_utc() {
        let t = time::macros::datetime!(2024-05-01 10:03:04.005 +08:00);
        assert_eq!(instant_text(t), "2024-05-01T02:03:04.005Z");
    }
}
