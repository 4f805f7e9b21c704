//! ANPR code tables that the registry data uses.
//!
//! Source: ANPR, table «Relazione di parentela - Famiglia»
//! (`tab_Relazione_di_parentela___Famiglia`, CC BY 4.0).

/// 1 — Intestatario scheda: the head of the family.
pub const HEAD_OF_FAMILY: u16 = 1;
/// 2 — Marito / Moglie.
pub const SPOUSE: u16 = 2;
/// 3 — Figlio / Figlia.
pub const CHILD: u16 = 3;
/// 23 — Convivente (con vincoli di adozione o affettivi).
pub const COHABITANT: u16 = 23;
/// 24 — Responsabile della convivenza non affettiva.
pub const CONVIVENZA_RESPONSIBLE: u16 = 24;
/// 25 — Convivente in convivenza non affettiva.
pub const CONVIVENZA_MEMBER: u16 = 25;
/// 28 — Unito civilmente.
pub const CIVIL_PARTNER: u16 = 28;

/// Every relationship code ANPR defines, and its description: one table
/// for the whole workspace, in [`seal::wording`].
pub use seal::wording::{RELATIONSHIPS, relationship};
