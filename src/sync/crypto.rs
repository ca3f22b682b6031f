//! End-to-end encryption for sync, so the server learns nothing about what
//! people read: the journal key and the keys derived from it, sealing
//! operations and article texts, keyed blob ids, the key check, the
//! recovery string and the passphrase-wrapped key. `docs/sync-protocol.md` (Encryption) is
//! the format.
//!
//! This module is pure: it never touches the disk, the database or the
//! network, and it never prints key material (not even through `Debug`).
//! What it writes is a wire format that other devices must read for years,
//! so it must never change silently: `tests/fixtures/crypto-v1.json` pins
//! it, and a new format gets a new version byte or prefix instead.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{AeadCore, AeadInPlace, KeyInit, OsRng};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use data_encoding::{DecodeKind, BASE32_NOPAD, HEXLOWER};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The first byte of every sealed payload; it selects the format.
const VERSION: u8 = 0x01;
/// The format this nj writes, for the server's report of what it holds.
pub const FORMAT_VERSION: u8 = VERSION;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The version byte and the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// What sealing adds to a plaintext: the version byte, the nonce and the tag.
pub const SEAL_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

const HKDF_SALT: &[u8] = b"newsjournal";
const OP_AD_TAG: &[u8] = b"nj op v1\0";
const BLOB_AD_TAG: &[u8] = b"nj blob v1\0";
const KEY_CHECK_TAG: &[u8] = b"nj key check v1\0";
const WRAP_AD_TAG: &[u8] = b"nj key v1\0";
const NEWER_TAG: &[u8] = b"nj newer format\0";
/// The proof a payload of a later format carries after its version byte.
const PROOF_LEN: usize = 16;

const RECOVERY_PREFIX: &str = "nj1-";
/// 32 key bytes and a 2-byte checksum, in base32 without padding.
const RECOVERY_CHARS: usize = 55;
const RECOVERY_GROUP: usize = 5;

const WRAPPED_PREFIX: &str = "njw1$";
const PARAMS_LEN: usize = 12;
const SALT_LEN: usize = 16;
/// Parameters, salt, nonce, and the sealed 32-byte key with its tag.
const WRAPPED_LEN: usize = PARAMS_LEN + SALT_LEN + NONCE_LEN + 32 + TAG_LEN;

/// Ids are UUIDs and keyed blob ids, far below the 65535 bytes a length
/// prefix can say; anything longer is a bug in the caller.
const ID_TOO_LONG: &str = "journal, device and blob ids are at most 65535 bytes";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// One error for every way authentication fails, so a caller cannot be
    /// used to tell a wrong key from an altered payload.
    #[error("a synced payload failed authentication: it was altered, or it was sealed with another key; check that every device uses the same journal key")]
    Tampered,

    #[error("a synced payload uses encryption format version {0}, which this nj does not know; update nj")]
    UnknownVersion(u8),

    #[error("this is not a newsjournal key: a key starts with nj1-; `nj key show` prints it")]
    NotARecoveryKey,

    #[error("the key has {found} characters after nj1-, but a key has {RECOVERY_CHARS}; copy it again from `nj key show`")]
    RecoveryLength { found: usize },

    #[error("the key contains {0:?}, which no key contains (keys use the letters a-z and the digits 2-7); copy it again from `nj key show`")]
    RecoveryCharacter(char),

    #[error("the key has a typo (its checksum does not match); copy it again from `nj key show`")]
    RecoveryChecksum,

    #[error("the passphrase is empty; choose a passphrase to protect the journal key")]
    EmptyPassphrase,

    #[error("the passphrase is wrong")]
    WrongPassphrase,

    #[error(
        "the wrapped key is damaged ({0}); set the key up again from its recovery key (nj1-...)"
    )]
    MalformedWrapped(&'static str),

    #[error("the wrapped key asks for Argon2 costs nj refuses ({memory_kib} KiB, {iterations} iterations, {lanes} lanes; the limits are 1 GiB, 100 iterations and 16 lanes), so nj did not make it; set the key up again from its recovery key (nj1-...)")]
    UnsafeParams {
        memory_kib: u32,
        iterations: u32,
        lanes: u32,
    },
}

/// The journal key: 32 random bytes, the root of every other key.
/// Zeroized on drop; `Debug` does not show it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct JournalKey([u8; 32]);

impl fmt::Debug for JournalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JournalKey(..)")
    }
}

impl JournalKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> JournalKey {
        let mut key = JournalKey([0; 32]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    pub fn from_bytes(bytes: [u8; 32]) -> JournalKey {
        JournalKey(bytes)
    }

    /// The key as a person can write down: `nj1-` and 55 base32 characters
    /// in groups of five, the last few of them a checksum.
    pub fn to_recovery(&self) -> String {
        let mut payload = Zeroizing::new([0u8; 34]);
        payload[..32].copy_from_slice(&self.0);
        payload[32..].copy_from_slice(&recovery_checksum(&self.0));
        let mut chars = Zeroizing::new(BASE32_NOPAD.encode(&payload[..]));
        chars.make_ascii_lowercase();

        let mut out = String::with_capacity(
            RECOVERY_PREFIX.len() + RECOVERY_CHARS + RECOVERY_CHARS / RECOVERY_GROUP,
        );
        out.push_str(RECOVERY_PREFIX);
        for (i, c) in chars.chars().enumerate() {
            if i > 0 && i % RECOVERY_GROUP == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// Reads a recovery string as people copy it: in any case, with spaces,
    /// dashes and line breaks anywhere after the prefix.
    pub fn from_recovery(s: &str) -> Result<JournalKey, CryptoError> {
        let s = s.trim();
        // The prefix's dash is optional too: '1' is not a base32 character,
        // so the prefix cannot run into the key. `get` keeps a multi-byte
        // character at the start from panicking.
        let body = match s.get(..3) {
            Some(prefix) if prefix.eq_ignore_ascii_case("nj1") => &s[3..],
            _ => return Err(CryptoError::NotARecoveryKey),
        };

        let mut chars = Zeroizing::new(Vec::with_capacity(RECOVERY_CHARS));
        for c in body.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let upper = c.to_ascii_uppercase();
            if !(upper.is_ascii_uppercase() || ('2'..='7').contains(&upper)) {
                return Err(CryptoError::RecoveryCharacter(c));
            }
            chars.push(upper as u8);
        }
        if chars.len() != RECOVERY_CHARS {
            return Err(CryptoError::RecoveryLength { found: chars.len() });
        }

        let mut payload = Zeroizing::new([0u8; 34]);
        // The characters and the length are checked above, so the only
        // failure left is a last character whose unused low bits are not
        // zero, which a correct key never has: that is a typo too.
        BASE32_NOPAD
            .decode_mut(&chars, &mut payload[..])
            .map_err(|partial| {
                debug_assert_eq!(partial.error.kind, DecodeKind::Trailing);
                CryptoError::RecoveryChecksum
            })?;
        let mut key = JournalKey([0; 32]);
        key.0.copy_from_slice(&payload[..32]);
        if recovery_checksum(&key.0) != payload[32..] {
            return Err(CryptoError::RecoveryChecksum);
        }
        Ok(key)
    }

    /// The keys for each purpose, derived with HKDF-SHA256 so that no two
    /// purposes share a key.
    pub fn sync_keys(&self) -> SyncKeys {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), &self.0);
        let mut keys = SyncKeys {
            ops: [0; 32],
            blobs: [0; 32],
            blob_ids: [0; 32],
            key_check: [0; 32],
            newer: [0; 32],
        };
        for (info, out) in [
            (&b"nj/v1/ops"[..], &mut keys.ops),
            (&b"nj/v1/blobs"[..], &mut keys.blobs),
            (&b"nj/v1/blob-ids"[..], &mut keys.blob_ids),
            (&b"nj/v1/key-check"[..], &mut keys.key_check),
            (&b"nj/v1/newer-format"[..], &mut keys.newer),
        ] {
            hkdf.expand(info, out)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
        }
        keys
    }
}

fn recovery_checksum(key: &[u8; 32]) -> [u8; 2] {
    let digest = Sha256::digest(key);
    [digest[0], digest[1]]
}

/// The keys derived from a journal key, one per purpose. Zeroized on drop;
/// `Debug` does not show them.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SyncKeys {
    ops: [u8; 32],
    blobs: [u8; 32],
    blob_ids: [u8; 32],
    key_check: [u8; 32],
    /// Proves that a payload in a format after this one was written by a
    /// holder of the key (see [`SyncKeys::open_any`]).
    newer: [u8; 32],
}

impl fmt::Debug for SyncKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncKeys(..)")
    }
}

impl SyncKeys {
    /// Seals one operation. The journal, device and sequence number are
    /// authenticated, so the server cannot replay an operation at another
    /// position or in another journal.
    ///
    /// # Panics
    /// If an id is longer than 65535 bytes: ids are UUIDs, so that is a bug.
    pub fn seal_op(&self, journal: &str, device: &str, seq: u64, plaintext: &[u8]) -> Vec<u8> {
        self.seal_op_with_nonce(journal, device, seq, plaintext, &random_nonce())
    }

    /// `seal_op` with a chosen nonce, for test vectors. Never reuse a nonce
    /// under one key: that reveals the plaintexts.
    pub(crate) fn seal_op_with_nonce(
        &self,
        journal: &str,
        device: &str,
        seq: u64,
        plaintext: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Vec<u8> {
        let ad = op_ad(journal, device, seq).expect(ID_TOO_LONG);
        seal(&self.ops, nonce, &ad, plaintext)
    }

    pub fn open_op(
        &self,
        journal: &str,
        device: &str,
        seq: u64,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        // An id too long to have been sealed means the payload was not
        // sealed by nj for this position.
        let ad = op_ad(journal, device, seq).ok_or(CryptoError::Tampered)?;
        self.open_any(&self.ops, &ad, sealed)
    }

    /// Seals an article text stored under `blob_id` (from [`Self::blob_id`]).
    ///
    /// # Panics
    /// If an id is longer than 65535 bytes: ids are UUIDs and keyed blob ids,
    /// so that is a bug.
    pub fn seal_blob(&self, journal: &str, blob_id: &str, plaintext: &[u8]) -> Vec<u8> {
        self.seal_blob_with_nonce(journal, blob_id, plaintext, &random_nonce())
    }

    /// `seal_blob` with a chosen nonce, for test vectors.
    pub(crate) fn seal_blob_with_nonce(
        &self,
        journal: &str,
        blob_id: &str,
        plaintext: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Vec<u8> {
        let ad = blob_ad(journal, blob_id).expect(ID_TOO_LONG);
        seal(&self.blobs, nonce, &ad, plaintext)
    }

    pub fn open_blob(
        &self,
        journal: &str,
        blob_id: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let ad = blob_ad(journal, blob_id).ok_or(CryptoError::Tampered)?;
        self.open_any(&self.blobs, &ad, sealed)
    }

    /// Opens a payload of this format, or tells a later format from junk.
    /// Any token holder can push bytes, and a byte can rot on the server's
    /// disk, so an unknown version byte alone must not stop every device's
    /// pull ("update nj") for good. Every format after version 1 carries,
    /// right after its version byte, a proof that a holder of the journal
    /// key wrote it: the first 16 bytes of HMAC-SHA256 under the
    /// newer-format key of the tag, the version byte, the payload's
    /// associated data (which binds its journal and place) and the rest
    /// of the payload (docs/sync-protocol.md, "Later formats"). Only a
    /// payload whose proof holds is [`CryptoError::UnknownVersion`]; any
    /// other is [`CryptoError::Tampered`], and is skipped.
    fn open_any(&self, key: &[u8; 32], ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match sealed.first() {
            Some(&VERSION) => open(key, ad, sealed),
            Some(&version) if self.newer_proof_holds(version, ad, sealed) => {
                Err(CryptoError::UnknownVersion(version))
            }
            _ => Err(CryptoError::Tampered),
        }
    }

    fn newer_mac(&self, version: u8, ad: &[u8], rest: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.newer)
            .expect("HMAC takes a key of any length");
        for part in [
            NEWER_TAG,
            &[version],
            &(ad.len() as u64).to_be_bytes(),
            ad,
            rest,
        ] {
            mac.update(part);
        }
        mac
    }

    fn newer_proof_holds(&self, version: u8, ad: &[u8], sealed: &[u8]) -> bool {
        let Some(proof) = sealed.get(1..1 + PROOF_LEN) else {
            return false;
        };
        // In constant time, as any MAC check.
        self.newer_mac(version, ad, &sealed[1 + PROOF_LEN..])
            .verify_truncated_left(proof)
            .is_ok()
    }

    /// A payload as a later format would begin it: `version`, the proof,
    /// then `rest`. For tests, and for the nj that writes that format.
    #[doc(hidden)]
    pub fn newer_payload_op(
        &self,
        version: u8,
        journal: &str,
        device: &str,
        seq: u64,
        rest: &[u8],
    ) -> Vec<u8> {
        let ad = op_ad(journal, device, seq).expect(ID_TOO_LONG);
        let mut out = vec![version];
        let proof = self.newer_mac(version, &ad, rest).finalize().into_bytes();
        out.extend_from_slice(&proof[..PROOF_LEN]);
        out.extend_from_slice(rest);
        out
    }

    /// The id a text is stored under on the server. It is keyed, so the
    /// server cannot hash a public article and find who clipped it; it is
    /// deterministic, so devices of one journal store a text once.
    pub fn blob_id(&self, content_hash: &str) -> String {
        let mac = hmac_sha256(&self.blob_ids, &[content_hash.as_bytes()]);
        format!("k1:{}", HEXLOWER.encode(&mac))
    }

    /// A value the server keeps per journal, so that a device with the wrong
    /// key is refused before it pushes anything. It reveals nothing about
    /// the key beyond whether two devices hold the same one.
    pub fn key_check(&self, journal: &str) -> String {
        let mac = hmac_sha256(&self.key_check, &[KEY_CHECK_TAG, journal.as_bytes()]);
        format!("kc1:{}", HEXLOWER.encode(&mac))
    }
}

/// Fresh random bytes to make one payload's nonce from (see
/// `sync::protocol::Sealer`).
pub fn nonce_seed() -> [u8; NONCE_LEN] {
    random_nonce()
}

fn random_nonce() -> [u8; NONCE_LEN] {
    XChaCha20Poly1305::generate_nonce(&mut OsRng).into()
}

fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `None` when an id is too long for its 2-byte length prefix.
fn op_ad(journal: &str, device: &str, seq: u64) -> Option<Vec<u8>> {
    let mut ad = Vec::with_capacity(OP_AD_TAG.len() + 4 + journal.len() + device.len() + 8);
    ad.extend_from_slice(OP_AD_TAG);
    push_field(&mut ad, journal)?;
    push_field(&mut ad, device)?;
    ad.extend_from_slice(&seq.to_be_bytes());
    Some(ad)
}

fn blob_ad(journal: &str, blob_id: &str) -> Option<Vec<u8>> {
    let mut ad = Vec::with_capacity(BLOB_AD_TAG.len() + 4 + journal.len() + blob_id.len());
    ad.extend_from_slice(BLOB_AD_TAG);
    push_field(&mut ad, journal)?;
    push_field(&mut ad, blob_id)?;
    Some(ad)
}

/// Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
fn push_field(ad: &mut Vec<u8>, field: &str) -> Option<()> {
    let len = u16::try_from(field.len()).ok()?;
    ad.extend_from_slice(&len.to_be_bytes());
    ad.extend_from_slice(field.as_bytes());
    Some(())
}

/// The envelope: version byte, nonce, then ciphertext and tag.
fn seal(key: &[u8; 32], nonce: &[u8; NONCE_LEN], ad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(nonce);
    encrypt_onto(&mut out, key, nonce, ad, plaintext);
    out
}

fn open(key: &[u8; 32], ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    // The version comes first: a later format may be laid out differently,
    // and "update nj" is the useful answer then, whatever the length.
    let Some(&version) = sealed.first() else {
        return Err(CryptoError::Tampered);
    };
    if version != VERSION {
        return Err(CryptoError::UnknownVersion(version));
    }
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CryptoError::Tampered);
    }
    let nonce: &[u8; NONCE_LEN] = sealed[1..HEADER_LEN]
        .try_into()
        .expect("the header is checked to be there");
    decrypt(key, nonce, ad, &sealed[HEADER_LEN..]).ok_or(CryptoError::Tampered)
}

/// Appends the XChaCha20-Poly1305 ciphertext of `plaintext` and its tag to
/// `out`, encrypting in place so no second copy of the plaintext is made.
fn encrypt_onto(
    out: &mut Vec<u8>,
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    ad: &[u8],
    plaintext: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = XChaCha20Poly1305::new(Key::from_slice(key))
        .encrypt_in_place_detached(XNonce::from_slice(nonce), ad, &mut out[start..])
        .expect("XChaCha20-Poly1305 seals any plaintext under 256 GiB");
    out.extend_from_slice(&tag);
}

/// The inverse of `encrypt_onto`; `None` when authentication fails.
fn decrypt(key: &[u8; 32], nonce: &[u8; NONCE_LEN], ad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let (ciphertext, tag) = sealed.split_at(sealed.len().checked_sub(TAG_LEN)?);
    let mut plaintext = ciphertext.to_vec();
    XChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt_in_place_detached(
            XNonce::from_slice(nonce),
            ad,
            &mut plaintext,
            Tag::from_slice(tag),
        )
        .ok()?;
    Some(plaintext)
}

/// Argon2id costs, stored in the wrapped key so that it can be unwrapped
/// with the costs it was made with after the defaults change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KdfParams {
    pub(crate) memory_kib: u32,
    pub(crate) iterations: u32,
    pub(crate) lanes: u32,
}

impl KdfParams {
    /// What `wrap_key` uses: OWASP's first recommended Argon2id setting
    /// (64 MiB, 3 passes), one lane because the argon2 crate computes lanes
    /// one after another anyway.
    pub(crate) const DEFAULT: KdfParams = KdfParams {
        memory_kib: 65536,
        iterations: 3,
        lanes: 1,
    };

    // A wrapped key is read from a file anyone may have edited; these bounds
    // keep a crafted one from exhausting memory or running for hours.
    const MAX_MEMORY_KIB: u32 = 1 << 20;
    const MAX_ITERATIONS: u32 = 100;
    const MAX_LANES: u32 = 16;

    fn to_bytes(self) -> [u8; PARAMS_LEN] {
        let mut out = [0; PARAMS_LEN];
        out[0..4].copy_from_slice(&self.memory_kib.to_be_bytes());
        out[4..8].copy_from_slice(&self.iterations.to_be_bytes());
        out[8..12].copy_from_slice(&self.lanes.to_be_bytes());
        out
    }

    fn from_bytes(bytes: &[u8; PARAMS_LEN]) -> KdfParams {
        let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        KdfParams {
            memory_kib: word(0),
            iterations: word(4),
            lanes: word(8),
        }
    }

    /// Argon2's own lower bounds (at least 8 KiB per lane, one pass, one
    /// lane) and nj's upper ones.
    fn checked(self) -> Result<Params, CryptoError> {
        let unsafe_params = CryptoError::UnsafeParams {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            lanes: self.lanes,
        };
        let in_bounds = (1..=Self::MAX_LANES).contains(&self.lanes)
            && (1..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && (8 * self.lanes..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib);
        if !in_bounds {
            return Err(unsafe_params);
        }
        Params::new(self.memory_kib, self.iterations, self.lanes, None).map_err(|_| unsafe_params)
    }
}

/// The key wrapped under a passphrase, as one printable string to store:
/// `njw1$` and base64url. Refuses an empty passphrase.
pub fn wrap_key(key: &JournalKey, passphrase: &str) -> Result<String, CryptoError> {
    let mut salt = [0; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    wrap_key_with(key, passphrase, KdfParams::DEFAULT, &salt, &random_nonce())
}

/// `wrap_key` with chosen costs, salt and nonce, for tests and test vectors.
pub(crate) fn wrap_key_with(
    key: &JournalKey,
    passphrase: &str,
    params: KdfParams,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<String, CryptoError> {
    if passphrase.is_empty() {
        return Err(CryptoError::EmptyPassphrase);
    }
    let header = params.to_bytes();
    let wrapping_key = stretch(passphrase, params, salt)?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    encrypt_onto(&mut out, &wrapping_key, nonce, &wrap_ad(&header), &key.0);
    Ok(format!("{WRAPPED_PREFIX}{}", URL_SAFE_NO_PAD.encode(&out)))
}

/// Unwraps a key made by `wrap_key`. A wrong passphrase and an altered
/// string are the same error: the passphrase is the likely cause.
pub fn unwrap_key(wrapped: &str, passphrase: &str) -> Result<JournalKey, CryptoError> {
    let parsed = WrappedKey::parse(wrapped)?;
    let wrapping_key = stretch(passphrase, parsed.params, &parsed.salt)?;
    let bytes = Zeroizing::new(
        decrypt(
            &wrapping_key,
            &parsed.nonce,
            &wrap_ad(&parsed.params.to_bytes()),
            &parsed.sealed,
        )
        .ok_or(CryptoError::WrongPassphrase)?,
    );
    let mut key = JournalKey([0; 32]);
    key.0.copy_from_slice(&bytes);
    Ok(key)
}

/// Whether `s` looks like a wrapped key rather than a recovery string.
pub fn is_wrapped(s: &str) -> bool {
    s.trim_start().starts_with(WRAPPED_PREFIX)
}

/// A wrapped key's fields, read without running Argon2. The costs are not
/// checked yet: `stretch` checks them before it runs.
struct WrappedKey {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    sealed: [u8; 32 + TAG_LEN],
}

impl WrappedKey {
    fn parse(s: &str) -> Result<WrappedKey, CryptoError> {
        let encoded =
            s.trim()
                .strip_prefix(WRAPPED_PREFIX)
                .ok_or(CryptoError::MalformedWrapped(
                    "it does not start with njw1$",
                ))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CryptoError::MalformedWrapped("it is not base64url"))?;
        if bytes.len() != WRAPPED_LEN {
            return Err(CryptoError::MalformedWrapped("it has the wrong length"));
        }
        let (params, rest) = bytes.split_at(PARAMS_LEN);
        let (salt, rest) = rest.split_at(SALT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        Ok(WrappedKey {
            params: KdfParams::from_bytes(params.try_into().expect("split at PARAMS_LEN")),
            salt: salt.try_into().expect("split at SALT_LEN"),
            nonce: nonce.try_into().expect("split at NONCE_LEN"),
            sealed: sealed.try_into().expect("the length is checked"),
        })
    }
}

/// The associated data binds the costs, so they cannot be lowered unnoticed.
fn wrap_ad(header: &[u8; PARAMS_LEN]) -> Vec<u8> {
    [WRAP_AD_TAG, &header[..]].concat()
}

/// Argon2id (version 0x13) of the passphrase: the key that wraps the
/// journal key.
fn stretch(
    passphrase: &str,
    params: KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.checked()?);
    let mut out = Zeroizing::new([0; 32]);
    argon2
        .hash_password_into(passphrase.as_bytes(), salt, &mut out[..])
        .expect("the costs are checked, the salt and output lengths are fixed, and no passphrase reaches 4 GiB");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const JOURNAL: &str = "5a0c6a8e-3f4b-4e0a-9a51-1f2f0f6a7b10";
    const DEVICE: &str = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b";
    const HASH: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    /// Fast costs for tests; the defaults are checked once, in `wrap_key_writes_the_default_costs`.
    const FAST: KdfParams = KdfParams {
        memory_kib: 8192,
        iterations: 1,
        lanes: 1,
    };

    fn key(fill: u8) -> JournalKey {
        JournalKey::from_bytes([fill; 32])
    }

    fn flip(bytes: &[u8], index: usize, bit: u8) -> Vec<u8> {
        let mut out = bytes.to_vec();
        out[index] ^= 1 << bit;
        out
    }

    fn unhex(s: &str) -> Vec<u8> {
        HEXLOWER.decode(s.as_bytes()).expect("hex in the fixture")
    }

    #[test]
    fn op_round_trips_with_41_bytes_of_overhead() {
        let keys = key(1).sync_keys();
        let sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"set title");
        assert_eq!(sealed.len(), b"set title".len() + 41);
        assert_eq!(sealed[0], 0x01);
        assert_eq!(
            keys.open_op(JOURNAL, DEVICE, 7, &sealed).unwrap(),
            b"set title"
        );
    }

    #[test]
    fn blob_round_trips() {
        let keys = key(1).sync_keys();
        let id = keys.blob_id(HASH);
        let sealed = keys.seal_blob(JOURNAL, &id, b"the article text");
        assert_eq!(sealed.len(), b"the article text".len() + 41);
        assert_eq!(
            keys.open_blob(JOURNAL, &id, &sealed).unwrap(),
            b"the article text"
        );
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let keys = key(1).sync_keys();
        let a = keys.seal_op(JOURNAL, DEVICE, 1, b"same");
        let b = keys.seal_op(JOURNAL, DEVICE, 1, b"same");
        assert_ne!(a[1..25], b[1..25]);
        assert_ne!(a, b);
        let c = keys.seal_blob(JOURNAL, "k1:ab", b"same");
        let d = keys.seal_blob(JOURNAL, "k1:ab", b"same");
        assert_ne!(c, d);
    }

    #[test]
    fn a_flipped_byte_in_any_part_fails() {
        let keys = key(1).sync_keys();
        let sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"set title");
        let last = sealed.len() - 1;
        // Nonce (first, last), ciphertext (first, last), tag (first, last).
        for index in [1, 24, 25, last - 16, last - 15, last] {
            let err = keys
                .open_op(JOURNAL, DEVICE, 7, &flip(&sealed, index, 0))
                .unwrap_err();
            assert!(
                matches!(err, CryptoError::Tampered),
                "byte {index}: {err:?}"
            );
        }
        // A changed version byte names a format this nj does not know,
        // but without the later formats' proof it is only damage.
        let err = keys
            .open_op(JOURNAL, DEVICE, 7, &flip(&sealed, 0, 1))
            .unwrap_err();
        assert!(matches!(err, CryptoError::Tampered), "{err:?}");
    }

    #[test]
    fn an_op_opened_at_another_position_or_key_fails() {
        let keys = key(1).sync_keys();
        let sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"set title");
        let other_journal = "5a0c6a8e-3f4b-4e0a-9a51-1f2f0f6a7b11";
        let other_device = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1c";
        let attempts = [
            keys.open_op(JOURNAL, DEVICE, 8, &sealed),
            keys.open_op(JOURNAL, DEVICE, 7 + (1 << 32), &sealed),
            keys.open_op(JOURNAL, other_device, 7, &sealed),
            keys.open_op(other_journal, DEVICE, 7, &sealed),
            // The length prefixes keep the boundary between ids in the data.
            keys.open_op(&JOURNAL[..35], &format!("b{DEVICE}"), 7, &sealed),
            key(2).sync_keys().open_op(JOURNAL, DEVICE, 7, &sealed),
            keys.open_blob(JOURNAL, DEVICE, &sealed),
        ];
        for (i, attempt) in attempts.into_iter().enumerate() {
            assert!(
                matches!(attempt, Err(CryptoError::Tampered)),
                "attempt {i}: {attempt:?}"
            );
        }
    }

    #[test]
    fn a_blob_opened_under_another_id_journal_or_key_fails() {
        let keys = key(1).sync_keys();
        let id = keys.blob_id(HASH);
        let sealed = keys.seal_blob(JOURNAL, &id, b"text");
        let other_id = keys.blob_id("sha256:00");
        let attempts = [
            keys.open_blob(JOURNAL, &other_id, &sealed),
            keys.open_blob("another journal", &id, &sealed),
            key(2).sync_keys().open_blob(JOURNAL, &id, &sealed),
            keys.open_op(JOURNAL, &id, 0, &sealed),
        ];
        for (i, attempt) in attempts.into_iter().enumerate() {
            assert!(
                matches!(attempt, Err(CryptoError::Tampered)),
                "attempt {i}: {attempt:?}"
            );
        }
    }

    #[test]
    fn swapped_payloads_fail() {
        let keys = key(1).sync_keys();
        let first = keys.seal_op(JOURNAL, DEVICE, 1, b"create article");
        let second = keys.seal_op(JOURNAL, DEVICE, 2, b"set title");
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 1, &second),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 2, &first),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn every_truncation_fails_without_panicking() {
        let keys = key(1).sync_keys();
        let sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"set title");
        let blob = keys.seal_blob(JOURNAL, "k1:ab", b"");
        assert_eq!(blob.len(), SEAL_OVERHEAD);
        for len in 0..sealed.len() {
            let op = keys.open_op(JOURNAL, DEVICE, 7, &sealed[..len]);
            assert!(
                matches!(op, Err(CryptoError::Tampered)),
                "length {len}: {op:?}"
            );
        }
        for len in 0..=SEAL_OVERHEAD {
            let result = keys.open_blob(JOURNAL, "k1:ab", &blob[..len]);
            if len == SEAL_OVERHEAD {
                assert_eq!(result.unwrap(), b"");
            } else {
                assert!(matches!(result, Err(CryptoError::Tampered)), "length {len}");
            }
        }
    }

    #[test]
    fn a_later_format_with_its_proof_says_to_update() {
        let keys = key(1).sync_keys();
        let newer = keys.newer_payload_op(2, JOURNAL, DEVICE, 7, b"whatever format 2 holds");
        let err = keys.open_op(JOURNAL, DEVICE, 7, &newer).unwrap_err();
        assert!(matches!(err, CryptoError::UnknownVersion(2)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "a synced payload uses encryption format version 2, which this nj does not know; update nj"
        );
        // Even one with nothing after its proof.
        let bare = keys.newer_payload_op(9, JOURNAL, DEVICE, 7, b"");
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 7, &bare),
            Err(CryptoError::UnknownVersion(9))
        ));
    }

    /// Issue 17, item 2: any token holder could push a payload whose first
    /// byte was not a known version, and every device's pull stopped on it
    /// for good ("update nj").
    #[test]
    fn regression_an_unknown_version_byte_alone_stops_every_pull() {
        let keys = key(1).sync_keys();
        let mut sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"set title");
        sealed[0] = 0x02;
        for junk in [&sealed[..], &[0x00], &[0x07, 1, 2], &[]] {
            assert!(
                matches!(
                    keys.open_op(JOURNAL, DEVICE, 7, junk),
                    Err(CryptoError::Tampered)
                ),
                "{junk:?}"
            );
        }
        // A later format's proof is bound to its key, place and bytes.
        let newer = keys.newer_payload_op(2, JOURNAL, DEVICE, 7, b"format 2");
        let other_key = key(2).sync_keys();
        assert!(matches!(
            other_key.open_op(JOURNAL, DEVICE, 7, &newer),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 8, &newer),
            Err(CryptoError::Tampered)
        ));
        let mut changed = newer.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 7, &changed),
            Err(CryptoError::Tampered)
        ));
        let mut other_version = newer;
        other_version[0] = 3;
        assert!(matches!(
            keys.open_op(JOURNAL, DEVICE, 7, &other_version),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn an_overlong_id_fails_to_open_without_panicking() {
        let keys = key(1).sync_keys();
        let sealed = keys.seal_op(JOURNAL, DEVICE, 7, b"x");
        let long = "d".repeat(70_000);
        assert!(matches!(
            keys.open_op(JOURNAL, &long, 7, &sealed),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            keys.open_blob(&long, "k1:ab", &sealed),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn blob_ids_are_keyed_and_hide_the_hash() {
        let keys = key(1).sync_keys();
        let id = keys.blob_id(HASH);
        assert_eq!(id, keys.blob_id(HASH));
        assert_eq!(id, key(1).sync_keys().blob_id(HASH));
        assert_ne!(id, key(2).sync_keys().blob_id(HASH));
        assert_ne!(id, keys.blob_id("sha256:0000"));
        assert!(id.starts_with("k1:"));
        assert_eq!(id.len(), 3 + 64);
        assert!(id[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let hash_hex = HASH.strip_prefix("sha256:").unwrap();
        assert!(!id.contains(hash_hex));
        assert!(!id.contains(&hash_hex[..16]));
    }

    #[test]
    fn key_checks_differ_by_key_and_journal() {
        let keys = key(1).sync_keys();
        let check = keys.key_check(JOURNAL);
        assert!(check.starts_with("kc1:"));
        assert_eq!(check.len(), 4 + 64);
        assert_eq!(check, key(1).sync_keys().key_check(JOURNAL));
        assert_ne!(check, key(2).sync_keys().key_check(JOURNAL));
        assert_ne!(check, keys.key_check("another journal"));
    }

    #[test]
    fn the_derived_keys_all_differ() {
        let keys = key(1).sync_keys();
        let all = [keys.ops, keys.blobs, keys.blob_ids, keys.key_check];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j]);
            }
        }
        assert_ne!(keys.ops, key(2).sync_keys().ops);
    }

    #[test]
    fn debug_does_not_show_key_bytes() {
        let k = JournalKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{k:?}"), "JournalKey(..)");
        assert_eq!(format!("{:?}", k.sync_keys()), "SyncKeys(..)");
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(JournalKey::generate().0, JournalKey::generate().0);
    }

    #[test]
    fn recovery_strings_round_trip_as_people_copy_them() {
        let k = JournalKey::generate();
        let recovery = k.to_recovery();
        assert!(recovery.starts_with("nj1-"));
        let groups: Vec<&str> = recovery[4..].split('-').collect();
        assert_eq!(groups.len(), 11);
        assert!(groups.iter().all(|g| g.len() == 5));
        assert!(recovery[4..]
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));

        let copies = [
            recovery.clone(),
            recovery.to_uppercase(),
            format!("  {}\n", recovery.replace('-', " ")),
            recovery.replacen("nj1-", "NJ1", 1).replace('-', ""),
            recovery.replace('-', "\n"),
            recovery.replace('-', "\r\n-\t"),
        ];
        for copy in copies {
            let back = JournalKey::from_recovery(&copy).unwrap_or_else(|e| panic!("{copy:?}: {e}"));
            assert_eq!(back.0, k.0, "{copy:?}");
        }
    }

    #[test]
    fn a_one_character_typo_anywhere_is_caught() {
        let recovery = key(0x5c).to_recovery();
        let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
        let positions: Vec<usize> = (4..recovery.len())
            .filter(|&i| recovery.as_bytes()[i] != b'-')
            .collect();
        assert_eq!(positions.len(), 55);
        for i in positions {
            let mut typo = recovery.clone().into_bytes();
            let at = alphabet.iter().position(|&c| c == typo[i]).unwrap();
            typo[i] = alphabet[(at + 1) % 32];
            let typo = String::from_utf8(typo).unwrap();
            let err = JournalKey::from_recovery(&typo).unwrap_err();
            assert!(
                matches!(err, CryptoError::RecoveryChecksum),
                "position {i}: {err:?}"
            );
        }
        assert_eq!(
            CryptoError::RecoveryChecksum.to_string(),
            "the key has a typo (its checksum does not match); copy it again from `nj key show`"
        );
    }

    #[test]
    fn a_bad_prefix_length_or_character_is_named() {
        let recovery = key(7).to_recovery();
        for input in [
            "",
            "nj",
            "nj2-aaaaa",
            "é",
            "njé",
            "abcde-fghij",
            &recovery[4..],
            &recovery.replacen("nj1", "nj2", 1),
        ] {
            let err = JournalKey::from_recovery(input).unwrap_err();
            assert!(
                matches!(err, CryptoError::NotARecoveryKey),
                "{input:?}: {err:?}"
            );
        }
        let wrapped = wrap_key_with(&key(7), "pass", FAST, &[0; 16], &[0; 24]).unwrap();
        assert!(matches!(
            JournalKey::from_recovery(&wrapped),
            Err(CryptoError::NotARecoveryKey)
        ));
        assert_eq!(
            CryptoError::NotARecoveryKey.to_string(),
            "this is not a newsjournal key: a key starts with nj1-; `nj key show` prints it"
        );

        let short = &recovery[..recovery.len() - 1];
        assert!(matches!(
            JournalKey::from_recovery(short),
            Err(CryptoError::RecoveryLength { found: 54 })
        ));
        let long = format!("{recovery}a");
        assert!(matches!(
            JournalKey::from_recovery(&long),
            Err(CryptoError::RecoveryLength { found: 56 })
        ));
        assert!(matches!(
            JournalKey::from_recovery("nj1-"),
            Err(CryptoError::RecoveryLength { found: 0 })
        ));

        for bad in ['0', '1', '8', '9', 'é', '!'] {
            let mut input: Vec<char> = recovery.chars().collect();
            input[10] = bad;
            let input: String = input.into_iter().collect();
            let err = JournalKey::from_recovery(&input).unwrap_err();
            assert!(
                matches!(err, CryptoError::RecoveryCharacter(c) if c == bad),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn wrapped_keys_round_trip_and_refuse_a_wrong_passphrase() {
        let k = key(9);
        let wrapped = wrap_key_with(&k, "correct horse", FAST, &[1; 16], &[2; 24]).unwrap();
        assert!(wrapped.starts_with("njw1$"));
        assert_eq!(wrapped.len(), 5 + 134);
        assert!(is_wrapped(&wrapped));
        assert!(!is_wrapped(&k.to_recovery()));
        assert_eq!(unwrap_key(&wrapped, "correct horse").unwrap().0, k.0);
        assert_eq!(
            unwrap_key(&format!(" {wrapped}\n"), "correct horse")
                .unwrap()
                .0,
            k.0
        );

        let err = unwrap_key(&wrapped, "correct horsf").unwrap_err();
        assert!(matches!(err, CryptoError::WrongPassphrase), "{err:?}");
        assert_eq!(err.to_string(), "the passphrase is wrong");
        let err = wrap_key_with(&k, "", FAST, &[1; 16], &[2; 24]).unwrap_err();
        assert!(matches!(err, CryptoError::EmptyPassphrase), "{err:?}");
        assert!(matches!(
            wrap_key(&k, ""),
            Err(CryptoError::EmptyPassphrase)
        ));
    }

    /// Re-encodes a wrapped key with one byte changed.
    fn alter_wrapped(wrapped: &str, index: usize, value: u8) -> String {
        let mut bytes = URL_SAFE_NO_PAD.decode(&wrapped[5..]).unwrap();
        bytes[index] = value;
        format!("njw1${}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Re-encodes a wrapped key cut or padded to `len` bytes.
    fn resize_wrapped(wrapped: &str, len: usize) -> String {
        let mut bytes = URL_SAFE_NO_PAD.decode(&wrapped[5..]).unwrap();
        bytes.resize(len, 0);
        format!("njw1${}", URL_SAFE_NO_PAD.encode(bytes))
    }

    #[test]
    fn an_altered_wrapped_key_fails() {
        let k = key(9);
        let wrapped = wrap_key_with(&k, "pass", FAST, &[1; 16], &[2; 24]).unwrap();
        // Salt, nonce, ciphertext, tag.
        for index in [12, 28, 52, 99] {
            let altered = alter_wrapped(&wrapped, index, 0xee);
            let err = unwrap_key(&altered, "pass").unwrap_err();
            assert!(
                matches!(err, CryptoError::WrongPassphrase),
                "byte {index}: {err:?}"
            );
        }
        // Less memory: 4096 KiB instead of 8192.
        let cheaper = alter_wrapped(&wrapped, 2, 0x10);
        assert!(matches!(
            unwrap_key(&cheaper, "pass"),
            Err(CryptoError::WrongPassphrase)
        ));
    }

    #[test]
    fn crafted_costs_are_refused_before_argon2_runs() {
        let wrapped = wrap_key_with(&key(9), "pass", FAST, &[1; 16], &[2; 24]).unwrap();
        let crafted = [
            (1, 0x10, 0x0010_2000), // 1 GiB + 8 MiB
            (0, 0xff, 0xff00_2000),
            (7, 101, 8192), // iterations 101
            (7, 0, 8192),   // iterations 0
            (11, 0, 8192),  // no lanes
            (11, 17, 8192), // 17 lanes
        ];
        for (index, value, memory_kib) in crafted {
            let altered = alter_wrapped(&wrapped, index, value);
            let err = unwrap_key(&altered, "pass").unwrap_err();
            match err {
                CryptoError::UnsafeParams { memory_kib: m, .. } => {
                    assert_eq!(m, memory_kib, "{err}")
                }
                other => panic!("byte {index} = {value}: {other:?}"),
            }
        }
        let too_little_memory = alter_wrapped(&alter_wrapped(&wrapped, 2, 0), 3, 7);
        assert!(matches!(
            unwrap_key(&too_little_memory, "pass"),
            Err(CryptoError::UnsafeParams { memory_kib: 7, .. })
        ));
        assert!(matches!(
            wrap_key_with(
                &key(9),
                "pass",
                KdfParams {
                    memory_kib: 2 << 20,
                    iterations: 1,
                    lanes: 1
                },
                &[1; 16],
                &[2; 24]
            ),
            Err(CryptoError::UnsafeParams { .. })
        ));
    }

    #[test]
    fn a_malformed_wrapped_key_is_named() {
        let wrapped = wrap_key_with(&key(9), "pass", FAST, &[1; 16], &[2; 24]).unwrap();
        let cases = [
            (
                wrapped.replacen("njw1$", "njw2$", 1),
                "it does not start with njw1$",
            ),
            (
                format!("{}*{}", &wrapped[..10], &wrapped[11..]),
                "it is not base64url",
            ),
            (format!("{wrapped}="), "it is not base64url"),
            (resize_wrapped(&wrapped, 99), "it has the wrong length"),
            (resize_wrapped(&wrapped, 101), "it has the wrong length"),
            ("njw1$".to_string(), "it has the wrong length"),
        ];
        for (input, reason) in cases {
            match unwrap_key(&input, "pass") {
                Err(CryptoError::MalformedWrapped(r)) => assert_eq!(r, reason, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn wrap_key_writes_the_default_costs() {
        let k = key(9);
        let wrapped = wrap_key(&k, "pass").unwrap();
        let parsed = WrappedKey::parse(&wrapped).unwrap();
        assert_eq!(
            parsed.params,
            KdfParams {
                memory_kib: 65536,
                iterations: 3,
                lanes: 1
            }
        );
        assert_eq!(
            &URL_SAFE_NO_PAD.decode(&wrapped[5..]).unwrap()[..12],
            &[0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1]
        );
        assert_ne!(parsed.salt, [0; 16]);
        assert_eq!(unwrap_key(&wrapped, "pass").unwrap().0, k.0);
    }

    /// The format's anchor. The fixture was written once, independently of
    /// this code, from `docs/sync-protocol.md` (Encryption); it must never be regenerated. If
    /// this test fails, the code no longer reads or writes format v1: fix
    /// the code, or make a new version and a new fixture.
    #[test]
    fn the_frozen_v1_vector_still_holds() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/crypto-v1.json")).unwrap();
        let s = |path: &str| {
            v.pointer(path)
                .and_then(|x| x.as_str())
                .unwrap_or_else(|| panic!("{path}"))
                .to_string()
        };

        let key_bytes: [u8; 32] = unhex(&s("/key")).try_into().unwrap();
        let k = JournalKey::from_bytes(key_bytes);
        assert_eq!(k.to_recovery(), s("/recovery"));
        assert_eq!(
            JournalKey::from_recovery(&s("/recovery")).unwrap().0,
            key_bytes
        );

        let keys = k.sync_keys();
        assert_eq!(HEXLOWER.encode(&keys.ops), s("/derived/ops"));
        assert_eq!(HEXLOWER.encode(&keys.blobs), s("/derived/blobs"));
        assert_eq!(HEXLOWER.encode(&keys.blob_ids), s("/derived/blob_ids"));
        assert_eq!(HEXLOWER.encode(&keys.key_check), s("/derived/key_check"));
        assert_eq!(keys.blob_id(&s("/blob_id/content_hash")), s("/blob_id/id"));
        assert_eq!(
            keys.key_check(&s("/key_check/journal")),
            s("/key_check/value")
        );

        let seq = v.pointer("/op/seq").and_then(|x| x.as_u64()).unwrap();
        let (journal, device) = (s("/op/journal"), s("/op/device"));
        let op_nonce: [u8; 24] = unhex(&s("/op/nonce")).try_into().unwrap();
        let op_sealed = unhex(&s("/op/sealed"));
        assert_eq!(
            keys.open_op(&journal, &device, seq, &op_sealed).unwrap(),
            s("/op/plaintext").as_bytes()
        );
        assert_eq!(
            keys.seal_op_with_nonce(
                &journal,
                &device,
                seq,
                s("/op/plaintext").as_bytes(),
                &op_nonce
            ),
            op_sealed
        );

        let (journal, blob_id) = (s("/blob/journal"), s("/blob/blob_id"));
        let blob_nonce: [u8; 24] = unhex(&s("/blob/nonce")).try_into().unwrap();
        let blob_sealed = unhex(&s("/blob/sealed"));
        assert_eq!(
            keys.open_blob(&journal, &blob_id, &blob_sealed).unwrap(),
            s("/blob/plaintext").as_bytes()
        );
        assert_eq!(
            keys.seal_blob_with_nonce(
                &journal,
                &blob_id,
                s("/blob/plaintext").as_bytes(),
                &blob_nonce
            ),
            blob_sealed
        );

        let params = KdfParams {
            memory_kib: v
                .pointer("/wrapped/memory_kib")
                .and_then(|x| x.as_u64())
                .unwrap() as u32,
            iterations: v
                .pointer("/wrapped/iterations")
                .and_then(|x| x.as_u64())
                .unwrap() as u32,
            lanes: v
                .pointer("/wrapped/lanes")
                .and_then(|x| x.as_u64())
                .unwrap() as u32,
        };
        let salt: [u8; 16] = unhex(&s("/wrapped/salt")).try_into().unwrap();
        let nonce: [u8; 24] = unhex(&s("/wrapped/nonce")).try_into().unwrap();
        let passphrase = s("/wrapped/passphrase");
        assert_eq!(
            unwrap_key(&s("/wrapped/value"), &passphrase).unwrap().0,
            key_bytes
        );
        assert_eq!(
            wrap_key_with(&k, &passphrase, params, &salt, &nonce).unwrap(),
            s("/wrapped/value")
        );
    }

    proptest! {
        #[test]
        fn sealed_ops_round_trip_and_any_bit_flip_fails(
            plaintext in proptest::collection::vec(any::<u8>(), 0..300),
            device in "\\PC{0,40}",
            seq in any::<u64>(),
            flip_at in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let keys = key(3).sync_keys();
            let sealed = keys.seal_op(JOURNAL, &device, seq, &plaintext);
            prop_assert_eq!(sealed.len(), plaintext.len() + SEAL_OVERHEAD);
            prop_assert_eq!(&keys.open_op(JOURNAL, &device, seq, &sealed).unwrap(), &plaintext);
            let flipped = flip(&sealed, flip_at.index(sealed.len()), bit);
            prop_assert!(keys.open_op(JOURNAL, &device, seq, &flipped).is_err());
        }
    }
}
