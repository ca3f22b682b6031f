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

/// An original, its copy from another site with a line added, and a
/// different report: (original, copy, other).
fn journal(env: &Env) -> (String, String, String) {
    let text = report(1, "Harbour vote approved");
    env.set_now("2026-11-20T09:00:00Z");
    let original = env.clip_text(&text, &["--url", "https://news.example/harbour-vote"]);
    env.set_now("2026-11-20T10:00:00Z");
    let copy = env.clip_text(
        &format!("{text}\nOriginally published on Example News.\n"),
        &["--url", "https://wire.example/harbour-vote"],
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
        "1 group of copies, 2 articles; the % is how alike each text is to the first clipped\n"
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
        &["--url", "https://wire.example/harbour-vote"],
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
        &["--url", "https://wire.example/ruling"],
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
