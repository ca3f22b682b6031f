//! `nj search`: FTS5 over titles, text, notes and tags, ranked by bm25,
//! with highlighted snippets, the query syntax, `--tag`, free-standing
//! notes, and clear errors for queries FTS5 cannot read.

use serde_json::Value;

use crate::util::{short, Env};

struct Journal {
    env: Env,
    keeper: String,
    walk: String,
    budget: String,
    appeal: String,
    jot: String,
}

fn journal() -> Journal {
    let env = Env::new();
    let keeper = env.clip_text(
        "Lighthouse keeper retires\n\nAfter 31 years the keeper handed over the keys to the trust.\n",
        &["-t", "people"],
    );
    let walk = env.clip_text(
        "Coastal walk reopens\n\nThe cliff path past the old lighthouse reopened after a landslip was cleared by volunteers.\n",
        &["-t", "walks"],
    );
    let budget = env.clip_text(
        "Council budget vote\n\nThe council will follow-up on the dredging contract award next week.\n",
        &["-n", "ask about the tender process"],
    );
    let appeal = env.clip_text(
        "Appeal lodged\n\nThe losing bidder appealed the award of the contract for the new café.\n",
        &[],
    );
    env.nj(&["jot", "remember the lighthouse anniversary in March"])
        .success();
    let jot = env.nj(&["--json", "notes", "--free"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Journal {
        env,
        keeper,
        walk,
        budget,
        appeal,
        jot,
    }
}

/// The ids of the hits of a search, best first: article ids, or note ids
/// for journal notes.
fn hits(env: &Env, args: &[&str]) -> Vec<String> {
    let mut full = vec!["--json", "search"];
    full.extend_from_slice(args);
    let v: Value = env.nj(&full).json();
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| match h["kind"].as_str().unwrap() {
            "article" => h["article"]["id"].as_str().unwrap().to_owned(),
            "note" => h["note"]["id"].as_str().unwrap().to_owned(),
            k => panic!("unknown hit kind {k}"),
        })
        .collect()
}

#[test]
fn title_match_ranks_above_body_match_with_marked_snippets() {
    let j = journal();
    let out = j.env.nj(&["search", "keeper", "OR", "cliff"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "{}  2026-11-26  Lighthouse keeper retires\n    Lighthouse **keeper** retires After 31 years the **keeper** handed over the keys to the trust.\n\
             {}  2026-11-26  Coastal walk reopens\n    Coastal walk reopens The **cliff** path past the old lighthouse reopened after a landslip was cleared by volunteers.\n",
            short(&j.keeper),
            short(&j.walk)
        )
    );
    // "lighthouse" is in the keeper story's title, but only in the body of
    // the walk story.
    let articles: Vec<String> = hits(&j.env, &["lighthouse", "--tag", "people"])
        .into_iter()
        .chain(hits(&j.env, &["lighthouse", "--tag", "walks"]))
        .collect();
    assert_eq!(articles, [j.keeper.clone(), j.walk.clone()]);
    let ranked: Vec<String> = hits(&j.env, &["lighthouse"])
        .into_iter()
        .filter(|id| *id != j.jot)
        .collect();
    assert_eq!(ranked, [j.keeper.clone(), j.walk.clone()]);
    let out = j
        .env
        .nj(&["search", "lighthouse", "--tag", "people"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "{}  2026-11-26  Lighthouse keeper retires\n    **Lighthouse** keeper retires\n",
            short(&j.keeper)
        )
    );
}

#[test]
fn phrase_matches_only_the_words_in_order() {
    let j = journal();
    let both = hits(&j.env, &["contract award"]);
    assert_eq!(both.len(), 2);
    assert!(both.contains(&j.budget) && both.contains(&j.appeal));
    assert_eq!(hits(&j.env, &["\"contract award\""]), [j.budget.as_str()]);
    assert_eq!(hits(&j.env, &["\"award contract\""]), Vec::<String>::new());
    let out = j.env.nj(&["search", "\"contract award\""]).success();
    assert_marked(
        &out.stdout,
        &format!("{}  2026-11-26  Council budget vote", short(&j.budget)),
        "Council budget vote The council will follow-up on the dredging contract award next week.",
        &["contract", "award"],
    );
}

/// Checks a one-hit search result: its heading line, its snippet with the
/// highlight markers taken out, and that each of `marked` is highlighted
/// (alone, or as part of a highlighted phrase).
#[track_caller]
fn assert_marked(stdout: &str, heading: &str, plain: &str, marked: &[&str]) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], heading);
    let snippet = lines[1].strip_prefix("    ").expect("an indented snippet");
    assert_eq!(snippet.replace("**", ""), plain);
    for word in marked {
        let alone = format!("**{word}**");
        let opens = format!("**{word}");
        let closes = format!("{word}**");
        assert!(
            snippet.contains(&alone) || snippet.contains(&opens) || snippet.contains(&closes),
            "{word:?} is not highlighted in {snippet:?}"
        );
    }
}

#[test]
fn prefix_matches_word_starts() {
    let j = journal();
    assert_eq!(hits(&j.env, &["dredg*"]), [j.budget.as_str()]);
    assert_eq!(hits(&j.env, &["landsl*"]), [j.walk.as_str()]);
    assert_eq!(hits(&j.env, &["dre"]), Vec::<String>::new());
}

#[test]
fn and_or_not_combine_terms() {
    let j = journal();
    assert_eq!(hits(&j.env, &["lighthouse AND cliff"]), [j.walk.as_str()]);
    assert_eq!(hits(&j.env, &["lighthouse", "cliff"]), [j.walk.as_str()]);
    let mut either = hits(&j.env, &["keeper OR bidder"]);
    either.sort();
    let mut want = vec![j.keeper.clone(), j.appeal.clone()];
    want.sort();
    assert_eq!(either, want);
    let mut not = hits(&j.env, &["lighthouse NOT keeper"]);
    not.sort();
    let mut want = vec![j.walk.clone(), j.jot.clone()];
    want.sort();
    assert_eq!(not, want);
}

#[test]
fn tag_filter_keeps_only_tagged_articles() {
    let j = journal();
    assert_eq!(
        hits(&j.env, &["lighthouse", "--tag", "walks"]),
        [j.walk.as_str()]
    );
    assert_eq!(
        hits(&j.env, &["lighthouse", "-t", "Walks"]),
        [j.walk.as_str()]
    );
    assert_eq!(
        hits(&j.env, &["lighthouse", "--tag", "nothing"]),
        Vec::<String>::new()
    );
}

#[test]
fn notes_and_tags_are_searchable() {
    let j = journal();
    let out = j.env.nj(&["search", "tender"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "{}  2026-11-26  Council budget vote\n    ask about the **tender** process\n",
            short(&j.budget)
        )
    );
    assert_eq!(hits(&j.env, &["people"]), [j.keeper.as_str()]);
    assert_eq!(hits(&j.env, &["walks"]), [j.walk.as_str()]);
}

#[test]
fn free_standing_journal_notes_are_found() {
    let j = journal();
    let out = j.env.nj(&["search", "anniversary"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "{}  2026-11-26  journal note\n    remember the lighthouse **anniversary** in March\n",
            short(&j.jot)
        )
    );
    let v = j.env.nj(&["--json", "search", "anniversary"]).json();
    assert_eq!(v[0]["kind"], "note");
    assert_eq!(
        v[0]["note"]["text"],
        "remember the lighthouse anniversary in March"
    );
}

#[test]
fn hyphenated_word_is_searchable() {
    let j = journal();
    let out = j.env.nj(&["search", "follow-up"]).success();
    assert_marked(
        &out.stdout,
        &format!("{}  2026-11-26  Council budget vote", short(&j.budget)),
        "Council budget vote The council will follow-up on the dredging contract award next week.",
        &["follow", "up"],
    );
    // It means the words in that order, not just both words.
    let env = &j.env;
    let other = env.clip_text("Up and away\n\nBalloons up; follow them.\n", &[]);
    assert_eq!(hits(env, &["follow-up"]), [j.budget.as_str()]);
    assert_eq!(hits(env, &["follow up"]).len(), 2, "{other}");
}

#[test]
fn accents_do_not_matter() {
    let j = journal();
    assert_eq!(hits(&j.env, &["cafe"]), [j.appeal.as_str()]);
    assert_eq!(hits(&j.env, &["café"]), [j.appeal.as_str()]);
}

#[test]
fn no_match_is_not_an_error() {
    let j = journal();
    let out = j.env.nj(&["search", "zeppelin"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "no matches for \"zeppelin\"\n");
    assert_eq!(j.env.nj(&["--json", "search", "zeppelin"]).stdout, "[]\n");
}

#[test]
fn limit_caps_the_hits() {
    let j = journal();
    assert_eq!(hits(&j.env, &["the"]).len(), 5);
    assert_eq!(hits(&j.env, &["the", "--limit", "2"]).len(), 2);
}

#[test]
fn bad_query_is_a_clear_error() {
    let j = journal();
    for query in ["AND", "lighthouse NOT", "(keeper OR"] {
        let err = j.env.nj(&["search", query]).failure();
        // What FTS5 (or nj's parser) objects to may be worded either way;
        // the frame of the message is nj's.
        let head = format!("nj: bad search query {query:?}: ");
        let tail = "; put phrases in double quotes, and see `nj search --help` for the syntax\n";
        assert!(err.starts_with(&head) && err.ends_with(tail), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.len() > head.len() + tail.len(),
            "no reason given: {err}"
        );
    }
}

/// An unclosed quote used to reach SQLite as "unterminated string", which
/// nj reported as a journal database error instead of closing the quote.
#[test]
fn unclosed_quote_searches_the_phrase() {
    let j = journal();
    let out = j.env.nj(&["search", "\"cliff path"]);
    assert!(
        !out.stderr.contains("database error"),
        "an unclosed quote is not a database problem: {}",
        out.stderr
    );
    assert_eq!(hits(&j.env, &["\"cliff path"]), [j.walk.as_str()]);
}

/// `nj search --help` documents `title:word`; the column filter used to be
/// applied to the journal-note index too, which has no such column, and
/// the retry quoted it into a phrase that matched nothing.
#[test]
fn column_filter_searches_one_field() {
    let j = journal();
    assert_eq!(hits(&j.env, &["title:lighthouse"]), [j.keeper.as_str()]);
    assert_eq!(hits(&j.env, &["tags:walks"]), [j.walk.as_str()]);
    assert_eq!(hits(&j.env, &["notes:tender"]), [j.budget.as_str()]);
}

#[test]
fn search_follows_tag_and_note_changes() {
    let j = journal();
    let env = &j.env;
    env.nj(&["tag", &j.walk, "+seabirds"]).success();
    assert_eq!(hits(env, &["seabirds"]), [j.walk.as_str()]);
    env.nj(&["tag", &j.walk, "-seabirds"]).success();
    assert_eq!(hits(env, &["seabirds"]), Vec::<String>::new());

    let nid = env.nj(&["--json", "notes", "--article", &j.budget]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.nj(&["notes", "edit", &nid, "ask about the auction"])
        .success();
    assert_eq!(hits(env, &["tender"]), Vec::<String>::new());
    assert_eq!(hits(env, &["auction"]), [j.budget.as_str()]);
    env.nj(&["notes", "rm", &nid]).success();
    assert_eq!(hits(env, &["auction"]), Vec::<String>::new());

    env.nj(&["notes", "edit", &j.jot, "remember the harbour anniversary"])
        .success();
    assert_eq!(hits(env, &["harbour"]), [j.jot.as_str()]);
    assert_eq!(
        hits(env, &["lighthouse"]),
        [j.keeper.clone(), j.walk.clone()]
    );

    env.nj(&["verify"]).success();
}

#[test]
fn deeply_nested_query_is_an_error_not_a_crash() {
    let env = Env::new();
    env.clip_text("Nesting\n\nText.\n", &[]);
    let q = format!("{}text{}", "(".repeat(5000), ")".repeat(5000));
    let out = env.nj(&["search", &q]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.starts_with("nj: bad search query"),
        "{}",
        &out.stderr[..200.min(out.stderr.len())]
    );
    assert!(
        out.stderr.contains("parentheses nest more than 100 deep"),
        "{}",
        &out.stderr[out.stderr.len().saturating_sub(300)..]
    );
}

/// Issue 16: `nj search --since/--until` keeps the hits clipped (or, for
/// journal notes, written) in that range; a date as --until includes the
/// day.
#[test]
fn search_since_and_until() {
    let env = Env::new();
    env.set_now("2026-11-10T08:00:00Z");
    let old = env.clip_text(
        "Harbor dredging begins\n\nThe harbor dredging began.\n",
        &[],
    );
    env.set_now("2026-11-20T08:00:00Z");
    let mid = env.clip_text("Harbor fees rise\n\nHarbor fees go up.\n", &[]);
    env.nj(&["jot", "harbor idea from the twentieth"]).success();
    env.set_now("2026-11-25T08:00:00Z");
    let new = env.clip_text("Harbor pilot boat\n\nThe harbor has a pilot boat.\n", &[]);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "search", "harbor"];
        all.extend_from_slice(args);
        let v = env.nj(&all).json();
        let mut out: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                h["article"]["id"]
                    .as_str()
                    .or(h["note"]["text"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect();
        out.sort();
        out
    };
    let mut want = vec![
        mid.clone(),
        new.clone(),
        "harbor idea from the twentieth".to_owned(),
    ];
    want.sort();
    assert_eq!(ids(&["--since", "2026-11-15"]), want);
    let mut want = vec![
        old.clone(),
        mid.clone(),
        "harbor idea from the twentieth".to_owned(),
    ];
    want.sort();
    assert_eq!(ids(&["--until", "2026-11-20"]), want);
    assert_eq!(
        ids(&["--since", "2026-11-15", "--until", "2026-11-19"]),
        Vec::<String>::new()
    );
    assert_eq!(ids(&["--since", "3d"]), vec![new.clone()]);
    let bad = env.nj(&["search", "harbor", "--since", "someday"]);
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr.contains("cannot read the time \"someday\""),
        "{}",
        bad.stderr
    );
}
