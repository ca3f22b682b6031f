//! `nj copies`: syndicated copies of one report, recognised by their text
//! whatever brought them in (a clip, a new version, an import, a sync).

use serde_json::Value;

use crate::util::{at, Device, Env, Hub};

/// A report of 30 sentences of plain words, the same for the same `seed`.
fn report(seed: u64, title: &str) -> String {
    const WORDS: &[&str] = &[
        "council",
        "harbour",
        "vote",
        "contract",
        "ruling",
        "judge",
        "agency",
        "budget",
        "bridge",
        "repairs",
        "residents",
        "officials",
        "said",
        "plan",
        "million",
        "federal",
        "appeal",
        "review",
        "decision",
        "vendor",
        "tonight",
        "months",
        "cost",
        "public",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        WORDS[(x % WORDS.len() as u64) as usize]
    };
    let mut text = format!("{title}\n\n");
    for paragraph in 0..6 {
        let sentences: Vec<String> = (0..5)
            .map(|_| {
                let words: Vec<&str> = (0..14).map(|_| next()).collect();
                let mut s = words.join(" ");
                s[..1].make_ascii_uppercase();
                format!("{s}.")
            })
            .collect();
        text.push_str(&sentences.join(" "));
        text.push_str(if paragraph < 5 { "\n\n" } else { "\n" });
    }
    text
}

fn groups(env: &Env) -> Vec<Value> {
    env.nj(&["--json", "copies"])
        .success()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// The ids in each group, the first clipped first.
fn ids(groups: &[Value]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let mut ids = vec![g["article"]["id"].as_str().unwrap().to_owned()];
            for c in g["copies"].as_array().unwrap() {
                ids.push(c["article"]["id"].as_str().unwrap().to_owned());
            }
            ids
        })
        .collect()
}

/// An original, its copy from another site with a line added (kept apart
/// with --separate), and a different report: (original, copy, other).
fn journal(env: &Env) -> (String, String, String) {
    let text = report(1, "Harbour vote approved");
    env.set_now("2026-11-20T09:00:00Z");
    let original = env.clip_text(&text, &["--url", "https://news.example/harbour-vote"]);
    env.set_now("2026-11-20T10:00:00Z");
    let copy = env.clip_text(
        &format!("{text}\nOriginally published on Example News.\n"),
        &["--url", "https://wire.example/harbour-vote", "--separate"],
    );
    let other = env.clip_text(
        &report(2, "Bridge repairs begin"),
        &["--url", "https://news.example/bridge"],
    );
    (original, copy, other)
}

#[test]
fn a_syndicated_copy_is_listed_with_its_original_and_a_different_report_is_not() {
    let env = Env::new();
    let (original, copy, other) = journal(&env);
    let g = groups(&env);
    assert_eq!(ids(&g), vec![vec![original.clone(), copy.clone()]]);
    let similarity = g[0]["copies"][0]["similarity"].as_f64().unwrap();
    assert!(similarity > 0.95 && similarity < 1.0, "{similarity}");
    assert!(!ids(&g)[0].contains(&other));

    let out = env.nj(&["copies"]).success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(lines[0].starts_with(&original[..8]), "{}", out.stdout);
    assert!(
        lines[0].ends_with("Harbour vote approved"),
        "{}",
        out.stdout
    );
    let percent = format!("{:>3}%", (similarity * 100.0).floor());
    assert!(
        lines[1].starts_with(&format!("  {percent}  {}", &copy[..8])),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr,
        "1 group of copies, 2 articles; the % is how alike each text is to the first clipped; `nj copies --fold` folds them\n"
    );
}

#[test]
fn a_copy_whose_text_changes_or_that_is_binned_leaves_its_group() {
    let env = Env::new();
    let (original, copy, _) = journal(&env);
    env.nj(&["rm", &copy]).success();
    assert!(groups(&env).is_empty());
    let out = env.nj(&["copies"]).success();
    assert_eq!(
        out.stderr,
        "no copies: no two articles outside the bin have the same report's text\n"
    );
    env.nj(&["restore", &copy]).success();
    assert_eq!(
        ids(&groups(&env)),
        vec![vec![original.clone(), copy.clone()]]
    );
    // The copy's page now says something else: a new version, no copy.
    env.set_now("2026-11-21T09:00:00Z");
    let again = env.clip_text(
        &report(3, "Harbour vote approved"),
        &["--url", "https://wire.example/harbour-vote", "--separate"],
    );
    assert_eq!(again, copy);
    assert!(groups(&env).is_empty());
}

#[test]
fn copies_are_recognised_after_an_import_and_a_sync() {
    let env = Env::new();
    let (original, copy, _) = journal(&env);
    let expected = vec![vec![original.clone(), copy.clone()]];
    env.nj(&["export", "-o", "journal.json"]).success();
    let imported = Env::new();
    imported
        .nj(&["import", env.path("journal.json").to_str().unwrap()])
        .success();
    assert_eq!(ids(&groups(&imported)), expected);

    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("09:00"));
    let b = Device::joined(&hub, &j, &at("09:00"));
    let text = report(4, "Contract ruling due");
    let first = a
        .env
        .clip_text(&text, &["--url", "https://news.example/ruling"]);
    a.at(&at("09:05"));
    let second = a.env.clip_text(
        &format!("By A. Writer\n\n{text}"),
        &["--url", "https://wire.example/ruling", "--separate"],
    );
    a.nj(&["sync"]).success();
    b.nj(&["sync"]).success();
    assert_eq!(ids(&groups(&b.env)), vec![vec![first, second]]);
}

#[test]
fn a_short_text_is_no_ones_copy() {
    let env = Env::new();
    env.clip_text(
        "Court rules\n\nThe court ruled on the contract today.\n",
        &["--url", "https://a.example/1"],
    );
    env.clip_text(
        "Court rules\n\nThe court ruled on the contract today, officials said.\n",
        &["--url", "https://b.example/1"],
    );
    // Two articles of nearly one sentence: too short to call either the
    // other's copy.
    assert_eq!(
        env.nj(&["--json", "list"]).json().as_array().unwrap().len(),
        2
    );
    assert!(groups(&env).is_empty());
}

#[test]
fn verify_repair_makes_the_copy_keys_again() {
    let env = Env::new();
    let (original, copy, _) = journal(&env);
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    conn.execute("DELETE FROM copy_keys", []).unwrap();
    drop(conn);
    assert!(groups(&env).is_empty(), "the keys were gone");
    env.nj(&["verify", "--repair"]).success();
    assert_eq!(ids(&groups(&env)), vec![vec![original, copy]]);
}

/// The case: a report, then the same report from another site with
/// one line added. One article with both URLs; both texts kept, each
/// verifiable by its hash.
#[test]
fn a_syndicated_copy_is_folded_into_the_article_with_its_own_text() {
    let env = Env::new();
    let text = report(5, "JEDI could be the blueprint");
    env.set_now("2026-11-20T09:00:00Z");
    let original = env.clip_text(&text, &["--url", "https://www.aiupnow.example/jedi"]);
    env.set_now("2026-11-20T10:00:00Z");
    let copy_text = format!("{text}\nOriginally published on Windows Central.\n");
    let copy_url = "https://www.windowscentral.example/jedi-blueprint";
    let out = env
        .nj_stdin(
            &[
                "clip",
                "-",
                "--url",
                copy_url,
                "-t",
                "cloud",
                "-n",
                "same report",
            ],
            &copy_text,
        )
        .success();
    let short = &original[..8];
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("copy of {short} (9")) && first.contains("% the same text): JEDI could be the blueprint (added tags cloud; added https://www.windowscentral.example/jedi-blueprint; added the note)"),
        "{}",
        out.stdout
    );
    let copy_hash = crate::util::sha256(copy_text.as_bytes());
    assert!(out.stdout.contains(&copy_hash), "{}", out.stdout);

    let list = env.nj(&["--json", "list"]).json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        list[0]["urls"],
        serde_json::json!(["https://www.aiupnow.example/jedi", copy_url])
    );
    // Both texts, each giving back its hash.
    let own = env.nj(&["show", short, "--text"]).success().stdout;
    assert_eq!(
        crate::util::sha256(own.as_bytes()),
        list[0]["content_hash"].as_str().unwrap()
    );
    let theirs = env
        .nj(&["show", short, "--copy", copy_url, "--text"])
        .success()
        .stdout;
    assert_eq!(theirs, copy_text);
    assert_eq!(crate::util::sha256(theirs.as_bytes()), copy_hash);
    let show = env.nj(&["show", short]).success().stdout;
    assert!(
        show.lines()
            .any(|l| l.starts_with("copy ") && l.contains(&copy_hash) && l.ends_with(copy_url)),
        "{show}"
    );
    let diff = env
        .nj(&["diff", short, "--copy", copy_url])
        .success()
        .stdout;
    assert!(
        diff.contains("+Originally published on Windows Central."),
        "{diff}"
    );
    assert!(diff.ends_with("2 lines added, 0 removed\n"), "{diff}");
    // The same copy clipped again is a duplicate, not a new version.
    let again = env.clip_json(&copy_text, &["--url", copy_url]);
    assert_eq!(again["status"], "duplicate");
    assert_eq!(
        env.nj(&["--json", "versions", short])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.nj(&["verify"]).success();
}

#[test]
fn the_json_says_copy_and_separate_keeps_it_apart() {
    let env = Env::new();
    let text = report(6, "Budget review");
    env.clip_text(&text, &["--url", "https://a.example/budget"]);
    let out = env.clip_json(
        format!("By A. Writer\n\n{text}"),
        &["--url", "https://b.example/budget"],
    );
    assert_eq!(out["status"], "copy");
    let similarity = out["similarity"].as_f64().unwrap();
    assert!(similarity > 0.9 && similarity < 1.0, "{out}");
    let separate = env.clip_json(
        format!("{text}\nRead more: other budget news\n"),
        &["--url", "https://c.example/budget", "--separate"],
    );
    assert_eq!(separate["status"], "new");
    assert!(separate.get("similarity").is_none(), "{separate}");
    assert_eq!(
        env.nj(&["--json", "list"]).json().as_array().unwrap().len(),
        2
    );
}

#[test]
fn a_copy_folded_on_one_device_shows_on_the_other() {
    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("09:00"));
    let b = Device::joined(&hub, &j, &at("09:00"));
    let text = report(7, "Court schedules hearing");
    let id = a
        .env
        .clip_text(&text, &["--url", "https://news.example/hearing"]);
    a.at(&at("09:05"));
    let copy_text = format!("{text}\nThis article first appeared on Example Wire.\n");
    let out = a
        .env
        .clip_json(&copy_text, &["--url", "https://wire.example/hearing"]);
    assert_eq!(out["status"], "copy");
    a.nj(&["sync"]).success();
    b.nj(&["sync"]).success();
    let theirs = b
        .nj(&[
            "show",
            &id[..8],
            "--copy",
            "https://wire.example/hearing",
            "--text",
        ])
        .success()
        .stdout;
    assert_eq!(theirs, copy_text);
    b.nj(&["verify"]).success();
}

#[test]
fn copies_fold_folds_each_group_into_its_first_article_on_every_device() {
    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("09:00"));
    let b = Device::joined(&hub, &j, &at("09:00"));
    let text = report(8, "Tender reopened");
    let first = a.env.clip_text(
        &text,
        &["--url", "https://news.example/tender", "-t", "ports"],
    );
    a.at(&at("09:05"));
    let copy_text = format!("Tender reopened\n\nBy A. Writer\n\n{}", &text[17..]);
    let second = a.env.clip_text(
        &copy_text,
        &[
            "--url",
            "https://wire.example/tender",
            "--separate",
            "-t",
            "tenders",
            "-n",
            "the wire's version",
        ],
    );
    a.nj(&[
        "follow-up",
        &second[..8],
        "check the award",
        "--due",
        "2026-04-01",
    ])
    .success();
    let out = a.nj(&["copies", "--fold"]).success();
    assert!(
        out.stderr.starts_with("folded 1 copy into 1 article;"),
        "{}",
        out.stderr
    );
    assert!(groups(&a.env).is_empty());
    a.nj(&["sync"]).success();
    b.nj(&["sync"]).success();
    for d in [&a, &b] {
        let list = d.nj(&["--json", "list"]).json();
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["id"], first.as_str());
        assert_eq!(
            list[0]["urls"],
            serde_json::json!(["https://news.example/tender", "https://wire.example/tender"])
        );
        assert_eq!(list[0]["tags"], serde_json::json!(["ports", "tenders"]));
        let shown = d.nj(&["--json", "show", &first[..8]]).json();
        assert_eq!(shown["copies"].as_array().unwrap().len(), 1, "{shown}");
        assert_eq!(shown["notes"][0]["text"], "the wire's version");
        let copy = d
            .nj(&[
                "show",
                &first[..8],
                "--copy",
                "https://wire.example/tender",
                "--text",
            ])
            .success()
            .stdout;
        assert_eq!(copy, copy_text);
        let followups = d.nj(&["--json", "follow-ups"]).json();
        assert_eq!(followups[0]["article_id"], first.as_str(), "{followups}");
        let binned = d.nj(&["--json", "list", "--removed"]).json();
        assert_eq!(binned[0]["id"], second.as_str());
    }
}

/// Three reports on one story, one on another, and a separate copy:
/// `nj related` lists the copy first, then the story's other articles with
/// the words they share, and not the other story; `nj show` ends with them.
#[test]
fn related_lists_copies_then_the_storys_other_articles() {
    let env = Env::new();
    let first = env.clip_text(
        "Pentagon awards JEDI cloud contract to Microsoft\n\nThe Pentagon awarded its JEDI cloud contract to Microsoft, passing over Amazon. Amazon is expected to protest the JEDI decision.\n",
        &["--url", "https://a.example/jedi"],
    );
    let protest = env.clip_text(
        "Amazon files protest over JEDI award\n\nAmazon filed a protest over the JEDI cloud award, saying the Pentagon erred when it chose Microsoft.\n",
        &["--url", "https://b.example/protest"],
    );
    let halt = env.clip_text(
        "Judge halts JEDI work\n\nA judge told the Pentagon to stop work on the JEDI contract while the Amazon protest is heard.\n",
        &["--url", "https://c.example/halt"],
    );
    let other = env.clip_text(
        "Harbour dredging vote delayed\n\nThe council delayed its harbour dredging vote after residents asked for time to study the report.\n",
        &["--url", "https://d.example/harbour"],
    );
    let text = report(9, "A long JEDI explainer");
    let long = env.clip_text(&text, &["--url", "https://e.example/explainer"]);
    let copy = env.clip_text(
        &format!("{text}\nRead more: the JEDI timeline\n"),
        &["--url", "https://f.example/explainer", "--separate"],
    );
    let related = env.nj(&["--json", "related", &first]).json();
    let ids: Vec<&str> = related
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["article"]["id"].as_str().unwrap())
        .collect();
    // The story's two other reports first; the explainers below them
    // share a few words of it; the harbour vote shares none.
    assert!(ids.len() >= 2, "{related}");
    assert!(
        ids[..2].contains(&protest.as_str()) && ids[..2].contains(&halt.as_str()),
        "{related}"
    );
    assert!(!ids.contains(&other.as_str()), "{related}");
    for r in &related.as_array().unwrap()[..2] {
        let shares: Vec<&str> = r["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert!(
            shares.contains(&"jedi") && shares.contains(&"pentagon"),
            "{r}"
        );
    }
    // The separate copy comes first, with how alike it is.
    let related = env.nj(&["--json", "related", &long]).json();
    assert_eq!(related[0]["article"]["id"], copy.as_str(), "{related}");
    assert!(related[0]["copy"].as_f64().unwrap() > 0.9);
    let shown = env.nj(&["show", &first]).success().stdout;
    let tail = &shown[shown.find("\nRelated\n").expect("a Related section")..];
    assert!(
        tail.contains(&protest[..8]) && tail.contains("shares: "),
        "{tail}"
    );
    // An article that shares nothing distinctive has nothing related.
    let alone = env.clip_text(
        "Volcano erupts on remote island\n\nLava flowed from the volcano overnight; geologists measured ash plumes kilometres high.\n",
        &["--url", "https://g.example/volcano"],
    );
    let out = env.nj(&["related", &alone]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "nothing related: no other article shares this one's distinctive words\n"
    );
}

/// Review findings: a copy's page never gives the article a new version,
/// whether it changed, the article is in the bin, or the article was
/// clipped from a file (and so takes no URL from its copy).
#[test]
fn regression_a_copys_page_became_the_articles_text() {
    let env = Env::new();
    let text = report(10, "Ferry contract signed");
    // Clipped from a file: no URL of its own.
    let original = env.clip_text(&text, &[]);
    let wire = "https://wire.example/ferry";
    let out = env.clip_json(format!("{text}\nVia Example Wire.\n"), &["--url", wire]);
    assert_eq!(out["status"], "copy");
    assert_eq!(
        out["copy_hash"],
        crate::util::sha256(format!("{text}\nVia Example Wire.\n").as_bytes())
    );
    let shown = env.nj(&["--json", "show", &original]).json();
    assert_eq!(
        shown["url"],
        serde_json::Value::Null,
        "the copy's page became the article's: {shown}"
    );
    // The wire's page changed into another story: an article of its own.
    let other = report(11, "Ferry fares rise");
    let out = env.clip_json(&other, &["--url", wire]);
    assert_eq!(out["status"], "new", "{out}");
    let versions = env.nj(&["--json", "versions", &original]).json();
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    assert_eq!(
        env.nj(&["show", &original, "--text"]).success().stdout,
        text
    );
    // In the bin, the article is not brought back with the copy's text.
    env.nj(&["rm", &original]).success();
    let out = env.clip_json(
        format!("{text}\nVia Example Wire, again.\n"),
        &["--url", wire],
    );
    assert_ne!(out["article"]["id"], original.as_str(), "{out}");
    assert_eq!(
        env.nj(&["--json", "versions", &original])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Review finding: two different briefs behind one site's 50-word paywall
/// notice scored 0.82 and were folded together.
#[test]
fn regression_two_briefs_behind_one_paywall_notice_were_folded() {
    let env = Env::new();
    let notice = "Subscribe to keep reading. Our journalism depends on readers like you, so choose a plan today and get unlimited access to every story, our newsletters and the daily puzzle, with your first month free and cancel any time you like, from any device you use.";
    let a = env.clip_text(
        &format!("Court rules on ferry contract\n\nThe court ruled on the contract.\n\n{notice}\n"),
        &["--url", "https://paper.example/court"],
    );
    let out = env.clip_json(
        format!("School budget approved\n\nThe board approved the budget.\n\n{notice}\n"),
        &["--url", "https://paper.example/school", "-t", "schools"],
    );
    assert_eq!(out["status"], "new", "{out}");
    assert_ne!(out["article"]["id"], a.as_str());
}

/// Review finding: `--separate` after a fold said "already clipped".
#[test]
fn regression_separate_after_a_fold_was_a_duplicate() {
    let env = Env::new();
    let text = report(12, "Rail strike called off");
    let first = env.clip_text(&text, &["--url", "https://a.example/rail"]);
    let copy = format!("{text}\nFirst published by Example Wire.\n");
    env.clip_text(&copy, &["--url", "https://b.example/rail"]);
    let out = env.clip_json(&copy, &["--url", "https://b.example/rail", "--separate"]);
    assert_eq!(out["status"], "new", "{out}");
    assert_ne!(out["article"]["id"], first.as_str());
}

/// Review finding: with the article's own page gone, `nj recheck` fetched
/// its copy's page instead and recorded the copy's text as a new version.
#[test]
fn regression_recheck_took_a_copys_page_for_the_articles() {
    use crate::pages::text_page;
    use crate::util::{Reply, Server};
    let env = Env::new();
    let server = Server::start();
    let text = report(13, "Port strike ends");
    let copy = format!("{text}\nDistributed by Example Wire.\n");
    server
        .route(
            "/own",
            Reply::Sequence(vec![Reply::html(&text_page(&text)), Reply::not_found()]),
        )
        .route("/wire", Reply::html(&text_page(&copy)));
    let a = crate::util::article_id(&env.nj(&["--json", "clip", &server.url("/own")]).success());
    let out = env
        .nj(&["--json", "clip", &server.url("/wire")])
        .success()
        .json();
    assert_eq!(out["status"], "copy", "{out}");
    // Exit 3: a source could not be fetched.
    let out = env.nj(&["--json", "recheck", &a]);
    assert_eq!(out.code, Some(3));
    let checked: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(checked[0]["status"], "unreachable", "{checked}");
    assert_eq!(
        env.nj(&["--json", "versions", &a])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(server.hits("/wire"), 1, "recheck fetched the copy's page");
}

/// A report clipped on one device and its copy on another, both offline:
/// after they sync, each has one article with both sources, the copy's
/// text kept, whichever synced first. With --separate they stay two.
#[test]
fn copies_clipped_offline_on_two_devices_become_one_article() {
    for separate in [false, true] {
        let hub = Hub::start();
        let j = hub.new_journal_with_key();
        let a = Device::joined(&hub, &j, &at("08:00"));
        let b = Device::joined(&hub, &j, &at("08:00"));
        let text = report(14, "Canal tunnel approved");
        a.at(&at("09:00"));
        let original = a.env.clip_text(
            &text,
            &[
                "--url",
                "https://a.example/tunnel",
                "-t",
                "canal",
                "-n",
                "why it matters",
            ],
        );
        b.at(&at("09:10"));
        let copy_text = format!("{text}\nThis story first ran in the Canal Courier.\n");
        let mut args = vec!["--url", "https://b.example/tunnel", "-t", "tunnels"];
        if separate {
            args.push("--separate");
        }
        let copy = b.env.clip_text(&copy_text, &args);
        assert_ne!(copy, original, "B had not seen the original");
        // B first, then A (which folds), B (which folds the same way), A.
        b.at(&at("10:00")).nj(&["sync"]).success();
        let out = a.at(&at("10:01")).nj(&["sync"]).success();
        assert_eq!(
            out.stderr
                .contains("folded 1 syndicated copy from another device"),
            !separate,
            "{}",
            out.stderr
        );
        b.at(&at("10:02")).nj(&["sync"]).success();
        a.at(&at("10:03")).nj(&["sync"]).success();
        b.at(&at("10:04")).nj(&["sync"]).success();
        let mut views = Vec::new();
        for d in [&a, &b] {
            let list = d.nj(&["--json", "list"]).json();
            let ids: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_owned())
                .collect();
            if separate {
                assert_eq!(ids.len(), 2, "{list}");
                continue;
            }
            assert_eq!(ids, vec![original.clone()], "{list}");
            assert_eq!(
                list[0]["urls"],
                serde_json::json!(["https://a.example/tunnel", "https://b.example/tunnel"])
            );
            assert_eq!(list[0]["tags"], serde_json::json!(["canal", "tunnels"]));
            let shown = d.nj(&["--json", "show", &original]).json();
            assert_eq!(shown["copies"].as_array().unwrap().len(), 1, "{shown}");
            assert_eq!(shown["notes"].as_array().unwrap().len(), 1, "{shown}");
            let theirs = d
                .nj(&[
                    "show",
                    &original,
                    "--copy",
                    "https://b.example/tunnel",
                    "--text",
                ])
                .success()
                .stdout;
            assert_eq!(theirs, copy_text);
            views.push((shown["copies"].clone(), shown["urls"].clone()));
        }
        if !separate {
            assert_eq!(views[0], views[1]);
        }
    }
}

/// A note on a copy moves to the original when a device folds it; a
/// device that holds the original gets the note's move at its next sync.
/// That pull once left the original's search entry without the note it
/// now holds, so the next change to the original failed with "database
/// disk image is malformed" (the property test in sync_converge.rs found
/// it).
#[test]
fn regression_a_note_moved_by_a_fold_on_another_device_is_searchable() {
    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("08:00"));
    let b = Device::joined(&hub, &j, &at("08:00"));
    let text = report(21, "Ferry fares frozen");
    a.at(&at("09:00"));
    let original = a
        .env
        .clip_text(&text, &["--url", "https://a.example/ferry"]);
    a.at(&at("09:05")).nj(&["sync"]).success();
    // B clips the copy before it has seen the original, then folds it
    // into the original at its sync, and pushes the fold at the next.
    b.at(&at("09:10"));
    let copy_text = format!("{text}\nThis story first ran in the Ferry Gazette.\n");
    b.env.clip_text(
        &copy_text,
        &[
            "--url",
            "https://b.example/ferry",
            "-n",
            "ask the minister about zanzibar",
        ],
    );
    let out = b.at(&at("10:00")).nj(&["sync"]).success();
    assert!(
        out.stderr.contains("folded 1 syndicated copy"),
        "{}",
        out.stderr
    );
    b.at(&at("10:01")).nj(&["sync"]).success();
    // A gets the copy, its note and the fold in one pull.
    a.at(&at("10:02")).nj(&["sync"]).success();
    for d in [&a, &b] {
        let found = d.nj(&["--json", "search", "zanzibar"]).json();
        let ids: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["article"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![original.as_str()], "{found}");
        // A change to the original rewrites its search entry.
        d.nj(&["tag", &original, "+ferries"]).success();
        let verify = d.nj(&["verify"]).success();
        assert!(
            verify.stdout.contains("the search index is sound"),
            "{}",
            verify.stdout
        );
    }
}

/// A device that ran an nj from before copies were synced (it dropped the
/// copy another device folded, keeping only its stamps) gets the copy at
/// its first sync after the upgrade, which reads the server's log again
/// once and says so.
#[test]
fn a_device_upgraded_from_an_older_nj_gets_the_copies_it_dropped() {
    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("08:00"));
    let text = report(31, "Tram depot reopens");
    a.at(&at("09:00"));
    let original = a.env.clip_text(&text, &["--url", "https://a.example/tram"]);
    let copy_text = format!("{text}\nThis story first ran in the Tram Times.\n");
    a.env
        .clip_text(&copy_text, &["--url", "https://b.example/tram"]);
    a.at(&at("09:05")).nj(&["sync"]).success();
    let b = Device::joined(&hub, &j, &at("09:10"));
    b.nj(&["sync"]).success();
    let whole = b.nj(&["--json", "show", &original]).json();
    assert_eq!(whole["copies"].as_array().unwrap().len(), 1, "{whole}");

    // B's journal as the older nj left it, at schema 8: no copies, their
    // stamps under an entity it did not know.
    {
        let db = rusqlite::Connection::open(b.env.db()).unwrap();
        db.execute(
            "UPDATE sync_stamps SET entity = 'unknown' WHERE entity = 'copy'",
            [],
        )
        .unwrap();
        db.execute_batch(include_str!("../fixtures/as-schema-8.sql"))
            .unwrap();
    }
    let shown = b.nj(&["--json", "show", &original]).json();
    assert_eq!(shown["copies"], serde_json::json!([]), "{shown}");
    let out = b.at(&at("09:20")).nj(&["sync"]).success();
    assert!(
        out.stderr
            .contains("reading the journal's changes from the server again, once"),
        "{}",
        out.stderr
    );
    assert_eq!(b.nj(&["--json", "show", &original]).json(), whole);
    let again = b.at(&at("09:30")).nj(&["sync"]).success();
    assert_eq!(again.stderr, "");
    b.nj(&["verify"]).success();
}

/// An export holding a folded copy says version 2 (an nj that reads only
/// version 1 would drop the copy without a word, so it refuses the file
/// instead), and comes back whole; without copies an export stays
/// version 1.
#[test]
fn an_export_with_copies_is_version_2_and_comes_back_whole() {
    let env = Env::new();
    let text = report(41, "Ferry timetable cut");
    let original = env.clip_text(&text, &["--url", "https://a.example/ferry"]);
    env.nj(&["export", "-o", "before.json"]).success();
    let before = std::fs::read_to_string(env.path("before.json")).unwrap();
    assert!(
        before.starts_with("{\"format\":\"newsjournal\",\"version\":1,\n"),
        "{before}"
    );
    env.clip_text(
        &format!("{text}\nFirst published by the Ferry Gazette.\n"),
        &["--url", "https://b.example/ferry"],
    );
    env.nj(&["export", "-o", "after.json"]).success();
    let after = std::fs::read_to_string(env.path("after.json")).unwrap();
    assert!(
        after.starts_with("{\"format\":\"newsjournal\",\"version\":2,\n"),
        "{after}"
    );
    let imported = Env::new();
    imported
        .nj(&["import", env.path("after.json").to_str().unwrap()])
        .success();
    imported.nj(&["export", "-o", "again.json"]).success();
    assert_eq!(
        std::fs::read_to_string(imported.path("again.json")).unwrap(),
        after
    );
    let shown = imported.nj(&["--json", "show", &original]).json();
    assert_eq!(shown["copies"].as_array().unwrap().len(), 1, "{shown}");

    let newer = after.replacen("\"version\":2,", "\"version\":3,", 1);
    std::fs::write(imported.path("newer.json"), newer).unwrap();
    let refused = imported
        .nj(&["import", imported.path("newer.json").to_str().unwrap()])
        .failure();
    assert!(
        refused.contains("this nj reads up to version 2; upgrade nj to import it"),
        "{refused}"
    );
}

/// Just after the upgrade that brought copy detection, a large journal's
/// keys are made by the first command, which says so first; later
/// commands say nothing.
#[test]
fn the_first_command_after_the_upgrade_says_it_makes_the_copy_keys() {
    let env = Env::new();
    env.clip_text(
        &report(51, "Pier lights restored"),
        &["--url", "https://a.example/pier"],
    );
    {
        // 2,400 more articles, as a journal from before migration 9 held
        // them; the migration queues every article for its keys.
        let db = rusqlite::Connection::open(env.db()).unwrap();
        db.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2400)
             INSERT INTO articles(id, title, url, content_hash, clipped_at, updated_at)
             SELECT printf('00000000-0000-4000-8000-%012d', i), 'Pier ' || i, NULL,
                    a.content_hash, a.clipped_at + i, a.updated_at + i
               FROM n, (SELECT * FROM articles LIMIT 1) a;
             INSERT INTO versions(id, article_id, content_hash, created_at)
             SELECT 'v' || id, id, content_hash, clipped_at FROM articles WHERE id LIKE '00000000-%';
             INSERT OR REPLACE INTO meta(key, value) VALUES ('index_stale', '1');
             DELETE FROM copy_keys;
             INSERT OR IGNORE INTO copy_queue(article_seq, old_hash) SELECT seq, NULL FROM articles;",
        )
        .unwrap();
    }
    let out = env.nj(&["list", "--limit", "1"]).success();
    assert!(
        out.stderr.starts_with(
            "nj: making the keys that recognise syndicated copies for 2401 articles, once after the upgrade"
        ),
        "{}",
        out.stderr
    );
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let waiting: i64 = db
        .query_row("SELECT count(*) FROM copy_queue", [], |r| r.get(0))
        .unwrap();
    assert_eq!(waiting, 0);
    let out = env.nj(&["list", "--limit", "1"]).success();
    assert!(!out.stderr.contains("making the keys"), "{}", out.stderr);
    env.nj(&["verify"]).success();
}

/// `nj verify` checks a folded copy's text too, and names the article and
/// where the copy came from.
#[test]
fn verify_names_a_copy_whose_text_was_changed_on_disk() {
    let env = Env::new();
    let text = report(61, "Lock gates replaced");
    let original = env.clip_text(&text, &["--url", "https://a.example/locks"]);
    let copy_text = format!("{text}\nFirst published by the Canal Courier.\n");
    env.clip_text(&copy_text, &["--url", "https://b.example/locks"]);
    let shown = env.nj(&["--json", "show", &original]).json();
    let hash = shown["copies"][0]["content_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = copy_text.replace("Canal Courier", "Canal Clarion");
    let n = env
        .sqlite()
        .execute(
            "UPDATE texts SET body = ?1 WHERE hash = ?2",
            [forged.as_str(), hash.as_str()],
        )
        .unwrap();
    assert_eq!(n, 1);
    let out = env.nj(&["verify"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stdout.starts_with(&format!(
            "MISMATCH {}  Lock gates replaced\n  the text of its copy from https://b.example/locks\n  stored   {hash}\n",
            &original[..8]
        )),
        "{}",
        out.stdout
    );
}

/// A bookmark imported without its text, whose page turns out to be a
/// copy of an article already clipped: `nj clip` of its URL folds it in
/// and says so, rather than "already clipped (nothing new to merge)".
#[test]
fn clipping_a_bookmark_whose_page_is_a_copy_says_it_is_a_copy() {
    use crate::pages::text_page;
    use crate::util::{Reply, Server};
    let env = Env::new();
    let server = Server::start();
    let text = report(71, "Quay wall collapses");
    let copy = format!("{text}\nFirst published by the Harbour Herald.\n");
    server.route("/wire", Reply::html(&text_page(&copy)));
    let original = env.clip_text(&text, &["--url", "https://a.example/quay"]);
    let wire = server.url("/wire");
    let bookmarks = env.write(
        "bookmarks.html",
        format!(
            "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n<DT><A HREF=\"{wire}\" ADD_DATE=\"1700000000\">Quay</A>\n</DL>\n"
        ),
    );
    env.nj(&["import", bookmarks.to_str().unwrap()]).success();
    let out = env.nj(&["clip", &wire]).success();
    assert!(
        out.stdout
            .starts_with(&format!("copy of {} (", &original[..8]))
            && out.stdout.contains(&format!(
                "the same text): Quay wall collapses (added {wire})\n"
            )),
        "{}",
        out.stdout
    );
    let listed = env.nj(&["--json", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let shown = env.nj(&["--json", "show", &original]).json();
    assert_eq!(shown["copies"][0]["url"], wire.as_str(), "{shown}");
}
