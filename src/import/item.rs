//! What the read-later and bookmark formats have in common: a list of
//! links, each with a title, tags, a time added, a read state, and maybe
//! the article's text and the reader's highlights.
//!
//! Each format's reader turns its file into a stream of [`Entry`]s; the
//! journal side ([`crate::journal::Tx::import_bookmark`]) stores them. A
//! reader never writes and never prints.

use crate::time::Timestamp;

/// One link from an export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bookmark {
    /// The URL as the file gives it (the journal normalises it).
    pub url: String,
    /// The title, when the file has a usable one (not empty, not just the
    /// URL again).
    pub title: Option<String>,
    /// Tags as the file spells them: folders, labels, `|`- or
    /// comma-separated lists, already split. The journal lower-cases them
    /// and drops empty ones.
    pub tags: Vec<String>,
    /// When it was saved, if the file says.
    pub added_at: Option<Timestamp>,
    /// Whether it was read (archived, in Pocket's and wallabag's words).
    pub read: bool,
    /// When it was read, if the file says.
    pub read_at: Option<Timestamp>,
    /// The article's text, when the export carries it.
    pub content: Option<Body>,
    /// Notes to keep with it: annotations, highlights, a description or a
    /// selection, one note each, in the file's order.
    pub notes: Vec<String>,
}

/// An article's text as an export carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// An HTML document or fragment (wallabag, Omnivore).
    Html(String),
    /// Plain text.
    Text(String),
}

/// One item read from a file: a bookmark, or why the item cannot be
/// imported (a line without a URL, a field that does not parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the item is, for the report: `line 12`, `entry 3`,
    /// `part_000001.csv line 4`.
    pub place: String,
    pub item: std::result::Result<Bookmark, String>,
}

impl Entry {
    pub(crate) fn rejected(place: String, reason: impl Into<String>) -> Entry {
        Entry {
            place,
            item: Err(reason.into()),
        }
    }
}

// What every reader does to the fields it reads, so that all formats clean
// them alike.

/// The URL to keep, or why there is none. Only web addresses are kept:
/// browsers export `place:` queries, `javascript:` bookmarklets and
/// `about:` pages, Instapaper private `instapaper-private:` notes, and nj
/// can neither fetch nor open them.
pub(crate) fn web_url(raw: &str) -> std::result::Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("no URL".into());
    }
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        Ok(url.to_string())
    } else {
        let shown: String = url.chars().take(60).collect();
        Err(format!("not a web address ({shown})"))
    }
}

/// A title worth keeping: trimmed, and neither empty nor the URL again
/// (what Pocket writes for a page it never fetched).
pub(crate) fn title(raw: &str, url: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t != url).then(|| t.to_string())
}

/// The most tags one imported item keeps; more are left out (README,
/// "Import"). Real exports have a handful; a row of a hundred thousand is
/// a broken or hostile file.
pub const MAX_TAGS_PER_ITEM: usize = 500;

/// Adds one tag, trimmed; an empty one, one past [`MAX_TAGS_PER_ITEM`], or
/// the same as the last one is dropped. Other repeats ("News", "news")
/// are folded by the journal, which normalises and sorts an item's tags
/// once: comparing each with all before it made a row of many tags
/// quadratic.
pub(crate) fn push_tag(tags: &mut Vec<String>, raw: &str) {
    let t = raw.trim();
    if t.is_empty() || tags.len() >= MAX_TAGS_PER_ITEM {
        return;
    }
    if tags.last().is_some_and(|last| last.eq_ignore_ascii_case(t)) {
        return;
    }
    tags.push(t.to_string());
}

/// A Unix time in seconds, milliseconds or microseconds, told apart by
/// size: some tools write milliseconds or microseconds where the format
/// says seconds, and 10^11 seconds is the year 5138, 10^11 milliseconds
/// 1973. Zero or less means "not known" in every export seen.
pub(crate) fn unix_time(n: i64) -> Option<Timestamp> {
    let millis = match n {
        ..=0 => return None,
        1..=99_999_999_999 => n.checked_mul(1000)?,
        100_000_000_000..=99_999_999_999_999 => n,
        _ => n / 1000,
    };
    Some(Timestamp(millis))
}

/// [`unix_time`] from text; `None` when it is not a number.
pub(crate) fn parse_unix_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    match s.parse::<i64>() {
        Ok(n) => unix_time(n),
        // Some tools write fractional seconds.
        Err(_) => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f > 0.0 && *f < 1e17)
            .and_then(|f| unix_time(f as i64)),
    }
}

/// What the readers' tests share: the fixtures and a reader's entries.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    use super::Entry;
    use crate::error::Result;

    pub(crate) type Reader = fn(&Path, &mut dyn FnMut(Entry) -> Result<()>) -> Result<()>;

    pub(crate) fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(name)
    }

    /// Every entry `read` makes of the file at `path`.
    pub(crate) fn read_all(read: Reader, path: &Path) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        read(path, &mut |e| {
            entries.push(e);
            Ok(())
        })?;
        Ok(entries)
    }

    /// The message of an error, for asserting on.
    pub(crate) fn message<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.expect_err("should fail").to_string()
    }

    /// Writes a ZIP of `members` (name, contents) to `path`, deflated as
    /// the real exports are.
    pub(crate) fn write_zip(path: &Path, members: &[(&str, &[u8])]) {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_seconds_millis_and_micros_agree() {
        assert_eq!(unix_time(1_700_000_000), Some(Timestamp(1_700_000_000_000)));
        assert_eq!(
            unix_time(1_700_000_000_123),
            Some(Timestamp(1_700_000_000_123))
        );
        assert_eq!(
            unix_time(1_700_000_000_123_456),
            Some(Timestamp(1_700_000_000_123))
        );
        assert_eq!(unix_time(0), None);
        assert_eq!(
            parse_unix_time(" 1700000000.5 "),
            Some(Timestamp(1_700_000_000_000))
        );
        assert_eq!(parse_unix_time("yesterday"), None);
    }

    #[test]
    fn urls_titles_and_tags_are_cleaned() {
        assert_eq!(
            web_url(" https://a.example/x "),
            Ok("https://a.example/x".into())
        );
        assert_eq!(web_url(""), Err("no URL".into()));
        assert_eq!(
            web_url("place:sort=8&maxResults=10"),
            Err("not a web address (place:sort=8&maxResults=10)".into())
        );
        assert_eq!(
            title("  Ünïcode title ", "https://a"),
            Some("Ünïcode title".into())
        );
        assert_eq!(title("https://a", "https://a"), None);
        assert_eq!(title("  ", "https://a"), None);
        let mut tags = vec![];
        for t in [" news ", "", "News", "café"] {
            push_tag(&mut tags, t);
        }
        assert_eq!(tags, ["news", "café"]);
        // Issue 17, item 7: a row of 100,000 tags was quadratic; now the
        // first 500 are kept, each in constant time.
        let mut many = vec![];
        for i in 0..100_000 {
            push_tag(&mut many, &format!("t{i}"));
        }
        assert_eq!(many.len(), MAX_TAGS_PER_ITEM);
    }
}
