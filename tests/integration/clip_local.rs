//! `nj clip` from files and stdin: HTML is extracted like a fetched page,
//! text is kept as text with its first line as the title, and the clip
//! options (--title, --url, -t, -n) apply to both.

use serde_json::json;

use crate::pages::{ARTICLE, ARTICLE_TEXT};
use crate::util::{sha256, short, Env, NOW};

#[test]
fn html_file_is_extracted_like_a_fetched_page() {
    let env = Env::new();
    let file = env.write("bridge.html", ARTICLE);
    let v = env.nj(&["--json", "clip", file.to_str().unwrap()]).json();
    let a = &v["article"];
    assert_eq!(v["status"], "new");
    assert_eq!(a["title"], "Harbour Bridge Reopens After Repairs");
    assert_eq!(
        a["urls"],
        json!(["https://ledger.example/news/harbour-bridge-reopens?id=42"])
    );
    assert_eq!(a["site"], "The Coastal Ledger");
    assert_eq!(a["author"], "Mara Quint");
    assert_eq!(a["published_at"], "2026-03-04T08:00:00Z");
    assert_eq!(a["content_hash"], sha256(ARTICLE_TEXT.as_bytes()));
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        env.nj(&["show", id, "--text"]).success().stdout,
        ARTICLE_TEXT
    );
}

#[test]
fn txt_file_first_non_empty_line_is_the_title() {
    let env = Env::new();
    env.write(
        "budget.txt",
        "\n\n   Council approves harbour budget   \n\nThe council approved the harbour budget on Monday.\nDredging starts in May.\n",
    );
    let out = env.nj(&["clip", "budget.txt"]).success();
    let list = env.list_json();
    let id = list[0]["id"].as_str().unwrap();
    let text = "Council approves harbour budget\n\nThe council approved the harbour budget on Monday.\nDredging starts in May.\n";
    // Normalisation keeps leading indentation, so the stored first line is
    // "   Council ..."; the title is trimmed.
    let stored = format!("   {text}");
    assert_eq!(
        out.stdout,
        format!(
            "clipped {}: Council approves harbour budget\n  {}\n",
            short(id),
            sha256(stored.as_bytes())
        )
    );
    assert_eq!(list[0]["title"], "Council approves harbour budget");
    assert_eq!(list[0]["url"], json!(null));
    assert_eq!(list[0]["urls"], json!([]));
    assert_eq!(list[0]["word_count"], 16);
    assert_eq!(env.nj(&["show", id, "--text"]).success().stdout, stored);
}

#[test]
fn md_file_heading_is_the_title_and_the_markdown_is_kept() {
    let env = Env::new();
    env.write(
        "tidal.md",
        "# Tidal power plan approved\n\nThe *estuary* scheme will power 40,000 homes.\n\n- turbines: 12\n- cost: unknown\n",
    );
    let v = env.nj(&["--json", "clip", "tidal.md"]).json();
    assert_eq!(v["article"]["title"], "Tidal power plan approved");
    let id = v["article"]["id"].as_str().unwrap();
    assert_eq!(
        env.nj(&["show", id, "--text"]).success().stdout,
        "# Tidal power plan approved\n\nThe *estuary* scheme will power 40,000 homes.\n\n- turbines: 12\n- cost: unknown\n"
    );
}

#[test]
fn stdin_text_with_every_clip_option() {
    let env = Env::new();
    let text = "first line is not the title\n\nA ferry ran aground near the pier at low tide.\n";
    let out = env
        .nj_stdin(
            &[
                "clip",
                "-",
                "--title",
                "Ferry aground at pier",
                "--url",
                "https://Port.example/news/ferry?utm_source=tw&utm_medium=social&page=2#comments",
                "-t",
                "Harbour",
                "--tag",
                "Court Cases",
                "-t",
                "harbour",
                "-n",
                "check the tide tables",
            ],
            text,
        )
        .success();
    let list = env.list_json();
    let id = list[0]["id"].as_str().unwrap();
    let hash = sha256(text.as_bytes());
    assert_eq!(
        out.stdout,
        format!(
            "clipped {}: Ferry aground at pier\n  {hash}\n  tags: court-cases, harbour\n",
            short(id)
        )
    );
    assert_eq!(
        list,
        json!([{
            "id": id,
            "title": "Ferry aground at pier",
            "url": "https://port.example/news/ferry?page=2",
            "urls": ["https://port.example/news/ferry?page=2"],
            "site": null,
            "author": null,
            "lang": null,
            "pending": false,
            "published_at": null,
            "read_at": null,
            "clipped_at": NOW,
            "updated_at": NOW,
            "deleted_at": null,
            "content_hash": hash,
            "tags": ["court-cases", "harbour"],
            "word_count": 16,
        }])
    );
    let notes = env.nj(&["--json", "notes", "--article", id]).json();
    assert_eq!(notes.as_array().unwrap().len(), 1);
    assert_eq!(notes[0]["text"], "check the tide tables");
    assert_eq!(notes[0]["article_id"], id);
}

#[test]
fn stdin_html_is_extracted_and_its_relative_canonical_resolved() {
    let env = Env::new();
    let html = r#"<html><head><title>Lifeboat Launched Twice In One Afternoon | Bay News</title>
<link rel="canonical" href="/story/7?utm_campaign=spring">
<meta property="og:site_name" content="Bay News">
</head><body>
<nav><a href="/">Front page</a> <a href="/jobs">Jobs</a></nav>
<article><h1>Lifeboat Launched Twice In One Afternoon</h1>
<p>The volunteer lifeboat crew launched twice on Sunday to help kayakers caught by the ebbing tide off the point.</p>
<p>Nobody was hurt, the coastguard said.</p></article>
<footer>Bay News, all rights reserved</footer>
</body></html>"#;
    let v = env
        .nj_stdin(
            &[
                "--json",
                "clip",
                "-",
                "--url",
                "https://bay.example/s/7?utm_source=newsletter",
            ],
            html,
        )
        .json();
    let a = &v["article"];
    assert_eq!(a["title"], "Lifeboat Launched Twice In One Afternoon");
    assert_eq!(a["site"], "Bay News");
    assert_eq!(
        a["urls"],
        json!(["https://bay.example/story/7", "https://bay.example/s/7"])
    );
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        env.nj(&["show", id, "--text"]).success().stdout,
        "The volunteer lifeboat crew launched twice on Sunday to help kayakers caught by the ebbing tide off the point.\n\nNobody was hurt, the coastguard said.\n"
    );
}

#[test]
fn title_option_overrides_the_html_title() {
    let env = Env::new();
    env.write("bridge.htm", ARTICLE);
    let v = env
        .nj(&[
            "--json",
            "clip",
            "bridge.htm",
            "--title",
            "  Bridge open again  ",
        ])
        .json();
    assert_eq!(v["article"]["title"], "Bridge open again");
}

#[test]
fn url_option_must_be_an_http_url() {
    let env = Env::new();
    let out = env.nj_stdin(
        &["clip", "-", "--url", "ftp://files.example/a"],
        "Some text\n",
    );
    assert_eq!(
        out.failure(),
        "nj: --url \"ftp://files.example/a\" is not an http(s) URL; give the page's full address\n"
    );
    assert!(!env.db().exists(), "a refused clip created the journal");
}
