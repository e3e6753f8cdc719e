//! A readable record of the demo: each step, the resource ids, shortened tokens and join URLs.

use std::fmt;

/// Shortens a secret or an identifying number to its first and last four characters.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A join URL with its room shortened (the room is derived from the session token) and its
/// JWT hidden: `https://meet.example/vc-5f88…1a31?jwt=***`.
pub fn mask_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (origin, room) = base.rsplit_once('/').unwrap_or((base, ""));
    let room = match room.split_once('-') {
        Some((prefix, rest)) if prefix.len() <= 4 => format!("{prefix}-{}", mask(rest)),
        _ => mask(room),
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        "?jwt=***".to_owned()
    };
    format!("{origin}/{room}{query}")
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `VCI` or `VCE`.
    pub flow: &'static str,
    /// The step number(s) of `docs/guide-gaps.md` §3, or `-` for an actor's action (check-in).
    pub step: &'static str,
    /// Who acts.
    pub actor: &'static str,
    /// What happened.
    pub what: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  {:>5}  {:<14} {}", self.step, self.actor, self.what)
    }
}

/// The demo's timeline; each entry is also handed to a printer as it happens.
pub struct Timeline {
    entries: Vec<Entry>,
    printer: Box<dyn FnMut(&Entry) + Send>,
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeline")
            .field("entries", &self.entries)
            .finish()
    }
}

impl Timeline {
    /// A timeline that prints through `printer`.
    pub fn new(printer: impl FnMut(&Entry) + Send + 'static) -> Self {
        Self {
            entries: Vec::new(),
            printer: Box::new(printer),
        }
    }
    /// A silent timeline.
    pub fn silent() -> Self {
        Self::new(|_| {})
    }
    /// Records a step.
    pub fn add(
        &mut self,
        flow: &'static str,
        step: &'static str,
        actor: &'static str,
        what: impl Into<String>,
    ) {
        let e = Entry {
            flow,
            step,
            actor,
            what: what.into(),
        };
        (self.printer)(&e);
        self.entries.push(e);
    }
    /// Every entry so far.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask("19d3b96a-6c4d-485a-9514-cbf6ccfeed6b"), "19d3…ed6b");
        assert_eq!(mask("950728106051"), "9507…6051");
        assert_eq!(mask("short"), "*****");
        assert_eq!(
            mask_url("https://meet.sandbox.invalid/vc-5f882652-0f19-4d4f-8d79-b8104ce81a31?jwt=eyJ.abc.def"),
            "https://meet.sandbox.invalid/vc-5f88…1a31?jwt=***"
        );
    }
}
