//! Text normalisation and content hashes.
//!
//! Every stored text is normalised first and hashed after, so the same words
//! give the same hash whatever line endings, Unicode composition or stray
//! whitespace they arrived with. The rules are part of the public format
//! (the README defines them and `nj show --text | sha256sum` must reproduce
//! a stored hash): changing them changes every hash, so don't.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// The prefix of every content hash, naming the algorithm.
pub const HASH_PREFIX: &str = "sha256:";

/// The hash of the empty text: the current text of an article imported
/// without one (a bookmark) until its text is fetched. schema.sql stores
/// this text in every journal.
pub const EMPTY_HASH: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Normalises text for storage and hashing:
///
/// 1. CRLF and lone CR become LF;
/// 2. Unicode NFC;
/// 3. trailing whitespace is removed from every line;
/// 4. runs of blank lines collapse to one blank line;
/// 5. leading and trailing blank lines are dropped;
/// 6. the result ends with exactly one LF (or is empty).
pub fn normalize(text: &str) -> String {
    // Most texts have no carriage return, which one memchr tells, where
    // `replace` runs a substring search over the whole text.
    let unix: Cow<'_, str> = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let nfc: String = unix.nfc().collect();
    let mut out = String::with_capacity(nfc.len() + 1);
    let mut pending_blank = false;
    for line in nfc.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            // Only remember the blank; it is written before the next text
            // line, so leading and trailing blanks never appear.
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push('\n');
            pending_blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Whether `text` is already what [`normalize`] makes of it, checked
/// without building a copy: most texts an import brings were normalised
/// when they were clipped, and checking is several times cheaper than
/// normalising again. `true` means `normalize(text) == text`.
pub fn is_normalized(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let Some(body) = text.strip_suffix('\n') else {
        return false;
    };
    if body.contains('\r')
        || unicode_normalization::is_nfc_quick(body.chars())
            != unicode_normalization::IsNormalized::Yes
    {
        return false;
    }
    // No leading, trailing or doubled blank line, and no trailing
    // whitespace on any line.
    let mut blank = true;
    for line in body.split('\n') {
        if line.is_empty() {
            if blank {
                return false;
            }
            blank = true;
        } else if line.ends_with(char::is_whitespace) {
            return false;
        } else {
            blank = false;
        }
    }
    !blank
}

/// `sha256:` + 64 lower-case hex digits of the SHA-256 of `normalized`.
/// The caller passes text that went through [`normalize`].
pub fn hash_normalized(normalized: &str) -> String {
    let mut s = String::with_capacity(HASH_PREFIX.len() + 64);
    s.push_str(HASH_PREFIX);
    s.push_str(&sha256_hex(normalized.as_bytes()));
    s
}

/// The SHA-256 of `bytes` as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Words as a reader counts them: runs of non-whitespace (as
/// `split_whitespace` finds them). It reads bytes and decodes only non-ASCII
/// characters, which makes a first sync's thousands of texts cheap to count.
pub fn word_count(text: &str) -> i64 {
    let bytes = text.as_bytes();
    let (mut count, mut in_word, mut i) = (0, false, 0);
    while i < bytes.len() {
        let (space, len) = match bytes[i] {
            // The ASCII characters `char::is_whitespace` accepts.
            b @ 0..=0x7f => (matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'), 1),
            _ => {
                let c = text[i..].chars().next().expect("i is on a char boundary");
                (c.is_whitespace(), c.len_utf8())
            }
        };
        if space {
            in_word = false;
        } else if !in_word {
            in_word = true;
            count += 1;
        }
        i += len;
    }
    count
}

/// A normalised text with its hash, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub text: String,
    pub hash: String,
    pub word_count: i64,
}

impl Content {
    pub fn new(raw: &str) -> Content {
        let text = normalize(raw);
        let hash = hash_normalized(&text);
        let word_count = word_count(&text);
        Content {
            text,
            hash,
            word_count,
        }
    }

    /// [`Content::new`] for a text that is probably normalised already:
    /// it is taken as it is when it is, and normalised when not.
    pub fn from_text(text: String) -> Content {
        if !is_normalized(&text) {
            return Content::new(&text);
        }
        Content::of_normalized(text)
    }

    /// A text taken as it is, without checking that it is normalised: for
    /// one checked against the hash of its normalised form, such as a
    /// synced text (which must hash to its name).
    pub fn of_normalized(text: String) -> Content {
        Content {
            hash: hash_normalized(&text),
            word_count: word_count(&text),
            text,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// How two texts differ, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDiff {
    pub added: usize,
    pub removed: usize,
    /// A unified diff with two lines of context.
    pub unified: String,
}

/// Compares two texts line by line; the labels head the unified diff.
pub fn line_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> LineDiff {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(2)
        .header(old_label, new_label)
        .to_string();
    LineDiff {
        added,
        removed,
        unified,
    }
}

/// The first line of a text, cut to `max` characters.
pub fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_count_matches_split_whitespace() {
        for text in [
            "",
            "  ",
            "one",
            " two  words ",
            "tab\tand\nnew\x0bline\x0cform\rfeed",
            "no\u{a0}break\u{2003}em\u{3000}ideographic\u{85}next",
            "café naïve — dash\u{200b}zero-width",
            "日本語 の テキスト",
        ] {
            assert_eq!(
                word_count(text),
                text.split_whitespace().count() as i64,
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn word_count_matches_split_whitespace_on_any_text(text in "(\\PC|[\t\n\x0b\x0c\r\u{85}\u{2028}])*") {
            proptest::prop_assert_eq!(word_count(&text), text.split_whitespace().count() as i64);
        }

        /// The import's shortcut must never take a text that normalising
        /// would change, and must take every normalised one.
        #[test]
        fn is_normalized_agrees_with_normalize(text in "([a\u{e9} \t\r\n]|e\u{301}|\u{2028}|\u{a0})*") {
            let normal = normalize(&text);
            proptest::prop_assert!(is_normalized(&normal), "{:?}", normal);
            proptest::prop_assert_eq!(is_normalized(&text), normal == text, "{:?}", text);
            proptest::prop_assert_eq!(Content::from_text(text.clone()), Content::new(&text));
        }
    }

    #[test]
    fn crlf_and_lf_give_one_hash() {
        let lf = Content::new("Title\n\nFirst paragraph.\nSecond line.\n");
        let crlf = Content::new("Title\r\n\r\nFirst paragraph.\r\nSecond line.\r\n");
        let cr = Content::new("Title\r\rFirst paragraph.\rSecond line.\r");
        assert_eq!(lf.hash, crlf.hash);
        assert_eq!(lf.hash, cr.hash);
        assert_eq!(lf.text, "Title\n\nFirst paragraph.\nSecond line.\n");
    }

    #[test]
    fn nfc_composes() {
        // "é" as e + combining acute, and as one code point.
        let decomposed = Content::new("caf\u{0065}\u{0301}\n");
        let composed = Content::new("caf\u{00e9}\n");
        assert_eq!(decomposed.text, "caf\u{00e9}\n");
        assert_eq!(decomposed.hash, composed.hash);
    }

    #[test]
    fn whitespace_and_blank_lines() {
        let raw = "\n\n  \nHeadline  \t\n\n\n\nBody text. \u{a0}\n   \n\nEnd\n\n\n";
        assert_eq!(normalize(raw), "Headline\n\nBody text.\n\nEnd\n");
    }

    #[test]
    fn leading_indentation_is_kept() {
        assert_eq!(normalize("  indented\n\tcode\n"), "  indented\n\tcode\n");
    }

    #[test]
    fn empty_and_whitespace_only() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \n\r\n\t\n"), "");
        assert!(Content::new("\n\n").is_empty());
    }

    #[test]
    fn known_hash() {
        // printf 'hello\n' | sha256sum
        assert_eq!(
            hash_normalized("hello\n"),
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(Content::new("hello").hash, hash_normalized("hello\n"));
    }

    #[test]
    fn line_diff_counts_changes() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\nd\n", "old", "new");
        assert_eq!((d.added, d.removed), (2, 1));
        assert!(d.unified.starts_with("--- old\n+++ new\n"), "{}", d.unified);
        assert!(d.unified.contains("-b\n+B\n"), "{}", d.unified);
    }

    #[test]
    fn word_count_counts_runs() {
        assert_eq!(word_count("one  two\nthree\n\nfour"), 4);
        assert_eq!(word_count(""), 0);
    }
}
