//! Versions: clipping a URL again after its text changed keeps the old text
//! as an earlier version; `nj versions`, `nj diff` and `nj show --version`
//! read them back.

use serde_json::Value;

use crate::pages;
use crate::util::{sha256, short, Env, Reply, Server};

const V1: &str = "Storm warning for the coast\n\nGales of up to 70 mph are expected on Thursday.\n\nFerries may be cancelled.\n\nStay away from sea walls.\n";
const V2: &str = "Storm warning for the coast\n\nGales of up to 90 mph are expected on Thursday.\n\nFerries may be cancelled.\n\nStay away from sea walls.\n\nSchools will close early.\n";
const V3: &str = "Storm warning for the coast\n\nGales of up to 90 mph are expected on Thursday night.\n\nAll ferries are cancelled.\n\nStay away from sea walls.\n\nSchools will close early.\n";

/// The page for a text whose first line is its title.
fn page_of(text: &str) -> String {
    pages::text_page(text)
}

/// Clips the story four times as it changes: V1, V2, V2 again, V3.
fn story() -> (Env, Server, String, Vec<Value>) {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/storm",
        Reply::Sequence(vec![
            Reply::html(&page_of(V1)),
            Reply::html(&page_of(V2)),
            Reply::html(&page_of(V2)),
            Reply::html(&page_of(V3)),
        ]),
    );
    let url = server.url("/storm");
    let mut outs = Vec::new();
    for (i, now) in [
        "2026-11-20T08:00:00Z",
        "2026-11-21T08:00:00Z",
        "2026-11-22T08:00:00Z",
        "2026-11-23T08:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        env.set_now(now);
        let args = ["--json", "clip", url.as_str()];
        outs.push(env.nj(&args).json());
        assert_eq!(server.hits("/storm"), i + 1);
    }
    (env, server, url, outs)
}

#[test]
fn changed_page_becomes_a_new_version_of_the_same_article() {
    let (env, _server, _url, outs) = story();
    let id = outs[0]["article"]["id"].as_str().unwrap();
    let statuses: Vec<&str> = outs.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["new", "new_version", "duplicate", "new_version"]);
    for o in &outs {
        assert_eq!(o["article"]["id"], id);
    }
    assert_eq!(outs[1]["previous_hash"], sha256(V1.as_bytes()));
    assert_eq!(outs[3]["previous_hash"], sha256(V2.as_bytes()));
    assert_eq!(outs[3]["article"]["content_hash"], sha256(V3.as_bytes()));
    assert_eq!(env.list_json().as_array().unwrap().len(), 1);
    assert_eq!(env.nj(&["show", id, "--text"]).success().stdout, V3);
}

#[test]
fn new_version_message_points_at_diff() {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/storm",
        Reply::Sequence(vec![Reply::html(&page_of(V1)), Reply::html(&page_of(V2))]),
    );
    let url = server.url("/storm");
    let id = crate::util::article_id(&env.nj(&["--json", "clip", &url]).success());
    let out = env.nj(&["clip", &url]).success();
    let s = short(&id);
    assert_eq!(
        out.stdout,
        format!(
            "new version of {s}: Storm warning for the coast (the text changed; `nj diff {s}` shows how)\n  {}\n",
            sha256(V2.as_bytes())
        )
    );
}

#[test]
fn versions_lists_every_text_oldest_first() {
    let (env, _server, _url, outs) = story();
    let id = outs[0]["article"]["id"].as_str().unwrap();
    let out = env.nj(&["versions", id]).success();
    assert_eq!(
        out.stdout,
        format!(
            "VERSION  DATE              WORDS  CHANGE  HASH\n\
             1        2026-11-20 08:00  24             {}\n\
             2        2026-11-21 08:00  28     +5 -1   {}\n\
             3        2026-11-23 08:00  29     +3 -2   {}\n",
            sha256(V1.as_bytes()),
            sha256(V2.as_bytes()),
            sha256(V3.as_bytes())
        )
    );
    let v = env.nj(&["--json", "versions", id]).json();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["number"], 1);
    assert_eq!(v[0]["content_hash"], sha256(V1.as_bytes()));
    assert_eq!(v[0]["created_at"], "2026-11-20T08:00:00Z");
    assert_eq!(v[0]["word_count"], 24);
    assert!(
        v[0].get("minor").is_none(),
        "the first version has no change: {v}"
    );
    assert_eq!(v[1]["words_added"], 5);
    assert_eq!(v[1]["words_removed"], 1);
    assert_eq!(v[1]["minor"], false);
    assert_eq!(v[2]["number"], 3);
}

#[test]
fn diff_compares_the_last_two_versions() {
    let (env, _server, _url, outs) = story();
    let id = outs[0]["article"]["id"].as_str().unwrap();
    let out = env.nj(&["diff", id]).success();
    assert_eq!(
        out.stdout,
        format!(
            "--- version 2 {}\n\
             +++ version 3 {}\n\
             @@ -1,7 +1,7 @@\n\
             \x20Storm warning for the coast\n\
             \x20\n\
             -Gales of up to 90 mph are expected on Thursday.\n\
             +Gales of up to 90 mph are expected on Thursday night.\n\
             \x20\n\
             -Ferries may be cancelled.\n\
             +All ferries are cancelled.\n\
             \x20\n\
             \x20Stay away from sea walls.\n\
             2 lines added, 2 removed\n",
            sha256(V2.as_bytes()),
            sha256(V3.as_bytes())
        )
    );
}

#[test]
fn diff_from_and_to_pick_other_versions() {
    let (env, _server, _url, outs) = story();
    let id = outs[0]["article"]["id"].as_str().unwrap();
    let out = env.nj(&["diff", id, "--from", "1", "--to", "2"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "--- version 1 {}\n\
             +++ version 2 {}\n\
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
             +Schools will close early.\n\
             3 lines added, 1 removed\n",
            sha256(V1.as_bytes()),
            sha256(V2.as_bytes())
        )
    );
    let v = env
        .nj(&["--json", "diff", id, "--from", "1", "--to", "3"])
        .json();
    assert_eq!(v["from"]["number"], 1);
    assert_eq!(v["to"]["number"], 3);
    assert_eq!(v["lines_added"], 4);
    assert_eq!(v["lines_removed"], 2);

    let err = env.nj(&["diff", id, "--from", "1", "--to", "7"]).failure();
    let s = short(id);
    assert_eq!(
        err,
        format!("nj: {s} has no version 7; it has 3 (see `nj versions {s}`)\n")
    );
}

#[test]
fn show_version_prints_an_old_text() {
    let (env, _server, _url, outs) = story();
    let id = outs[0]["article"]["id"].as_str().unwrap();
    assert_eq!(
        env.nj(&["show", id, "--version", "1", "--text"])
            .success()
            .stdout,
        V1
    );
    assert_eq!(
        env.nj(&["show", id, "--version", "2", "--text"])
            .success()
            .stdout,
        V2
    );
    let s = short(id);
    assert_eq!(
        env.nj(&["show", id, "--version", "4"]).failure(),
        format!("nj: {s} has no version 4; it has 3 (see `nj versions {s}`)\n")
    );
}

#[test]
fn diff_of_a_single_version_says_there_is_nothing_to_compare() {
    let env = Env::new();
    let id = env.clip_text("Only once\n\nOne text.\n", &[]);
    let s = short(&id);
    assert_eq!(
        env.nj(&["diff", &id]).failure(),
        format!("nj: {s} has only one version, so there is nothing to compare; `nj clip` its URL again to record a new one\n")
    );
}
