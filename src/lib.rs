//! The `sigillo` binary's library: configuration, the command line and the
//! wiring between the library crates ([`app`]). No business rules live
//! here; they are in `seal`, `keys`, `store`, `pagopa`, `render`, `issuer`
//! and `verifier`, and HTTP is in `web`.
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
mod usage;
mod verify_cmd;
