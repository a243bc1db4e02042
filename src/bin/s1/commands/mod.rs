//! The composite commands: each maps its arguments onto one function of the
//! library and prints the result.

pub mod agents;
pub mod connection;
pub mod scripts;
pub mod threats;
