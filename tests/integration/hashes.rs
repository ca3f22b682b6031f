//! Content hashes: `nj show --text` prints exactly the hashed bytes, the
//! same text is one article however its lines end, a duplicate merges what
//! it brings, and `nj verify` catches a text changed behind nj's back.

use serde_json::json;

use crate::util::{sha256, short, Env};

/// A text with everything normalisation must fix: CRLF and lone CR line
/// endings, a decomposed é, trailing spaces and tabs, runs of blank lines,
/// and leading and trailing blank lines.
const MESSY: &str = "\r\n\r\nCafe\u{0301} owners protest rent rise  \r\n\r\n\r\n\r\nThe owners of six cafe\u{0301}s marched to the town hall.\t\r\nThey want a freeze.\rIndented:\r\n    kept as it is\r\n\r\n\r\n";

/// What nj stores for [`MESSY`].
const CLEAN: &str = "Caf\u{e9} owners protest rent rise\n\nThe owners of six caf\u{e9}s marched to the town hall.\nThey want a freeze.\nIndented:\n    kept as it is\n";

#[test]
fn show_text_prints_exactly_the_hashed_bytes() {
    let env = Env::new();
    let v = env.nj_stdin(&["--json", "clip", "-"], MESSY).json();
    let id = v["article"]["id"].as_str().unwrap();
    let hash = v["article"]["content_hash"].as_str().unwrap();

    let out = env.nj(&["show", id, "--text"]).success();
    assert_eq!(out.stdout_bytes, CLEAN.as_bytes());
    // `nj show ID --text | sha256sum` reproduces the stored hash.
    assert_eq!(sha256(&out.stdout_bytes), hash);
    assert_eq!(newsjournal::content::hash_normalized(CLEAN), hash);
    assert_eq!(hash.len(), "sha256:".len() + 64);
    assert_eq!(v["article"]["title"], "Caf\u{e9} owners protest rent rise");
}

#[test]
fn crlf_and_lf_copies_are_one_article() {
    let env = Env::new();
    let lf = "Dock workers vote to strike\n\nThe vote was 212 to 40.\n";
    let crlf = "Dock workers vote to strike\r\n\r\nThe vote was 212 to 40.\r\n";
    let id = env.clip_text(lf, &[]);
    let hash = sha256(lf.as_bytes());

    let out = env.nj_stdin(&["clip", "-"], crlf).success();
    assert_eq!(
        out.stdout,
        format!(
            "already clipped as {}: Dock workers vote to strike (nothing new to merge)\n  {hash}\n",
            short(&id)
        )
    );
    let list = env.list_json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["content_hash"], hash);
}

#[test]
fn duplicate_merges_new_tags_note_and_source_url() {
    let env = Env::new();
    let text = "Lighthouse keeper retires\n\nAfter 31 years the keeper handed over the keys.\n";
    let id = env.clip_text(
        text,
        &["--url", "https://north.example/keeper", "-t", "coast"],
    );

    let out = env
        .nj_stdin(
            &[
                "clip",
                "-",
                "--url",
                "https://south.example/syndicated/keeper?utm_source=wire",
                "-t",
                "coast",
                "-t",
                "people",
                "-n",
                "syndicated by the south paper",
            ],
            text.replace('\n', "\r\n"),
        )
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "already clipped as {}: Lighthouse keeper retires (added tags people; added URL https://south.example/syndicated/keeper; added the note)\n  {}\n",
            short(&id),
            sha256(text.as_bytes())
        )
    );
    let shown = env.nj(&["--json", "show", &id]).json();
    assert_eq!(
        shown["urls"],
        json!([
            "https://north.example/keeper",
            "https://south.example/syndicated/keeper"
        ])
    );
    assert_eq!(shown["url"], "https://north.example/keeper");
    assert_eq!(shown["tags"], json!(["coast", "people"]));
    assert_eq!(shown["notes"][0]["text"], "syndicated by the south paper");
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
    assert_eq!(env.list_json().as_array().unwrap().len(), 1);
}

#[test]
fn clipping_a_removed_article_again_brings_it_back() {
    let env = Env::new();
    let text = "Pier closed for storm repairs\n\nThe pier will stay shut until spring.\n";
    let id = env.clip_text(text, &[]);
    env.nj(&["rm", &id]).success();
    let out = env.nj_stdin(&["clip", "-"], text).success();
    assert_eq!(
        out.stdout,
        format!(
            "already clipped as {}: Pier closed for storm repairs (brought it back from the bin)\n  {}\n",
            short(&id),
            sha256(text.as_bytes())
        )
    );
    assert_eq!(env.list_json()[0]["id"], id.as_str());
}

#[test]
fn verify_passes_on_a_sound_journal() {
    let env = Env::new();
    env.clip_text("One\n\nFirst text.\n", &[]);
    env.clip_text("Two\n\nSecond text.\n", &["-n", "a note"]);
    env.nj(&["jot", "a free note"]).success();
    let out = env.nj(&["verify"]).success();
    assert_eq!(
        out.stdout,
        "checked 2 texts of 2 articles: every hash matches, every article agrees with its versions, and the search index is sound\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn verify_names_an_article_whose_text_was_changed_on_disk() {
    let env = Env::new();
    let good = env.clip_text("Untouched story\n\nNothing happens to this one.\n", &[]);
    let text = "Tampered story\n\nThe original figure was 40 boats.\n";
    let id = env.clip_text(text, &[]);
    let hash = sha256(text.as_bytes());
    let forged = "Tampered story\n\nThe original figure was 400 boats.\n";
    let n = env
        .sqlite()
        .execute(
            "UPDATE texts SET body = ?1 WHERE hash = ?2",
            [forged, hash.as_str()],
        )
        .unwrap();
    assert_eq!(n, 1);

    let out = env.nj(&["verify"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        format!(
            "MISMATCH {}  Tampered story\n  stored   {hash}\n  computed {}\n\
             the search index does not match the articles\n",
            short(&id),
            sha256(forged.as_bytes())
        )
    );
    assert!(
        !out.stdout.contains(short(&good)),
        "verify named an article whose text is intact"
    );
    assert_eq!(
        out.stderr,
        "nj: verify failed: 1 article(s) whose text no longer matches its hash; the file was changed outside nj: clip each from its source again (that heals the stored text), or restore the journal from a backup; \
         the search index does not match the articles; `nj verify --repair` rebuilds it\n"
    );
}

#[test]
fn verify_catches_a_stored_text_that_is_not_normalised() {
    // Trailing spaces change the hash but not a single indexed word, so
    // only the hash check can see this.
    let env = Env::new();
    let text = "Quiet change\n\nSame words, other bytes.\n";
    let id = env.clip_text(text, &[]);
    let hash = sha256(text.as_bytes());
    let forged = "Quiet change   \n\nSame words, other bytes.\n";
    env.sqlite()
        .execute(
            "UPDATE texts SET body = ?1 WHERE hash = ?2",
            [forged, hash.as_str()],
        )
        .unwrap();
    let out = env.nj(&["verify"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        format!(
            "MISMATCH {}  Quiet change\n  stored   {hash}\n  computed {}\n",
            short(&id),
            sha256(forged.as_bytes())
        )
    );
    assert_eq!(
        out.stderr,
        "nj: verify failed: 1 article(s) whose text no longer matches its hash; the file was changed outside nj: clip each from its source again (that heals the stored text), or restore the journal from a backup\n"
    );
}

#[test]
fn clipping_the_same_text_again_heals_a_damaged_store() {
    let env = Env::new();
    let text = "Harbour count\n\nThe harbour counted 412 boats this year.\n";
    let id = env.clip_text(text, &[]);
    let hash = sha256(text.as_bytes());
    env.sqlite()
        .execute(
            "UPDATE texts SET body = ?1 WHERE hash = ?2",
            [
                "Harbour count\n\nThe harbour counted 400 boats this year.\n",
                hash.as_str(),
            ],
        )
        .unwrap();
    assert_eq!(env.nj(&["verify"]).code, Some(1));

    let again = env.nj_stdin(&["clip", "-"], text.as_bytes());
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again
            .stdout
            .starts_with(&format!("already clipped as {}", short(&id))),
        "{}",
        again.stdout
    );
    let out = env.nj(&["verify"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            Some(0),
            "checked 1 text of 1 article: every hash matches, every article agrees with its versions, and the search index is sound\n"
        )
    );
    assert_eq!(env.nj(&["show", &id, "--text"]).stdout, text);
}

#[test]
fn verify_repair_rebuilds_a_damaged_search_index() {
    let env = Env::new();
    let text = "Ferry timetable\n\nThe winter ferry leaves at seven.\n";
    let id = env.clip_text(text, &[]);
    let hash = sha256(text.as_bytes());
    // Damage the index the way a change outside nj would: the text changes
    // under it, nj re-indexes from the wrong words, then the text is put back.
    env.sqlite()
        .execute(
            "UPDATE texts SET body = 'Ferry timetable\n\nSomething else.\n' WHERE hash = ?1",
            [hash.as_str()],
        )
        .unwrap();
    assert_eq!(env.nj(&["tag", &id, "+ferries"]).code, Some(0));
    env.sqlite()
        .execute(
            "UPDATE texts SET body = ?1 WHERE hash = ?2",
            [text, hash.as_str()],
        )
        .unwrap();
    let broken = env.nj(&["verify"]);
    assert_eq!(broken.code, Some(1));
    assert_eq!(
        broken.stderr,
        "nj: verify failed: the search index does not match the articles; `nj verify --repair` rebuilds it\n"
    );

    let repaired = env.nj(&["verify", "--repair"]);
    assert_eq!(
        (repaired.code, repaired.stdout.as_str()),
        (
            Some(0),
            "checked 1 text of 1 article: every hash matches, every article agrees with its versions, and the search index is sound\n"
        )
    );
    let hit = env.nj(&["search", "winter ferry"]);
    assert!(hit.stdout.starts_with(short(&id)), "{}", hit.stdout);
}
