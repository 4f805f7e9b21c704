//! The comune's status list, after the IETF OAuth Token Status List draft
//! (draft-ietf-oauth-status-list), CWT form: offline verifiers learn
//! whether certificates were revoked without telling anyone which
//! certificate they hold.
//!
//! The token is a COSE_Sign1 (ES256) signed by one of the comune's seal
//! signers, with `typ` (16) [`STATUS_LIST_TYPE`] and `kid` in the
//! protected header. Its claims: `sub` (2, the list's URI), `iat` (6),
//! `exp` (4), `ttl` (65534, seconds a copy may be cached) and
//! `status_list` (65533) = `{ "bits": 2, "lst": zlib(bytes) }`. Entry `i`
//! takes `bits` bits of byte `i * bits / 8`, from the least significant
//! end, as the draft lays it out.
//!
//! Sigillo's values, two bits a certificate, at the seal's status index
//! (claim -6):
//!
//! | value | draft name | Sigillo status |
//! |---|---|---|
//! | 0 | VALID | issued and in force (expiry still comes from the seal's `exp`) |
//! | 1 | INVALID | revoked, or a void number that was never issued |
//! | 2 | SUSPENDED | pending: prepared, not yet released |
//! | 3 | application-specific | superseded by a later certificate |
//!
//! Expired certificates keep their value: expiry is in the seal. An index
//! the list does not reach, or a value not in the table, is not valid.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use ciborium::value::Value;
use seal::{ComuneCode, Kid, MAX_CLOCK_SKEW, SealSigner, TrustList as _};
use time::{Duration, OffsetDateTime};

use crate::Trust;
use crate::cose::{self, CoseError, Unverified};
use crate::status::{RegistryStatus, StatusFuture, StatusQuery, StatusSource, UnknownReason};
use crate::trust::time_of;

/// The `typ` of a status list token (CWT form).
pub const STATUS_LIST_TYPE: &str = "application/statuslist+cwt";

/// The CWT claim key of `ttl`.
pub const TTL_CLAIM: i64 = 65534;

/// The CWT claim key of `status_list`.
pub const STATUS_LIST_CLAIM: i64 = 65533;

/// The most bytes a decompressed list may have: 64 million certificates at
/// two bits, far beyond any comune, and a bound on a decompression bomb.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// A list of statuses, `bits` bits each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

/// Why a status list could not be made or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// Bits per entry other than 1, 2, 4 or 8.
    #[error("bit per stato non ammessi: {0} (1, 2, 4 o 8)")]
    Bits(u8),
    /// A value that does not fit the entry size.
    #[error("il valore {value} non sta in {bits} bit")]
    Value {
        /// The value.
        value: u8,
        /// Bits per entry.
        bits: u8,
    },
    /// An index beyond what a list may hold.
    #[error("indice {0} oltre la dimensione massima della lista")]
    Index(u32),
    /// Not a status list token (COSE, headers, claims, compression).
    #[error(
        "la lista di stato non è nel formato previsto (file danneggiato, o non è una lista di stato)"
    )]
    Malformed(String),
    /// Signed by a key that is not a trusted seal signer.
    #[error("la lista di stato è firmata da un firmatario non attendibile (kid {0})")]
    UntrustedSigner(Kid),
    /// The signature does not match.
    #[error("la firma della lista di stato non corrisponde")]
    BadSignature,
    /// The list's validity has ended.
    #[error("la lista di stato è scaduta il {}: scaricarne una aggiornata", seal::rome::date_time_text(*.0))]
    Expired(OffsetDateTime),
    /// The list claims to be issued in the future, or outside its signer's
    /// validity.
    #[error("data di emissione della lista di stato non valida ({})", seal::rome::date_time_text(*.0))]
    BadIssueTime(OffsetDateTime),
    /// The signer could not sign.
    #[error("firma della lista di stato non riuscita: {0}")]
    Signer(String),
}

impl From<CoseError> for StatusListError {
    fn from(error: CoseError) -> Self {
        match error {
            CoseError::BadSignature => Self::BadSignature,
            other => Self::Malformed(other.to_string()),
        }
    }
}

impl StatusList {
    /// VALID: issued and in force.
    pub const VALID: u8 = 0;
    /// INVALID: revoked, or void (never issued).
    pub const INVALID: u8 = 1;
    /// SUSPENDED: pending, not yet released.
    pub const SUSPENDED: u8 = 2;
    /// Application-specific 3: superseded.
    pub const SUPERSEDED: u8 = 3;

    /// An empty list of `bits` bits an entry (Sigillo publishes 2).
    pub fn new(bits: u8) -> Result<Self, StatusListError> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(StatusListError::Bits(bits));
        }
        Ok(Self {
            bits,
            bytes: Vec::new(),
        })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many entries the list holds (its bytes are whole; unset
    /// entries are 0, VALID — the issuer sets every index it hands out).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Sets entry `index` to `value`, growing the list as needed.
    pub fn set(&mut self, index: u32, value: u8) -> Result<(), StatusListError> {
        if u16::from(value) >= 1 << self.bits {
            return Err(StatusListError::Value {
                value,
                bits: self.bits,
            });
        }
        let (byte, shift) = self.position(index);
        if byte >= MAX_LIST_BYTES {
            return Err(StatusListError::Index(index));
        }
        if byte >= self.bytes.len() {
            self.bytes.resize(byte + 1, 0);
        }
        let mask = self.mask() << shift;
        self.bytes[byte] = (self.bytes[byte] & !mask) | (value << shift);
        Ok(())
    }

    /// Entry `index`, if the list reaches it.
    pub fn get(&self, index: u32) -> Option<u8> {
        let (byte, shift) = self.position(index);
        self.bytes.get(byte).map(|&b| (b >> shift) & self.mask())
    }

    /// The uncompressed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A list from its uncompressed bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self, StatusListError> {
        let mut list = Self::new(bits)?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusListError::Malformed("list too long".into()));
        }
        list.bytes = bytes;
        Ok(list)
    }

    /// The registry status entry `index` stands for (see the module
    /// documentation for the table).
    pub fn status_of(&self, index: u32) -> RegistryStatus {
        match (self.bits, self.get(index)) {
            (_, None) => RegistryStatus::Unknown(UnknownReason::IndexOutOfRange),
            (_, Some(Self::VALID)) => RegistryStatus::Valid,
            (_, Some(Self::INVALID)) => RegistryStatus::Revoked {
                reason: None,
                at: None,
            },
            (2.., Some(Self::SUSPENDED)) => RegistryStatus::Pending,
            (2.., Some(Self::SUPERSEDED)) => RegistryStatus::Superseded,
            (_, Some(other)) => RegistryStatus::Unknown(UnknownReason::UnrecognisedValue(other)),
        }
    }

    /// The list as a signed status list token: `sub` the list's URI,
    /// `iat`, `exp`, `ttl`, signed by `signer` (one of the comune's seal
    /// signers).
    pub fn to_cwt(
        &self,
        signer: &dyn SealSigner,
        sub: &str,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        ttl: Duration,
    ) -> Result<Vec<u8>, StatusListError> {
        let mut compressed =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        compressed
            .write_all(&self.bytes)
            .map_err(|e| StatusListError::Malformed(e.to_string()))?;
        let lst = compressed
            .finish()
            .map_err(|e| StatusListError::Malformed(e.to_string()))?;
        let ttl = u64::try_from(ttl.whole_seconds())
            .map_err(|_| StatusListError::Malformed("negative ttl".into()))?;
        let claims = Value::Map(vec![
            (int(2), Value::Text(sub.to_owned())),
            (int(6), int(issued_at.unix_timestamp())),
            (int(4), int(expires_at.unix_timestamp())),
            (int(TTL_CLAIM), Value::Integer(ttl.into())),
            (
                int(STATUS_LIST_CLAIM),
                Value::Map(vec![
                    (Value::Text("bits".into()), Value::Integer(self.bits.into())),
                    (Value::Text("lst".into()), Value::Bytes(lst)),
                ]),
            ),
        ]);
        let mut payload = Vec::new();
        ciborium::into_writer(&claims, &mut payload)
            .map_err(|e| StatusListError::Malformed(e.to_string()))?;
        cose::sign(payload, STATUS_LIST_TYPE, signer)
            .map_err(|e| StatusListError::Signer(e.to_string()))
    }

    /// Loads a status list token, checking in order: COSE structure and
    /// headers (`typ`); the signer is a trusted seal signer; the signature;
    /// the claims; `iat` within the signer's validity and not in the
    /// future; `exp` after `now`; `bits`; the decompressed list.
    pub fn from_cwt(
        bytes: &[u8],
        trust: &Trust,
        now: OffsetDateTime,
    ) -> Result<VerifiedStatusList, StatusListError> {
        let unverified = Unverified::open(bytes, STATUS_LIST_TYPE)?;
        let kid = unverified.kid();
        let signer = trust
            .signer(&kid)
            .ok_or(StatusListError::UntrustedSigner(kid))?;
        let payload = unverified.verify(signer.key)?;
        let malformed = |what: &str| StatusListError::Malformed(what.to_owned());
        let value: Value = ciborium::from_reader(payload.as_slice())
            .map_err(|e| StatusListError::Malformed(e.to_string()))?;
        let Value::Map(claims) = value else {
            return Err(malformed("the claims are not a map"));
        };
        let find = |key: i64| claims.iter().find(|(k, _)| *k == int(key)).map(|(_, v)| v);
        let subject = find(2)
            .and_then(Value::as_text)
            .ok_or_else(|| malformed("sub"))?
            .to_owned();
        let issued_at = find(6).and_then(time_of).ok_or_else(|| malformed("iat"))?;
        let expires_at = match find(4) {
            None => None,
            Some(value) => Some(time_of(value).ok_or_else(|| malformed("exp"))?),
        };
        let ttl = match find(TTL_CLAIM) {
            None => None,
            Some(value) => {
                let seconds = value
                    .as_integer()
                    .and_then(|n| i64::try_from(n).ok())
                    .filter(|&n| n >= 0)
                    .ok_or_else(|| malformed("ttl"))?;
                Some(Duration::seconds(seconds))
            }
        };
        let list = find(STATUS_LIST_CLAIM)
            .and_then(Value::as_map)
            .ok_or_else(|| malformed("status_list"))?;
        let field = |name: &str| {
            list.iter()
                .find(|(k, _)| k.as_text() == Some(name))
                .map(|(_, v)| v)
        };
        let bits = field("bits")
            .and_then(Value::as_integer)
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| malformed("bits"))?;
        let compressed = field("lst")
            .and_then(Value::as_bytes)
            .ok_or_else(|| malformed("lst"))?;

        if issued_at > now + MAX_CLOCK_SKEW
            || issued_at < signer.not_before
            || issued_at > signer.not_after
        {
            return Err(StatusListError::BadIssueTime(issued_at));
        }
        // A revoked signer's key may be in other hands: nothing it signed
        // since the revocation is believed.
        if trust
            .revoked_at(&kid)
            .is_some_and(|since| issued_at >= since)
        {
            return Err(StatusListError::UntrustedSigner(kid));
        }
        if let Some(at) = expires_at
            && at <= now
        {
            return Err(StatusListError::Expired(at));
        }
        let mut decompressed = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut decompressed)
            .map_err(|e| StatusListError::Malformed(format!("lst: {e}")))?;
        let list = Self::from_bytes(bits, decompressed)?;
        Ok(VerifiedStatusList {
            comune: signer.comune,
            subject,
            issued_at,
            expires_at,
            ttl,
            signer: kid,
            list,
        })
    }

    fn mask(&self) -> u8 {
        u8::MAX >> (8 - self.bits)
    }

    fn position(&self, index: u32) -> (usize, u8) {
        let bit = u64::from(index) * u64::from(self.bits);
        let byte = usize::try_from(bit / 8).unwrap_or(usize::MAX);
        (byte, (bit % 8) as u8)
    }
}

/// A status list whose token was verified: whose it is and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatusList {
    /// The comune whose signer signed it.
    pub comune: ComuneCode,
    /// Its `sub`: the URI it is published at.
    pub subject: String,
    /// When it was made.
    pub issued_at: OffsetDateTime,
    /// When it stops being usable, if it says.
    pub expires_at: Option<OffsetDateTime>,
    /// How long a copy may be kept before fetching a fresh one.
    pub ttl: Option<Duration>,
    /// The signer.
    pub signer: Kid,
    /// The statuses.
    pub list: StatusList,
}

/// Status lists held in memory, one per comune, answering
/// [`StatusSource`] at once. A list past its `exp` answers
/// [`UnknownReason::ListExpired`]; one past its `ttl` still answers, and
/// [`Self::refresh_due`] names it for fetching again.
#[derive(Debug, Clone, Default)]
pub struct StatusLists {
    lists: BTreeMap<ComuneCode, (VerifiedStatusList, OffsetDateTime)>,
}

impl StatusLists {
    /// No lists.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verifies a token with `trust` and keeps it, unless a list of the
    /// same comune issued later is already held. `now` is when it was
    /// fetched.
    pub fn load(
        &mut self,
        bytes: &[u8],
        trust: &Trust,
        now: OffsetDateTime,
    ) -> Result<&VerifiedStatusList, StatusListError> {
        let list = StatusList::from_cwt(bytes, trust, now)?;
        Ok(self.insert(list, now))
    }

    /// Keeps a verified list fetched at `fetched_at`, unless a newer one
    /// of the same comune is held; returns the one kept.
    pub fn insert(
        &mut self,
        list: VerifiedStatusList,
        fetched_at: OffsetDateTime,
    ) -> &VerifiedStatusList {
        let slot = self
            .lists
            .entry(list.comune)
            .or_insert_with(|| (list.clone(), fetched_at));
        if list.issued_at > slot.0.issued_at {
            *slot = (list, fetched_at);
        }
        &slot.0
    }

    /// The list held for a comune.
    pub fn get(&self, comune: ComuneCode) -> Option<&VerifiedStatusList> {
        self.lists.get(&comune).map(|(list, _)| list)
    }

    /// The registry status of index `index` of the comune's list at `now`.
    pub fn lookup(&self, comune: ComuneCode, index: u32, now: OffsetDateTime) -> RegistryStatus {
        let Some((list, _)) = self.lists.get(&comune) else {
            return RegistryStatus::Unknown(UnknownReason::NoList);
        };
        if list.expires_at.is_some_and(|at| at <= now) {
            return RegistryStatus::Unknown(UnknownReason::ListExpired);
        }
        list.list.status_of(index)
    }

    /// The comuni whose list should be fetched again at `now`: past its
    /// `ttl` since it was fetched, or past its `exp`.
    pub fn refresh_due(&self, now: OffsetDateTime) -> Vec<ComuneCode> {
        self.lists
            .iter()
            .filter(|(_, (list, fetched_at))| {
                list.expires_at.is_some_and(|at| at <= now)
                    || list.ttl.is_some_and(|ttl| *fetched_at + ttl <= now)
            })
            .map(|(comune, _)| *comune)
            .collect()
    }
}

impl StatusSource for StatusLists {
    fn status<'a>(&'a self, query: &'a StatusQuery) -> StatusFuture<'a> {
        Box::pin(std::future::ready(self.lookup(
            query.comune,
            query.index,
            query.at,
        )))
    }
}

fn int(value: i64) -> Value {
    Value::Integer(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bit_entries_follow_the_drafts_example() {
        // draft-ietf-oauth-status-list, "Status List" example with bits 2.
        let statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        let mut list = StatusList::new(2).expect("bits");
        for (index, &value) in statuses.iter().enumerate() {
            list.set(index as u32, value).expect("fits");
        }
        assert_eq!(list.as_bytes(), &[0xC9, 0x44, 0xF9]);
        for (index, &value) in statuses.iter().enumerate() {
            assert_eq!(list.get(index as u32), Some(value));
        }
        assert_eq!(list.get(12), None, "twelve entries fill three bytes");
        assert_eq!(list.len(), 12);
    }

    #[test]
    fn one_bit_entries_follow_the_drafts_example() {
        let statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        let mut list = StatusList::new(1).expect("bits");
        for (index, &value) in statuses.iter().enumerate() {
            list.set(index as u32, value).expect("fits");
        }
        assert_eq!(list.as_bytes(), &[0xB9, 0xA3]);
    }

    #[test]
    fn values_wider_than_the_entry_and_odd_widths_are_refused() {
        let mut list = StatusList::new(2).expect("bits");
        assert_eq!(
            list.set(0, 4),
            Err(StatusListError::Value { value: 4, bits: 2 })
        );
        assert_eq!(StatusList::new(3), Err(StatusListError::Bits(3)));
        assert!(list.set(u32::MAX, 1).is_err());
    }

    #[test]
    fn setting_an_entry_leaves_its_neighbours_alone() {
        let mut list = StatusList::new(2).expect("bits");
        list.set(5, 3).expect("fits");
        list.set(5, 1).expect("fits");
        list.set(4, 2).expect("fits");
        assert_eq!(
            (list.get(4), list.get(5), list.get(6)),
            (Some(2), Some(1), Some(0))
        );
    }
}
