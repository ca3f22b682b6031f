//! The readable article inside an HTML page, with its metadata.
//!
//! The page is parsed once, with its nesting bounded so that the parse
//! stays linear however the page nests ([`parse`]). Metadata is read first, from the untouched
//! page ([`meta`]). Then page furniture is removed ([`clean`]),
//! dom_smoothie (a port of readability.js) picks the article's container
//! from what is left, what is in that container but not the story goes
//! ([`prune`]), and [`text`] renders the rest as plain text. A page whose
//! text is only in its JSON-LD `articleBody` falls back to that.
//!
//! Every rule is general: words of web vocabulary, link density, the
//! shape of a line. None names a site, and none may: the extractor is
//! judged on pages it has never seen (`bench/extraction` measures it).

mod clean;
mod meta;
mod parse;
mod prune;
mod text;

use dom_query::{Document, Selection};
use dom_smoothie::{Config, Readability};
use prune::non_space;

use crate::content::word_count;
use crate::error::{Error, Result};
use crate::time::{parse_published, Timestamp};
use crate::urls::{normalize_url, resolve};

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

/// The deepest nesting read: the text renderer, the pruning walks and
/// readability recurse, and `nj recheck` loads pages on threads with the
/// default 2 MiB stack, so a page deeper than this after flattening is
/// refused rather than risk overflowing it. Real articles nest a few dozen
/// deep.
const MAX_DEPTH: usize = 500;

/// JSON-LD `articleBody` as text: some sites put HTML in it, others plain
/// text with line breaks between paragraphs.
fn body_text(body: &str) -> String {
    let doc = parse::fragment(&meta::text_as_html(body)).doc;
    text::render(&doc.root())
}

/// The text of HTML that is already an article's body, as read-later
/// tools export it (wallabag's `content`, Omnivore's `content/*.html`):
/// rendered whole, paragraphs and lists kept, scripts and styles dropped,
/// without readability's search for the article in a page.
pub fn html_to_text(html: &str) -> String {
    let doc = parse::fragment(html).doc;
    doc.select("script, style, noscript, template, iframe, svg, rt, rp")
        .remove();
    if clean::flatten_deep(&doc) > MAX_DEPTH {
        // Too deep to walk safely: its bare text will do.
        return doc.root().text().to_string();
    }
    text::render(&doc.root())
}

fn no_article(what: &str) -> Error {
    Error::BadInput(format!(
        "found no article text in {what}; if the page is right, save its text to a .txt file and clip that"
    ))
}

/// The error for a page that shows (almost) nothing but scripts: its text
/// is built in the browser, which nj does not run.
fn scripted_page(what: &str) -> Error {
    Error::BadInput(format!(
        "found no article text in {what}: the page builds its text with JavaScript, which nj does not run; \
         save the page from your browser (Save Page As) and clip that file, or save its text to a .txt file"
    ))
}

/// Whether the page is an app shell: next to no visible text, and scripts
/// that are clearly meant to make it (a `<noscript>` note, a loaded
/// script, or a large inline one). A blank page with a one-line script is
/// just blank.
fn is_script_page(doc: &Document) -> bool {
    let chars = |sel: &str| -> usize {
        doc.select(sel)
            .nodes()
            .iter()
            .map(|n| n.text().chars().filter(|c| !c.is_whitespace()).count())
            .sum()
    };
    let scripts = chars("body script");
    let all = chars("body");
    let app = doc.select("noscript, script[src]").exists() || chars("script") >= 1000;
    app && all.saturating_sub(scripts + chars("body noscript, body style")) < 200
}

/// The least text (non-space characters, some hundred words) a block of
/// paragraphs must hold to stand in for what readability found.
const MIN_BLOCK_CHARS: usize = 500;

/// The element whose paragraphs hold the most text, and that text's size
/// in non-space characters (counted in characters, not words, so a
/// Japanese page weighs the same): each paragraph of a sentence or more
/// that is not mostly links counts in full for its parent and half for
/// the parent's parent (a story whose paragraphs sit one per wrapper).
/// Returns the element's HTML, for a result far smaller than it.
fn paragraph_block(doc: &Document) -> Option<(usize, String)> {
    use std::collections::HashMap;
    // Paragraphs never counted: those in the readers' comments (many long
    // paragraphs, never the article), in a footer or a dialog, or hidden.
    let outside = marked(doc, "body *", is_outside_text);
    let mut order = HashMap::new();
    let mut score: HashMap<_, (usize, dom_query::NodeRef)> = HashMap::new();
    for p in doc.select("p").nodes() {
        if outside.contains(&p.id) {
            continue;
        }
        let chars = non_space(&p.text());
        let links = prune::link_chars(p);
        if chars < 40 || links * 2 > chars {
            continue;
        }
        let own = chars - links;
        let Some(parent) = p.parent() else { continue };
        let next = order.len();
        order.entry(parent.id).or_insert(next);
        score.entry(parent.id).or_insert((0, parent)).0 += own;
        if let Some(grand) = parent.parent().filter(|g| g.is_element()) {
            let next = order.len();
            order.entry(grand.id).or_insert(next);
            score.entry(grand.id).or_insert((0, grand)).0 += own / 2;
        }
    }
    // The largest, and of equal ones the first in the page.
    let (chars, node) = score
        .into_values()
        .max_by_key(|(chars, node)| (*chars, std::cmp::Reverse(order[&node.id])))?;
    Some((chars, node.html().to_string()))
}

/// Every element under (or itself) one of `doc`'s `selector` matches that
/// satisfies `pred`: marked once from the top, so a deep page is walked
/// once and not once an element.
fn marked(
    doc: &Document,
    selector: &str,
    pred: impl Fn(&dom_query::NodeRef) -> bool,
) -> std::collections::HashSet<dom_query::NodeId> {
    let mut set = std::collections::HashSet::new();
    for node in doc.select(selector).nodes() {
        if !set.contains(&node.id) && pred(node) {
            set.extend(node.descendants_it().map(|d| d.id));
        }
    }
    set
}

/// Whether no paragraph under `node` is the article's: the readers'
/// comments (a word of its class or id says so), a footer, a dialog, or a
/// hidden element.
fn is_outside_text(node: &dom_query::NodeRef) -> bool {
    if matches!(node.node_name().as_deref(), Some("footer" | "dialog")) || clean::is_hidden(node) {
        return true;
    }
    clean::any_name_token(node, |token| {
        clean::words(token)
            .iter()
            .any(|w| matches!(w.as_str(), "comment" | "comments" | "respond" | "disqus"))
    })
}

/// The HTML of the one outermost element that the page's CMS or schema.org
/// markup names as holding the post's text (`entry-content`,
/// `itemprop=articleBody`...), if there is exactly one: a page of several
/// posts has no one such element.
fn text_container(doc: &Document) -> Option<String> {
    let found = doc.select(clean::TEXT_CONTAINERS);
    let nodes = found.nodes();
    // Many are a page of many posts, never one container.
    if nodes.len() > 50 {
        return None;
    }
    let ids: std::collections::HashSet<_> = nodes.iter().map(|n| n.id).collect();
    let outermost: Vec<_> = nodes
        .iter()
        .filter(|n| !n.ancestors_it(None).any(|a| ids.contains(&a.id)))
        .collect();
    match outermost.as_slice() {
        [one] => Some(one.html().to_string()),
        _ => None,
    }
}

/// The paragraphs of the page's article-like containers (`<article>`,
/// `<main>`, a CMS text container), read after the furniture went and
/// before readability chose: readability keeps one block, and a story set
/// in sibling wrappers (a page builder's rows, a stand-first in the
/// article's header, a block its class words score down) loses the rest.
struct Containers {
    /// Each paragraph of a sentence or more that is not mostly a link:
    /// its text as rendered, the same without white space, and whether it
    /// holds a link.
    paragraphs: Vec<(String, String, bool)>,
    /// Each container: its non-space characters, how many of them are link
    /// text, and its paragraphs (indexes into `paragraphs`).
    containers: Vec<(usize, usize, Vec<usize>)>,
}

/// The fewest characters a paragraph recovered from beside readability's
/// choice holds: a sentence or two, not a caption or a label.
const MIN_RECOVERED_CHARS: usize = 80;

/// Past this many containers the page is a list of teasers or posts, not
/// one story in pieces (and each container's text is read whole).
const MAX_CONTAINERS: usize = 20;

/// Past this many paragraphs in them the page is no one story (and each
/// is looked for in the text found).
const MAX_RECOVERY_PARAGRAPHS: usize = 2000;

fn containers(doc: &Document) -> Option<Containers> {
    use std::collections::HashMap;
    let selector = format!("article, main, {}", clean::TEXT_CONTAINERS);
    let found = doc.select(&selector);
    let nodes = found.nodes();
    if nodes.is_empty() || nodes.len() > MAX_CONTAINERS {
        return None;
    }
    // What is inside a link, a comment thread, a footer, a dialog or a
    // hidden element.
    let excluded = marked(doc, "body *", |node| {
        (node.node_name().as_deref() == Some("a") && node.has_attr("href")) || is_outside_text(node)
    });
    // Each paragraph's containers, from each container down (at most
    // MAX_CONTAINERS walks of the page).
    let mut within: HashMap<_, Vec<usize>> = HashMap::new();
    for (c, node) in nodes.iter().enumerate() {
        for d in node.descendants_it() {
            if d.node_name().as_deref() == Some("p") && !excluded.contains(&d.id) {
                within.entry(d.id).or_default().push(c);
            }
        }
    }
    if within.len() > MAX_RECOVERY_PARAGRAPHS {
        return None;
    }
    let mut containers: Vec<(usize, usize, Vec<usize>)> = nodes
        .iter()
        .map(|n| (non_space(&n.text()), prune::link_chars(n), Vec::new()))
        .collect();
    let mut paragraphs = Vec::new();
    for p in doc.select("p").nodes() {
        let Some(within) = within.get(&p.id) else {
            continue;
        };
        let chars = non_space(&p.text());
        if chars < MIN_RECOVERED_CHARS {
            continue;
        }
        let links = prune::link_chars(p);
        if links * 5 > chars {
            continue;
        }
        let text = text::render(p);
        let text = text.trim();
        if prune::is_boilerplate_paragraph(text, links > 0, false, false) {
            continue;
        }
        for &c in within {
            containers[c].2.push(paragraphs.len());
        }
        paragraphs.push((text.to_owned(), squashed(text), links > 0));
    }
    Some(Containers {
        paragraphs,
        containers,
    })
}

/// `found` with the paragraphs it lacks of the container it came from,
/// each after the paragraph it follows in the page (not those `pruned`
/// took out of it). The container is the
/// smallest holding the most of `found`'s paragraphs; it must be at most
/// four times `found`'s size and a quarter links at most, so a section
/// page around one teaser adds nothing.
fn recover_paragraphs(found: &str, from: &Containers, pruned: &[String]) -> Option<String> {
    let blocks: Vec<&str> = found.split("\n\n").collect();
    // The blocks without white space, end to end, and where each ends: a
    // paragraph readability split in two (at a double <br>) is found
    // across them.
    let mut all = String::new();
    let mut ends = Vec::with_capacity(blocks.len());
    let mut exact = std::collections::HashMap::new();
    for (i, b) in blocks.iter().enumerate() {
        let b = squashed(b);
        all.push_str(&b);
        ends.push(all.len());
        exact.entry(b).or_insert(i);
    }
    // Each paragraph's block, found once: a block that is the paragraph,
    // else a search of the whole text (within a budget, so a page of
    // thousands of paragraphs is not searched thousands of times over).
    if from.paragraphs.len().saturating_mul(all.len()) > SEARCH_BUDGET {
        return None;
    }
    let places: Vec<Option<usize>> = from
        .paragraphs
        .iter()
        .map(|(_, sq, _)| {
            exact.get(sq).copied().or_else(|| {
                all.find(sq.as_str())
                    .map(|at| ends.partition_point(|&end| end <= at))
            })
        })
        .collect();
    let (chars, links, paragraphs) = from
        .containers
        .iter()
        .map(|c| (c, c.2.iter().filter(|&&p| places[p].is_some()).count()))
        .filter(|(_, matched)| *matched > 0)
        .max_by_key(|((chars, _, _), matched)| (*matched, std::cmp::Reverse(*chars)))?
        .0;
    let found_chars = non_space(found);
    if *chars > found_chars * 4 || links * 4 > *chars {
        return None;
    }
    // What pruning took out of readability's pick is not lost text.
    let pruned: std::collections::HashSet<String> = pruned.iter().map(|t| squashed(t)).collect();
    // What goes after which block (before the first: `usize::MAX`).
    let mut after: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    let mut last = usize::MAX;
    let last_block = blocks.len() - 1;
    for &p in paragraphs {
        let (text, sq, linked) = &from.paragraphs[p];
        match places[p] {
            Some(j) => last = j,
            None if pruned.contains(sq) => {}
            None => {
                // Before the first block or after the last, it would open
                // or close the text: the rules for a text's first and last
                // lines (a call to download the app, a dateline) apply.
                let start = last == usize::MAX;
                let end = last == last_block;
                if !prune::is_boilerplate_paragraph(text, *linked, start, end) {
                    after.entry(last).or_default().push(text);
                }
            }
        }
    }
    if after.is_empty() {
        return None;
    }
    let mut out: Vec<&str> = after.remove(&usize::MAX).unwrap_or_default();
    for (j, block) in blocks.iter().enumerate() {
        out.push(block.trim_end_matches('\n'));
        out.extend(after.remove(&j).unwrap_or_default());
    }
    Some(out.join("\n\n"))
}

/// Bytes of text times paragraphs that recovering paragraphs may search:
/// tens of milliseconds at most.
const SEARCH_BUDGET: usize = 50_000_000;

/// The one `<article>` headed by the page's own headline, on a page of
/// several long ones (a story with the next ones loaded below it, as an
/// endless scroll does): readability may take a later story for the
/// page's, or all of them. The innermost article around the first such
/// heading; None on a page of one story.
fn titled_article(doc: &Document, title: &str) -> Option<String> {
    let title = prune::fold(title);
    if !(15..=500).contains(&title.chars().count()) {
        return None;
    }
    let articles = doc.select("article");
    let nodes = articles.nodes();
    if nodes.len() < 2 || nodes.len() > 50 {
        return None;
    }
    let headed = |h: &dom_query::NodeRef| {
        let heading = prune::fold(&h.text());
        heading.chars().count() >= 15 && title.contains(&heading)
    };
    let headings = doc.select("h1, h2");
    let story = headings
        .nodes()
        .iter()
        .filter(|h| headed(h))
        .find_map(|h| {
            h.ancestors_it(None)
                .find(|a| a.node_name().as_deref() == Some("article"))
        })?;
    // Another story beside it: a long article, not around it nor inside
    // it, with a headline of its own. (A page with an <article> a block
    // has one story.)
    let related =
        |a: &dom_query::NodeRef, b: &dom_query::NodeRef| a.ancestors_it(None).any(|x| x.id == b.id);
    let other = nodes.iter().any(|a| {
        a.id != story.id
            && !related(a, &story)
            && !related(&story, a)
            && non_space(&a.text()) >= MIN_BLOCK_CHARS
            && Selection::from(*a)
                .select("h1, h2")
                .nodes()
                .iter()
                .any(|h| !headed(h))
    });
    other.then(|| story.html().to_string())
}

/// The headline's own story instead of `found` when `found` is another
/// story, or it and the stories after it (more than twice its size and
/// holding nearly all of it, when it is long enough to be a story whole
/// and not the header of one).
fn prefer_titled(found: String, theirs: String) -> String {
    let words = found.split_whitespace().count();
    let their_words = theirs.split_whitespace().count();
    if words > their_words * 2
        && non_space(&theirs) >= MIN_BLOCK_CHARS
        && shared_words(&theirs, &found) * 10 >= their_words * 9
    {
        theirs
    } else {
        prefer_named(found, theirs)
    }
}

/// `theirs` (the text of an element the page's markup names as the
/// story's) instead of `found`, when `found` shares next to none of its
/// words: readability settled elsewhere (a sidebar's "about me" box, a
/// teaser, another story).
fn prefer_named(found: String, theirs: String) -> String {
    let words = found.split_whitespace().count();
    let their_words = theirs.split_whitespace().count();
    if their_words > 0
        && (words == 0 || (their_words * 5 >= words && shared_words(&found, &theirs) * 5 < words))
    {
        theirs
    } else {
        found
    }
}

/// How many of the words of `a` are also in `b` (counted with repeats).
fn shared_words(a: &str, b: &str) -> usize {
    let mut theirs: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for w in b.split_whitespace() {
        *theirs.entry(w).or_default() += 1;
    }
    a.split_whitespace()
        .filter(|w| {
            theirs.get_mut(w).is_some_and(|n| {
                let left = *n > 0;
                *n = n.saturating_sub(1);
                left
            })
        })
        .count()
}

/// Words in a class that name an article's stand-first: the paragraph or
/// two under the headline that sum it up, which many pages set outside the
/// body's container (in the header), where readability does not look.
const LEAD_WORDS: &[&str] = &[
    "lead",
    "lede",
    "intro",
    "teaser",
    "excerpt",
    "chapo",
    "standfirst",
    "leader",
    "abstract",
    "deck",
];

/// The text of the page's one stand-first: an element inside its
/// `<article>` or `<main>` whose class names it (`article-lead`,
/// `entry-excerpt`, `chapo`), of one to a few sentences, not a link. None
/// when there are several (a page of teasers to other stories).
fn lead_paragraph(doc: &Document) -> Option<String> {
    // What is inside an <article> or a <main>.
    let inside = marked(doc, "article, main", |_| true);
    let leads: Vec<_> = doc
        .select("[class]")
        .nodes()
        .iter()
        .filter(|node| inside.contains(&node.id))
        .filter(|node| {
            node.attr("class")
                .unwrap_or_default()
                .split_whitespace()
                .any(|token| {
                    clean::words(token)
                        .last()
                        .is_some_and(|w| LEAD_WORDS.contains(&w.as_str()))
                })
        })
        .copied()
        .collect();
    // A page of teasers names many; looking at each would cost a walk of
    // each one's ancestors and contents.
    if leads.len() > 100 {
        return None;
    }
    let mut found = None;
    for node in leads {
        // Not a link, nor the lead picture with its caption.
        if node
            .ancestors_it(None)
            .any(|a| a.node_name().as_deref() == Some("a"))
            || node.descendants_it().any(|d| {
                matches!(
                    d.node_name().as_deref(),
                    Some("a" | "figure" | "img" | "picture" | "video")
                )
            })
        {
            continue;
        }
        // Rendered as the article is, so it compares with it.
        let text = text::render(&node);
        let chars = non_space(&text);
        // A teaser cut short ("...") is the start of the body, not a
        // stand-first.
        let trimmed = text.trim_end();
        if !(30..=600).contains(&chars) || trimmed.ends_with("...") || trimmed.ends_with('…') {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some(trimmed.to_owned());
    }
    found
}

/// The text of an HTML fragment (a container found in the page), pruned
/// and rendered as the article is; `junk` also removes what the page's
/// cleaning would have (for a block taken before it ran).
fn pruned_text(html: &str, title: &str, junk: bool) -> String {
    let content = parse::fragment(html).doc;
    if junk {
        content
            .select(&format!("{}, figcaption, [hidden]", clean::JUNK_TAGS))
            .remove();
    }
    prune::prune(&content, title);
    text::render(&content.root())
}

/// Text without its white space, to ask whether one text holds another
/// however their lines were broken.
fn squashed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Extracts the article from `html`. `page_url`, when known, resolves
/// relative links such as the canonical URL. `what` names the source in
/// messages.
pub fn extract_html(what: &str, html: &str, page_url: Option<&str>) -> Result<Extracted> {
    let page_url = page_url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let parse::Parsed { doc, cut } = parse::document(html);
    // A page nested thousands deep (broken markup or a hostile one) would
    // take readability minutes; flatten its wrappers first, and refuse the
    // rare page that stays too deep to walk safely.
    let depth = clean::flatten_deep(&doc);
    if depth > MAX_DEPTH {
        // Tags past the parser's bound were dropped: the page nests deeper
        // than what is left.
        let more = if cut { "more than " } else { "" };
        return Err(Error::BadInput(format!(
            "{what} nests its HTML {more}{depth} levels deep, too deep to read; save the article's text to a .txt file and clip that"
        )));
    }
    let meta = meta::read(&doc);
    let canonical = meta
        .canonical
        .as_deref()
        .and_then(|h| resolve(page_url, h))
        .and_then(|u| normalize_url(&u))
        .filter(|u| !is_site_root(u));
    let page_title = non_empty(Some(doc.select("title").first().text().to_string()));
    let scripted = is_script_page(&doc);

    // The page's own headline: a <title> often adds the site's name
    // ("Headline | Site"), which the lone <h1> does not.
    let h1 = doc.select("h1");
    let h1 = non_empty(Some(h1.first().text().to_string())).filter(|h| {
        h1.length() == 1
            && page_title
                .as_deref()
                .is_some_and(|t| t.starts_with(h.as_str()))
    });

    // Unnamed comment threads go first: the paragraph block would
    // otherwise count a long one as the story.
    clean::drop_comment_threads(&doc);
    let block = paragraph_block(&doc);
    clean::clean(&doc);
    let lead = lead_paragraph(&doc);
    let container = text_container(&doc);
    let pieces = containers(&doc);
    let titled = meta.title.as_deref().and_then(|t| titled_article(&doc, t));
    let mut readability = Readability::with_document(doc, page_url, Some(Config::default()))
        .map_err(|e| Error::BadInput(format!("cannot read {what} as HTML: {e}")))?;
    let parsed = readability.parse().ok();
    let title = non_empty(meta.title)
        .or(h1)
        .or(parsed
            .as_ref()
            .and_then(|a| non_empty(Some(a.title.clone()))))
        .or(page_title)
        .unwrap_or_default();
    // What pruning took out of readability's pick, so that it does not
    // come back as a paragraph left beside it.
    let mut pruned = Vec::new();
    let found_text = match parsed {
        Some(article) => {
            let content = parse::document(article.content.as_ref()).doc;
            pruned = prune::prune(&content, &title);
            text::render(&content.root())
        }
        None => String::new(),
    };
    // Readability can settle on a caption, a tagline or a teaser (the
    // story's own container taken for furniture) while the page held a
    // block of real paragraphs many times larger: the block is the
    // article then. (Found before the furniture went, and never among
    // readers' comments.)
    let found_text = match block {
        Some((chars, html)) if chars >= MIN_BLOCK_CHARS && non_space(&found_text) * 8 < chars => {
            let text = pruned_text(&html, &title, true);
            if non_space(&text) > non_space(&found_text) {
                text
            } else {
                found_text
            }
        }
        _ => found_text,
    };
    // The element the CMS says holds the post's text, when readability
    // chose something else (a sidebar's "about me" box, a teaser) that
    // shares next to none of its words.
    let found_text = match container {
        Some(html) => prefer_named(found_text, pruned_text(&html, &title, false)),
        None => found_text,
    };
    // The story the page's headline heads, of several on the page.
    let found_text = match titled {
        Some(html) => prefer_titled(found_text, pruned_text(&html, &title, false)),
        None => found_text,
    };
    // The story's paragraphs that readability left beside its choice.
    let found_text = match pieces {
        Some(pieces) if !found_text.is_empty() => {
            recover_paragraphs(&found_text, &pieces, &pruned).unwrap_or(found_text)
        }
        _ => found_text,
    };
    // The stand-first, which many pages set above the body's container.
    let found_text = match lead {
        Some(lead)
            if !found_text.is_empty() && !squashed(&found_text).contains(&squashed(&lead)) =>
        {
            format!("{lead}\n\n{found_text}")
        }
        _ => found_text,
    };
    // A page built by script may carry its whole text only in JSON-LD
    // `articleBody`; a page may also hide most of it from readability.
    // The declared body wins when the page shows less than half of it.
    let declared = meta.body.as_deref().map(body_text).unwrap_or_default();
    let text = if word_count(&found_text) * 2 < word_count(&declared) {
        declared
    } else {
        found_text
    };
    if text.trim().is_empty() {
        return Err(if scripted {
            scripted_page(what)
        } else {
            no_article(what)
        });
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

#[cfg(test)]
mod tests {
    //! Regression tests on pages written for them (tests/fixtures/extract/),
    //! each pinning the exact text kept.

    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/extract/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    fn extract(name: &str) -> Extracted {
        extract_html(name, &fixture(name), Some("https://news.example/story"))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// A class that only mentions a furniture word is not furniture: a
    /// post's `author-NAME`, a BEM modifier (`--Ads`), a text wrapper
    /// named for its "read more" expander. Matching the words anywhere
    /// dropped the post, and the tagline was taken for the article.
    #[test]
    fn class_words_that_qualify_do_not_drop_the_post() {
        let ex = extract("class-words.html");
        assert_eq!(
            ex.text,
            "The first frost came on Tuesday night, a week earlier than last year, and by the morning the last of the runner beans had turned black on their canes.\n\n\
             I had lifted the dahlias the weekend before, which now looks lucky, and the leeks and parsnips are the better for the cold, as the old growers always said they would be.\n\n\
             The greenhouse thermometer read minus three at dawn, and the heater I had doubted kept the chillies alive through the night.\n\n\
             Next week the beds get their winter mulch, and the shed gets the tidy it has needed since June."
        );
    }

    /// A short post beside a longer "about me" box: readability scores the
    /// box higher, but the page's markup names the post's text
    /// (`entry-content`), and the box shares none of its words.
    #[test]
    fn the_element_named_for_the_text_beats_a_longer_profile_box() {
        let ex = extract("about-box.html");
        assert_eq!(
            ex.text,
            "The starter finally doubled in four hours, so I baked two loaves before breakfast.\n\n\
             The crumb was tighter than I hoped, and the crust too pale. Next time: a longer proof, a hotter oven."
        );
    }

    /// The story's container is taken for furniture (a share word in its
    /// class, and less than a third of a page padded with address lists),
    /// and all that is left is the tagline: a result many times smaller
    /// than the page's largest block of paragraphs gives way to it.
    #[test]
    fn a_tiny_result_gives_way_to_the_block_of_paragraphs() {
        let ex = extract("tiny-result.html");
        assert!(
            ex.text
                .starts_with("The regional water board approved a plan on Thursday"),
            "{}",
            ex.text
        );
        assert!(
            ex.text.ends_with("and what was found there."),
            "{}",
            ex.text
        );
        assert_eq!(ex.text.matches("\n\n").count(), 5, "{}", ex.text);
        assert!(!ex.text.contains("News from the valley"), "{}", ex.text);
    }

    /// A post inside `<noscript>`, or a page an unclosed `<noscript><div>`
    /// takes in whole, is read; a small "enable JavaScript" note is not.
    #[test]
    fn text_in_a_large_noscript_is_read() {
        let para = "The harbour wall will be rebuilt over two summers, the council said, after the winter storms opened a gap near the lifeboat station.";
        let html = format!(
            "<html><head><title>Harbour wall</title></head><body>\
             <noscript><p>Please enable JavaScript.</p></noscript>\
             <noscript><div id=\"page\"></noscript><div class=\"story\"><p>{para}</p><p>{para}</p></div>\
             <noscript></div></noscript></body></html>"
        );
        let ex = extract_html("page", &html, None).unwrap();
        assert_eq!(ex.text, format!("{para}\n\n{para}"));
    }

    /// The furniture lines of a German page go as an English page's do:
    /// an ad label, a "read also" line, the source, a share prompt, the
    /// updated line.
    #[test]
    fn furniture_lines_in_german_go() {
        let ex = extract("german.html");
        assert_eq!(ex.lang.as_deref(), Some("de"));
        assert_eq!(
            ex.text,
            "Die Stadt will bis zum Sommer zwei neue Radwege entlang des Flusses bauen. Der Stadtrat stimmte am Dienstag mit großer Mehrheit für die Pläne der Verwaltung.\n\n\
             Die Wege sollen drei Meter breit werden und nachts beleuchtet sein. Die Kosten von rund vier Millionen Euro trägt zur Hälfte das Land.\n\n\
             Anwohner hatten sich seit Jahren über zu enge Wege beschwert, auf denen sich Fußgänger und Radfahrer gefährlich nahe kommen."
        );
    }

    /// A heading left heading nothing (its gallery or its link list went)
    /// goes too; headings with text under them stay.
    #[test]
    fn headings_with_nothing_under_them_go() {
        // A heading over text set loose (in no block of its own) stays.
        let loose = "<html><body><div class=\"post-body\"><p>The ferry runs again from Monday after a month in dry dock for repairs to its hull.</p>\
            <h3>The timetable</h3>Boats leave every hour from seven in the morning.<br>The last boat leaves at ten at night.</div></body></html>";
        let ex = extract_html("loose", loose, None).unwrap();
        assert!(ex.text.contains("The timetable\n"), "{}", ex.text);
        let ex = extract("empty-headings.html");
        assert_eq!(
            ex.text,
            "The covered market hall reopened on Saturday after eight months of repairs to its roof, which had leaked onto the stalls since a storm in February.\n\n\
             Traders return\n\n\
             Most of the forty traders who moved to a car park during the work have returned, and the fishmonger and the cheese stall reopened in their old places by the door.\n\n\
             What comes next\n\n\
             The council will repaint the iron frame next summer, with the hall open as usual while the work is done at night."
        );
    }

    /// The stand-first sits in the header, outside the body's container
    /// where readability looks: it comes first in the text.
    #[test]
    fn the_stand_first_outside_the_body_comes_first() {
        let ex = extract("stand-first.html");
        assert_eq!(
            ex.text,
            "The walls along eleven miles of the estuary will be raised by half a metre over the next decade, at a cost of ninety million pounds.\n\n\
             The environment agency said on Monday that the work would start at the two towns where the walls are lowest, and move along the estuary a section at a time.\n\n\
             Farmers on the low land behind the walls welcomed the plan, but asked for the old sluices to be replaced at the same time, saying they now leak at every spring tide.\n\n\
             The agency said it would publish the order of the work in the spring, after talks with the councils and the landowners along the route."
        );
    }

    /// The stand-first is added once, only when the text lacks it, and not
    /// when the page names two (teasers) or it is cut short.
    #[test]
    fn the_stand_first_is_not_added_twice_or_from_teasers() {
        let page = fixture("stand-first.html");
        let lead = "The walls along eleven miles of the estuary will be raised by half a metre over the next decade, at a cost of ninety million pounds.";
        // Already the body's first paragraph: not added again.
        let inside = page.replace(
            "<div class=\"story-text\">",
            &format!("<div class=\"story-text\">\n  <p>{lead}</p>"),
        );
        let ex = extract_html("inside", &inside, None).unwrap();
        assert_eq!(ex.text.matches("eleven miles").count(), 1, "{}", ex.text);
        assert!(ex.text.starts_with(lead), "{}", ex.text);
        // Two elements named for a stand-first: teasers, neither is used.
        let two = page.replace(
            "</main>",
            "<div class=\"card-teaser\">Harbour dredging will resume in March after the winter storms, the port said.</div></main>",
        );
        let ex = extract_html("two", &two, None).unwrap();
        assert!(!ex.text.contains("eleven miles"), "{}", ex.text);
        // Cut short: the start of the body, not a stand-first.
        let cut = page.replace("ninety million pounds.</div>", "ninety million...</div>");
        let ex = extract_html("cut", &cut, None).unwrap();
        assert!(!ex.text.contains("eleven miles"), "{}", ex.text);
    }

    /// When readability's pick shares its words with the element named for
    /// the text, the pick stands (the container rule never trades a good
    /// result for a part of it).
    #[test]
    fn a_good_pick_is_kept_beside_the_text_container() {
        let para = "The council approved the new cycle lanes on Tuesday after a year of consultation with residents and shops along the route.";
        let html = format!(
            "<html><body><article><h1>Cycle lanes approved</h1>\
             <p class=\"standfirst-note\">{para}</p>\
             <div class=\"entry-content\"><p>{para}</p><p>{para} Work starts in spring.</p></div>\
             <p>{para} The lanes open next year.</p></article></body></html>"
        );
        let ex = extract_html("good", &html, None).unwrap();
        assert!(ex.text.contains("The lanes open next year."), "{}", ex.text);
        assert!(ex.text.contains("Work starts in spring."), "{}", ex.text);
    }

    /// A table's cells stay however much of them is a link: a lineup
    /// whose players link to their pages is the story's data.
    #[test]
    fn linked_table_cells_stay() {
        let para = "The home side named an unchanged batting order for the final game of the series on Sunday afternoon, with the captain at third.";
        let rows: String = [
            "Edwin Encarnacion",
            "Samuel Kettleworth",
            "Jonathan Marshfield",
        ]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "<tr><td>{}. <a href=\"/p{i}\">{name}</a> (R) 1B</td></tr>",
                i + 1
            )
        })
        .collect();
        let html = format!(
            "<html><body><article><p>{para}</p><table>{rows}</table><p>{para}</p></article></body></html>"
        );
        let ex = extract_html("lineup", &html, None).unwrap();
        assert!(
            ex.text.contains("1. Edwin Encarnacion (R) 1B"),
            "{}",
            ex.text
        );
        assert!(
            ex.text.contains("3. Jonathan Marshfield (R) 1B"),
            "{}",
            ex.text
        );
    }

    /// Captions and photo credits are not the story's text.
    #[test]
    fn captions_and_credits_are_left_out() {
        let ex = extract("captions.html");
        assert_eq!(
            ex.text,
            "Night buses will run again on the three northern routes from January, the transport authority said, four years after the service was cut during the pandemic.\n\n\
             Buses will leave the city centre every half hour between midnight and five in the morning on Fridays and Saturdays, and every hour on other nights.\n\n\
             Hospital and hotel workers had campaigned for the return of the service, saying taxis home after a late shift cost them a fifth of their pay."
        );
    }

    /// Ruby annotations (the reading printed above a word) are left out:
    /// kept, they ran into the words they annotate.
    #[test]
    fn ruby_annotations_do_not_run_into_the_text() {
        let ex = extract("ruby.html");
        assert_eq!(ex.title, "新しい図書館が駅前に開館");
        assert_eq!(ex.lang.as_deref(), Some("ja"));
        assert!(
            ex.text
                .starts_with("市は十二月一日、駅前に新しい図書館を開いたと発表した。"),
            "{}",
            ex.text
        );
        assert!(
            !ex.text.contains("えきまえ") && !ex.text.contains("としょかん"),
            "{}",
            ex.text
        );
        assert_eq!(ex.text.matches("\n\n").count(), 2, "{}", ex.text);
        assert_eq!(
            html_to_text("<p><ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>を読む</p>"),
            "漢字を読む"
        );
    }

    #[test]
    fn comments_under_the_article_are_not_the_article() {
        let ex = extract("comments.html");
        assert_eq!(ex.title, "Library Extends Opening Hours");
        assert_eq!(
            ex.text,
            "The central library will stay open until nine in the evening on weekdays from January, the council announced on Monday after a consultation that drew more than two thousand replies.\n\n\
             Students had asked for longer hours during the exam season, when the reading rooms fill by mid-morning and stay full until closing time.\n\n\
             The extra hours will be paid for by moving two mobile library routes to a fortnightly timetable, a change the council says few readers will notice."
        );
    }

    #[test]
    fn a_related_links_rail_and_read_more_lines_go() {
        let ex = extract("related-rail.html");
        assert_eq!(
            ex.text,
            "Ferry fares for island residents will not rise next year, the transport authority said on Thursday, reversing a plan to add eight percent to every ticket.\n\n\
             The authority had argued that fuel costs left it no choice, but a review of its contracts found savings large enough to cover the increase for residents.\n\n\
             Visitors will still pay the higher fare from April, and season tickets for commuters will go up by three percent."
        );
    }

    #[test]
    fn a_paywall_teaser_keeps_the_teaser_and_drops_the_offer() {
        let ex = extract("paywall.html");
        assert_eq!(
            ex.text,
            "For three weeks in October, the future of the town's steelworks rested on a single spreadsheet passed between four negotiators who rarely agreed on anything.\n\n\
             What they eventually signed kept two thousand jobs, but it also committed the town to a bill that will take a generation to pay."
        );
    }

    #[test]
    fn a_page_with_no_article_is_an_error_that_says_what_to_do() {
        let err = extract_html("sections.html", &fixture("no-article.html"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "found no article text in sections.html; if the page is right, save its text to a .txt file and clip that"
        );
    }

    /// Lists and headings inside the article stay. (Its figure's caption
    /// once stayed too; captions now go, as `captions.html` shows: each of
    /// the three development sets leaves them out of the article, and a
    /// photo credit is not the story's text.)
    #[test]
    fn lists_and_headings_inside_the_article_stay() {
        let ex = extract("lists-headings.html");
        assert_eq!(
            ex.text,
            "From March, every household in the district will sort its waste into four bins instead of two, and collections will move to a three-week cycle.\n\n\
             What goes where\n\n\
             - Glass and cans in the blue bin\n\
             - Paper and card in the green bin\n\
             - Food waste in the small brown caddy\n\n\
             Anything that does not fit one of those bins still goes in the black bin, which will be collected every three weeks rather than every two.\n\n\
             Key dates\n\n\
             1. February: new bins delivered\n\
             2. March: first collection under the new rules\n\n\
             The council says the change will save about 400,000 a year and raise the district's recycling rate above the national average for the first time."
        );
        assert!(!ex.text.contains("Win a weekend"));
    }

    #[test]
    fn json_ld_graph_gives_the_metadata_and_tracking_parameters_go() {
        let ex = extract("json-ld.html");
        assert_eq!(ex.title, "Tram line approved after ten-year wait");
        assert_eq!(ex.author.as_deref(), Some("Tomás Ferreira"));
        assert_eq!(ex.site.as_deref(), Some("Riverside Courier"));
        assert_eq!(ex.lang.as_deref(), Some("en-GB"));
        assert_eq!(
            ex.published_at.map(|t| t.rfc3339()).as_deref(),
            Some("2026-05-12T06:30:00Z")
        );
        assert_eq!(
            ex.canonical_url.as_deref(),
            Some("https://courier.example/news/tram-line-approved?page=2")
        );
        // The headline is the title, not the first line of the text.
        assert!(
            ex.text.starts_with("The city's first tram line"),
            "{}",
            ex.text
        );
    }

    #[test]
    fn a_time_element_dates_a_page_without_date_metadata() {
        let ex = extract("time-element.html");
        assert_eq!(
            ex.published_at.map(|t| t.rfc3339()).as_deref(),
            Some("2026-02-09T19:05:00Z")
        );
        // The dateline itself is not text of the story.
        assert!(ex.text.starts_with("Inspectors found"), "{}", ex.text);
    }

    #[test]
    fn a_page_built_by_script_falls_back_to_the_json_ld_body() {
        let ex = extract("script-only.html");
        assert_eq!(
            ex.text,
            "Apple growers in the valley picked a record crop this year, helped by a warm spring and a late frost that never came.\n\n\
             The cooperative said it had already sold most of the harvest to supermarkets & cider makers."
        );
        assert!(!ex.text.contains("window.__APP__"));
    }

    #[test]
    fn a_page_that_is_only_scripts_says_to_save_it_from_the_browser() {
        let html = "<html><head><title>App</title></head><body><div id=root></div>\
            <script>window.boot({\"story\": 42});</script>\
            <noscript>Please enable JavaScript to view this site.</noscript></body></html>";
        let err = extract_html("app.html", html, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "found no article text in app.html: the page builds its text with JavaScript, which nj does not run; \
             save the page from your browser (Save Page As) and clip that file, or save its text to a .txt file"
        );
    }

    #[test]
    fn a_page_nested_thousands_deep_is_read_quickly_or_refused() {
        let n = 6_000;
        let html = format!(
            "<html><body>{}<p>A deep paragraph, with commas, and words enough to be an article.</p>{}</body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let start = std::time::Instant::now();
        let ex = extract_html("deep.html", &html, None).unwrap();
        assert_eq!(
            ex.text,
            "A deep paragraph, with commas, and words enough to be an article."
        );
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
        // Nesting that flattening cannot undo: each level holds text. The
        // parse stops nesting past its bound, and the page is refused as
        // deeper than that.
        let html = format!("<body>{}</body>", "<i>x ".repeat(5000));
        let err = extract_html("nested.html", &html, None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("nested.html nests its HTML more than 5"),
            "{err}"
        );
    }

    #[test]
    fn a_canonical_naming_the_front_page_is_ignored() {
        let html = "<html><head><link rel=canonical href=\"https://news.example/?utm_source=x\"></head>\
            <body><article><p>A paragraph long enough to be an article on its own, with a few clauses, commas, and words.</p></article></body></html>";
        let ex = extract_html("p.html", html, None).unwrap();
        assert_eq!(ex.canonical_url, None);
    }

    /// A page nested `levels` deep that flattening cannot undo: each level
    /// holds a paragraph and the next level.
    fn nested_page(levels: usize) -> String {
        format!(
            "<html><body>{}{}</body></html>",
            "<div><p>A paragraph at this level, with commas, and words enough to count.</p>"
                .repeat(levels),
            "</div>".repeat(levels)
        )
    }

    /// Loads `html` as `nj recheck` does: on a thread with the default
    /// 2 MiB stack. A stack overflow would abort the test run.
    fn load_on_small_stack(html: String) -> Result<crate::clip::Page> {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                crate::clip::load(
                    &crate::clip::Source::Stdin,
                    &crate::clip::LoadOptions::default(),
                    html.as_bytes(),
                )
            })
            .unwrap()
            .join()
            .expect("the load thread panicked")
    }

    #[test]
    fn a_page_nested_just_under_the_limit_loads_on_a_small_stack() {
        let page = load_on_small_stack(nested_page(MAX_DEPTH - 10)).unwrap();
        let text = page.content.text;
        assert!(text.contains("A paragraph at this level"), "{text}");
    }

    #[test]
    fn a_page_nested_just_over_the_limit_is_refused_clearly() {
        let err = load_on_small_stack(nested_page(MAX_DEPTH + 10)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("nests its HTML") && msg.contains("too deep to read"),
            "{msg}"
        );
    }

    /// The readers' comments under a post, in no element named for them
    /// but headed "4 Comments", go with their heading; so do a blog
    /// theme's line under the post (`postmetadata`) and a notice about
    /// the reader's browser.
    #[test]
    fn unnamed_comments_and_post_footers_go() {
        let ex = extract("blog-comments.html");
        assert_eq!(
            ex.text,
            "The lock at the top of the flight has failed three times this year, and each time the boats behind it waited for two days while a crew came out from the depot.\n\n\
             The gates are oak and were last replaced in 1994. The keeper says the timber is sound; the trouble is the iron collar that holds the heel post, which has worn oval.\n\n\
             A new collar costs little, but fitting one means draining the chamber, and the trust will only drain it in the winter closure, so the lock may fail again before then."
        );
        // A thread many times longer than the post goes too (the block
        // of paragraphs does not bring it back).
        let reply = "<p>I walked the flight last week and the lock at the top was chained shut, with a notice saying the crew would be out on Monday.</p>";
        let page = fixture("blog-comments.html").replace(
            "<h3>4 Comments</h3>",
            &format!("<h3>40 Comments</h3>{}", reply.repeat(40)),
        );
        let ex = extract_html("long", &page, None).unwrap();
        assert!(ex.text.contains("worn oval"), "{}", ex.text);
        assert!(!ex.text.contains("chained shut"), "{}", ex.text);
        // A section of a story called "Comments" at its top stays.
        let page = fixture("blog-comments.html").replace(
            "<div class=\"storycontent\">",
            "<div class=\"storycontent\"><h3>Comments</h3>",
        );
        let ex = extract_html("top", &page, None).unwrap();
        assert!(ex.text.contains("worn oval"), "{}", ex.text);
    }

    /// A thread of readers' comments larger than the post is named for
    /// what it is (`comments_container`): its size does not save it.
    #[test]
    fn a_long_comment_thread_is_not_the_article() {
        let ex = extract("comment-thread.html");
        assert_eq!(
            ex.text,
            "I went down to the harbour at six with a pencil and a small pad, to catch the boats before the light went flat and the car park filled up."
        );
    }

    /// The story's paragraphs set in a sibling wrapper that readability
    /// scores down (a `media` class) are brought back, in their place.
    #[test]
    fn paragraphs_beside_readabilitys_choice_come_back() {
        let ex = extract("split-story.html");
        let paragraphs: Vec<&str> = ex.text.split("\n\n").collect();
        assert_eq!(paragraphs.len(), 7, "{}", ex.text);
        assert!(paragraphs[5].starts_with("The library closed on Sundays in 2011"));
        assert!(paragraphs[6].starts_with("Branch libraries will keep"));
        // Not from a teaser: a paragraph inside a link stays out.
        let page = fixture("split-story.html").replace(
            "</article>",
            "<a href=\"/other\"><p>Read how the museum across the square changed its opening hours last year, and what its visitors made of the change.</p></a></article>",
        );
        let ex = extract_html("teaser", &page, None).unwrap();
        assert!(!ex.text.contains("museum"), "{}", ex.text);
        // One that would close the text meets the rules for the text's
        // last lines: a call to download the app stays out.
        let page = fixture("split-story.html").replace(
            "</article>",
            "<div class=\"o-media\"><p>For the latest stories from the town and the valley, download the Example News app for your phone.</p></div></article>",
        );
        let ex = extract_html("app", &page, None).unwrap();
        assert!(ex.text.contains("Branch libraries"), "{}", ex.text);
        assert!(!ex.text.contains("download"), "{}", ex.text);
    }

    /// Lines at the edges that ask or declare (an advertising disclosure,
    /// a log-in prompt), an embed's consent placeholder, a teaser card
    /// wrapped in its link, an embedded post that is all link, and boxes
    /// named for ratings, related links or a newsletter all go.
    #[test]
    fn notices_teaser_cards_and_named_boxes_go() {
        let ex = extract("edge-notices.html");
        assert_eq!(
            ex.text,
            "Ab April fährt eine neue Fähre dreimal am Tag zwischen den beiden Inseln. Die Fahrt dauert vierzig Minuten, halb so lange wie mit dem alten Schiff.\n\n\
             Die Gemeinden haben die neue Verbindung zusammen mit dem Land bezahlt. Für Pendler gibt es eine Monatskarte zum halben Preis.\n\n\
             Im Winter fährt die Fähre nur zweimal am Tag, weil dann weniger Gäste auf die Inseln kommen."
        );
        // The same disclosure in the middle of a longer story is a
        // sentence of it, and stays: the rule is for the text's edges.
        let mid = "<p>Werbung: Die Reederei wirbt auf dem Festland mit Plakaten für die neue Verbindung zu den Inseln.</p>";
        let more: String = (1..=4)
            .map(|i| format!("<p>Absatz {i}: Die Fähre hält an beiden Inseln und fährt bei jedem Wetter, außer wenn Sturm angesagt ist.</p>"))
            .collect();
        let page = fixture("edge-notices.html").replace(
            "<p>Die Gemeinden",
            &format!("{more}{mid}{more}<p>Die Gemeinden"),
        );
        let ex = extract_html("mid", &page, None).unwrap();
        assert!(ex.text.contains("Werbung: Die Reederei"), "{}", ex.text);
    }

    /// Picture credits standing as lines of their own go ("Photo: …",
    /// "… | © Archive", "… / Getty Images"); a heading written as a
    /// sentence stays even with a heading after it.
    #[test]
    fn credit_lines_go_and_sentence_headings_stay() {
        let ex = extract("credits.html");
        assert_eq!(
            ex.text,
            "Two hundred neighbours raised the money in six weeks to keep the old trees standing.\n\n\
             The sale\n\n\
             The orchard at the edge of the village was put up for sale in the spring, and a builder had already asked about putting houses on it.\n\n\
             A fund set up in the village hall raised the asking price in six weeks, most of it in gifts of under fifty pounds.\n\n\
             The trust that now owns the orchard will open it to walkers, and the apples will go to the school and the village shop."
        );
    }

    /// A how-to page built by script holds its text only in JSON-LD
    /// `HowTo` (a recipe in `Recipe`): its description, ingredients and
    /// steps are the article.
    #[test]
    fn a_how_to_built_by_script_reads_from_its_json_ld() {
        let page = r#"<html><head><title>Mending a chair seat</title>
            <script type="application/ld+json">{"@context": "https://schema.org", "@type": "HowTo",
              "name": "Mending a chair seat",
              "description": "<p>A rush seat that sags can be mended in an afternoon with a little cord.</p>",
              "step": [
                {"@type": "HowToStep", "name": "Step 1", "itemListElement": {"@type": "HowToDirection", "text": "Cut away the broken strands & keep the good ones."}},
                {"@type": "HowToSection", "itemListElement": [{"@type": "HowToStep", "text": "<p>Weave the new cord over and under the rails.</p>"}]}
              ]}</script>
            <script src="/app.js"></script></head><body><div id="root"></div></body></html>"#;
        let ex = extract_html("how-to", page, None).unwrap();
        assert_eq!(
            ex.text,
            "A rush seat that sags can be mended in an afternoon with a little cord.\n\n\
             Cut away the broken strands & keep the good ones.\n\n\
             Weave the new cord over and under the rails."
        );
        let recipe = r#"<html><head><script type="application/ld+json">{"@type": "Recipe",
            "recipeIngredient": ["200 g flour", "2 eggs"],
            "recipeInstructions": [{"@type": "HowToStep", "text": "Mix the flour and the eggs into a stiff dough."}]}</script>
            </head><body><div id="root"></div><script src="/app.js"></script></body></html>"#;
        let ex = extract_html("recipe", recipe, None).unwrap();
        assert_eq!(
            ex.text,
            "- 200 g flour\n- 2 eggs\n\nMix the flour and the eggs into a stiff dough."
        );
    }

    /// A story with the next ones loaded below it (an endless scroll):
    /// the story the headline heads is the article, not all of them, and
    /// not a later one readability preferred.
    #[test]
    fn the_headlines_story_of_several_is_the_article() {
        let ex = extract("endless-scroll.html");
        assert!(
            ex.text.contains("worn joints on the old stone bridge"),
            "{}",
            ex.text
        );
        assert!(ex.text.contains("open as usual."), "{}", ex.text);
        assert!(!ex.text.contains("choir"), "{}", ex.text);
        assert!(!ex.text.contains("lime trees"), "{}", ex.text);
        // A story whose paragraphs each sit in an <article> of their own
        // (no other story beside it, nothing else headed) is kept whole.
        let paragraphs: String = (1..=4)
            .map(|i| format!("<article><p>Part {i} of the story: the bridge crews will work through the night to finish the joints before the morning traffic, and the council thanks drivers for their patience while the road is closed.</p></article>"))
            .collect();
        let page = format!(
            "<html><head><meta property=\"og:title\" content=\"Bridge repairs close the river road for a week\"></head><body>\
             <article><h1>Bridge repairs close the river road for a week</h1><p>The river road will close for a week from Monday while crews replace the worn joints on the old stone bridge at the edge of town, the council said, and drivers will be sent through the industrial estate, which adds ten minutes to the trip into the centre.</p></article>\
             {paragraphs}</body></html>"
        );
        let ex = extract_html("single", &page, None).unwrap();
        assert!(ex.text.contains("Part 4 of the story"), "{}", ex.text);
    }
}
