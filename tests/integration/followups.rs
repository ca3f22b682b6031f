//! Follow-ups: creating them (on an article, on an article with the
//! default text, free-standing, and from `nj clip`), acting on them (done,
//! snooze, reopen, edit, rm), repeating ones, and how `nj follow-ups` and
//! `nj show` list them. `nj due` is in `due`, WHEN forms in `when`.

use serde_json::{json, Value};

use crate::ids::rename_article;
use crate::util::{assert_refused, column, id_of, sha256, short, Env, NOW};
use crate::when::WHEN_FORMS;

const JEDI: &str =
    "Court weighs JEDI contract\n\nThe judge will rule on the cloud contract in December.\n";
const JEDI_URL: &str = "https://news.example/jedi";
const ONE: &str = "aaaa1111-0000-4000-8000-000000000001";
const TWO: &str = "aaaa2222-0000-4000-8000-000000000002";
const PORT: &str = "Harbour dredging delayed\n\nThe dredging contract was postponed again.\n";

/// Clips the JEDI story (with a source URL) and returns its id.
fn jedi(env: &Env) -> String {
    env.clip_text(JEDI, &["--url", JEDI_URL])
}

/// The follow-up with this id, as `nj --json follow-ups` shows it.
fn get(env: &Env, id: &str) -> Value {
    env.followups_json()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no follow-up {id}"))
        .clone()
}

/// An $EDITOR that runs `script` (a shell snippet) with the file as $1.
fn editor(env: &Env, name: &str, script: &str) -> String {
    let path = env.write(name, format!("{script}\n"));
    format!("sh {}", path.display())
}

// ---------------------------------------------------------------------------
// Creating.

#[test]
fn follow_up_on_an_article_with_text() {
    let env = Env::new();
    let a = jedi(&env);
    let out = env
        .nj(&["follow-up", &a, "check the ruling", "--due", "2026-12-01"])
        .success();
    let list = env.followups_json();
    let f = id_of(&list[0]);
    assert_eq!(
        out.stdout,
        format!(
            "follow-up {} due Tue 2026-12-01 09:00: check the ruling (on {})\n",
            short(&f),
            short(&a)
        )
    );
    assert_eq!(out.stderr, "");
    assert_eq!(
        list,
        json!([{
            "id": f,
            "article_id": a,
            "article_title": "Court weighs JEDI contract",
            "article_url": JEDI_URL,
            "text": "check the ruling",
            "due_at": "2026-12-01T09:00:00Z",
            "status": "open",
            "every": null,
            "done_at": null,
            "created_at": NOW,
            "updated_at": NOW,
        }])
    );
}

#[test]
fn follow_up_with_only_an_article_id_says_check_for_updates() {
    let env = Env::new();
    let a = jedi(&env);
    // A short prefix of the id is enough.
    let v = env.follow_up(&[short(&a), "--due", "in 3 days"]);
    assert_eq!(
        v,
        json!({
            "id": id_of(&v),
            "article_id": a,
            "article_title": "Court weighs JEDI contract",
            "article_url": JEDI_URL,
            "text": "Check for updates",
            "due_at": "2026-11-29T09:00:00Z",
            "status": "open",
            "every": null,
            "done_at": null,
            "created_at": NOW,
            "updated_at": NOW,
        })
    );
    assert_eq!(env.followups_json().as_array().unwrap().len(), 1);
}

#[test]
fn free_standing_follow_up_has_no_article() {
    let env = Env::new();
    jedi(&env);
    let out = env
        .nj(&[
            "follow-up",
            "renew the press pass",
            "--due",
            "friday",
            "--every",
            "1mo",
        ])
        .success();
    let list = env.followups_json();
    let f = id_of(&list[0]);
    assert_eq!(
        out.stdout,
        format!(
            "follow-up {} due Fri 2026-11-27 09:00, repeating every 1mo: renew the press pass\n",
            short(&f)
        )
    );
    assert_eq!(
        list,
        json!([{
            "id": f,
            "article_id": null,
            "article_title": null,
            "article_url": null,
            "text": "renew the press pass",
            "due_at": "2026-11-27T09:00:00Z",
            "status": "open",
            "every": "1mo",
            "done_at": null,
            "created_at": NOW,
            "updated_at": NOW,
        }])
    );
}

#[test]
fn clip_with_follow_up_creates_both() {
    let env = Env::new();
    let out = env
        .nj_stdin(
            &[
                "clip",
                "-",
                "--url",
                "https://news.example/port",
                "--follow-up",
                "ask the port authority",
                "--due",
                "next monday",
                "--every",
                "1w",
            ],
            PORT,
        )
        .success();
    let a = id_of(&env.list_json()[0]);
    let f = get(&env, &id_of(&env.followups_json()[0]));
    assert_eq!(
        out.stdout,
        format!(
            "clipped {a8}: Harbour dredging delayed\n  {}\n  follow-up {} due Mon 2026-11-30 09:00, repeating every 1w: ask the port authority (on {a8})\n",
            sha256(PORT.as_bytes()),
            short(f["id"].as_str().unwrap()),
            a8 = short(&a),
        )
    );
    assert_eq!(
        f,
        json!({
            "id": f["id"],
            "article_id": a,
            "article_title": "Harbour dredging delayed",
            "article_url": "https://news.example/port",
            "text": "ask the port authority",
            "due_at": "2026-11-30T09:00:00Z",
            "status": "open",
            "every": "1w",
            "done_at": null,
            "created_at": NOW,
            "updated_at": NOW,
        })
    );
}

#[test]
fn clip_json_reports_the_follow_up_and_due_alone_uses_the_default_text() {
    let env = Env::new();
    let v = env
        .nj_stdin(&["--json", "clip", "-", "--due", "tomorrow 8am"], JEDI)
        .json();
    assert_eq!(v["status"], "new");
    assert_eq!(v["followup"]["article_id"], v["article"]["id"]);
    assert_eq!(v["followup"]["article_title"], "Court weighs JEDI contract");
    assert_eq!(v["followup"]["text"], "Check for updates");
    assert_eq!(v["followup"]["due_at"], "2026-11-27T08:00:00Z");
    assert_eq!(v["followup"]["every"], Value::Null);
    assert_eq!(env.followups_json(), json!([v["followup"]]));

    let plain = env.nj_stdin(&["--json", "clip", "-"], PORT).json();
    assert_eq!(plain["followup"], Value::Null);
    assert_eq!(env.followups_json().as_array().unwrap().len(), 1);
}

#[test]
fn clip_follow_up_without_due_is_a_usage_error_and_clips_nothing() {
    let env = Env::new();
    let out = env.nj_stdin(&["clip", "-", "--follow-up", "ask"], JEDI);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("--due <WHEN>"), "{}", out.stderr);
    assert!(!env.db().exists(), "a refused clip made a journal");
}

#[test]
fn clip_with_an_unreadable_due_clips_nothing() {
    let env = Env::new();
    jedi(&env);
    assert_refused(
        &env,
        &["clip", "-", "--follow-up", "ask", "--due", "someday"],
        Some(PORT.as_bytes()),
        &format!("nj: cannot read the time \"someday\"; write it like one of: {WHEN_FORMS}\n"),
    );
    assert_eq!(env.followups_json(), json!([]));
}

#[test]
fn follow_up_without_due_is_refused_and_writes_nothing() {
    let env = Env::new();
    let a = jedi(&env);
    let msg = "nj: a follow-up needs --due WHEN, for example --due 'in 3 weeks' or --due friday\n";
    assert_refused(&env, &["follow-up", &a, "check the ruling"], None, msg);
    assert_refused(&env, &["follow-up", &a], None, msg);
    assert_refused(&env, &["follow-up", "renew the press pass"], None, msg);
    assert_eq!(env.followups_json(), json!([]));
}

#[test]
fn follow_up_on_an_unknown_article_is_refused() {
    let env = Env::new();
    jedi(&env);
    assert_refused(
        &env,
        &["follow-up", "0000dead", "check", "--due", "friday"],
        None,
        "nj: no article matches 0000dead; `nj list` shows ids, and `nj list --removed` the bin\n",
    );
    assert_eq!(env.followups_json(), json!([]));
}

/// Regression: `nj follow-up PREFIX --due WHEN` with a prefix that matches
/// two articles made a free-standing follow-up whose text was the prefix.
#[test]
fn follow_up_on_an_ambiguous_article_prefix_is_refused_not_taken_as_text() {
    let env = Env::new();
    let a = env.clip_text("First of two\n\nOne text.\n", &[]);
    let b = env.clip_text("Second of two\n\nAnother text.\n", &[]);
    rename_article(&env, &a, ONE);
    rename_article(&env, &b, TWO);
    let listing = format!(
        "nj: aaaa matches 2 articles; use more characters:\n  {ONE}  First of two\n  {TWO}  Second of two\n"
    );
    assert_refused(
        &env,
        &["follow-up", "aaaa", "check", "--due", "friday"],
        None,
        &listing,
    );
    assert_refused(
        &env,
        &["follow-up", "aaaa", "--due", "friday"],
        None,
        &listing,
    );
    assert_eq!(env.followups_json(), json!([]));
}

#[test]
fn ambiguous_follow_up_prefix_lists_the_candidates() {
    let env = Env::new();
    let f1 = id_of(&env.follow_up(&["first reminder", "--due", "friday"]));
    let f2 = id_of(&env.follow_up(&["second reminder", "--due", "friday"]));
    let conn = env.sqlite();
    for (from, to) in [(&f1, ONE), (&f2, TWO)] {
        let n = conn
            .execute("UPDATE followups SET id = ?2 WHERE id = ?1", [from, to])
            .unwrap();
        assert_eq!(n, 1);
    }
    drop(conn);
    let listing = format!(
        "nj: aaaa matches 2 follow-ups; use more characters:\n  {ONE}  first reminder\n  {TWO}  second reminder\n"
    );
    assert_refused(&env, &["done", "aaaa"], None, &listing);
    assert_refused(&env, &["snooze", "aaaa", "tomorrow"], None, &listing);
    assert_refused(&env, &["follow-up", "rm", "aaaa"], None, &listing);
    assert_eq!(
        env.nj(&["done", "aaaa2"]).success().stdout,
        "done aaaa2222: second reminder\n"
    );
}

#[test]
fn follow_up_without_text_or_with_a_bad_interval_is_refused() {
    let env = Env::new();
    let a = jedi(&env);
    assert_refused(
        &env,
        &["follow-up", "--due", "friday"],
        None,
        "nj: give the follow-up's text, and the article's id if it is about one: nj follow-up ID TEXT --due WHEN\n",
    );
    assert_refused(
        &env,
        &["follow-up", &a, "  \n ", "--due", "friday"],
        None,
        "nj: the follow-up needs some text saying what to check\n",
    );
    assert_refused(
        &env,
        &[
            "follow-up",
            &a,
            "check",
            "--due",
            "friday",
            "--every",
            "fortnightly",
        ],
        None,
        "nj: cannot read the interval \"fortnightly\"; use e.g. 3d, 1w, 2 weeks, 1mo, 1y or 12h\n",
    );
    assert_eq!(env.followups_json(), json!([]));
}

// ---------------------------------------------------------------------------
// Acting on them.

/// The JEDI story with three follow-ups, created at NOW (Thursday
/// 2026-11-26 09:00 UTC): "check the ruling" (due two days ago), "ask for
/// the filing" (due Monday) and the free-standing "renew the press pass"
/// (due Tuesday). Returns the article's id and the three follow-ups' ids.
fn three(env: &Env) -> (String, String, String, String) {
    let a = jedi(env);
    let f1 = id_of(&env.follow_up(&[&a, "check the ruling", "--due", "2026-11-24"]));
    let f2 = id_of(&env.follow_up(&[&a, "ask for the filing", "--due", "2026-11-30"]));
    let f3 = id_of(&env.follow_up(&["renew the press pass", "--due", "2026-12-01"]));
    (a, f1, f2, f3)
}

#[test]
fn done_closes_a_follow_up_once() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "1\n");
    env.set_now("2026-11-26T10:00:00Z");
    let out = env.nj(&["done", short(&f1)]).success();
    assert_eq!(
        out.stdout,
        format!("done {}: check the ruling\n", short(&f1))
    );
    let f = get(&env, &f1);
    assert_eq!(f["status"], "done");
    assert_eq!(f["done_at"], "2026-11-26T10:00:00Z");
    assert_eq!(f["updated_at"], "2026-11-26T10:00:00Z");
    assert_eq!(f["due_at"], "2026-11-24T09:00:00Z");
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");

    env.set_now("2026-11-26T11:00:00Z");
    let again = env.nj(&["done", &f1]).success();
    assert_eq!(
        again.stdout,
        format!("{} was already done: check the ruling\n", short(&f1))
    );
    assert_eq!(get(&env, &f1)["done_at"], "2026-11-26T10:00:00Z");
}

#[test]
fn done_takes_several_ids_and_refuses_all_if_one_is_unknown() {
    let env = Env::new();
    let (_a, _f1, f2, f3) = three(&env);
    assert_refused(
        &env,
        &["done", &f2, "ffff0000"],
        None,
        "nj: no follow-up matches ffff0000; `nj follow-ups` shows follow-up ids\n",
    );
    assert_eq!(get(&env, &f2)["status"], "open");

    let v = env.nj(&["--json", "done", &f2, &f3]).json();
    assert_eq!(column(&v, "id"), [f2.clone(), f3.clone()]);
    assert_eq!(column(&v, "status"), ["done", "done"]);
    assert_eq!(column(&v, "done_at"), [NOW, NOW]);
    let out = env.nj(&["done", &f3, &f2]).success();
    assert_eq!(
        out.stdout,
        format!(
            "{} was already done: renew the press pass\n{} was already done: ask for the filing\n",
            short(&f3),
            short(&f2)
        )
    );
}

#[test]
fn snooze_moves_the_due_time_and_reopens_a_done_one() {
    let env = Env::new();
    let (_a, f1, f2, _f3) = three(&env);
    // WHEN may be given as several words without quotes.
    let out = env.nj(&["snooze", &f1, "in", "2", "days"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "snoozed follow-up {}: check the ruling (due Sat 2026-11-28 09:00)\n",
            short(&f1)
        )
    );
    assert_eq!(get(&env, &f1)["due_at"], "2026-11-28T09:00:00Z");
    assert_eq!(get(&env, &f1)["status"], "open");
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");

    env.nj(&["done", &f2]).success();
    env.set_now("2026-11-26T12:00:00Z");
    let out = env.nj(&["snooze", &f2, "tomorrow 8am"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "snoozed follow-up {}: ask for the filing (due Fri 2026-11-27 08:00)\n",
            short(&f2)
        )
    );
    let f = get(&env, &f2);
    assert_eq!(f["status"], "open");
    assert_eq!(f["due_at"], "2026-11-27T08:00:00Z");
    assert_eq!(f["done_at"], NOW);
    assert_eq!(f["updated_at"], "2026-11-26T12:00:00Z");
}

#[test]
fn snooze_needs_a_readable_when() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    assert_refused(
        &env,
        &["snooze", &f1],
        None,
        "nj: say until when: nj snooze ID 'in 3 days'\n",
    );
    assert_refused(
        &env,
        &["snooze", &f1, "later"],
        None,
        &format!("nj: cannot read the time \"later\"; write it like one of: {WHEN_FORMS}\n"),
    );
    assert_eq!(get(&env, &f1)["due_at"], "2026-11-24T09:00:00Z");
}

#[test]
fn reopen_brings_a_done_follow_up_back_as_it_was() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    let out = env.nj(&["reopen", &f1]).success();
    assert_eq!(
        out.stdout,
        format!(
            "already open: follow-up {}: check the ruling (due Tue 2026-11-24 09:00)\n",
            short(&f1)
        )
    );
    env.nj(&["done", &f1]).success();
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");
    let out = env.nj(&["reopen", &f1]).success();
    assert_eq!(
        out.stdout,
        format!(
            "reopened follow-up {}: check the ruling (due Tue 2026-11-24 09:00)\n",
            short(&f1)
        )
    );
    let f = get(&env, &f1);
    assert_eq!(f["status"], "open");
    assert_eq!(f["due_at"], "2026-11-24T09:00:00Z");
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "1\n");
    assert_refused(
        &env,
        &["reopen", "ffff0000"],
        None,
        "nj: no follow-up matches ffff0000; `nj follow-ups` shows follow-up ids\n",
    );
}

#[test]
fn edit_changes_text_due_and_repeat() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    env.set_now("2026-11-26T10:00:00Z");
    let out = env
        .nj(&[
            "follow-up",
            "edit",
            &f1,
            "--text",
            "  check the   appeal\nruling ",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "edited follow-up {}: check the appeal ruling (due Tue 2026-11-24 09:00)\n",
            short(&f1)
        )
    );
    let f = get(&env, &f1);
    assert_eq!(f["text"], "check the appeal ruling");
    assert_eq!(f["updated_at"], "2026-11-26T10:00:00Z");
    assert_eq!(f["created_at"], NOW);

    let v = env
        .nj(&[
            "--json",
            "follow-up",
            "edit",
            &f1,
            "--due",
            "dec 3",
            "--every",
            "2w",
        ])
        .json();
    assert_eq!(v["due_at"], "2026-12-03T09:00:00Z");
    assert_eq!(v["every"], "2w");
    assert_eq!(v["text"], "check the appeal ruling");
    assert_eq!(v, get(&env, &f1));

    let v = env
        .nj(&["--json", "follow-up", "edit", &f1, "--no-repeat"])
        .json();
    assert_eq!(v["every"], Value::Null);
    assert_eq!(v["due_at"], "2026-12-03T09:00:00Z");

    // A done one stays done.
    env.nj(&["done", &f1]).success();
    let out = env
        .nj(&["follow-up", "edit", &f1, "--text", "read the appeal"])
        .success();
    assert_eq!(
        out.stdout,
        format!("edited follow-up {}: read the appeal (done)\n", short(&f1))
    );
}

#[test]
fn edit_refuses_bad_values_and_both_every_and_no_repeat() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    assert_refused(
        &env,
        &["follow-up", "edit", &f1, "--every", "fortnightly"],
        None,
        "nj: cannot read the interval \"fortnightly\"; use e.g. 3d, 1w, 2 weeks, 1mo, 1y or 12h\n",
    );
    assert_refused(
        &env,
        &["follow-up", "edit", &f1, "--text", " "],
        None,
        "nj: the follow-up needs some text saying what to check\n",
    );
    assert_refused(
        &env,
        &["follow-up", "edit", &f1, "--due", "whenever"],
        None,
        &format!("nj: cannot read the time \"whenever\"; write it like one of: {WHEN_FORMS}\n"),
    );
    let out = env.nj(&["follow-up", "edit", &f1, "--every", "1w", "--no-repeat"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    assert_eq!(get(&env, &f1)["every"], Value::Null);
}

#[test]
fn edit_without_options_opens_the_editor_on_the_text() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    // The editor sees the current text and appends to it.
    let ed = editor(
        &env,
        "editor.sh",
        "printf '%s and the appeal\\n' \"$(cat \"$1\")\" > \"$1\"",
    );
    let out = env
        .cmd(&["follow-up", "edit", &f1])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "edited follow-up {}: check the ruling and the appeal (due Tue 2026-11-24 09:00)\n",
            short(&f1)
        )
    );
    assert_eq!(get(&env, &f1)["text"], "check the ruling and the appeal");
}

#[test]
fn editor_failure_or_empty_text_changes_nothing() {
    let env = Env::new();
    let (_a, f1, _f2, _f3) = three(&env);
    let before = env.followups_json();
    let fail = editor(&env, "fail.sh", "echo 'half a text' > \"$1\"; exit 3");
    let out = env
        .cmd(&["follow-up", "edit", &f1])
        .env("EDITOR", &fail)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("nj: the editor {fail:?} exited with exit status: 3; nothing was saved\n")
    );
    let empty = editor(&env, "empty.sh", ": > \"$1\"");
    let out = env
        .cmd(&["follow-up", "edit", &f1])
        .env("EDITOR", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nj: the follow-up needs some text saying what to check\n"
    );
    assert_eq!(env.followups_json(), before);
}

#[test]
fn rm_deletes_a_follow_up() {
    let env = Env::new();
    let (a, f1, f2, _f3) = three(&env);
    let out = env.nj(&["follow-up", "rm", short(&f1)]).success();
    assert_eq!(out.stdout, format!("removed follow-up {}\n", short(&f1)));
    let v = env.nj(&["--json", "follow-up", "rm", &f2]).json();
    assert_eq!(v, json!({ "id": f2, "removed": true }));
    assert_eq!(env.followups_json().as_array().unwrap().len(), 1);
    assert_eq!(
        env.nj(&["--json", "show", &a]).json()["followups"],
        json!([])
    );
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");
    let gone = format!("nj: no follow-up matches {f1}; `nj follow-ups` shows follow-up ids\n");
    assert_refused(&env, &["done", &f1], None, &gone);
    assert_refused(&env, &["follow-up", "rm", &f1], None, &gone);
}

// ---------------------------------------------------------------------------
// Listing.

#[test]
fn follow_ups_lists_open_by_due_then_done_by_done_time() {
    let env = Env::new();
    let (a, f1, f2, f3) = three(&env);
    let b = env.clip_text(PORT, &[]);
    let f4 = id_of(&env.follow_up(&["weekly round-up", "--due", "2026-11-27", "--every", "1w"]));
    let f5 = id_of(&env.follow_up(&[&b, "call the contractor", "--due", "2026-11-25"]));
    let f6 = id_of(&env.follow_up(&[&a, "read the brief", "--due", "2026-11-20"]));
    env.set_now("2026-11-26T09:30:00Z");
    env.nj(&["done", &f6]).success();
    env.set_now("2026-11-26T10:00:00Z");
    env.nj(&["done", &f5]).success();

    let (s1, s2, s3, s4, s5, s6) = (
        short(&f1),
        short(&f2),
        short(&f3),
        short(&f4),
        short(&f5),
        short(&f6),
    );
    let (sa, sb) = (short(&a), short(&b));
    let out = env.nj(&["follow-ups"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS         FOLLOW-UP                   ARTICLE\n\
             {s1}  2026-11-24 09:00  2d 1h overdue  check the ruling            {sa} Court weighs JEDI contract\n\
             {s4}  2026-11-27 09:00  in 23h         weekly round-up (every 1w)  -\n\
             {s2}  2026-11-30 09:00  in 3d 23h      ask for the filing          {sa} Court weighs JEDI contract\n\
             {s3}  2026-12-01 09:00  in 4d 23h      renew the press pass        -\n\
             {s5}  2026-11-25 09:00  done           call the contractor         {sb} Harbour dredging delayed\n\
             {s6}  2026-11-20 09:00  done           read the brief              {sa} Court weighs JEDI contract\n"
        )
    );

    let ids = |args: &[&str]| {
        let mut all = vec!["--json", "follow-ups"];
        all.extend_from_slice(args);
        column(&env.nj(&all).json(), "id")
    };
    assert_eq!(
        ids(&[]),
        [&f1, &f4, &f2, &f3, &f5, &f6].map(|s| s.to_string())
    );
    assert_eq!(
        ids(&["--open"]),
        [&f1, &f4, &f2, &f3].map(|s| s.to_string())
    );
    assert_eq!(ids(&["--done"]), [&f5, &f6].map(|s| s.to_string()));
    assert_eq!(
        ids(&["--article", short(&a)]),
        [&f1, &f2, &f6].map(|s| s.to_string())
    );
    assert_eq!(
        ids(&["--article", &a, "--open"]),
        [&f1, &f2].map(|s| s.to_string())
    );
    assert_eq!(ids(&["-a", &b, "--done"]), [f5.as_str()]);
    assert_eq!(ids(&["-a", &b, "--open"]), Vec::<String>::new());

    let out = env.nj(&["follow-ups", "--done", "--article", &a]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS  FOLLOW-UP       ARTICLE\n\
             {s6}  2026-11-20 09:00  done    read the brief  {sa} Court weighs JEDI contract\n"
        )
    );
}

#[test]
fn follow_ups_says_so_when_there_are_none() {
    let env = Env::new();
    let a = jedi(&env);
    let out = env.nj(&["follow-ups"]).success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "no follow-ups; add one with `nj follow-up ID TEXT --due WHEN`\n"
    );
    assert_eq!(
        env.nj(&["--json", "follow-ups", "-a", &a]).json(),
        json!([])
    );
    let out = env.nj(&["follow-ups", "--open", "--done"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_refused(
        &env,
        &["follow-ups", "--article", "0000dead"],
        None,
        "nj: no article matches 0000dead; `nj list` shows ids, and `nj list --removed` the bin\n",
    );
}

// ---------------------------------------------------------------------------
// Repeating follow-ups.

#[test]
fn weekly_follow_up_rearms_on_its_weekday_and_time() {
    let env = Env::new();
    let a = jedi(&env);
    let f = id_of(&env.follow_up(&[
        &a,
        "look at the docket",
        "--due",
        "2026-11-27",
        "--every",
        "1w",
    ]));
    // Done a day late, in the afternoon: next due the following Friday at
    // 09:00, the schedule's day and time.
    env.set_now("2026-11-28T15:30:00Z");
    let out = env.nj(&["done", &f]).success();
    assert_eq!(
        out.stdout,
        format!(
            "done {}: look at the docket (repeats: next due 2026-12-04 09:00)\n",
            short(&f)
        )
    );
    let v = get(&env, &f);
    assert_eq!(v["status"], "open");
    assert_eq!(v["every"], "1w");
    assert_eq!(v["due_at"], "2026-12-04T09:00:00Z");
    assert_eq!(v["done_at"], "2026-11-28T15:30:00Z");
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");
    let count_at = |when: &str| {
        env.nj(&["due", "--count", "--as-of", when])
            .success()
            .stdout
    };
    assert_eq!(count_at("2026-12-04T08:59"), "0\n");
    assert_eq!(count_at("2026-12-04T09:00"), "1\n");

    // Done again early: that Friday's is done, the next Friday's is due.
    env.set_now("2026-12-01T08:00:00Z");
    let v = env.nj(&["--json", "done", &f]).json();
    assert_eq!(v[0]["due_at"], "2026-12-11T09:00:00Z");
    assert_eq!(v[0]["done_at"], "2026-12-01T08:00:00Z");
    assert_eq!(v[0]["status"], "open");

    // Three weeks behind: the missed Fridays are skipped, not piled up.
    env.set_now("2027-01-02T10:00:00Z");
    let v = env.nj(&["--json", "done", &f]).json();
    assert_eq!(v[0]["due_at"], "2027-01-08T09:00:00Z");
}

/// Issue 16, bug 5: a weekly follow-up due Monday 09:00 marked done early
/// (at 03:02) became due at 03:02 the next Monday.
#[test]
fn regression_repeating_follow_ups_drift() {
    let env = Env::new();
    env.set_tz("Europe/Berlin");
    env.set_now("2026-12-01T12:00:00Z");
    let f = id_of(&env.follow_up(&[
        "weekly look at the docket",
        "--due",
        "monday",
        "--every",
        "1w",
    ]));
    assert_eq!(get(&env, &f)["due_at"], "2026-12-07T08:00:00Z");
    // Monday 03:02 in Berlin.
    env.set_now("2026-12-07T02:02:00Z");
    let out = env.nj(&["done", &f]).success();
    assert_eq!(
        out.stdout,
        format!(
            "done {}: weekly look at the docket (repeats: next due 2026-12-14 09:00)\n",
            short(&f)
        )
    );
    assert_eq!(get(&env, &f)["due_at"], "2026-12-14T08:00:00Z");
}

#[test]
fn monthly_follow_up_rearms_on_the_calendar() {
    let env = Env::new();
    env.set_now("2027-01-20T09:00:00Z");
    let f = id_of(&env.follow_up(&[
        "check the council minutes",
        "--due",
        "2027-01-31",
        "--every",
        "1mo",
    ]));
    // Done on January 31: one month on is February 28, at the due time.
    env.set_now("2027-01-31T12:00:00Z");
    let out = env.nj(&["done", &f]).success();
    assert_eq!(
        out.stdout,
        format!(
            "done {}: check the council minutes (repeats: next due 2027-02-28 09:00)\n",
            short(&f)
        )
    );
    let v = get(&env, &f);
    assert_eq!(v["status"], "open");
    assert_eq!(v["due_at"], "2027-02-28T09:00:00Z");
    assert_eq!(v["every"], "1mo");
    // The schedule goes on from the due time it has: the 28th.
    env.set_now("2027-03-01T12:00:00Z");
    env.nj(&["done", &f]).success();
    assert_eq!(get(&env, &f)["due_at"], "2027-03-28T09:00:00Z");
}

#[test]
fn weekly_follow_up_keeps_its_local_time_across_daylight_saving() {
    let env = Env::new();
    env.set_tz("America/New_York");
    env.set_now("2026-02-25T15:00:00Z");
    let f = id_of(&env.follow_up(&["call the clerk", "--due", "2026-03-01", "--every", "1w"]));
    // Due Sunday 09:00 EST, done at 10:00; a week later clocks are on EDT,
    // and 09:00 is 13:00 UTC.
    env.set_now("2026-03-01T15:00:00Z");
    let out = env.nj(&["done", &f]).success();
    assert_eq!(
        out.stdout,
        format!(
            "done {}: call the clerk (repeats: next due 2026-03-08 09:00)\n",
            short(&f)
        )
    );
    assert_eq!(get(&env, &f)["due_at"], "2026-03-08T13:00:00Z");
}

#[test]
fn stopping_a_repeat_lets_done_close_it() {
    let env = Env::new();
    let f = id_of(&env.follow_up(&["weekly round-up", "--due", "friday", "--every", "1w"]));
    env.nj(&["follow-up", "edit", &f, "--no-repeat"]).success();
    let out = env.nj(&["done", &f]).success();
    assert_eq!(out.stdout, format!("done {}: weekly round-up\n", short(&f)));
    assert_eq!(get(&env, &f)["status"], "done");
}

// ---------------------------------------------------------------------------
// nj show.

#[test]
fn show_lists_the_articles_follow_ups() {
    let env = Env::new();
    let (a, f1, f2, f3) = three(&env);
    let f4 = id_of(&env.follow_up(&[&a, "weekly check", "--due", "2026-11-27", "--every", "1w"]));
    env.nj(&["done", &f2]).success();
    let out = env.nj(&["show", &a]).success();
    let section = format!(
        "\n\nFollow-ups\n  {}  due 2026-11-24 09:00  check the ruling\n  {}  due 2026-11-27 09:00, every 1w  weekly check\n  {}  done  ask for the filing\n\nVersions\n",
        short(&f1),
        short(&f4),
        short(&f2)
    );
    assert!(out.stdout.contains(&section), "{}", out.stdout);
    // The free-standing follow-up is on no article.
    assert!(!out.stdout.contains(short(&f3)), "{}", out.stdout);

    let v = env.nj(&["--json", "show", &a]).json();
    assert_eq!(
        column(&v["followups"], "id"),
        [f1.clone(), f4.clone(), f2.clone()]
    );
    assert_eq!(
        v["followups"],
        env.nj(&["--json", "follow-ups", "--article", &a]).json()
    );
    assert_eq!(v["followups"][1]["every"], "1w");
    assert_eq!(v["followups"][2]["status"], "done");
    assert_eq!(
        v["followups"][0]["article_title"],
        "Court weighs JEDI contract"
    );

    let b = env.clip_text(PORT, &[]);
    assert!(!env
        .nj(&["show", &b])
        .success()
        .stdout
        .contains("Follow-ups"));
    assert_eq!(
        env.nj(&["--json", "show", &b]).json()["followups"],
        json!([])
    );
}

/// Issue 16, bug 3: `nj follow-up f23x --due "in 3 weeks"` made a free
/// follow-up with the text "f23x". A lone word that looks like an id and
/// names no article is refused with the ids it could be; `--free` makes it
/// the text on purpose.
#[test]
fn regression_a_mistyped_id_becomes_the_reminders_text() {
    let env = Env::new();
    let id = env.clip_text("Court sets a date\n\nThe hearing is in March.\n", &[]);
    // A prefix of the real id with its last character mistyped (with or
    // without a digit in it: "3fax" and "abcx" are both typos).
    let typo = format!("{}x", &id[..3]);
    let before = env.snapshot();
    let out = env.nj(&["follow-up", &typo, "--due", "in 3 weeks"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("no article has an id starting with \"{typo}\"")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(short(&id)),
        "lists the article it could be: {}",
        out.stderr
    );
    assert!(out.stderr.contains("--free"), "{}", out.stderr);
    assert_eq!(env.snapshot().0, before.0, "nothing was written");
    assert_eq!(env.followups_json(), serde_json::json!([]));

    // A hex prefix that matches nothing is refused too.
    let other = if id.starts_with('0') { "1234" } else { "0000" };
    let out = env.nj(&["follow-up", other, "--due", "friday"]);
    assert_eq!(out.code, Some(1), "{out:?}");

    // Asked for explicitly, it is a free follow-up with that text.
    let f = env.follow_up(&[&typo, "--free", "--due", "in 3 weeks"]);
    assert_eq!(f["text"], typo.as_str());
    assert_eq!(f["article_id"], serde_json::Value::Null);
    // Words are still text, and a real prefix still names the article.
    let f = env.follow_up(&["renew", "--due", "friday"]);
    assert_eq!(f["text"], "renew");
    let f = env.follow_up(&[&id[..6], "--due", "friday"]);
    assert_eq!(f["article_id"], id.as_str());
}
