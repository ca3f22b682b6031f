//! The journal file: where it lives by default and how to move it, refusing
//! a journal from a newer nj or a file that is not a journal, two writers at
//! once, and a reader that closes the pipe early.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};

use crate::util::Env;

#[test]
fn default_journal_is_under_xdg_data_home() {
    let env = Env::new();
    let mut cmd = env.cmd(&["clip", "-"]);
    cmd.env_remove("NJ_DB");
    let out = crate::util::run_with_stdin(cmd, b"Default place\n\nWhere does it go?\n").success();
    assert!(out.stdout.starts_with("clipped "), "{}", out.stdout);
    let db = env.path("data/newsjournal/journal.db");
    assert!(db.is_file(), "no journal at {}", db.display());
    assert!(
        !env.db().exists(),
        "NJ_DB's file was created with NJ_DB unset"
    );

    let mut list = env.cmd(&["--json", "list"]);
    list.env_remove("NJ_DB");
    let v: serde_json::Value = serde_json::from_slice(&list.output().unwrap().stdout).unwrap();
    assert_eq!(v[0]["title"], "Default place");
}

#[test]
fn without_xdg_data_home_the_journal_is_under_home() {
    let env = Env::new();
    let mut cmd = env.cmd(&["clip", "-"]);
    cmd.env_remove("NJ_DB").env_remove("XDG_DATA_HOME");
    crate::util::run_with_stdin(cmd, b"Home place\n\nUnder .local/share.\n").success();
    assert!(env.path(".local/share/newsjournal/journal.db").is_file());
}

#[test]
fn db_option_overrides_nj_db() {
    let env = Env::new();
    let other = env.path("elsewhere/other.db");
    let out = env.nj_stdin(
        &["clip", "-", "--db", other.to_str().unwrap()],
        "Moved journal\n\nIt lives elsewhere.\n",
    );
    out.success();
    assert!(other.is_file(), "--db did not create its folder and file");
    assert!(!env.db().exists(), "NJ_DB was used despite --db");
    // NJ_DB names no journal yet: reading it says so (issue 16, bug 7).
    assert!(env
        .nj(&["--json", "list"])
        .failure()
        .starts_with("nj: no journal at "));
    let v = env
        .nj(&["--json", "list", "--db", other.to_str().unwrap()])
        .json();
    assert_eq!(v[0]["title"], "Moved journal");
}

#[test]
fn journal_from_a_newer_nj_is_refused() {
    let env = Env::new();
    env.clip_text("Old journal\n\nWritten by this nj.\n", &[]);
    env.sqlite()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let db = env.db();
    let err = env.nj(&["list"]).failure();
    let head = format!(
        "nj: the journal at {} was written by a newer nj (schema version 99, this nj knows up to ",
        db.display()
    );
    assert!(err.starts_with(&head), "{err}");
    assert!(err.ends_with("); upgrade nj to open it\n"), "{err}");
    let before = env.snapshot();
    assert_eq!(
        env.nj_stdin(&["clip", "-"], "New text\n\nNot here.\n")
            .failure(),
        err
    );
    assert!(before == env.snapshot(), "nj wrote to a newer journal");
    let version: i64 = env
        .sqlite()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

#[test]
fn file_that_is_not_a_journal_is_refused() {
    let env = Env::new();
    let text = "These are my notes, not a database. They are long enough to fill a header.\n";
    let path = env.write("notes.txt", text);
    let out = env.nj(&["list", "--db", path.to_str().unwrap()]);
    assert_eq!(
        out.failure(),
        format!(
            "nj: {} is not an nj journal (not a SQLite database); pass --db PATH to use another file\n",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// Runs two `nj clip -` at once on the journal `db`, and checks that both
/// clipped a new article. Both processes are started before either gets its
/// input, and they only open the journal once their input ends, so their
/// writes overlap as closely as the test can make them.
fn clip_pair(env: &Env, db: &Path, pair: usize) -> [String; 2] {
    let titles = [format!("Pair {pair} left"), format!("Pair {pair} right")];
    let mut children: Vec<Child> = titles
        .iter()
        .map(|_| {
            env.cmd(&["--json", "clip", "-", "--db", db.to_str().unwrap()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let stdins: Vec<_> = children
        .iter_mut()
        .zip(&titles)
        .map(|(child, title)| {
            let mut stdin = child.stdin.take().unwrap();
            write!(
                stdin,
                "{title}\n\nWritten at the same moment as its twin.\n"
            )
            .unwrap();
            stdin
        })
        .collect();
    drop(stdins);
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "one of two concurrent clips failed: {stderr}"
        );
        assert_eq!(stderr, "");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "new");
    }
    titles
}

fn sorted_titles(env: &Env, db: &Path) -> Vec<String> {
    let v = env
        .nj(&[
            "--json",
            "list",
            "--limit",
            "0",
            "--db",
            db.to_str().unwrap(),
        ])
        .json();
    let mut titles = crate::util::column(&v, "title");
    titles.sort();
    titles
}

#[test]
fn two_writers_at_once_both_succeed() {
    let env = Env::new();
    env.clip_text("Already here\n\nThe journal exists.\n", &[]);
    let mut expected = vec!["Already here".to_owned()];
    for pair in 0..4 {
        expected.extend(clip_pair(&env, &env.db(), pair));
    }
    expected.sort();
    assert_eq!(sorted_titles(&env, &env.db()), expected);
    env.nj(&["verify"]).success();
}

/// Two processes creating the same new journal used to fail now and then
/// with "the journal is busy": switching a new file to WAL can return
/// SQLITE_BUSY at once, without waiting on the busy timeout.
#[test]
fn two_writers_creating_a_journal_both_succeed() {
    let env = Env::new();
    for pair in 0..20 {
        let db = env.path(&format!("fresh-{pair}.db"));
        let mut expected = clip_pair(&env, &db, pair).to_vec();
        expected.sort();
        assert_eq!(sorted_titles(&env, &db), expected);
    }
}

#[test]
fn closed_pipe_is_not_an_error() {
    let env = Env::new();
    // About 200 KB of text: far more than a pipe holds, so nj is still
    // writing when the reader goes away.
    let mut text = String::from("A very long article\n");
    for i in 0..2500 {
        text.push_str(&format!(
            "\nParagraph {i} of the very long article, which goes on and on.\n"
        ));
    }
    assert!(text.len() > 150_000);
    let id = env.clip_text(&text, &[]);

    for args in [&["show", &id[..]][..], &["show", &id, "--text"]] {
        let mut child = env
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert_eq!(first, "A very long article\n");
        drop(reader);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(stderr, "", "nj {args:?} complained about a closed pipe");
        assert_eq!(status.code(), Some(0), "nj {args:?}");
    }
}

#[test]
fn bad_nj_now_is_a_clear_error() {
    let env = Env::new();
    env.set_now("next tuesday");
    let err = env
        .nj_stdin(&["clip", "-"], "Clock\n\nTime matters.\n")
        .failure();
    assert!(
        err.starts_with("nj: NJ_NOW=\"next tuesday\" is not an RFC 3339 time (")
            && err.ends_with("); use e.g. 2026-11-26T09:00:00Z or unset it\n"),
        "{err}"
    );
    assert!(!env.db().exists());
}

/// Issue 16, bug 7: a mistyped `--db` showed an empty journal (and made
/// the file). Reading commands say there is no journal there and exit 1;
/// only commands that put something in a journal create one.
#[test]
fn regression_a_mistyped_db_silently_shows_an_empty_journal() {
    let env = Env::new();
    env.clip_text("Kept here\n\nThe real journal.\n", &[]);
    let typo = env.path("jornal.db");
    let typo_s = typo.to_str().unwrap();
    for args in [
        &["list"][..],
        &["--json", "list"],
        &["search", "real"],
        &["due"],
        &["due", "--count"],
        &["follow-ups"],
        &["notes"],
        &["tags"],
        &["show", "abcd"],
        &["verify"],
        &["export"],
        &["sync", "status"],
        &["remote", "show"],
        &["key", "show"],
        &["note", "abcd", "text"],
        &["done", "abcd"],
    ] {
        let mut all = vec!["--db", typo_s];
        all.extend_from_slice(args);
        let out = env.nj(&all);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        assert_eq!(
            out.stderr,
            format!("nj: no journal at {typo_s}; `nj clip` creates one, or check --db and NJ_DB\n"),
            "{args:?}"
        );
        assert!(!typo.exists(), "{args:?} made a journal");
    }
    // The same through NJ_DB.
    let out = env.cmd(&["list"]).env("NJ_DB", &typo).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!typo.exists());
    // Writing commands make it.
    env.nj(&["--db", typo_s, "jot", "first thought"]).success();
    assert!(typo.is_file());
    env.nj(&["--db", typo_s, "list"]).success();
}

/// Issue 17, item 10: the journal (which holds the sync token and the
/// journal key) was created 0644. It is made 0600, with its WAL and
/// shared-memory files, and an older readable one is tightened once, with
/// a note.
#[cfg(unix)]
#[test]
fn regression_the_journal_file_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    env.clip_text("Private\n\nA story.\n", &[]);
    let db = env.db();
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    let shm = std::path::PathBuf::from(format!("{}-shm", db.display()));
    assert_eq!(mode(&db), 0o600);
    // WAL and SHM exist while a connection is open: hold one.
    let conn = env.sqlite();
    conn.query_row("SELECT count(*) FROM articles", [], |r| r.get::<_, i64>(0))
        .unwrap();
    for p in [&wal, &shm] {
        assert!(p.exists(), "{}", p.display());
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
    drop(conn);
    // A journal an older nj made readable to all: tightened, and said once.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.nj(&["list"]).success();
    assert!(
        out.stderr
            .contains("is now readable by you alone (mode 0600)"),
        "{}",
        out.stderr
    );
    assert_eq!(mode(&db), 0o600);
    let again = env.nj(&["list"]).success();
    assert!(!again.stderr.contains("mode 0600"), "{}", again.stderr);
}
