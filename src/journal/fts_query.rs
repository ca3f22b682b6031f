//! The search query language, and phrase matching on top of an index that
//! keeps no word positions.
//!
//! The full-text index is built with `detail=column`: it knows which words
//! each article has, and in which field, but not where. That keeps it at
//! less than half the size of a positional index, which is most of what
//! keeps a journal close to the size of the text it holds. FTS5 cannot
//! answer a multi-word phrase from such an index, so this module parses the
//! query, asks FTS5 for a superset (each phrase relaxed to "all of its
//! words"), and checks the phrases on each candidate's text.
//!
//! The syntax is FTS5's: words (all must match), `"a phrase"`, `prefix*`,
//! `AND`, `OR`, `NOT`, parentheses, and `field:` filters (title, body,
//! notes, tags). A word FTS5 could not read as typed (`follow-up`, `C++`)
//! is read as a phrase of its parts.

use unicode_normalization::UnicodeNormalization;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Words or phrases that must all match.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// Matches the left side but not the right.
    Not(Box<Expr>, Box<Expr>),
    Leaf(Leaf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Restricts the match to one field.
    pub column: Option<String>,
    /// The words, in order; one word is a plain term.
    pub words: Vec<String>,
    /// The last word is a prefix.
    pub prefix: bool,
}

impl Leaf {
    fn is_phrase(&self) -> bool {
        self.words.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Phrase(String),
    Column(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn lex(input: &str, columns: &[&str]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            out.push(Token::Open);
        } else if c == ')' {
            chars.next();
            out.push(Token::Close);
        } else if c == '"' {
            chars.next();
            let mut phrase = String::new();
            while let Some(c) = chars.next() {
                if c == '"' {
                    // `""` inside a phrase is a literal quote.
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        phrase.push('"');
                        continue;
                    }
                    break;
                }
                phrase.push(c);
            }
            let star = chars.peek() == Some(&'*');
            if star {
                chars.next();
                phrase.push('*');
            }
            out.push(Token::Phrase(phrase));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || matches!(c, '"' | '(' | ')') {
                    break;
                }
                word.push(c);
                chars.next();
                if c == ':' {
                    break;
                }
            }
            match word.as_str() {
                "AND" => out.push(Token::And),
                "OR" => out.push(Token::Or),
                "NOT" => out.push(Token::Not),
                w => match w.strip_suffix(':') {
                    Some(col) if columns.contains(&col.to_lowercase().as_str()) => {
                        out.push(Token::Column(col.to_lowercase()))
                    }
                    _ => out.push(Token::Word(word)),
                },
            }
        }
    }
    out
}

/// Why a query could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError(pub String);

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// How deeply parentheses may nest; FTS5 itself stops at 256.
const MAX_DEPTH: usize = 100;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    // or := and ("OR" and)*
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.next();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Expr::Or(parts)
        })
    }

    // and := not (("AND")? not)*
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.not()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.next();
                    parts.push(self.not()?);
                }
                Some(Token::Word(_) | Token::Phrase(_) | Token::Column(_) | Token::Open) => {
                    parts.push(self.not()?);
                }
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Expr::And(parts)
        })
    }

    // not := primary ("NOT" primary)*
    fn not(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.primary(None)?;
        while self.peek() == Some(&Token::Not) {
            self.next();
            let right = self.primary(None)?;
            left = Expr::Not(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self, column: Option<String>) -> Result<Expr, QueryError> {
        match self.next() {
            Some(Token::Column(c)) => {
                if column.is_some() {
                    return Err(QueryError(format!(
                        "two field filters in a row before {c}:"
                    )));
                }
                self.primary(Some(c))
            }
            Some(Token::Open) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(QueryError(format!(
                        "parentheses nest more than {MAX_DEPTH} deep"
                    )));
                }
                let inner = self.or()?;
                self.depth -= 1;
                if self.next() != Some(Token::Close) {
                    return Err(QueryError("a '(' is never closed".into()));
                }
                Ok(match column {
                    Some(c) => with_column(inner, &c),
                    None => inner,
                })
            }
            Some(Token::Word(w)) => leaf(&w, column),
            Some(Token::Phrase(p)) => leaf(&p, column),
            Some(Token::And) => Err(QueryError("AND needs a word on each side".into())),
            Some(Token::Or) => Err(QueryError("OR needs a word on each side".into())),
            Some(Token::Not) => Err(QueryError(
                "NOT needs a word on each side, as in `court NOT appeal`".into(),
            )),
            Some(Token::Close) => Err(QueryError("a ')' has no matching '('".into())),
            None => Err(QueryError(
                "the query ends where a word was expected".into(),
            )),
        }
    }
}

fn with_column(e: Expr, c: &str) -> Expr {
    match e {
        Expr::Leaf(mut l) => {
            l.column.get_or_insert_with(|| c.to_owned());
            Expr::Leaf(l)
        }
        Expr::And(xs) => Expr::And(xs.into_iter().map(|x| with_column(x, c)).collect()),
        Expr::Or(xs) => Expr::Or(xs.into_iter().map(|x| with_column(x, c)).collect()),
        Expr::Not(a, b) => Expr::Not(Box::new(with_column(*a, c)), Box::new(with_column(*b, c))),
    }
}

fn leaf(text: &str, column: Option<String>) -> Result<Expr, QueryError> {
    let (text, prefix) = match text.strip_suffix('*') {
        Some(t) => (t, true),
        None => (text, false),
    };
    let words = tokenize(text);
    if words.is_empty() {
        return Err(QueryError(format!(
            "{text:?} has no letters or digits to look for"
        )));
    }
    Ok(Expr::Leaf(Leaf {
        column,
        words,
        prefix,
    }))
}

/// Parses a query. `columns` are the field names a `field:` filter may use.
pub fn parse(input: &str, columns: &[&str]) -> Result<Expr, QueryError> {
    let mut p = Parser {
        tokens: lex(input, columns),
        pos: 0,
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Err(QueryError("the query is empty".into()));
    }
    let e = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(QueryError("a ')' has no matching '('".into()));
    }
    Ok(e)
}

/// Splits text into lower-case words without diacritics, the way the
/// index's unicode61 tokenizer does.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    if text.is_ascii() {
        // The common case, without the cost of decomposing every character.
        for w in text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            out.push(w.to_ascii_lowercase());
        }
        return out;
    }
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn quote(w: &str) -> String {
    format!("\"{}\"", w.replace('"', "\"\""))
}

fn leaf_fts(l: &Leaf, words: &[String], prefix: bool) -> String {
    let col = l
        .column
        .as_deref()
        .map(|c| format!("{c} : "))
        .unwrap_or_default();
    let n = words.len();
    let parts: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let star = if prefix && i + 1 == n { "*" } else { "" };
            format!("{col}{}{star}", quote(w))
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().expect("one")
    } else {
        format!("({})", parts.join(" AND "))
    }
}

/// An FTS5 query that matches every article `e` matches, and maybe more
/// (a phrase becomes all of its words, and a phrase under NOT cannot
/// narrow anything, so it is left to the check).
pub fn superset(e: &Expr) -> String {
    match e {
        Expr::Leaf(l) => leaf_fts(l, &l.words, l.prefix),
        Expr::And(xs) => format!(
            "({})",
            xs.iter().map(superset).collect::<Vec<_>>().join(" AND ")
        ),
        Expr::Or(xs) => format!(
            "({})",
            xs.iter().map(superset).collect::<Vec<_>>().join(" OR ")
        ),
        Expr::Not(a, b) => match subset(b) {
            Some(b) => format!("({} NOT {b})", superset(a)),
            None => superset(a),
        },
    }
}

/// An FTS5 query that matches only articles `e` matches (maybe fewer).
/// `None` means "nothing can be promised".
fn subset(e: &Expr) -> Option<String> {
    match e {
        Expr::Leaf(l) if l.is_phrase() => None,
        Expr::Leaf(l) => Some(leaf_fts(l, &l.words, l.prefix)),
        Expr::And(xs) => {
            let parts: Option<Vec<String>> = xs.iter().map(subset).collect();
            parts.map(|p| format!("({})", p.join(" AND ")))
        }
        Expr::Or(xs) => {
            let parts: Vec<String> = xs.iter().filter_map(subset).collect();
            (!parts.is_empty()).then(|| format!("({})", parts.join(" OR ")))
        }
        Expr::Not(a, b) => {
            // a minus (at least b): only safe with a superset of b.
            Some(format!("({} NOT {})", subset(a)?, superset(b)))
        }
    }
}

/// Whether the query needs checking beyond what the index answers.
pub fn has_phrase(e: &Expr) -> bool {
    match e {
        Expr::Leaf(l) => l.is_phrase(),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().any(has_phrase),
        Expr::Not(a, b) => has_phrase(a) || has_phrase(b),
    }
}

/// One candidate's text, field by field, as the evaluator sees it.
pub struct Fields<'a> {
    pub fields: Vec<(&'a str, Vec<String>)>,
}

impl<'a> Fields<'a> {
    pub fn new(fields: &[(&'a str, &str)]) -> Fields<'a> {
        Fields {
            fields: fields
                .iter()
                .map(|(name, text)| (*name, tokenize(text)))
                .collect(),
        }
    }
}

/// Evaluates a query on one candidate. `term` answers for single words,
/// with the index's own stemming; phrases are matched here, word by word
/// in order, ignoring case, punctuation and diacritics.
pub fn matches(e: &Expr, fields: &Fields<'_>, term: &mut dyn FnMut(&Leaf) -> bool) -> bool {
    match e {
        Expr::Leaf(l) if l.is_phrase() => fields
            .fields
            .iter()
            .filter(|(name, _)| l.column.as_deref().is_none_or(|c| c == *name))
            .any(|(_, words)| contains_phrase(words, &l.words, l.prefix)),
        Expr::Leaf(l) => term(l),
        Expr::And(xs) => xs.iter().all(|x| matches(x, fields, term)),
        Expr::Or(xs) => xs.iter().any(|x| matches(x, fields, term)),
        Expr::Not(a, b) => matches(a, fields, term) && !matches(b, fields, term),
    }
}

fn contains_phrase(words: &[String], phrase: &[String], prefix: bool) -> bool {
    let n = phrase.len();
    if n == 0 || words.len() < n {
        return false;
    }
    words.windows(n).any(|w| {
        w.iter().zip(phrase).enumerate().all(|(i, (have, want))| {
            if prefix && i + 1 == n {
                have.starts_with(want.as_str())
            } else {
                have == want
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[&str] = &["title", "body", "notes", "tags"];

    fn sup(q: &str) -> String {
        superset(&parse(q, COLS).unwrap())
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(sup("jedi court"), "(\"jedi\" AND \"court\")");
        assert_eq!(sup("jedi OR cloud"), "(\"jedi\" OR \"cloud\")");
        assert_eq!(sup("jedi NOT amazon"), "(\"jedi\" NOT \"amazon\")");
        assert_eq!(sup("pent*"), "\"pent\"*");
        assert_eq!(sup("title:jedi"), "title : \"jedi\"");
        assert_eq!(sup("a AND (b OR c)"), "(\"a\" AND (\"b\" OR \"c\"))");
    }

    #[test]
    fn phrases_relax_to_all_their_words() {
        assert_eq!(sup("\"cloud contracts\""), "(\"cloud\" AND \"contracts\")");
        assert_eq!(sup("follow-up"), "(\"follow\" AND \"up\")");
        assert_eq!(
            sup("title:\"big deal\""),
            "(title : \"big\" AND title : \"deal\")"
        );
        // A phrase under NOT cannot narrow the candidates.
        assert_eq!(sup("court NOT \"supreme court\""), "\"court\"");
        assert_eq!(sup("\"a b\" OR c"), "((\"a\" AND \"b\") OR \"c\")");
    }

    #[test]
    fn syntax_errors_are_reported() {
        for q in [
            "AND",
            "court AND",
            "(court",
            "court)",
            "NOT court",
            "\"\"",
            "  ",
        ] {
            assert!(parse(q, COLS).is_err(), "{q:?} should not parse");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = format!("{}a{}", "(".repeat(30_000), ")".repeat(30_000));
        let e = parse(&q, COLS).unwrap_err();
        assert!(e.0.contains("nest"), "{}", e.0);
    }

    #[test]
    fn phrase_matching_on_candidates() {
        let f = Fields::new(&[
            ("title", "Ruling due"),
            ("body", "The cloud-contract award, the Cloud Contracts."),
        ]);
        let mut no_terms = |_: &Leaf| false;
        let q = |s: &str| parse(s, COLS).unwrap();
        assert!(matches(&q("\"cloud contracts\""), &f, &mut no_terms));
        assert!(matches(&q("\"cloud contract\""), &f, &mut no_terms));
        assert!(matches(&q("\"contract award\""), &f, &mut no_terms));
        assert!(!matches(&q("\"award cloud\""), &f, &mut no_terms));
        assert!(matches(&q("\"cloud contr*\""), &f, &mut no_terms));
        assert!(!matches(&q("title:\"cloud contract\""), &f, &mut no_terms));
        assert!(matches(
            &q("\"ruling due\" NOT \"due ruling\""),
            &f,
            &mut no_terms
        ));
    }

    #[test]
    fn tokenizer_folds_case_and_diacritics() {
        assert_eq!(
            tokenize("Café-Society, NAÏVE 2026"),
            vec!["cafe", "society", "naive", "2026"]
        );
    }
}
