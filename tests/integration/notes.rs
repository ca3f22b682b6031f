//! Notes: on an article (from an argument, stdin or $EDITOR), free-standing
//! journal notes, listing, editing and removing them, and how they show
//! under their article.

use serde_json::json;

use crate::util::{column, short, Env};

const STORY: &str = "Harbour dredging delayed\n\nThe dredging contract was postponed again.\n";

/// A journal with one article; returns its id.
fn with_article(env: &Env) -> String {
    env.set_now("2026-11-20T10:00:00Z");
    env.clip_text(STORY, &[])
}

/// The ids of the notes on an article, oldest first.
fn note_ids(env: &Env, article: &str) -> Vec<String> {
    column(
        &env.nj(&["--json", "notes", "--article", article]).json(),
        "id",
    )
}

/// An $EDITOR that runs `script` (a shell snippet) with the file as $1.
/// It is run through `sh`, so the script file is never executed directly.
fn editor(env: &Env, name: &str, script: &str) -> String {
    let path = env.write(name, format!("{script}\n"));
    format!("sh {}", path.display())
}

#[test]
fn note_from_an_argument_shows_under_its_article() {
    let env = Env::new();
    let id = with_article(&env);
    env.set_now("2026-11-21T11:30:00Z");
    let out = env
        .nj(&["note", &id, "Ask the port authority why"])
        .success();
    let notes = note_ids(&env, &id);
    assert_eq!(notes.len(), 1);
    assert_eq!(
        out.stdout,
        format!(
            "added note {} to {}: Harbour dredging delayed\n",
            short(&notes[0]),
            short(&id)
        )
    );
    let show = env.nj(&["show", &id]).success().stdout;
    assert!(
        show.contains(&format!(
            "\nNotes\n  {} 2026-11-21 11:30\n    Ask the port authority why\n\nVersions\n",
            short(&notes[0])
        )),
        "{show}"
    );
    let v = env.nj(&["--json", "show", &id]).json();
    assert_eq!(
        v["notes"],
        json!([{
            "id": notes[0],
            "article_id": id,
            "text": "Ask the port authority why",
            "created_at": "2026-11-21T11:30:00Z",
            "updated_at": "2026-11-21T11:30:00Z",
        }])
    );
}

#[test]
fn note_dash_reads_stdin() {
    let env = Env::new();
    let id = with_article(&env);
    env.nj_stdin(
        &["note", &id, "-"],
        "First line of the note.\r\nSecond line.   \n\n\n",
    )
    .success();
    let v = env.nj(&["--json", "notes", "--article", &id]).json();
    assert_eq!(v[0]["text"], "First line of the note.\nSecond line.");
}

#[test]
fn note_without_text_opens_the_editor() {
    let env = Env::new();
    let id = with_article(&env);
    let ed = editor(
        &env,
        "editor.sh",
        "printf 'Written in the editor.\\n\\nSecond paragraph.\\n' > \"$1\"",
    );
    let out = env.cmd(&["note", &id]).env("EDITOR", &ed).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = env.nj(&["--json", "notes", "--article", &id]).json();
    assert_eq!(v[0]["text"], "Written in the editor.\n\nSecond paragraph.");
}

#[test]
fn editor_failure_saves_nothing() {
    let env = Env::new();
    let id = with_article(&env);
    let ed = editor(&env, "fail.sh", "echo 'half a note' > \"$1\"; exit 3");
    let out = env.cmd(&["note", &id]).env("EDITOR", &ed).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("nj: the editor {ed:?} exited with exit status: 3; nothing was saved\n")
    );
    assert_eq!(note_ids(&env, &id), Vec::<String>::new());
}

#[test]
fn unknown_article_fails_before_the_editor_opens() {
    let env = Env::new();
    with_article(&env);
    let marker = env.path("editor-ran");
    let ed = editor(
        &env,
        "marker.sh",
        &format!("touch {}; echo text > \"$1\"", marker.display()),
    );
    let out = env
        .cmd(&["note", "ffff0000"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nj: no article matches ffff0000; `nj list` shows ids, and `nj list --removed` the bin\n"
    );
    assert!(!marker.exists(), "the editor opened for an unknown article");
}

#[test]
fn empty_note_is_refused() {
    let env = Env::new();
    let id = with_article(&env);
    assert_eq!(
        env.nj(&["note", &id, "  \n "]).failure(),
        "nj: the note is empty, so nothing was saved\n"
    );
    assert_eq!(
        env.nj_stdin(&["jot", "-"], "\n\n").failure(),
        "nj: the note is empty, so nothing was saved\n"
    );
    assert_eq!(env.nj(&["--json", "notes"]).json(), json!([]));
}

#[test]
fn jot_writes_a_free_standing_note_and_notes_filters() {
    let env = Env::new();
    let id = with_article(&env);
    env.set_now("2026-11-21T09:00:00Z");
    env.nj(&["note", &id, "On the article"]).success();
    env.set_now("2026-11-22T09:00:00Z");
    let out = env
        .nj(&["jot", "Call the harbourmaster on Monday"])
        .success();
    let free = column(&env.nj(&["--json", "notes", "--free"]).json(), "id");
    assert_eq!(free.len(), 1);
    assert_eq!(
        out.stdout,
        format!("added journal note {}\n", short(&free[0]))
    );
    let on_article = note_ids(&env, &id);
    assert_eq!(on_article.len(), 1);

    assert_eq!(
        env.nj(&["notes"]).success().stdout,
        format!(
            "ID        WRITTEN           ARTICLE   NOTE\n\
             {}  2026-11-22 09:00  -         Call the harbourmaster on Monday\n\
             {}  2026-11-21 09:00  {}  On the article\n",
            short(&free[0]),
            short(&on_article[0]),
            short(&id)
        )
    );
    assert_eq!(
        env.nj(&["notes", "--free"]).success().stdout,
        format!(
            "ID        WRITTEN           ARTICLE  NOTE\n\
             {}  2026-11-22 09:00  -        Call the harbourmaster on Monday\n",
            short(&free[0])
        )
    );
    let v = env.nj(&["--json", "notes", "--article", &id]).json();
    assert_eq!(
        v,
        json!([{
            "id": on_article[0],
            "article_id": id,
            "text": "On the article",
            "created_at": "2026-11-21T09:00:00Z",
            "updated_at": "2026-11-21T09:00:00Z",
        }])
    );
    // A journal note is not an article's note.
    let shown = env.nj(&["--json", "show", &id]).json();
    assert_eq!(column(&shown["notes"], "id"), on_article);
}

#[test]
fn notes_edit_replaces_the_text() {
    let env = Env::new();
    let id = with_article(&env);
    env.nj(&["note", &id, "Frist draft"]).success();
    let nid = note_ids(&env, &id).remove(0);
    env.set_now("2026-11-25T12:00:00Z");
    let out = env
        .nj(&["notes", "edit", &nid[..6], "First draft"])
        .success();
    assert_eq!(out.stdout, format!("edited note {}\n", short(&nid)));
    let again = env.nj(&["notes", "edit", &nid, "First draft"]).success();
    assert_eq!(again.stdout, format!("unchanged note {}\n", short(&nid)));
    let v = env.nj(&["--json", "notes", "--article", &id]).json();
    assert_eq!(v[0]["text"], "First draft");
    assert_eq!(v[0]["created_at"], "2026-11-20T10:00:00Z");
    assert_eq!(v[0]["updated_at"], "2026-11-25T12:00:00Z");
}

#[test]
fn notes_edit_without_text_starts_the_editor_from_the_current_text() {
    let env = Env::new();
    let id = with_article(&env);
    env.nj(&["note", &id, "Line from before"]).success();
    let nid = note_ids(&env, &id).remove(0);
    let ed = editor(
        &env,
        "append.sh",
        "printf 'Line added in the editor\\n' >> \"$1\"",
    );
    let out = env
        .cmd(&["notes", "edit", &nid])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = env.nj(&["--json", "notes", "--article", &id]).json();
    assert_eq!(v[0]["text"], "Line from before\nLine added in the editor");
}

#[test]
fn notes_rm_removes_a_note_everywhere() {
    let env = Env::new();
    let id = with_article(&env);
    env.nj(&["note", &id, "Keep this one"]).success();
    env.set_now("2026-11-21T10:00:00Z");
    env.nj(&["note", &id, "Remove this one"]).success();
    env.nj(&["jot", "A journal note to remove"]).success();
    let ids = note_ids(&env, &id);
    let free = column(&env.nj(&["--json", "notes", "--free"]).json(), "id");

    let out = env.nj(&["notes", "rm", &ids[1]]).success();
    assert_eq!(out.stdout, format!("removed note {}\n", short(&ids[1])));
    env.nj(&["notes", "rm", &free[0]]).success();

    assert_eq!(note_ids(&env, &id), vec![ids[0].clone()]);
    assert_eq!(
        env.nj(&["--json", "notes"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let show = env.nj(&["show", &id]).success().stdout;
    assert!(!show.contains("Remove this one"), "{show}");
    assert!(show.contains("    Keep this one\n"), "{show}");
    assert_eq!(
        env.nj(&["notes", "rm", &ids[1]]).failure(),
        format!(
            "nj: no note matches {}; `nj notes` shows note ids\n",
            ids[1]
        )
    );
}

#[test]
fn a_removed_note_is_listed_and_can_be_restored() {
    let env = Env::new();
    let v = env.nj(&["--json", "jot", "kept for later"]).json();
    let nid = v["id"].as_str().unwrap().to_owned();
    env.nj(&["notes", "rm", &nid[..8]]).success();
    assert_eq!(env.nj(&["--json", "notes"]).json(), serde_json::json!([]));
    let removed = env.nj(&["--json", "notes", "--removed"]).json();
    assert_eq!(removed[0]["id"], nid.as_str());
    let out = env.nj(&["notes", "restore", &nid[..8]]).success();
    assert_eq!(out.stdout, format!("restored note {}\n", &nid[..8]));
    assert_eq!(
        env.nj(&["--json", "notes"]).json()[0]["text"],
        "kept for later"
    );
    assert_eq!(
        env.nj(&["--json", "notes", "--removed"]).json(),
        serde_json::json!([])
    );
}

/// Issue 17, item 8 (notes): a 60 MB note on stdin took 765 MB of memory
/// and could never sync (over the server's body limit). A note holds at
/// most 1 MB: more is refused, through every way a note comes in, without
/// reading the rest, and nothing is stored.
#[test]
fn regression_unbounded_notes() {
    let env = Env::new();
    let id = env.clip_text("Harbor\n\nThe harbor story.\n", &[]);
    let big = "word ".repeat(500_000); // 2.5 MB
    let before = env.snapshot();
    for args in [&["note", id.as_str(), "-"][..], &["jot", "-"]] {
        let out = env.nj_stdin(args, &big);
        assert_eq!(out.code, Some(1), "{args:?}");
        assert!(
            out.stderr.contains("a note holds at most 1 MB"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(env.snapshot().0, before.0, "nothing was written");
    // From an import: that note is rejected with the reason, the rest
    // import (the library checks every new note).
    let body = "z".repeat((1 << 20) + 1);
    env.write(
        "big.json",
        format!(
            "{{\"format\":\"newsjournal\",\"version\":1,\"articles\":[],\"notes\":[\
             {{\"id\":\"11111111-1111-4111-8111-111111111111\",\"body\":\"{body}\",\"created_at\":\"2026-11-26T09:00:00.000Z\",\"updated_at\":\"2026-11-26T09:00:00.000Z\"}},\
             {{\"id\":\"22222222-2222-4222-8222-222222222222\",\"body\":\"small\",\"created_at\":\"2026-11-26T09:00:00.000Z\",\"updated_at\":\"2026-11-26T09:00:00.000Z\"}}],\"followups\":[]}}"
        ),
    );
    let out = env.nj(&["import", "big.json"]).success();
    assert!(out.stdout.contains("1 added"), "{}", out.stdout);
    assert!(
        out.stderr.contains("a note holds at most 1 MB"),
        "{}",
        out.stderr
    );
    // Just under the cap is fine.
    let fits = "y".repeat((1 << 20) - 10);
    env.nj_stdin(&["note", &id, "-"], &fits).success();
    env.nj(&["verify"]).success();
}
