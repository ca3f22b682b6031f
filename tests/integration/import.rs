//! `nj import` of newsjournal JSON: an export comes back as the same
//! journal (byte-identical re-export), a re-import adds nothing twice, a
//! malformed item is rejected with its reason while the rest import, a file
//! cut off imports nothing, and an import with sync on reaches another
//! device.

use serde_json::{json, Value};

use crate::util::{column, short, Env, NjServe};

/// A journal with a bit of everything: a non-ASCII title, URLs, tags, two
/// versions, notes, an article in the bin, follow-ups open, done and
/// repeating, and free-standing notes and follow-ups.
fn rich_journal(env: &Env) -> Vec<String> {
    env.set_now("2026-11-20T10:00:00Z");
    let bridge = env.clip_text(
        "Über die Brücke: 東京 \"quoted\" & <b>not html</b>\n\nDer Bau der Brücke wird teurer.\n",
        &[
            "--url",
            "https://news.example/bruecke?id=7",
            "-t",
            "Bau",
            "-t",
            "stadt rat",
            "-n",
            "Frag den Rat, warum",
        ],
    );
    env.set_now("2026-11-21T08:30:00.250Z");
    // The same URL with a changed text: a second version.
    env.clip_text(
        "Über die Brücke: 東京 \"quoted\" & <b>not html</b>\n\nDer Bau der Brücke wird noch teurer.\n",
        &["--url", "https://news.example/bruecke?id=7"],
    );
    let port = env.clip_text(
        "Port dredging delayed\n\nThe contract was postponed again.\n",
        &["--url", "https://port.example/dredging", "-t", "port"],
    );
    env.set_now("2026-11-21T08:45:00Z");
    let binned = env.clip_text("A story removed later\n\nIt was wrong.\n", &[]);
    env.nj(&["rm", &binned]).success();
    env.set_now("2026-11-22T09:00:00Z");
    env.nj(&["note", &port, "Second note,\nover two lines"])
        .success();
    env.nj(&["jot", "A journal note of my own"]).success();
    env.follow_up(&[&bridge, "Check the council vote", "--due", "2026-12-01"]);
    let weekly = env.follow_up(&[
        &port,
        "Look at the dredger",
        "--due",
        "2026-11-23",
        "--every",
        "1w",
    ]);
    let done = env.follow_up(&["Call the harbour office", "--due", "2026-11-24"]);
    env.set_now("2026-11-25T09:00:00Z");
    env.nj(&["done", weekly["id"].as_str().unwrap()]).success();
    env.nj(&["done", done["id"].as_str().unwrap()]).success();
    vec![bridge, port, binned]
}

fn export(env: &Env) -> Vec<u8> {
    env.nj(&["export", "--format", "json"])
        .success()
        .stdout_bytes
}

#[test]
fn an_export_imported_into_an_empty_journal_exports_byte_identical() {
    let a = Env::new();
    let ids = rich_journal(&a);
    let first = export(&a);
    let file = a.write("journal.json", &first);

    let b = Env::new();
    b.set_now("2026-11-26T12:00:00Z");
    let out = b.nj(&["import", file.to_str().unwrap()]).success();
    assert_eq!(
        out.stdout,
        format!(
            "imported {} (newsjournal JSON): 5 added, 0 updated, 0 skipped (duplicate), 0 rejected\n",
            file.display()
        )
    );
    assert_eq!(out.stderr, "");
    let second = export(&b);
    assert!(
        first == second,
        "the re-export differs:\n{}\n---\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );

    // What the user sees is the same journal too.
    assert_eq!(a.list_json(), b.list_json());
    for id in &ids {
        assert_eq!(
            a.nj(&["--json", "show", id]).json(),
            b.nj(&["--json", "show", id]).json()
        );
    }
    assert_eq!(a.followups_json(), b.followups_json());
    assert_eq!(
        a.nj(&["--json", "versions", &ids[0]]).json(),
        b.nj(&["--json", "versions", &ids[0]]).json()
    );
    // The texts, notes and tags are searchable, and the index is sound.
    let hits = |word: &str| -> Vec<Value> {
        let v = b.nj(&["--json", "search", word]).json();
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| h["article"]["id"].clone())
            .collect()
    };
    assert_eq!(hits("brücke"), vec![json!(ids[0])]);
    assert_eq!(hits("lines"), vec![json!(ids[1])]);
    assert_eq!(hits("stadt-rat"), vec![json!(ids[0])]);
    b.nj(&["verify"]).success();

    // A second import of the same file adds nothing.
    let out = b.nj(&["import", file.to_str().unwrap()]).success();
    assert!(
        out.stdout
            .ends_with(": 0 added, 0 updated, 5 skipped (duplicate), 0 rejected\n"),
        "{}",
        out.stdout
    );
    assert!(export(&b) == first);
}

#[test]
fn an_export_holds_every_field_with_times_to_the_millisecond() {
    let env = Env::new();
    let ids = rich_journal(&env);
    let v: Value = serde_json::from_slice(&export(&env)).unwrap();
    assert_eq!(v["format"], "newsjournal");
    assert_eq!(v["version"], 1);
    let articles = v["articles"].as_array().unwrap();
    assert_eq!(column(&v["articles"], "id"), ids);
    let bridge = &articles[0];
    assert_eq!(
        bridge["title"],
        "Über die Brücke: 東京 \"quoted\" & <b>not html</b>"
    );
    assert_eq!(bridge["url"], "https://news.example/bruecke?id=7");
    assert_eq!(bridge["clipped_at"], "2026-11-20T10:00:00.000Z");
    assert_eq!(bridge["updated_at"], "2026-11-21T08:30:00.250Z");
    assert_eq!(
        bridge["tags"],
        json!([
            {"tag": "bau", "created_at": "2026-11-20T10:00:00.000Z"},
            {"tag": "stadt-rat", "created_at": "2026-11-20T10:00:00.000Z"},
        ])
    );
    let versions = bridge["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["created_at"], "2026-11-21T08:30:00.250Z");
    assert_eq!(bridge["content_hash"], versions[1]["hash"]);
    assert_eq!(
        versions[1]["text"],
        "Über die Brücke: 東京 \"quoted\" & <b>not html</b>\n\nDer Bau der Brücke wird noch teurer.\n"
    );
    assert_eq!(bridge["notes"][0]["body"], "Frag den Rat, warum");
    assert_eq!(bridge["followups"][0]["text"], "Check the council vote");
    assert_eq!(bridge["followups"][0]["status"], "open");
    let weekly = &articles[1]["followups"][0];
    assert_eq!(weekly["every"], "1w");
    assert_eq!(weekly["status"], "open");
    assert_eq!(weekly["done_at"], "2026-11-25T09:00:00.000Z");
    assert_eq!(articles[2]["deleted_at"], "2026-11-21T08:45:00.000Z");
    assert_eq!(v["notes"][0]["body"], "A journal note of my own");
    assert_eq!(v["followups"][0]["status"], "done");
    assert_eq!(v["followups"][0]["done_at"], "2026-11-25T09:00:00.000Z");

    // One record a line, and -o writes the same bytes to a file.
    let text = String::from_utf8(export(&env)).unwrap();
    assert!(
        text.starts_with("{\"format\":\"newsjournal\",\"version\":1,\n\"articles\":[\n{\"id\":")
    );
    // Two header lines, three articles, two lines opening the notes, one
    // note, two opening the follow-ups, one follow-up, the end.
    assert_eq!(text.lines().count(), 2 + 3 + 2 + 1 + 2 + 1 + 1);
    let out = env.nj(&["export", "-o", "out.json"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "exported 2 articles, 3 notes and 3 follow-ups, and from the bin 1 article to out.json\n"
    );
    assert_eq!(std::fs::read_to_string(env.path("out.json")).unwrap(), text);
}

#[test]
fn importing_into_a_journal_that_has_some_of_it_counts_added_updated_and_duplicates() {
    let a = Env::new();
    let ids = rich_journal(&a);
    let b = Env::new();
    b.set_now("2026-11-26T12:00:00Z");
    // b clipped the port story itself (another id, same text), and has a
    // story of its own.
    let own_port = b.clip_text(
        "Port dredging delayed\n\nThe contract was postponed again.\n",
        &[],
    );
    let own = b.clip_text("Only in b\n\nNothing else.\n", &[]);
    let file = a.write("a.json", export(&a));
    let out = b.nj(&["import", file.to_str().unwrap()]).success();
    // Added: the bridge story, the binned one, the free note and follow-up.
    // Updated: b's port story gets a's URL, tag, notes and follow-up.
    assert!(
        out.stdout
            .ends_with(": 4 added, 1 updated, 0 skipped (duplicate), 0 rejected\n"),
        "{}",
        out.stdout
    );
    let list = b.list_json();
    let mut listed = column(&list, "id");
    listed.sort();
    let mut expected = vec![ids[0].clone(), own_port.clone(), own.clone()];
    expected.sort();
    assert_eq!(listed, expected, "the port story is not there twice");
    let port = b.nj(&["--json", "show", &own_port]).json();
    assert_eq!(port["tags"], json!(["port"]));
    assert_eq!(port["notes"][0]["text"], "Second note,\nover two lines");
    assert_eq!(port["url"], "https://port.example/dredging");
    assert_eq!(port["followups"][0]["text"], "Look at the dredger");
    // Running it again changes nothing.
    let out = b.nj(&["import", file.to_str().unwrap()]).success();
    assert!(
        out.stdout
            .ends_with(": 0 added, 0 updated, 5 skipped (duplicate), 0 rejected\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_malformed_item_is_rejected_with_its_reason_and_the_rest_import() {
    let a = Env::new();
    let ids = rich_journal(&a);
    let mut v: Value = serde_json::from_slice(&export(&a)).unwrap();
    v["articles"][0].as_object_mut().unwrap().remove("title");
    v["articles"][1]["versions"][0]["text"] = json!("Port dredging delayed\n\nChanged.\n");
    v["followups"][0]["status"] = json!("maybe");
    // serde_json writes the keys sorted: "format" is no longer first, so
    // the format is named.
    let file = a.write("bad.json", serde_json::to_vec(&v).unwrap());

    let b = Env::new();
    let out = b
        .nj(&["import", "--format", "newsjournal", file.to_str().unwrap()])
        .success();
    assert!(
        out.stdout
            .ends_with(": 2 added, 0 updated, 0 skipped (duplicate), 3 rejected\n"),
        "{}",
        out.stdout
    );
    let hash = v["articles"][1]["versions"][0]["hash"].as_str().unwrap();
    let version = v["articles"][1]["versions"][0]["id"].as_str().unwrap();
    let followup = v["followups"][0]["id"].as_str().unwrap();
    assert_eq!(
        out.stderr,
        format!(
            "rejected article 1 ({}): missing field `title`\n\
             rejected article 2 ({}): the text of version {version} does not match its hash {hash} (it hashes to {}); the file was changed or damaged\n\
             rejected follow-up 1 ({}): follow-up {followup} has status \"maybe\"; it must be \"open\" or \"done\"\n",
            short(&ids[0]),
            short(&ids[1]),
            newsjournal::content::Content::new("Port dredging delayed\n\nChanged.\n").hash,
            short(followup),
        )
    );
    assert_eq!(column(&b.list_json(), "id"), Vec::<String>::new());
    let all = b
        .nj(&["--json", "list", "--limit", "0", "--removed"])
        .json();
    assert_eq!(column(&all, "id"), vec![ids[2].clone()]);
    assert_eq!(
        b.nj(&["--json", "notes"]).json()[0]["text"],
        "A journal note of my own"
    );

    // --json gives the same report as data.
    let c = Env::new();
    let v = c
        .nj(&[
            "--json",
            "import",
            "--format",
            "newsjournal",
            file.to_str().unwrap(),
        ])
        .json();
    assert_eq!(v["added"], 2);
    assert_eq!(v["rejected"][0]["item"], "article 1");
    assert_eq!(v["rejected"][0]["reason"], "missing field `title`");
}

#[test]
fn a_file_cut_off_imports_nothing_and_says_what_to_do() {
    let a = Env::new();
    rich_journal(&a);
    let whole = export(&a);
    let file = a.write("cut.json", &whole[..whole.len() * 2 / 3]);

    let b = Env::new();
    let mine = b.clip_text("Mine\n\nAlready here.\n", &[]);
    let before = b.list_json();
    let err = b.nj(&["import", file.to_str().unwrap()]).failure();
    assert!(
        err.starts_with(&format!("nj: {} ends too early (EOF while parsing", file.display()))
            && err.ends_with("): it is cut off, so nothing was imported; export it again, or check that it was copied whole\n"),
        "{err}"
    );
    assert_eq!(b.list_json(), before);
    assert_eq!(column(&before, "id"), vec![mine]);
    assert_eq!(b.nj(&["--json", "notes"]).json(), json!([]));

    // Not JSON at all, and JSON of another kind.
    let file = a.write("notes.txt", "just some notes\n");
    let err = b.nj(&["import", file.to_str().unwrap()]).failure();
    assert_eq!(
        err,
        format!("nj: cannot tell what kind of file {} is; nj imports newsjournal JSON, Pocket (ZIP, CSV or ril_export.html), Netscape bookmark HTML, wallabag JSON, Instapaper CSV and Omnivore ZIP: pass --format if it is one of them\n", file.display())
    );
    let file = a.write("other.json", "{\"format\": \"pocket\", \"articles\": []}");
    let err = b
        .nj(&["import", "--format", "newsjournal", file.to_str().unwrap()])
        .failure();
    assert_eq!(
        err,
        format!("nj: cannot import {}: the file's format is \"pocket\", not \"newsjournal\"; pass the --format it is in; nothing was imported\n", file.display())
    );
    let file = a.write(
        "newer.json",
        "{\"format\": \"newsjournal\", \"version\": 3, \"articles\": []}",
    );
    let err = b.nj(&["import", file.to_str().unwrap()]).failure();
    assert!(err.contains("is newsjournal JSON version 3, and this nj reads up to version 2; upgrade nj to import it"), "{err}");
    assert_eq!(b.list_json(), before);
}

#[test]
fn an_import_with_sync_on_reaches_another_device() {
    let hub = Env::new();
    let server = NjServe::start(&hub, &[]);
    let (journal, token) = server.new_journal(&hub);
    let key = newsjournal::sync::crypto::JournalKey::generate().to_recovery();
    let remote = |env: &Env, token: &str| {
        env.set_now("2026-03-02T10:00:00Z");
        env.nj(&[
            "remote",
            "set",
            &server.url(""),
            "--token",
            token,
            "--key",
            &key,
        ])
        .success();
    };

    let source = Env::new();
    rich_journal(&source);
    let file = source.write("j.json", export(&source));

    let a = Env::new();
    remote(&a, &token);
    a.set_now("2026-03-02T10:01:00Z");
    a.nj(&["import", file.to_str().unwrap()]).success();
    a.nj(&["sync"]).success();

    let b = Env::new();
    remote(&b, &server.new_token(&hub, &journal));
    b.set_now("2026-03-02T10:02:00Z");
    b.nj(&["sync"]).success();
    // Every article, text, note, tag and follow-up arrived with its id.
    let ids = |env: &Env| -> Value {
        let v: Value = serde_json::from_slice(&export(env)).unwrap();
        let strip = |list: &Value| -> Value {
            list.as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    json!({
                        "id": a["id"],
                        "content_hash": a["content_hash"],
                        "tags": a["tags"].as_array().map(|t| t.iter().map(|t| t["tag"].clone()).collect::<Vec<_>>()),
                        "versions": a["versions"].as_array().map(|t| t.iter().map(|t| (t["id"].clone(), t["text"].clone())).collect::<Vec<_>>()),
                        "notes": a["notes"].as_array().map(|t| t.iter().map(|t| (t["id"].clone(), t["body"].clone())).collect::<Vec<_>>()),
                        "followups": a["followups"].as_array().map(|t| t.iter().map(|t| (t["id"].clone(), t["status"].clone(), t["due_at"].clone())).collect::<Vec<_>>()),
                        "text": a["text"],
                        "body": a["body"],
                    })
                })
                .collect()
        };
        json!([
            strip(&v["articles"]),
            strip(&v["notes"]),
            strip(&v["followups"])
        ])
    };
    assert_eq!(ids(&b), ids(&source));
    assert_eq!(b.list_json().as_array().unwrap().len(), 2);
}
