//! `nj recheck` against the local test server: pages that change between
//! fetches become new versions, pages that do not are left alone, and a
//! source that fails (404, nothing listening, a dropped connection, a slow
//! answer, no URL at all) is reported without stopping the others or losing
//! what they recorded.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::pages::text_page;
use crate::util::{
    article_id, assert_refused, column, dead_port, id_of, sha256, short, Env, Reply, Server, NOW,
};

const V1: &str = "Storm warning for the coast\n\nGales of up to 70 mph are expected on Thursday.\n\nFerries may be cancelled.\n\nStay away from sea walls.\n";
const V2: &str = "Storm warning for the coast\n\nGales of up to 90 mph are expected on Thursday.\n\nFerries may be cancelled.\n\nStay away from sea walls.\n\nSchools will close early.\n";
const SAME: &str = "Budget vote postponed\n\nThe council will vote on the budget next week.\n";

/// The unified diff `nj` prints from V1 to V2.
fn v1_to_v2_diff() -> String {
    format!(
        "--- {}\n\
         +++ {}\n\
         @@ -1,7 +1,9 @@\n\
         \x20Storm warning for the coast\n\
         \x20\n\
         -Gales of up to 70 mph are expected on Thursday.\n\
         +Gales of up to 90 mph are expected on Thursday.\n\
         \x20\n\
         \x20Ferries may be cancelled.\n\
         \x20\n\
         \x20Stay away from sea walls.\n\
         +\n\
         +Schools will close early.\n",
        sha256(V1.as_bytes()),
        sha256(V2.as_bytes())
    )
}

/// A story whose first paragraph is its title, changed by one word from
/// `story(n, 1)` to `story(n, 2)`.
fn story(n: usize, version: usize) -> String {
    format!(
        "Story number {n}\n\nThe first report on story {n}.\n\nThis is version {version} of it.\n"
    )
}

/// Clips `url` (at 2026-11-20) and returns the article's id.
fn clip(env: &Env, url: &str) -> String {
    env.set_now("2026-11-20T08:00:00Z");
    let id = article_id(&env.nj(&["--json", "clip", url]).success());
    env.set_now(NOW);
    id
}

/// How many versions an article has.
fn versions(env: &Env, id: &str) -> usize {
    env.nj(&["--json", "versions", id])
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn changed_page_is_recorded_as_a_new_version() {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/storm",
        Reply::Sequence(vec![
            Reply::html(&text_page(V1)),
            Reply::html(&text_page(V2)),
        ]),
    );
    let a = clip(&env, &server.url("/storm"));
    env.follow_up(&[&a, "--due", "friday"]);

    let out = env.nj(&["recheck"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "changed      {}  Storm warning for the coast (+3 -1 lines, +5 -1 words)\n\
             \x20            {}\n\
             1 checked: 1 changed, 0 unreachable\n",
            short(&a),
            sha256(V2.as_bytes())
        )
    );
    assert_eq!(out.stderr, "");
    assert_eq!(server.hits("/storm"), 2);
    assert_eq!(env.nj(&["show", &a, "--text"]).success().stdout, V2);
    assert_eq!(
        env.nj(&["versions", &a]).success().stdout,
        format!(
            "VERSION  DATE              WORDS  CHANGE  HASH\n\
             1        2026-11-20 08:00  24             {}\n\
             2        2026-11-26 09:00  28     +5 -1   {}\n",
            sha256(V1.as_bytes()),
            sha256(V2.as_bytes())
        )
    );
    // The same page again: nothing more to record.
    let out = env.nj(&["recheck"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "unchanged    {}  Storm warning for the coast\n1 checked: 0 changed, 0 unreachable\n",
            short(&a)
        )
    );
    assert_eq!(versions(&env, &a), 2);
}

#[test]
fn diff_prints_what_changed() {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/storm",
        Reply::Sequence(vec![
            Reply::html(&text_page(V1)),
            Reply::html(&text_page(V2)),
        ]),
    );
    let a = clip(&env, &server.url("/storm"));
    let out = env.nj(&["recheck", &a, "--diff"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "changed      {}  Storm warning for the coast (+3 -1 lines, +5 -1 words)\n\
             \x20            {}\n\
             {}\
             1 checked: 1 changed, 0 unreachable\n",
            short(&a),
            sha256(V2.as_bytes()),
            v1_to_v2_diff()
        )
    );
}

#[test]
fn unchanged_page_records_nothing() {
    let env = Env::new();
    let server = Server::start();
    server.route("/budget", Reply::html(&text_page(SAME)));
    let a = clip(&env, &server.url("/budget"));
    let before = env.nj(&["--json", "show", &a]).json();
    let out = env.nj(&["recheck", &a, "--diff"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "unchanged    {}  Budget vote postponed\n1 checked: 0 changed, 0 unreachable\n",
            short(&a)
        )
    );
    assert_eq!(server.hits("/budget"), 2);
    assert_eq!(env.nj(&["--json", "show", &a]).json(), before);
}

/// One article per way a source can fail, between two that work; the
/// failures never stop the others.
#[test]
fn unreachable_sources_are_reported_and_the_others_still_checked() {
    let env = Env::new();
    let server = Server::start();
    let gone_page = text_page("Pier closed for repairs\n\nThe pier will stay closed all winter.\n");
    let drop_page = text_page("Lighthouse for sale\n\nThe old lighthouse is on the market.\n");
    server
        .route(
            "/storm",
            Reply::Sequence(vec![
                Reply::html(&text_page(V1)),
                Reply::html(&text_page(V2)),
            ]),
        )
        .route(
            "/gone",
            Reply::Sequence(vec![Reply::html(&gone_page), Reply::not_found()]),
        )
        .route(
            "/drop",
            Reply::Sequence(vec![
                Reply::html(&drop_page),
                Reply::Truncated {
                    content_type: "text/html".into(),
                    claimed: 5000,
                    body: drop_page.as_bytes()[..100].to_vec(),
                },
            ]),
        )
        .route("/budget", Reply::html(&text_page(SAME)));
    let storm = clip(&env, &server.url("/storm"));
    let gone = clip(&env, &server.url("/gone"));
    let dead_url = format!("http://127.0.0.1:{}/ferry", dead_port());
    let dead = env.clip_text(
        "Ferry fares rise\n\nFares go up in January.\n",
        &["--url", &dead_url],
    );
    let drop = clip(&env, &server.url("/drop"));
    let budget = clip(&env, &server.url("/budget"));
    // Clipped from stdin without --url: nothing to fetch.
    let no_url = env.clip_text("Notes from the meeting\n\nNothing decided.\n", &[]);

    let out = env.nj(&[
        "recheck", &storm, &gone, &dead, &drop, &budget, &no_url, "-j", "2",
    ]);
    // Sources failed: exit 3, after checking all the others.
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_eq!(
        out.stdout,
        format!(
            "changed      {}  Storm warning for the coast (+3 -1 lines, +5 -1 words)\n\
             \x20            {}\n\
             unreachable  {}  Pier closed for repairs: the server answered 404 Not Found; the page is gone; check the address\n\
             unreachable  {}  Ferry fares rise: connection refused; is the address right, and the site up?\n\
             unreachable  {}  Lighthouse for sale: the server dropped the connection; try again later\n\
             unchanged    {}  Budget vote postponed\n\
             unreachable  {}  Notes from the meeting: it has no source URL to fetch\n\
             6 checked: 1 changed, 4 unreachable\n",
            short(&storm),
            sha256(V2.as_bytes()),
            short(&gone),
            short(&dead),
            short(&drop),
            short(&budget),
            short(&no_url),
        )
    );
    assert_eq!(versions(&env, &storm), 2);
    for id in [&gone, &dead, &drop, &budget, &no_url] {
        assert_eq!(versions(&env, id), 1, "{id}");
    }
}

#[test]
fn json_reports_each_outcome() {
    let env = Env::new();
    let server = Server::start();
    server
        .route(
            "/storm",
            Reply::Sequence(vec![
                Reply::html(&text_page(V1)),
                Reply::html(&text_page(V2)),
            ]),
        )
        .route("/budget", Reply::html(&text_page(SAME)));
    let storm = clip(&env, &server.url("/storm"));
    let budget = clip(&env, &server.url("/budget"));
    let no_url = env.clip_text("Notes from the meeting\n\nNothing decided.\n", &[]);
    let out = env.nj(&["--json", "recheck", &storm, &budget, &no_url]);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.json(),
        json!([
            {
                "article_id": storm,
                "title": "Storm warning for the coast",
                "url": server.url("/storm"),
                "status": "changed",
                "lines_added": 3,
                "lines_removed": 1,
                // "70" became "90", and "Schools will close early" came.
                "words_added": 5,
                "words_removed": 1,
                "minor": false,
                "previous_hash": sha256(V1.as_bytes()),
                "content_hash": sha256(V2.as_bytes()),
                "diff": v1_to_v2_diff(),
            },
            {
                "article_id": budget,
                "title": "Budget vote postponed",
                "url": server.url("/budget"),
                "status": "unchanged",
            },
            {
                "article_id": no_url,
                "title": "Notes from the meeting",
                "url": null,
                "status": "unreachable",
                "reason": "it has no source URL to fetch",
            },
        ])
    );
}

#[test]
fn without_ids_only_articles_with_open_follow_ups_are_rechecked() {
    let env = Env::new();
    let server = Server::start();
    for (i, path) in ["/open", "/done", "/none", "/binned", "/removed"]
        .into_iter()
        .enumerate()
    {
        server.route(
            path,
            Reply::Sequence(vec![
                Reply::html(&text_page(&story(i, 1))),
                Reply::html(&text_page(&story(i, 2))),
            ]),
        );
    }
    let open = clip(&env, &server.url("/open"));
    let done = clip(&env, &server.url("/done"));
    let _none = clip(&env, &server.url("/none"));
    let binned = clip(&env, &server.url("/binned"));
    let removed = clip(&env, &server.url("/removed"));
    env.follow_up(&[&open, "--due", "friday"]);
    let f = id_of(&env.follow_up(&[&done, "--due", "friday"]));
    env.nj(&["done", &f]).success();
    env.follow_up(&[&binned, "--due", "friday"]);
    env.nj(&["rm", &binned]).success();
    let f = id_of(&env.follow_up(&[&removed, "--due", "friday"]));
    env.nj(&["follow-up", "rm", &f]).success();
    // A free-standing follow-up has nothing to recheck.
    env.follow_up(&["renew the press pass", "--due", "friday"]);

    let v = env.nj(&["--json", "recheck"]).json();
    assert_eq!(column(&v, "article_id"), [open.as_str()]);
    assert_eq!(column(&v, "status"), ["changed"]);
    let hits: Vec<usize> = ["/open", "/done", "/none", "/binned", "/removed"]
        .iter()
        .map(|p| server.hits(p))
        .collect();
    assert_eq!(hits, [2, 1, 1, 1, 1]);
}

#[test]
fn with_ids_exactly_those_are_rechecked() {
    let env = Env::new();
    let server = Server::start();
    for (i, path) in ["/one", "/two", "/three"].into_iter().enumerate() {
        server.route(
            path,
            Reply::Sequence(vec![
                Reply::html(&text_page(&story(i, 1))),
                Reply::html(&text_page(&story(i, 2))),
            ]),
        );
    }
    let one = clip(&env, &server.url("/one"));
    let two = clip(&env, &server.url("/two"));
    let three = clip(&env, &server.url("/three"));
    env.follow_up(&[&one, "--due", "friday"]);

    let v = env.nj(&["--json", "recheck", short(&three), &two]).json();
    assert_eq!(column(&v, "article_id"), [three.clone(), two.clone()]);
    assert_eq!(column(&v, "status"), ["changed", "changed"]);
    assert_eq!(
        ["/one", "/two", "/three"].map(|p| server.hits(p)),
        [1, 2, 2]
    );
    assert_eq!([&one, &two, &three].map(|id| versions(&env, id)), [1, 2, 2]);

    // An unknown id refuses the whole run before any fetch.
    assert_refused(
        &env,
        &["recheck", &one, "0000dead"],
        None,
        "nj: no article matches 0000dead; `nj list` shows ids, and `nj list --removed` the bin\n",
    );
    assert_eq!(server.hits("/one"), 1);
}

#[test]
fn nothing_to_recheck_says_so() {
    let env = Env::new();
    env.clip_text(SAME, &["--url", "https://news.example/budget"]);
    let out = env.nj(&["recheck"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "no article has an open follow-up; give ids to recheck: nj recheck ID...\n"
    );
    let out = env.nj(&["--json", "recheck"]).success();
    assert_eq!(out.stdout, "[]\n");
}

#[test]
fn bad_timeout_or_jobs_are_refused() {
    let env = Env::new();
    let a = env.clip_text(SAME, &["--url", "https://news.example/budget"]);
    assert_refused(
        &env,
        &["recheck", &a, "--timeout", "0"],
        None,
        "nj: --timeout 0 is not a positive number of seconds\n",
    );
    let out = env.nj(&["recheck", &a, "-j", "many"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(out.stdout, "");
}

/// Nothing is lost when the network drops mid-run: five pages change, one
/// connection drops and one answer is too slow, and every change is
/// recorded; a second run finds nothing new to record.
#[test]
fn network_dropping_mid_run_loses_no_recorded_change() {
    let env = Env::new();
    let server = Server::start();
    let drop_page = text_page(&story(90, 1));
    let slow_page = text_page(&story(91, 1));
    let mut ids = Vec::new();
    for i in 0..6 {
        let path = format!("/s{i}");
        if i == 2 {
            server.route(
                &path,
                Reply::Sequence(vec![
                    Reply::html(&drop_page),
                    Reply::Truncated {
                        content_type: "text/html".into(),
                        claimed: 4000,
                        body: drop_page.as_bytes()[..80].to_vec(),
                    },
                ]),
            );
        } else if i == 4 {
            server.route(
                &path,
                Reply::Sequence(vec![
                    Reply::html(&slow_page),
                    Reply::Slow(
                        Duration::from_secs(3),
                        Box::new(Reply::html(&text_page(&story(91, 2)))),
                    ),
                ]),
            );
        } else {
            server.route(
                &path,
                Reply::Sequence(vec![
                    Reply::html(&text_page(&story(i, 1))),
                    Reply::html(&text_page(&story(i, 2))),
                ]),
            );
        }
        let id = clip(&env, &server.url(&path));
        env.follow_up(&[&id, "--due", "friday"]);
        ids.push(id);
    }

    let out = env.nj(&["--json", "recheck", "--timeout", "1"]);
    assert_eq!(out.code, Some(3), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(column(&v, "article_id"), ids);
    assert_eq!(
        column(&v, "status"),
        [
            "changed",
            "changed",
            "unreachable",
            "changed",
            "unreachable",
            "changed"
        ]
    );
    assert_eq!(
        v[2]["reason"],
        "the server dropped the connection; try again later"
    );
    assert_eq!(
        v[4]["reason"],
        "no complete answer within 1s; the site may be slow or down, try again later or raise --timeout"
    );
    for (i, id) in ids.iter().enumerate() {
        let (n, text) = match i {
            2 => (1, story(90, 1)),
            4 => (1, story(91, 1)),
            _ => (2, story(i, 2)),
        };
        assert_eq!(versions(&env, id), n, "story {i}");
        assert_eq!(env.nj(&["show", id, "--text"]).success().stdout, text);
    }
    for i in [0, 1, 3, 5] {
        assert_eq!(v[i]["content_hash"], sha256(story(i, 2).as_bytes()));
    }

    let again = env
        .nj(&["--json", "recheck", &ids[0], &ids[1], &ids[3], &ids[5]])
        .json();
    assert_eq!(
        column(&again, "status"),
        ["unchanged", "unchanged", "unchanged", "unchanged"]
    );
}

/// A run killed while a fetch hangs keeps every version it recorded before.
#[test]
fn killed_run_keeps_what_it_recorded() {
    let env = Env::new();
    let server = Server::start();
    let mut ids = Vec::new();
    for i in 0..3 {
        let path = format!("/k{i}");
        let second = Reply::html(&text_page(&story(i, 2)));
        let second = if i == 2 {
            Reply::Slow(Duration::from_secs(20), Box::new(second))
        } else {
            second
        };
        server.route(
            &path,
            Reply::Sequence(vec![Reply::html(&text_page(&story(i, 1))), second]),
        );
        ids.push(clip(&env, &server.url(&path)));
    }
    let mut args = vec!["recheck", "-j", "1"];
    args.extend(ids.iter().map(String::as_str));
    let mut child = env
        .cmd(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while server.hits("/k2") < 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "no fetch of /k2");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The two earlier results have arrived; give the journal a moment to
    // commit them, then pull the plug.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        ids.iter().map(|id| versions(&env, id)).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert_eq!(
        env.nj(&["show", &ids[1], "--text"]).success().stdout,
        story(1, 2)
    );
    env.nj(&["verify"]).success();
}

/// Fetches run several at a time: four answers that each take a second
/// come back in about one second with -j 4, not four.
#[test]
fn fetches_run_in_parallel() {
    let env = Env::new();
    let server = Server::start();
    let mut ids = Vec::new();
    for i in 0..4 {
        let path = format!("/p{i}");
        server.route(
            &path,
            Reply::Sequence(vec![
                Reply::html(&text_page(&story(i, 1))),
                Reply::Slow(
                    Duration::from_secs(1),
                    Box::new(Reply::html(&text_page(&story(i, 2)))),
                ),
            ]),
        );
        ids.push(clip(&env, &server.url(&path)));
    }
    let mut args = vec!["--json", "recheck", "-j", "4", "--timeout", "10"];
    args.extend(ids.iter().map(String::as_str));
    let start = Instant::now();
    let v = env.nj(&args).json();
    let took = start.elapsed();
    assert_eq!(column(&v, "status"), ["changed"; 4]);
    assert!(took < Duration::from_millis(3500), "took {took:?}");
}

#[test]
fn unreachable_canonical_url_falls_back_to_the_address_clipped_from() {
    // The page names a canonical address that cannot be reached from here;
    // recheck must still fetch the address the article was clipped from.
    let env = Env::new();
    let server = Server::start();
    let canonical = format!("http://127.0.0.1:{}/storm-canonical", dead_port());
    let with_canonical = |text: &str| {
        text_page(text).replace(
            "<title>",
            &format!("<link rel=\"canonical\" href=\"{canonical}\">\n<title>"),
        )
    };
    server.route(
        "/storm",
        Reply::Sequence(vec![
            Reply::html(&with_canonical(V1)),
            Reply::html(&with_canonical(V2)),
        ]),
    );
    let a = clip(&env, &server.url("/storm"));
    let shown = env.nj(&["--json", "show", &a]).json();
    assert_eq!(shown["url"], canonical.as_str());
    let out = env.nj(&["recheck", &a]).success();
    assert_eq!(
        out.stdout,
        format!(
            "changed      {}  Storm warning for the coast (+3 -1 lines, +5 -1 words)\n\
             \x20            {}\n\
             1 checked: 1 changed, 0 unreachable\n",
            short(&a),
            sha256(V2.as_bytes())
        )
    );
    assert_eq!(versions(&env, &a), 2);
}

/// Issue 16, bug 9: `nj recheck` exited 0 when sources failed, so a cron
/// job never saw it. It exits 3 when any source could not be fetched,
/// still checking the others; an article with no source URL is reported
/// and does not count.
#[test]
fn regression_recheck_exits_0_when_sources_failed() {
    let env = Env::new();
    let server = Server::start();
    server
        .route("/budget", Reply::html(&text_page(SAME)))
        .route(
            "/gone",
            Reply::Sequence(vec![
                Reply::html(&text_page("Pier closed\n\nThe pier will stay closed.\n")),
                Reply::not_found(),
            ]),
        );
    let budget = clip(&env, &server.url("/budget"));
    let no_url = env.clip_text("Notes from the meeting\n\nNothing decided.\n", &[]);
    // Every source fetched (and one with nothing to fetch): 0.
    let out = env.nj(&["recheck", &budget, &no_url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let gone = clip(&env, &server.url("/gone"));
    for json in [false, true] {
        let mut args = vec!["recheck", &gone, &budget];
        if json {
            args.insert(0, "--json");
        }
        let out = env.nj(&args);
        assert_eq!(out.code, Some(3), "{args:?}: {out:?}");
        // The other source was still checked.
        assert!(out.stdout.contains("unchanged"), "{}", out.stdout);
    }
}

/// A page whose only change is typographic (the extractor already drops
/// its date lines) is a minor change: still recorded, but not counted as
/// news; --min-change N sets how many words must change.
#[test]
fn a_change_of_only_punctuation_is_minor() {
    let env = Env::new();
    let server = Server::start();
    let page = |body: &str| text_page(&format!("Storm warning for the coast\n\n{body}\n"));
    server.route(
        "/storm",
        Reply::Sequence(vec![
            Reply::html(&page("Ferries may be cancelled on Thursday - gales of up to 70 mph will reach the coast.")),
            Reply::html(&page("Ferries may be \u{201c}cancelled\u{201d} on Thursday \u{2014} gales of up to 70 mph will reach the coast!")),
            Reply::html(&page("Ferries may be \u{201c}cancelled\u{201d} on Thursday \u{2014} gales of up to 70 mph will reach the coast! Schools close early.")),
            Reply::html(&page("Ferries may be \u{201c}cancelled\u{201d} on Thursday \u{2014} gales of up to 70 mph will reach the coast! Schools close early. Buses stop.")),
        ]),
    );
    let a = clip(&env, &server.url("/storm"));
    let out = env.nj(&["recheck", &a]).success();
    assert_eq!(
        out.stdout,
        format!(
            "minor        {}  Storm warning for the coast (+1 -1 lines, +0 -0 words)\n             {}\n\
             1 checked: 0 changed, 1 minor (only punctuation, a date or an \"Updated\" line; recorded as a version), 0 unreachable\n",
            &a[..8],
            env.nj(&["--json", "show", &a]).json()["content_hash"].as_str().unwrap()
        )
    );
    let versions = env.nj(&["--json", "versions", &a]).json();
    assert_eq!(versions[1]["minor"], true, "{versions}");
    // Three words more: news by default, minor when 5 must change.
    let out = env
        .nj(&["--json", "recheck", &a, "--min-change", "5"])
        .json();
    assert_eq!(out[0]["status"], "changed");
    assert_eq!(out[0]["words_added"], 3);
    assert_eq!(out[0]["minor"], true, "{out}");
    let out = env.nj(&["recheck", &a, "--min-change", "5"]).success();
    assert!(
        out.stdout.ends_with(
            "1 checked: 0 changed, 1 minor (fewer than 5 words changed; recorded as a version), 0 unreachable\n"
        ),
        "{}",
        out.stdout
    );
}
