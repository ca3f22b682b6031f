//! HTML to a DOM in time linear in the page, however it nests.
//!
//! html5ever's tree builder walks its stack of open elements on most tags
//! (is a `<p>` open in scope, to close? which open element does this end
//! tag close?) and its list of active formatting elements on others (the
//! `<b>`s and `<a>`s still open, reopened after each block that closed
//! them). Both grow with the nesting, so a page nested N deep costs N²
//! in time, and formatting elements reopened in each of many blocks cost
//! N² in memory too (`bench/hostile_html`, and its figures in
//! `docs/benchmarks.md`). Nothing after the parse can undo that, so the
//! bound is kept while parsing: the same tokenizer and tree builder `Document::from` uses, with
//! a filter between them that holds back the tokens that would go past it.
//!
//! - A start tag is dropped while the builder holds [`MAX_OPEN`] elements
//!   (open ones plus active formatting ones), and so is the end tag that
//!   would have closed it. Its text stays, in the deepest element kept.
//!   Void elements (`<br>`, `<img>`) and the raw-text ones (`<script>`,
//!   `<style>`, `<textarea>`: nothing nests in them) still go through, so
//!   line breaks stay and a script's code does not turn into text.
//! - Reopening formatting elements makes nodes no tag asked for. Past
//!   [`MAX_REOPENED`] of them the page's structure is frozen: only text
//!   (and the raw-text elements) goes through from there on.
//!
//! Each token then costs the builder at most a walk over [`MAX_OPEN`]
//! entries. A page that stays within the bounds, which every real article
//! does by far, is parsed exactly as `Document::from` parses it, for one
//! count of the builder's elements per start tag.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use dom_query::{Document, NodeId};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{create_element, Tracer, TreeBuilder, TreeBuilderOpts};
use html5ever::{local_name, ns, LocalName, QualName, TokenizerResult};

/// The most elements the tree builder may hold (open plus active
/// formatting, and the document's few pointers) before start tags are
/// dropped. Above [`super::MAX_DEPTH`], so a page that the extractor reads
/// is never cut, with room for the formatting elements open alongside.
pub const MAX_OPEN: usize = super::MAX_DEPTH + 100;

/// The most nodes the tree builder may make that no token asked for
/// (formatting elements reopened, implied `<tbody>`s and `<tr>`s) before
/// the page's structure is frozen. Real pages make a handful; each costs
/// a walk over the open elements.
pub const MAX_REOPENED: usize = 50_000;

/// A parsed page, and whether tags were dropped to keep the parse linear.
pub struct Parsed {
    pub doc: Document,
    pub cut: bool,
}

/// Parses a whole page, as `Document::from` does.
pub fn document(html: &str) -> Parsed {
    let builder = TreeBuilder::new(Document::default(), builder_opts(false));
    run(builder, TokenizerOpts::default(), html)
}

/// Parses HTML that is part of a page's body, as `Document::fragment`
/// does.
pub fn fragment(html: &str) -> Parsed {
    let sink = Document::fragment_sink();
    let context = create_element(
        &sink,
        QualName::new(None, ns!(html), local_name!("body")),
        Vec::new(),
    );
    let builder = TreeBuilder::new_for_fragment(sink, context, None, builder_opts(true));
    let opts = TokenizerOpts {
        initial_state: Some(builder.tokenizer_state_for_context_elem(false)),
        ..TokenizerOpts::default()
    };
    run(builder, opts, html)
}

/// dom_query's options: scripting off, so `<noscript>` is parsed as
/// markup, as a browser without JavaScript shows it.
fn builder_opts(drop_doctype: bool) -> TreeBuilderOpts {
    TreeBuilderOpts {
        scripting_enabled: false,
        drop_doctype,
        ..TreeBuilderOpts::default()
    }
}

fn run(builder: TreeBuilder<NodeId, Document>, opts: TokenizerOpts, html: &str) -> Parsed {
    let tokenizer = Tokenizer::new(
        Filter {
            builder,
            held: Cell::new(None),
            reopened: Cell::new(0),
            dropped: RefCell::new(HashMap::new()),
            cut: Cell::new(false),
        },
        opts,
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // A script pauses the tokenizer for its runner, and a `<meta charset>`
    // for a decoder to switch; there is neither (the page is decoded
    // already), so it goes on, as html5ever's own driver does.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    let filter = tokenizer.sink;
    Parsed {
        doc: filter.builder.sink,
        cut: filter.cut.get(),
    }
}

/// Between the tokenizer and the tree builder: hands the builder each
/// token unless it would take the builder past a bound.
struct Filter {
    builder: TreeBuilder<NodeId, Document>,
    /// How many elements the builder holds, counted at the first start
    /// tag after it last took a token (`None` until then): a page cut at
    /// the bound drops a run of start tags for one count.
    held: Cell<Option<usize>>,
    /// Nodes made beyond one per token so far.
    reopened: Cell<usize>,
    /// Start tags dropped and not yet matched by an end tag, by name: the
    /// end tag goes too, rather than close an element that was kept.
    dropped: RefCell<HashMap<LocalName, usize>>,
    cut: Cell<bool>,
}

impl Filter {
    fn held(&self) -> usize {
        if let Some(n) = self.held.get() {
            return n;
        }
        let count = Count(Cell::new(0));
        self.builder.trace_handles(&count);
        let n = count.0.get();
        self.held.set(Some(n));
        n
    }

    fn frozen(&self) -> bool {
        self.reopened.get() > MAX_REOPENED
    }

    /// Whether `tag` stays out of the tree.
    fn drops(&self, tag: &Tag) -> bool {
        match tag.kind {
            TagKind::StartTag => {
                // In SVG and MathML these names are plain elements that
                // can nest like any other.
                let html = !self
                    .builder
                    .adjusted_current_node_present_but_not_in_html_namespace();
                let drop = if html && is_raw_text(&tag.name) {
                    false
                } else if self.frozen() {
                    true
                } else {
                    !(html && is_void(&tag.name)) && self.held() >= MAX_OPEN
                };
                if drop {
                    *self
                        .dropped
                        .borrow_mut()
                        .entry(tag.name.clone())
                        .or_default() += 1;
                }
                drop
            }
            TagKind::EndTag => match self.dropped.borrow_mut().get_mut(&tag.name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => self.frozen() && !is_raw_text(&tag.name),
            },
        }
    }
}

impl TokenSink for Filter {
    type Handle = NodeId;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<NodeId> {
        if let Token::TagToken(tag) = &token {
            if self.drops(tag) {
                self.cut.set(true);
                return TokenSinkResult::Continue;
            }
        }
        self.held.set(None);
        let before = self.builder.sink.tree.len();
        let result = self.builder.process_token(token, line);
        let made = self.builder.sink.tree.len() - before;
        self.reopened
            .set(self.reopened.get() + made.saturating_sub(1));
        result
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// Counts the handles the tree builder holds: its open elements, its
/// active formatting elements, and a few pointers (the document, `<head>`,
/// the form).
struct Count(Cell<usize>);

impl Tracer for Count {
    type Handle = NodeId;

    fn trace_handle(&self, _: &NodeId) {
        self.0.set(self.0.get() + 1);
    }
}

/// Elements that never hold other elements: they add nothing to the
/// nesting.
fn is_void(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("area")
            | local_name!("base")
            | local_name!("basefont")
            | local_name!("bgsound")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("frame")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("keygen")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("param")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
    )
}

/// Elements whose content the tokenizer reads as text up to their end
/// tag: they nest one level, never more, and dropping one would turn its
/// content (a script's code) into the page's text.
fn is_raw_text(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("script")
            | local_name!("style")
            | local_name!("textarea")
            | local_name!("title")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes")
            | local_name!("plaintext")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract");
        let mut pages: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        pages.sort();
        assert!(pages.len() > 5, "the extraction fixtures are missing");
        pages
    }

    #[test]
    fn a_page_within_the_bounds_parses_as_dom_query_parses_it() {
        for (name, html) in fixtures() {
            let ours = document(&html);
            assert!(!ours.cut, "{name} was cut");
            assert_eq!(
                ours.doc.html(),
                Document::from(html.as_str()).html(),
                "{name}"
            );
            let ours = fragment(&html);
            assert_eq!(
                ours.doc.html(),
                Document::fragment(html.as_str()).html(),
                "{name} as a fragment"
            );
        }
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    /// The deepest element of `doc`, counted from its root.
    fn depth(doc: &Document) -> usize {
        super::super::clean::max_depth(&doc.root())
    }

    #[test]
    fn nesting_past_the_bound_is_cut_and_its_text_kept() {
        let n = 20_000;
        let html = format!(
            "<body>{}<p>The deepest words.</p>{}<p>After.</p></body>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let parsed = document(&html);
        assert!(parsed.cut);
        assert!(depth(&parsed.doc) <= MAX_OPEN, "{}", depth(&parsed.doc));
        let text = parsed.doc.root().text();
        assert!(text.contains("The deepest words."), "{text}");
        assert!(text.contains("After."), "{text}");
        // The end tags of dropped elements went too: "After." is not
        // inside the last kept <div>.
        let after = parsed.doc.select("body > p");
        assert_eq!(after.text().to_string(), "After.");
    }

    #[test]
    fn reopened_formatting_elements_freeze_the_structure_not_the_text() {
        // Closed by the </div>, the <b>s stay active, and each later block
        // reopens them all. Distinct, or the list keeps three alike (the
        // Noah's Ark clause).
        let html = format!(
            "<body><div>{}</div>{}</body>",
            (0..550).map(|i| format!("<b id=b{i}>")).collect::<String>(),
            "<div>Reopened.</div>".repeat(2_000)
        );
        let parsed = document(&html);
        assert!(parsed.cut);
        let text = parsed.doc.root().text();
        assert_eq!(text.matches("Reopened.").count(), 2_000);
    }

    #[test]
    fn scripts_and_line_breaks_pass_the_bound() {
        let n = 2_000;
        let html = format!(
            "<body>{}x<br>y<script>var a = '<div>';</script>{}</body>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let parsed = document(&html);
        assert_eq!(parsed.doc.select("br").length(), 1);
        let script = parsed.doc.select("script");
        assert_eq!(script.text().to_string(), "var a = '<div>';");
        assert_eq!(parsed.doc.select("script").length(), 1);
    }
}
