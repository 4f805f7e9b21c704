//! Stamp duty and payments: what a certificate costs ([`fees`]), the
//! pagoPA notice number ([`notice`]) and amounts as pagoPA writes them
//! ([`amount`]).

pub mod amount;
pub mod fees;
pub mod notice;
