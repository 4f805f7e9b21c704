//! What an authentic seal states, laid out as the paper states it, so that a
//! reader can hold the report next to the certificate and compare them.
//!
//! [`CertificateFacts`] has two faces: typed fields for programs (a stable
//! JSON shape, English keys) and [`CertificateFacts::lines`], the same
//! content as Italian label–value lines in the paper's order, which the
//! command line, the verification page and the API all show unchanged.
//! Dates are civil dates in Europe/Rome; instants are RFC 3339 with the
//! Rome offset.

use seal::{BolloRef, CertificateKind, Claims, Clause, Facts, FamilyMember, Stamp};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use seal::rome;

/// The content of an authentic seal, for display and comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateFacts {
    /// The certificate kind.
    pub kind: KindFacts,
    /// The certificate number, `AAAA/NNNNNN`.
    pub number: String,
    /// The issuing comune.
    pub comune: ComuneFacts,
    /// Whom the certificate is about.
    pub holder: HolderFacts,
    /// What it attests beyond the holder.
    pub content: ContentFacts,
    /// The declared use, stamp duty or exemption, and the clause printed.
    pub usage: UsageFacts,
    /// The stamp duty payment, for a certificate in bollo.
    pub bollo: Option<BolloFacts>,
    /// When it was issued: RFC 3339 in Europe/Rome.
    pub issued_at: String,
    /// The issue date as printed, `dd/mm/yyyy`.
    pub issued_on: String,
    /// End of legal validity, RFC 3339 in Europe/Rome; `None` when the
    /// certificate does not expire.
    pub valid_until: Option<String>,
    /// The last day of validity as printed, `dd/mm/yyyy`.
    pub valid_until_on: Option<String>,
    /// A demo certificate, without legal value.
    pub demo: bool,
    /// The position in the comune's status list.
    pub status_index: u32,
    /// Everything above as Italian label–value lines, in the paper's order.
    pub lines: Vec<FactLine>,
}

/// One line of the facts as shown to people: an Italian label and a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactLine {
    /// The label, e.g. «Cognome».
    pub label: String,
    /// The value as printed.
    pub value: String,
}

/// A certificate kind: its catalogue code and printed title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindFacts {
    /// The ANPR id (100 contestuale, 200 CDU).
    pub code: u16,
    /// «Certificato di residenza», …
    pub title: String,
}

/// The issuing comune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComuneFacts {
    /// Its ISTAT code.
    pub istat_code: String,
    /// «Comune di …», as its seal certificate names it, when known.
    pub name: Option<String>,
}

/// The holder as the paper names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderFacts {
    /// Cognome.
    pub surname: String,
    /// Nome.
    pub given_names: String,
    /// Data di nascita, `dd/mm/yyyy`.
    pub birth_date: String,
    /// Luogo di nascita.
    pub birth_place: String,
    /// Codice fiscale.
    pub fiscal_code: String,
}

/// What a certificate attests, by shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ContentFacts {
    /// Nothing beyond the holder's own data.
    Holder,
    /// An address (residenza, AIRE, convivenza).
    Residence {
        /// The address as printed.
        address: String,
    },
    /// A citizenship.
    Citizenship {
        /// As printed.
        citizenship: String,
    },
    /// A civil status.
    CivilStatus {
        /// As printed.
        status: String,
    },
    /// A registry family.
    Family {
        /// The family's address.
        address: String,
        /// Every member, head of the family first.
        members: Vec<MemberFacts>,
    },
    /// A marriage, civil union or cohabitation contract.
    Union {
        /// The other party.
        partner: String,
        /// Date, `dd/mm/yyyy`.
        date: String,
        /// Place.
        place: String,
    },
    /// The parts of a certificato contestuale.
    Combined {
        /// Each part with its kind.
        parts: Vec<PartFacts>,
    },
    /// Only a digest of the text travels in the seal (a CDU, or facts too
    /// long to print legibly): the comune's online check shows the text.
    Digest {
        /// SHA-256 of the full text, hex.
        sha256: String,
    },
}

/// One part of a certificato contestuale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartFacts {
    /// The part's kind.
    pub kind: KindFacts,
    /// What the part attests.
    pub content: ContentFacts,
}

/// A family member as a family certificate lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberFacts {
    /// Cognome.
    pub surname: String,
    /// Nome.
    pub given_names: String,
    /// Data di nascita, `dd/mm/yyyy`.
    pub birth_date: String,
    /// Rapporto con l'intestatario, as ANPR names it, on the kind that
    /// states it.
    pub relationship: Option<String>,
    /// Stato civile, on the kinds that state it.
    pub civil_status: Option<String>,
}

/// The declared use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageFacts {
    /// Whether the stamp duty is due (in bollo) or an exemption applies.
    pub in_bollo: bool,
    /// The exemption, when exempt.
    pub exemption: Option<ExemptionFacts>,
    /// The art. 40 clause printed on the certificate.
    pub clause: String,
}

/// A stamp-duty exemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionFacts {
    /// Its id (ANPR `tab_Esenzione_bollo`, or 100 for stato civile).
    pub code: u16,
    /// The use, as printed; for «altro», the requester's own words.
    pub description: String,
    /// The norm, as printed.
    pub norm: String,
}

/// How the stamp duty was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BolloFacts {
    /// `IUV` (bollo virtuale, pagoPA), `IUBD` (marca da bollo digitale) or
    /// `MARCA` (a marca bound to the PDF's digest, its IUBD in the registry)
    /// or `CONTRASSEGNO` (a marca da bollo on paper, applied at the counter).
    pub kind: String,
    /// The reference.
    pub reference: String,
    /// For a marca bound to the PDF's digest: its IUBD, from the comune's
    /// registry (online verification only).
    pub iubd: Option<String>,
}

impl CertificateFacts {
    /// Lays out the claims of an authentic seal; `comune_name` is what the
    /// signer certificate calls the comune, when known.
    pub(crate) fn from_claims(claims: &Claims, comune_name: Option<String>) -> Self {
        let kind = kind_facts(claims.kind);
        let holder = HolderFacts {
            surname: claims.holder.surname.clone(),
            given_names: claims.holder.given_names.clone(),
            birth_date: rome::day_text(claims.holder.birth_date),
            birth_place: claims.holder.birth_place.clone(),
            fiscal_code: claims.holder.fiscal_code.to_string(),
        };
        let content = content_facts(&claims.facts);
        let usage = usage_facts(&claims.usage.stamp, claims.usage.clause);
        let bollo = claims.bollo.as_ref().map(|bollo| match bollo {
            BolloRef::Iuv(reference) => BolloFacts {
                kind: "IUV".into(),
                reference: reference.clone(),
                iubd: None,
            },
            BolloRef::Iubd(reference) => BolloFacts {
                kind: "IUBD".into(),
                reference: reference.clone(),
                iubd: Some(reference.clone()),
            },
            // Bought for this very PDF's digest after it was final: the
            // IUBD is in the comune's registry, not in the seal.
            BolloRef::MarcaDigitale => BolloFacts {
                kind: "MARCA".into(),
                reference: "marca da bollo digitale associata all'impronta del documento".into(),
                iubd: None,
            },
            BolloRef::Marca { id, issued_on } => BolloFacts {
                kind: "CONTRASSEGNO".into(),
                reference: format!(
                    "marca da bollo n. {id} emessa il {}",
                    rome::day_text(*issued_on)
                ),
                iubd: None,
            },
        });
        let mut facts = Self {
            kind,
            number: claims.number.to_string(),
            comune: ComuneFacts {
                istat_code: claims.issuer.to_string(),
                name: comune_name,
            },
            holder,
            content,
            usage,
            bollo,
            issued_at: rfc3339_rome(claims.issued_at),
            issued_on: rome::date_text(claims.issued_at),
            valid_until: claims.expires_at.map(rfc3339_rome),
            valid_until_on: claims.expires_at.map(rome::date_text),
            demo: claims.demo,
            status_index: claims.status_index,
            lines: Vec::new(),
        };
        facts.lines = facts.to_lines();
        facts
    }

    /// The IUBD of the marca da bollo digitale bound to the PDF, as the
    /// comune's registry records it: the seal cannot carry it (the stamp
    /// is bought after the document is final), the online check adds it.
    /// Only for a seal whose bollo is such a marca.
    pub fn add_registry_iubd(&mut self, iubd: &str) {
        if let Some(bollo) = &mut self.bollo
            && bollo.kind == "MARCA"
        {
            bollo.reference = format!(
                "marca da bollo digitale associata all'impronta del documento, IUBD {iubd} (dal registro del Comune)"
            );
            bollo.iubd = Some(iubd.to_owned());
            self.lines = self.to_lines();
        }
    }

    fn to_lines(&self) -> Vec<FactLine> {
        let mut lines = Lines::default();
        lines.push("Tipo di certificato", &self.kind.title);
        lines.push("Numero", &self.number);
        let comune = match &self.comune.name {
            Some(name) => format!("{name} (codice ISTAT {})", self.comune.istat_code),
            None => format!("codice ISTAT {}", self.comune.istat_code),
        };
        lines.push("Comune", &comune);
        lines.push("Cognome", &self.holder.surname);
        lines.push("Nome", &self.holder.given_names);
        lines.push(
            "Nascita",
            &format!("{}, {}", self.holder.birth_date, self.holder.birth_place),
        );
        lines.push("Codice fiscale", &self.holder.fiscal_code);
        content_lines(&mut lines, &self.content, "");
        match &self.usage.exemption {
            None => lines.push("Imposta di bollo", "dovuta (certificato in bollo)"),
            Some(exemption) => lines.push(
                "Esenzione dal bollo",
                &format!("{} ({})", exemption.description, exemption.norm),
            ),
        }
        if let Some(bollo) = &self.bollo {
            lines.push(&format!("Bollo pagato ({})", bollo.kind), &bollo.reference);
        }
        lines.push("Clausola", &self.usage.clause);
        lines.push("Rilasciato il", &self.issued_on);
        match &self.valid_until_on {
            Some(day) => lines.push("Valido fino al", day),
            None => lines.push("Validità", "illimitata"),
        }
        if self.demo {
            lines.push("Avvertenza", "certificato DEMO, privo di valore legale");
        }
        lines.0
    }
}

#[derive(Default)]
struct Lines(Vec<FactLine>);

impl Lines {
    fn push(&mut self, label: &str, value: &str) {
        self.0.push(FactLine {
            label: label.to_owned(),
            value: value.to_owned(),
        });
    }
}

fn content_lines(lines: &mut Lines, content: &ContentFacts, prefix: &str) {
    let label = |text: &str| format!("{prefix}{text}");
    match content {
        ContentFacts::Holder => {}
        ContentFacts::Residence { address } => lines.push(&label("Indirizzo"), address),
        ContentFacts::Citizenship { citizenship } => {
            lines.push(&label("Cittadinanza"), citizenship);
        }
        ContentFacts::CivilStatus { status } => lines.push(&label("Stato civile"), status),
        ContentFacts::Family { address, members } => {
            lines.push(&label("Indirizzo della famiglia"), address);
            for (index, member) in members.iter().enumerate() {
                let mut value = format!(
                    "{} {}, nato/a il {}",
                    member.surname, member.given_names, member.birth_date
                );
                if let Some(relationship) = &member.relationship {
                    value.push_str(&format!(", {relationship}"));
                }
                if let Some(status) = &member.civil_status {
                    value.push_str(&format!(", {status}"));
                }
                lines.push(&label(&format!("Componente {}", index + 1)), &value);
            }
        }
        ContentFacts::Union {
            partner,
            date,
            place,
        } => {
            lines.push(&label("Altra parte"), partner);
            lines.push(&label("Data"), date);
            lines.push(&label("Luogo"), place);
        }
        ContentFacts::Combined { parts } => {
            for part in parts {
                lines.push(&label("Parte"), &part.kind.title);
                content_lines(lines, &part.content, &format!("{} — ", part.kind.title));
            }
        }
        ContentFacts::Digest { sha256 } => {
            lines.push(
                &label("Contenuto"),
                "non riportato nel sigillo: il testo completo è consultabile con la verifica online del Comune",
            );
            lines.push(&label("Impronta SHA-256 del testo"), sha256);
        }
    }
}

fn kind_facts(kind: CertificateKind) -> KindFacts {
    KindFacts {
        code: kind.code(),
        title: kind.title().to_owned(),
    }
}

fn content_facts(facts: &Facts) -> ContentFacts {
    match facts {
        Facts::Holder => ContentFacts::Holder,
        Facts::Residence { address } => ContentFacts::Residence {
            address: address.clone(),
        },
        Facts::Citizenship { citizenship } => ContentFacts::Citizenship {
            citizenship: citizenship.clone(),
        },
        Facts::CivilStatus { status } => ContentFacts::CivilStatus {
            status: status.clone(),
        },
        Facts::Family { address, members } => ContentFacts::Family {
            address: address.clone(),
            members: members.iter().map(member_facts).collect(),
        },
        Facts::Union {
            partner,
            date,
            place,
        } => ContentFacts::Union {
            partner: partner.clone(),
            date: rome::day_text(*date),
            place: place.clone(),
        },
        Facts::Combined(parts) => ContentFacts::Combined {
            parts: parts
                .iter()
                .map(|(part_kind, part_facts)| PartFacts {
                    kind: kind_facts(*part_kind),
                    content: content_facts(part_facts),
                })
                .collect(),
        },
        Facts::Digest(digest) => ContentFacts::Digest {
            sha256: hex::encode(digest),
        },
    }
}

fn member_facts(member: &FamilyMember) -> MemberFacts {
    MemberFacts {
        surname: member.surname.clone(),
        given_names: member.given_names.clone(),
        birth_date: rome::day_text(member.birth_date),
        // Only the kind that prints relationships states them; the
        // others carry 0, «not stated».
        relationship: (member.relationship != 0)
            .then(|| seal::wording::relationship_name(member.relationship).to_owned()),
        civil_status: member.civil_status.clone(),
    }
}

fn usage_facts(stamp: &Stamp, clause: Clause) -> UsageFacts {
    let exemption = match stamp {
        Stamp::Bollo => None,
        Stamp::Exempt { code, note } => {
            let (description, norm) = exemption(*code);
            Some(ExemptionFacts {
                code: *code,
                description: match (code, note) {
                    (99, Some(note)) => note.clone(),
                    _ => description.to_owned(),
                },
                norm: norm.to_owned(),
            })
        }
    };
    UsageFacts {
        in_bollo: matches!(stamp, Stamp::Bollo),
        exemption,
        clause: seal::wording::clause_sentence(clause).to_owned(),
    }
}

fn rfc3339_rome(instant: OffsetDateTime) -> String {
    rome::local(instant)
        .format(&Rfc3339)
        .unwrap_or_else(|_| instant.to_string())
}

/// The use and norm of a seal's exemption id; a comune's own ids show as
/// unlisted.
fn exemption(code: u16) -> (&'static str, &'static str) {
    seal::wording::exemption(code)
        .map(|wording| (wording.description, wording.norm))
        .unwrap_or(("esenzione stabilita dal Comune", "norma non in elenco"))
}
