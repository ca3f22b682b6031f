//! Removing what is never the article before looking for it: scripts and
//! styles, hidden elements, and page furniture (menus, share bars, related
//! links, comments, newsletter boxes, cookie banners, ads) recognised by the
//! words in its class, id or role. The words are generic web vocabulary,
//! not any site's names.

use dom_query::{Document, NodeRef, Selection};

use super::prune::non_space;

/// Elements with nothing to read. `rt` and `rp` are ruby annotations (the
/// reading of a Japanese or Chinese word, printed small above it): kept,
/// they run into the text they annotate (東京(とうきょう) read as 東京とうきょう).
pub(super) const JUNK_TAGS: &str =
    "script, style, noscript, template, svg, math, iframe, object, embed, \
    canvas, video, audio, map, button, input, select, textarea, dialog, link, meta, rt, rp";

/// What CMSs and schema.org call the element holding a post's text.
pub(super) const TEXT_CONTAINERS: &str =
    ".entry-content, .post-content, .post-body, .article-content, \
    .article-body, .entry-body, .hentry, .storycontent, [itemprop=articleBody]";

/// Words in a class or id that mark furniture wherever they stand in it. A
/// class such as `related-stories` or `socialShare` is split into its words
/// first, so `share` does not match `shareholders` and `nav` does not match
/// `canvas`.
const FURNITURE: &[&str] = &[
    "skip",
    "visually",
    "caption",
    "credit",
    "nav",
    "navbar",
    "navigation",
    "menu",
    "breadcrumb",
    "breadcrumbs",
    "footer",
    "sidebar",
    "share",
    "sharing",
    "social",
    "sociable",
    "syndication",
    "related",
    "recirc",
    "recirculation",
    "trending",
    "mostread",
    "comment",
    "comments",
    "disqus",
    "newsletter",
    "newsletters",
    "subscribe",
    "subscription",
    "signup",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "advert",
    "advertisement",
    "advertising",
    "adslot",
    "dfp",
    "outbrain",
    "taboola",
    "popup",
    "modal",
    "overlay",
    "toolbar",
    "masthead",
    "tagcloud",
    "taglist",
    "pagination",
    "pager",
    "sronly",
    "screenreader",
    "offscreen",
    "login",
    "signin",
    "upsell",
    // Glued names no word split can reach: blog themes' post footer
    // ("This entry was posted in…"), links to the next post, readers'
    // comments, related links, a mega menu.
    "postmeta",
    "postmetadata",
    "entrymeta",
    "postinfo",
    "postnav",
    "postnavigation",
    "trackback",
    "trackbacks",
    "pingback",
    "pingbacks",
    "commentlist",
    "commentbody",
    "relatedlinks",
    "megamenu",
    // A list of teasers; one `teaser` is often the article's stand-first.
    "teasers",
];

/// Words that mark furniture only as what a class or id names, its head:
/// the last word (`post-author`, `article-tags`, `top-ad`), or the last
/// but for a word that says only what kind of box it is (`author-box`,
/// `ad-slot`). As a qualifier they name something else: WordPress gives
/// each post `author-NAME`, TypePad `entry-author-NAME`, and a BEM
/// modifier (`Report__Section--Ads`, after `--`) says how the block looks.
const HEAD_FURNITURE: &[&str] = &[
    "popular",
    "recommended",
    "recommendations",
    "banner",
    "promo",
    "promotion",
    "ad",
    "ads",
    "sponsor",
    "sponsored",
    "tags",
    "topics",
    "keywords",
    "register",
    "cta",
    "donate",
    "donation",
    "author",
    "bio",
    "byline",
    "dateline",
    "timestamp",
    "meta",
    "utility",
    "recent",
    "rail",
    "ratings",
    "notice",
    "disclaimer",
    "affiliate",
    "metadata",
];

/// Words that say only what kind of box something is, which may follow
/// the word naming it (`ad-container`, `author_box`).
const BOX_WORDS: &[&str] = &[
    "box",
    "container",
    "wrapper",
    "wrap",
    "block",
    "slot",
    "unit",
    "zone",
    "area",
    "holder",
    "placeholder",
    "label",
    "inner",
    "outer",
    "bar",
    "list",
    "links",
    "module",
    "widget",
    "info",
    "section",
    "posts",
    "stories",
    "items",
    "card",
    "cards",
    "content",
    "link",
    "description",
];

/// Words that mark furniture only as two adjacent words at the head of a
/// class or id (as [`HEAD_FURNITURE`]), e.g. `read-more`,
/// `article-see-also`: alone they are too common. A class that also
/// names the text (`entry-content-read-more`) is the article's own
/// wrapper, named for its "read more" expander.
const FURNITURE_PAIRS: &[(&str, &str)] = &[
    ("read", "more"),
    ("see", "also"),
    ("more", "stories"),
    ("more", "from"),
    ("up", "next"),
    ("you", "may"),
    ("sign", "up"),
    ("follow", "us"),
    ("off", "screen"),
    ("sr", "only"),
    ("screen", "reader"),
    ("news", "letter"),
];

const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "contentinfo",
    "complementary",
    "banner",
    "search",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "alert",
];

/// Removes junk and furniture from `doc`. An element that holds a third
/// or more of the page's text is kept whatever its class says: a wrapper's
/// class can hold a furniture word (`has-sidebar`, `comments-enabled`,
/// Blogger's `widget Blog`) and still be the article. (Unnamed comment
/// threads went before, [`drop_comment_threads`], so that the block of
/// paragraphs found before cleaning does not count them.)
pub fn clean(doc: &Document) {
    unwrap_large_noscript(doc);
    doc.select(JUNK_TAGS).remove();
    let all_text = own_text_chars(&doc.root());
    // Doomed, and whether only for a word in its class or id.
    let mut doomed = Vec::new();
    let mut embeds = Vec::new();
    for node in doc.select("body *").nodes() {
        if is_hidden(node) || is_furniture_element(node) {
            doomed.push((*node, false));
        } else if is_furniture_named(node) {
            doomed.push((*node, true));
        } else if is_embed(node) {
            embeds.push(*node);
        }
    }
    // Readability scores `social` classes down and drops link-heavy divs;
    // an embedded post is a quotation in the article, so its wrappers go
    // and the quotation itself loses the class that would hide it.
    for node in embeds {
        node.remove_attrs(&["class", "id"]);
        if matches!(
            node.node_name().as_deref(),
            Some("div" | "section" | "figure" | "span")
        ) {
            unwrap(&node);
        }
    }
    // An element holding the post's text by its class (the CMS's name for
    // it, or schema.org's articleBody), and what holds it, is never
    // furniture by the words of its class: a theme's wrapper of the
    // content column and its sidebar (`content-sidebar-wrap`) is not the
    // sidebar. (Hidden, or a `nav` or an `aside`, it still goes.)
    let mut holds_text = std::collections::HashSet::new();
    for node in doc.select(TEXT_CONTAINERS).nodes() {
        for n in std::iter::once(*node).chain(node.ancestors_it(None)) {
            if !holds_text.insert(n.id) {
                break;
            }
        }
    }
    for (node, by_name) in doomed {
        if by_name && holds_text.contains(&node.id) {
            continue;
        }
        // Already gone with an ancestor.
        if !node.ancestors_it(None).any(|a| a.is_document()) {
            continue;
        }
        let name = node.node_name().unwrap_or_default();
        if matches!(name.as_ref(), "article" | "main" | "body" | "html") {
            continue;
        }
        // Furniture is small next to the page; a wrapper holding a large
        // part of the page's text (outside links) is the article's. But
        // a long thread of readers' comments is larger than many posts,
        // and is named for what it is.
        let t = own_text_chars(&node);
        if t > 500 && t * 3 > all_text && !is_comment_section(&node) {
            continue;
        }
        node.remove_from_parent();
    }
}

/// The readers' comments under a post, headed "12 Comments" or "Leave a
/// Reply" but not named by any class: the heading and what follows it
/// under the same parent go. Only under a post: what comes before it
/// there holds some sentences (a label at the top is a section's name).
/// A heading that links somewhere is the "12 Comments" link near the
/// headline, not the thread.
pub(super) fn drop_comment_threads(doc: &Document) {
    for heading in doc.select("h1, h2, h3, h4, h5, h6").nodes() {
        if !is_comment_label(&heading.text())
            || heading
                .descendants_it()
                .any(|d| d.node_name().as_deref() == Some("a") && d.has_attr("href"))
        {
            continue;
        }
        // A story's own section, inside the element named for its text.
        if heading
            .ancestors_it(None)
            .any(|a| Selection::from(a).is(TEXT_CONTAINERS))
        {
            continue;
        }
        // A post's paragraphs before it (not a menu's links).
        let mut before = 0;
        let mut prev = heading.prev_sibling();
        while let Some(node) = prev.filter(|_| before < MIN_POST_CHARS) {
            before += paragraph_chars(&node);
            prev = node.prev_sibling();
        }
        if before < MIN_POST_CHARS {
            continue;
        }
        while let Some(next) = heading.next_sibling() {
            next.remove_from_parent();
        }
        heading.remove_from_parent();
    }
}

/// Non-space characters in the paragraphs of `node` (or `node` itself, a
/// paragraph).
fn paragraph_chars(node: &NodeRef) -> usize {
    if node.node_name().as_deref() == Some("p") {
        return non_space(&node.text());
    }
    node.descendants_it()
        .filter(|d| d.node_name().as_deref() == Some("p"))
        .map(|p| non_space(&p.text()))
        .sum()
}

/// The text (non-space characters) above a comments' heading that makes
/// it a post's: a few sentences.
const MIN_POST_CHARS: usize = 200;

/// Whether a heading's whole text labels the readers' comments:
/// "Comments", "29 Comments", "Comments (3)", "Leave a Reply", "5 thoughts
/// on “Title”", "Kommentare".
fn is_comment_label(text: &str) -> bool {
    let lower = text.to_lowercase();
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    // The count, before or after: "29 comments", "comments (3)".
    let counted = t.starts_with(|c: char| c.is_ascii_digit());
    let t = t.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace());
    let t = t.trim_end_matches(|c: char| !c.is_alphabetic()).trim_end();
    const LABELS: &[&str] = &[
        "comments",
        "reader comments",
        "readers' comments",
        "readers’ comments",
        "comments so far",
        "post a comment",
        "leave a comment",
        "leave a reply",
        "add a comment",
        "trackback",
        "trackbacks",
        "comments and trackbacks",
        "kommentare",
        "kommentar schreiben",
        "commentaires",
        "comentarios",
        "komentarze",
        "commenti",
    ];
    // A report's own section may be headed "Responses"; with a count
    // before it, it is the readers'.
    LABELS.contains(&t)
        || (counted
            && (matches!(t, "responses" | "replies")
                || [
                    "thoughts on ",
                    "responses to ",
                    "replies to ",
                    "comments on ",
                ]
                .iter()
                .any(|p| t.starts_with(p))))
}

/// The text a `<noscript>` holds is what a browser without JavaScript
/// shows (nj parses with scripting off). Mostly it is a line asking for
/// JavaScript or a tracking pixel, and goes with the other junk; but some
/// pages put their post in one, and an unclosed `<noscript><div>` can take
/// in the whole page. One holding a paragraph's worth of text or more is
/// unwrapped, its content kept in its place.
fn unwrap_large_noscript(doc: &Document) {
    let found = doc.select("noscript");
    let ids: std::collections::HashSet<_> = found.nodes().iter().map(|n| n.id).collect();
    // The outermost only: one inside another goes with it or stays in it,
    // and counting each nested one's text would read a deep nest many
    // times over.
    for node in found.nodes() {
        if node.ancestors_it(None).any(|a| ids.contains(&a.id)) || own_text_chars(node) < 200 {
            continue;
        }
        unwrap(node);
    }
}

/// Replaces the element by its children, in its place.
fn unwrap(node: &NodeRef) {
    for child in node.children() {
        node.insert_before(&child);
    }
    node.remove_from_parent();
}

/// Non-space characters of the text under `node` that is not link text.
fn own_text_chars(node: &NodeRef) -> usize {
    node.children_it(false)
        .map(|c| {
            if c.is_text() {
                c.text().chars().filter(|c| !c.is_whitespace()).count()
            } else if c.is_element() && c.node_name().as_deref() != Some("a") {
                own_text_chars(&c)
            } else {
                0
            }
        })
        .sum()
}

pub(super) fn is_hidden(node: &NodeRef) -> bool {
    if node.has_attr("hidden") {
        return true;
    }
    node.attr("style").is_some_and(|s| {
        let s: String = s.to_ascii_lowercase().split_whitespace().collect();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Furniture by its tag or its ARIA role.
fn is_furniture_element(node: &NodeRef) -> bool {
    let name = node.node_name().unwrap_or_default();
    // A form is a search box or a sign-up; ASP.NET pages wrap the whole
    // page in one, which the size guard in `clean` keeps.
    if matches!(
        name.as_ref(),
        "nav" | "aside" | "footer" | "form" | "figcaption"
    ) {
        return true;
    }
    node.attr("role")
        .is_some_and(|role| FURNITURE_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()))
}

/// Furniture by the words of its class or id.
fn is_furniture_named(node: &NodeRef) -> bool {
    let class = node.attr("class").unwrap_or_default();
    let id = node.attr("id").unwrap_or_default();
    // A post's own classes: filed-under classes name its author or topic.
    let post = class.split_whitespace().any(|t| {
        matches!(
            t.to_ascii_lowercase().as_str(),
            "hentry"
                | "h-entry"
                | "type-post"
                | "entry-type-post"
                | "status-publish"
                | "post"
                | "entry"
        )
    });
    class
        .split_whitespace()
        .filter(|token| !(post && is_taxonomy_class(token)))
        .chain(id.split_whitespace())
        .any(is_furniture_name)
        || id.split_whitespace().any(is_secondary_column)
}

/// WordPress's sidebar is `#secondary` (`secondaryContentContainer`
/// elsewhere): an id naming the page's second column. As a class the word
/// is a style (`secondary`, `text-secondary`: a colour), and says nothing
/// of what the element holds.
fn is_secondary_column(id: &str) -> bool {
    without_box_words(words(id)) == ["secondary"]
}

/// `words` less the box words at its end (`ad-container` is `ad`), but
/// never the first.
fn without_box_words(mut words: Vec<String>) -> Vec<String> {
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| BOX_WORDS.contains(&w.as_str()))
    {
        words.pop();
    }
    words
}

/// Whether a class or id names the element as the readers' comments
/// (`comments`, `comments_container`, `commentlist`), and not as
/// something about them (`comments-enabled`, `has-comments`).
fn is_comment_section(node: &NodeRef) -> bool {
    any_name_token(node, |token| {
        let all = words(token);
        let rest = all.get(1..).unwrap_or_default();
        let boxed = rest.iter().all(|w| BOX_WORDS.contains(&w.as_str()));
        match all.first().map(String::as_str) {
            Some("comments" | "commentlist" | "disqus") => boxed,
            // One reader's comment is `comment`; the list of them
            // `comment-list`.
            Some("comment") => boxed && !rest.is_empty(),
            _ => false,
        }
    })
}

/// Whether any token of `node`'s class or id satisfies `pred`.
pub(super) fn any_name_token(node: &NodeRef, pred: impl Fn(&str) -> bool) -> bool {
    ["class", "id"]
        .iter()
        .filter_map(|a| node.attr(a))
        .any(|v| v.split_whitespace().any(&pred))
}

/// A class a CMS gives a post (beside `hentry`, `post`, `type-post`...)
/// for what it is filed under, `author-NAME`,
/// `category-social-media`, `tag-promotion`, `entry-author-NAME` (the
/// WordPress and TypePad convention, `post_class()`): it names the post's
/// author or topic, never furniture, whatever the topic's words are. Only
/// classes: an id such as `entry-author-info` is a real author box.
fn is_taxonomy_class(token: &str) -> bool {
    let token = token.to_ascii_lowercase();
    let token = token.strip_prefix("entry-").unwrap_or(&token);
    ["author", "category", "tag", "topic", "format", "type"]
        .iter()
        .any(|kind| {
            token
                .strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(['-', '_']))
                .is_some_and(|slug| !slug.is_empty())
        })
}

/// Whether one class or id token names furniture.
fn is_furniture_name(token: &str) -> bool {
    let all = words(token);
    // A post embedded from a social network (`social-embed`) is a
    // quotation in the article, not a share bar.
    if all.iter().any(|w| EMBED_WORDS.contains(&w.as_str())) {
        return false;
    }
    // A layout modifier (`has-sidebar`, `with-sidebar-right`,
    // `layout-right-sidebar`) says what is beside the element, not what
    // it is.
    if all
        .first()
        .is_some_and(|w| matches!(w.as_str(), "has" | "with" | "without" | "no" | "layout"))
    {
        return false;
    }
    if all.iter().any(|w| FURNITURE.contains(&w.as_str())) {
        return true;
    }
    // The head: the words before a BEM modifier, without numbers
    // (`slot2`) or sizes (`300x250`), less the box words at the end.
    let head = without_box_words(
        words(token.split("--").next().unwrap_or(token))
            .into_iter()
            .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
            .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned())
            .filter(|w| !w.is_empty())
            .collect(),
    );
    let Some(last) = head.last() else {
        return false;
    };
    if HEAD_FURNITURE.contains(&last.as_str()) {
        return true;
    }
    let names_text = head
        .iter()
        .any(|w| matches!(w.as_str(), "content" | "body" | "text"));
    !names_text
        && head.len() >= 2
        && FURNITURE_PAIRS.contains(&(head[head.len() - 2].as_str(), last.as_str()))
}

/// Words that name a post embedded from a social network
/// (`social-media-embed`, `twitter-tweet`).
const EMBED_WORDS: &[&str] = &["embed", "embedded", "tweet"];

/// A post embedded from a social network (`social-media-embed`,
/// `twitter-tweet`, `instagram-media`): a quotation in the article, not a
/// share bar.
fn is_embed(node: &NodeRef) -> bool {
    any_name_token(node, |token| {
        words(token)
            .iter()
            .any(|w| EMBED_WORDS.contains(&w.as_str()) || w == "instagram")
    })
}

/// How deep elements nest under `root`, counted without recursion (a
/// hostile page can nest tens of thousands deep).
pub(super) fn max_depth(root: &NodeRef) -> usize {
    let mut max = 0;
    let mut stack = vec![(*root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        max = max.max(depth);
        for child in node.children_it(false) {
            if child.is_element() {
                stack.push((child, depth + 1));
            }
        }
    }
    max
}

/// Nesting past which wrappers are flattened: real pages stay far below
/// it, and readability's scoring slows with the square of the depth.
const DEEP: usize = 200;

/// Flattens a very deeply nested page: a `div`, `span`, `section` or
/// `font` whose only content is one element is replaced by that element.
/// The text is unchanged; only the depth (and readability's time) goes
/// down. Returns the depth left.
pub fn flatten_deep(doc: &Document) -> usize {
    let depth = max_depth(&doc.root());
    if depth <= DEEP {
        return depth;
    }
    // Walked by hand: a CSS selector checks every element's ancestors,
    // which is what a deep page makes slow.
    let mut wrappers = Vec::new();
    let mut stack = vec![doc.root()];
    while let Some(node) = stack.pop() {
        if matches!(
            node.node_name().as_deref(),
            Some("div" | "span" | "section" | "font")
        ) {
            wrappers.push(node);
        }
        stack.extend(node.children_it(false).filter(|c| c.is_element()));
    }
    for node in &wrappers {
        let mut only = None;
        let mut single = true;
        for child in node.children_it(false) {
            if child.is_element() {
                if only.is_some() {
                    single = false;
                    break;
                }
                only = Some(child);
            } else if child.is_text() && !child.text().trim().is_empty() {
                single = false;
                break;
            }
        }
        if let (true, Some(child)) = (single, only) {
            node.insert_before(&child);
            node.remove_from_parent();
        }
    }
    max_depth(&doc.root())
}

/// `related-stories__list`, `socialShareBar` and `ad_slot` as lower-case
/// words.
pub(super) fn words(token: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in token.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_wrappers_flatten_and_the_text_stays() {
        let n = 5000;
        let html = format!(
            "<body>{}<p>deep <b>text</b></p>{}</body>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let doc = Document::from(html);
        assert!(max_depth(&doc.root()) > n);
        let left = flatten_deep(&doc);
        assert!(left < 10, "{left}");
        assert_eq!(doc.select("body").text().trim(), "deep text");
        // A page of normal depth is left alone.
        let doc = Document::from("<body><div><div><p>x</p></div></div></body>");
        let before = doc.html();
        flatten_deep(&doc);
        assert_eq!(doc.html(), before);
    }

    #[test]
    fn furniture_names() {
        for furniture in [
            "related-stories",
            "socialShareBar",
            "post-author",
            "author-box",
            "ad_slot2",
            "top-ad",
            "ads",
            "article-tags",
            "read-more",
            "article-see-also",
            "entry-meta",
            "author_bio",
            "visually-hidden",
            "skip-link",
            "popular-posts",
            "sponsored-content",
            "promo-card",
            "ad-300x250",
            "postmetadata",
            "entry-utility",
            "recent_posts",
            "article-side-rail",
            "post-ratings",
            "megamenu-title",
            "news-letter-section",
            "blog_author_description",
            "Teasers",
        ] {
            assert!(is_furniture_name(furniture), "{furniture}");
        }
        // `#secondary` is a sidebar; the class `secondary` a style.
        assert!(is_secondary_column("secondaryContentContainer"));
        assert!(is_secondary_column("secondary"));
        assert!(!is_secondary_column("text-secondary"));
        for text in [
            "author-matt",
            "entry-author-jdoe",
            "TestReport__Section--Ads",
            "entry-content-read-more",
            "hentry",
            "shareholders",
            "canvas",
            "meta-analysis-results",
            "ads-free-story",
            "social-embed",
            "has-sidebar",
            "with-sidebar-right",
            "layout-right-sidebar",
            "Layout--sidebarPosition-end",
            "teaser",
            "commentary",
        ] {
            assert!(!is_furniture_name(text), "{text}");
        }
    }

    #[test]
    fn taxonomy_classes() {
        for t in [
            "author-jdoe",
            "entry-author-j_doe",
            "category-social-media",
            "tag-promotion",
            "type-post",
        ] {
            assert!(is_taxonomy_class(t), "{t}");
        }
        for t in [
            "author",
            "author-",
            "post-author",
            "tags",
            "sidebar-category",
        ] {
            assert!(!is_taxonomy_class(t), "{t}");
        }
    }

    #[test]
    fn class_words() {
        assert_eq!(words("socialShareBar"), ["social", "share", "bar"]);
        assert_eq!(
            words("related-stories__list"),
            ["related", "stories", "list"]
        );
        assert_eq!(words("ad_slot2"), ["ad", "slot2"]);
    }
}
