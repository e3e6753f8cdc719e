//! MY Core VC layer.

pub mod consts;
pub mod specialty;
