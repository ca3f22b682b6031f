//! `nj export --format netscape|markdown|ics`: bookmark HTML that parses
//! back (titles and URLs escaped, dates, tags), one Markdown file per
//! article with YAML front matter, and the follow-ups as iCalendar.
//! (newsjournal JSON and its round trip are in import.rs.)

use icalendar::parser::{read_calendar, unfold};

use crate::util::{short, Env};

const TITLE: &str = "Tom & Jerry <3 \"quotes\": Über 東京";
const URL: &str = "https://news.example/a?x=1&y=2";

/// A journal of a URL article with tags and notes, a stdin article with no
/// URL, and a removed article; returns (tagged, plain, removed) ids.
fn journal(env: &Env) -> (String, String, String) {
    env.set_now("2026-11-20T10:00:00Z");
    let tagged = env.clip_text(
        &format!("{TITLE}\n\nThe body, with <b>markup</b> & more.\n"),
        &[
            "--url",
            URL,
            "-t",
            "cartoons",
            "-t",
            "Städte",
            "-n",
            "Why: <it> matters",
        ],
    );
    env.set_now("2026-11-21T11:00:00Z");
    env.nj(&["note", &tagged, "A second note"]).success();
    let plain = env.clip_text("No URL here\n\nJust text.\n", &[]);
    let removed = env.clip_text(
        "Gone\n\nRemoved later.\n",
        &["--url", "https://news.example/gone"],
    );
    env.nj(&["rm", &removed]).success();
    (tagged, plain, removed)
}

/// The `<A>` elements of a bookmark file: (href, add_date, tags, title),
/// attribute values and text unescaped.
fn bookmarks(html: &str) -> Vec<(String, String, String, String)> {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
    fn attr(tag: &str, name: &str) -> String {
        let start = tag.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3);
        start
            .map(|s| unescape(&tag[s..s + tag[s..].find('"').unwrap()]))
            .unwrap_or_default()
    }
    html.match_indices("<DT><A ")
        .map(|(i, _)| {
            // After "<DT>": the <A ...> tag, its text, </A>.
            let a = &html[i + 4..];
            let open = &a[..a.find('>').unwrap()];
            let text = &a[open.len() + 1..a.find("</A>").unwrap()];
            (
                attr(open, "HREF"),
                attr(open, "ADD_DATE"),
                attr(open, "TAGS"),
                unescape(text),
            )
        })
        .collect()
}

#[test]
fn netscape_bookmarks_parse_back_with_escaped_titles_dates_and_tags() {
    let env = Env::new();
    journal(&env);
    let html = env.nj(&["export", "--format", "netscape"]).success().stdout;
    assert!(
        html.starts_with("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n"),
        "{html}"
    );
    assert!(html.ends_with("</DL><p>\n"), "{html}");
    assert_eq!(
        bookmarks(&html),
        vec![(
            URL.to_owned(),
            "1795168800".to_owned(),
            "cartoons,städte".to_owned(),
            TITLE.to_owned()
        )]
    );
    // No raw markup from the journal gets into the HTML.
    assert!(
        html.contains("<DD>Why: &lt;it&gt; matters\n\nA second note\n"),
        "{html}"
    );
    assert!(!html.contains("<it>"));

    let out = env
        .nj(&["export", "--format", "netscape", "-o", "bookmarks.html"])
        .success();
    assert_eq!(
        out.stderr,
        "exported 1 bookmark (left out 1 article: clipped from a file or stdin with no URL) to bookmarks.html\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("bookmarks.html")).unwrap(),
        html
    );
}

#[test]
fn markdown_writes_one_file_per_article_with_front_matter() {
    let env = Env::new();
    let (tagged, plain, _) = journal(&env);
    let out = env
        .nj(&["export", "--format", "markdown", "-o", "vault"])
        .success();
    assert_eq!(out.stderr, "exported 2 articles to vault\n");
    let mut names: Vec<String> = std::fs::read_dir(env.path("vault"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let tagged_name = format!("tom-jerry-3-quotes-über-東京-{}.md", short(&tagged));
    assert_eq!(
        names,
        vec![
            format!("no-url-here-{}.md", short(&plain)),
            tagged_name.clone()
        ]
    );
    let md = std::fs::read_to_string(env.path("vault").join(&tagged_name)).unwrap();
    let v = env.nj(&["--json", "show", &tagged]).json();
    assert_eq!(
        md,
        format!(
            "---\n\
             title: \"Tom & Jerry <3 \\\"quotes\\\": Über 東京\"\n\
             url: \"{URL}\"\n\
             tags: [\"cartoons\", \"städte\"]\n\
             hash: \"{}\"\n\
             clipped: 2026-11-20T10:00:00.000Z\n\
             updated: 2026-11-21T11:00:00.000Z\n\
             id: \"{tagged}\"\n\
             ---\n\
             \n\
             # {TITLE}\n\
             \n\
             ## Notes\n\
             \n\
             *2026-11-20T10:00:00.000Z*\n\
             \n\
             Why: <it> matters\n\
             \n\
             *2026-11-21T11:00:00.000Z*\n\
             \n\
             A second note\n\
             \n\
             ## Text\n\
             \n\
             {TITLE}\n\
             \n\
             The body, with <b>markup</b> & more.\n",
            v["content_hash"].as_str().unwrap()
        )
    );
    // Exporting again rewrites the same files.
    env.nj(&["export", "--format", "markdown", "-o", "vault"])
        .success();
    assert_eq!(std::fs::read_dir(env.path("vault")).unwrap().count(), 2);

    let err = env.nj(&["export", "--format", "markdown"]).failure();
    assert_eq!(
        err,
        "nj: --format markdown writes one file per article: give the folder with -o DIR\n"
    );
}

#[test]
fn ics_holds_the_follow_ups_open_and_done() {
    let env = Env::new();
    let (tagged, _, _) = journal(&env);
    let open = env.follow_up(&[&tagged, "Check the ruling", "--due", "2026-12-01"]);
    let done = env.follow_up(&["Call the office", "--due", "2026-11-22"]);
    env.set_now("2026-11-23T08:00:00Z");
    env.nj(&["done", done["id"].as_str().unwrap()]).success();
    let ics = env.nj(&["export", "--format", "ics"]).success().stdout;
    let unfolded = unfold(&ics);
    let cal = read_calendar(&unfolded).expect("a valid calendar");
    let todos: Vec<_> = cal
        .components
        .iter()
        .filter(|c| c.name == "VTODO")
        .map(|c| {
            let p = |n: &str| c.find_prop(n).map(|p| p.val.as_str().to_owned());
            (
                p("UID").unwrap(),
                p("SUMMARY").unwrap(),
                p("STATUS").unwrap(),
                p("COMPLETED"),
            )
        })
        .collect();
    assert_eq!(
        todos,
        vec![
            (
                format!("{}@newsjournal", open["id"].as_str().unwrap()),
                "Check the ruling".to_owned(),
                "NEEDS-ACTION".to_owned(),
                None
            ),
            (
                format!("{}@newsjournal", done["id"].as_str().unwrap()),
                "Call the office".to_owned(),
                "COMPLETED".to_owned(),
                Some("20261123T080000Z".to_owned())
            ),
        ]
    );
    // `nj due --ics` still lists only the open one.
    let due = env.nj(&["due", "--ics"]).success().stdout;
    assert_eq!(due.matches("BEGIN:VTODO").count(), 1);
}

/// `-o` into a pipe (or a device, such as /dev/null) writes into it: the
/// export used to replace it with a file, and run as root, `nj export -o
/// /dev/null` replaced the system's /dev/null with an ordinary file.
#[test]
#[cfg(unix)]
fn regression_exporting_into_a_pipe_or_device_replaced_it_with_a_file() {
    use std::os::unix::fs::FileTypeExt;
    let env = Env::new();
    journal(&env);
    let fifo = env.path("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // A reader at the pipe's other end, as `nj export -o >(gzip > x.gz)`
    // would have.
    let mut reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = env.nj(&["export", "-o", "pipe"]);
    let still_a_pipe = std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo();
    if !still_a_pipe {
        // Nothing will ever write to the reader's pipe: stop it.
        reader.kill().unwrap();
    }
    let read = reader.wait_with_output().unwrap();
    assert!(still_a_pipe, "the pipe was replaced: {out:?}");
    out.success();
    let text = String::from_utf8(read.stdout).unwrap();
    assert!(
        text.starts_with("{\"format\":\"newsjournal\",\"version\":1,"),
        "{text}"
    );
    assert!(text.ends_with("]}\n"), "{text}");
}

/// `-o` through a symbolic link replaces the file it points to and keeps
/// the link (a calendar file linked into a synced folder stays linked).
#[test]
#[cfg(unix)]
fn exporting_through_a_symbolic_link_keeps_the_link() {
    let env = Env::new();
    journal(&env);
    std::fs::create_dir(env.path("synced")).unwrap();
    env.write("synced/followups.ics", "old");
    std::os::unix::fs::symlink("synced/followups.ics", env.path("link.ics")).unwrap();
    env.nj(&["export", "--format", "ics", "-o", "link.ics"])
        .success();
    let meta = std::fs::symlink_metadata(env.path("link.ics")).unwrap();
    assert!(meta.file_type().is_symlink());
    let ics = std::fs::read_to_string(env.path("synced/followups.ics")).unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
}
