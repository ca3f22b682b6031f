//! Markdown: one file per live article in a folder, usable as an Obsidian
//! vault. Each file starts with YAML front matter (title, url, tags, hash,
//! dates, id), then the notes, then the text.
//!
//! File names are the title's slug and the article's short id
//! (`harbour-dredging-delayed-3fa9c1d2.md`): readable, safe on every file
//! system, and the same on every export, so exporting again into the same
//! folder updates the files in place. (Files of articles removed since are
//! left alone.) Strings in the front matter are written as JSON strings,
//! which YAML reads as double-quoted scalars: any title is safe.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use crate::content::EMPTY_HASH;
use crate::entity::fields::{article, note, tag};
use crate::error::{Error, Result};
use crate::journal::{format_time, short_id, ArticleRecord, Event, Journal, Record, Story, What};

/// The longest slug, in characters: long enough to tell articles apart,
/// short enough for any file system's name limit with the id added.
const SLUG_CHARS: usize = 60;

/// A file name part from a title: lower-case letters and digits (any
/// script), words joined by `-`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    let (mut chars, mut dash) = (0, false);
    for c in title.chars() {
        if !c.is_alphanumeric() {
            dash = true;
            continue;
        }
        let sep = dash && chars > 0;
        if chars + usize::from(sep) + 1 > SLUG_CHARS {
            break;
        }
        if sep {
            out.push('-');
            chars += 1;
        }
        dash = false;
        // Lower-casing can make more than one char (İ): count what is
        // pushed.
        for l in c.to_lowercase() {
            out.push(l);
            chars += 1;
        }
    }
    if out.is_empty() {
        "article".to_owned()
    } else {
        out
    }
}

fn yaml(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The file's contents: `a` with its current `text`.
pub fn render(a: &ArticleRecord, text: &str) -> String {
    let title = a.text(article::TITLE).unwrap_or_default();
    let hash = a.text(article::CONTENT_HASH).unwrap_or_default();
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", yaml(title)));
    if let Some(url) = a.text(article::URL) {
        out.push_str(&format!("url: {}\n", yaml(url)));
    }
    let tags: Vec<String> = a
        .tags
        .iter()
        .map(|t| yaml(t.text(tag::TAG).unwrap_or_default()))
        .collect();
    out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    out.push_str(&format!("hash: {}\n", yaml(hash)));
    out.push_str(&format!(
        "clipped: {}\n",
        format_time(a.at(article::CLIPPED_AT))
    ));
    out.push_str(&format!("updated: {}\n", format_time(a.local_time())));
    if let Some(p) = a.time(article::PUBLISHED_AT) {
        out.push_str(&format!("published: {}\n", format_time(p)));
    }
    if let Some(r) = a.time(article::READ_AT) {
        out.push_str(&format!("read: {}\n", format_time(r)));
    }
    let pending = hash == EMPTY_HASH;
    if pending {
        // A bookmark whose text `nj fetch --pending` has not fetched yet.
        out.push_str("pending: true\n");
    }
    for field in [article::SITE, article::AUTHOR, article::LANG] {
        if let Some(v) = a.text(field) {
            let key = field.name;
            out.push_str(&format!("{key}: {}\n", yaml(v)));
        }
    }
    out.push_str(&format!("id: {}\n", yaml(&a.id)));
    out.push_str("---\n\n");
    out.push_str(&format!("# {title}\n\n"));
    let notes: Vec<_> = a
        .notes
        .iter()
        .filter(|n| n.deleted_at().is_none())
        .collect();
    if !notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in notes {
            out.push_str(&format!(
                "*{}*\n\n{}\n\n",
                format_time(n.at(note::CREATED_AT)),
                n.text(note::BODY).unwrap_or_default().trim_end()
            ));
        }
    }
    if !pending {
        out.push_str("## Text\n\n");
        out.push_str(text);
    }
    out
}

/// Writes one file per live article into `dir` (made if missing). Returns
/// how many.
/// What [`write`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub articles: usize,
    pub stories: usize,
}

/// A story's file: its timeline, each article a `[[wiki link]]` to its
/// own file (`files` maps article ids to file names without `.md`).
pub fn render_story(
    s: &Story,
    events: &[Event],
    files: &std::collections::HashMap<String, String>,
) -> String {
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", yaml(&s.title)));
    out.push_str(&format!("story: {}\n", s.name));
    out.push_str(&format!("id: {}\n", s.id));
    out.push_str(&format!("created: {}\n", s.created_at.rfc3339()));
    if let Some(closed) = s.closed_at {
        out.push_str(&format!("closed: {}\n", closed.rfc3339()));
    }
    out.push_str("---\n\n");
    out.push_str(&format!("# {}\n\n", s.title));
    let link = |id: &str, title: Option<&str>| match files.get(id) {
        Some(file) => format!("[[{file}]]"),
        None => title.unwrap_or(short_id(id)).to_owned(),
    };
    for e in events {
        let date = e.at.local_date();
        let line = match &e.what {
            What::Article { article } => {
                format!("{} {}", link(&article.id, None), article.title)
            }
            What::Version {
                article_id,
                title,
                number,
                words_added,
                words_removed,
                minor,
            } => format!(
                "version {number} of {}: +{words_added} -{words_removed} words{}",
                link(article_id, Some(title)),
                if *minor { " (minor)" } else { "" }
            ),
            What::Note {
                article_id, text, ..
            } => match article_id {
                Some(a) => format!("note on {}: {}", link(a, None), text.replace('\n', " ")),
                None => format!("note: {}", text.replace('\n', " ")),
            },
            What::FollowupSet { text, due_at, .. } => {
                format!("follow-up set: {text} (due {})", due_at.local_date())
            }
            What::FollowupDone { text, .. } => format!("follow-up done: {text}"),
            What::FollowupDue { text, .. } => format!("due: {text}"),
        };
        out.push_str(&format!("- {date} {line}\n"));
    }
    out
}

pub fn write(journal: &Journal, dir: &Path) -> Result<Written> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::BadInput(format!(
            "cannot create the folder {}: {e}; pass another -o DIR",
            dir.display()
        ))
    })?;
    let mut names = HashSet::new();
    let mut written = Written::default();
    let mut files = std::collections::HashMap::new();
    // Only the current text is written: unpacking every version's would
    // be most of the work.
    journal.dump(false, |record| {
        let a = match record {
            Record::Article(a) => a,
            Record::Story(st) if st.deleted_at().is_none() => {
                let story = journal.story_with_id(&st.id)?;
                let events = journal.story_timeline(&story.as_ref(), None, true)?;
                let mut name = format!("story-{}.md", story.name);
                if !names.insert(name.clone()) {
                    name = format!("story-{}-{}.md", story.name, story.short_id());
                    names.insert(name.clone());
                }
                let path = dir.join(&name);
                std::fs::write(&path, render_story(&story, &events, &files)).map_err(|e| {
                    Error::BadInput(format!("cannot write {}: {e}", path.display()))
                })?;
                written.stories += 1;
                return Ok(());
            }
            _ => return Ok(()),
        };
        if a.deleted_at().is_some() {
            return Ok(());
        }
        let base = slug(a.text(article::TITLE).unwrap_or_default());
        let mut name = format!("{base}-{}.md", short_id(&a.id));
        // Two short ids can meet among many articles; the whole id cannot.
        if !names.insert(name.clone()) {
            name = format!("{base}-{}.md", a.id);
            names.insert(name.clone());
        }
        let path = dir.join(&name);
        let mut file = std::fs::File::create(&path)
            .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", path.display())))?;
        let text = journal.text(a.text(article::CONTENT_HASH).unwrap_or_default())?;
        file.write_all(render(&a, &text).as_bytes())?;
        files.insert(a.id.clone(), name.trim_end_matches(".md").to_owned());
        written.articles += 1;
        Ok(())
    })?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_of_any_script_and_stay_short() {
        assert_eq!(
            slug("Über die Brücke: 東京 & more!"),
            "über-die-brücke-東京-more"
        );
        assert_eq!(slug("  ...  "), "article");
        assert_eq!(slug(&"word ".repeat(40)).chars().count(), 59);
        assert!(!slug(&"word ".repeat(40)).ends_with('-'));
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
    }
}
