//! The words a certificate prints and a verification report repeats: the
//! ANPR relationship names, the stamp-duty exemptions with their norm, and
//! the clauses of DPR 445/2000 art. 40. One copy, read by the issuing side
//! and by the verifier, so the paper and the report never disagree.

use crate::Clause;

/// Every relationship code ANPR defines, with its description.
///
/// Source: ANPR, table «Relazione di parentela - Famiglia»
/// (`tab_Relazione_di_parentela___Famiglia`, CC BY 4.0).
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

/// The name a certificate prints for a relationship code: ANPR's, or
/// «Non definito» for a code ANPR does not define.
pub fn relationship_name(code: u16) -> &'static str {
    relationship(code).unwrap_or("Non definito")
}

/// A stamp-duty exemption as the certificate prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExemptionWording {
    /// The id: ANPR's `tab_Esenzione_bollo` (1–10, 99), or
    /// [`STATO_CIVILE_EXEMPTION`].
    pub id: u16,
    /// The use, as printed.
    pub description: &'static str,
    /// The norm, as printed.
    pub norm: &'static str,
}

/// The exemption that certificates of the stato civile registers carry by
/// law, whatever use is declared. Not in ANPR's table, so outside its ids.
pub const STATO_CIVILE_EXEMPTION: u16 = 100;

/// ANPR's exemptions (`tab_Esenzione_bollo`) and the stato civile one, with
/// the use and the norm as certificates print them; a comune's own
/// exemptions come with its fee configuration.
pub const EXEMPTIONS: [ExemptionWording; 12] = [
    wording(1, "ONLUS", "DPR 642/1972, Tabella B, art. 27-bis"),
    wording(
        2,
        "società e associazioni sportive dilettantistiche",
        "DPR 642/1972, Tabella B, art. 8-bis",
    ),
    wording(
        3,
        "procedimento giurisdizionale (uso processuale)",
        "DPR 115/2002 art. 18",
    ),
    wording(
        4,
        "consulente tecnico d'ufficio o curatore fallimentare",
        "DPR 642/1972, Tabella B, art. 16",
    ),
    wording(
        5,
        "interdizione, inabilitazione o amministrazione di sostegno",
        "DPR 642/1972, Tabella B, art. 13",
    ),
    wording(
        6,
        "adozione, affidamento o tutela di minori",
        "DPR 642/1972, Tabella B, art. 13; L. 184/1983 art. 82",
    ),
    wording(7, "separazione o divorzio", "L. 74/1987 art. 19"),
    wording(
        8,
        "variazione della toponomastica",
        "L. 537/1993 art. 16 c. 8",
    ),
    wording(9, "pensione estera", "DPR 642/1972, Tabella B, art. 9"),
    wording(
        10,
        "scambio tra pubbliche amministrazioni",
        "DPR 642/1972, Tabella B, art. 16",
    ),
    wording(99, "altro", "norma indicata dal richiedente"),
    wording(
        STATO_CIVILE_EXEMPTION,
        "certificato di stato civile",
        "L. 405/1990 art. 7",
    ),
];

const fn wording(id: u16, description: &'static str, norm: &'static str) -> ExemptionWording {
    ExemptionWording {
        id,
        description,
        norm,
    }
}

/// The exemption with this id, if [`EXEMPTIONS`] has it.
pub fn exemption(id: u16) -> Option<&'static ExemptionWording> {
    EXEMPTIONS.iter().find(|e| e.id == id)
}

/// The exemption with this id, at compile time: for tables built on
/// [`EXEMPTIONS`]. An id it does not have stops the build.
pub const fn exemption_const(id: u16) -> ExemptionWording {
    let mut i = 0;
    while i < EXEMPTIONS.len() {
        if EXEMPTIONS[i].id == id {
            return EXEMPTIONS[i];
        }
        i += 1;
    }
    panic!("exemption id not in seal::wording::EXEMPTIONS")
}

/// The clause of DPR 445/2000 art. 40 as the certificate prints it.
pub fn clause_sentence(clause: Clause) -> &'static str {
    match clause {
        Clause::Standard => {
            "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione o ai privati gestori di pubblici servizi."
        }
        Clause::Estero => {
            "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione o ai privati gestori di pubblici servizi: è rilasciato solo per l'estero."
        }
        Clause::Immigrazione => {
            "Certificato rilasciato per i procedimenti disciplinati dalle norme sull'immigrazione."
        }
        Clause::Giudiziario => {
            "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione o ai privati gestori di pubblici servizi: è rilasciato per cause giudiziarie."
        }
        Clause::Amministrazione => {
            "Certificato rilasciato per lo scambio tra pubbliche amministrazioni (DPR 642/1972, Tabella B, art. 16): non è destinato ai privati."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relationship_table_knows_the_codes_families_use() {
        assert_eq!(relationship(1), Some("Intestatario scheda"));
        assert_eq!(relationship(28), Some("Unito civilmente"));
        assert_eq!(relationship(27), None);
    }

    #[test]
    fn code_99_reads_as_anpr_writes_it_and_unknown_codes_as_undefined() {
        assert_eq!(relationship_name(99), "Non definito/comunicato");
        assert_eq!(relationship_name(27), "Non definito");
    }

    #[test]
    fn every_exemption_id_is_found_at_run_time_and_at_compile_time() {
        for wording in EXEMPTIONS {
            assert_eq!(exemption(wording.id), Some(&wording));
            assert_eq!(exemption_const(wording.id), wording);
        }
        assert_eq!(exemption(11), None);
    }
}
