//! Netscape bookmark HTML (`<!DOCTYPE NETSCAPE-Bookmark-file-1>`), as
//! browsers, buku, linkding and Shiori write it:
//!
//! ```text
//! <DL><p>
//!     <DT><H3 ADD_DATE="…">Folder</H3>
//!     <DL><p>
//!         <DT><A HREF="…" ADD_DATE="…" TAGS="a,b" TOREAD="1">Title</A>
//!         <DD>description
//!     </DL><p>
//! </DL><p>
//! ```
//!
//! Each folder on a bookmark's path becomes a tag, except the roots every
//! browser puts all bookmarks under ("Bookmarks bar", "Other bookmarks",
//! ...): as tags they would label nearly everything alike and mean
//! nothing. `TAGS` adds tags, `<DD>` becomes a note, and `TOREAD="0"`
//! (linkding's "read") marks a bookmark read; without `TOREAD` a bookmark
//! is unread, as a browser's bookmarks are. Only web addresses are kept:
//! `place:` queries and `javascript:` bookmarklets are rejected.

use std::path::Path;

use html5ever::tokenizer::{Tag, TagKind, Token};

use super::html::{self, Handler};
use super::item::{self, Bookmark, Entry};
use crate::error::Result;

/// Reads a Netscape bookmark file.
pub fn read(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    html::read(path, &mut Bookmarks::default(), sink)
}

/// Top-level folders that are a browser's containers rather than the
/// user's. Firefox and Chrome also mark the toolbar and "Other bookmarks"
/// with an attribute, which catches them in any language.
const ROOT_FOLDERS: &[&str] = &[
    "bookmarks bar",
    "bookmarks toolbar",
    "bookmarks menu",
    "other bookmarks",
    "mobile bookmarks",
    "favorites bar",
    "favourites bar",
    "favorites",
    "favourites",
];
const ROOT_MARKS: &[&str] = &["personal_toolbar_folder", "unfiled_bookmarks_folder"];

/// A link whose `</A>` has not come yet.
struct Link {
    line: u64,
    item: std::result::Result<Bookmark, String>,
    title: String,
}

/// Where the tokenizer is in the file.
#[derive(Default)]
struct Bookmarks {
    /// One per open `<DL>`: the tag its folder gives, `None` for the
    /// outermost list and for browser roots.
    folders: Vec<Option<String>>,
    /// A folder whose `</H3>` has come and whose `<DL>` has not.
    next_folder: Option<Option<String>>,
    /// The folder name being read, and whether it is marked as a root.
    heading: Option<(String, bool)>,
    link: Option<Link>,
    /// The last link, kept until we know whether a `<DD>` follows.
    last: Option<(u64, std::result::Result<Bookmark, String>)>,
    /// The `<DD>` text being read, for `last`.
    description: Option<String>,
    done: Vec<Entry>,
}

fn attr<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| &*a.value)
}

impl Handler for Bookmarks {
    fn token(&mut self, token: Token, line: u64) {
        match token {
            Token::TagToken(tag) => match (tag.kind, &*tag.name) {
                (TagKind::StartTag, "h3") => {
                    self.flush();
                    let marked = ROOT_MARKS.iter().any(|m| attr(&tag, m).is_some());
                    self.heading = Some((String::new(), marked));
                }
                (TagKind::EndTag, "h3") => {
                    if let Some((name, marked)) = self.heading.take() {
                        let name = name.trim();
                        // Only directly in the outermost list is a folder a
                        // browser root: a user's own "Favorites" deeper
                        // down is theirs.
                        let root = self.folders.len() <= 1
                            && (marked || ROOT_FOLDERS.contains(&name.to_lowercase().as_str()));
                        let tag = (!root && !name.is_empty()).then(|| name.to_string());
                        self.next_folder = Some(tag);
                    }
                }
                (TagKind::StartTag, "dl") => {
                    self.flush();
                    self.folders.push(self.next_folder.take().flatten());
                }
                (TagKind::EndTag, "dl") => {
                    self.flush();
                    self.next_folder = None;
                    self.folders.pop();
                }
                (TagKind::StartTag, "dt") => self.flush(),
                (TagKind::StartTag, "a") => {
                    self.flush();
                    self.next_folder = None;
                    self.link = Some(Link {
                        line,
                        item: self.bookmark(&tag),
                        title: String::new(),
                    });
                }
                (TagKind::EndTag, "a") => {
                    if let Some(link) = self.link.take() {
                        let item = link.item.map(|mut b| {
                            b.title = item::title(&link.title, &b.url);
                            b
                        });
                        self.last = Some((link.line, item));
                    }
                }
                // A `<DD>` after a folder's name describes the folder: ignored.
                (TagKind::StartTag, "dd")
                    if self.link.is_none() && self.last.is_some() && self.description.is_none() =>
                {
                    self.description = Some(String::new());
                }
                (TagKind::StartTag, "br") => {
                    if let Some(d) = &mut self.description {
                        d.push('\n');
                    }
                }
                _ => {}
            },
            Token::CharacterTokens(text) => {
                if let Some(link) = &mut self.link {
                    link.title.push_str(&text);
                } else if let Some((name, _)) = &mut self.heading {
                    name.push_str(&text);
                } else if let Some(d) = &mut self.description {
                    d.push_str(&text);
                }
            }
            _ => {}
        }
    }

    fn take(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.done)
    }

    fn end(&mut self) {
        self.flush();
    }
}

impl Bookmarks {
    /// The bookmark an `<A>` starts, with the tags of the folders it is in.
    fn bookmark(&self, tag: &Tag) -> std::result::Result<Bookmark, String> {
        let url = item::web_url(attr(tag, "href").unwrap_or(""))?;
        let mut tags = Vec::new();
        for folder in self.folders.iter().flatten() {
            item::push_tag(&mut tags, folder);
        }
        for t in attr(tag, "tags").unwrap_or("").split(',') {
            item::push_tag(&mut tags, t);
        }
        Ok(Bookmark {
            url,
            tags,
            // A date that does not parse loses only the date.
            added_at: attr(tag, "add_date").and_then(item::parse_unix_time),
            read: attr(tag, "toread").map(str::trim) == Some("0"),
            ..Bookmark::default()
        })
    }

    /// Finishes the last link (an unclosed `<A>` included) with its
    /// description, if any.
    fn flush(&mut self) {
        if let Some(link) = self.link.take() {
            // An `<A>` never closed: its text so far is its title.
            let item = link.item.map(|mut b| {
                b.title = item::title(&link.title, &b.url);
                b
            });
            self.last = Some((link.line, item));
        }
        let description = self.description.take();
        if let Some((line, item)) = self.last.take() {
            let item = item.map(|mut b| {
                if let Some(d) = description {
                    b.notes = notes(&d);
                }
                b
            });
            self.done.push(Entry {
                place: format!("line {line}"),
                item,
            });
        }
    }
}

/// The notes in a `<DD>`: the description, and linkding's own notes,
/// which it appends to the description between `[linkding-notes]` marks.
fn notes(description: &str) -> Vec<String> {
    let (text, own) = match description.split_once("[linkding-notes]") {
        Some((d, rest)) => (d, rest.split("[/linkding-notes]").next()),
        None => (description, None),
    };
    [Some(text), own]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, message, read_all};
    use crate::time::Timestamp;

    type UrlAndTags = std::result::Result<(String, Vec<String>), String>;

    fn summary(entries: &[Entry]) -> Vec<(String, UrlAndTags)> {
        entries
            .iter()
            .map(|e| (e.place.clone(), e.item.clone().map(|b| (b.url, b.tags))))
            .collect()
    }

    fn ok(url: &str, tags: &[&str]) -> UrlAndTags {
        Ok((url.into(), tags.iter().map(|t| t.to_string()).collect()))
    }

    #[test]
    fn folders_become_tags_except_browser_roots() {
        let entries = read_all(read, &fixture("bookmarks.html")).unwrap();
        assert_eq!(
            summary(&entries),
            [
                ("line 8".into(), ok("https://menu.example/", &[])),
                (
                    "line 11".into(),
                    Err("not a web address (place:sort=8&maxResults=10)".into())
                ),
                (
                    "line 16".into(),
                    ok(
                        "https://soup.example/lentil",
                        &["Recipes", "Soups & stews", "lentils", "winter"]
                    )
                ),
                ("line 19".into(), ok("https://bread.example/", &["Recipes"])),
                (
                    "line 21".into(),
                    Err("not a web address (javascript:void(0))".into())
                ),
                ("line 25".into(), ok("https://other.example/", &[])),
                ("line 28".into(), ok("https://after.example/", &[])),
            ]
        );
        assert_eq!(
            entries[2].item,
            Ok(Bookmark {
                url: "https://soup.example/lentil".into(),
                title: Some("Lentil soup — the «best» one".into()),
                tags: vec![
                    "Recipes".into(),
                    "Soups & stews".into(),
                    "lentils".into(),
                    "winter".into()
                ],
                // ADD_DATE in milliseconds.
                added_at: Some(Timestamp(1_600_000_123_456)),
                read: false,
                read_at: None,
                content: None,
                notes: vec!["Add cumin & lemon.".into()],
            })
        );
        // ADD_DATE in microseconds.
        let bread = entries[3].item.as_ref().unwrap();
        assert_eq!(bread.added_at, Some(Timestamp(1_600_000_123_456)));
        assert!(bread.notes.is_empty());
    }

    #[test]
    fn linkding_read_state_description_and_notes() {
        let entries = read_all(read, &fixture("bookmarks_linkding.html")).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://read.example/one".into(),
                title: Some("Read one".into()),
                tags: vec!["tools".into(), "rust".into()],
                added_at: Some(Timestamp(1_650_000_000_000)),
                read: true,
                read_at: None,
                content: None,
                notes: vec![
                    "A description, with a comma.".into(),
                    "My own note\non two lines".into()
                ],
            })
        );
        let unread = entries[1].item.as_ref().unwrap();
        assert!(!unread.read);
        assert!(unread.notes.is_empty());
        let bare = entries[2].item.as_ref().unwrap();
        assert_eq!(
            (bare.title.as_deref(), bare.added_at, bare.read),
            (None, None, false)
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bookmarks.html");
        std::fs::write(&path, "").unwrap();
        let msg = message(read_all(read, &path));
        assert!(
            msg.ends_with("bookmarks.html is empty; export the bookmarks again"),
            "{msg}"
        );
    }

    /// A file in a legacy charset: declared in its `<meta>`, or not
    /// declared at all (an old or hand-made export). Either way "Café"
    /// comes through, not "Caf\u{fffd}", and a UTF-8 file with a UTF-8
    /// byte-order mark keeps its text too.
    #[test]
    fn legacy_charsets_are_read_as_declared_or_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let page = |head: &str| -> Vec<u8> {
            let mut b = format!(
                "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n{head}<TITLE>Bookmarks</TITLE>\n<DL><p>\n"
            )
            .into_bytes();
            for (i, title) in [
                &b"Caf\xe9 au lait"[..],
                b"Na\xefve r\xe9sum\xe9s et d\xe9j\xe0 vu",
            ]
            .iter()
            .enumerate()
            {
                b.extend_from_slice(
                    format!("<DT><A HREF=\"https://latin.example/{i}\" TAGS=\"caf").as_bytes(),
                );
                b.extend_from_slice(b"\xe9\">");
                b.extend_from_slice(title);
                b.extend_from_slice(b"</A>\n");
            }
            b.extend_from_slice(b"</DL>\n");
            b
        };
        let titles = |bytes: &[u8], name: &str| -> Vec<(String, Vec<String>)> {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            read_all(read, &path)
                .unwrap()
                .into_iter()
                .map(|e| {
                    let b = e.item.unwrap();
                    (b.title.unwrap(), b.tags)
                })
                .collect()
        };
        let want: Vec<(String, Vec<String>)> = ["Café au lait", "Naïve résumés et déjà vu"]
            .iter()
            .map(|t| (t.to_string(), vec!["café".to_string()]))
            .collect();
        let declared = page(
            "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1252\">\n",
        );
        assert_eq!(titles(&declared, "declared.html"), want);
        let undeclared = page("");
        assert_eq!(titles(&undeclared, "undeclared.html"), want);
        // Valid UTF-8 wins over a stale Latin-1 declaration, as for pages.
        let utf8 = String::from_utf8(
            page("<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n")
                .iter()
                .map(|&b| b as char)
                .collect::<String>()
                .into_bytes(),
        )
        .unwrap();
        assert_eq!(titles(utf8.as_bytes(), "utf8.html"), want);
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(utf8.as_bytes());
        assert_eq!(titles(&bom, "bom.html"), want);
    }

    /// Folder nesting survives chunk boundaries and deep trees: every
    /// bookmark at depth d carries exactly the d folders above it.
    #[test]
    fn deep_nesting_across_read_chunks() {
        let mut html = String::from("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n");
        for d in 0..40 {
            html.push_str(&format!("<DT><H3>f{d}</H3>\n<DL><p>\n"));
            for i in 0..50 {
                html.push_str(&format!(
                    "<DT><A HREF=\"https://d{d}.example/{i}\" ADD_DATE=\"1\">t</A>\n<DD>{}\n",
                    "x".repeat(100)
                ));
            }
        }
        for _ in 0..40 {
            html.push_str("</DL><p>\n");
        }
        html.push_str("<DT><A HREF=\"https://top.example/\">top</A>\n</DL>\n");
        assert!(html.len() > 3 << 16, "spans several read chunks");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep.html");
        std::fs::write(&path, html).unwrap();
        let entries = read_all(read, &path).unwrap();
        assert_eq!(entries.len(), 40 * 50 + 1);
        for (n, e) in entries[..2000].iter().enumerate() {
            let b = e.item.as_ref().unwrap();
            let d = n / 50;
            let want: Vec<String> = (0..=d).map(|f| format!("f{f}")).collect();
            assert_eq!(b.tags, want, "{}", b.url);
            assert_eq!(b.notes, ["x".repeat(100)]);
        }
        assert!(entries[2000].item.as_ref().unwrap().tags.is_empty());
    }
}
