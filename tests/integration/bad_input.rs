//! Input that cannot become an article: each is refused with exit code 1,
//! one line on stderr starting `nj: `, and the journal left exactly as it
//! was. (Bad URLs are in `clip_url`, bad ids in `ids`.)

use crate::util::{assert_refused, Env};

/// A journal with one article in it, so "unchanged" means something.
fn seeded() -> Env {
    let env = Env::new();
    env.clip_text("Seed article\n\nIt was here before.\n", &[]);
    env
}

#[test]
fn binary_file_is_refused() {
    let env = seeded();
    env.write("data.txt", b"header\x00\x01\x02\x00binary body\x00");
    assert_refused(
        &env,
        &["clip", "data.txt"],
        None,
        "nj: data.txt looks like a binary file, not an article; nj clips HTML pages and plain text\n",
    );
}

#[test]
fn pdf_file_is_refused_by_its_contents() {
    let env = seeded();
    env.write("report.html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");
    assert_refused(
        &env,
        &["clip", "report.html"],
        None,
        "nj: report.html looks like a PDF document, not an article; nj clips HTML pages and plain text\n",
    );
}

#[test]
fn binary_stdin_is_refused() {
    let env = seeded();
    assert_refused(
        &env,
        &["clip", "-"],
        Some(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        "nj: standard input looks like a PNG image, not an article; nj clips HTML pages and plain text\n",
    );
}

#[test]
fn empty_file_is_refused() {
    let env = seeded();
    env.write("empty.txt", b"");
    assert_refused(
        &env,
        &["clip", "empty.txt"],
        None,
        "nj: empty.txt is empty, so nothing was clipped\n",
    );
}

#[test]
fn whitespace_only_stdin_is_refused() {
    let env = seeded();
    assert_refused(
        &env,
        &["clip", "-"],
        Some(b" \n\t\r\n   \n"),
        "nj: standard input is empty, so nothing was clipped\n",
    );
    assert_refused(
        &env,
        &["clip", "-"],
        Some(b""),
        "nj: standard input is empty, so nothing was clipped\n",
    );
}

#[test]
fn file_over_50_mb_is_refused() {
    let env = seeded();
    let f = std::fs::File::create(env.path("big.txt")).unwrap();
    // Sparse: no disk space used, and nj must refuse it by its size alone.
    f.set_len(51 * 1024 * 1024).unwrap();
    drop(f);
    assert_refused(
        &env,
        &["clip", "big.txt"],
        None,
        "nj: big.txt is 51.0 MB, over the 50 MB limit, so nothing was clipped; save the part you need to a smaller file\n",
    );
}

#[test]
fn stdin_over_50_mb_is_refused() {
    let env = seeded();
    let big = "All work and no play makes a long article.\n".repeat(51 * 1024 * 1024 / 43 + 1);
    assert!(big.len() > 51 * 1024 * 1024);
    let list = env.list_json();
    let before = env.snapshot();
    let err = env.nj_stdin(&["clip", "-"], &big).failure();
    assert!(
        err.starts_with("nj: standard input is ")
            && err.contains(" over the 50 MB limit, so nothing was clipped")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(before == env.snapshot(), "the journal file changed");
    assert_eq!(env.list_json(), list);
}

#[test]
fn invalid_utf8_text_is_refused() {
    let env = seeded();
    env.write("latin1.txt", b"Caf\xe9 society\n\nA na\xefve review.\n");
    assert_refused(
        &env,
        &["clip", "latin1.txt"],
        None,
        "nj: latin1.txt is not valid UTF-8 text (bad byte at offset 3); convert it first, e.g. `iconv -f latin1 -t utf-8`\n",
    );
    assert_refused(
        &env,
        &["clip", "-"],
        Some(b"Plain text with a bad byte: \xff\n"),
        "nj: standard input is not valid UTF-8 text (bad byte at offset 28); convert it first, e.g. `iconv -f latin1 -t utf-8`\n",
    );
}

#[test]
fn directory_is_refused() {
    let env = seeded();
    std::fs::create_dir(env.path("clippings")).unwrap();
    assert_refused(
        &env,
        &["clip", "clippings"],
        None,
        "nj: clippings is a folder; give a file, a URL, or - for standard input\n",
    );
}

#[test]
fn missing_file_is_refused() {
    let env = seeded();
    assert_refused(
        &env,
        &["clip", "no-such-article.html"],
        None,
        "nj: cannot read no-such-article.html: no such file; check the path\n",
    );
}

#[test]
fn html_page_without_article_text_is_refused() {
    let env = seeded();
    env.write(
        "blank.html",
        "<!DOCTYPE html><html><head><title>Nothing here</title><style>body{}</style></head>\
         <body><script>document.title = 'still nothing';</script><img src=\"a.png\"></body></html>",
    );
    assert_refused(
        &env,
        &["clip", "blank.html"],
        None,
        "nj: found no article text in blank.html; if the page is right, save its text to a .txt file and clip that\n",
    );
}

/// A page that is only site chrome (a script-rendered app's shell) has no
/// article; nj used to store its navigation links as the article text.
#[test]
fn page_of_only_navigation_is_not_an_article() {
    let env = seeded();
    env.write(
        "shell.html",
        "<!DOCTYPE html><html><head><title>Coastal Ledger</title></head><body>\
         <header><nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/about\">About</a></li></ul></nav></header>\
         <div id=\"root\"></div><script src=\"/app.js\"></script>\
         <footer><p>Copyright 2026 The Coastal Ledger</p></footer></body></html>",
    );
    assert_refused(
        &env,
        &["clip", "shell.html"],
        None,
        // The shell loads a script to build its text: say so.
        "nj: found no article text in shell.html: the page builds its text with JavaScript, which nj does not run; \
         save the page from your browser (Save Page As) and clip that file, or save its text to a .txt file\n",
    );
}
