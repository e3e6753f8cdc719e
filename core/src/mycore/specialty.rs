//! The MY Core specialty code system (221 codes), as the generated profile tables hold it
//! (`profile::CODE_SYSTEMS`, from `CodeSystem-specialty-my-core.json`).

use super::consts::SPECIALTY_SYSTEM;
use super::profile;

/// Specialty codes and displays of the MY Core specialty code system, sorted by code.
pub fn specialties() -> &'static [(&'static str, &'static str)] {
    profile::code_system(SPECIALTY_SYSTEM).map_or(&[], |cs| cs.concepts)
}

/// The display of a specialty code, when the code is in the code system.
pub fn specialty_display(code: &str) -> Option<&'static str> {
    profile::code_system(SPECIALTY_SYSTEM)?.display(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_complete() {
        let all = super::specialties();
        assert_eq!(all.len(), 221);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            super::specialty_display("86"),
            Some("Addiction & Substance Abuse")
        );
        assert_eq!(super::specialty_display("no-such"), None);
    }
}
