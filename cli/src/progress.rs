//! A one-line progress indicator on standard error, shown only on a terminal so piped output
//! and logs stay clean.

use std::io::{IsTerminal, Write};

pub struct Progress {
    label: &'static str,
    on: bool,
}

impl Progress {
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            on: std::io::stderr().is_terminal(),
        }
    }
    pub fn set(&self, msg: impl AsRef<str>) {
        if self.on {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K{}: {}", self.label, msg.as_ref());
            let _ = e.flush();
        }
    }
    pub fn finish(&self, msg: impl AsRef<str>) {
        if self.on {
            let _ = writeln!(
                std::io::stderr().lock(),
                "\r\x1b[2K{}: {}",
                self.label,
                msg.as_ref()
            );
        }
    }
}
