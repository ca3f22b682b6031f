//! Bookmarks imported without their text: they are pending, keep their
//! tags, time and read state, and `nj fetch` gets their text from the
//! local test server, a few at a time; a run that stops is resumed by
//! running it again, a page that fails is skipped until --retry, and a
//! text another article has folds the bookmark into that article.

use std::time::{Duration, Instant};

use crate::pages::text_page;
use crate::util::{column, short, Env, Reply, Server};

const HARBOR: &str = "Harbor dredging contract goes to review\n\nThe port authority sent the dredging award back for review on Monday.\n\nThe losing bidder had objected to the scoring.\n";
const FERRY: &str =
    "Ferry timetable cut for winter\n\nThe island ferry will run four times a day from December.\n";
const BRIDGE: &str = "Bridge tolls to rise in spring\n\nDrivers will pay more to cross from April, the council said.\n";

/// A Pocket export of three bookmarks on `server`: harbor (archived, two
/// tags), ferry, and bridge, saved a day apart (bridge the newest).
fn pocket_csv(server: &Server) -> String {
    format!(
        "title,url,time_added,cursor,tags,status\n\
         Harbor dredging,{},1764000000,c1,ports|court cases,archive\n\
         \"Ferry, timetable\",{},1764086400,c2,,unread\n\
         ,{},1764172800,c3,roads,unread\n",
        server.url("/harbor"),
        server.url("/ferry"),
        server.url("/bridge"),
    )
}

fn ids_of(env: &Env, args: &[&str]) -> Vec<String> {
    let mut all = vec!["--json", "list"];
    all.extend_from_slice(args);
    column(&env.nj(&all).json(), "id")
}

#[test]
fn imported_bookmarks_are_pending_until_fetched_and_a_failure_waits_for_retry() {
    let env = Env::new();
    let server = Server::start();
    server
        .route("/harbor", Reply::html(&text_page(HARBOR)))
        .route("/ferry", Reply::not_found())
        .route("/bridge", Reply::html(&text_page(BRIDGE)));
    let file = env.write("pocket.csv", pocket_csv(&server));
    let out = env.nj(&["import", file.to_str().unwrap()]).success();
    assert_eq!(
        out.stdout,
        format!(
            "imported {} (Pocket CSV): 3 added, 0 updated, 0 skipped (duplicate), 0 rejected\n",
            file.display()
        )
    );

    let list = env.nj(&["--json", "list", "--pending"]).json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    // Newest first; the one without a title is named by its address.
    let bridge = &list[0];
    assert_eq!(
        bridge["title"],
        server.url("/bridge").trim_start_matches("http://")
    );
    assert_eq!(bridge["pending"], true);
    assert_eq!(bridge["word_count"], 0);
    assert_eq!(bridge["clipped_at"], "2025-11-26T16:00:00Z");
    assert_eq!(bridge["read_at"], serde_json::Value::Null);
    assert_eq!(list[1]["title"], "Ferry, timetable");
    let harbor = &list[2];
    assert_eq!(harbor["title"], "Harbor dredging");
    assert_eq!(harbor["tags"], serde_json::json!(["court-cases", "ports"]));
    assert_eq!(harbor["clipped_at"], "2025-11-24T16:00:00Z");
    // Archived in Pocket, read from the import on.
    assert_eq!(harbor["read_at"], "2026-11-26T09:00:00Z");
    assert_eq!(ids_of(&env, &["--unread"]).len(), 2);
    assert_eq!(
        ids_of(&env, &["--read"]),
        vec![harbor["id"].as_str().unwrap()]
    );
    let table = env.nj(&["list", "--pending"]).success().stdout;
    assert_eq!(table.matches("pending").count(), 3, "{table}");
    let show = env
        .nj(&["show", harbor["id"].as_str().unwrap()])
        .success()
        .stdout;
    assert!(
        show.contains("not fetched yet (imported as a bookmark); `nj fetch --pending` fetches it"),
        "{show}"
    );

    // One at a time, so the order is the list's.
    let out = env.nj(&["fetch", "--pending", "-j", "1"]).success();
    let bridge_id = short(bridge["id"].as_str().unwrap()).to_owned();
    let ferry_id = short(list[1]["id"].as_str().unwrap()).to_owned();
    let harbor_id = short(harbor["id"].as_str().unwrap()).to_owned();
    assert_eq!(
        out.stdout,
        format!(
            "fetched  {bridge_id}  Bridge tolls to rise in spring (17 words)\n\
             failed   {ferry_id}  Ferry, timetable: the server answered 404 Not Found; the page is gone; check the address\n\
             fetched  {harbor_id}  Harbor dredging (26 words)\n\
             2 fetched, 0 merged, 1 failed; 1 still pending (1 could not be fetched: `nj fetch --pending --retry` tries them again)\n"
        )
    );
    assert_eq!(ids_of(&env, &["--pending"]).len(), 1);
    // The bookmark titled by its address took the page's title; the one
    // with a title of its own kept it. Both hold the page's text now.
    let text = env.nj(&["show", "--text", &bridge_id]).success().stdout;
    assert_eq!(text, BRIDGE);
    let text = env.nj(&["show", "--text", &harbor_id]).success().stdout;
    assert_eq!(text, HARBOR);
    let found = env.nj(&["--json", "search", "losing bidder"]).json();
    assert_eq!(found.as_array().unwrap().len(), 1);

    // Run again: the failure is not tried again until asked.
    let out = env.nj(&["fetch", "--pending"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "nothing to fetch: the 1 pending left could not be fetched before; `nj fetch --pending --retry` tries them again\n"
    );
    assert_eq!(server.hits("/ferry"), 1);
    server.route("/ferry", Reply::html(&text_page(FERRY)));
    let out = env.nj(&["fetch", "--pending", "--retry"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "fetched  {ferry_id}  Ferry, timetable (16 words)\n1 fetched, 0 merged, 0 failed\n"
        )
    );
    assert!(ids_of(&env, &["--pending"]).is_empty());
    let out = env.nj(&["verify"]).success();
    assert_eq!(
        out.stdout,
        "checked 3 texts of 3 articles: every hash matches, every article agrees with its versions, and the search index is sound\n"
    );

    // The same file again adds nothing.
    let out = env.nj(&["import", file.to_str().unwrap()]).success();
    assert_eq!(
        out.stdout,
        format!(
            "imported {} (Pocket CSV): 0 added, 0 updated, 3 skipped (duplicate), 0 rejected\n",
            file.display()
        )
    );
}

#[test]
fn a_fetched_text_the_journal_has_folds_the_bookmark_into_that_article() {
    let env = Env::new();
    let server = Server::start();
    server
        .route("/harbor", Reply::html(&text_page(HARBOR)))
        .route("/mirror", Reply::html(&text_page(HARBOR)));
    let kept = env.clip_text(HARBOR, &["--url", &server.url("/harbor")]);
    let file = env.write(
        "pocket.csv",
        format!(
            "title,url,time_added,tags,status\nA mirror,{},1764000000,dredging,archive\n",
            server.url("/mirror")
        ),
    );
    env.nj(&["import", file.to_str().unwrap()]).success();
    let pending = ids_of(&env, &["--pending"]);
    assert_eq!(pending.len(), 1);
    env.nj(&["note", &pending[0], "seen in the newsletter"])
        .success();
    let out = env.nj(&["fetch", &pending[0]]).success();
    assert_eq!(
        out.stdout,
        format!(
            "merged   {}  A mirror: {} has the same text, so the bookmark went into it\n0 fetched, 1 merged, 0 failed\n",
            short(&pending[0]),
            short(&kept)
        )
    );
    let live = env.list_json();
    let live = live.as_array().unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], kept.as_str());
    assert_eq!(live[0]["tags"], serde_json::json!(["dredging"]));
    assert_eq!(live[0]["read_at"], "2026-11-26T09:00:00Z");
    assert!(live[0]["urls"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(server.url("/mirror"))));
    let shown = env.nj(&["--json", "show", &kept]).json();
    assert_eq!(shown["notes"][0]["text"], "seen in the newsletter");
    assert_eq!(ids_of(&env, &["--removed"]), vec![pending[0].clone()]);
    // An article with its text is not fetched again by `nj fetch`.
    let err = env.nj(&["fetch", &kept]).failure();
    assert_eq!(
        err,
        format!(
            "nj: {} already has its text; `nj recheck {}` fetches it again to look for changes\n",
            short(&kept),
            short(&kept)
        )
    );
}

#[test]
fn a_fetch_killed_midway_keeps_what_it_fetched_and_the_next_run_goes_on() {
    let env = Env::new();
    let server = Server::start();
    let mut csv = String::from("title,url,time_added,tags,status\n");
    for i in 0..6 {
        let path = format!("/story/{i}");
        let text = format!("Story {i} of the inquiry\n\nWitness {i} gave evidence today.\n");
        // The newest (fetched first) answers at once, the others slowly.
        let reply = Reply::html(&text_page(&text));
        let reply = if i == 5 {
            reply
        } else {
            Reply::Slow(Duration::from_millis(400), Box::new(reply))
        };
        server.route(&path, reply);
        csv.push_str(&format!(
            "Story {i},{},{},,unread\n",
            server.url(&path),
            1764000000 + i * 60
        ));
    }
    let file = env.write("pocket.csv", csv);
    env.nj(&["import", file.to_str().unwrap()]).success();
    assert_eq!(ids_of(&env, &["--pending"]).len(), 6);

    let mut child = env
        .cmd(&["fetch", "--pending", "-j", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first text is in and the second is on its way.
    let start = Instant::now();
    while server.hits("/story/4") == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no fetch began");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The first text's write lands well within the slow page's wait.
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let left = ids_of(&env, &["--pending"]);
    assert_eq!(left.len(), 5, "the first text was kept");
    let out = env.nj(&["fetch", "--pending"]).success();
    assert!(
        out.stdout.ends_with("5 fetched, 0 merged, 0 failed\n"),
        "{}",
        out.stdout
    );
    assert!(ids_of(&env, &["--pending"]).is_empty());
    assert_eq!(
        server.hits("/story/5"),
        1,
        "a fetched text is not fetched again"
    );
}

/// Issue 16, bug 2: a journal's Netscape export (pending bookmarks) and
/// then its JSON export imported into one new journal left the article
/// with a version and its text, yet pending: not shown, not searchable,
/// fetched again, and `nj verify` content. Now the JSON import gives the
/// bookmark its text, and `nj verify` finds (and `--repair` mends) an
/// article left in that state by an older nj.
#[test]
fn regression_an_import_leaves_an_article_half_done() {
    let first = Env::new();
    first
        .nj_stdin(
            &[
                "clip",
                "-",
                "--url",
                "https://news.example/harbor",
                "-t",
                "ports",
            ],
            HARBOR,
        )
        .success();
    first
        .nj(&["export", "--format", "netscape", "-o", "b.html"])
        .success();
    first.nj(&["export", "-o", "j.json"]).success();

    let env = Env::new();
    std::fs::copy(first.path("b.html"), env.path("b.html")).unwrap();
    std::fs::copy(first.path("j.json"), env.path("j.json")).unwrap();
    env.nj(&["import", "b.html"]).success();
    assert!(env.nj(&["list"]).success().stdout.contains(" pending "));
    let out = env.nj(&["import", "j.json"]).success();
    assert!(out.stdout.contains("0 added, 1 updated"), "{}", out.stdout);

    let list = env.list_json();
    assert_eq!(list[0]["pending"], false, "{list}");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["title"], "Harbor dredging contract goes to review");
    let listed = env.nj(&["list"]).success().stdout;
    assert!(!listed.contains("pending"), "{listed}");
    let show = env.nj(&["show", &id]).success().stdout;
    assert!(!show.contains("not fetched yet"), "{show}");
    assert_eq!(env.nj(&["show", &id, "--text"]).success().stdout, HARBOR);
    let found = env.nj(&["search", "dredging"]).success().stdout;
    assert!(found.contains(short(&id)), "{found}");
    let fetch = env.nj(&["fetch", "--pending"]).success();
    assert!(fetch.stderr.contains("nothing to fetch"), "{fetch:?}");
    env.nj(&["verify"]).success();

    // The state an older nj left: versions and text, the pending mark.
    env.sqlite()
        .execute(
            "UPDATE articles SET content_hash = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'",
            [],
        )
        .unwrap();
    let out = env.nj(&["verify"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains(&format!("INCONSISTENT {}", short(&id))),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("pending (no text), yet it has 1 version"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("`nj verify --repair` mends them"),
        "{}",
        out.stderr
    );
    let v = env.nj(&["--json", "verify"]);
    assert_eq!(v.code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(v["inconsistent"][0]["article_id"], id.as_str());

    let repaired = env.nj(&["verify", "--repair"]).success();
    assert!(
        repaired.stderr.contains("mended 1 of 1"),
        "{}",
        repaired.stderr
    );
    assert_eq!(env.list_json()[0]["pending"], false);
    assert!(env
        .nj(&["search", "dredging"])
        .success()
        .stdout
        .contains(short(&id)));
    env.nj(&["verify"]).success();
}

/// A bookmark whose page turns out to be a syndicated copy of an article's
/// text folds into that article, its text kept as the article's copy.
#[test]
fn a_fetched_copy_folds_the_bookmark_into_the_article_it_copies() {
    let env = Env::new();
    let server = Server::start();
    let report = (0..30)
        .map(|i| {
            format!(
                "The port authority met {i} times about dredging lot {}.",
                i * 3
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let original = format!("Harbor dredging contract goes to review\n\n{report}\n");
    let copy = format!("{original}\nThis article first appeared on the Harbor Gazette.\n");
    server.route("/wire", Reply::html(&text_page(&copy)));
    let kept = env.clip_text(&original, &["--url", "https://gazette.example/harbor"]);
    let file = env.write(
        "pocket.csv",
        format!(
            "title,url,time_added,tags,status\nWire story,{},1764000000,dredging,unread\n",
            server.url("/wire")
        ),
    );
    env.nj(&["import", file.to_str().unwrap()]).success();
    let pending = ids_of(&env, &["--pending"]);
    assert_eq!(pending.len(), 1);
    let out = env.nj(&["fetch", &pending[0]]).success();
    assert!(
        out.stdout.starts_with(&format!(
            "merged   {}  Wire story: its page is a copy of {} (9",
            short(&pending[0]),
            short(&kept)
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("0 fetched, 1 merged, 0 failed\n"),
        "{}",
        out.stdout
    );
    let live = env.list_json();
    assert_eq!(live.as_array().unwrap().len(), 1);
    assert_eq!(live[0]["tags"], serde_json::json!(["dredging"]));
    let text = env
        .nj(&["show", &kept, "--copy", &server.url("/wire"), "--text"])
        .success()
        .stdout;
    assert_eq!(text, copy);
    assert_eq!(ids_of(&env, &["--removed"]), vec![pending[0].clone()]);
}
