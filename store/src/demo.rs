//! The demo comune, Borgo Sigillo: fictional, with fictional people and
//! parcels, loaded through the same importers as real data.
//!
//! - ISTAT code `999001` (ISTAT has never assigned a code starting `999`);
//! - Belfiore code `M999`, which no comune past or present has in ANPR's
//!   archive of comuni (the highest `M` code there is `M434`);
//! - province `XX`, which is no province's abbreviation;
//! - the demo flag set, so its certificates say they have no legal value.
//!
//! The data files, `issuer/demo/people.csv` and `issuer/demo/parcels.csv`,
//! are compiled in; `issuer/examples/make_demo_data.rs` generates them
//! (deterministically) from ANPR's archive of comuni, which supplies real
//! birthplaces.

use seal::ComuneCode;
use time::macros::date;

use crate::model::{BolloMode, ComuneRecord};
use crate::{ImportError, ImportSummary, Store};

/// The demo comune's ISTAT code.
pub const CODE: &str = "999001";
/// The demo comune's Belfiore code.
pub const BELFIORE: &str = "M999";
/// The demo comune's name.
pub const NAME: &str = "Borgo Sigillo";
/// The demo comune's province abbreviation.
pub const PROVINCE: &str = "XX";

/// The demo registry, in the people importer's layout.
pub const PEOPLE_CSV: &str = include_str!("../demo/people.csv");
/// The demo parcels, in the parcels importer's layout.
pub const PARCELS_CSV: &str = include_str!("../demo/parcels.csv");

/// What loading the demo wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The people import.
    pub people: ImportSummary,
    /// The parcels import.
    pub parcels: ImportSummary,
}

/// The demo comune's ISTAT code, parsed.
pub fn code() -> ComuneCode {
    ComuneCode::parse(CODE).expect("CODE is a literal of six digits")
}

/// The demo comune's settings.
pub fn comune() -> ComuneRecord {
    ComuneRecord {
        code: code(),
        belfiore: BELFIORE.to_owned(),
        name: NAME.to_owned(),
        province: PROVINCE.to_owned(),
        // Fictional: no body has this fiscal code.
        creditor_fiscal_code: "99999999999".to_owned(),
        verification_host: "localhost".to_owned(),
        bollo_mode: BolloMode::Virtuale {
            authorization: "DEMO-1".to_owned(),
            authorized_on: date!(2026 - 01 - 01),
        },
        bollo_cents: 1600,
        diritti_bollo_cents: 52,
        diritti_esente_cents: 26,
        demo: true,
        signer_kid: None,
    }
}

/// The demo comune's treasury IBAN: the example IBAN of Italian banking
/// documentation, which belongs to no account.
pub const DEMO_IBAN: &str = "IT60X0542811101000000123456";

/// Adds (or resets) the demo comune and replaces its registry and parcels
/// with the demo data. Keeps the signer kid and the verification host
/// already recorded, if any.
pub async fn load(store: &Store) -> Result<DemoSummary, ImportError> {
    let mut record = comune();
    if let Some(existing) = store.comune(record.code).await? {
        record.signer_kid = existing.signer_kid;
        record.verification_host = existing.verification_host;
    }
    store.upsert_comune(&record).await?;
    store.set_comune_iban(record.code, DEMO_IBAN).await?;
    let people = store
        .import_people(record.code, PEOPLE_CSV.as_bytes(), &|_| {})
        .await?;
    let parcels = store
        .import_parcels(record.code, PARCELS_CSV.as_bytes(), &|_| {})
        .await?;
    Ok(DemoSummary { people, parcels })
}
