//! Ids: any unique prefix of 4 or more characters names an article or a
//! note; a shorter, unknown or ambiguous one is a clear error that changes
//! nothing.

use crate::util::{assert_refused, short, Env};

const ONE: &str = "aaaa1111-0000-4000-8000-000000000001";
const TWO: &str = "aaaa2222-0000-4000-8000-000000000002";

/// Renames an article everywhere its id appears, with foreign keys off, so
/// a test can have two ids that share a prefix.
pub(crate) fn rename_article(env: &Env, from: &str, to: &str) {
    let conn = env.sqlite();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let n = conn
        .execute("UPDATE articles SET id = ?2 WHERE id = ?1", [from, to])
        .unwrap();
    assert_eq!(n, 1);
    // URL and tag links name the article by its rowid, which stays.
    for table in ["versions", "notes", "followups"] {
        conn.execute(
            &format!("UPDATE {table} SET article_id = ?2 WHERE article_id = ?1"),
            [from, to],
        )
        .unwrap();
    }
}

fn rename_note(env: &Env, from: &str, to: &str) {
    let n = env
        .sqlite()
        .execute("UPDATE notes SET id = ?2 WHERE id = ?1", [from, to])
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn four_character_prefix_names_an_article_everywhere() {
    let env = Env::new();
    let id = env.clip_text("Prefix story\n\nShort ids work.\n", &["-t", "x"]);
    let p = &id[..4];
    assert_eq!(
        env.nj(&["show", p, "--text"]).success().stdout,
        "Prefix story\n\nShort ids work.\n"
    );
    assert_eq!(
        env.nj(&["show", &p.to_ascii_uppercase(), "--text"])
            .success()
            .stdout,
        "Prefix story\n\nShort ids work.\n"
    );
    assert_eq!(
        env.nj(&["tag", p, "+y"]).success().stdout,
        format!("{}: added y; tags: x, y\n", short(&id))
    );
    env.nj(&["note", p, "by prefix"]).success();
    env.nj(&["versions", p]).success();
    env.nj(&["rm", p]).success();
    env.nj(&["restore", p]).success();
    let v = env.nj(&["--json", "show", &id[..13]]).json();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["notes"][0]["text"], "by prefix");
}

#[test]
fn three_characters_are_too_few() {
    let env = Env::new();
    let id = env.clip_text("Short\n\nToo short an id.\n", &[]);
    let p = &id[..3];
    assert_refused(
        &env,
        &["show", p],
        None,
        &format!(
            "nj: bad id \"{p}\": give at least 4 characters of an id (hex digits and dashes)\n"
        ),
    );
    assert_refused(
        &env,
        &["rm", "not-an-id"],
        None,
        "nj: bad id \"not-an-id\": ids are hex digits (0-9, a-f) and dashes; `nj list` shows them\n",
    );
}

/// Issue 16, bug 6: `nj show zzzz` said "give at least 4 characters" when
/// 4 were given; they are not hex digits, and that is what it says now.
#[test]
fn regression_four_characters_that_are_not_hex_are_not_too_few() {
    let env = Env::new();
    env.clip_text("Short\n\nAn id.\n", &[]);
    assert_refused(
        &env,
        &["show", "zzzz"],
        None,
        "nj: bad id \"zzzz\": ids are hex digits (0-9, a-f) and dashes; `nj list` shows them\n",
    );
}

#[test]
fn unknown_prefix_says_where_ids_are() {
    let env = Env::new();
    let id = env.clip_text("Known\n\nOnly this one.\n", &[]);
    // A prefix that differs from the real id in its first character.
    let unknown = if id.starts_with('f') { "eeee" } else { "ffff" };
    for cmd in [
        &["show", unknown][..],
        &["tag", unknown, "+x"],
        &["note", unknown, "text"],
        &["rm", unknown],
        &["diff", unknown],
    ] {
        assert_refused(
            &env,
            cmd,
            None,
            &format!(
                "nj: no article matches {unknown}; `nj list` shows ids, and `nj list --removed` the bin\n"
            ),
        );
    }
    assert_refused(
        &env,
        &["notes", "rm", unknown],
        None,
        &format!("nj: no note matches {unknown}; `nj notes` shows note ids\n"),
    );
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let env = Env::new();
    let a = env.clip_text("First of two\n\nOne text.\n", &["-t", "t", "-n", "n1"]);
    let b = env.clip_text(
        "Second of two\n\nAnother text.\n",
        &["--url", "https://two.example/", "-n", "n2"],
    );
    rename_article(&env, &a, ONE);
    rename_article(&env, &b, TWO);
    env.nj(&["rm", TWO]).success();

    let listing = format!(
        "nj: aaaa matches 2 articles; use more characters:\n  {ONE}  First of two\n  {TWO}  Second of two (removed)\n"
    );
    assert_refused(&env, &["show", "aaaa"], None, &listing);
    assert_refused(&env, &["tag", "aaaa", "+x"], None, &listing);
    assert_refused(
        &env,
        &["restore", "AAAA"],
        None,
        &listing.replacen("aaaa", "AAAA", 1),
    );

    // One more character tells them apart, and the renamed rows still hang
    // together.
    let v = env.nj(&["--json", "show", "aaaa1"]).json();
    assert_eq!(v["title"], "First of two");
    assert_eq!(v["tags"], serde_json::json!(["t"]));
    assert_eq!(v["notes"][0]["text"], "n1");
    assert_eq!(v["versions"].as_array().unwrap().len(), 1);
    let v = env.nj(&["--json", "show", "aaaa2"]).json();
    assert_eq!(v["urls"], serde_json::json!(["https://two.example/"]));
    assert_eq!(v["notes"][0]["text"], "n2");
    env.nj(&["restore", "aaaa2"]).success();
    assert_eq!(env.list_json().as_array().unwrap().len(), 2);
}

#[test]
fn ambiguous_note_prefix_lists_the_candidates() {
    let env = Env::new();
    let id = env.clip_text("Notes\n\nWith two notes.\n", &[]);
    env.nj(&["note", &id, "first note\nsecond line"]).success();
    env.set_now("2026-11-27T09:00:00Z");
    env.nj(&["jot", "a journal note"]).success();
    let ids: Vec<String> = env
        .nj(&["--json", "notes"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    // Newest first: the journal note, then the article's note.
    rename_note(&env, &ids[1], ONE);
    rename_note(&env, &ids[0], TWO);
    assert_refused(
        &env,
        &["notes", "rm", "aaaa"],
        None,
        &format!(
            "nj: aaaa matches 2 notes; use more characters:\n  {ONE}  first note\n  {TWO}  a journal note\n"
        ),
    );
    assert_eq!(
        env.nj(&["notes", "rm", "aaaa2"]).success().stdout,
        "removed note aaaa2222\n"
    );
}
