//! What an offline verifier keeps between fetches: each comune's signed
//! trust list and status list, used while they are valid and named for
//! fetching again when their `exp` or `ttl` says so. No HTTP client here:
//! the caller fetches the bytes (from the comune's well-known URLs) and
//! hands them over.

use std::collections::BTreeMap;

use keys::CertificateInfo;
use seal::ComuneCode;
use time::OffsetDateTime;

use crate::status::{StatusFuture, StatusQuery, StatusSource};
use crate::{SignedTrustList, StatusListError, StatusLists, Trust, TrustListError};

/// Pinned CAs, the trust lists loaded against them and the status lists
/// their signers signed.
///
/// ```no_run
/// # fn demo(ca_pem: &str, trust_list: &[u8], status_list: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let now = time::OffsetDateTime::now_utc();
/// let mut cache = verifier::Cache::new();
/// cache.pin_ca(keys::CertificateInfo::from_pem(ca_pem)?);
/// cache.load_trust_list(trust_list, now)?;
/// cache.load_status_list(status_list, now)?;
/// let trust = cache.trust(now);
/// let report = verifier::Verifier::new(&trust)
///     .verify_now(verifier::Input::Text("…"), &cache, now);
/// for due in cache.refresh_due(now) { /* fetch again */ let _ = due; }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cache {
    pinned: BTreeMap<ComuneCode, CertificateInfo>,
    trust_lists: BTreeMap<ComuneCode, SignedTrustList>,
    status: StatusLists,
}

/// Something an offline verifier should fetch again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The comune's trust list: missing, or past its `exp`.
    TrustList(ComuneCode),
    /// The comune's status list: past its `ttl` or its `exp`.
    StatusList(ComuneCode),
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins a comune's CA certificate: its trust lists are loaded only if
    /// signed by it and naming it.
    pub fn pin_ca(&mut self, ca: CertificateInfo) {
        self.pinned.insert(ca.comune(), ca);
    }

    /// Loads a signed trust list against the pinned CA it names; a newer
    /// list replaces an older one of the same comune.
    pub fn load_trust_list(
        &mut self,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<&SignedTrustList, TrustListError> {
        let kid = SignedTrustList::signer_kid(bytes)?;
        let pinned = self
            .pinned
            .values()
            .find(|ca| ca.kid() == kid)
            .ok_or_else(|| match self.pinned.values().next() {
                Some(ca) => TrustListError::NotSignedByPinnedCa {
                    found: kid,
                    pinned: ca.kid(),
                },
                None => TrustListError::Malformed("no CA is pinned".into()),
            })?;
        let list = SignedTrustList::open(bytes, pinned, now)?;
        let comune = list.comune;
        let keep = self
            .trust_lists
            .get(&comune)
            .is_none_or(|held| list.issued_at >= held.issued_at);
        if keep {
            self.trust_lists.insert(comune, list);
        }
        self.trust_lists
            .get(&comune)
            .ok_or_else(|| TrustListError::Malformed("the list was not kept".into()))
    }

    /// Loads a status list token, checked against the trust the cache
    /// holds at `now`.
    pub fn load_status_list(
        &mut self,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StatusListError> {
        let trust = self.trust(now);
        self.status.load(bytes, &trust, now).map(|_| ())
    }

    /// The trust at `now`: the pinned CAs, and the signers of every trust
    /// list not yet expired.
    pub fn trust(&self, now: OffsetDateTime) -> Trust {
        let mut trust = Trust::default();
        for list in self.trust_lists.values() {
            if list.expires_at > now {
                // Each list was checked when loaded.
                let _ = trust.add_list(list);
            }
        }
        trust
    }

    /// The status lists held.
    pub fn status_lists(&self) -> &StatusLists {
        &self.status
    }

    /// What to fetch again at `now`.
    pub fn refresh_due(&self, now: OffsetDateTime) -> Vec<Refresh> {
        let mut due: Vec<Refresh> = self
            .pinned
            .keys()
            .filter(|comune| {
                self.trust_lists
                    .get(comune)
                    .is_none_or(|list| list.expires_at <= now)
            })
            .map(|comune| Refresh::TrustList(*comune))
            .collect();
        due.extend(
            self.status
                .refresh_due(now)
                .into_iter()
                .map(Refresh::StatusList),
        );
        due
    }
}

impl StatusSource for Cache {
    fn status<'a>(&'a self, query: &'a StatusQuery) -> StatusFuture<'a> {
        self.status.status(query)
    }
}
