//! The journal key, which seals everything sync sends (`sync::crypto`).
//! It lives in the journal's meta table as its recovery string, or, once
//! the user sets a passphrase, only wrapped under it.

use super::tx::{meta_get, meta_set};
use super::Journal;
use crate::error::{Error, Result};
use crate::sync::crypto::{self, CryptoError, JournalKey};
use crate::time::Timestamp;

const META: &str = "sync_key";

/// How the key is kept.
pub enum StoredKey {
    /// No key yet: this journal has never synced.
    Missing,
    Plain(JournalKey),
    /// Wrapped under a passphrase; [`Journal::unlock_key`] opens it.
    Wrapped(String),
}

fn key_error(e: CryptoError) -> Error {
    match e {
        CryptoError::WrongPassphrase => Error::BadInput(
            "the passphrase is wrong; try again (NJ_PASSPHRASE gives it to scripts)".into(),
        ),
        other => Error::BadInput(other.to_string()),
    }
}

/// Reads a key as a user gives it: its recovery string.
pub fn parse_key(s: &str) -> Result<JournalKey> {
    JournalKey::from_recovery(s).map_err(key_error)
}

impl Journal {
    pub fn stored_key(&self) -> Result<StoredKey> {
        Ok(match meta_get(self.conn(), META)? {
            None => StoredKey::Missing,
            Some(s) if crypto::is_wrapped(&s) => StoredKey::Wrapped(s),
            Some(s) => StoredKey::Plain(JournalKey::from_recovery(&s).map_err(|e| {
                Error::BadInput(format!(
                    "the journal's stored key is damaged ({e}); bring it back with `nj key import KEY`"
                ))
            })?),
        })
    }

    /// Whether the stored key is wrapped under a passphrase, without
    /// reading it (it may be damaged, or its passphrase forgotten).
    pub fn key_is_wrapped(&self) -> Result<bool> {
        Ok(meta_get(self.conn(), META)?.is_some_and(|s| crypto::is_wrapped(&s)))
    }

    /// Stores `key` in place of any other, wrapped under `passphrase` if
    /// one is given.
    pub fn store_key(
        &mut self,
        now: Timestamp,
        key: &JournalKey,
        passphrase: Option<&str>,
    ) -> Result<()> {
        let stored = match passphrase {
            Some(p) => crypto::wrap_key(key, p).map_err(key_error)?,
            None => key.to_recovery(),
        };
        // The key it replaces must not stay readable in the file's free
        // space or the write-ahead log: overwrite freed bytes, then fold
        // the log into the file and empty it.
        self.conn().pragma_update(None, "secure_delete", true)?;
        let written = self.write(now, |tx| meta_set(tx.conn(), META, &stored));
        self.conn().pragma_update(None, "secure_delete", false)?;
        written?;
        // Another nj reading the journal can hold the log open; the
        // checkpoint waits for it (the busy timeout), then says what to do
        // rather than claim the old key is gone.
        let busy: i64 = self
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        Err(Error::BadInput(
            "the key is stored, but another nj process still holds the journal's log, where the old key may linger; close other nj processes and run this command again".into(),
        ))
    }

    /// The key, asking `passphrase` for the passphrase only if the key is
    /// wrapped. `None` if there is no key yet.
    pub fn unlock_key(
        &self,
        passphrase: impl FnOnce() -> Result<String>,
    ) -> Result<Option<JournalKey>> {
        match self.stored_key()? {
            StoredKey::Missing => Ok(None),
            StoredKey::Plain(k) => Ok(Some(k)),
            StoredKey::Wrapped(w) => crypto::unwrap_key(&w, &passphrase()?)
                .map(Some)
                .map_err(key_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_kept_plain_or_wrapped_and_comes_back_the_same() {
        let mut j = Journal::open_in_memory().unwrap();
        assert!(matches!(j.stored_key().unwrap(), StoredKey::Missing));
        let key = JournalKey::generate();
        j.store_key(Timestamp(1), &key, None).unwrap();
        let back = j
            .unlock_key(|| panic!("no passphrase needed"))
            .unwrap()
            .unwrap();
        assert_eq!(back.to_recovery(), key.to_recovery());

        j.store_key(Timestamp(2), &key, Some("correct horse"))
            .unwrap();
        let stored = j.meta(META).unwrap().unwrap();
        assert!(crypto::is_wrapped(&stored));
        assert!(!stored.contains(&key.to_recovery()));
        let back = j
            .unlock_key(|| Ok("correct horse".into()))
            .unwrap()
            .unwrap();
        assert_eq!(back.to_recovery(), key.to_recovery());
        let wrong = j.unlock_key(|| Ok("wrong".into())).err().unwrap();
        assert!(wrong.to_string().contains("passphrase is wrong"), "{wrong}");
    }

    #[test]
    fn a_mistyped_key_is_refused_with_a_reason() {
        let err = parse_key("nj1-not-a-key").err().unwrap().to_string();
        assert!(!err.is_empty());
        assert!(parse_key("hello").is_err());
    }
}
