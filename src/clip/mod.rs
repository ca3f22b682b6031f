//! Turning a source (a URL, a file, or stdin) into a page ready to store:
//! fetch or read it, decode it, extract the article, normalise the text.
//! Nothing here touches the journal.

pub mod decode;
mod extract;
mod fetch;
pub mod pending;
pub mod recheck;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use crate::limits::MAX_INPUT_BYTES;
pub use crate::urls::normalize_url;
pub use extract::{extract_html, html_to_text, Extracted};
pub use fetch::{FetchOptions, Fetched, Fetcher};

use crate::content::Content;
use crate::error::{Error, Result};
use crate::limits;
use crate::time::Timestamp;

/// Where a clip comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Url(String),
    File(PathBuf),
    Stdin,
}

impl Source {
    /// `-` is stdin, an `http://` or `https://` address is a URL, anything
    /// else a file path.
    pub fn parse(arg: &str) -> Source {
        let lower = arg.trim().to_ascii_lowercase();
        if arg == "-" {
            Source::Stdin
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::Url(arg.trim().to_owned())
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Url(u) => u.clone(),
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "standard input".into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub fetch: FetchOptions,
    /// Overrides the title found in the source.
    pub title: Option<String>,
    /// The source URL of a file or stdin clip.
    pub url: Option<String>,
}

/// A page ready to become an article.
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    pub content: Content,
    /// Source URLs, the preferred (canonical) one first.
    pub urls: Vec<String>,
    /// The URL the page names as its own (`<link rel=canonical>`, og:url,
    /// JSON-LD), tracking parameters removed.
    pub canonical_url: Option<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
}

impl Page {
    /// The page as a clip, without tags or a note.
    pub fn into_clip(self) -> crate::journal::NewClip {
        crate::journal::NewClip {
            content: self.content,
            title: self.title,
            urls: self.urls,
            site: self.site,
            author: self.author,
            lang: self.lang,
            published_at: self.published_at,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Text,
}

/// Loads a source. `stdin` is read only for [`Source::Stdin`].
pub fn load(source: &Source, opts: &LoadOptions, stdin: impl Read) -> Result<Page> {
    let what = source.describe();
    let given_url = match &opts.url {
        Some(u) => Some(normalize_url(u).ok_or_else(|| {
            Error::BadInput(format!(
                "--url {u:?} is not an http(s) URL; give the page's full address"
            ))
        })?),
        None => None,
    };
    let (bytes, kind, charset, mut urls) = match source {
        Source::Url(u) => {
            let requested = normalize_url(u)
                .ok_or_else(|| Error::BadInput(format!("{u:?} is not a valid http(s) URL")))?;
            let fetched = Fetcher::new(opts.fetch.clone()).fetch(u)?;
            let kind = match fetched.mime.as_deref() {
                Some("text/html" | "application/xhtml+xml") => Kind::Html,
                Some("text/plain" | "text/markdown" | "text/x-markdown") => Kind::Text,
                None => sniff(&fetched.body),
                Some(other) => {
                    return Err(Error::Fetch {
                        url: u.clone(),
                        reason: format!(
                            "it is {other}, not an HTML page or text; nj clips articles, so save this elsewhere"
                        ),
                    })
                }
            };
            let mut urls = vec![requested];
            urls.extend(normalize_url(&fetched.final_url));
            urls.extend(given_url);
            (fetched.body, kind, fetched.charset, urls)
        }
        Source::File(path) => {
            let bytes = read_file(path)?;
            let kind = match extension(path).as_deref() {
                Some("html" | "htm" | "xhtml" | "shtml") => Kind::Html,
                Some("txt" | "text" | "md" | "markdown") => Kind::Text,
                _ => sniff(&bytes),
            };
            (bytes, kind, None, given_url.into_iter().collect())
        }
        Source::Stdin => {
            let mut bytes = Vec::new();
            stdin.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
            if bytes.len() as u64 > MAX_INPUT_BYTES {
                return Err(decode::too_big(&what, None));
            }
            let kind = sniff(&bytes);
            (bytes, kind, None, given_url.into_iter().collect())
        }
    };
    decode::check_input(&what, &bytes)?;

    let page_url = urls.last().cloned();
    let page = match kind {
        Kind::Html => {
            let html = decode::decode_html(&bytes, charset.as_deref());
            let ex = extract_html(&what, &html, page_url.as_deref())?;
            // What the page says of itself is cut to the journal's caps
            // (crate::limits): a broken or hostile page must still clip,
            // and its clip must still sync. A canonical URL too long to keep
            // is left out; the page's own address stands.
            let canonical = ex.canonical_url.filter(|c| limits::check_url(c).is_ok());
            if let Some(c) = canonical.clone() {
                urls.insert(0, c);
            }
            Page {
                title: limits::fit_title(ex.title),
                content: Content::new(&ex.text),
                urls: Vec::new(),
                canonical_url: canonical,
                site: ex.site.map(limits::fit_meta),
                author: ex.author.map(limits::fit_meta),
                lang: ex.lang.map(limits::fit_meta),
                published_at: ex.published_at,
            }
        }
        Kind::Text => {
            let text = decode::decode_text(&what, &bytes)?;
            let content = Content::new(&text);
            Page {
                title: text_title(&content.text),
                content,
                urls: Vec::new(),
                canonical_url: None,
                site: None,
                author: None,
                lang: None,
                published_at: None,
            }
        }
    };
    if page.content.is_empty() {
        return Err(Error::BadInput(format!(
            "{what} has no text, so nothing was clipped"
        )));
    }
    let mut unique: Vec<String> = Vec::new();
    for u in urls {
        if !unique.contains(&u) {
            unique.push(u);
        }
    }
    let title = match opts
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t.to_owned(),
        None if !page.title.is_empty() => page.title,
        None => text_title(&page.content.text),
    };
    Ok(Page {
        title,
        urls: unique,
        ..page
    })
}

/// Loads many web pages, `workers` at a time. Each job is a list of URLs
/// for one page, tried in turn (a canonical URL may not answer from here
/// while the address it was saved from does); `on_page` gets each job's
/// index with its page, or the first URL's error, as it arrives, on the
/// calling thread, so the journal is only ever written from there. When
/// `on_page` fails, no more pages are fetched and the error is returned
/// once the workers stop.
pub fn load_each(
    jobs: Vec<(usize, Vec<String>)>,
    opts: &LoadOptions,
    workers: usize,
    mut on_page: impl FnMut(usize, Result<Page>) -> Result<()>,
) -> Result<()> {
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(jobs));
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Page>)>();
    let mut failure: Option<Error> = None;
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let queue = &queue;
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some((i, urls)) = next else { break };
                let mut page = Err(Error::BadInput("it has no URL to fetch".into()));
                for (n, url) in urls.into_iter().enumerate() {
                    let attempt = load(&Source::Url(url), opts, std::io::empty());
                    if attempt.is_ok() || n == 0 {
                        page = attempt;
                    }
                    if page.is_ok() {
                        break;
                    }
                }
                if tx.send((i, page)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, page) in rx {
            if failure.is_some() {
                continue;
            }
            if let Err(e) = on_page(i, page) {
                // Stop fetching; the workers end with their current page.
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                failure = Some(e);
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn sniff(bytes: &[u8]) -> Kind {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    if decode::looks_like_html(&head) {
        Kind::Html
    } else {
        Kind::Text
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let what = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::BadInput(format!(
            "cannot read {what}: {}; check the path",
            io_reason(&e)
        ))
    })?;
    if meta.is_dir() {
        return Err(Error::BadInput(format!(
            "{what} is a folder; give a file, a URL, or - for standard input"
        )));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(decode::too_big(&what, Some(meta.len())));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::BadInput(format!("cannot read {what}: {}", io_reason(&e))))?;
    Ok(bytes)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The title of a plain-text clip: its first non-empty line, without
/// Markdown heading marks, cut to a sensible length.
fn text_title(text: &str) -> String {
    let line = text
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    crate::content::first_line(line, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(Source::parse("-"), Source::Stdin);
        assert_eq!(
            Source::parse("HTTPS://x.example/a"),
            Source::Url("HTTPS://x.example/a".into())
        );
        assert_eq!(Source::parse("a.html"), Source::File("a.html".into()));
    }

    #[test]
    fn text_titles() {
        assert_eq!(text_title("\n\n# JEDI ruling  \nbody"), "JEDI ruling");
    }

    #[test]
    fn text_from_stdin() {
        let page = load(
            &Source::Stdin,
            &LoadOptions::default(),
            &b"Hello there\r\n\r\nSecond."[..],
        )
        .unwrap();
        assert_eq!(page.title, "Hello there");
        assert_eq!(page.content.text, "Hello there\n\nSecond.\n");
        assert!(page.urls.is_empty());
    }
}
