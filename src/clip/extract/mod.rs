//! The readable article inside an HTML page, with its metadata, using
//! dom_smoothie (a port of readability.js).

use dom_smoothie::{Config, Readability, TextMode};

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

/// Extracts the article from `html`. `page_url`, when known, resolves
/// relative links such as the canonical URL. `what` names the source in
/// messages.
pub fn extract_html(what: &str, html: &str, page_url: Option<&str>) -> Result<Extracted> {
    let cfg = Config {
        text_mode: TextMode::Formatted,
        ..Config::default()
    };
    let page_url = page_url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let mut readability = Readability::new(html, page_url, Some(cfg))
        .map_err(|e| Error::BadInput(format!("cannot read {what} as HTML: {e}")))?;

    // Read what readability does not before it rewrites the document.
    let doc = &readability.doc;
    let canonical = doc
        .select("link[rel~='canonical']")
        .first()
        .attr("href")
        .or_else(|| {
            doc.select("meta[property='og:url']")
                .first()
                .attr("content")
        })
        .map(|h| h.to_string())
        .and_then(|h| resolve(page_url, h.trim()))
        .and_then(|u| normalize_url(&u))
        .filter(|u| !is_site_root(u));
    let page_title = non_empty(Some(doc.select("title").first().text().to_string()));
    // Site navigation and footers are never the article. Readability scores
    // them down, but on a page with no article it may still pick one.
    doc.select("nav, [role=navigation], footer, [role=contentinfo], aside")
        .remove();

    let article = readability.parse().map_err(|_| {
        Error::BadInput(format!(
            "found no article text in {what}; if the page is right, save its text to a .txt file and clip that"
        ))
    })?;
    let text = article.text_content.to_string();
    if text.trim().is_empty() {
        return Err(Error::BadInput(format!(
            "found no article text in {what}; if the page is right, save its text to a .txt file and clip that"
        )));
    }
    let title = non_empty(Some(article.title))
        .or(page_title)
        .unwrap_or_default();
    Ok(Extracted {
        title,
        text,
        canonical_url: canonical.or_else(|| {
            article
                .url
                .and_then(|u| normalize_url(&u))
                .filter(|u| !is_site_root(u))
        }),
        site: non_empty(article.site_name),
        author: non_empty(article.byline),
        lang: non_empty(article.lang),
        published_at: article.published_time.as_deref().and_then(parse_published),
    })
}
