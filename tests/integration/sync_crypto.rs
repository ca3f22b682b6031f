//! End-to-end encryption through the real `nj serve`: what the server's
//! files hold after devices sync (no title, text, URL, tag, note or content
//! hash), that a device with another key is refused before it pushes
//! anything, that an operation or text altered, swapped or moved to another
//! journal on the server is skipped and never applied, and the `nj key`
//! commands.
//!
//! The server is tampered with as someone with its disk could: stopped,
//! its `server.db` edited with rusqlite, and started again on the same data
//! folder. Devices run at fixed times (NJ_NOW) on 2026-03-02, in the past of
//! any machine that runs these tests, because the server refuses stamps more
//! than 5 minutes ahead of its real clock.

use std::path::Path;

use newsjournal::sync::crypto::JournalKey;
use serde_json::{json, Value};

use crate::util::{
    at, column, column_of_strings, creates, flip_middle, skipped_line, summary, Device, Hub,
    Journal,
};

// ---------------------------------------------------------------------------
// A journal with something of every kind, each holding its own marker word.

const LONG_TITLE: &str = "The Zorblaxquin harbour deal";
/// Over 256 bytes, so the journal stores it compressed.
const LONG: &str = "The port authority signed the Vemtrapulous agreement on Monday after three years of talks with the shipping companies.

Under the agreement the harbour will be dredged to sixteen metres, two new berths will open by the spring, and the old grain terminal will become a public park with a ferry stop.

Critics say the cost estimates leave out the rail link, which the city has promised but not yet paid for.";
const LONG_URL: &str = "https://news.example/plimbrathex-harbour";
const TAG: &str = "grumvetisk";
const NOTE: &str = "Snarfelbloop: check the dredging figures";
const SHORT_TITLE: &str = "Tazzlewump chess";
/// Under 256 bytes, so the journal stores it as it is.
const SHORT: &str = "Quildrensop wins the county chess final.";
const FOLLOW_UP: &str = "Ask about the Wibblecrantz rail link";
const JOT: &str = "Frobnoskel: a note on no article";

/// One marker word per field above, none in any other.
const MARKERS: [&str; 9] = [
    "zorblaxquin",
    "vemtrapulous",
    "plimbrathex",
    "grumvetisk",
    "snarfelbloop",
    "tazzlewump",
    "quildrensop",
    "wibblecrantz",
    "frobnoskel",
];

/// A journal on the hub that device A filled and synced.
struct Story {
    journal: Journal,
    a: Device,
    long: String,
    short: String,
}

/// A clips a long article (with URL, tag and note) and a short one, adds
/// a follow-up and a free note, and syncs: nine operations and two texts.
fn story(hub: &Hub) -> Story {
    let (a, journal) = Device::first(hub, &hub.new_journal(), &at("09:00"));
    let long = a.clip(
        LONG,
        &[
            "--title", LONG_TITLE, "--url", LONG_URL, "-t", TAG, "-n", NOTE,
        ],
    );
    let short = a.at(&at("09:01")).clip(SHORT, &["--title", SHORT_TITLE]);
    a.at(&at("09:02"))
        .env
        .follow_up(&[&long, FOLLOW_UP, "--due", "2026-03-09"]);
    a.at(&at("09:03")).nj(&["jot", JOT]).success();
    assert_eq!(a.at(&at("09:10")).sync_quiet(), summary(9, 0, 2, 0));
    Story {
        journal,
        a,
        long,
        short,
    }
}

/// `state` as it is without follow-ups.
fn without_followups(mut state: Value) -> Value {
    state["followups"] = json!([]);
    for article in state["articles"].as_array_mut().unwrap() {
        article["followups"] = json!([]);
    }
    state
}

/// `state` as it is without free notes (notes on no article).
fn without_free_notes(mut state: Value) -> Value {
    state["notes"]
        .as_array_mut()
        .unwrap()
        .retain(|n| !n["article_id"].is_null());
    state
}

/// Every needle found in any file under `dir`, as `file: needle`. Bytes
/// are compared with ASCII letters folded to lower case.
fn find_in_files(dir: &Path, needles: &[(impl AsRef<str>, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap().to_ascii_lowercase();
            for (name, needle) in needles {
                let needle = needle.to_ascii_lowercase();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    let file = path.strip_prefix(dir).unwrap().display();
                    found.push(format!("{file}: {}", name.as_ref()));
                }
            }
        }
    }
    found.sort();
    found
}

/// The needles that give away a text's content hash: its hex digits and
/// its 32 bytes.
fn hash_needles(hash: &str) -> Vec<(String, Vec<u8>)> {
    let hex = hash.strip_prefix("sha256:").unwrap();
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    vec![
        (format!("{hash} (hex)"), hex.as_bytes().to_vec()),
        (format!("{hash} (bytes)"), raw),
    ]
}

#[test]
fn the_server_holds_no_plaintext_and_no_content_hash() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let b = Device::joined(&hub, &s.journal, &at("09:20"));
    assert_eq!(b.sync_quiet(), summary(0, 9, 0, 2));

    // B has it all, as A has it.
    let long_hash = s.a.show(&s.long)["content_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let short_hash = s.a.show(&s.short)["content_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(b.show(&s.long)["content_hash"], json!(long_hash));
    assert_eq!(b.show(&s.short)["content_hash"], json!(short_hash));
    assert_eq!(
        b.nj(&["show", &s.long, "--text"]).success().stdout,
        format!("{LONG}\n")
    );
    assert_eq!(b.search("vemtrapulous"), vec![s.long.clone()]);
    assert_eq!(b.search("quildrensop"), vec![s.short.clone()]);
    assert_eq!(b.state(), s.a.state());
    b.verify(2, 2);

    let log = hub.stop();
    let data = hub.data();
    let mut needles: Vec<(String, Vec<u8>)> = MARKERS
        .iter()
        .map(|m| (m.to_string(), m.as_bytes().to_vec()))
        .collect();
    needles.extend(hash_needles(&long_hash));
    needles.extend(hash_needles(&short_hash));
    assert_eq!(find_in_files(data, &needles), Vec::<String>::new());
    for (name, needle) in &needles {
        let text = String::from_utf8_lossy(needle).to_ascii_lowercase();
        assert!(
            !log.to_ascii_lowercase().contains(&text),
            "the server logged {name}"
        );
    }

    // The scan does find what is there: the journal id in the server's
    // files, and the marker words in A's journal.
    let found = find_in_files(data, &[("journal", s.journal.id.as_bytes().to_vec())]);
    assert!(
        found.iter().any(|f| f.starts_with("server.db")),
        "the journal id is not in server.db: {found:?}"
    );
    let on_a = find_in_files(
        s.a.env.root(),
        &[
            ("title", b"zorblaxquin".to_vec()),
            ("hash", long_hash.as_bytes().to_vec()),
        ],
    );
    assert_eq!(
        on_a,
        vec![
            "journal.db: hash".to_owned(),
            "journal.db: title".to_owned()
        ]
    );
}

#[test]
fn a_device_with_another_key_is_refused_before_it_pushes_anything() {
    let hub = Hub::start();
    let s = story(&hub);
    // C joins with the right key, then takes another journal's key (`nj
    // remote set` would refuse a wrong key; `nj key import` cannot ask).
    let c = Device::joined(&hub, &s.journal, &at("09:30"));
    let (_, other) = Device::first(&hub, &hub.new_journal(), &at("09:30"));
    assert_ne!(other.key, s.journal.key);
    c.nj(&["key", "import", &other.key]).success();
    let own = c.at(&at("09:31")).clip(
        "Ostrelline bridge reopens\n\nThe bridge reopened on Tuesday.",
        &[],
    );
    let url = hub.url();
    let err = c.at(&at("09:32")).nj(&["sync"]).failure();
    assert_eq!(
        err,
        format!("nj: sync with {url}: this device's key is not the key the journal on the server is encrypted with; bring the right key here with `nj key import` (print it with `nj key show` on a device that already syncs)\n")
    );
    // Nothing of C's reached the server, and C still has it all to push.
    let devices: Vec<String> = hub
        .ops(&s.journal.id)
        .into_iter()
        .map(|op| op.device)
        .collect();
    assert_ne!(c.device_id(), s.a.device_id());
    assert_eq!(devices, vec![s.a.device_id(); 9]);
    assert_eq!(hub.blob_ids(&s.journal.id).len(), 2);
    assert_eq!(
        c.nj(&["--json", "sync", "status"]).json()["pending"],
        json!(2)
    );

    // With A's key, C pushes its own and gets A's.
    assert_eq!(
        c.nj(&["key", "import", &s.journal.key]).success().stdout,
        "imported the journal key; run `nj sync`\n"
    );
    assert_eq!(c.key(), s.journal.key);
    assert_eq!(c.at(&at("09:40")).sync_quiet(), summary(2, 9, 1, 2));
    assert_eq!(
        c.nj(&["show", &s.long, "--text"]).success().stdout,
        format!("{LONG}\n")
    );
    assert_eq!(
        c.show(&s.long)["content_hash"],
        s.a.show(&s.long)["content_hash"]
    );
    assert_eq!(s.a.at(&at("09:41")).sync_quiet(), summary(0, 2, 0, 1));
    assert_eq!(s.a.show(&own)["title"], json!("Ostrelline bridge reopens"));
    assert_eq!(c.state(), s.a.state());
}

#[test]
fn an_operation_with_one_flipped_byte_is_skipped_and_the_rest_arrives() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let followup = hub.op_where(&s.journal, creates("followup"));
    hub.tamper(|db| {
        let flipped = flip_middle(followup.payload.clone());
        db.set_payload(&s.journal.id, followup.pos, &flipped);
    });

    let b = Device::joined(&hub, &s.journal, &at("10:00"));
    assert_eq!(b.sync_skipping(1), summary(0, 8, 0, 2).skipped(1));
    assert_eq!(b.nj(&["--json", "follow-ups"]).json(), json!([]));
    assert_eq!(b.state(), without_followups(s.a.state()));
    b.verify(2, 2);
}

#[test]
fn two_operations_with_swapped_payloads_are_both_skipped() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let followup = hub.op_where(&s.journal, creates("followup"));
    let jot = hub.op_where(&s.journal, |op| {
        creates("note")(op) && op["fields"]["body"] == JOT
    });
    hub.tamper(|db| {
        db.set_payload(&s.journal.id, followup.pos, &jot.payload);
        db.set_payload(&s.journal.id, jot.pos, &followup.payload);
    });

    let b = Device::joined(&hub, &s.journal, &at("10:00"));
    assert_eq!(b.sync_skipping(2), summary(0, 7, 0, 2).skipped(2));
    assert_eq!(b.nj(&["--json", "follow-ups"]).json(), json!([]));
    assert_eq!(
        b.nj(&["--json", "notes", "--free"]).json(),
        json!([]),
        "the free note was applied"
    );
    assert_eq!(
        b.state(),
        without_free_notes(without_followups(s.a.state()))
    );
    b.verify(2, 2);
}

/// Two journals on one server, each with a device that clipped an article
/// with a note (with its own key, or both with one key), after the server
/// swapped the notes' operations between them: each journal's fresh
/// device skips the other's and applies the rest.
fn operations_moved_between_journals(same_key: bool) {
    let mut hub = Hub::start();
    let (j1, j2) = (hub.new_journal(), hub.new_journal());
    let (a1, j1) = Device::first(&hub, &j1, &at("09:00"));
    let (a2, j2) = if same_key {
        let j2 = Journal {
            id: j2,
            key: j1.key.clone(),
        };
        (Device::joined(&hub, &j2, &at("09:00")), j2)
    } else {
        Device::first(&hub, &j2, &at("09:00"))
    };
    assert_eq!(j1.key == j2.key, same_key);
    let clip = |d: &Device, word: &str| {
        let id = d.clip(
            &format!("{word} report\n\nWhat the {word} committee found."),
            &["-n", &format!("{word} note")],
        );
        assert_eq!(d.at(&at("09:05")).sync_quiet(), summary(3, 0, 1, 0));
        id
    };
    let (id1, id2) = (clip(&a1, "Alpha"), clip(&a2, "Beta"));
    let (n1, n2) = (
        hub.op_where(&j1, creates("note")),
        hub.op_where(&j2, creates("note")),
    );
    assert_eq!(n1.pos, n2.pos);
    let (full1, full2) = (a1.state(), a2.state());

    hub.tamper(|db| {
        if same_key {
            // The whole operations change journals: with one key, only
            // the journal id sealed into each tells them apart.
            // J1's goes to J2 out of the way (at -pos) first.
            let p = n1.pos;
            db.move_op(&j1.id, p, &j2.id, -p);
            db.move_op(&j2.id, p, &j1.id, p);
            db.move_op(&j2.id, -p, &j2.id, p);
        } else {
            db.set_payload(&j1.id, n1.pos, &n2.payload);
            db.set_payload(&j2.id, n2.pos, &n1.payload);
        }
    });
    if same_key {
        assert_eq!(hub.ops(&j1.id)[n1.pos as usize - 1].device, n2.device);
    }

    for (journal, id, full) in [(&j1, &id1, &full1), (&j2, &id2, &full2)] {
        let b = Device::joined(&hub, journal, &at("10:00"));
        assert_eq!(b.sync_skipping(1), summary(0, 2, 0, 1).skipped(1));
        assert_eq!(b.nj(&["--json", "notes"]).json(), json!([]));
        let mut expected = full.clone();
        expected["notes"] = json!([]);
        expected["articles"][0]["notes"] = json!([]);
        assert_eq!(b.state(), expected);
        assert_eq!(column(&b.state()["list"], "id"), vec![id.clone()]);
        b.verify(1, 1);
    }
}

#[test]
fn operations_swapped_between_journals_with_their_own_keys_are_skipped() {
    operations_moved_between_journals(false);
}

#[test]
fn operations_moved_between_journals_with_one_key_are_skipped() {
    operations_moved_between_journals(true);
}

#[test]
fn a_text_with_one_flipped_byte_is_skipped_and_nothing_corrupt_is_stored() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let long_hash = s.a.show(&s.long)["content_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let blob = JournalKey::from_recovery(&s.journal.key)
        .unwrap()
        .sync_keys()
        .blob_id(&long_hash);
    assert!(hub.blob_ids(&s.journal.id).contains(&blob));
    hub.tamper(|db| {
        let data = db.blob(&s.journal.id, &blob);
        db.set_blob(&s.journal.id, &blob, &flip_middle(data));
    });

    let got = all_but_the_long_article(&hub, &s);
    let skipped = got["skipped"].as_u64().unwrap() as usize;
    assert_eq!(got, summary(0, 9 - skipped, 0, 1).skipped(skipped));
}

/// The article's creation is what another device cannot open: the
/// operations that name the article must not stop the rest from arriving.
/// They did: applying them failed on the missing article ("journal
/// database error: FOREIGN KEY constraint failed"), so the whole page was
/// refused, every later sync failed the same way, and the device never
/// received anything.
#[test]
fn an_article_whose_creation_was_altered_does_not_stop_the_rest_arriving() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let article = hub.op_where(&s.journal, |op| {
        creates("article")(op) && op["fields"]["title"] == LONG_TITLE
    });
    hub.tamper(|db| {
        let flipped = flip_middle(article.payload.clone());
        db.set_payload(&s.journal.id, article.pos, &flipped);
    });
    all_but_the_long_article(&hub, &s);
}

/// A fresh device of the story's journal syncs after the server altered
/// part of the long article: the sync must succeed and say how many
/// operations it skipped, everything but the long article must arrive as
/// it is on A, and nothing corrupt may be stored. Its summary.
#[track_caller]
fn all_but_the_long_article(hub: &Hub, s: &Story) -> Value {
    let b = Device::joined(hub, &s.journal, &at("10:00"));
    let out = b.nj(&["--json", "sync"]).success();
    let got: Value = serde_json::from_str(&out.stdout).unwrap();
    let skipped = got["skipped"].as_u64().unwrap() as usize;
    assert!(skipped >= 1, "{got}");
    assert_eq!(got["pulled"], json!(9 - skipped), "{got}");
    // An altered operation is named; the ones that needed its article,
    // or a text that failed, are counted only.
    let named = got
        .get("unreadable")
        .map(column_of_strings)
        .unwrap_or_default();
    assert!(named.len() <= 1, "{got}");
    let mut expected = skipped_line(skipped);
    if let Some(one) = named.first() {
        expected.push_str(&format!(
            "nj: the ones that did not open: {one}; whoever runs the server can list them with \
             `nj server ops --journal JID --bad` and remove each with `nj server remove-op --journal JID {one}`\n"
        ));
    }
    assert_eq!(out.stderr, expected);

    assert_eq!(column(&b.env.list_json(), "id"), vec![s.short.clone()]);
    assert_eq!(b.show(&s.short), s.a.show(&s.short));
    assert_eq!(
        b.nj(&["show", &s.short, "--text"]).success().stdout,
        format!("{SHORT}\n")
    );
    let free = ["--json", "notes", "--free"];
    assert_eq!(b.nj(&free).json(), s.a.nj(&free).json());
    // The follow-up was on the long article.
    assert_eq!(b.env.followups_json(), json!([]));
    assert_eq!(b.search("vemtrapulous"), Vec::<String>::new());
    let text = b.nj(&["show", &s.long, "--text"]);
    assert_ne!(
        text.code,
        Some(0),
        "the long text is shown:\n{}",
        text.stdout
    );
    let verified = b.nj(&["verify"]).success().stdout;
    assert!(
        verified
            .ends_with(" of 1 article: every hash matches, every article agrees with its versions, and the search index is sound\n"),
        "{verified}"
    );
    got
}

#[test]
fn the_key_is_shown_wrapped_under_a_passphrase_and_unwrapped_again() {
    let hub = Hub::start();
    let (a, journal) = Device::first(&hub, &hub.new_journal(), &at("09:00"));
    let key = journal.key.clone();
    assert!(key.starts_with("nj1-"), "{key}");
    assert_eq!(a.key(), key);
    let stored = || -> String {
        a.env
            .sqlite()
            .query_row("SELECT value FROM meta WHERE key = 'sync_key'", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(stored(), key);

    // Garbage and a typo are refused, and the key stays as it was.
    assert_eq!(
        a.nj(&["key", "import", "garbage"]).failure(),
        "nj: this is not a newsjournal key: a key starts with nj1-; `nj key show` prints it\n"
    );
    let last = key.chars().last().unwrap();
    let typo = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    let err = a.nj(&["key", "import", &typo]).failure();
    assert!(err.starts_with("nj: the key has"), "{err}");
    assert!(err.ends_with("copy it again from `nj key show`\n"), "{err}");
    assert_eq!(stored(), key);
    assert_eq!(a.key(), key);

    // Issue 16, bug 6: without a terminal or NJ_PASSPHRASE, setting a
    // passphrase said the key "is protected by a passphrase" (it was not).
    assert_eq!(
        a.nj(&["key", "passphrase"]).failure(),
        "nj: a new passphrase is asked for twice on a terminal; run this in a terminal, or set NJ_PASSPHRASE to the new passphrase; nothing was changed\n"
    );
    assert_eq!(stored(), key);

    let pass = [("NJ_PASSPHRASE", "correct horse battery")];
    assert_eq!(
        a.nj_with(&pass, &["key", "passphrase"]).success().stdout,
        "the journal key is now kept only wrapped under the passphrase; nj asks for it (or reads NJ_PASSPHRASE) when it syncs\n"
    );
    let wrapped = stored();
    assert!(wrapped.starts_with("njw1$"), "{wrapped}");
    assert!(!wrapped.contains(&key), "{wrapped}");
    let rows: Vec<String> = {
        let db = a.env.sqlite();
        let mut stmt = db.prepare("SELECT key || '=' || value FROM meta").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert!(
        rows.iter()
            .all(|r| !r.contains(&key) && !r.contains(&key[4..])),
        "{rows:?}"
    );

    let without = "nj: the journal key is protected by a passphrase; set NJ_PASSPHRASE, or run this in a terminal to be asked\n";
    assert_eq!(a.nj(&["key", "show"]).failure(), without);
    assert_eq!(
        a.nj_with(&[("NJ_PASSPHRASE", "wrong horse")], &["key", "show"])
            .failure(),
        "nj: the passphrase is wrong; try again (NJ_PASSPHRASE gives it to scripts)\n"
    );
    assert_eq!(
        a.nj_with(&pass, &["key", "show"]).success().stdout,
        format!("{key}\n")
    );

    // Sync needs the passphrase too, and works with it.
    a.clip(
        "Budget vote\n\nThe council passed the budget.",
        &["-t", "money"],
    );
    assert_eq!(a.at(&at("09:05")).nj(&["sync"]).failure(), without);
    assert_eq!(hub.ops(&journal.id).len(), 0);
    let out = a.nj_with(&pass, &["--json", "sync"]).success();
    assert_eq!(out.stderr, "");
    assert_eq!(out.json(), summary(3, 0, 1, 0));
    let b = Device::joined(&hub, &journal, &at("09:10"));
    assert_eq!(b.sync_quiet(), summary(0, 3, 0, 1));
    assert_eq!(b.state(), a.state());

    assert_eq!(
        a.nj_with(&pass, &["key", "passphrase", "--remove"])
            .success()
            .stdout,
        "the journal key is no longer wrapped under a passphrase\n"
    );
    assert_eq!(stored(), key);
    assert_eq!(a.key(), key);
    assert_eq!(
        a.at(&at("09:20")).nj(&["sync"]).success().stdout,
        "pushed 0 changes and 0 texts, pulled 0 changes and 0 texts\n"
    );
}

/// `nj key passphrase` replaces the stored recovery string with the
/// wrapped key, but the replaced bytes stay behind in the journal file
/// (SQLite reuses the space later, and does not overwrite it), so a copy of
/// the file gives the key away without the passphrase.
#[test]
fn wrapping_the_key_leaves_no_plain_copy_of_it_in_the_journal_files() {
    let hub = Hub::start();
    let (a, Journal { key, .. }) = Device::first(&hub, &hub.new_journal(), &at("09:00"));
    let needles = [("the recovery string", key.as_bytes().to_vec())];
    assert_ne!(find_in_files(a.env.root(), &needles), Vec::<String>::new());
    a.nj_with(
        &[("NJ_PASSPHRASE", "correct horse battery")],
        &["key", "passphrase"],
    )
    .success();
    assert_eq!(find_in_files(a.env.root(), &needles), Vec::<String>::new());
    // Once more after another command has run on the journal.
    a.nj(&["list"]);
    assert_eq!(find_in_files(a.env.root(), &needles), Vec::<String>::new());
}

#[test]
fn the_recovery_string_replaces_a_key_whose_passphrase_is_forgotten() {
    let hub = Hub::start();
    let (a, Journal { key, .. }) = Device::first(&hub, &hub.new_journal(), &at("09:00"));
    a.nj_with(
        &[("NJ_PASSPHRASE", "first passphrase")],
        &["key", "passphrase"],
    )
    .success();
    // The old passphrase is gone; the recovery string still brings the key
    // back, wrapped under the new passphrase.
    let new = [("NJ_PASSPHRASE", "second passphrase")];
    assert_eq!(
        a.nj_with(&new, &["key", "import", &key]).success().stdout,
        "imported the journal key; run `nj sync`\n"
    );
    assert_eq!(
        a.nj_with(&new, &["key", "show"])
            .success()
            .stdout
            .trim_end(),
        key
    );
    let old = a
        .nj_with(&[("NJ_PASSPHRASE", "first passphrase")], &["key", "show"])
        .failure();
    assert!(old.contains("the passphrase is wrong"), "{old}");
}

#[test]
fn the_key_can_come_from_standard_input_out_of_sight_of_ps() {
    let hub = Hub::start();
    let s = story(&hub);
    let b = Device::new(&hub, &s.journal.id);
    b.env.set_now(&at("09:20"));
    let url = hub.url();
    let out = b
        .env
        .nj_stdin(
            &["remote", "set", &url, "--token", &b.token, "--key", "-"],
            format!("{}\n", s.journal.key),
        )
        .success()
        .stdout;
    assert!(!out.contains("created"), "a key was made:\n{out}");
    assert_eq!(b.key(), s.journal.key);
    assert_eq!(b.at(&at("09:21")).sync_quiet(), summary(0, 9, 0, 2));
    assert_eq!(b.state(), s.a.state());

    // `nj key import -` reads it the same way; a bad one is refused.
    let c = Device::new(&hub, &s.journal.id);
    let err = c
        .env
        .nj_stdin(&["key", "import", "-"], "nj1-not-a-key\n")
        .failure();
    assert!(err.starts_with("nj: "), "{err}");
    c.env
        .nj_stdin(&["key", "import", "-"], format!("{}\n", s.journal.key))
        .success();
    assert_eq!(c.key(), s.journal.key);
}

/// Issue 16, bug 8: `nj remote set` took a bad token, and on a second
/// device without `--key` made a new key and told the user to keep it safe;
/// the mistake showed only at `nj sync`. Now it asks the server first.
#[test]
fn regression_remote_set_checks_nothing() {
    let hub = Hub::start();
    let s = story(&hub);
    let url = hub.url();

    // A bad token is refused, and nothing is stored: a new device's
    // journal is not even made.
    let b = Device::new(&hub, &s.journal.id);
    let out = b.nj(&["remote", "set", &url, "--token", "njt_not-a-token"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("refused the token"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert!(!b.env.db().exists(), "a refused remote made a journal");
    // A web server that is not `nj serve` (a mistyped port) is refused too.
    let web = crate::util::Server::start();
    let out = b.nj(&["remote", "set", &web.url("/"), "--token", &b.token]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert!(!b.env.db().exists());
    // A key that is not a key: refused before a journal is made.
    assert!(b
        .nj(&["key", "import", "garbage"])
        .failure()
        .contains("not a newsjournal key"));
    assert!(!b.env.db().exists());
    b.env.init();
    assert!(b.nj(&["remote", "show"]).failure().contains("remote"));

    // The journal has a key and B none: no new key is made; B is told how
    // to bring the journal's.
    let out = b.nj(&["remote", "set", &url, "--token", &b.token]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!("nj: the journal on {url} already has an encryption key, and this device has none; bring that key rather than making a new one: run `nj key show` on a device that already syncs, then `nj remote set {url} --token TOKEN --key -` and paste it (nothing was changed)\n")
    );
    assert!(!out.stdout.contains("created"), "{}", out.stdout);
    assert!(b.nj(&["key", "show"]).failure().contains("no key yet"));

    // Another journal's key is refused too.
    let (_, other) = Device::first(&hub, &hub.new_journal(), &at("09:20"));
    let out = b.nj(&[
        "remote", "set", &url, "--token", &b.token, "--key", &other.key,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "the key given is not the key the journal on {url} is encrypted with"
        )),
        "{}",
        out.stderr
    );

    // The right key joins, and the first sync brings the story.
    b.remote_set(&url, Some(&s.journal.key), &at("09:30"));
    assert_eq!(b.at(&at("09:31")).sync_quiet()["pulled"], json!(9));

    // A server that cannot be reached is no reason to refuse: a warning,
    // and `nj sync` checks later.
    let c = Device::new(&hub, &s.journal.id);
    let down = "http://127.0.0.1:9";
    let out = c.nj(&[
        "remote",
        "set",
        down,
        "--token",
        &c.token,
        "--key",
        &s.journal.key,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.starts_with("nj: warning: could not check the token and key with the server: cannot reach the sync server at http://127.0.0.1:9"),
        "{}",
        out.stderr
    );
}

/// Issue 17, item 2: one 3-byte operation whose first byte is not a known
/// format version stopped every device's pull for good ("update nj"), and
/// new devices could not join. Now it is skipped and named, and the
/// server's admin can find and remove it.
#[test]
fn regression_one_three_byte_operation_halts_every_pull() {
    use base64::Engine;
    let hub = Hub::start();
    let s = story(&hub);
    let rogue = hub.token(&s.journal.id);
    let payload = base64::engine::general_purpose::STANDARD.encode([0x07, 1, 2]);
    let body = json!({"ops": [{"device": "rogue-1", "seq": 1, "hlc_ms": 0, "payload": payload}]});
    assert_eq!(hub.push_raw(&rogue, &body), 200);

    let b = Device::joined(&hub, &s.journal, &at("10:00"));
    assert_eq!(b.sync_skipping(1), summary(0, 9, 0, 2).skipped(1));
    assert_eq!(b.state(), s.a.state());
    b.verify(2, 2);
    let out = b.nj(&["--json", "sync"]).success();
    assert_eq!(out.stderr, "", "a skipped operation is not pulled again");

    // The server's admin finds it, and removes it.
    let data = hub.data();
    let data = data.to_str().unwrap();
    let admin = |args: &[&str]| {
        let mut all = vec![
            "server",
            args[0],
            "--data",
            data,
            "--journal",
            &s.journal.id,
        ];
        all.extend_from_slice(&args[1..]);
        hub.env.nj(&all)
    };
    let listed = admin(&["ops", "--bad"]).success().stdout;
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains("rogue-1#1")
            && listed.contains("format byte 0x07 and 3 bytes: not a format nj writes"),
        "{listed}"
    );
    assert_eq!(admin(&["ops"]).success().stdout.lines().count(), 11);
    assert_eq!(
        admin(&["remove-op", "rogue-1#1"]).success().stdout,
        "removed rogue-1#1; devices no longer pull it\n"
    );
    assert_eq!(
        admin(&["remove-op", "rogue-1#1"]).failure(),
        "nj: the journal holds no operation rogue-1#1; nothing changed (`nj server ops --journal JID` lists them)\n"
    );
    let c = Device::joined(&hub, &s.journal, &at("10:05"));
    assert_eq!(c.sync_quiet(), summary(0, 9, 0, 2));
    assert_eq!(c.state(), s.a.state());
}

/// Issue 17, item 4: the server now refuses gaps in a device's numbers, so
/// a server restored from an older backup, which lacks the device's last
/// changes, must not wedge the device: its waiting changes follow on from
/// what the server holds, and the user hears what the server lost.
#[test]
fn a_server_restored_from_an_older_backup_does_not_wedge_sync() {
    let mut hub = Hub::start();
    let s = story(&hub);
    let db = hub.data().join("server.db");
    let backup = hub.env.path("backup.db");
    hub.stop();
    std::fs::copy(&db, &backup).unwrap();
    hub.start_again();

    // Two changes after the backup reach the server, then it is restored.
    let sync_a = |hub: &Hub, now: &str| {
        s.a.at(now)
            .nj_with(&[("NJ_REMOTE", &hub.url())], &["--json", "sync"])
    };
    s.a.at(&at("10:00"))
        .nj(&["jot", "Lost after the backup"])
        .success();
    s.a.at(&at("10:01")).nj(&["jot", "Also lost"]).success();
    assert_eq!(sync_a(&hub, &at("10:02")).success().stderr, "");
    hub.stop();
    std::fs::copy(&backup, &db).unwrap();
    for side in ["server.db-wal", "server.db-shm"] {
        let _ = std::fs::remove_file(hub.data().join(side));
    }
    hub.start_again();

    s.a.at(&at("10:10"))
        .nj(&["jot", "Made after the restore"])
        .success();
    let out = sync_a(&hub, &at("10:11")).success();
    assert_eq!(
        out.stderr,
        "nj: the server had lost this device's changes #10 to #11 (was its data restored from a backup?); \
         this journal has them, and so do the devices that synced before, but a device that joins now will not. \
         This device's waiting changes now follow on from what the server holds, so sync goes on\n"
    );
    let summary = out.json();
    assert_eq!(summary["pushed"], json!(1), "{summary}");
    assert_eq!(summary["lost"], json!([10, 11]), "{summary}");
    // And the next sync is an ordinary one.
    s.a.at(&at("10:12")).nj(&["jot", "And one more"]).success();
    let out = sync_a(&hub, &at("10:13")).success();
    assert_eq!(out.stderr, "");

    let b = Device::joined(&hub, &s.journal, &at("10:20"));
    b.sync_quiet();
    let notes = b.nj(&["notes", "--limit", "0"]).success().stdout;
    assert!(
        notes.contains("Made after the restore") && notes.contains("And one more"),
        "{notes}"
    );
    assert!(!notes.contains("Lost after the backup"), "{notes}");
    b.verify(2, 2);
}
