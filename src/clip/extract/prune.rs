//! Trimming the article readability found: what sits inside the article's
//! container but is not the story. Lists and paragraphs that are mostly
//! links (related stories, "Read more: ..."), calls to subscribe or share,
//! wire-service credits, and byline and date lines.

use dom_query::{Document, NodeRef};

/// Elements that make a block of text of their own.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
    "td",
    "th",
    "pre",
    "center",
    "hr",
];

/// A leaf block: its text, how much of it is link text, and its tag.
struct Leaf<'a> {
    node: NodeRef<'a>,
    name: String,
    text: String,
    chars: usize,
    link_chars: usize,
}

fn is_block(node: &NodeRef) -> bool {
    node.node_name()
        .is_some_and(|n| BLOCK.contains(&n.as_ref()))
}

fn non_space(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

fn link_chars(node: &NodeRef) -> usize {
    node.children_it(false)
        .map(|c| {
            if !c.is_element() {
                0
            } else if c.node_name().as_deref() == Some("a") {
                non_space(&c.text())
            } else {
                link_chars(&c)
            }
        })
        .sum()
}

fn leaves<'a>(root: &NodeRef<'a>, out: &mut Vec<Leaf<'a>>) {
    for child in root.children_it(false) {
        if !child.is_element() {
            continue;
        }
        if !is_block(&child) {
            // <html>, <body>, or an inline wrapper around blocks.
            leaves(&child, out);
            continue;
        }
        let has_block = child
            .descendants_it()
            .any(|d| d.is_element() && is_block(&d));
        if has_block {
            leaves(&child, out);
        } else {
            let text = child
                .text()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            out.push(Leaf {
                name: child.node_name().unwrap_or_default().to_string(),
                chars: non_space(&text),
                link_chars: link_chars(&child),
                text,
                node: child,
            });
        }
    }
}

/// Prunes the article in `doc`. `title` is the article's headline: a
/// heading that repeats it is not text of the story.
pub fn prune(doc: &Document, title: &str) {
    let title = fold(title);
    let root = doc.root();
    drop_link_lists(doc);
    drop_link_cards(doc);
    let mut found = Vec::new();
    leaves(&root, &mut found);
    for leaf in &found {
        if leaf.chars == 0 {
            continue;
        }
        // A quotation (an embedded post, a pull quote) is the story's own
        // material even when it ends in a date or a link.
        if leaf
            .node
            .ancestors_it(None)
            .any(|a| a.node_name().as_deref() == Some("blockquote"))
        {
            continue;
        }
        let doomed = is_link_block(leaf)
            || (matches!(leaf.name.as_str(), "h1" | "h2")
                && !title.is_empty()
                && fold(&leaf.text) == title)
            || is_boilerplate(&leaf.text)
            || is_dateline(&leaf.text);
        if doomed {
            leaf.node.remove_from_parent();
        }
    }
}

/// Lists of links (related stories, "More:" rails) and the short label
/// line above them.
fn drop_link_lists(doc: &Document) {
    for list in doc.select("ul, ol").nodes() {
        let items: Vec<NodeRef> = list
            .children_it(false)
            .filter(|c| c.node_name().as_deref() == Some("li"))
            .collect();
        if items.len() < 2 {
            continue;
        }
        let linked = items
            .iter()
            .filter(|li| {
                let chars = non_space(&li.text());
                chars > 0 && link_chars(li) * 10 >= chars * 7
            })
            .count();
        let chars = non_space(&list.text());
        let dense = chars > 0 && link_chars(list) * 100 >= chars * 65;
        if linked * 10 >= items.len() * 8 || dense {
            if let Some(label) = list.prev_element_sibling() {
                let text = label.text();
                let t = text.trim();
                if non_space(t) < 60
                    && (t.ends_with(':') || label.node_name().is_some_and(|n| n.starts_with('h')))
                {
                    label.remove_from_parent();
                }
            }
            list.remove_from_parent();
        }
    }
}

/// Pop-up cards inside running text: an inline element in a paragraph
/// that holds several links and no words of its own (a person's card with
/// their latest stories, shown on hover). Innermost first, so the link the
/// card hangs on stays.
fn drop_link_cards(doc: &Document) {
    let nodes = doc.select("p span, p div, li span, li div");
    for node in nodes.nodes().iter().rev() {
        let links = node
            .descendants_it()
            .filter(|d| d.node_name().as_deref() == Some("a"))
            .count();
        if links < 2 {
            continue;
        }
        let chars = non_space(&node.text());
        let linked = link_chars(node);
        if chars > 40 && linked == chars {
            node.remove_from_parent();
        }
    }
}

/// A paragraph that is mostly link text: "Read more: <a>...</a>", a row of
/// tags, a teaser for another story.
/// A long paragraph needs more: names linked to pop-up cards can make a
/// story paragraph look link-heavy.
fn is_link_block(leaf: &Leaf) -> bool {
    let limit = if leaf.chars < 150 { 6 } else { 9 };
    leaf.link_chars * 10 >= leaf.chars * limit && leaf.name != "pre"
}

/// Lower-case letters and digits only, for comparing headlines.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Short lines that ask the reader to do something other than read, or
/// credit the wire service.
fn is_boilerplate(text: &str) -> bool {
    let lower = text.to_lowercase();
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '©');
    let chars = t.chars().count();
    if chars == 0 {
        return false;
    }
    const EXACT: &[&str] = &[
        "advertisement",
        "comments",
        "comment",
        "share",
        "share this",
        "share this article",
        "related",
        "related news",
        "related articles",
        "related stories",
        "related content",
        "more",
        "more stories",
        "don't miss",
        "don’t miss",
        "recommended",
        "trending",
        "most popular",
        "most read",
        "read more",
        "see more",
        "subscribe",
        "sign up",
        "post comment",
        "leave a comment",
        "leave a reply",
        "print",
        "email",
        "follow us",
        "story continues below advertisement",
        "continue reading",
        "skip advertisement",
        "advert",
        "caption",
        "close",
        "image",
        "photo",
        "video",
        "loading",
        "open gallery",
        "tell us what you think",
        "log in",
        "login",
        "sign in",
    ];
    if EXACT.contains(&t) {
        return true;
    }
    const STARTS: &[&str] = &[
        "read more:",
        "read more ",
        "see more:",
        "read also",
        "also read",
        "related:",
        "related post",
        "related article",
        "related stories",
        "related news",
        "you may also like",
        "you might also like",
        "more:",
        "recommended:",
        "don't miss",
        "don’t miss",
        "click here",
        "sign up for",
        "sign up to",
        "subscribe to",
        "subscribe now",
        "follow us",
        "share this",
        "like this story",
        "post comment",
        "©",
        "copyright ©",
        "all rights reserved",
        "this post may contain affiliate",
        "(reporting by",
        "reporting by",
        "(writing by",
        "writing by",
        "(editing by",
        "editing by",
        "additional reporting by",
        "get the latest",
        "download the",
        "watch:",
        "watch now",
        "listen:",
        "get access to",
        "already a subscriber",
        "already have an account",
        "already registered",
    ];
    if chars < 300 && STARTS.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    // Phrases that rarely appear in a story's own sentences; a short line
    // holding one is a call to action.
    const CONTAINS: &[&str] = &[
        "newsletter",
        "subscribe to",
        "sign up for",
        "click here",
        "share it with",
        "by clicking",
        "terms of use",
        "privacy policy",
    ];
    // Phrases that never do, so a longer paragraph holding one goes too:
    // author boxes and site notices.
    const CONTAINS_LONG: &[&str] = &[
        "all rights reserved",
        "affiliate link",
        "follow him on",
        "follow her on",
        "follow them on",
        "follow us on",
        "may be reached at",
        "can be reached at",
        "let us know at",
        "requires javascript",
        "enable javascript",
        "image copyright",
        "image caption",
        "contents of this site",
    ];
    const NETWORKS: &[&str] = &[
        "twitter",
        "facebook",
        "instagram",
        "youtube",
        "linkedin",
        "tiktok",
        "whatsapp",
        "pinterest",
        "telegram",
    ];
    // "Follow us on Twitter", "Join us on Facebook".
    if chars < 200
        && ["follow ", "like us", "join us", "find us", "connect with"]
            .iter()
            .any(|p| t.starts_with(p))
        && NETWORKS.iter().any(|n| t.contains(n))
    {
        return true;
    }
    (chars < 160 && CONTAINS.iter().any(|s| t.contains(s)))
        || (chars < 400 && CONTAINS_LONG.iter().any(|s| t.contains(s)))
}

/// Month names and their usual abbreviations, whole words only, so that
/// "market" or "decided" are not dates.
const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
];

/// A short line that is a date, a time, or a byline: "By Jo Smith",
/// "Nov. 20, 2019, 9:28 AM UTC", "Published: 10:48, Tue, Nov 19, 2019".
fn is_dateline(text: &str) -> bool {
    let chars = text.chars().count();
    if chars > 90 {
        return false;
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != ':' && c != '/')
        .filter(|w| !w.is_empty())
        .collect();
    // "By Jo Smith", "BY REUTERS", but not "By the numbers".
    let named = text
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase);
    if words.first().is_some_and(|w| *w == "by")
        && named
        && words.len() <= 10
        && !text.ends_with(['.', '!', '?'])
    {
        return true;
    }
    let starts_with_label = [
        "published",
        "updated",
        "posted",
        "last updated",
        "first published",
        "modified",
    ]
    .iter()
    .any(|l| lower.trim_start().starts_with(l));
    let has_month = words.iter().any(|w| MONTHS.contains(w));
    let has_year = words.iter().any(|w| {
        w.len() == 4 && w.starts_with(['1', '2']) && w.chars().all(|c| c.is_ascii_digit())
    });
    let has_time = words.iter().any(|w| {
        let parts: Vec<&str> = w.split(':').collect();
        parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
    });
    let numeric_date = words.iter().any(|w| {
        let parts: Vec<&str> = w.split(['/', '.', '-']).collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    });
    // Mostly date words: few other words around them.
    let other = words
        .iter()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !MONTHS.contains(w))
        .count();
    let dated = (has_month && (has_year || has_time)) || numeric_date || (has_time && has_year);
    dated && (starts_with_label || other <= 6) && !text.ends_with(['.', '!', '?'])
        || starts_with_label && (dated || has_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datelines() {
        assert!(is_dateline("Nov. 20, 2019, 9:28 AM UTC"));
        assert!(is_dateline(
            "PUBLISHED: 10:48, Tue, Nov 19, 2019 | UPDATED: 11:05, Tue, Nov 19, 2019"
        ));
        assert!(is_dateline("By Reuters"));
        assert!(is_dateline("21:17 18.11.2019"));
        assert!(!is_dateline(
            "The vote on May 3, 2019 changed everything for the town."
        ));
        assert!(!is_dateline("By the end of the year, prices had doubled."));
        assert!(!is_dateline("By the numbers"));
        assert!(!is_dateline("Market opens at 9:30"));
        assert!(is_dateline("Updated 9:30"));
    }

    #[test]
    fn boilerplate_lines() {
        assert!(is_boilerplate("Read more: Tencent profit falls"));
        assert!(is_boilerplate("Advertisement"));
        assert!(is_boilerplate("(Reporting by A; Editing by B)"));
        assert!(!is_boilerplate(
            "The company said it would read more of the letters."
        ));
    }
}
