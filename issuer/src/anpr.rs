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

/// Every relationship code ANPR defines, with its description.
pub const RELATIONSHIPS: &[(u16, &str)] = &[
    (1, "Intestatario scheda"),
    (2, "Marito / Moglie"),
    (3, "Figlio / Figlia"),
    (4, "Nipote (discendente)"),
    (5, "Pronipote (discendente)"),
    (6, "Padre / Madre"),
    (7, "Nonno / Nonna"),
    (8, "Bisnonno / Bisnonna"),
    (9, "Fratello / Sorella"),
    (10, "Nipote (collaterale)"),
    (11, "Zio / Zia (collaterale)"),
    (12, "Cugino / Cugina"),
    (13, "Altro parente"),
    (14, "Figliastro / Figliastra"),
    (15, "Patrigno / Matrigna"),
    (16, "Genero / Nuora"),
    (17, "Suocero / Suocera"),
    (18, "Cognato / Cognata"),
    (19, "Fratellastro / Sorellastra"),
    (20, "Nipote (affine)"),
    (21, "Zio / Zia (affine)"),
    (22, "Altro affine"),
    (23, "Convivente (con vincoli di adozione o affettivi)"),
    (24, "Responsabile della convivenza non affettiva"),
    (25, "Convivente in convivenza non affettiva"),
    (26, "Tutore"),
    (28, "Unito civilmente"),
    (80, "Adottato"),
    (81, "Nipote"),
    (99, "Non definito/comunicato"),
];

/// The description of a relationship code, if ANPR defines it.
pub fn relationship(code: u16) -> Option<&'static str> {
    RELATIONSHIPS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, description)| *description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relationship_table_knows_the_codes_families_use() {
        assert_eq!(relationship(HEAD_OF_FAMILY), Some("Intestatario scheda"));
        assert_eq!(relationship(CIVIL_PARTNER), Some("Unito civilmente"));
        assert_eq!(relationship(27), None);
    }
}
