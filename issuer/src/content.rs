//! What a certificate states, built once from the registry and used twice:
//! as the seal's facts and as the template's context, so the paper and the
//! seal cannot say different things.

use seal::{CertificateKind, Facts, FamilyMember, Holder};
use serde::Serialize;

use crate::eligibility::Subject;
use store::model::{CivilStatus, Parcel, Plan, Registration, Sex, UnionKind, ZoneShare};

/// A certificate's statements, for the seal and for the template.
#[derive(Debug, Clone)]
pub struct Content {
    /// The holder, as the seal carries them.
    pub holder: Holder,
    /// The facts, as the seal carries them.
    pub facts: Facts,
    /// The template's context.
    pub context: Context,
}

/// The values a template can print. Field names are the placeholders'.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Context {
    /// The holder.
    pub holder: PersonView,
    /// Address of residence (or abroad, or of the convivenza), as printed.
    pub address: String,
    /// AIRE: country of residence.
    pub aire_country: String,
    /// The convivenza's name.
    pub convivenza: String,
    /// Family members, head first.
    pub members: Vec<PersonView>,
    /// The union the certificate attests.
    pub union: Option<UnionView>,
    /// For a contestuale: the slugs of the kinds it combines.
    pub parts: Vec<String>,
    /// For a contestuale: the slug of the part printed last (in the
    /// template's order), whose item ends the list with a full stop.
    pub last_part: String,
    /// For a CDU: the parcels.
    pub parcels: Vec<ParcelView>,
}

/// A cadastral parcel as a CDU prints it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ParcelView {
    /// Foglio.
    pub foglio: String,
    /// Particella.
    pub particella: String,
    /// Subalterno, empty when none.
    pub subalterno: String,
    /// Area in square metres.
    pub area: u32,
    /// Zones under the plan in force, then under the adopted plan.
    pub zones: Vec<ZoneView>,
    /// Constraints, as one printed list (empty when none).
    pub constraints: String,
}

/// A zone share as a CDU prints it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ZoneView {
    /// «vigente» or «adottato».
    pub plan: String,
    /// Zone code.
    pub code: String,
    /// Zone name.
    pub name: String,
    /// Share of the parcel, e.g. «60%».
    pub share: String,
    /// NTA articles.
    pub articles: String,
    /// Permitted uses.
    pub uses: String,
}

/// A person as templates print them.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PersonView {
    /// «ROSSI MARIA».
    pub full_name: String,
    /// Cognome.
    pub surname: String,
    /// Nome.
    pub given_names: String,
    /// «nato» or «nata».
    pub born: String,
    /// The ending of words agreeing with the person: «o» or «a».
    pub desinenza: String,
    /// Birth date, `dd/mm/yyyy`.
    pub birth_date: String,
    /// Birth place.
    pub birth_place: String,
    /// Codice fiscale.
    pub fiscal_code: String,
    /// Cittadinanza.
    pub citizenship: String,
    /// Stato civile, in the person's gender.
    pub civil_status: String,
    /// Relationship to the family's head, as ANPR names it.
    pub relationship: String,
}

/// A union as templates print it.
#[derive(Debug, Clone, Serialize)]
pub struct UnionView {
    /// The other party.
    pub partner: String,
    /// Date, `dd/mm/yyyy`.
    pub date: String,
    /// Place.
    pub place: String,
}

/// The kinds a certificato contestuale combines, by slug, in the order in
/// which `templates/contestuale.txt` prints them.
pub const CONTESTUALE_ORDER: [&str; 7] = [
    "residenza",
    "cittadinanza",
    "esistenza_in_vita",
    "stato_civile",
    "stato_libero",
    "nascita",
    "stato_famiglia",
];

/// Builds the statements of a certificate of `kind` (whose eligibility has
/// been checked) about `subject`. For a contestuale, `parts` are the kinds
/// it combines.
pub fn build(kind: CertificateKind, parts: &[CertificateKind], subject: &Subject) -> Content {
    let person = &subject.person;
    let holder = Holder {
        surname: person.surname.clone(),
        given_names: person.given_names.clone(),
        birth_date: person.birth_date,
        birth_place: person.birth_place.clone(),
        fiscal_code: person.fiscal_code.clone(),
    };
    let mut context = Context {
        holder: view(person),
        ..Context::default()
    };
    context.address = address_of(subject);
    if let Registration::Aire(aire) = &person.registration {
        context.aire_country = aire.country.clone();
    }
    if let Some(convivenza) = &subject.convivenza {
        context.convivenza = convivenza.name.clone();
    }
    if let Some(family) = &subject.family {
        context.members = family.members.iter().map(view).collect();
    }
    let facts = if kind == CertificateKind::Contestuale {
        context.parts = parts
            .iter()
            .filter_map(|k| crate::catalogue::spec_of(*k).map(|s| s.slug.to_owned()))
            .collect();
        context.last_part = CONTESTUALE_ORDER
            .iter()
            .rev()
            .find(|slug| context.parts.iter().any(|part| part == *slug))
            .map(|slug| (*slug).to_owned())
            .unwrap_or_default();
        Facts::Combined(
            parts
                .iter()
                .map(|&k| (k, facts_of(k, subject, &mut context)))
                .collect(),
        )
    } else {
        facts_of(kind, subject, &mut context)
    };
    Content {
        holder,
        facts,
        context,
    }
}

/// Builds the statements of a CDU for `parcels`, asked for by `applicant`.
/// Its facts in the seal are a digest of the printed text, set once the
/// text is rendered; until then they are the holder's.
pub fn build_cdu(applicant: &Holder, parcels: &[Parcel]) -> Content {
    let holder_view = PersonView {
        full_name: format!("{} {}", applicant.surname, applicant.given_names),
        surname: applicant.surname.clone(),
        given_names: applicant.given_names.clone(),
        birth_date: seal::rome::day_text(applicant.birth_date),
        birth_place: applicant.birth_place.clone(),
        fiscal_code: applicant.fiscal_code.to_string(),
        ..PersonView::default()
    };
    let context = Context {
        holder: holder_view,
        parcels: parcels.iter().map(parcel_view).collect(),
        ..Context::default()
    };
    Content {
        holder: applicant.clone(),
        facts: Facts::Holder,
        context,
    }
}

fn parcel_view(parcel: &Parcel) -> ParcelView {
    let zone = |plan: &str, share: &ZoneShare| ZoneView {
        plan: plan.to_owned(),
        code: share.zone.code.clone(),
        name: share.zone.name.clone(),
        share: percent(share.share_bp),
        articles: share.zone.nta_articles.join(", "),
        uses: share.zone.permitted_uses.clone(),
    };
    let zones = parcel
        .zones_in_force
        .iter()
        .map(|share| zone(plan_name(share.zone.plan), share))
        .chain(
            parcel
                .zones_adopted
                .iter()
                .map(|share| zone(plan_name(share.zone.plan), share)),
        )
        .collect();
    let constraints = parcel
        .constraints
        .iter()
        .map(|c| format!("{} ({})", c.description, c.norm))
        .collect::<Vec<_>>()
        .join("; ");
    ParcelView {
        foglio: parcel.foglio.clone(),
        particella: parcel.particella.clone(),
        subalterno: parcel.subalterno.clone().unwrap_or_default(),
        area: parcel.area_m2,
        zones,
        constraints,
    }
}

fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::InForce => "vigente",
        Plan::Adopted => "adottato",
    }
}

/// A share in hundredths of a percent, printed: 10000 → «100%», 3333 → «33,33%».
fn percent(share_bp: u32) -> String {
    let whole = share_bp / 100;
    match share_bp % 100 {
        0 => format!("{whole}%"),
        cents => format!("{whole},{cents:02}%"),
    }
}

fn facts_of(kind: CertificateKind, subject: &Subject, context: &mut Context) -> Facts {
    use CertificateKind as K;
    let person = &subject.person;
    match kind {
        K::Residenza | K::ResidenzaAire | K::ResidenzaConvivenza => Facts::Residence {
            address: context.address.clone(),
        },
        K::Cittadinanza => Facts::Citizenship {
            citizenship: person.citizenship.clone(),
        },
        K::StatoCivile | K::StatoLibero => Facts::CivilStatus {
            status: civil_status_text(person.civil_status, person.sex).into(),
        },
        K::StatoFamiglia
        | K::StatoFamigliaStatoCivile
        | K::StatoFamigliaParentela
        | K::StatoFamigliaAire => {
            let members = subject
                .family
                .iter()
                .flat_map(|family| &family.members)
                .map(|member| FamilyMember {
                    surname: member.surname.clone(),
                    given_names: member.given_names.clone(),
                    birth_date: member.birth_date,
                    // Relationships are stated only where the paper prints them.
                    relationship: if kind == K::StatoFamigliaParentela {
                        member.relationship.unwrap_or(0)
                    } else {
                        0
                    },
                    civil_status: (kind == K::StatoFamigliaStatoCivile)
                        .then(|| civil_status_text(member.civil_status, member.sex).to_owned()),
                })
                .collect();
            Facts::Family {
                address: context.address.clone(),
                members,
            }
        }
        K::Matrimonio | K::UnioneCivile | K::ContrattoConvivenza => {
            let wanted = match kind {
                K::Matrimonio => UnionKind::Marriage,
                K::UnioneCivile => UnionKind::CivilUnion,
                _ => UnionKind::CohabitationContract,
            };
            match subject
                .unions
                .iter()
                .filter(|u| u.kind == wanted)
                .max_by_key(|u| u.date)
            {
                Some(union) => {
                    context.union = Some(UnionView {
                        partner: union.partner_name.clone(),
                        date: seal::rome::day_text(union.date),
                        place: union.place.clone(),
                    });
                    Facts::Union {
                        partner: union.partner_name.clone(),
                        date: union.date,
                        place: union.place.clone(),
                    }
                }
                // Eligibility refuses these before; say nothing rather than panic.
                None => Facts::Holder,
            }
        }
        _ => Facts::Holder,
    }
}

fn address_of(subject: &Subject) -> String {
    if let Registration::Aire(aire) = &subject.person.registration {
        return format!("{}, {}", aire.address_abroad, aire.country);
    }
    if let Some(convivenza) = &subject.convivenza {
        return format!("{}, {}", convivenza.name, convivenza.address.line());
    }
    subject
        .family
        .as_ref()
        .and_then(|family| family.address.as_ref())
        .map(|address| address.line())
        .unwrap_or_default()
}

fn view(person: &store::model::Person) -> PersonView {
    PersonView {
        full_name: format!("{} {}", person.surname, person.given_names),
        surname: person.surname.clone(),
        given_names: person.given_names.clone(),
        born: if person.sex == Sex::F { "nata" } else { "nato" }.into(),
        desinenza: if person.sex == Sex::F { "a" } else { "o" }.into(),
        birth_date: seal::rome::day_text(person.birth_date),
        birth_place: person.birth_place.clone(),
        fiscal_code: person.fiscal_code.to_string(),
        citizenship: person.citizenship.clone(),
        civil_status: civil_status_text(person.civil_status, person.sex).into(),
        relationship: person
            .relationship
            .map(seal::wording::relationship_name)
            .unwrap_or("")
            .into(),
    }
}

/// The civil status as printed, in the person's gender.
pub fn civil_status_text(status: CivilStatus, sex: Sex) -> &'static str {
    let female = sex == Sex::F;
    match status {
        CivilStatus::Single if female => "nubile",
        CivilStatus::Single => "celibe",
        CivilStatus::Married if female => "coniugata",
        CivilStatus::Married => "coniugato",
        CivilStatus::Widowed if female => "vedova",
        CivilStatus::Widowed => "vedovo",
        CivilStatus::Divorced if female => "divorziata",
        CivilStatus::Divorced => "divorziato",
        CivilStatus::CivilUnion if female => "unita civilmente",
        CivilStatus::CivilUnion => "unito civilmente",
        CivilStatus::UnionDissolved => "stato libero a seguito di scioglimento dell'unione civile",
        CivilStatus::UnionWidowed => {
            "stato libero a seguito di decesso della parte dell'unione civile"
        }
    }
}
