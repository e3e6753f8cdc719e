//! Jitsi room names: validated, URL-safe, lowercase, and derived from the VC session token so
//! that everyone holding the token (HIE, the source system, the patient's app) meets in the
//! same room without sharing anything else.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// The longest room name accepted. Prosody allows longer MUC node names, but room names travel
/// in URLs, JWT claims and logs; 128 is ample for a prefix plus a UUID or a hash.
pub const MAX_ROOM_LEN: usize = 128;

/// The default prefix of rooms derived from a session token.
pub const DEFAULT_ROOM_PREFIX: &str = "vc-";

/// A Jitsi room name: 1–128 characters of `a-z`, `0-9`, `-` and `_`, starting with a letter or
/// digit.
///
/// Jitsi Meet lowercases room names from the URL and Prosody compares the JWT `room` claim to
/// the lowercased MUC node, so an uppercase name would yield a token that never matches its
/// room; other characters would need escaping in URLs and XMPP addresses. Rejecting them here
/// turns a silent "not allowed" at join time into an error at the call that made the name.
///
/// ```
/// use hie_vc::jitsi::RoomName;
/// assert_eq!(RoomName::new("vc-42").unwrap().as_str(), "vc-42");
/// assert!(RoomName::new("Clinic A").is_err());
/// let r = RoomName::for_session("vc-", "0b7f7a3e-5c7e-4a53-9f0e-3d4f6c1b2a90").unwrap();
/// assert_eq!(r.as_str(), "vc-0b7f7a3e-5c7e-4a53-9f0e-3d4f6c1b2a90");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

fn allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

impl RoomName {
    /// Checks `name`.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        if name.is_empty() || name.len() > MAX_ROOM_LEN {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a Jitsi room name must have 1 to {MAX_ROOM_LEN} characters (got {})",
                    name.len()
                ),
            ));
        }
        if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the Jitsi room name '{name}' contains '{bad}'; use lowercase letters, digits, '-' and '_'"
                ),
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the Jitsi room name '{name}' must start with a letter or a digit"),
            ));
        }
        Ok(Self(name))
    }

    /// A fresh random room: `prefix` + a UUID v4 (122 random bits, so rooms cannot be guessed).
    pub fn generate(prefix: &str) -> Result<Self> {
        Self::new(format!("{prefix}{}", uuid::Uuid::new_v4()))
    }

    /// The room of the session whose token is `token`: `prefix` + the token itself when it is
    /// already a valid room name (UUIDs are), else `prefix` + `h` + 32 hex digits of its
    /// SHA-256.
    ///
    /// The mapping is deterministic (every party derives the same room) and injective in
    /// practice: tokens are never lowercased or stripped — which would let two tokens share a
    /// room — but hashed instead.
    pub fn for_session(prefix: &str, token: &str) -> Result<Self> {
        if token.trim().is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the session token is empty; a room cannot be derived from it",
            ));
        }
        let direct = format!("{prefix}{token}");
        if direct.len() <= MAX_ROOM_LEN && direct.chars().all(allowed) {
            if let Ok(room) = Self::new(direct) {
                return Ok(room);
            }
        }
        let digest = Sha256::digest(token.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self::new(format!("{prefix}h{hex}"))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomName({})", self.0)
    }
}

impl AsRef<str> for RoomName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for RoomName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// Checks a room prefix: empty, or itself the start of a valid room name.
pub(crate) fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() {
        return Ok(());
    }
    RoomName::new(prefix)
        .map(|_| ())
        .map_err(|e| Error::config(format!("invalid room prefix: {}", e.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        for ok in ["a", "vc-1", "0_x", &"a".repeat(MAX_ROOM_LEN)] {
            assert!(RoomName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "a b",
            "a/b",
            "a?jwt=x",
            "-a",
            "é",
            &"a".repeat(MAX_ROOM_LEN + 1),
        ] {
            let e = RoomName::new(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn generated_rooms_are_valid_and_distinct() {
        let a = RoomName::generate("vc-").unwrap();
        let b = RoomName::generate("vc-").unwrap();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("vc-") && a.as_str().len() == 39);
    }

    #[test]
    fn session_rooms_are_deterministic_and_do_not_collide() {
        let t = "0b7f7a3e-5c7e-4a53-9f0e-3d4f6c1b2a90";
        assert_eq!(
            RoomName::for_session("vc-", t).unwrap().as_str(),
            format!("vc-{t}")
        );
        // Case and punctuation differences must not map to the same room.
        let upper = RoomName::for_session("vc-", "ABC").unwrap();
        let lower = RoomName::for_session("vc-", "abc").unwrap();
        let dotted = RoomName::for_session("vc-", "a.bc").unwrap();
        assert_ne!(upper, lower);
        assert_ne!(upper, dotted);
        assert_eq!(upper, RoomName::for_session("vc-", "ABC").unwrap());
        assert_eq!(upper.as_str().len(), 3 + 1 + 32);
        // A token too long for a direct room is hashed.
        let long = "a".repeat(200);
        assert!(RoomName::for_session("", &long)
            .unwrap()
            .as_str()
            .starts_with('h'));
        assert_eq!(
            RoomName::for_session("vc-", " ").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("vc-").is_ok());
        assert_eq!(check_prefix("VC").unwrap_err().kind(), ErrorKind::Config);
    }
}
