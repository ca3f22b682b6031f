//! `nj due --ics`: the open follow-ups as an iCalendar file, read back with
//! a real parser (the icalendar crate) and checked line by line against
//! RFC 5545: CRLF line ends, lines of at most 75 octets, escaped TEXT
//! values, UTC times and stable UIDs.

use icalendar::parser::{read_calendar, unfold, Component};

use crate::util::{id_of, short, Env};

const TITLE: &str = "Court weighs JEDI contract, again; ruling due";
const URL: &str = "https://news.example/jedi?id=42&ref=front";

/// A parsed VTODO: its properties, unescaped, by name.
#[derive(Debug, PartialEq)]
struct Todo {
    uid: String,
    due: String,
    summary: String,
    description: String,
    url: Option<String>,
    status: String,
    dtstamp: String,
}

/// The PRODID `nj` writes: its name and version.
fn prodid() -> String {
    format!("-//newsjournal//nj {}//EN", env!("CARGO_PKG_VERSION"))
}

fn prop(c: &Component<'_>, name: &str) -> Option<String> {
    c.find_prop(name).map(|p| p.val.as_str().to_owned())
}

/// Checks the raw text's framing and parses it: the calendar's own
/// properties, and its VTODOs in order.
#[track_caller]
fn parse(ics: &str) -> (Vec<(String, String)>, Vec<Todo>) {
    assert!(ics.ends_with("\r\n"), "no CRLF at the end:\n{ics}");
    for line in ics[..ics.len() - 2].split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "a bare line end in {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let unfolded = unfold(ics);
    let cal = read_calendar(&unfolded).unwrap_or_else(|e| panic!("{e}\n{ics}"));
    let props = cal
        .properties
        .iter()
        .map(|p| (p.name.as_str().to_owned(), p.val.as_str().to_owned()))
        .collect();
    let todos = cal
        .components
        .iter()
        .map(|c| {
            assert_eq!(c.name.as_str(), "VTODO");
            Todo {
                uid: prop(c, "UID").unwrap(),
                due: prop(c, "DUE").unwrap(),
                summary: prop(c, "SUMMARY").unwrap(),
                description: prop(c, "DESCRIPTION").unwrap(),
                url: prop(c, "URL"),
                status: prop(c, "STATUS").unwrap(),
                dtstamp: prop(c, "DTSTAMP").unwrap(),
            }
        })
        .collect();
    (props, todos)
}

/// A journal in New York with an article whose title needs escaping and
/// follow-ups: f1 on it (text with `;`, `,` and `\`), f2 free-standing and
/// repeating, f3 long enough to fold, one done and one removed.
fn journal() -> (Env, String, [String; 3]) {
    let env = Env::new();
    env.set_tz("America/New_York");
    env.set_now("2026-11-27T15:00:00Z");
    let a = env.clip_text(
        &format!("{TITLE}\n\nThe judge will rule on the cloud contract in December.\n"),
        &["--url", URL],
    );
    let f1 = id_of(&env.follow_up(&[
        &a,
        r"check the ruling; then, write it up \o/",
        "--due",
        "2026-12-01",
    ]));
    let f2 = id_of(&env.follow_up(&[
        "renew the press pass",
        "--due",
        "2026-11-20T08:30",
        "--every",
        "1mo",
    ]));
    let long = "Ask the court clerk whether the sealed filings — all of them, café receipts included — will be published before the appeal hearing";
    let f3 = id_of(&env.follow_up(&[&a, long, "--due", "next monday"]));
    let done = id_of(&env.follow_up(&[&a, "a done one", "--due", "tomorrow"]));
    env.nj(&["done", &done]).success();
    let removed = id_of(&env.follow_up(&["a removed one", "--due", "tomorrow"]));
    env.nj(&["follow-up", "rm", &removed]).success();
    (env, a, [f1, f2, f3])
}

#[test]
fn ics_has_one_vtodo_per_open_follow_up() {
    let (env, a, [f1, f2, f3]) = journal();
    let out = env.nj(&["due", "--ics"]).success();
    assert_eq!(out.stderr, "");
    let ics = out.stdout;
    let (props, todos) = parse(&ics);
    assert_eq!(
        props,
        [
            ("VERSION", "2.0"),
            ("PRODID", &prodid()[..]),
            ("CALSCALE", "GREGORIAN"),
            ("X-WR-CALNAME", "newsjournal follow-ups"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    // Open ones by due time; the done and the removed one are absent.
    assert_eq!(
        todos,
        [
            Todo {
                uid: format!("{f2}@newsjournal"),
                due: "20261120T133000Z".into(),
                summary: "renew the press pass".into(),
                description: format!(
                    "A journal follow-up, on no article.\nRepeats: due again 1mo after it is done.\nnj done {}",
                    short(&f2)
                ),
                url: None,
                status: "NEEDS-ACTION".into(),
                dtstamp: "20261127T150000Z".into(),
            },
            Todo {
                uid: format!("{f3}@newsjournal"),
                due: "20261130T140000Z".into(),
                summary: "Ask the court clerk whether the sealed filings — all of them, café receipts included — will be published before the appeal hearing".into(),
                description: format!(
                    "Article: {TITLE}\nURL: {URL}\nnj show {}\nnj done {}",
                    short(&a),
                    short(&f3)
                ),
                url: Some(URL.into()),
                status: "NEEDS-ACTION".into(),
                dtstamp: "20261127T150000Z".into(),
            },
            Todo {
                uid: format!("{f1}@newsjournal"),
                due: "20261201T140000Z".into(),
                summary: r"check the ruling; then, write it up \o/".into(),
                description: format!(
                    "Article: {TITLE}\nURL: {URL}\nnj show {}\nnj done {}",
                    short(&a),
                    short(&f1)
                ),
                url: Some(URL.into()),
                status: "NEEDS-ACTION".into(),
                dtstamp: "20261127T150000Z".into(),
            },
        ]
    );
    // The escapes as written, before the parser undoes them.
    let unfolded = unfold(&ics);
    assert!(
        unfolded.contains("\r\nSUMMARY:check the ruling\\; then\\, write it up \\\\o/\r\n"),
        "{ics}"
    );
    assert!(
        unfolded.contains(
            "\r\nDESCRIPTION:Article: Court weighs JEDI contract\\, again\\; ruling due\\nURL: "
        ),
        "{ics}"
    );
    // The long summary had to be folded.
    assert!(!ics.contains("\r\nSUMMARY:Ask the court clerk whether the sealed filings — all of them, café receipts included"));
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.ends_with("END:VTODO\r\nEND:VCALENDAR\r\n"), "{ics}");
}

#[test]
fn uids_are_stable_across_exports() {
    let (env, _a, [f1, f2, f3]) = journal();
    let (_, first) = parse(&env.nj(&["due", "--ics"]).success().stdout);
    // Later, after an edit and a snooze, the same tasks keep their UIDs.
    env.set_now("2026-11-28T12:00:00Z");
    env.nj(&["follow-up", "edit", &f1, "--text", "check the appeal"])
        .success();
    env.nj(&["snooze", &f2, "friday"]).success();
    let (_, second) = parse(&env.nj(&["due", "--ics"]).success().stdout);
    let uids = |todos: &[Todo]| {
        let mut u: Vec<String> = todos.iter().map(|t| t.uid.clone()).collect();
        u.sort();
        u
    };
    let mut want = [&f1, &f2, &f3].map(|f| format!("{f}@newsjournal")).to_vec();
    want.sort();
    assert_eq!(uids(&first), want);
    assert_eq!(uids(&second), want);
    let f1_todo = second.iter().find(|t| t.uid.starts_with(&f1)).unwrap();
    assert_eq!(f1_todo.summary, "check the appeal");
    assert_eq!(f1_todo.dtstamp, "20261128T120000Z");
    let f2_todo = second.iter().find(|t| t.uid.starts_with(&f2)).unwrap();
    assert_eq!(f2_todo.due, "20261204T140000Z");
}

#[test]
fn ics_to_a_file() {
    let (env, _a, [f1, _f2, _f3]) = journal();
    let stdout = env.nj(&["due", "--ics"]).success().stdout;
    env.write("followups.ics", "an older calendar");
    let out = env.nj(&["due", "--ics", "-o", "followups.ics"]).success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let file = std::fs::read_to_string(env.path("followups.ics")).unwrap();
    assert_eq!(file, stdout);

    // Done ones leave the calendar on the next export.
    env.nj(&["done", &f1]).success();
    let path = env.path("followups.ics");
    env.nj(&["due", "--ics", "--output", path.to_str().unwrap()])
        .success();
    let (_, todos) = parse(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(todos.len(), 2);
    assert!(todos.iter().all(|t| !t.uid.starts_with(&f1)));

    let out = env.nj(&["due", "--ics", "-o", "no/such/dir/followups.ics"]);
    let err = out.failure();
    assert!(
        err.starts_with("nj: cannot write no/such/dir/followups.ics: the folder no/such/dir does not exist; create it (mkdir -p no/such/dir)"),
        "{err}"
    );
}

#[test]
fn empty_calendar_is_still_a_calendar() {
    let env = Env::new();
    let id = id_of(&env.follow_up(&["only one", "--due", "tomorrow"]));
    env.nj(&["done", &id]).success();
    let ics = env.nj(&["due", "--ics"]).success().stdout;
    let (props, todos) = parse(&ics);
    assert_eq!(props.len(), 4);
    assert_eq!(todos, []);
    assert_eq!(
        ics,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{}\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:newsjournal follow-ups\r\nEND:VCALENDAR\r\n",
            prodid()
        )
    );
}

/// Regression: `-o` wrote the calendar through a temp file and kept the
/// temp file's 0600 mode, so a calendar served from the file by another
/// user (a web server, say) could not read it. It should get the mode any
/// new file gets, as `nj due --ics > PATH` would.
#[cfg(unix)]
#[test]
fn ics_file_gets_the_usual_file_mode() {
    use std::os::unix::fs::PermissionsExt;

    let env = Env::new();
    env.follow_up(&["renew the press pass", "--due", "friday"]);
    let plain = env.write("plain.txt", "a file written the usual way");
    env.nj(&["due", "--ics", "-o", "followups.ics"]).success();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        format!("{:o}", mode(&env.path("followups.ics"))),
        format!("{:o}", mode(&plain))
    );
}
