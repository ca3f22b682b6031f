//! The article's DOM as plain text that reads well: one blank line between
//! paragraphs, headings and block quotes; list items one per line as
//! `- item` (`1. item` in numbered lists); table rows one per line with
//! cells split by ` | `; whitespace collapsed everywhere except in `<pre>`.

use dom_query::NodeRef;

/// Elements whose text is never part of what a reader reads.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "video", "audio", "map", "button", "input", "select", "textarea", "option", "head",
    "title", "meta", "link", "dialog", "rt", "rp",
];

/// Elements that start and end a paragraph of their own.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
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
    "hr",
    "center",
    "form",
    "fieldset",
    "legend",
    "caption",
    "hgroup",
    "body",
    "html",
    "picture",
    "ul",
    "ol",
    "menu",
    "table",
    "tbody",
    "thead",
    "tfoot",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sep {
    None,
    Line,
    Para,
}

#[derive(Default)]
struct Writer {
    out: String,
    sep: Option<Sep>,
    space: bool,
}

impl Writer {
    fn need(&mut self, sep: Sep) {
        if sep > self.sep.unwrap_or(Sep::None) {
            self.sep = Some(sep);
        }
    }

    /// Writes the pending separator before new text.
    fn start_text(&mut self) {
        match self.sep.take() {
            Some(sep) if !self.out.is_empty() => {
                while self.out.ends_with(' ') {
                    self.out.pop();
                }
                self.out
                    .push_str(if sep == Sep::Para { "\n\n" } else { "\n" });
                self.space = false;
            }
            _ => {}
        }
        if self.space && !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
            self.out.push(' ');
        }
        self.space = false;
    }

    fn text(&mut self, raw: &str) {
        let mut words = raw.split(is_space).filter(|w| !w.is_empty()).peekable();
        if raw.starts_with(is_space) {
            self.space = true;
        }
        if words.peek().is_none() {
            return;
        }
        self.start_text();
        let mut first = true;
        for w in words {
            if !first {
                self.out.push(' ');
            }
            self.out.push_str(w);
            first = false;
        }
        self.space = raw.ends_with(is_space);
    }

    /// Text written as is (preformatted), after the pending separator.
    fn raw(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.start_text();
        self.out.push_str(text.trim_matches('\n'));
    }

    fn node(&mut self, node: &NodeRef) {
        if node.is_text() {
            self.text(&node.text());
            return;
        }
        if !node.is_element() {
            if node.is_document() || node.is_fragment() {
                self.children(node);
            }
            return;
        }
        let name = node.node_name().unwrap_or_default();
        let name = name.as_ref();
        if SKIP.contains(&name) {
            return;
        }
        match name {
            "br" => {
                self.need(Sep::Line);
            }
            "pre" => {
                self.need(Sep::Para);
                self.raw(&node.text());
                self.need(Sep::Para);
            }
            "li" => self.item(node, "- "),
            "ol" => {
                self.need(Sep::Para);
                let mut n = 0;
                for child in node.children_it(false) {
                    if child.node_name().as_deref() == Some("li") {
                        n += 1;
                        self.item(&child, &format!("{n}. "));
                    } else {
                        self.node(&child);
                    }
                }
                self.need(Sep::Para);
            }
            "tr" => self.row(node),
            "img" => {}
            _ if BLOCK.contains(&name) => {
                self.need(Sep::Para);
                self.children(node);
                self.need(Sep::Para);
            }
            _ => self.children(node),
        }
    }

    fn children(&mut self, node: &NodeRef) {
        for child in node.children_it(false) {
            self.node(&child);
        }
    }

    /// A list item on its own line, nested lines indented under it.
    fn item(&mut self, node: &NodeRef, mark: &str) {
        let inner = render(node);
        if inner.is_empty() {
            return;
        }
        // Items of a list follow each other line by line, but a list that
        // follows a paragraph still gets its blank line.
        if self.sep != Some(Sep::Para) {
            self.need(Sep::Line);
        }
        let indent = " ".repeat(mark.chars().count());
        let mut text = String::from(mark);
        let lines: Vec<&str> = inner.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            // A nested list sits right under its item, without a blank.
            if line.is_empty() && lines.get(i + 1).is_some_and(|l| is_item(l)) {
                continue;
            }
            if i > 0 {
                text.push('\n');
                if !line.is_empty() {
                    text.push_str(&indent);
                }
            }
            text.push_str(line);
        }
        self.raw(&text);
        self.need(Sep::Line);
    }

    /// A table row on one line, its cells split by ` | `. A layout table,
    /// whose cells hold paragraphs, reads as the paragraphs instead.
    fn row(&mut self, node: &NodeRef) {
        let cells: Vec<String> = node
            .children_it(false)
            .filter(|c| matches!(c.node_name().as_deref(), Some("td" | "th")))
            .map(|c| render(&c))
            .filter(|c| !c.is_empty())
            .collect();
        if cells.iter().any(|c| c.contains('\n')) {
            for c in cells {
                self.need(Sep::Para);
                self.raw(&c);
            }
            self.need(Sep::Para);
        } else if !cells.is_empty() {
            self.need(Sep::Line);
            self.raw(&cells.join(" | "));
            self.need(Sep::Line);
        }
    }
}

/// Whether a rendered line is a list item (`- x`, `12. x`).
fn is_item(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("- ")
        || line
            .split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}')
}

/// The readable text of `node` and its descendants.
pub fn render(node: &NodeRef) -> String {
    let mut w = Writer::default();
    w.children(node);
    tidy(&w.out)
}

/// Final clean-up: soft hyphens and zero-width characters go, and stray
/// spaces at line ends are trimmed. Entities are not decoded again: the
/// HTML parser decoded them once, and an "&amp;" left in the text is what
/// the page shows (an article about HTML), not a code to undo.
fn tidy(text: &str) -> String {
    let mut s: String = text
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{00ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
            )
        })
        .collect();
    if s.contains('[') {
        s = strip_shortcodes(&s);
    }
    let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_owned()
}

/// WordPress shortcodes that a site printed instead of expanding, such as
/// `[button link="..."]Send[/button]`: an opening tag with attributes or a
/// closing tag. A bracketed word such as `[sic]` or `[VIDEO]` stays.
fn strip_shortcodes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .char_indices()
            .take(300)
            .find(|(_, c)| matches!(c, ']' | '[' | '\n'))
            .filter(|(_, c)| *c == ']')
            .map(|(j, _)| j);
        let is_code = end.is_some_and(|j| {
            let inner = &after[..j];
            let name = inner.strip_prefix('/').unwrap_or(inner);
            let word: String = name
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            !word.is_empty()
                && (inner.starts_with('/') && word.len() == name.len()
                    || name[word.len()..].starts_with(' ') && inner.contains('='))
        });
        match end {
            Some(j) if is_code => rest = &after[j + 1..],
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use dom_query::Document;

    use super::*;

    fn text(html: &str) -> String {
        let doc = Document::from(html);
        let body = doc.select("body");
        render(&body.nodes()[0])
    }

    #[test]
    fn paragraphs_headings_and_lists() {
        assert_eq!(
            text(
                "<body><h2>The  plan</h2><p>First\n   line,<br>second <b>bold</b>.</p>\
                 <ul><li>one</li><li> two <ul><li>two a</li></ul></li><li></li></ul>\
                 <ol><li>first</li><li>second</li></ol><p>After &amp; done&nbsp;now.</p></body>"
            ),
            "The plan\n\nFirst line,\nsecond bold.\n\n- one\n- two\n  - two a\n\n1. first\n2. second\n\nAfter & done now."
        );
    }

    #[test]
    fn scripts_and_styles_go_and_entities_decode_once() {
        assert_eq!(
            text("<body><p>a<script>var x=1;</script><style>p{}</style> b&mdash;c</p><noscript>enable JS</noscript></body>"),
            "a b—c"
        );
        // A page that shows entity codes keeps them: decoded once only.
        assert_eq!(
            text("<body><p>Write &amp;amp; for &amp;, and &amp;lt;p&amp;gt; for &lt;p&gt;.</p></body>"),
            "Write &amp; for &, and &lt;p&gt; for <p>."
        );
    }

    #[test]
    fn tables_and_preformatted_text() {
        assert_eq!(
            text("<body><table><tr><th>Year</th><th>Sales</th></tr><tr><td>2025</td><td>10</td></tr></table><pre>  a\n  b</pre></body>"),
            "Year | Sales\n2025 | 10\n\n  a\n  b"
        );
    }

    #[test]
    fn printed_shortcodes_go_and_brackets_stay() {
        assert_eq!(
            strip_shortcodes("[button link=\"/x\" big=yes] Send us[/button] a [sic] [VIDEO]"),
            " Send us a [sic] [VIDEO]"
        );
    }

    #[test]
    fn inline_elements_keep_word_boundaries() {
        assert_eq!(
            text("<body><p>a<span>b</span> <i>c</i>\u{a0}d</p></body>"),
            "ab c d"
        );
    }
}
