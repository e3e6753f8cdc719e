//! Which Rust types the client sends and receives, and the small parsers for what a FHIR server
//! says about a resource outside its body (`Location`, `ETag`).

use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{
    Appointment, Bundle, Encounter, FhirRoot, HealthcareService, Organization, Patient,
    Practitioner, PractitionerRole, Resource, Schedule, Slot,
};

/// A resource the client can send and receive: one of the typed resources of [`crate::fhir`], or
/// the dynamic [`Resource`] (any type, decided at run time).
pub trait FhirResource: FhirRoot + Clone + Send + Sync + 'static {
    /// The `resourceType` when the Rust type fixes it (`None` for [`Resource`]).
    const TYPE: Option<&'static str>;
    /// The `resourceType` of this value.
    fn type_name(&self) -> &str;
    /// The logical id, when set.
    fn logical_id(&self) -> Option<String>;
    /// `meta.versionId`, when set.
    fn version_id(&self) -> Option<String>;
    /// Converts into the dynamic resource (moves the boxed value, no copy of the content).
    fn into_resource(self) -> Resource;
    /// Converts back; gives the resource back when it is of another type.
    fn from_resource(resource: Resource) -> std::result::Result<Self, Resource>;
    /// Converts back into a box: for the typed resources, the box the dynamic resource already
    /// holds (no copy of the content).
    fn from_resource_boxed(resource: Resource) -> std::result::Result<Box<Self>, Resource> {
        Self::from_resource(resource).map(Box::new)
    }
}

/// A resource whose type is fixed by its Rust type, so the client can build its URLs
/// (`client.read::<Appointment>(id)`).
pub trait TypedResource: FhirResource {
    /// The `resourceType`.
    const NAME: &'static str;
}

macro_rules! typed_resources {
    ($($t:ident),* $(,)?) => {$(
        impl FhirResource for $t {
            const TYPE: Option<&'static str> = Some(<$t>::FHIR_TYPE);
            fn type_name(&self) -> &str {
                <$t>::FHIR_TYPE
            }
            fn logical_id(&self) -> Option<String> {
                self.id.as_ref().map(|i| i.as_str().to_owned())
            }
            fn version_id(&self) -> Option<String> {
                self.meta
                    .as_ref()
                    .and_then(|m| m.version_id.as_ref())
                    .map(|v| v.as_str().to_owned())
            }
            fn into_resource(self) -> Resource {
                Resource::from(self)
            }
            fn from_resource(resource: Resource) -> std::result::Result<Self, Resource> {
                <$t>::try_from(resource)
            }
            fn from_resource_boxed(
                resource: Resource,
            ) -> std::result::Result<Box<Self>, Resource> {
                Box::<$t>::try_from(resource)
            }
        }
        impl TypedResource for $t {
            const NAME: &'static str = <$t>::FHIR_TYPE;
        }
    )*};
}

typed_resources!(
    Appointment,
    Encounter,
    Schedule,
    Slot,
    Patient,
    Practitioner,
    PractitionerRole,
    Organization,
    HealthcareService,
    Bundle,
);

impl FhirResource for Resource {
    const TYPE: Option<&'static str> = None;
    fn type_name(&self) -> &str {
        self.resource_type()
    }
    fn logical_id(&self) -> Option<String> {
        self.id()
    }
    fn version_id(&self) -> Option<String> {
        match self {
            Resource::Other(raw) => {
                #[derive(serde::Deserialize)]
                struct MetaOnly {
                    meta: Option<VersionOnly>,
                }
                #[derive(serde::Deserialize)]
                struct VersionOnly {
                    #[serde(rename = "versionId")]
                    version_id: Option<String>,
                }
                serde_json::from_str::<MetaOnly>(raw.json.get())
                    .ok()
                    .and_then(|m| m.meta)
                    .and_then(|m| m.version_id)
            }
            typed => typed
                .meta()
                .and_then(|m| m.version_id.as_ref())
                .map(|v| v.as_str().to_owned()),
        }
    }
    fn into_resource(self) -> Resource {
        self
    }
    fn from_resource(resource: Resource) -> std::result::Result<Self, Resource> {
        Ok(resource)
    }
}

/// Checks a resource type name before it goes into a URL (`Patient`, not `../x`).
pub(crate) fn check_type(name: &str) -> Result<()> {
    // Bytes, not chars: a non-ASCII char's bytes fail these tests as the char would.
    let b = name.as_bytes();
    let ok = b.first().is_some_and(u8::is_ascii_uppercase)
        && b.len() <= 64
        && b.iter().all(u8::is_ascii_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("'{name}' is not a FHIR resource type name; use e.g. 'Appointment'"),
        ))
    }
}

/// Checks a logical or version id against the R4 `id` format (`[A-Za-z0-9\-\.]{1,64}`), which
/// also keeps it from changing the URL path.
pub(crate) fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{what} '{id}' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .); fix the id before sending"
            ),
        ))
    }
}

/// Where a server says a resource lives (from `Location`, `Content-Location` or a bundle entry's
/// `response.location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLocation {
    /// The resource type.
    pub resource_type: String,
    /// The logical id.
    pub id: String,
    /// The version, when the location is version-specific (`.../_history/<vid>`).
    pub version_id: Option<String>,
}

impl ResourceLocation {
    /// Parses the end of a location URL, whatever base precedes it.
    ///
    /// Only the trailing `Type/id[/_history/vid]` is read: servers behind proxies (and Helios,
    /// which uses its own configured base) often report a base other than the one called.
    pub fn parse(location: &str) -> Option<Self> {
        let (t, id, vid) = Self::parts(location)?;
        Some(Self {
            resource_type: t.to_owned(),
            id: id.to_owned(),
            version_id: vid.map(str::to_owned),
        })
    }

    /// [`ResourceLocation::parse`] without copying: type, id and version as slices of `location`.
    pub(crate) fn parts(location: &str) -> Option<(&str, &str, Option<&str>)> {
        // Byte searches: this runs on every write's `Location`, and a char-set split walks the
        // whole URL char by char.
        let end = location
            .bytes()
            .position(|b| b == b'?' || b == b'#')
            .unwrap_or(location.len());
        let mut segs = location[..end].trim_end_matches('/').rsplit('/');
        let last = segs.next()?;
        let before = segs.next()?;
        let (t, id, vid) = if before == "_history" {
            let id = segs.next()?;
            (segs.next()?, id, Some(last))
        } else {
            (before, last, None)
        };
        if check_type(t).is_err() || check_id("id", id).is_err() {
            return None;
        }
        if let Some(v) = vid {
            check_id("version", v).ok()?;
        }
        Some((t, id, vid))
    }
}

/// The version in an `ETag` (`W/"3"` → `3`).
pub(crate) fn etag_version(etag: &str) -> Option<String> {
    let t = etag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let t = t.trim_matches('"');
    (!t.is_empty()).then(|| t.to_owned())
}

/// The `If-Match` value for a version (`3` → `W/"3"`).
pub(crate) fn if_match_value(version_id: &str) -> String {
    if version_id.starts_with("W/") || version_id.starts_with('"') {
        version_id.to_owned()
    } else {
        format!("W/\"{version_id}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_parses_with_any_base() {
        let l = ResourceLocation::parse("http://localhost:8080/Patient/p1/_history/2").unwrap();
        assert_eq!(l.resource_type, "Patient");
        assert_eq!(l.id, "p1");
        assert_eq!(l.version_id.as_deref(), Some("2"));
        let l = ResourceLocation::parse("Appointment/a-1").unwrap();
        assert_eq!(
            (l.resource_type.as_str(), l.id.as_str()),
            ("Appointment", "a-1")
        );
        assert_eq!(l.version_id, None);
        assert!(ResourceLocation::parse("http://x/baseR4/").is_none());
        assert!(ResourceLocation::parse("nothing").is_none());
    }

    #[test]
    fn etags_and_if_match() {
        assert_eq!(etag_version("W/\"3\"").as_deref(), Some("3"));
        assert_eq!(etag_version("\"abc\"").as_deref(), Some("abc"));
        assert_eq!(etag_version("W/\"\""), None);
        assert_eq!(if_match_value("7"), "W/\"7\"");
        assert_eq!(if_match_value("W/\"7\""), "W/\"7\"");
    }

    #[test]
    fn ids_and_types_are_checked() {
        assert!(check_id("id", "a.b-C9").is_ok());
        assert_eq!(
            check_id("id", "../x").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(check_id("id", &"a".repeat(65)).is_err());
        assert!(check_type("Appointment").is_ok());
        assert!(check_type("appointment").is_err());
        assert!(check_type("Pat/ient").is_err());
    }
}
