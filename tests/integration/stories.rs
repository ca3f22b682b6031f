//! Stories: follow a story over weeks (`nj story`, `nj stories`), through
//! the real binary, pages from a local server, and sync through a real
//! `nj serve`.

use serde_json::Value;

use crate::pages::text_page;
use crate::util::{at, Device, Env, Hub, Reply, Server};

/// The first report on the award, as the page first had it, and as it
/// read after the court's ruling was added.
const AWARD: &str = "Pentagon awards JEDI cloud contract to Microsoft\n\n\
The Pentagon awarded the ten billion dollar JEDI cloud computing contract to Microsoft on Friday, \
passing over Amazon, which had long been seen as the favourite for the work.\n\n\
Amazon is weighing a protest of the award, people familiar with the matter said, and could \
ask the Court of Federal Claims to halt the contract while a judge reviews the bidding.";
const RULING: &str =
    "\n\nA federal judge later ordered the Pentagon to pause work on the contract \
while the court considers the protest Amazon filed over the award.";
const PROTEST: &str = "Amazon files protest over Pentagon JEDI award\n\n\
Amazon filed a protest with the Court of Federal Claims over the Pentagon's JEDI cloud contract, \
saying the award to Microsoft was marred by errors and political interference.\n\n\
The Pentagon said it stood by the award and that the JEDI program would go on while the \
protest is heard.";

fn json(env: &Env, args: &[&str]) -> Value {
    env.nj(&[&["--json"], args].concat()).json()
}

/// The seed scenario of the issue, end to end: clip into a new story,
/// a follow-up on the story, a related article the clip suggests adding,
/// a sync to a second device, a recheck there that finds the page
/// changed, and on the first device the timeline and the follow-up.
#[test]
fn a_story_followed_across_two_devices() {
    let server = Server::start();
    server
        .route(
            "/award",
            Reply::Sequence(vec![
                Reply::html(&text_page(AWARD)),
                Reply::html(&text_page(&format!("{AWARD}{RULING}"))),
            ]),
        )
        .route("/protest", Reply::html(&text_page(PROTEST)));
    let hub = Hub::start();
    let j = hub.new_journal_with_key();
    let a = Device::joined(&hub, &j, &at("08:00"));
    a.at(&at("09:00"));
    let made = a.nj(&["story", "new", "JEDI contract"]).success();
    assert!(
        made.stdout.starts_with("made story jedi-contract ("),
        "{}",
        made.stdout
    );
    let out = a
        .nj(&["clip", &server.url("/award"), "--story", "jedi"])
        .success();
    assert!(
        out.stdout
            .contains("  in story jedi-contract: JEDI contract\n"),
        "{}",
        out.stdout
    );
    let award = a.nj(&["--json", "list"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = a
        .nj(&[
            "follow-up",
            "--story",
            "jedi",
            "check JEDI court outcome",
            "--due",
            "in 3 weeks",
        ])
        .success();
    assert!(
        out.stdout
            .ends_with("check JEDI court outcome (story jedi-contract)\n"),
        "{}",
        out.stdout
    );
    a.nj(&["note", "--story", "jedi", "Amazon says it will protest"])
        .success();
    // The note says which story it is on, where notes are listed and
    // where search finds it.
    let notes = a.nj(&["notes"]).success().stdout;
    assert!(
        notes.contains("story jedi-contract  Amazon says it will protest"),
        "{notes}"
    );
    let found = a.nj(&["search", "protest"]).success().stdout;
    assert!(found.contains("  note on story jedi-contract\n"), "{found}");
    assert_eq!(
        a.nj(&["--json", "notes"]).json()[0]["story"],
        "jedi-contract"
    );
    // A related article: the clip says which story it belongs with, and
    // the command that files it.
    a.at(&at("10:00"));
    let out = a.nj(&["clip", &server.url("/protest")]).success();
    let suggestion = out
        .stdout
        .lines()
        .find(|l| l.starts_with("  related to story \"JEDI contract\" (shares "))
        .unwrap_or_else(|| panic!("no suggestion in {}", out.stdout));
    let command = suggestion.rsplit(": ").next().unwrap();
    assert!(
        command.starts_with("nj story add jedi-contract "),
        "{command}"
    );
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    let added = a.nj(&args).success();
    assert!(
        added
            .stdout
            .contains(" added to jedi-contract: Amazon files protest"),
        "{}",
        added.stdout
    );
    a.nj(&["sync"]).success();

    // The second device rechecks the first article, whose page changed.
    let b = Device::joined(&hub, &j, &at("11:00"));
    b.nj(&["sync"]).success();
    let recheck = b
        .at(&at("12:00"))
        .nj(&["--json", "recheck", "--story", "jedi"])
        .json();
    let status: Vec<(&str, &str)> = recheck
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["article_id"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(status.len(), 2, "{recheck}");
    assert!(status.contains(&(award.as_str(), "changed")), "{recheck}");
    assert_eq!(
        status.iter().filter(|(_, s)| *s == "unchanged").count(),
        1,
        "{recheck}"
    );
    b.nj(&["sync"]).success();

    // Before the pull, nothing in the story is new: the figures `nj
    // stories` keeps say so, and the pull must not leave them saying it.
    let before = json(&a.env, &["stories"]);
    assert_eq!(before[0]["changed"], false, "{before}");
    a.at(&at("13:00")).nj(&["sync"]).success();
    // `nj stories` marks the story: an article changed since it was shown.
    let stories = json(&a.env, &["stories"]);
    assert_eq!(stories[0]["changed"], true, "{stories}");
    assert_eq!(stories[0]["articles"], 2, "{stories}");
    let listed = a.nj(&["stories"]).success();
    assert!(
        listed.stdout.contains("jedi-contract *"),
        "{}",
        listed.stdout
    );
    let shown = json(&a.env, &["story", "show", "jedi"]);
    assert_eq!(json(&a.env, &["stories"])[0]["changed"], false);
    let article = a.nj(&["show", &award]).success().stdout;
    assert!(
        article.contains("\nstory      jedi-contract  JEDI contract\n"),
        "{article}"
    );
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        // At one time: an article, then notes, then follow-ups.
        [
            "article",
            "note",
            "followup_set",
            "article",
            "version",
            "followup_due"
        ],
        "{shown}"
    );
    let version = &shown["timeline"][4];
    assert_eq!(version["article_id"], award.as_str());
    assert_eq!(version["number"], 2);
    assert_eq!(version["words_removed"], 0);
    assert!(version["words_added"].as_u64().unwrap() > 20, "{version}");
    let text = a.nj(&["story", "show", "jedi"]).success().stdout;
    assert!(text.starts_with("JEDI contract\njedi-contract  "), "{text}");
    assert!(text.contains("  version 2: +"), "{text}");
    assert!(text.contains("note: Amazon says it will protest"), "{text}");
    assert!(text.contains("-- now --\n"), "{text}");
    let due = a.nj(&["--json", "due", "--as-of", "in 4 weeks"]).json();
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!(due[0]["text"], "check JEDI court outcome");
    assert_eq!(due[0]["story"], "jedi-contract");
    // The same on both devices.
    b.at(&at("13:05")).nj(&["sync"]).success();
    assert_eq!(
        json(&b.env, &["story", "show", "jedi"])["timeline"],
        shown["timeline"]
    );
}

/// A name that matches no story, or several, lists them; a story whose
/// name looks like an id is found by its name; an article in the bin is
/// not added.
#[test]
fn story_names_ids_and_the_bin() {
    let env = Env::new();
    env.nj(&["story", "new", "JEDI contract"]).success();
    env.nj(&["story", "new", "JEDI protest"]).success();
    env.nj(&["story", "new", "4f2a"]).success();
    let err = env.nj(&["story", "show", "jedi"]).failure();
    assert!(
        err.starts_with("nj: jedi matches 2 stories; use more characters:\n"),
        "{err}"
    );
    assert!(
        err.contains("jedi-contract  JEDI contract") && err.contains("jedi-protest  JEDI protest"),
        "{err}"
    );
    let err = env.nj(&["story", "show", "harbour"]).failure();
    assert!(
        err.starts_with("nj: no story is called harbour; `nj stories` lists them"),
        "{err}"
    );
    assert!(err.contains("jedi-contract  JEDI contract"), "{err}");
    let shown = json(&env, &["story", "show", "4f2a"]);
    assert_eq!(shown["story"]["title"], "4f2a");
    let shown = json(&env, &["story", "show", "jedi-p"]);
    assert_eq!(shown["story"]["title"], "JEDI protest");

    let a = env.clip_text("Harbour dredging\n\nThe council approved dredging.\n", &[]);
    env.nj(&["rm", &a]).success();
    let err = env.nj(&["story", "add", "jedi-contract", &a]).failure();
    assert!(err.contains("is in the bin; `nj restore"), "{err}");
    assert_eq!(
        json(&env, &["story", "show", "jedi-contract"])["timeline"],
        serde_json::json!([])
    );

    // Closed and binned stories leave the list, and come back.
    env.nj(&["story", "close", "jedi-contract"]).success();
    let open: Vec<String> = json(&env, &["stories"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!open.contains(&"jedi-contract".to_owned()), "{open:?}");
    assert_eq!(
        json(&env, &["stories", "--closed"])[0]["name"],
        "jedi-contract"
    );
    env.nj(&["story", "rm", "jedi-protest"]).success();
    assert_eq!(
        json(&env, &["stories", "--removed"])[0]["name"],
        "jedi-protest"
    );
    env.nj(&["story", "restore", "jedi-protest"]).success();
    env.nj(&["story", "reopen", "jedi-contract"]).success();
    assert_eq!(json(&env, &["stories"]).as_array().unwrap().len(), 3);
}

/// A story goes out in the JSON export (version 2) with its articles,
/// notes and follow-ups, and comes back whole.
#[test]
fn a_story_is_exported_and_imported() {
    let env = Env::new();
    let a = env.clip_text("Harbour dredging\n\nThe council approved dredging.\n", &[]);
    env.nj(&["story", "new", "Harbour works", &a]).success();
    env.nj(&["note", "--story", "harbour", "dredging starts in May"])
        .success();
    env.nj(&[
        "follow-up",
        "--story",
        "harbour",
        "check the start",
        "--due",
        "in 2 months",
    ])
    .success();
    let out = env.nj(&["export", "-o", "journal.json"]).success();
    assert!(out.stderr.contains(", in 1 story"), "{}", out.stderr);
    let file = std::fs::read_to_string(env.path("journal.json")).unwrap();
    assert!(
        file.starts_with("{\"format\":\"newsjournal\",\"version\":2,\n"),
        "{file}"
    );
    assert!(file.contains("\n\"stories\":[\n"), "{file}");
    let other = Env::new();
    other
        .nj(&["import", env.path("journal.json").to_str().unwrap()])
        .success();
    other.nj(&["export", "-o", "again.json"]).success();
    assert_eq!(
        std::fs::read_to_string(other.path("again.json")).unwrap(),
        file
    );
    let shown = json(&other, &["story", "show", "harbour"]);
    assert_eq!(shown["timeline"].as_array().unwrap().len(), 4, "{shown}");

    // The Markdown export: a file per story, its timeline linking to the
    // articles' files.
    let out = env
        .nj(&["export", "--format", "markdown", "-o", "md"])
        .success();
    assert!(
        out.stderr.contains("1 article and 1 story"),
        "{}",
        out.stderr
    );
    let story = std::fs::read_to_string(env.path("md/story-harbour-works.md")).unwrap();
    let article_file = format!("harbour-dredging-{}", &a[..8]);
    assert!(env.path(&format!("md/{article_file}.md")).exists());
    assert!(
        story.starts_with("---\ntitle: \"Harbour works\"\nstory: harbour-works\n"),
        "{story}"
    );
    assert!(
        story.contains(&format!(" [[{article_file}]] Harbour dredging\n")),
        "{story}"
    );
    assert!(story.contains(" note: dredging starts in May\n"), "{story}");
    assert!(
        story.contains(" follow-up set: check the start (due "),
        "{story}"
    );
}

/// `nj recheck --scheduled` fetches an article of an open story only
/// when its age says it is time, and says nothing when nothing is due.
#[test]
fn scheduled_rechecks_follow_the_articles_age() {
    let env = Env::new();
    let server = Server::start();
    server
        .route("/award", Reply::html(&text_page(AWARD)))
        .route("/protest", Reply::html(&text_page(PROTEST)));
    env.set_now("2026-03-02T09:00:00Z");
    // Clipped now, but put in the story only later.
    let protest = crate::util::article_id(&env.nj(&["--json", "clip", &server.url("/protest")]));
    env.nj(&["story", "new", "JEDI contract"]).success();
    env.nj(&["clip", &server.url("/award"), "--story", "jedi"])
        .success();
    let hits = || server.hits("/award");
    assert_eq!(hits(), 1);
    let scheduled = |now: &str| {
        env.set_now(now);
        let out = env.nj(&["recheck", "--scheduled"]).success();
        assert_eq!(out.stderr, "", "{now}");
        out.stdout
    };
    // Younger than a day: every 30 minutes.
    assert_eq!(
        scheduled("2026-03-02T09:10:00Z"),
        "",
        "nothing due yet prints nothing"
    );
    assert_eq!(hits(), 1);
    let out = scheduled("2026-03-02T09:31:00Z");
    assert!(out.starts_with("unchanged    "), "{out}");
    assert_eq!(hits(), 2);
    assert_eq!(scheduled("2026-03-02T09:50:00Z"), "");
    assert_eq!(hits(), 2);
    // That run noted when the next check can be due (10:01); an article
    // put in the story since is not held to it: clipped at 09:00 and
    // never checked, it is due at once.
    env.set_now("2026-03-02T09:55:00Z");
    env.nj(&["story", "add", "jedi", &protest]).success();
    let out = scheduled("2026-03-02T09:56:00Z");
    assert!(
        out.contains(&protest[..8]) && !out.contains("Pentagon awards"),
        "{out}"
    );
    assert_eq!(server.hits("/protest"), 2);
    assert_eq!(hits(), 2);
    // Two days old: every 2 hours.
    scheduled("2026-03-04T09:00:00Z");
    assert_eq!(hits(), 3);
    scheduled("2026-03-04T10:30:00Z");
    assert_eq!(hits(), 3);
    scheduled("2026-03-04T11:01:00Z");
    assert_eq!(hits(), 4);
    // Two months old: weekly.
    scheduled("2026-05-02T09:00:00Z");
    assert_eq!(hits(), 5);
    scheduled("2026-05-08T09:00:00Z");
    assert_eq!(hits(), 5);
    scheduled("2026-05-09T09:01:00Z");
    assert_eq!(hits(), 6);
    // A closed story's articles are not rechecked on a schedule.
    env.nj(&["story", "close", "jedi"]).success();
    scheduled("2026-06-09T09:00:00Z");
    assert_eq!(hits(), 6);
    let none = env.nj(&["--json", "recheck", "--scheduled"]).json();
    assert_eq!(none, serde_json::json!([]));
}

/// `nj stories` stores the figures it works out, but never waits for
/// another nj's write to do so: while another holds the journal (a sync,
/// an import), it works them out for the listing alone, and stores them
/// at a later run.
#[test]
fn nj_stories_does_not_wait_for_another_writer() {
    let env = Env::new();
    let id = env.clip_text(
        "Tram depot plan\n\nThe council approved the tram depot on the old goods yard.",
        &[],
    );
    env.nj(&["story", "new", "Tram depot", &id]).success();
    let figures = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM story_figures", [], |r| r.get(0))
            .unwrap()
    };
    let db = rusqlite::Connection::open(env.db()).unwrap();
    db.execute("DELETE FROM story_figures", []).unwrap();
    // Another writer holds the journal.
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let listed = json(&env, &["stories"]);
    // Well under the 15 s a write waits for another.
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    assert_eq!(listed[0]["name"], "tram-depot", "{listed}");
    assert_eq!(listed[0]["articles"], 1, "{listed}");
    db.execute_batch("COMMIT").unwrap();
    assert_eq!(figures(&db), 0, "stored while another wrote");
    assert_eq!(json(&env, &["stories"]), listed);
    assert_eq!(figures(&db), 1);
}
