//! The composite commands: each maps its arguments onto one function of the
//! library and prints the result.

pub mod agents;
pub mod connection;
pub mod dv;
pub mod files;
pub mod query;
pub mod request;
pub mod scripts;
pub mod sim;
pub mod threats;
