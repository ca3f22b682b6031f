//! Browsing: `nj list` and its filters, `nj show` for people and as JSON,
//! tags, and the bin (`nj rm`, `nj restore`, `nj list --removed`).

use serde_json::{json, Value};

use crate::pages::{ARTICLE, ARTICLE_TEXT};
use crate::util::{column, sha256, short, Env};

/// Four articles clipped on different days; returns their ids oldest first.
fn four_articles(env: &Env) -> Vec<String> {
    let clips: [(&str, &str, &[&str]); 4] = [
        (
            "2026-11-10T08:00:00Z",
            "Old quay demolished\n\nThe old quay was pulled down.\n",
            &["-t", "harbour"],
        ),
        (
            "2026-11-19T12:00:00Z",
            "Fish market moves\n\nThe fish market moves inland next year.\n",
            &["-t", "Market"],
        ),
        (
            "2026-11-20T08:00:00Z",
            "Harbour fees rise\n\nMooring fees go up by a tenth.\n",
            &["-t", "harbour", "-t", "money"],
        ),
        (
            "2026-11-25T17:45:00Z",
            "New pilot boat\n\nThe harbour has a new pilot boat.\n",
            &[],
        ),
    ];
    let ids = clips
        .iter()
        .map(|(now, text, args)| {
            env.set_now(now);
            env.clip_text(text, args)
        })
        .collect();
    env.set_now("2026-11-26T09:00:00Z");
    ids
}

fn titles(v: &Value) -> Vec<String> {
    column(v, "title")
}

#[test]
fn list_is_newest_first() {
    let env = Env::new();
    let ids = four_articles(&env);
    let out = env.nj(&["list"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        CLIPPED     READ  WORDS  TAGS           TITLE\n\
             {}  2026-11-25        10                    New pilot boat\n\
             {}  2026-11-20        10     harbour,money  Harbour fees rise\n\
             {}  2026-11-19        10     market         Fish market moves\n\
             {}  2026-11-10        9      harbour        Old quay demolished\n",
            short(&ids[3]),
            short(&ids[2]),
            short(&ids[1]),
            short(&ids[0])
        )
    );
    assert_eq!(out.stderr, "");
    let v = env.list_json();
    assert_eq!(
        column(&v, "id"),
        vec![
            ids[3].clone(),
            ids[2].clone(),
            ids[1].clone(),
            ids[0].clone()
        ]
    );
}

#[test]
fn list_filters_by_tag() {
    let env = Env::new();
    four_articles(&env);
    let v = env.nj(&["--json", "list", "--tag", "Harbour"]).json();
    assert_eq!(titles(&v), ["Harbour fees rise", "Old quay demolished"]);
    let v = env.nj(&["--json", "list", "-t", "market"]).json();
    assert_eq!(titles(&v), ["Fish market moves"]);
    let out = env.nj(&["list", "--tag", "nothing"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "no articles match\n");
}

#[test]
fn list_since_a_date_and_an_amount_of_time() {
    let env = Env::new();
    four_articles(&env);
    let v = env.nj(&["--json", "list", "--since", "2026-11-20"]).json();
    assert_eq!(titles(&v), ["New pilot boat", "Harbour fees rise"]);
    // 7 days before 2026-11-26T09:00Z is 2026-11-19T09:00Z.
    let v = env.nj(&["--json", "list", "--since", "7d"]).json();
    assert_eq!(
        titles(&v),
        ["New pilot boat", "Harbour fees rise", "Fish market moves"]
    );
    let v = env
        .nj(&["--json", "list", "--since", "7d", "--tag", "harbour"])
        .json();
    assert_eq!(titles(&v), ["Harbour fees rise"]);
    assert_eq!(
        env.nj(&["list", "--since", "blue moon"]).failure(),
        "nj: cannot read the time \"blue moon\"; use a date (2026-11-01), a date and time \
         (2026-11-01T09:30), today, yesterday, or an amount of time ago (7d, 2w, 3 days ago, 1mo)\n"
    );
}

#[test]
fn list_limit_says_how_many_more_there_are() {
    let env = Env::new();
    let ids = four_articles(&env);
    let out = env.nj(&["list", "--limit", "2"]).success();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(out.stdout.contains(short(&ids[3])));
    assert!(out.stdout.contains(short(&ids[2])));
    assert_eq!(
        out.stderr,
        "showing the newest 2; use --limit N for more, or --limit 0 for all\n"
    );
    // When the limit shows everything, there is nothing more to say.
    let out = env.nj(&["list", "--limit", "4"]).success();
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
    assert_eq!(out.stderr, "");
    let v = env.nj(&["--json", "list", "-l", "3"]).json();
    assert_eq!(v.as_array().unwrap().len(), 3);
    let v = env.nj(&["--json", "list", "--limit", "0"]).json();
    assert_eq!(v.as_array().unwrap().len(), 4);
}

#[test]
fn list_of_an_empty_journal_says_how_to_start() {
    let env = Env::new();
    env.init();
    let out = env.nj(&["list"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "no articles yet; clip one with `nj clip URL`\n");
    assert_eq!(env.nj(&["--json", "list"]).json(), json!([]));
}

#[test]
fn list_json_has_the_documented_fields() {
    let env = Env::new();
    env.clip_text("Fields\n\nEvery one of them.\n", &["-t", "x"]);
    let v = env.list_json();
    let mut keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "author",
            "clipped_at",
            "content_hash",
            "deleted_at",
            "id",
            "lang",
            "pending",
            "published_at",
            "read_at",
            "site",
            "tags",
            "title",
            "updated_at",
            "url",
            "urls",
            "word_count"
        ]
    );
    let id = v[0]["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert!(
        id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{id}"
    );
}

#[test]
fn show_prints_metadata_wrapped_text_notes_and_versions() {
    let env = Env::new();
    env.write("bridge.html", ARTICLE);
    let id = crate::util::article_id(
        &env.nj(&[
            "--json",
            "clip",
            "bridge.html",
            "--url",
            "https://mirror.example/bridge",
            "-t",
            "Bridges",
            "-t",
            "city hall",
        ])
        .success(),
    );
    env.set_now("2026-11-27T14:05:00Z");
    env.nj(&[
        "note",
        &id,
        "Compare with the 2019 closure, when the council blamed the contractor for the delays and the cost overrun.",
    ])
    .success();
    let nid = column(&env.nj(&["--json", "notes"]).json(), "id").remove(0);
    let hash = sha256(ARTICLE_TEXT.as_bytes());
    let out = env.nj(&["show", &id[..5]]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Harbour Bridge Reopens After Repairs
id         {id}
url        https://ledger.example/news/harbour-bridge-reopens?id=42
also at    https://mirror.example/bridge
site       The Coastal Ledger
author     Mara Quint
published  2026-03-04 08:00
clipped    2026-11-26 09:00
tags       bridges, city-hall
words      116
hash       {hash}

The harbour bridge reopened to traffic on Tuesday morning after eleven weeks
of repairs to its corroded steel cables, the city engineering office said in
a statement.

Engineers replaced forty-two suspension cables and resurfaced the deck, work
that cost the city roughly 3.1 million in total. Commuters who had faced detours
of up to forty minutes welcomed the reopening.

\"We are relieved that the crossing is safe again,\" said the harbourmaster, who
had warned in January that the cables were deteriorating faster than expected
because of salt spray.

The council will publish a full inspection report next month, and has promised
annual checks of the remaining original cables, which date from the bridge's
construction in 1961.

Notes
  {} 2026-11-27 14:05
    Compare with the 2019 closure, when the council blamed the contractor for
    the delays and the cost overrun.

Versions
    1  2026-11-26 09:00     116 words  {hash}
",
            short(&nid)
        )
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn show_json_has_the_article_notes_versions_and_text() {
    let env = Env::new();
    let text = "Show me\n\nAll of it.\n";
    let id = env.clip_text(text, &["--url", "https://a.example/show", "-n", "why"]);
    let v = env.nj(&["--json", "show", &id]).json();
    let nid = v["notes"][0]["id"].as_str().unwrap().to_owned();
    let vid = v["versions"][0]["id"].as_str().unwrap().to_owned();
    let hash = sha256(text.as_bytes());
    assert_eq!(
        v,
        json!({
            "id": id,
            "title": "Show me",
            "url": "https://a.example/show",
            "urls": ["https://a.example/show"],
            "site": null,
            "author": null,
            "lang": null,
            "pending": false,
            "published_at": null,
            "read_at": null,
            "clipped_at": "2026-11-26T09:00:00Z",
            "updated_at": "2026-11-26T09:00:00Z",
            "deleted_at": null,
            "content_hash": hash,
            "tags": [],
            "word_count": 5,
            "notes": [{
                "id": nid,
                "article_id": id,
                "text": "why",
                "created_at": "2026-11-26T09:00:00Z",
                "updated_at": "2026-11-26T09:00:00Z",
            }],
            "versions": [{
                "number": 1,
                "id": vid,
                "content_hash": hash,
                "created_at": "2026-11-26T09:00:00Z",
                "word_count": 5,
            }],
            // No syndicated copies folded into it (copies.rs has some).
            "copies": [],
            "followups": [],
            "text": text,
        })
    );
}

#[test]
fn tag_adds_and_removes_with_plus_and_minus() {
    let env = Env::new();
    let id = env.clip_text("Tag me\n\nPlease.\n", &["-t", "b", "-t", "keep"]);
    let s = short(&id);
    let out = env.nj(&["tag", &id, "+a", "-b", "C"]).success();
    assert_eq!(
        out.stdout,
        format!("{s}: added a, c; removed b; tags: a, c, keep\n")
    );
    assert_eq!(env.list_json()[0]["tags"], json!(["a", "c", "keep"]));

    let out = env.nj(&["tag", &id, "-nothere", "+a"]).success();
    assert_eq!(out.stdout, format!("{s}: no change; tags: a, c, keep\n"));
    let out = env.nj(&["tag", &id]).success();
    assert_eq!(out.stdout, format!("{s}: tags: a, c, keep\n"));

    let v = env.nj(&["--json", "tag", &id, "-a", "-c", "-keep"]).json();
    assert_eq!(
        v,
        json!({"id": id, "tags": [], "added": [], "removed": ["a", "c", "keep"]})
    );
    let out = env.nj(&["tag", &id]).success();
    assert_eq!(out.stdout, format!("{s}: tags: (none)\n"));
}

#[test]
fn tags_lists_tags_by_use() {
    let env = Env::new();
    four_articles(&env);
    assert_eq!(
        env.nj(&["tags"]).success().stdout,
        "TAG      ARTICLES\nharbour  2\nmarket   1\nmoney    1\n"
    );
    assert_eq!(
        env.nj(&["--json", "tags"]).json(),
        json!([
            {"tag": "harbour", "articles": 2},
            {"tag": "market", "articles": 1},
            {"tag": "money", "articles": 1},
        ])
    );
}

#[test]
fn rm_moves_to_the_bin_and_restore_brings_back() {
    let env = Env::new();
    let ids = four_articles(&env);
    let gone = &ids[2];
    let s = short(gone);

    let out = env.nj(&["rm", gone]).success();
    assert_eq!(
        out.stdout,
        format!("removed {s}: Harbour fees rise (`nj restore {s}` brings it back)\n")
    );
    assert_eq!(
        titles(&env.list_json()),
        ["New pilot boat", "Fish market moves", "Old quay demolished"]
    );
    let search = env.nj(&["--json", "search", "mooring"]).json();
    assert_eq!(search, json!([]));
    let bin = env.nj(&["--json", "list", "--removed"]).json();
    assert_eq!(column(&bin, "id"), vec![gone.clone()]);
    assert_eq!(bin[0]["deleted_at"], "2026-11-26T09:00:00Z");
    assert_eq!(
        env.nj(&["rm", gone]).success().stdout,
        format!("{s} was already in the bin: Harbour fees rise\n")
    );
    let shown = env.nj(&["show", gone]).success().stdout;
    assert!(
        shown.contains(&format!(
            "\nstatus     in the bin; `nj restore {s}` brings it back\n"
        )),
        "{shown}"
    );

    let out = env.nj(&["restore", gone]).success();
    assert_eq!(out.stdout, format!("restored {s}: Harbour fees rise\n"));
    assert_eq!(titles(&env.list_json()).len(), 4);
    assert_eq!(env.list_json()[1]["id"], gone.as_str());
    assert_eq!(env.list_json()[1]["deleted_at"], json!(null));
    let search = env.nj(&["--json", "search", "mooring"]).json();
    assert_eq!(search[0]["article"]["id"], gone.as_str());
    let out = env.nj(&["list", "--removed"]).success();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "the bin is empty\n")
    );
    assert_eq!(
        env.nj(&["restore", gone]).success().stdout,
        format!("{s} was not in the bin: Harbour fees rise\n")
    );
}

#[test]
fn rm_with_one_bad_id_removes_nothing() {
    let env = Env::new();
    let ids = four_articles(&env);
    assert_eq!(
        env.nj(&["rm", &ids[0], "ffff9999"]).failure(),
        "nj: no article matches ffff9999; `nj list` shows ids, and `nj list --removed` the bin\n"
    );
    assert_eq!(env.list_json().as_array().unwrap().len(), 4);
}

#[test]
fn options_after_tag_changes_are_refused_not_taken_as_tags() {
    let env = Env::new();
    let id = env.clip_text("Tag options\n\nText.\n", &["-t", "keep"]);
    let before = env.snapshot();
    let out = env.nj(&["tag", &id, "+a", "--json"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "nj: --json after the tag changes is read as a tag; put options before the id, e.g. nj tag --json ID +a -b\n"
    );
    assert_eq!(env.snapshot(), before);
    let ok = env.nj(&["--json", "tag", &id, "+a"]).json();
    assert_eq!(ok["tags"], serde_json::json!(["a", "keep"]));
}

#[test]
fn huge_since_amount_is_an_error_not_a_crash() {
    let env = Env::new();
    env.clip_text("Old news\n\nText.\n", &[]);
    let out = env.nj(&["list", "--since", "200000000d"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .starts_with("nj: cannot read the time \"200000000d\""),
        "{}",
        out.stderr
    );
    let out = env.nj(&["list", "--limit", "18446744073709551615"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// Issue 16: `nj list` fits the terminal (titles and tags shortened at a
/// word or tag, never mid-word), marks what was read, sorts by clipped,
/// published, title or words, and takes several tags (all, or any).
#[test]
fn list_fits_the_width_marks_read_sorts_and_filters_by_tags() {
    let env = Env::new();
    let ids = four_articles(&env);
    env.nj(&["read", &ids[2]]).success();
    env.nj(&["tag", &ids[2], "+courts", "+city-hall", "+infrastructure"])
        .success();

    // 60 columns: the title and the tags are shortened at whole words.
    let out = env.cmd(&["list"]).env("COLUMNS", "60").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ID        CLIPPED     READ  WORDS  TAGS     TITLE"
    );
    for line in &lines {
        assert!(line.chars().count() <= 60, "{line:?} is wider than 60");
    }
    assert_eq!(
        lines[2],
        format!(
            "{}  2026-11-20  ✓     10     …        Harbour fees…",
            short(&ids[2])
        )
    );
    assert!(
        lines[3].ends_with("  market   Fish market…"),
        "{}",
        lines[3]
    );
    let wider = env.cmd(&["list"]).env("COLUMNS", "90").output().unwrap();
    let wider = String::from_utf8(wider.stdout).unwrap();
    assert!(
        wider.contains("  city-hall,…        Harbour fees rise\n"),
        "{wider}"
    );
    let narrow = env.cmd(&["list"]).env("COLUMNS", "50").output().unwrap();
    let narrow = String::from_utf8(narrow.stdout).unwrap();
    assert!(narrow.contains("  Harbour…\n"), "{narrow}");
    assert!(!narrow.contains("Harbour f"), "{narrow}");
    // Without COLUMNS, in a pipe, nothing is shortened.
    let wide = env.nj(&["list"]).success().stdout;
    assert!(
        wide.contains("city-hall,courts,harbour,infrastructure,money  Harbour fees rise"),
        "{wide}"
    );

    // --tag twice: both; --any-tag: either.
    assert_eq!(
        titles(
            &env.nj(&["--json", "list", "-t", "harbour", "-t", "money"])
                .json()
        ),
        ["Harbour fees rise"]
    );
    assert_eq!(
        titles(
            &env.nj(&["--json", "list", "-t", "market", "-t", "money", "--any-tag"])
                .json()
        ),
        ["Harbour fees rise", "Fish market moves"]
    );
    // Sorting.
    assert_eq!(
        titles(&env.nj(&["--json", "list", "--sort", "title"]).json()),
        [
            "Fish market moves",
            "Harbour fees rise",
            "New pilot boat",
            "Old quay demolished"
        ]
    );
    assert_eq!(
        titles(&env.nj(&["--json", "list", "--sort", "words"]).json())[3],
        "Old quay demolished"
    );
    // Published: those with a date first, newest first (only pages give
    // one; text clips have none and come after, newest clipped first).
    assert_eq!(
        titles(&env.nj(&["--json", "list", "--sort", "published"]).json()),
        [
            "New pilot boat",
            "Harbour fees rise",
            "Fish market moves",
            "Old quay demolished"
        ]
    );
    let bad = env.nj(&["list", "--sort", "size"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        bad.stderr
            .contains("possible values: clipped, published, title, words"),
        "{}",
        bad.stderr
    );
}

/// Issue 16: `nj open ID` hands the article's address to $BROWSER (or the
/// desktop's opener); `--print` prints it; an article without an address
/// says so.
#[test]
fn open_hands_the_address_to_the_browser() {
    let env = Env::new();
    let id = env.clip_text(
        "Harbour fees rise\n\nMooring fees go up.\n",
        &["--url", "https://news.example/harbour-fees?utm_source=x"],
    );
    let seen = env.path("browser-args");
    let script = env.write(
        "browser.sh",
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n", seen.display()),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = env
        .cmd(&["open", &id[..6]])
        .env(
            "BROWSER",
            format!("/nonexistent/browser:{}", script.display()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The browser runs on its own; wait for its file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "https://news.example/harbour-fees\n"
    );

    assert_eq!(
        env.nj(&["open", "--print", &id[..6]]).success().stdout,
        "https://news.example/harbour-fees\n"
    );
    assert_eq!(
        env.nj(&["--json", "open", "--print", &id[..6]]).json(),
        json!({"id": id, "url": "https://news.example/harbour-fees"})
    );

    let no_url = env.clip_text("Notes\n\nNothing decided.\n", &[]);
    let out = env.nj(&["open", &no_url]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("has no address to open"),
        "{}",
        out.stderr
    );
    let out = env.nj(&["open", "ffff0000"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("no article matches ffff0000"),
        "{}",
        out.stderr
    );
    // No browser to be found: the message says what to set.
    let out = env
        .cmd(&["open", &id])
        .env("BROWSER", "/nonexistent/browser")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("set BROWSER to your browser's command"),
        "{err}"
    );
}

/// Issue 16: `nj tags rename OLD NEW` and `nj tags merge FROM INTO`, with
/// what they refuse.
#[test]
fn tags_rename_and_merge() {
    let env = Env::new();
    let ids = four_articles(&env);
    // A binned article keeps its tags, renamed with the rest.
    env.nj(&["rm", &ids[0]]).success();
    let out = env.nj(&["tags", "rename", "harbour", "harbor"]).success();
    assert_eq!(out.stdout, "renamed harbour to harbor on 2 articles\n");
    assert_eq!(
        env.nj(&["--json", "tags"]).json(),
        json!([
            {"tag": "harbor", "articles": 1},
            {"tag": "market", "articles": 1},
            {"tag": "money", "articles": 1},
        ])
    );
    env.nj(&["restore", &ids[0]]).success();
    assert_eq!(
        env.nj(&["--json", "show", &ids[0]]).json()["tags"],
        json!(["harbor"])
    );

    // Renaming onto a tag in use is a merge, and says so.
    let before = env.snapshot();
    let out = env.nj(&["tags", "rename", "market", "harbor"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "nj: harbor is already a tag, on 2 article(s) counting the bin; to put the articles tagged market under it too, run `nj tags merge market harbor`\n"
    );
    assert_eq!(env.snapshot().0, before.0);
    let out = env.nj(&["tags", "merge", "market", "harbor"]).success();
    assert_eq!(out.stdout, "merged market into harbor on 1 article\n");
    assert_eq!(
        env.nj(&["--json", "tags"]).json(),
        json!([{"tag": "harbor", "articles": 3}, {"tag": "money", "articles": 1}])
    );
    // An article with both keeps one.
    env.nj(&["tags", "merge", "money", "harbor"]).success();
    assert_eq!(
        env.nj(&["--json", "show", &ids[2]]).json()["tags"],
        json!(["harbor"])
    );

    for (args, err) in [
        (
            &["tags", "rename", "nosuch", "x"][..],
            "nj: no article has the tag nosuch; `nj tags` lists the tags\n",
        ),
        (
            &["tags", "rename", "harbor", "Harbor"],
            "nj: \"harbor\" and \"Harbor\" are the same tag (harbor)\n",
        ),
        (
            &["tags", "rename", "harbor", "  "],
            "nj: \"  \" is not a usable tag; a tag needs at least one visible character\n",
        ),
    ] {
        let out = env.nj(args);
        assert_eq!(out.code, Some(1), "{args:?}");
        assert_eq!(out.stderr, err, "{args:?}");
    }
    assert_eq!(env.nj(&["tags", "rename", "harbor"]).code, Some(2));
}

/// Issue 16: `nj man -o DIR` writes a man page for nj and one per command,
/// nested ones too, from the same definitions as `--help`.
#[test]
fn man_pages_for_every_command() {
    let env = Env::new();
    let dir = env.path("man/man1");
    let out = env
        .nj(&["--json", "man", "-o", dir.to_str().unwrap()])
        .json();
    let written: Vec<String> = out["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    // Every command `nj help` lists has its page.
    let help = env.nj(&["help"]).success().stdout;
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("  "))
        // A command's line; a description wrapped onto the next is
        // indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() > 30, "{help}");
    for c in &commands {
        assert!(
            written.contains(&format!("nj-{c}.1")),
            "no page for {c}: {written:?}"
        );
    }
    for page in [
        "nj.1",
        "nj-follow-up-edit.1",
        "nj-server-tokens.1",
        "nj-tags-merge.1",
    ] {
        assert!(written.contains(&page.to_owned()), "{page}");
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        let name = page.strip_suffix(".1").unwrap();
        assert!(text.contains(&format!(".TH {name} 1")), "{page}:\n{text}");
        assert!(
            text.contains(".SH NAME") && text.contains(".SH SYNOPSIS"),
            "{page}"
        );
    }
    let edit = std::fs::read_to_string(dir.join("nj-follow-up-edit.1")).unwrap();
    assert!(edit.contains("nj follow\\-up edit"), "{edit}");
    assert!(edit.contains("\\-\\-no\\-repeat"), "{edit}");
}

/// `nj man -o FILE` (not a folder) is refused with what to give instead.
#[test]
fn man_into_a_file_is_refused() {
    let env = Env::new();
    let file = env.write("not-a-folder", "x");
    let out = env.nj(&["man", "-o", file.to_str().unwrap()]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("is a file; give the folder"),
        "{}",
        out.stderr
    );
}
