//! Reading parcels with their zoning and constraints (for the certificato
//! di destinazione urbanistica). Writing happens only through the importer.

use std::collections::BTreeMap;

use seal::ComuneCode;
use sqlx::any::AnyRow;

use super::{Store, StoreError, int, text};
use crate::model::{Constraint, Parcel, Plan, Zone, ZoneShare};

/// A parcel's key: foglio, particella, subalterno (`""` for none).
type ParcelKey = (String, String, String);

/// Separator of NTA articles in the `zones.nta_articles` column.
pub(crate) const NTA_SEPARATOR: char = '\n';

/// Zone shares joined with their zones, for the comune `$1`; callers add
/// conditions and the order.
macro_rules! zone_share_select {
    () => {
        "SELECT pz.foglio, pz.particella, pz.subalterno, pz.plan, pz.share_bp, \
         z.code, z.name, z.nta_articles, z.permitted_uses \
         FROM parcel_zones pz JOIN zones z \
         ON z.comune = pz.comune AND z.plan = pz.plan AND z.code = pz.zone_code \
         WHERE pz.comune = $1"
    };
}

/// Parcel constraints joined with their descriptions, for the comune `$1`.
macro_rules! constraint_select {
    () => {
        "SELECT pc.foglio, pc.particella, pc.subalterno, c.code, c.description, c.norm \
         FROM parcel_constraints pc JOIN land_constraints c \
         ON c.comune = pc.comune AND c.code = pc.constraint_code \
         WHERE pc.comune = $1"
    };
}

impl Store {
    /// The parcel with this foglio, particella and subalterno (`None` for a
    /// parcel without one), with its zones under both plans and its
    /// constraints.
    pub async fn parcel(
        &self,
        comune: ComuneCode,
        foglio: &str,
        particella: &str,
        subalterno: Option<&str>,
    ) -> Result<Option<Parcel>, StoreError> {
        let key = (
            foglio.trim().to_owned(),
            particella.trim().to_owned(),
            subalterno.unwrap_or_default().trim().to_owned(),
        );
        let bind = |sql: &'static str| {
            sqlx::query(sql)
                .bind(comune.as_str().to_owned())
                .bind(key.0.clone())
                .bind(key.1.clone())
                .bind(key.2.clone())
        };
        let parcels = bind(
            "SELECT foglio, particella, subalterno, area_m2 FROM parcels \
             WHERE comune = $1 AND foglio = $2 AND particella = $3 AND subalterno = $4",
        )
        .fetch_all(&self.pool)
        .await?;
        if parcels.is_empty() {
            return Ok(None);
        }
        let zones = bind(concat!(
            zone_share_select!(),
            " AND pz.foglio = $2 AND pz.particella = $3 AND pz.subalterno = $4",
            " ORDER BY pz.plan, pz.position"
        ))
        .fetch_all(&self.pool)
        .await?;
        let constraints = bind(concat!(
            constraint_select!(),
            " AND pc.foglio = $2 AND pc.particella = $3 AND pc.subalterno = $4",
            " ORDER BY pc.position"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(assemble(&parcels, &zones, &constraints)?.into_iter().next())
    }

    /// Every parcel of the comune, by foglio and particella (numerically
    /// when they are numbers), then subalterno.
    pub async fn list_parcels(&self, comune: ComuneCode) -> Result<Vec<Parcel>, StoreError> {
        let code = comune.as_str().to_owned();
        let parcels = sqlx::query(
            "SELECT foglio, particella, subalterno, area_m2 FROM parcels WHERE comune = $1 \
             ORDER BY LENGTH(foglio), foglio, LENGTH(particella), particella, \
             LENGTH(subalterno), subalterno",
        )
        .bind(code.clone())
        .fetch_all(&self.pool)
        .await?;
        let zones = sqlx::query(concat!(
            zone_share_select!(),
            " ORDER BY pz.plan, pz.position"
        ))
        .bind(code.clone())
        .fetch_all(&self.pool)
        .await?;
        let constraints = sqlx::query(concat!(constraint_select!(), " ORDER BY pc.position"))
            .bind(code)
            .fetch_all(&self.pool)
            .await?;
        assemble(&parcels, &zones, &constraints)
    }
}

/// Builds parcels from their rows, zone shares and constraints, keeping the
/// order of `parcels`.
fn assemble(
    parcels: &[AnyRow],
    zones: &[AnyRow],
    constraints: &[AnyRow],
) -> Result<Vec<Parcel>, StoreError> {
    let mut order = Vec::with_capacity(parcels.len());
    let mut by_key: BTreeMap<ParcelKey, Parcel> = BTreeMap::new();
    for row in parcels {
        let key = parcel_key(row, "parcels")?;
        let area =
            u32::try_from(int(row, "parcels", "area_m2")?).map_err(|_| StoreError::Corrupt {
                table: "parcels",
                column: "area_m2",
            })?;
        let parcel = Parcel {
            foglio: key.0.clone(),
            particella: key.1.clone(),
            subalterno: (!key.2.is_empty()).then(|| key.2.clone()),
            area_m2: area,
            zones_in_force: Vec::new(),
            zones_adopted: Vec::new(),
            constraints: Vec::new(),
        };
        order.push(key.clone());
        by_key.insert(key, parcel);
    }
    for row in zones {
        const T: &str = "parcel_zones";
        let corrupt = |column| StoreError::Corrupt { table: T, column };
        let Some(parcel) = by_key.get_mut(&parcel_key(row, T)?) else {
            continue;
        };
        let plan = Plan::from_code(&text(row, T, "plan")?).ok_or(corrupt("plan"))?;
        let share = ZoneShare {
            zone: Zone {
                plan,
                code: text(row, "zones", "code")?,
                name: text(row, "zones", "name")?,
                nta_articles: text(row, "zones", "nta_articles")?
                    .split(NTA_SEPARATOR)
                    .filter(|article| !article.is_empty())
                    .map(str::to_owned)
                    .collect(),
                permitted_uses: text(row, "zones", "permitted_uses")?,
            },
            share_bp: u32::try_from(int(row, T, "share_bp")?).map_err(|_| corrupt("share_bp"))?,
        };
        match plan {
            Plan::InForce => parcel.zones_in_force.push(share),
            Plan::Adopted => parcel.zones_adopted.push(share),
        }
    }
    for row in constraints {
        const T: &str = "parcel_constraints";
        let Some(parcel) = by_key.get_mut(&parcel_key(row, T)?) else {
            continue;
        };
        parcel.constraints.push(Constraint {
            code: text(row, "land_constraints", "code")?,
            description: text(row, "land_constraints", "description")?,
            norm: text(row, "land_constraints", "norm")?,
        });
    }
    Ok(order
        .into_iter()
        .filter_map(|key| by_key.remove(&key))
        .collect())
}

fn parcel_key(row: &AnyRow, table: &'static str) -> Result<ParcelKey, StoreError> {
    Ok((
        text(row, table, "foglio")?,
        text(row, table, "particella")?,
        text(row, table, "subalterno")?,
    ))
}
