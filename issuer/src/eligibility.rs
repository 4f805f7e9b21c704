//! Whether a certificate may be issued: ANPR's issuance controls
//! (DOMAIN.md §1) applied to the registry data, before anything is
//! rendered. A refusal says why, in plain Italian.

use seal::CertificateKind;

use store::model::{Certifiability, CivilStatus, Family, Registration, UnionKind};

pub use store::model::Subject;

/// Why a certificate is not issued. The message is what the requester
/// reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// ANPR marks the person not certifiable.
    #[error(
        "Il certificato non può essere rilasciato: la persona risulta non certificabile in anagrafe."
    )]
    NotCertifiable,
    /// ANPR marks the person not registrable.
    #[error(
        "Il certificato non può essere rilasciato: la persona risulta non iscrivibile in anagrafe."
    )]
    NotRegistrable,
    /// The person is under interdiction.
    #[error(
        "Il certificato non può essere rilasciato: la persona risulta interdetta e sottoposta a tutela. Rivolgersi all'ufficio anagrafe."
    )]
    Interdicted,
    /// Only residenza and stato di famiglia may be certified.
    #[error(
        "Per questa persona si possono rilasciare solo certificati di residenza e di stato di famiglia."
    )]
    PartiallyCertifiable,
    /// An administrative procedure is open on the person.
    #[error(
        "Il certificato non può essere rilasciato finché è aperto un procedimento amministrativo sulla posizione anagrafica. Rivolgersi all'ufficio anagrafe."
    )]
    OpenProcedure,
    /// The person is deceased.
    #[error("Il certificato non può essere rilasciato: la persona risulta deceduta.")]
    Deceased,
    /// The person has been deleted from the registry.
    #[error(
        "Il certificato non può essere rilasciato: la persona risulta cancellata dall'anagrafe di questo Comune."
    )]
    Cancelled,
    /// The certificate is for residents, the person is in AIRE.
    #[error("La persona è iscritta all'AIRE: richiedere il certificato nella versione AIRE.")]
    NotResident,
    /// The certificate is for AIRE, the person is resident.
    #[error("La persona non è iscritta all'AIRE di questo Comune.")]
    NotAire,
    /// The person lives in no convivenza.
    #[error("La persona non risulta residente in una convivenza anagrafica.")]
    NoConvivenza,
    /// The person belongs to no registry family.
    #[error("La persona non risulta appartenere a una famiglia anagrafica.")]
    NoFamily,
    /// The family has no head.
    #[error(
        "Il certificato non può essere rilasciato: la famiglia anagrafica risulta priva di intestatario. Rivolgersi all'ufficio anagrafe."
    )]
    FamilyWithoutHead,
    /// A member's relationship to the head is not recorded.
    #[error(
        "Il certificato non può essere rilasciato: la famiglia anagrafica risulta incompleta. Rivolgersi all'ufficio anagrafe."
    )]
    FamilyIncomplete,
    /// No marriage is recorded.
    #[error("Non risulta alcun matrimonio registrato per la persona.")]
    NoMarriage,
    /// No civil union in force.
    #[error("Non risulta alcuna unione civile in essere per la persona.")]
    NoCivilUnion,
    /// No cohabitation contract in force.
    #[error("Non risulta alcun contratto di convivenza in essere per la persona.")]
    NoCohabitationContract,
    /// Stato libero for someone married or in a civil union.
    #[error(
        "Il certificato di stato libero non può essere rilasciato: la persona risulta coniugata o unita civilmente."
    )]
    NotFree,
    /// The kind is not issued through this path.
    #[error("Questo tipo di certificato non si rilascia per una persona.")]
    NotAPersonCertificate,
}

/// Checks every control for a certificate of `kind` about `subject`.
/// `parts` are the kinds a certificato contestuale combines.
pub fn check(
    kind: CertificateKind,
    parts: &[CertificateKind],
    subject: &Subject,
) -> Result<(), Refusal> {
    check_person(subject)?;
    let kinds: Vec<CertificateKind> = if kind == CertificateKind::Contestuale {
        parts.to_vec()
    } else {
        vec![kind]
    };
    for kind in kinds {
        if subject.person.certifiability == Certifiability::Partial
            && !matches!(
                kind,
                CertificateKind::Residenza | CertificateKind::StatoFamiglia
            )
        {
            return Err(Refusal::PartiallyCertifiable);
        }
        check_kind(kind, subject)?;
    }
    Ok(())
}

/// The controls on the person that hold for every kind.
fn check_person(subject: &Subject) -> Result<(), Refusal> {
    let person = &subject.person;
    match person.certifiability {
        Certifiability::NotCertifiable => return Err(Refusal::NotCertifiable),
        Certifiability::NotRegistrable => return Err(Refusal::NotRegistrable),
        Certifiability::Interdicted => return Err(Refusal::Interdicted),
        Certifiability::Partial | Certifiability::Full => {}
    }
    if person.death_date.is_some() {
        return Err(Refusal::Deceased);
    }
    if matches!(person.registration, Registration::Cancelled { .. }) {
        return Err(Refusal::Cancelled);
    }
    if !subject.open_procedures.is_empty() {
        return Err(Refusal::OpenProcedure);
    }
    Ok(())
}

fn check_kind(kind: CertificateKind, subject: &Subject) -> Result<(), Refusal> {
    use CertificateKind as K;
    let person = &subject.person;
    let aire = matches!(person.registration, Registration::Aire(_));
    match kind {
        K::Residenza
        | K::StatoFamiglia
        | K::StatoFamigliaStatoCivile
        | K::StatoFamigliaParentela
            if aire =>
        {
            Err(Refusal::NotResident)
        }
        K::ResidenzaAire | K::StatoFamigliaAire if !aire => Err(Refusal::NotAire),
        K::ResidenzaConvivenza if subject.convivenza.is_none() => Err(Refusal::NoConvivenza),
        K::StatoFamiglia
        | K::StatoFamigliaStatoCivile
        | K::StatoFamigliaParentela
        | K::StatoFamigliaAire => check_family(subject.family.as_ref()),
        K::Matrimonio if !has_union(subject, UnionKind::Marriage, false) => {
            Err(Refusal::NoMarriage)
        }
        K::UnioneCivile if !has_union(subject, UnionKind::CivilUnion, true) => {
            Err(Refusal::NoCivilUnion)
        }
        K::ContrattoConvivenza if !has_union(subject, UnionKind::CohabitationContract, true) => {
            Err(Refusal::NoCohabitationContract)
        }
        K::StatoLibero
            if matches!(
                person.civil_status,
                CivilStatus::Married | CivilStatus::CivilUnion
            ) =>
        {
            Err(Refusal::NotFree)
        }
        K::DestinazioneUrbanistica | K::Contestuale => Err(Refusal::NotAPersonCertificate),
        _ => Ok(()),
    }
}

fn check_family(family: Option<&Family>) -> Result<(), Refusal> {
    let family = family.ok_or(Refusal::NoFamily)?;
    let heads = family
        .members
        .iter()
        .filter(|m| m.relationship == Some(1))
        .count();
    if heads != 1 {
        return Err(Refusal::FamilyWithoutHead);
    }
    if family
        .members
        .iter()
        .any(|m| matches!(m.relationship, None | Some(99)))
    {
        return Err(Refusal::FamilyIncomplete);
    }
    Ok(())
}

fn has_union(subject: &Subject, kind: UnionKind, in_force: bool) -> bool {
    subject
        .unions
        .iter()
        .any(|u| u.kind == kind && (!in_force || u.ended_on.is_none()))
}
