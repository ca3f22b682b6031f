//! Instapaper's CSV export: `URL,Title,Selection,Folder,Timestamp`, and in
//! newer files `Tags`, a JSON list such as `["a","b"]` (or empty).
//!
//! The folder says where a link is: `Unread` (unread), `Archive` (read),
//! or a folder of the user's own (`Starred` among them), whose name
//! becomes a tag. Instapaper keeps the three apart, and its own folders
//! hold links not yet archived, so those count as unread. A non-empty
//! `Selection` (text the user selected when saving) becomes a note.

use std::fs::File;
use std::path::Path;

use super::csvfile::{self, Row};
use super::item::{self, Bookmark, Entry};
use crate::error::{Error, Result};

/// Reads an Instapaper CSV export.
pub fn read(path: &Path, sink: &mut dyn FnMut(Entry) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    csvfile::read(
        file,
        &name,
        "",
        &["url", "title", "selection", "folder", "timestamp", "tags"],
        &["url"],
        &mut bookmark,
        sink,
    )
}

const URL: usize = 0;
const TITLE: usize = 1;
const SELECTION: usize = 2;
const FOLDER: usize = 3;
const TIMESTAMP: usize = 4;
const TAGS: usize = 5;

fn bookmark(row: &Row) -> std::result::Result<Bookmark, String> {
    let url = item::web_url(&row.get(URL))?;
    let folder = row.get(FOLDER);
    let folder = folder.trim();
    let mut tags = Vec::new();
    let read = folder.eq_ignore_ascii_case("archive");
    if !read && !folder.eq_ignore_ascii_case("unread") {
        item::push_tag(&mut tags, folder);
    }
    if row.has(TAGS) {
        for t in tag_list(&row.get(TAGS)) {
            item::push_tag(&mut tags, &t);
        }
    }
    let selection = row.get(SELECTION);
    let selection = selection.trim();
    Ok(Bookmark {
        title: item::title(&row.get(TITLE), &url),
        tags,
        // A time that does not parse loses only the date, not the link.
        added_at: item::parse_unix_time(&row.get(TIMESTAMP)),
        read,
        notes: if selection.is_empty() {
            vec![]
        } else {
            vec![selection.to_string()]
        },
        url,
        ..Bookmark::default()
    })
}

/// The tags in Instapaper's `Tags` field: a JSON list of strings. Anything
/// else (a hand-edited file) is read as a comma-separated list, brackets
/// and quotes stripped, rather than losing the tags.
fn tag_list(field: &str) -> Vec<String> {
    let field = field.trim();
    if field.is_empty() {
        return vec![];
    }
    if let Ok(list) = serde_json::from_str::<Vec<String>>(field) {
        return list;
    }
    field
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|t| t.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::item::testing::{fixture, read_all};
    use crate::time::Timestamp;

    #[test]
    fn folders_selections_and_read_state() {
        let entries = read_all(read, &fixture("instapaper.csv")).unwrap();
        let places: Vec<&str> = entries.iter().map(|e| e.place.as_str()).collect();
        assert_eq!(places, ["line 2", "line 4", "line 5", "line 6", "line 7"]);
        assert_eq!(
            entries[0].item,
            Ok(Bookmark {
                url: "https://insta.example/a".into(),
                title: Some("Rivers, lakes and ponds".into()),
                tags: vec![],
                added_at: Some(Timestamp(1_400_000_000_000)),
                read: false,
                read_at: None,
                content: None,
                notes: vec!["A selected\npassage".into()],
            })
        );
        let archived = entries[1].item.as_ref().unwrap();
        assert!(archived.read && archived.tags.is_empty() && archived.notes.is_empty());
        let starred = entries[2].item.as_ref().unwrap();
        assert_eq!(
            (starred.read, starred.tags.clone()),
            (false, vec!["Starred".to_string()])
        );
        assert_eq!(
            entries[3].item,
            Err("not a web address (instapaper-private://email/123)".into())
        );
        let folder = entries[4].item.as_ref().unwrap();
        assert_eq!(folder.tags, ["Reading — ünï"]);
        assert_eq!((folder.read, folder.added_at), (false, None));
    }

    #[test]
    fn the_tags_column_is_a_json_list() {
        let entries = read_all(read, &fixture("instapaper_tags.csv")).unwrap();
        let tags: Vec<Vec<String>> = entries
            .iter()
            .map(|e| e.item.as_ref().unwrap().tags.clone())
            .collect();
        assert_eq!(
            tags,
            [vec!["alpha".to_string(), "beta γ".into()], vec![], vec![]]
        );
        assert!(entries[0].item.as_ref().unwrap().read);
        assert_eq!(tag_list("[alpha, 'beta']"), ["alpha", "beta"]);
    }
}
