//! The `sigillo` binary's library: configuration, the command line and the
//! wiring between the library crates. No business rules live here; they are
//! in `seal`, `keys`, `issuer` and `verifier`.
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod server;
mod verify_cmd;
