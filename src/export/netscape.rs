//! Netscape bookmark HTML: the file browsers, buku, linkding, Shiori and
//! Pocket-likes import. One `<DT><A>` per live article that has a source
//! URL (an article clipped from a file without one is not a bookmark), with
//! `ADD_DATE` and `LAST_MODIFIED` in Unix seconds, `TAGS` comma-separated,
//! and the article's notes as its `<DD>` description.

use std::io::Write;

use crate::entity::fields::{article, note, tag, url};
use crate::error::Result;
use crate::journal::{Journal, Record};

/// How many bookmarks were written, and how many articles had no URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub bookmarks: usize,
    pub without_url: usize,
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn write<W: Write + ?Sized>(journal: &Journal, out: &mut W) -> Result<Written> {
    // The header browsers write, which importers look for.
    out.write_all(
        b"<!DOCTYPE NETSCAPE-Bookmark-file-1>\n\
          <!-- This is an automatically generated file.\n     It will be read and overwritten.\n     DO NOT EDIT! -->\n\
          <META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\n\
          <TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n",
    )?;
    let mut written = Written::default();
    journal.dump(false, |record| {
        let Record::Article(a) = record else {
            return Ok(());
        };
        if a.deleted_at().is_some() {
            return Ok(());
        }
        let Some(url) = a
            .text(article::URL)
            .or(a.urls.first().and_then(|u| u.text(url::URL)))
        else {
            written.without_url += 1;
            return Ok(());
        };
        let tags: Vec<&str> = a.tags.iter().filter_map(|t| t.text(tag::TAG)).collect();
        write!(
            out,
            "    <DT><A HREF=\"{}\" ADD_DATE=\"{}\" LAST_MODIFIED=\"{}\"",
            escape(url),
            a.at(article::CLIPPED_AT).0.div_euclid(1000),
            a.local_time().0.div_euclid(1000)
        )?;
        if !tags.is_empty() {
            write!(out, " TAGS=\"{}\"", escape(&tags.join(",")))?;
        }
        writeln!(
            out,
            ">{}</A>",
            escape(a.text(article::TITLE).unwrap_or_default())
        )?;
        let notes: Vec<&str> = a
            .notes
            .iter()
            .filter(|n| n.deleted_at().is_none())
            .filter_map(|n| n.text(note::BODY))
            .collect();
        if !notes.is_empty() {
            writeln!(out, "    <DD>{}", escape(&notes.join("\n\n")))?;
        }
        written.bookmarks += 1;
        Ok(())
    })?;
    out.write_all(b"</DL><p>\n")?;
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("A & B <i>\"quoted\"</i> it's"),
            "A &amp; B &lt;i&gt;&quot;quoted&quot;&lt;/i&gt; it&#39;s"
        );
    }
}
