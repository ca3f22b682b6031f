//! An article's metadata from the best source on the page: JSON-LD first
//! (publishers fill it for search engines, so it is the most deliberate),
//! then OpenGraph and `article:*` meta, then Dublin Core and other common
//! meta names, then the page itself (`<time datetime>`, `<html lang>`).

use dom_query::Document;
use serde_json::Value;

/// What the page says about itself, as found; the caller normalises.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Meta {
    pub title: Option<String>,
    pub author: Option<String>,
    pub site: Option<String>,
    /// The publication time as written on the page.
    pub published: Option<String>,
    pub canonical: Option<String>,
    pub lang: Option<String>,
    /// JSON-LD `articleBody`, when the page declares one.
    pub body: Option<String>,
}

/// schema.org types that describe one article (and its subtypes that news
/// sites use).
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "AskPublicNewsArticle",
    "SatiricalArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "SocialMediaPosting",
    "TechArticle",
    "ScholarlyArticle",
    "Report",
];

pub fn read(doc: &Document) -> Meta {
    let ld = json_ld(doc);
    let meta = |keys: &[&str]| meta_content(doc, keys);
    let canonical = doc
        .select("link[rel~='canonical']")
        .iter()
        .find_map(|l| l.attr("href").map(|h| h.trim().to_string()))
        .filter(|h| !h.is_empty())
        .or_else(|| meta(&["og:url", "twitter:url"]))
        .or(ld.canonical.clone());
    let author = ld
        .author
        .clone()
        .or_else(|| {
            meta(&[
                "author",
                "article:author",
                "dc.creator",
                "dcterms.creator",
                "byl",
                "parsely-author",
                "sailthru.author",
            ])
        })
        // Some sites put the author's profile URL in article:author.
        .filter(|a| !a.starts_with("http://") && !a.starts_with("https://"))
        .or_else(|| byline(doc));
    Meta {
        title: ld
            .title
            .clone()
            .or_else(|| meta(&["og:title", "twitter:title", "dc.title", "dcterms.title"])),
        author,
        site: meta(&["og:site_name", "application-name"]).or(ld.site.clone()),
        published: ld
            .published
            .clone()
            .or_else(|| {
                meta(&[
                    "article:published_time",
                    "og:article:published_time",
                    "datepublished",
                    "dc.date.issued",
                    "dcterms.issued",
                    "dcterms.created",
                    "dc.date.created",
                    "dc.date",
                    "dcterms.date",
                    "publish-date",
                    "publish_date",
                    "pubdate",
                    "parsely-pub-date",
                    "sailthru.date",
                    "date",
                ])
            })
            .or_else(|| time_element(doc)),
        canonical,
        lang: doc
            .select("html")
            .attr("lang")
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .or(ld.lang.clone())
            .or_else(|| meta(&["content-language", "dc.language", "og:locale"]))
            .map(|l| l.replace('_', "-")),
        body: ld.body,
    }
}

/// The first non-empty `content` of a `<meta>` whose `property`, `name`,
/// `itemprop` or `http-equiv` is one of `keys` (case-insensitive), trying
/// the keys in order.
fn meta_content(doc: &Document, keys: &[&str]) -> Option<String> {
    let metas = doc.select("meta[content]");
    for key in keys {
        for m in metas.iter() {
            let named = ["property", "name", "itemprop", "http-equiv"]
                .iter()
                .any(|a| {
                    m.attr(a)
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case(key))
                });
            if named {
                if let Some(v) = m
                    .attr("content")
                    .map(|c| clean(&c))
                    .filter(|c| !c.is_empty())
                {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// A visible byline marked up as such (`rel=author`, `itemprop=author`).
fn byline(doc: &Document) -> Option<String> {
    doc.select("[itemprop~='author'] [itemprop~='name'], [itemprop~='author'], a[rel~='author']")
        .iter()
        .map(|n| clean(&n.text()))
        .find(|t| !t.is_empty() && t.chars().count() < 100)
}

/// The publication time of a `<time datetime>` element: one marked as the
/// publication date first, else the first inside the article.
fn time_element(doc: &Document) -> Option<String> {
    let marked = doc.select(
        "time[itemprop~='datePublished'][datetime], time[pubdate][datetime], [itemprop~='datePublished'][content]",
    );
    marked
        .iter()
        .find_map(|t| t.attr("datetime").or_else(|| t.attr("content")))
        .or_else(|| {
            // Selections come in document order, so try each scope in turn.
            [
                "article time[datetime]",
                "main time[datetime]",
                "time[datetime]",
            ]
            .iter()
            .find_map(|sel| doc.select(sel).iter().find_map(|t| t.attr("datetime")))
        })
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Default)]
struct LdArticle {
    title: Option<String>,
    author: Option<String>,
    site: Option<String>,
    published: Option<String>,
    canonical: Option<String>,
    lang: Option<String>,
    body: Option<String>,
}

/// The first article described in the page's JSON-LD blocks.
fn json_ld(doc: &Document) -> LdArticle {
    let mut nodes = Vec::new();
    for script in doc.select("script[type]").iter() {
        let is_ld = script
            .attr("type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
        if !is_ld {
            continue;
        }
        let raw = script.text();
        // Some CMSs wrap the JSON in a CDATA section or an HTML comment.
        let raw = raw
            .trim()
            .trim_start_matches("//<![CDATA[")
            .trim_start_matches("<![CDATA[")
            .trim_start_matches("<!--")
            .trim_end_matches("//]]>")
            .trim_end_matches("]]>")
            .trim_end_matches("-->")
            .trim()
            .trim_end_matches(';');
        if let Ok(v) = serde_json::from_str::<Value>(raw) {
            flatten(v, &mut nodes, 0);
        }
    }
    let Some(article) = nodes.iter().find(|n| is_article(n)) else {
        // A how-to or a recipe built by script may hold its whole text
        // only here.
        return LdArticle {
            body: nodes.iter().find_map(instructions),
            ..LdArticle::default()
        };
    };
    let by_id = |v: &Value| -> Value {
        // `{"@id": ...}` alone refers to another node of the @graph.
        match v.as_object() {
            Some(o) if o.len() == 1 && o.contains_key("@id") => nodes
                .iter()
                .find(|n| {
                    n.get("@id") == o.get("@id") && n.as_object().is_some_and(|m| m.len() > 1)
                })
                .cloned()
                .unwrap_or(Value::Null),
            _ => v.clone(),
        }
    };
    let authors: Vec<String> = match article.get("author").or_else(|| article.get("creator")) {
        Some(Value::Array(a)) => a.iter().filter_map(|a| name_of(&by_id(a))).collect(),
        Some(a) => name_of(&by_id(a)).into_iter().collect(),
        None => Vec::new(),
    };
    let mut unique: Vec<String> = Vec::new();
    for a in authors {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let site = article
        .get("publisher")
        .map(&by_id)
        .and_then(|p| name_of(&p))
        .or_else(|| {
            article
                .get("isPartOf")
                .map(&by_id)
                .and_then(|p| name_of(&p))
        });
    let canonical = article
        .get("mainEntityOfPage")
        .map(|m| match m {
            Value::Object(o) => o
                .get("@id")
                .or_else(|| o.get("url"))
                .cloned()
                .unwrap_or(Value::Null),
            other => other.clone(),
        })
        .and_then(|m| string(&m))
        .or_else(|| article.get("url").and_then(string))
        .filter(|u| u.starts_with("http"));
    LdArticle {
        title: article
            .get("headline")
            .or_else(|| article.get("name"))
            .and_then(string),
        author: (!unique.is_empty()).then(|| unique.join(", ")),
        site,
        published: article
            .get("datePublished")
            .or_else(|| article.get("dateCreated"))
            .and_then(string),
        canonical,
        lang: article.get("inLanguage").and_then(|l| match l {
            Value::Object(o) => o.get("name").and_then(string),
            other => string(other),
        }),
        // Not `string`: that would join the body's paragraphs.
        body: article
            .get("articleBody")
            .and_then(Value::as_str)
            .filter(|b| !b.trim().is_empty())
            .map(str::to_owned),
    }
}

/// The text of a `HowTo` or a `Recipe` node, as HTML: its description,
/// its ingredients as a list, and its steps in order (each step's text,
/// or its name when it has none; sections hold steps).
fn instructions(v: &Value) -> Option<String> {
    let kind = |t: &Value| t.as_str().is_some_and(|t| matches!(t, "HowTo" | "Recipe"));
    let is = match v.get("@type") {
        Some(Value::Array(ts)) => ts.iter().any(kind),
        Some(t) => kind(t),
        None => false,
    };
    if !is {
        return None;
    }
    fn steps(v: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 6 {
            return;
        }
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| steps(i, out, depth + 1)),
            Value::Object(o) => {
                if let Some(text) = o.get("text").and_then(Value::as_str) {
                    out.push(text.to_owned());
                } else if let Some(list) = o.get("itemListElement") {
                    steps(list, out, depth + 1);
                } else if let Some(name) = o.get("name").and_then(Value::as_str) {
                    out.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    let mut html = String::new();
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        html.push_str(&text_as_html(d));
    }
    let mut items = Vec::new();
    if let Some(i) = v.get("recipeIngredient") {
        steps(i, &mut items, 0);
    }
    if !items.is_empty() {
        html.push_str("<ul>");
        for i in &items {
            html.push_str(&format!("<li>{}</li>", text_as_html(i)));
        }
        html.push_str("</ul>");
    }
    let mut done = Vec::new();
    for key in ["step", "recipeInstructions"] {
        if let Some(s) = v.get(key) {
            steps(s, &mut done, 0);
        }
    }
    for s in &done {
        html.push_str(&text_as_html(s));
    }
    let any = html.chars().any(|c| !c.is_whitespace());
    any.then_some(html)
}

/// A piece of JSON-LD text as HTML: as it is when it is HTML already,
/// else each line a paragraph (`<` escaped; entities still decode, as in
/// `articleBody`).
pub(super) fn text_as_html(s: &str) -> String {
    if s.contains("</") || s.contains("<p") || s.contains("<br") {
        return s.to_owned();
    }
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", l.replace('<', "&lt;")))
        .collect()
}

/// Puts every node of `v` (top-level arrays, `@graph` members) in `out`.
fn flatten(v: Value, out: &mut Vec<Value>, depth: usize) {
    if depth > 4 {
        return;
    }
    match v {
        Value::Array(items) => {
            for i in items {
                flatten(i, out, depth + 1);
            }
        }
        Value::Object(mut o) => {
            if let Some(graph) = o.remove("@graph") {
                flatten(graph, out, depth + 1);
            }
            if !o.is_empty() {
                out.push(Value::Object(o));
            }
        }
        _ => {}
    }
}

fn is_article(v: &Value) -> bool {
    let is = |t: &Value| {
        t.as_str().is_some_and(|t| {
            let t = t.rsplit('/').next().unwrap_or(t);
            ARTICLE_TYPES.contains(&t)
        })
    };
    match v.get("@type") {
        Some(Value::Array(ts)) => ts.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

/// A person's or organisation's name: a string, or an object's `name`.
fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::String(_) => string(v).filter(|s| !s.starts_with("http")),
        Value::Object(o) => o.get("name").and_then(|n| match n {
            Value::Array(a) => a.first().and_then(string),
            other => string(other),
        }),
        Value::Array(a) => a.iter().find_map(name_of),
        _ => None,
    }
}

fn string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(clean(&decode_entities(s))).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(string),
        _ => None,
    }
}

/// JSON-LD strings sometimes carry HTML entities (`&amp;`, `&#8217;`).
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let doc = Document::fragment(format!("<p>{}</p>", s.replace('<', "&lt;")));
    doc.select("p").text().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(html: &str) -> Meta {
        read(&Document::from(html))
    }

    #[test]
    fn json_ld_graph_with_author_reference() {
        let m = meta(
            r#"<html lang="en-GB"><head><script type="application/ld+json">
            {"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","@id":"https://n.example/#site","name":"Wrong"},
              {"@type":"Person","@id":"https://n.example/#ada","name":"Ada Lovelace"},
              {"@type":["NewsArticle"],"headline":"Engines &amp; numbers",
               "author":{"@id":"https://n.example/#ada"},
               "publisher":{"@type":"Organization","name":"The Example Times"},
               "datePublished":"2026-03-01T08:00:00+01:00",
               "mainEntityOfPage":{"@id":"https://n.example/2026/engines"}}]}
            </script></head><body></body></html>"#,
        );
        assert_eq!(m.title.as_deref(), Some("Engines & numbers"));
        assert_eq!(m.author.as_deref(), Some("Ada Lovelace"));
        assert_eq!(m.site.as_deref(), Some("The Example Times"));
        assert_eq!(m.published.as_deref(), Some("2026-03-01T08:00:00+01:00"));
        assert_eq!(
            m.canonical.as_deref(),
            Some("https://n.example/2026/engines")
        );
        assert_eq!(m.lang.as_deref(), Some("en-GB"));
    }

    #[test]
    fn json_ld_author_array_and_string() {
        let m = meta(
            r#"<script type="application/ld+json">[{"@type":"BreadcrumbList"},
            {"@type":"ReportageNewsArticle","headline":"H",
             "author":[{"@type":"Person","name":"A One"},"B Two",{"name":"A One"}]}]</script>"#,
        );
        assert_eq!(m.author.as_deref(), Some("A One, B Two"));
        let m = meta(
            r#"<script type="application/ld+json">{"@type":"BlogPosting","author":"Solo Writer"}</script>"#,
        );
        assert_eq!(m.author.as_deref(), Some("Solo Writer"));
    }

    #[test]
    fn open_graph_and_dublin_core_when_no_json_ld() {
        let m = meta(
            r#"<head><meta property="og:title" content="OG title">
            <meta property="og:site_name" content="Site">
            <meta property="article:author" content="https://site.example/staff/x">
            <meta name="DC.creator" content="Dee Cee">
            <meta name="DC.date.issued" content="2025-12-24">
            <meta property="og:url" content="https://site.example/a"></head>"#,
        );
        assert_eq!(m.title.as_deref(), Some("OG title"));
        assert_eq!(m.site.as_deref(), Some("Site"));
        // The profile URL in article:author is not a name.
        assert_eq!(m.author.as_deref(), None);
        assert_eq!(m.published.as_deref(), Some("2025-12-24"));
        assert_eq!(m.canonical.as_deref(), Some("https://site.example/a"));
    }

    #[test]
    fn time_element_is_the_last_resort_for_the_date() {
        let m = meta(
            r#"<body><header><time datetime="2020-01-01">old</time></header>
            <article><p>x</p><time datetime="2026-02-03T10:00:00Z">3 Feb</time></article></body>"#,
        );
        assert_eq!(m.published.as_deref(), Some("2026-02-03T10:00:00Z"));
        let m = meta(r#"<p>By <a rel="author" href="/x">Kim Lee</a></p>"#);
        assert_eq!(m.author.as_deref(), Some("Kim Lee"));
    }

    #[test]
    fn broken_json_ld_is_ignored() {
        let m = meta(
            r#"<script type="application/ld+json">{"@type":"NewsArticle",</script><meta property="og:title" content="T">"#,
        );
        assert_eq!(m.title.as_deref(), Some("T"));
    }
}
