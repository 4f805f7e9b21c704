//! Stamp duty and payments: the pagoPA notice number ([`notice`]) and
//! amounts as pagoPA writes them ([`amount`]).

pub mod amount;
pub mod notice;
