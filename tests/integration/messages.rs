//! Messages that must say what happened and what to do (issue 16, bug 6),
//! each checked through the binary.

use crate::util::{short, Env};

const STORY: &str =
    "Council backs the harbor plan\n\nThe council voted for the harbor plan on Monday.\n";

#[test]
fn regression_output_into_a_missing_folder_names_the_folder() {
    let env = Env::new();
    env.clip_text(STORY, &[]);
    let missing = env.path("nope");
    for args in [
        vec!["export", "-o", "nope/journal.json"],
        vec!["due", "--ics", "-o", "nope/due.ics"],
    ] {
        let out = env.nj(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains("the folder nope does not exist; create it (mkdir -p nope)"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains(".tmp"), "{}", out.stderr);
    }
    assert!(!missing.exists());
    // A folder given as the file is named for what it is.
    std::fs::create_dir(env.path("out")).unwrap();
    let out = env.nj(&["export", "-o", "out"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("it is a folder; give a file name in it"),
        "{}",
        out.stderr
    );
}

#[test]
fn regression_a_phrase_with_no_hits_is_shown_as_typed() {
    let env = Env::new();
    env.clip_text(STORY, &[]);
    let out = env.nj(&["search", "\"contract award\""]).success();
    assert_eq!(out.stderr, "no matches for '\"contract award\"'\n");
}

#[test]
fn regression_a_duplicate_clip_with_a_follow_up_says_it_added_it() {
    let env = Env::new();
    let id = env.clip_text(STORY, &[]);
    let out = env
        .nj_stdin(&["clip", "-", "--due", "friday"], STORY)
        .success();
    assert!(
        !out.stdout.contains("nothing new to merge"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.starts_with(&format!(
            "already clipped as {}: Council backs the harbor plan (added the follow-up)\n",
            short(&id)
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("follow-up "), "{}", out.stdout);
    // With nothing new at all it still says so.
    let out = env.nj_stdin(&["clip", "-"], STORY).success();
    assert!(
        out.stdout.contains("(nothing new to merge)"),
        "{}",
        out.stdout
    );
}

#[test]
fn regression_the_export_summary_counts_removed_items_apart() {
    let env = Env::new();
    let id = env.clip_text(STORY, &[]);
    env.nj(&["follow-up", &id, "check the vote", "--due", "friday"])
        .success();
    let gone = env.follow_up(&["renew the pass", "--due", "friday"]);
    env.nj(&["follow-up", "rm", gone["id"].as_str().unwrap()])
        .success();
    let out = env.nj(&["export", "-o", "j.json"]).success();
    assert_eq!(
        out.stderr,
        "exported 1 article, 0 notes and 1 follow-up, and from the bin 1 follow-up to j.json\n"
    );
}

/// Issue 17, item 9: a title with terminal control codes (ESC, BEL) was
/// printed raw by clip, list and show, so a page could retitle or clear
/// the reader's terminal. They are shown as visible symbols; `show
/// --text` in a pipe stays the exact stored bytes (its hash is checked).
#[test]
fn regression_control_codes_in_titles_are_printed_raw() {
    let env = Env::new();
    let text = "Bridge \u{1b}]0;pwned\u{7} vote \u{1b}[2J\n\nThe council votes.\n";
    let out = env.nj_stdin(&["clip", "-"], text).success();
    let id = env.list_json()[0]["id"].as_str().unwrap().to_owned();
    for shown in [
        out.stdout,
        env.nj(&["list"]).success().stdout,
        env.nj(&["show", &id]).success().stdout,
        env.nj(&["search", "council"]).success().stdout,
    ] {
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(
            shown.contains("Bridge \u{241b}]0;pwned\u{2407} vote"),
            "{shown:?}"
        );
    }
    // The stored text is untouched, and `--text` gives it exactly.
    let exact = env.nj(&["show", &id, "--text"]).success().stdout;
    assert_eq!(exact, text);
}
