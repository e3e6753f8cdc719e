//! Per-thread state of one JSON read: the mode, the path being read and what was found on the way.
//!
//! The typed model is read with serde, whose visitors cannot carry extra arguments; the read mode,
//! the FHIRPath-like location and the warnings therefore live in a thread-local that
//! [`crate::fhir::read`] installs for the duration of one read (and restores afterwards, so reads
//! can nest). A model type deserialized through plain `serde_json` without that entry point reads
//! strictly and drops warnings.

use std::cell::{Cell, RefCell};
use std::fmt;

/// How forgiving a read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// Reject everything FHIR R4 forbids, with a located error.
    #[default]
    Strict,
    /// Accept the known quirks of published MY Core material and report each as a warning.
    Lenient,
}

crate::names::names!(ReadMode, "read mode" { Strict => "strict", Lenient => "lenient" });

/// Options of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Strict or lenient.
    pub mode: ReadMode,
    /// Reject elements the model does not know instead of keeping them (they are kept by default).
    pub deny_unknown: bool,
}

impl ReadOptions {
    /// Strict R4 reading, unknown elements kept and reported.
    pub const fn strict() -> Self {
        Self {
            mode: ReadMode::Strict,
            deny_unknown: false,
        }
    }
    /// Lenient reading, unknown elements kept and reported.
    pub const fn lenient() -> Self {
        Self {
            mode: ReadMode::Lenient,
            deny_unknown: false,
        }
    }
    /// The options a binding's two flags name (`lenient`, `deny_unknown`), as every front
    /// end's `read(data, lenient, deny_unknown)` takes them.
    pub const fn from_flags(lenient: bool, deny_unknown: bool) -> Self {
        let o = if lenient {
            Self::lenient()
        } else {
            Self::strict()
        };
        o.deny_unknown(deny_unknown)
    }
    /// Same options, rejecting unknown elements.
    pub const fn deny_unknown(mut self, deny: bool) -> Self {
        self.deny_unknown = deny;
        self
    }
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// An element the model does not know; it is kept as raw JSON.
    UnknownElement,
    /// A single value where R4 wants an array; it was wrapped in an array.
    SingleForArray,
    /// A number or boolean sent as a JSON string; it was converted.
    StringForPrimitive,
    /// A required element is missing.
    MissingRequired,
    /// A JSON `null` where R4 forbids it; it was dropped.
    Null,
    /// An empty array or object, which R4 forbids; it was dropped.
    Empty,
    /// A value that is not in the expected format (kept as sent).
    InvalidFormat,
    /// A code outside the value set the model knows (kept).
    UnknownCode,
    /// A required element was missing and the reader filled it in (e.g. a Bundle `request.url`).
    FilledIn,
    /// The `resourceType` element is missing.
    MissingResourceType,
    /// A primitive extension array whose length differs from its value array.
    Misaligned,
}

crate::names::names!(WarningKind, "read warning kind" {
    UnknownElement => "unknown_element",
    SingleForArray => "single_for_array",
    StringForPrimitive => "string_for_primitive",
    MissingRequired => "missing_required",
    Null => "null",
    Empty => "empty",
    InvalidFormat => "invalid_format",
    UnknownCode => "unknown_code",
    FilledIn => "filled_in",
    MissingResourceType => "missing_resource_type",
    Misaligned => "misaligned",
});

/// Something a read accepted but that is not clean R4, with where it was. JSON:
/// `{"kind", "location", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadWarning {
    /// What kind of departure.
    pub kind: WarningKind,
    /// FHIRPath-like location, e.g. `Appointment.slot`.
    pub location: String,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for ReadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What kind of read failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// The bytes are not JSON (or not UTF-8).
    Syntax,
    /// A JSON value of the wrong type (object vs array, string vs number, ...).
    InvalidType,
    /// A value in the wrong format (date, id, ...).
    InvalidValue,
    /// A required element is missing.
    MissingRequired,
    /// `resourceType` is missing.
    MissingResourceType,
    /// `resourceType` is not the one expected.
    WrongResourceType,
    /// An unknown element while unknown elements are denied.
    UnknownElement,
    /// JSON nested deeper than the reader accepts.
    TooDeep,
}

impl ReadErrorKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::InvalidType => "invalid_type",
            Self::InvalidValue => "invalid_value",
            Self::MissingRequired => "missing_required",
            Self::MissingResourceType => "missing_resource_type",
            Self::WrongResourceType => "wrong_resource_type",
            Self::UnknownElement => "unknown_element",
            Self::TooDeep => "too_deep",
        }
    }
}

/// A read that failed, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ReadError {
    /// What went wrong.
    pub kind: ReadErrorKind,
    /// FHIRPath-like location, e.g. `Appointment.participant[1].actor`.
    pub location: String,
    /// Human-readable explanation (includes line and column where the JSON parser knows them).
    pub message: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Seg {
    Field(&'static str),
    Name(String),
    Index(usize),
}

/// A path segment as stored: `Name` stands for the next of the read's names (`Ctx::names`),
/// which keeps the slot `Copy`.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Field(&'static str),
    Name,
    Index(usize),
}

#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub opts: ReadOptions,
    /// The `Name` segments of the path, in order.
    names: Vec<String>,
    pub warnings: Vec<ReadWarning>,
    pub error: Option<(ReadErrorKind, String)>,
}

/// Path slots kept per thread; deeper paths (only reads nested in reads could get there) are
/// counted but not stored, and render as `…`.
const PATH_CAP: usize = 256;

thread_local! {
    static CTX: RefCell<Option<Ctx>> = const { RefCell::new(None) };
    // The location being read, as plain `Cell`s: the reader enters and leaves a path segment
    // for every element it reads, so these must cost no more than a load and a store (no
    // borrow flag, no lazy initialisation or destructor registration, unlike `CTX`).
    static PATH: [Cell<Slot>; PATH_CAP] = const { [const { Cell::new(Slot::Index(0)) }; PATH_CAP] };
    static LEN: Cell<usize> = const { Cell::new(0) };
    // Where the current read's path starts (reads can nest).
    static BASE: Cell<usize> = const { Cell::new(0) };
}

fn render(c: &Ctx) -> String {
    let (base, len) = (BASE.with(Cell::get), LEN.with(Cell::get));
    let mut names = c.names.iter();
    let mut s = String::new();
    for i in base..len {
        let slot = if i < PATH_CAP {
            PATH.with(|p| p[i].get())
        } else {
            Slot::Field("…")
        };
        let name = match slot {
            Slot::Field(name) => name,
            Slot::Name => names.next().map_or("…", String::as_str),
            Slot::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
                continue;
            }
        };
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(name);
    }
    s
}

/// Runs `f` with a fresh context, returning its result and the context afterwards.
pub(crate) fn with_ctx<R>(
    opts: ReadOptions,
    root: Option<&'static str>,
    f: impl FnOnce() -> R,
) -> (R, Ctx) {
    /// Puts the enclosing read's context and path back, also when `f` unwinds.
    struct Restore {
        ctx: Option<Option<Ctx>>,
        base: usize,
        len: usize,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(saved) = self.ctx.take() {
                CTX.with(|c| *c.borrow_mut() = saved);
            }
            LEN.with(|l| l.set(self.len));
            BASE.with(|b| b.set(self.base));
        }
    }
    let len = LEN.with(Cell::get);
    let mut restore = Restore {
        ctx: None,
        base: BASE.with(|b| b.replace(len)),
        len,
    };
    let ctx = Ctx {
        opts,
        ..Ctx::default()
    };
    restore.ctx = Some(CTX.with(|c| c.borrow_mut().replace(ctx)));
    if let Some(root) = root {
        push(Seg::Field(root));
    }
    let r = f();
    let saved = restore.ctx.take().unwrap_or_default();
    let ctx = CTX.with(|c| std::mem::replace(&mut *c.borrow_mut(), saved));
    drop(restore);
    (r, ctx.unwrap_or_default())
}

fn with<R>(f: impl FnOnce(&mut Ctx) -> R) -> Option<R> {
    CTX.with(|c| c.borrow_mut().as_mut().map(f))
}

pub(crate) fn lenient() -> bool {
    with(|c| c.opts.mode == ReadMode::Lenient).unwrap_or(false)
}

pub(crate) fn deny_unknown() -> bool {
    with(|c| c.opts.deny_unknown).unwrap_or(false)
}

pub(crate) fn depth() -> usize {
    LEN.with(Cell::get) - BASE.with(Cell::get)
}

pub(crate) fn push(seg: Seg) {
    let slot = match seg {
        Seg::Field(name) => Slot::Field(name),
        Seg::Index(i) => Slot::Index(i),
        Seg::Name(name) => {
            with(|c| c.names.push(name));
            Slot::Name
        }
    };
    let n = LEN.with(Cell::get);
    if n < PATH_CAP {
        PATH.with(|p| p[n].set(slot));
    }
    LEN.with(|l| l.set(n + 1));
}

pub(crate) fn pop() {
    let n = LEN.with(Cell::get);
    if n <= BASE.with(Cell::get) {
        return;
    }
    if n - 1 < PATH_CAP && matches!(PATH.with(|p| p[n - 1].get()), Slot::Name) {
        with(|c| c.names.pop());
    }
    LEN.with(|l| l.set(n - 1));
}

/// Sets the root name once the resource type is known (a `Resource` read at the top).
///
/// Only inside a read: its caller leaves the root in place when the read fails (the read's end
/// resets the path), which outside a read would leave the thread's path one level deeper.
pub(crate) fn set_root_if_empty(name: &str) -> bool {
    if depth() != 0 || with(|_| ()).is_none() {
        return false;
    }
    push(Seg::Name(name.to_owned()));
    true
}

/// Records a warning at the current location (or `child` below it).
pub(crate) fn warn(kind: WarningKind, child: Option<&str>, message: impl Into<String>) {
    let message = message.into();
    with(|c| {
        let mut location = render(c);
        if let Some(child) = child {
            if !location.is_empty() {
                location.push('.');
            }
            location.push_str(child);
        }
        c.warnings.push(ReadWarning {
            kind,
            location,
            message,
        });
    });
}

/// Remembers the kind and location of the first (innermost) error; later calls keep the first.
pub(crate) fn note_error(kind: ReadErrorKind, child: Option<&str>) {
    with(|c| {
        if c.error.is_none() {
            let mut location = render(c);
            if let Some(child) = child {
                if !location.is_empty() {
                    location.push('.');
                }
                location.push_str(child);
            }
            c.error = Some((kind, location));
        }
    });
}

/// A departure that is an error when strict and a warning when lenient.
/// Returns `Err(message)` when the caller must fail.
pub(crate) fn strict_or_warn(
    kind: WarningKind,
    err: ReadErrorKind,
    child: Option<&str>,
    message: impl Into<String>,
) -> Result<(), String> {
    let message = message.into();
    if lenient() {
        warn(kind, child, message);
        Ok(())
    } else {
        note_error(err, child);
        Err(message)
    }
}
