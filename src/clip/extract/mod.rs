//! The readable article inside an HTML page, with its metadata.
//!
//! The page is parsed once. Metadata is read first, from the untouched
//! page ([`meta`]). Then page furniture is removed ([`clean`]),
//! dom_smoothie (a port of readability.js) picks the article's container
//! from what is left, and [`text`] renders it as plain text.

mod clean;
mod meta;
mod prune;
mod text;

use dom_query::Document;
use dom_smoothie::{Config, Readability};

use super::url::{normalize_url, resolve};
use crate::error::{Error, Result};
use crate::time::{parse_published, Timestamp};

#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub title: String,
    pub text: String,
    pub canonical_url: Option<String>,
    pub site: Option<String>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published_at: Option<Timestamp>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// Whether a URL is a site's front page. Some sites name their front page
/// as every article's canonical URL; trusting that would make every story
/// from the site one article.
fn is_site_root(url: &str) -> bool {
    ::url::Url::parse(url).is_ok_and(|u| matches!(u.path(), "" | "/") && u.query().is_none())
}

fn no_article(what: &str) -> Error {
    Error::BadInput(format!(
        "found no article text in {what}; if the page is right, save its text to a .txt file and clip that"
    ))
}

/// Extracts the article from `html`. `page_url`, when known, resolves
/// relative links such as the canonical URL. `what` names the source in
/// messages.
pub fn extract_html(what: &str, html: &str, page_url: Option<&str>) -> Result<Extracted> {
    let page_url = page_url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let doc = Document::from(html);
    let meta = meta::read(&doc);
    let canonical = meta
        .canonical
        .as_deref()
        .and_then(|h| resolve(page_url, h))
        .and_then(|u| normalize_url(&u))
        .filter(|u| !is_site_root(u));
    let page_title = non_empty(Some(doc.select("title").first().text().to_string()));

    clean::clean(&doc);
    let mut readability = Readability::with_document(doc, page_url, Some(Config::default()))
        .map_err(|e| Error::BadInput(format!("cannot read {what} as HTML: {e}")))?;
    let article = readability.parse().map_err(|_| no_article(what))?;
    let title = non_empty(meta.title)
        .or(non_empty(Some(article.title)))
        .or(page_title)
        .unwrap_or_default();
    let content = Document::from(article.content.as_ref());
    prune::prune(&content);
    let text = text::render(&content.root());
    if text.trim().is_empty() {
        return Err(no_article(what));
    }
    Ok(Extracted {
        title,
        text,
        canonical_url: canonical,
        site: non_empty(meta.site),
        author: non_empty(meta.author),
        lang: non_empty(meta.lang),
        published_at: meta.published.as_deref().and_then(parse_published),
    })
}
