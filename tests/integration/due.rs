//! `nj due`: the open follow-ups that are due, oldest due first, with how
//! overdue each is; `--within`, `--as-of`, `--count` and `--json`.

use serde_json::json;

use crate::util::{assert_refused, column, id_of, short, Env, NOW};

const JEDI: &str =
    "Court weighs JEDI contract\n\nThe judge will rule on the cloud contract in December.\n";
const JEDI_URL: &str = "https://news.example/jedi";
const PORT: &str = "Harbour dredging delayed\n\nThe dredging contract was postponed again.\n";

/// A journal at NOW (Thursday 2026-11-26 09:00 UTC) with two articles and
/// follow-ups created out of due order:
/// - f1 on JEDI, 7 days 1 hour overdue;
/// - f2 free-standing and repeating, 45 minutes overdue;
/// - f3 on the port story, due in 2 days 21 hours;
/// - f4 on JEDI, due in 14 days;
/// - one done and one removed, both long due, which never show.
struct Journal {
    env: Env,
    a: String,
    b: String,
    f1: String,
    f2: String,
    f3: String,
    f4: String,
}

fn journal() -> Journal {
    let env = Env::new();
    let a = env.clip_text(JEDI, &["--url", JEDI_URL]);
    let b = env.clip_text(PORT, &[]);
    let f3 = id_of(&env.follow_up(&[&b, "call the contractor", "--due", "2026-11-29T06:00"]));
    let f1 = id_of(&env.follow_up(&[&a, "check the ruling", "--due", "2026-11-19T08:00"]));
    let f2 = id_of(&env.follow_up(&[
        "renew the press pass",
        "--due",
        "2026-11-26T08:15",
        "--every",
        "1mo",
    ]));
    let f4 = id_of(&env.follow_up(&[&a, "read the judgment", "--due", "2026-12-10"]));
    let done = id_of(&env.follow_up(&[&a, "ask for the filing", "--due", "2026-11-20"]));
    env.nj(&["done", &done]).success();
    let removed = id_of(&env.follow_up(&["old reminder", "--due", "2026-11-21"]));
    env.nj(&["follow-up", "rm", &removed]).success();
    Journal {
        env,
        a,
        b,
        f1,
        f2,
        f3,
        f4,
    }
}

#[test]
fn due_lists_what_is_due_oldest_first_with_how_overdue() {
    let j = journal();
    let out = j.env.nj(&["due"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS         FOLLOW-UP                         ARTICLE\n\
             {}  2026-11-19 08:00  7d 1h overdue  check the ruling                  {} Court weighs JEDI contract\n\
             {}  2026-11-26 08:15  45m overdue    renew the press pass (every 1mo)  -\n",
            short(&j.f1),
            short(&j.a),
            short(&j.f2),
        )
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn within_adds_the_upcoming_ones() {
    let j = journal();
    let out = j.env.nj(&["due", "--within", "7d"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS         FOLLOW-UP                         ARTICLE\n\
             {}  2026-11-19 08:00  7d 1h overdue  check the ruling                  {a} Court weighs JEDI contract\n\
             {}  2026-11-26 08:15  45m overdue    renew the press pass (every 1mo)  -\n\
             {}  2026-11-29 06:00  in 2d 21h      call the contractor               {} Harbour dredging delayed\n",
            short(&j.f1),
            short(&j.f2),
            short(&j.f3),
            short(&j.b),
            a = short(&j.a),
        )
    );
    let ids = |args: &[&str]| {
        let mut all = vec!["--json", "due"];
        all.extend_from_slice(args);
        column(&j.env.nj(&all).json(), "id")
    };
    assert_eq!(
        ids(&["--within", "2w"]),
        [&j.f1, &j.f2, &j.f3, &j.f4].map(|s| s.to_string())
    );
    assert_eq!(
        ids(&["--within", "1w"]),
        [&j.f1, &j.f2, &j.f3].map(|s| s.to_string())
    );
    assert_eq!(
        ids(&["--within", "2d"]),
        [&j.f1, &j.f2].map(|s| s.to_string())
    );
}

#[test]
fn as_of_evaluates_at_another_moment() {
    let j = journal();
    // Friday 2026-11-20 09:00: only the ruling was due (the done one would
    // have been, too).
    let out = j.env.nj(&["due", "--as-of", "2026-11-20"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS         FOLLOW-UP         ARTICLE\n\
             {}  2026-11-19 08:00  1d 1h overdue  check the ruling  {} Court weighs JEDI contract\n",
            short(&j.f1),
            short(&j.a),
        )
    );
    let out = j.env.nj(&["due", "--as-of", "monday"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS          FOLLOW-UP                         ARTICLE\n\
             {}  2026-11-19 08:00  11d 1h overdue  check the ruling                  {a} Court weighs JEDI contract\n\
             {}  2026-11-26 08:15  4d overdue      renew the press pass (every 1mo)  -\n\
             {}  2026-11-29 06:00  1d 3h overdue   call the contractor               {} Harbour dredging delayed\n",
            short(&j.f1),
            short(&j.f2),
            short(&j.f3),
            short(&j.b),
            a = short(&j.a),
        )
    );
    let v = j
        .env
        .nj(&["--json", "due", "--as-of", "tomorrow", "--within", "2w"])
        .json();
    assert_eq!(v.as_array().unwrap().len(), 4);
}

#[test]
fn count_prints_only_the_number() {
    let j = journal();
    let count = |args: &[&str]| {
        let mut all = vec!["due", "--count"];
        all.extend_from_slice(args);
        let out = j.env.nj(&all).success();
        assert_eq!(out.stderr, "");
        out.stdout
    };
    assert_eq!(count(&[]), "2\n");
    assert_eq!(count(&["--within", "7d"]), "3\n");
    assert_eq!(count(&["--within", "1mo"]), "4\n");
    assert_eq!(count(&["--as-of", "2026-11-20"]), "1\n");
    assert_eq!(count(&["--as-of", "2026-11-01"]), "0\n");
    // --json does not change what --count prints.
    assert_eq!(
        j.env.nj(&["--json", "due", "--count"]).success().stdout,
        "2\n"
    );
}

#[test]
fn json_has_the_fields_scripts_need() {
    let j = journal();
    let v = j.env.nj(&["--json", "due"]).json();
    assert_eq!(
        v,
        json!([
            {
                "id": j.f1,
                "article_id": j.a,
                "article_title": "Court weighs JEDI contract",
                "article_url": JEDI_URL,
                "text": "check the ruling",
                "due_at": "2026-11-19T08:00:00Z",
                "status": "open",
                "every": null,
                "done_at": null,
                "created_at": NOW,
                "updated_at": NOW,
            },
            {
                "id": j.f2,
                "article_id": null,
                "article_title": null,
                "article_url": null,
                "text": "renew the press pass",
                "due_at": "2026-11-26T08:15:00Z",
                "status": "open",
                "every": "1mo",
                "done_at": null,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ])
    );
}

#[test]
fn done_ones_leave_and_a_repeating_one_comes_back() {
    let j = journal();
    j.env.set_now("2026-11-26T10:00:00Z");
    j.env.nj(&["done", &j.f1, &j.f2]).success();
    let v = j.env.nj(&["--json", "due"]).json();
    assert_eq!(v, json!([]));
    // f2 repeats monthly on its schedule: the 26th at 08:15.
    let v = j
        .env
        .nj(&["--json", "due", "--as-of", "2026-12-26T10:00"])
        .json();
    assert_eq!(column(&v, "id"), [j.f3.clone(), j.f4.clone(), j.f2.clone()]);
    assert_eq!(v[2]["due_at"], "2026-12-26T08:15:00Z");
}

#[test]
fn nothing_due_says_so_on_stderr() {
    let env = Env::new();
    env.init();
    let out = env.nj(&["due"]).success();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "nothing is due\n")
    );
    env.follow_up(&["renew the press pass", "--due", "friday"]);
    let out = env.nj(&["due"]).success();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "nothing is due\n")
    );
    let out = env.nj(&["--json", "due"]).success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("[]\n", ""));
    assert_eq!(env.nj(&["due", "--count"]).success().stdout, "0\n");
}

#[test]
fn bad_options_are_refused() {
    let j = journal();
    assert_refused(
        &j.env,
        &["due", "--within", "a while"],
        None,
        "nj: cannot read the interval \"a while\"; use e.g. 3d, 1w, 2 weeks, 1mo, 1y or 12h\n",
    );
    for args in [
        &["due", "--count", "--ics"][..],
        &["due", "-o", "due.ics"][..],
    ] {
        let out = j.env.nj(args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert_eq!(out.stdout, "");
    }
    assert!(!j.env.path("due.ics").exists());
}
