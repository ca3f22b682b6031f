//! Bytes to text: charset detection for HTML, strict UTF-8 for plain text,
//! and the checks that keep binaries and oversize input out.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};

use crate::error::{Error, Result};

use crate::limits::MAX_INPUT_BYTES;

/// Names a binary format from its first bytes, if it is a known one.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1F\x8B", "a gzip file"),
        (b"\x7FELF", "a program"),
        (b"SQLite format 3\0", "a SQLite database"),
    ];
    for (magic, name) in MAGIC {
        if bytes.starts_with(magic) {
            return Some(name);
        }
    }
    let head = &bytes[..bytes.len().min(8192)];
    // UTF-16 text has NULs too, but starts with a byte-order mark.
    let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
    (!utf16 && head.contains(&0)).then_some("a binary file")
}

/// Refuses input that cannot be an article, naming the source.
pub fn check_input(what: &str, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big(what, None));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::BadInput(format!(
            "{what} is empty, so nothing was clipped"
        )));
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(Error::BadInput(format!(
            "{what} looks like {kind}, not an article; nj clips HTML pages and plain text"
        )));
    }
    Ok(())
}

/// The error for input over the limit. `size` is the known size, or `None`
/// when reading stopped at the limit.
pub fn too_big(what: &str, size: Option<u64>) -> Error {
    let size = size
        .map(|s| format!("{:.1} MB, ", s as f64 / 1_048_576.0))
        .unwrap_or_default();
    Error::BadInput(format!(
        "{what} is {size}over the {} MB limit, so nothing was clipped; save the part you need to a smaller file",
        MAX_INPUT_BYTES / 1_048_576
    ))
}

/// Decodes plain text, which must be UTF-8 (a UTF-8 or UTF-16 byte-order
/// mark is honoured). Guessing a legacy charset for plain text is wrong
/// too often to do silently.
pub fn decode_text(what: &str, bytes: &[u8]) -> Result<String> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if !had_errors {
            return Ok(text.into_owned());
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => Err(Error::BadInput(format!(
            "{what} is not valid UTF-8 text (bad byte at offset {}); convert it first, e.g. `iconv -f latin1 -t utf-8`",
            e.valid_up_to()
        ))),
    }
}

/// Decodes an HTML page the way browsers do, in order: a byte-order mark,
/// the charset of the Content-Type header, a `<meta>` charset in the first
/// 4 KB, UTF-8 when the bytes are valid UTF-8, else the charset the bytes
/// look like (chardetng; windows-1252 for Western text).
pub fn decode_html(bytes: &[u8], header_charset: Option<&str>) -> String {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    html_charset(bytes, header_charset, true)
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// The charset of an HTML document without a byte-order mark, decided as
/// [`decode_html`] says, from `bytes`: the whole document when `complete`,
/// else its start (a file read as it is imported), where the last
/// character may be cut off.
pub(crate) fn html_charset(
    bytes: &[u8],
    header_charset: Option<&str>,
    complete: bool,
) -> &'static Encoding {
    let is_utf8 = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    };
    let declared = header_charset
        .and_then(|c| Encoding::for_label(c.trim().trim_matches('"').as_bytes()))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(4096)]));
    match declared {
        // A page cannot really be UTF-16 once it had no BOM; browsers read it as UTF-8.
        Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => UTF_8,
        // A page that says Latin-1 (or another single-byte charset) but
        // whose bytes are valid UTF-8 with multi-byte characters is UTF-8:
        // a CMS template kept an old declaration. Real Latin-1 text is
        // almost never also valid UTF-8, so trusting the bytes avoids "Ã©".
        Some(e) if e.is_single_byte() && !bytes.is_ascii() && is_utf8 => UTF_8,
        Some(e) => e,
        None if is_utf8 => UTF_8,
        // Undeclared legacy bytes: guess as Firefox does (from the first
        // 64 KB, which is plenty and keeps huge pages quick), rather than
        // read Shift_JIS or windows-1251 as windows-1252.
        None => {
            let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
            detector.feed(&bytes[..bytes.len().min(64 * 1024)], true);
            detector.guess(None, Utf8Detection::Deny)
        }
    }
}

/// Finds `<meta charset=...>` or `<meta http-equiv=Content-Type content="...;
/// charset=...">` in the head of a page.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 0;
    while let Some(i) = find(&lower[pos..], b"<meta") {
        let start = pos + i;
        let end = find(&lower[start..], b">")
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let mut rest = &tag[c + b"charset".len()..];
            rest = trim_start(rest);
            if let Some(r) = rest.strip_prefix(b"=") {
                let r = trim_start(r);
                let r = r
                    .strip_prefix(b"\"")
                    .or_else(|| r.strip_prefix(b"'"))
                    .unwrap_or(r);
                let len = r
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(r.len());
                if let Some(enc) = Encoding::for_label(&r[..len]) {
                    return Some(enc);
                }
            }
        }
        pos = end.max(start + 1);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

/// Tags that open an HTML page or fragment: those of the WHATWG's sniffing
/// rules (mimesniff, "identifying a resource with an unknown MIME type"),
/// and the few a saved fragment starts with besides.
const OPENING_TAGS: &[&str] = &[
    "!doctype html",
    "html",
    "head",
    "body",
    "script",
    "iframe",
    "h1",
    "h2",
    "div",
    "font",
    "table",
    "a",
    "style",
    "title",
    "b",
    "br",
    "p",
    "meta",
    "link",
    "article",
    "main",
    "section",
    "header",
    "nav",
    "span",
    "ul",
    "img",
    "noscript",
];

/// Whether text that arrived without a type is HTML: past white space,
/// a byte-order mark and any HTML comments, it starts with an HTML tag (or
/// an XML declaration of an HTML page); or, as before, an `<html`, `<head`
/// or `<body` tag appears in its first kilobyte. A saved page may open
/// with a licence comment ("saved from url=") or kilobytes of inline
/// script before its `<html>`, which a look at the first kilobyte alone
/// took for plain text; Markdown that opens with a comment (a table of
/// contents marker) is still text.
pub fn looks_like_html(text: &str) -> bool {
    let is_tag_end = |c: char| c.is_ascii_whitespace() || c == '>' || c == '/';
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    // The comments before the first tag, within the first 64 KiB.
    let mut skipped = 0;
    while let Some(after) = rest.strip_prefix("<!--") {
        let Some(end) = after.find("-->") else { break };
        skipped += end + 7;
        if skipped > 64 * 1024 {
            break;
        }
        rest = after[end + 3..].trim_start();
    }
    let start: String = rest
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if start.starts_with("<?xml")
        && rest
            .chars()
            .take(1024)
            .collect::<String>()
            .to_ascii_lowercase()
            .contains("<html")
    {
        return true;
    }
    let opens = OPENING_TAGS.iter().any(|tag| {
        start
            .strip_prefix('<')
            .and_then(|r| r.strip_prefix(tag))
            .is_some_and(|r| r.starts_with(is_tag_end))
    });
    if opens {
        return true;
    }
    let head: String = text
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    ["<html", "<head", "<body"].iter().any(|tag| {
        head.match_indices(tag)
            .any(|(i, _)| head[i + tag.len()..].starts_with(is_tag_end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_charset_wins_over_utf8_guess() {
        let page = b"<html><head><meta charset=\"windows-1252\"></head><body>caf\xe9</body></html>";
        assert!(decode_html(page, None).contains("café"));
        let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\"></head><body>\xa3 5</body></html>";
        assert!(decode_html(page, None).contains("£ 5"));
    }

    #[test]
    fn header_charset_wins_over_meta() {
        let page = b"<meta charset=utf-8><p>\xe9t\xe9</p>";
        assert!(decode_html(page, Some("iso-8859-1")).contains("été"));
    }

    #[test]
    fn a_wrong_single_byte_declaration_loses_to_valid_utf8() {
        let page = "<meta charset=\"iso-8859-1\"><p>Café “quoted” — naïve</p>".as_bytes();
        assert!(decode_html(page, None).contains("Café “quoted” — naïve"));
        assert!(decode_html(page, Some("windows-1252")).contains("Café"));
    }

    #[test]
    fn shift_jis_declared_in_meta() {
        // 日本語のニュース in Shift_JIS.
        let mut page = b"<html><head><meta charset=\"Shift_JIS\"></head><body><p>".to_vec();
        page.extend_from_slice(b"\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x6a\x83\x85\x81\x5b\x83\x58");
        page.extend_from_slice(b"</p></body></html>");
        assert!(decode_html(&page, None).contains("日本語のニュース"));
    }

    #[test]
    fn undeclared_legacy_charsets_are_guessed() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("<html><body><p>東京都は月曜日、新しい図書館を来年の春に開くと発表しました。</p></body></html>");
        assert!(decode_html(&sjis, None).contains("東京都は月曜日、新しい図書館"));
        let (cyrillic, _, _) = encoding_rs::WINDOWS_1251
            .encode("<p>Городской совет утвердил новый бюджет на следующий год.</p>");
        assert!(decode_html(&cyrillic, None).contains("Городской совет утвердил"));
    }

    #[test]
    fn undeclared_non_utf8_falls_back_to_windows_1252() {
        assert!(decode_html(b"<p>\x93quoted\x94</p>", None).contains("\u{201c}quoted\u{201d}"));
        assert!(decode_html("<p>naïve</p>".as_bytes(), None).contains("naïve"));
    }

    #[test]
    fn text_must_be_utf8() {
        let err = decode_text("notes.txt", b"caf\xe9").unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        assert_eq!(
            decode_text("x", "\u{feff}héllo".as_bytes()).unwrap(),
            "héllo"
        );
    }

    #[test]
    fn binaries_and_empty_input_are_refused() {
        assert!(check_input("a.pdf", b"%PDF-1.7 ...")
            .unwrap_err()
            .to_string()
            .contains("a PDF document"));
        assert!(check_input("x", b"abc\0def")
            .unwrap_err()
            .to_string()
            .contains("binary"));
        assert!(check_input("x", b"  \n ")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(check_input("x", b"fine text").is_ok());
    }

    #[test]
    fn html_sniffing() {
        assert!(looks_like_html("  <!DOCTYPE html><html>"));
        assert!(looks_like_html("<div><p>Hello</p></div>"));
        assert!(!looks_like_html("Plain text with a < sign"));
        assert!(!looks_like_html("# Markdown title\n\nbody"));
        // A licence comment, or a long script, before the page's <html>.
        assert!(looks_like_html(
            "<!-- saved from url=(0042) -->\n<html><body>x"
        ));
        let script = format!(
            "<script>{}</script>\n<html><body><p>x</p>",
            "var a=1;".repeat(500)
        );
        assert!(looks_like_html(&script));
        assert!(looks_like_html(&format!(
            "{}\n<body class=\"post\">",
            " ".repeat(3000)
        )));
        assert!(looks_like_html("\u{feff}<p>Bare paragraph"));
        // Text that only mentions tags stays text.
        assert!(!looks_like_html(
            "Use <b>bold</b> sparingly, the guide says."
        ));
        assert!(!looks_like_html("<3 this article\nand the next"));
        assert!(!looks_like_html("<bodyguard> is not a tag"));
    }
}
