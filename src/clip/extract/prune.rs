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

pub(super) fn non_space(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

pub(super) fn link_chars(node: &NodeRef) -> usize {
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

/// `node` as a leaf: its text with runs of whitespace made one space.
fn leaf(node: NodeRef<'_>) -> Leaf<'_> {
    let text = node.text().split_whitespace().collect::<Vec<_>>().join(" ");
    let chars = non_space(&text);
    // A block inside a link (a teaser card wrapped in its <a>) is link
    // text whole.
    let link_chars = if node
        .ancestors_it(None)
        .any(|a| a.node_name().as_deref() == Some("a") && a.has_attr("href"))
    {
        chars
    } else {
        link_chars(&node)
    };
    Leaf {
        name: node.node_name().unwrap_or_default().to_string(),
        chars,
        link_chars,
        text,
        node,
    }
}

/// Collects the innermost blocks under `root`, in document order; true if
/// there was any block under it. (One walk: asking each block whether it
/// holds blocks before descending into it read deep pages many times.)
fn leaves<'a>(root: &NodeRef<'a>, out: &mut Vec<Leaf<'a>>) -> bool {
    let mut any = false;
    // A <time> standing between blocks (not inside a sentence) is a line
    // of its own, rendered as one: a date line when it says only a date.
    let among_blocks = root
        .children_it(false)
        .any(|c| c.is_element() && is_block(&c));
    for child in root.children_it(false) {
        if !child.is_element() {
            continue;
        }
        if among_blocks && child.node_name().as_deref() == Some("time") {
            out.push(leaf(child));
            continue;
        }
        if !is_block(&child) {
            // <html>, <body>, or an inline wrapper around blocks.
            any |= leaves(&child, out);
            continue;
        }
        any = true;
        // A block with no block inside is a leaf; the walk below it added
        // nothing then, so the leaf still comes in document order.
        if !leaves(&child, out) {
            out.push(leaf(child));
        }
    }
    any
}

/// Prunes the article in `doc`. `title` is the article's headline: a
/// heading that repeats it is not text of the story. Returns the text of
/// each line it removed.
pub fn prune(doc: &Document, title: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let title = fold(title);
    let root = doc.root();
    drop_link_lists(doc);
    drop_link_cards(doc);
    let mut found = Vec::new();
    leaves(&root, &mut found);
    found.retain(|leaf| leaf.chars > 0);
    let n = found.len();
    let mut kept = Vec::with_capacity(n);
    for (i, leaf) in found.iter().enumerate() {
        // A quotation (an embedded post, a pull quote) is the story's own
        // material even when it ends in a date or a link; a card that is
        // all link (WordPress's embed of another post) is not.
        if leaf.link_chars * 10 < leaf.chars * 9
            && leaf
                .node
                .ancestors_it(None)
                .any(|a| a.node_name().as_deref() == Some("blockquote"))
        {
            kept.push(leaf);
            continue;
        }
        let place = Place {
            start: i < EDGE,
            end: i + EDGE >= n,
            linked: has_link_or_control(leaf),
        };
        let doomed = is_link_block(leaf)
            || (matches!(leaf.name.as_str(), "h1" | "h2")
                && !title.is_empty()
                && fold(&leaf.text) == title)
            || is_furniture_line(&leaf.text, &place);
        if doomed {
            leaf.node.remove_from_parent();
            removed.push(leaf.text.clone());
        } else {
            kept.push(leaf);
        }
    }
    drop_empty_headings(&kept);
    removed
}

/// The level of a heading element, 1 for `h1` to 6 for `h6`.
fn heading_level(name: &str) -> Option<u8> {
    match name.as_bytes() {
        [b'h', d @ b'1'..=b'6'] => Some(d - b'0'),
        _ => None,
    }
}

/// Drops the headings left with nothing under them: the label of a
/// related-stories rail or a paywall box that went, which now heads
/// nothing but the next section (a heading of its level or higher) or the
/// end of the article.
fn drop_empty_headings(left: &[&Leaf]) {
    let mut loose = std::collections::HashMap::new();
    for (i, leaf) in left.iter().enumerate() {
        let Some(level) = heading_level(&leaf.name) else {
            continue;
        };
        // Text set loose beside the heading, in no block of its own
        // (`Line one<br>line two`, as some blog posts are), is not among
        // the blocks: such a heading may head it.
        // (Asked once a parent: a page may set thousands of headings in
        // one element.)
        let loose_text = leaf.node.parent().is_some_and(|p| {
            *loose.entry(p.id).or_insert_with(|| {
                p.children_it(false)
                    .any(|c| c.is_text() && !c.text().trim().is_empty())
            })
        });
        // A heading written as a sentence (a print layout's stand-first
        // set in an <h4>) is text of its own, not a label.
        let sentence = leaf.chars >= 80
            || (leaf.text.trim_end().ends_with('.') && !leaf.text.trim_end().ends_with("..."));
        let heads_nothing = !loose_text
            && !sentence
            && match left.get(i + 1) {
                None => true,
                Some(next) => heading_level(&next.name).is_some_and(|l| l <= level),
            };
        if heads_nothing {
            leaf.node.remove_from_parent();
        }
    }
}

/// How many blocks at each end of the article count as its edges: where
/// bylines, datelines, sign-up boxes and copyright notices sit. The same
/// words in the middle of the story are the story's.
const EDGE: usize = 3;

/// Where a block sits in the article, and whether it carries a link or a
/// control (a button, a form field).
struct Place {
    start: bool,
    end: bool,
    linked: bool,
}

/// Whether a paragraph found beside the article's block is furniture by
/// its words: a call to sign up, a notice. `start` and `end` say it would
/// open or close the text.
pub(super) fn is_boilerplate_paragraph(text: &str, linked: bool, start: bool, end: bool) -> bool {
    is_furniture_line(text, &Place { start, end, linked })
}

/// A boilerplate line, or a date line at the text's edges.
fn is_furniture_line(text: &str, place: &Place) -> bool {
    is_boilerplate(text, place) || ((place.start || place.end) && is_dateline(text))
}

fn has_link_or_control(leaf: &Leaf) -> bool {
    leaf.link_chars > 0
        || leaf.node.descendants_it().any(|d| {
            matches!(
                d.node_name().as_deref(),
                Some("a" | "button" | "input" | "form" | "select" | "textarea")
            )
        })
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
/// A short paragraph also needs few words of its own outside the links:
/// a sentence naming two linked people is still a sentence.
fn is_link_block(leaf: &Leaf) -> bool {
    // A table's cell is data (a lineup, a result, a source) however much
    // of it links to the player's or the source's page.
    if matches!(leaf.name.as_str(), "pre" | "td" | "th") {
        return false;
    }
    if leaf.chars < 150 {
        leaf.link_chars * 10 >= leaf.chars * 6
            && (leaf.link_chars >= leaf.chars || unlinked_words(&leaf.node) < 5)
    } else {
        leaf.link_chars * 10 >= leaf.chars * 9
    }
}

/// Words of `node`'s text that are not inside a link.
fn unlinked_words(node: &NodeRef) -> usize {
    fn walk(node: &NodeRef, out: &mut String) {
        for c in node.children_it(false) {
            if c.is_text() {
                out.push_str(&c.text());
                out.push(' ');
            } else if c.is_element() && c.node_name().as_deref() != Some("a") {
                walk(&c, out);
            }
        }
    }
    let mut text = String::new();
    walk(node, &mut text);
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Lower-case letters and digits only, for comparing headlines.
pub(super) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Short lines that ask the reader to do something other than read, or
/// credit the wire service. `place` says where the line sits: a call to
/// sign up or a contact line counts only with a link or control in it, or
/// at the article's end, so a story about a newsletter keeps its words.
fn is_boilerplate(text: &str, place: &Place) -> bool {
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
        "no comments yet",
        "no comments",
        "table of contents",
        "permalink",
        "next article",
        "previous article",
    ];
    // The same furniture in the other languages most pages nj meets are
    // in: German, French, Spanish, Polish, Italian.
    const EXACT_ELSEWHERE: &[&str] = &[
        "teilen",
        "drucken",
        "anzeige",
        "werbung",
        "kommentare",
        "weiterlesen",
        "partager",
        "imprimer",
        "publicité",
        "lire la suite",
        "compartir",
        "imprimir",
        "publicidad",
        "leer más",
        "reklama",
        "drukuj",
        "udostępnij",
        "condividi",
        "stampa",
        "pubblicità",
        "externer inhalt",
        "empfohlener redaktioneller inhalt",
        "inhaltsverzeichnis",
        "nächster artikel",
        "vorheriger artikel",
        "permalien",
        "sommaire",
    ];
    if EXACT.contains(&t) || EXACT_ELSEWHERE.contains(&t) {
        return true;
    }
    if (place.start || place.end) && chars < 250 && is_edge_notice(t) {
        return true;
    }
    // Lines that only start that way: "Quelle: dpa", "Lire aussi : …".
    const STARTS_ELSEWHERE: &[&str] = &[
        "schon gelesen",
        "zum weiterlesen",
        "lesen sie auch",
        "lesen sie mehr",
        "mehr zum thema",
        "weitere artikel",
        "das könnte sie auch interessieren",
        "auch interessant",
        "empfohlene beiträge",
        "quelle:",
        "bildquelle",
        "foto:",
        "bild:",
        "aktualisiert am",
        "erstellt am",
        "veröffentlicht am",
        "war der artikel",
        "war dieser artikel",
        "jetzt abonnieren",
        "newsletter abonnieren",
        "alle angaben ohne gewähr",
        "möchten sie den artikel teilen",
        "artikel teilen",
        "diesen artikel teilen",
        "den artikel mit anderen teilen",
        "vorschau auf den nächsten artikel",
        "rezept drucken",
        "möchten sie weiterlesen",
        "keine kommentare",
        "lire aussi",
        "à lire aussi",
        "a lire aussi",
        "pour lire la suite",
        "abonnez-vous",
        "mis à jour",
        "source :",
        "source:",
        "lee también",
        "suscríbete",
        "fuente:",
        "czytaj też",
        "czytaj także",
        "czytaj również",
        "publikacja:",
        "źródło:",
        "leggi anche",
    ];
    if chars < 120 && STARTS_ELSEWHERE.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    if chars <= 200 && is_credit_line(t) {
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
        "subscribe now",
        "follow us",
        "share this",
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
        "a version of this article appeared",
        // Blog themes' lines under a post.
        "this entry was posted",
        "this entry was filed",
        "you can follow any responses",
        "listed below are links to weblogs",
        "bookmark the permalink",
    ];
    if chars < 300 && STARTS.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    // Phrases that rarely appear in a story's own sentences; a short line
    // holding one is a call to action.
    const CONTAINS: &[&str] = &[
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
        "follow us on",
        "requires javascript",
        "enable javascript",
        // A notice about the reader's browser.
        "best viewed in an up-to-date",
        "upgrading your browser software",
        // The placeholder of an embed not loaded until the reader agrees.
        "externe inhalte angezeigt",
        "automatische laden der inhalte",
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
    if (chars < 160 && CONTAINS.iter().any(|s| t.contains(s)))
        || (chars < 400 && CONTAINS_LONG.iter().any(|s| t.contains(s)))
    {
        return true;
    }
    // A call to sign up: a story can mention a newsletter or a sign-up
    // offer, so the line needs a link or a form, or to close the article.
    let acts = place.linked || place.end;
    if acts
        && chars < 300
        && ["sign up for", "sign up to", "subscribe to"]
            .iter()
            .any(|s| t.starts_with(s))
    {
        return true;
    }
    if acts
        && chars < 160
        && ["newsletter", "subscribe to", "sign up for"]
            .iter()
            .any(|s| t.contains(s))
    {
        return true;
    }
    // An author's contact line: it names a handle, an address or a link,
    // or ends the article.
    if chars < 400
        && (place.linked || place.end || has_handle_or_email(t))
        && [
            "follow him on",
            "follow her on",
            "follow them on",
            "may be reached at",
            "can be reached at",
        ]
        .iter()
        .any(|s| t.contains(s))
    {
        return true;
    }
    // A copyright notice closing the article: "© 2019 Some Media Ltd".
    place.end && chars < 200 && is_copyright_notice(t)
}

/// A picture's caption or credit standing as a line of its own, outside
/// any `<figcaption>`: "Foto: …", "… (Photo: …)", "… | © Agency", "Name /
/// Getty Images". (`t` is lowercase.)
fn is_credit_line(t: &str) -> bool {
    const LABELS: &[&str] = &[
        "foto",
        "fotos",
        "photo",
        "photos",
        "photo credit",
        "bild",
        "beitragsbild",
        "bildnachweis",
        "bildquelle",
        "titelbild",
        "image illustrative",
        "crédit photo",
        "imagen",
        "image credit",
    ];
    let labelled = |s: &str| {
        s.split_once(':')
            .is_some_and(|(label, _)| LABELS.contains(&label.trim()))
    };
    if labelled(t) {
        return true;
    }
    // "(Foto: dpa)" closing the line.
    if t.ends_with(')') && t.rfind('(').is_some_and(|i| labelled(&t[i + 1..])) {
        return true;
    }
    // A copyright mark in the line's second half with a name after it
    // and nothing more: the credit after a caption.
    if let Some(i) = t.rfind('©') {
        if i * 2 >= t.len() && t[i..].split_whitespace().count() <= 6 {
            return true;
        }
    }
    const AGENCIES: &[&str] = &[
        "getty images",
        "reuters",
        "afp",
        "dpa",
        "epa",
        "imago",
        "picture alliance",
        "shutterstock",
        "istock",
        "istockphoto",
        "alamy",
        "ap photo",
    ];
    t.rsplit_once('/')
        .is_some_and(|(_, agency)| AGENCIES.contains(&agency.trim()))
}

/// A line that opens or closes an article to ask the reader for
/// something or to declare it: follow our channel, download the app,
/// log in to comment, accept cookies, "Werbung:" (an advertising
/// disclosure). Short lines at the text's edges only, where a story's
/// own sentences about such things rarely stand.
fn is_edge_notice(t: &str) -> bool {
    const CONTAINS: &[&str] = &[
        "canal de youtube",
        "canal de telegram",
        "nuestro canal",
        "subskrypc",
        "sign up here",
        "never miss the latest",
        "never miss a story",
        "do you want to be informed",
        "vergiss nicht zu teilen",
        "folge uns auf",
        "folgen sie uns auf",
        "liken sie uns",
        "eingeloggt sein",
        "must be logged in",
        "logged in to post",
        "enthält werbung",
        "enthält affiliate",
        "upgrade your browser",
        "outdated browser",
    ];
    if CONTAINS.iter().any(|s| t.contains(s)) {
        return true;
    }
    let words: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    if t.contains("download the") && (has("app") || has("apps")) {
        return true;
    }
    // A consent banner speaks of the site and of agreeing to its cookies;
    // a story about a ruling on cookies names neither the reader's site
    // nor an act of theirs.
    if (has("cookie") || has("cookies"))
        && [
            "accept",
            "agree",
            "zustimmen",
            "einverstanden",
            "akzeptieren",
            "aceptar",
        ]
        .iter()
        .any(|s| t.contains(s))
        && [
            "website", "site", "seite", "webseite", "sitio", "nutzung", "use",
        ]
        .iter()
        .any(|w| has(w))
    {
        return true;
    }
    // "Werbung: …", "Anzeige – …": a disclosure, not a sentence ("Werbung,
    // die Kinder anspricht").
    ["werbung", "anzeige"].iter().any(|w| {
        t.strip_prefix(w)
            .is_some_and(|rest| rest.trim_start().starts_with([':', '-', '–', '|']))
    })
}

/// "© 2019 Example Media", "Copyright (c) 2019", "2019 © Example": a
/// copyright mark with a year beside it (within two words), not a
/// sentence that mentions copyright.
fn is_copyright_notice(t: &str) -> bool {
    let t = t.replace("(c)", " © ");
    let words: Vec<&str> = t
        .split(|c: char| !c.is_alphanumeric() && c != '©')
        .flat_map(|w| w.split_inclusive('©'))
        .flat_map(|w| match w.strip_suffix('©') {
            Some(rest) => vec![rest, "©"],
            None => vec![w],
        })
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        (*w == "©" || *w == "copyright")
            && words[i.saturating_sub(2)..(i + 3).min(words.len())]
                .iter()
                .any(|y| has_year(y))
    })
}

/// Whether `t` holds an @handle or an e-mail address.
fn has_handle_or_email(t: &str) -> bool {
    t.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
        match w.split_once('@') {
            Some(("", handle)) => !handle.is_empty(),
            Some((user, domain)) => !user.is_empty() && domain.contains('.'),
            None => false,
        }
    })
}

/// Whether `t` holds a four-digit year, 1900 to 2099.
fn has_year(t: &str) -> bool {
    t.split(|c: char| !c.is_alphanumeric()).any(|w| {
        w.len() == 4
            && (w.starts_with("19") || w.starts_with("20"))
            && w.chars().all(|c| c.is_ascii_digit())
    })
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
    // German, French, Spanish, Italian, and Polish (in the genitive a
    // date uses: "16 marca 2021"), where they differ from the above.
    "januar",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "janvier",
    "février",
    "mars",
    "avril",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "gennaio",
    "febbraio",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "settembre",
    "ottobre",
    "dicembre",
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];

/// Words that start a title-case heading, not a name: "By The Numbers",
/// "By This Measure".
const NOT_NAMES: &[&str] = &[
    "the",
    "a",
    "an",
    "this",
    "that",
    "these",
    "those",
    "my",
    "our",
    "your",
    "his",
    "her",
    "its",
    "their",
    "some",
    "all",
    "any",
    "every",
    "no",
    "now",
    "then",
    "far",
    "way",
    "contrast",
    "comparison",
    "design",
    "default",
];

/// Whether `text` is a byline: "By" and then a name ("By Jo Smith",
/// "BY REUTERS", "By Ann Lee and Bo Chan"), on a short line with no
/// sentence in it, or with a date, a "|" or a list of names after it.
fn is_byline(text: &str) -> bool {
    let mut tokens = text.split_whitespace();
    if !tokens.next().is_some_and(|w| w.eq_ignore_ascii_case("by")) {
        return false;
    }
    let rest: Vec<&str> = tokens.collect();
    // The name: one to four capitalised words, none of them a common word.
    let name: Vec<&str> = rest
        .iter()
        .take(4)
        .take_while(|w| {
            let w = w.trim_end_matches([',', '|', ';', ':']);
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, '.' | '-' | '\'' | '’'))
        })
        .copied()
        .collect();
    if name.is_empty() {
        return false;
    }
    let first = name[0]
        .trim_end_matches(|c: char| !c.is_alphabetic())
        .to_lowercase();
    if NOT_NAMES.contains(&first.as_str()) {
        return false;
    }
    let words = rest.len() + 1;
    // Sentence punctuation: a line ending in a full stop, or with a
    // question, an exclamation or a semicolon in it.
    let sentence = text.trim_end().ends_with('.') || text.contains(['!', '?', ';']);
    let short_plain = words <= 6 && !sentence;
    let lower = text.to_lowercase();
    let listed = words <= 14
        && !sentence
        && (text.contains('|')
            || text.contains(',')
            || lower.split_whitespace().any(|w| w == "and")
            || is_date(&lower));
    short_plain || listed
}

/// Whether a word list holds a date: a month next to a day or a year, a
/// numeric date, or a time with a year.
fn date_parts(words: &[&str]) -> (bool, bool, bool, bool) {
    let is_year = |w: &str| {
        w.len() == 4 && w.starts_with(['1', '2']) && w.chars().all(|c| c.is_ascii_digit())
    };
    let is_day = |w: &str| {
        let digits = w.trim_end_matches(|c: char| c.is_alphabetic());
        let suffix = &w[digits.len()..];
        !digits.is_empty()
            && digits.len() <= 2
            && digits.chars().all(|c| c.is_ascii_digit())
            && matches!(suffix, "" | "st" | "nd" | "rd" | "th")
            && digits.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
    };
    // "may" is a month only beside a day or a year: "May 3", "3 May",
    // "May 2025", and not "What may change in 2025"; so are the months
    // that are words too (French "mars", Spanish "marca", a brand).
    let has_month = words.iter().enumerate().any(|(i, w)| {
        if !MONTHS.contains(w) {
            return false;
        }
        if !matches!(*w, "may" | "mai" | "mars" | "marca" | "maja" | "mayo") {
            return true;
        }
        let next = words.get(i + 1).copied();
        let prev = i.checked_sub(1).map(|j| words[j]);
        next.is_some_and(|n| is_day(n) || is_year(n)) || prev.is_some_and(is_day)
    });
    let has_year = words.iter().any(|w| is_year(w));
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
    (has_month, has_year, has_time, numeric_date)
}

fn date_words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric() && c != ':' && c != '/')
        .filter(|w| !w.is_empty())
        .collect()
}

fn is_date(lower: &str) -> bool {
    let (month, year, time, numeric) = date_parts(&date_words(lower));
    (month && (year || time)) || numeric || (time && year)
}

/// A short line that is a date, a time, or a byline: "By Jo Smith",
/// "Nov. 20, 2019, 9:28 AM UTC", "Published: 10:48, Tue, Nov 19, 2019".
/// A line that ends a sentence is the story's, whatever words it holds.
fn is_dateline(text: &str) -> bool {
    let chars = text.chars().count();
    if chars > 90 {
        return false;
    }
    let trimmed = text.trim_end();
    let lower = text.to_lowercase();
    let clock = lower.trim_end().ends_with("a.m.") || lower.trim_end().ends_with("p.m.");
    if trimmed.ends_with(['.', '!', '?']) && !clock {
        return false;
    }
    if is_byline(text) {
        return true;
    }
    let words = date_words(&lower);
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
    let (has_month, has_year, has_time, numeric_date) = date_parts(&words);
    // Mostly date words: few other words around them.
    let other = words
        .iter()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !MONTHS.contains(w))
        .count();
    let dated = (has_month && (has_year || has_time)) || numeric_date || (has_time && has_year);
    dated && (starts_with_label || other <= 6) || starts_with_label && has_time
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
        // Other languages' months: German, French, Spanish, Italian,
        // Polish (genitive).
        assert!(is_dateline("16. März 2021"));
        assert!(is_dateline("3 août 2020, 14:05"));
        assert!(is_dateline("12 de diciembre de 2019"));
        assert!(is_dateline("5 maggio 2022"));
        assert!(is_dateline("16 marca 2021"));
        assert!(!is_dateline("Mars rover lands in a crater, 2021"));
        assert!(!is_dateline("Marca de coches del año, 2021"));
    }

    const MIDDLE: Place = Place {
        start: false,
        end: false,
        linked: false,
    };
    const END: Place = Place {
        start: false,
        end: true,
        linked: false,
    };
    const LINKED: Place = Place {
        start: false,
        end: false,
        linked: true,
    };

    #[test]
    fn boilerplate_lines() {
        assert!(is_boilerplate("Read more: Tencent profit falls", &MIDDLE));
        assert!(is_boilerplate("Advertisement", &MIDDLE));
        assert!(is_boilerplate("(Reporting by A; Editing by B)", &MIDDLE));
        assert!(!is_boilerplate(
            "The company said it would read more of the letters.",
            &MIDDLE
        ));
    }

    /// Labels left when their box went, and UI lines, in the languages
    /// the exact lists cover.
    #[test]
    fn labels_and_ui_lines() {
        for line in [
            "Inhaltsverzeichnis",
            "Table of contents",
            "Permalink",
            "Next article",
            "Vorschau auf den nächsten Artikel",
            "Den Artikel mit anderen teilen/diskutieren:",
        ] {
            assert!(is_boilerplate(line, &MIDDLE), "{line}");
        }
        // At the text's edge only: a call to download the app, or to share.
        for line in [
            "For the latest stories download the News Example apps for iOS and Android.",
            "Artikel gefallen? Vergiss nicht zu teilen!",
        ] {
            assert!(is_boilerplate(line, &END), "{line}");
            assert!(!is_boilerplate(line, &MIDDLE), "{line}");
        }
    }

    #[test]
    fn sign_up_lines_go_only_with_a_link_or_at_the_end() {
        let offer = "Sign up for a Hulu ad-free account for $11.99 a month";
        assert!(!is_boilerplate(offer, &MIDDLE));
        let news = "The newsletter, launched in 2019, now reaches 40,000 readers.";
        assert!(!is_boilerplate(news, &MIDDLE));
        let call = "Sign up for our daily newsletter";
        assert!(is_boilerplate(call, &LINKED));
        assert!(is_boilerplate(call, &END));
        assert!(!is_boilerplate(call, &MIDDLE));
    }

    #[test]
    fn contact_lines_need_a_handle_an_address_or_a_link() {
        assert!(is_boilerplate("Follow her on Twitter @jo_smith.", &MIDDLE));
        assert!(is_boilerplate(
            "Jo Smith may be reached at jo@news.example.",
            &MIDDLE
        ));
        assert!(is_boilerplate("Follow him on Twitter.", &END));
        assert!(!is_boilerplate(
            "Fans follow him on tour, and the mayor may be reached at city hall most days.",
            &MIDDLE
        ));
    }

    #[test]
    fn copyright_notices_go_only_at_the_end() {
        let notice = "Copyright 2019 Example Media Group. Used with permission.";
        assert!(is_boilerplate(notice, &END));
        assert!(!is_boilerplate(notice, &MIDDLE));
        assert!(is_boilerplate("© 2019 Example Media", &MIDDLE));
        assert!(!is_boilerplate(
            "The copyright on the 1928 film expired in 2024, and the mouse entered the public domain.",
            &END
        ));
    }

    #[test]
    fn bylines_and_headings() {
        assert!(is_dateline("By Jo Smith"));
        assert!(is_dateline("BY REUTERS"));
        assert!(is_dateline("By Ann Lee and Bo Chan"));
        assert!(is_dateline("By Jo Smith | Nov. 20, 2019"));
        assert!(!is_dateline("By The Numbers"));
        assert!(!is_dateline("What may change in 2025"));
        assert!(is_dateline("May 3, 2025"));
        assert!(is_dateline("3 May 2025 10:15"));
        assert!(is_dateline("Updated: May 2025"));
        assert!(!is_dateline(
            "Published in March 2019, the report found little change."
        ));
        assert!(!is_dateline("By Monday, the river had risen two metres."));
    }

    #[test]
    fn a_sentence_with_linked_names_is_not_a_link_block() {
        let doc = Document::from(
            "<body><p>Opening paragraph of the story, long enough to be text.</p>\
             <p><a href=/a>Senator Elizabeth Warren</a> and \
             <a href=/b>Representative Alexandria Ocasio-Cortez</a> spoke at the rally.</p>\
             <p>Read more: <a href=/c>Another story about the rally</a></p>\
             <p>Middle paragraph of the story, long enough to be text.</p>\
             <p>Closing paragraph of the story, long enough to be text.</p></body>",
        );
        prune(&doc, "");
        let text = doc.select("body").text();
        assert!(text.contains("spoke at the rally"), "{text}");
        assert!(!text.contains("Read more"), "{text}");
    }

    #[test]
    fn datelines_go_only_at_the_article_edges() {
        let para = "<p>A paragraph of the story, long enough to be text of its own.</p>";
        let html = format!(
            "<body><p>By Jo Smith</p>{para}{para}<h3>May 3, 2025</h3>{para}{para}<p>Updated May 4, 2025</p></body>"
        );
        let doc = Document::from(html);
        prune(&doc, "");
        let text = doc.select("body").text();
        assert!(!text.contains("Jo Smith"), "{text}");
        assert!(text.contains("May 3, 2025"), "{text}");
        assert!(!text.contains("May 4"), "{text}");
    }
}
