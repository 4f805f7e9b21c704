//! Telling citizens what happened to their requests: App IO, the citizen
//! app of Italian public administrations ([`io`], its services API:
//! `getProfile` to learn whether the citizen accepts the comune's
//! messages, then `submitMessageforUser`), and e-mail over SMTP ([`mail`],
//! with lettre).
//!
//! Messages carry what the citizen needs to act (what is ready, where to
//! get it) and no certificate content. Which messages are due is the
//! store's outbox; sending them is the issuer's `notifications` module;
//! this crate only speaks the channels.
//!
//! Behind the `emulator` feature: [`emulator::IoEmulator`], the same paths
//! and shapes as App IO, in memory; and [`emulator::SmtpSink`], an SMTP
//! server on loopback that keeps the messages it receives. The demo and the
//! tests run the real clients against them.

#![warn(missing_docs)]

#[cfg(feature = "emulator")]
pub mod emulator;
pub mod io;
pub mod mail;
