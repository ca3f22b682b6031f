//! The most each text field may hold (README, "Limits").
//!
//! Every field has a cap so that every change a user can make fits in one
//! synced request (the server's body limit is 16 MiB by default), and so
//! that a hostile export cannot make one row hundreds of megabytes. The
//! caps are checked where text enters the journal (the `Tx` primitives and
//! the import's preparation of an item), never when a change from another
//! device is applied: what is in a journal already must keep syncing.
//!
//! Article texts are not capped here: they are capped at the input
//! ([`MAX_INPUT_BYTES`]) and synced in parts (`sync::protocol`).

use crate::error::{Error, Result};

/// The largest input `nj` will clip, from a file, stdin or the network.
pub const MAX_INPUT_BYTES: u64 = 50 * 1024 * 1024;

/// A title: a headline, or a sentence a user typed.
pub const MAX_TITLE_BYTES: usize = 4 * 1024;
/// A URL: RFC 9110 asks software to take at least 8,000 octets.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// A tag: a word or a short phrase.
pub const MAX_TAG_BYTES: usize = 256;
/// A follow-up's text: what to check, in a sentence or a paragraph.
pub const MAX_FOLLOWUP_BYTES: usize = 4 * 1024;
/// A page's byline, site name or language, as extracted.
pub const MAX_META_BYTES: usize = 1024;

/// A size for a message or a table: bytes, KB, MB or GB.
pub fn size_text(n: usize) -> String {
    match n {
        0..1_000 => format!("{n} bytes"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

/// A cap for a message: the caps are whole kilobytes or megabytes (of
/// 1,024 and 1,048,576 bytes).
fn cap(max: usize) -> String {
    if max % (1 << 20) == 0 {
        format!("{} MB", max >> 20)
    } else if max % 1024 == 0 {
        format!("{} KB", max / 1024)
    } else {
        format!("{max} bytes")
    }
}

/// Refuses `value` when it is over `max` bytes. `noun` names the field
/// ("title"), `fix` says what to do.
fn check(noun: &str, value: &str, max: usize, fix: &str) -> Result<()> {
    if value.len() <= max {
        return Ok(());
    }
    Err(Error::BadInput(format!(
        "the {noun} is {}, and a {noun} holds at most {}; {fix}",
        size_text(value.len()),
        cap(max)
    )))
}

pub fn check_title(title: &str) -> Result<()> {
    check("title", title, MAX_TITLE_BYTES, "give a shorter one")
}

pub fn check_url(url: &str) -> Result<()> {
    check(
        "URL",
        url,
        MAX_URL_BYTES,
        "open it in a browser and use the address it lands on",
    )
}

pub fn check_tag(tag: &str) -> Result<()> {
    check("tag", tag, MAX_TAG_BYTES, "use a word or two")
}

pub fn check_followup(text: &str) -> Result<()> {
    check(
        "follow-up's text",
        text,
        MAX_FOLLOWUP_BYTES,
        "say what to check in a sentence, and keep the rest in a note (`nj note`)",
    )
}

pub fn check_meta(value: &str) -> Result<()> {
    check(
        "byline, site name or language",
        value,
        MAX_META_BYTES,
        "give a shorter one",
    )
}

/// An article's text, as an import brings it: no larger than a page nj
/// would clip.
pub fn check_text(text: &str) -> Result<()> {
    check(
        "article's text",
        text,
        MAX_INPUT_BYTES as usize,
        "clip the article from its page instead",
    )
}

/// The most a note may hold, in bytes of UTF-8: a long memo fits many
/// times over, and a note must fit in one synced change (README, "Notes").
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Refuses a note over [`MAX_NOTE_BYTES`], saying what to do.
pub fn check_note_size(body: &str) -> Result<()> {
    if body.len() > MAX_NOTE_BYTES {
        return Err(Error::BadInput(format!(
            "the note is {:.1} MB, and a note holds at most 1 MB; keep the long text as a file (or clip it: `nj clip FILE`) and note where it is",
            body.len() as f64 / 1e6
        )));
    }
    Ok(())
}

/// Extracted metadata (a byline, a site name): cut to the cap at a
/// character boundary, since the page, not the user, made it long.
pub fn fit_meta(value: String) -> String {
    fit(value, MAX_META_BYTES)
}

/// A title taken from a page or a file name, cut to the cap with an
/// ellipsis: a page's 50 MB `<title>` is broken markup, not a headline.
pub fn fit_title(value: String) -> String {
    fit(value, MAX_TITLE_BYTES)
}

fn fit(mut value: String, max: usize) -> String {
    if value.len() <= max {
        return value;
    }
    let mut end = max - '…'.len_utf8();
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.truncate(end);
    value.push('…');
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_over_their_cap_are_refused_with_the_sizes() {
        assert!(check_title(&"t".repeat(MAX_TITLE_BYTES)).is_ok());
        let err = check_title(&"t".repeat(50_000_000))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the title is 50.0 MB, and a title holds at most 4 KB; give a shorter one"
        );
        assert!(check_url(&"u".repeat(MAX_URL_BYTES + 1)).is_err());
        assert!(check_tag(&"g".repeat(MAX_TAG_BYTES + 1)).is_err());
        assert!(check_followup(&"f".repeat(MAX_FOLLOWUP_BYTES + 1)).is_err());
    }

    #[test]
    fn fitting_cuts_at_a_character_boundary() {
        let long = "é".repeat(MAX_META_BYTES);
        let fitted = fit_meta(long);
        assert!(fitted.len() <= MAX_META_BYTES, "{}", fitted.len());
        assert!(fitted.ends_with('…'));
        assert_eq!(fit_meta("short".into()), "short");
        assert_eq!(
            fit_title("t".repeat(MAX_TITLE_BYTES)).len(),
            MAX_TITLE_BYTES
        );
    }
}
