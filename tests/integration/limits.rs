//! Every text field has a cap where it enters the journal (README,
//! "Limits"), so that no change a user can make is too large to sync.

use crate::util::*;

/// Issue 17, items 1 and 8: a 50 MB title or URL imported as it was, and
/// a huge title, tag or follow-up text was stored and then refused by the
/// sync server on every `nj sync`.
#[test]
fn regression_fields_without_caps() {
    let env = Env::new();
    let id = env.clip_text("Harbor\n\nThe harbor story.\n", &[]);
    let long = |n: usize| "x".repeat(n);

    // Typed by the user: refused, with the sizes and what to do; nothing
    // is written.
    assert_refused(
        &env,
        &["title", &id, &long(5_000)],
        None,
        "nj: the title is 5.0 KB, and a title holds at most 4 KB; give a shorter one\n",
    );
    assert_refused(
        &env,
        &["tag", &id, &format!("+{}", long(300))],
        None,
        "nj: the tag is 300 bytes, and a tag holds at most 256 bytes; use a word or two\n",
    );
    assert_refused(
        &env,
        &["follow-up", &id, &long(5_000), "--due", "tomorrow"],
        None,
        "nj: the follow-up's text is 5.0 KB, and a follow-up's text holds at most 4 KB; \
         say what to check in a sentence, and keep the rest in a note (`nj note`)\n",
    );
    assert_refused(
        &env,
        &["clip", "-", "--title", &long(5_000)],
        Some(b"Another story\n\nIts text.\n"),
        "nj: the title is 5.0 KB, and a title holds at most 4 KB; give a shorter one\n",
    );
    // Just under each cap is fine.
    env.nj(&["title", &id, &long(4096)]).success();
    env.nj(&["tag", &id, &format!("+{}", long(256))]).success();

    // Made by a page: a 1 MB <title> and byline are cut, and an overlong
    // canonical URL is left out; the page clips.
    let page = format!(
        "<html><head><title>{}</title><meta name=author content=\"{}\">\
         <link rel=canonical href=\"https://news.example/{}\"></head>\
         <body><article><h1>Bridge</h1><p>{}</p></article></body></html>",
        "T".repeat(1 << 20),
        "A".repeat(1 << 20),
        "c".repeat(20_000),
        "The bridge vote was delayed again by the council. ".repeat(20)
    );
    env.write("page.html", &page);
    let out = env.nj(&["--json", "clip", "page.html"]).json();
    let title = out["article"]["title"].as_str().unwrap();
    assert!(
        title.len() <= 4096 && title.ends_with('…'),
        "{}",
        title.len()
    );
    let author = out["article"]["author"].as_str().unwrap();
    assert!(author.len() <= 1024, "{}", author.len());
    assert!(
        out["article"]["urls"].as_array().unwrap().is_empty(),
        "{}",
        out["article"]["urls"]
    );

    // From an import: the item with a 20 KB URL or a 300-byte tag is
    // rejected with the reason, a 1 MB title is cut, the rest import.
    env.write(
        "marks.html",
        format!(
            "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n\
             <DT><A HREF=\"https://a.example/{}\">Long URL</A>\n\
             <DT><A HREF=\"https://b.example/x\" TAGS=\"{}\">Long tag</A>\n\
             <DT><A HREF=\"https://c.example/x\">{}</A>\n\
             <DT><A HREF=\"https://d.example/x\">Fine</A>\n</DL>\n",
            "u".repeat(20_000),
            "g".repeat(300),
            "L".repeat(1 << 20)
        ),
    );
    let out = env.nj(&["import", "marks.html"]).success();
    assert!(out.stdout.contains("2 added"), "{}", out.stdout);
    assert!(out.stdout.contains("2 rejected"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("the URL is 20.0 KB, and a URL holds at most 8 KB"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("the tag is 300 bytes, and a tag holds at most 256 bytes"),
        "{}",
        out.stderr
    );
    let list = env.list_json();
    let longest = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert!(longest <= 4096, "{longest}");
    env.nj(&["verify"]).success();
}
