//! `capabilities` (`GET [base]/metadata`): what the server says it supports.
//!
//! The CapabilityStatement is large and outside the VC model, so it is kept as JSON with
//! accessors for what an integrator checks at start-up (FHIR version, interactions per type,
//! search parameters).

use reqwest::Method;
use serde_json::Value;

use super::client::{call_options, HieClient};
use super::transport::CallOptions;
use crate::error::{Error, ErrorKind, Result};

/// A server's CapabilityStatement.
#[derive(Debug, Clone)]
pub struct Capabilities {
    json: Value,
    /// The `X-Request-Id` of the request.
    pub request_id: String,
}

/// JSON (camelCase): `{"fhirVersion", "software", "formats", "resourceTypes", "statement",
/// "requestId"}` (`statement`: the whole CapabilityStatement as the server sent it).
impl serde::Serialize for Capabilities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Capabilities", 6)?;
        m.serialize_field("fhirVersion", &self.fhir_version())?;
        m.serialize_field("software", &self.software())?;
        m.serialize_field("formats", &self.formats())?;
        m.serialize_field("resourceTypes", &self.resource_types())?;
        m.serialize_field("statement", &self.json)?;
        m.serialize_field("requestId", &self.request_id)?;
        m.end()
    }
}

impl Capabilities {
    /// `fhirVersion` (e.g. `4.0.1`).
    pub fn fhir_version(&self) -> Option<&str> {
        self.json.get("fhirVersion").and_then(Value::as_str)
    }
    /// `software.name`.
    pub fn software(&self) -> Option<&str> {
        self.json.pointer("/software/name").and_then(Value::as_str)
    }
    /// `format` (e.g. `json`, `application/fhir+json`).
    pub fn formats(&self) -> Vec<&str> {
        self.json
            .get("format")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
    fn resource(&self, resource_type: &str) -> Option<&Value> {
        self.json
            .get("rest")?
            .as_array()?
            .iter()
            .filter(|r| r.get("mode").and_then(Value::as_str) != Some("client"))
            .filter_map(|r| r.get("resource").and_then(Value::as_array))
            .flatten()
            .find(|r| r.get("type").and_then(Value::as_str) == Some(resource_type))
    }
    /// The resource types the server lists.
    pub fn resource_types(&self) -> Vec<&str> {
        self.json
            .get("rest")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("resource").and_then(Value::as_array))
            .flatten()
            .filter_map(|r| r.get("type").and_then(Value::as_str))
            .collect()
    }
    /// The interaction codes listed for a type (`read`, `vread`, `update`, `search-type`, ...).
    pub fn interactions(&self, resource_type: &str) -> Vec<&str> {
        self.resource(resource_type)
            .and_then(|r| r.get("interaction"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.get("code").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Whether a type lists an interaction.
    pub fn supports(&self, resource_type: &str, interaction: &str) -> bool {
        self.interactions(resource_type).contains(&interaction)
    }
    /// The search parameter names listed for a type.
    pub fn search_params(&self, resource_type: &str) -> Vec<&str> {
        self.resource(resource_type)
            .and_then(|r| r.get("searchParam"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The whole statement.
    pub fn json(&self) -> &Value {
        &self.json
    }
}

/// A `capabilities` request.
#[derive(Debug)]
#[must_use = "nothing is sent until send() is awaited"]
pub struct CapabilitiesRequest {
    client: HieClient,
    opts: CallOptions,
}

impl CapabilitiesRequest {
    pub(crate) fn new(client: HieClient) -> Self {
        Self {
            client,
            opts: CallOptions::default(),
        }
    }
    call_options!();

    /// Fetches the CapabilityStatement.
    pub async fn send(self) -> Result<Capabilities> {
        let call = self.client.call(
            Method::GET,
            "metadata",
            "capabilities",
            "metadata".into(),
            self.opts,
        )?;
        let reply = self.client.execute(call).await?;
        let json: Value = serde_json::from_slice(&reply.body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the server's CapabilityStatement is not JSON ({e}); check the base URL"),
            )
            .with_location("metadata")
            .with_request_id(reply.request_id.clone())
        })?;
        if json.get("resourceType").and_then(Value::as_str) != Some("CapabilityStatement") {
            return Err(Error::new(
                ErrorKind::Decode,
                "GET [base]/metadata did not return a CapabilityStatement; check the base URL",
            )
            .with_location("resourceType")
            .with_request_id(reply.request_id));
        }
        Ok(Capabilities {
            json,
            request_id: reply.request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_read_the_statement() {
        let c = Capabilities {
            json: serde_json::json!({
                "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
                "format": ["json"], "software": {"name": "HFS"},
                "rest": [{"mode": "server", "resource": [
                    {"type": "Encounter", "interaction": [{"code": "read"}, {"code": "update"}],
                     "searchParam": [{"name": "appointment", "type": "reference"}]}
                ]}]
            }),
            request_id: "r".into(),
        };
        assert_eq!(c.fhir_version(), Some("4.0.1"));
        assert_eq!(c.software(), Some("HFS"));
        assert!(c.supports("Encounter", "update"));
        assert!(!c.supports("Encounter", "delete"));
        assert!(!c.supports("Slot", "read"));
        assert_eq!(c.search_params("Encounter"), ["appointment"]);
        assert_eq!(c.resource_types(), ["Encounter"]);
        assert_eq!(c.formats(), ["json"]);
    }
}
