//! The config file (`$XDG_CONFIG_HOME/newsjournal/config.toml`, here under
//! the test's HOME): the default journal, the remote, list columns and the
//! follow-up time, with flags and environment variables winning over it,
//! and a clear error for a file that is wrong.

use serde_json::json;

use crate::util::Env;

fn write_config(env: &Env, text: &str) {
    std::fs::create_dir_all(env.path(".config/newsjournal")).unwrap();
    env.write(".config/newsjournal/config.toml", text);
}

#[test]
fn the_config_sets_the_journal_and_flags_and_env_win() {
    let env = Env::new();
    let configured = env.path("configured.db");
    write_config(&env, &format!("db = {:?}\n", configured.to_str().unwrap()));
    // Without NJ_DB, the config's journal is used.
    let out = env
        .cmd(&["jot", "a thought"])
        .env_remove("NJ_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(configured.is_file());
    assert!(!env.db().exists());
    // NJ_DB (which every test command sets) wins, and --db over both.
    env.nj(&["jot", "another"]).success();
    assert!(env.db().is_file());
    let other = env.path("other.db");
    env.nj(&["--db", other.to_str().unwrap(), "jot", "third"])
        .success();
    assert!(other.is_file());
    let notes = env
        .cmd(&["--json", "notes"])
        .env_remove("NJ_DB")
        .output()
        .unwrap();
    let notes: serde_json::Value = serde_json::from_slice(&notes.stdout).unwrap();
    assert_eq!(notes[0]["text"], "a thought");
    assert_eq!(notes.as_array().unwrap().len(), 1);

    // `~/` is the home folder.
    write_config(&env, "db = \"~/tilde.db\"\n");
    let out = env.cmd(&["jot", "x"]).env_remove("NJ_DB").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(env.path("tilde.db").is_file());
}

#[test]
fn follow_up_time_list_columns_and_remote() {
    let env = Env::new();
    write_config(
        &env,
        "follow_up_time = \"8:30am\"\n\
         [remote]\nurl = \"http://127.0.0.1:9\"\ntoken = \"njt_from_config\"\n\
         [list]\ncolumns = [\"id\", \"read\", \"title\"]\n",
    );
    // NOW is Thursday 2026-11-26 09:00 UTC (TZ=UTC).
    let f = env.follow_up(&["check", "--due", "friday"]);
    assert_eq!(f["due_at"], "2026-11-27T08:30:00Z");
    let f = env.follow_up(&["check", "--due", "in 3 days"]);
    assert_eq!(f["due_at"], "2026-11-29T08:30:00Z");
    // A time given wins.
    let f = env.follow_up(&["check", "--due", "friday 5pm"]);
    assert_eq!(f["due_at"], "2026-11-27T17:00:00Z");

    let id = env.clip_text(
        "Harbor fees rise\n\nMooring fees go up.\n",
        &["-t", "harbor"],
    );
    env.nj(&["read", &id]).success();
    assert_eq!(
        env.nj(&["list"]).success().stdout,
        format!(
            "ID        READ  TITLE\n{}  ✓     Harbor fees rise\n",
            &id[..8]
        )
    );

    // The config's remote, for a journal with none set; NJ_REMOTE wins.
    let status = env.nj(&["--json", "sync", "status"]).json();
    assert_eq!(status["remote"], json!("http://127.0.0.1:9"));
    let status = env
        .cmd(&["--json", "sync", "status"])
        .env("NJ_REMOTE", "http://127.0.0.1:10")
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["remote"], json!("http://127.0.0.1:10"));
}

#[test]
fn a_config_that_is_wrong_says_where_and_what() {
    let env = Env::new();
    env.clip_text("Harbor fees rise\n\nMooring fees go up.\n", &[]);
    let config = env.path(".config/newsjournal/config.toml");
    for (text, says) in [
        ("db = [\n", "is not valid"),
        ("colums = 3\n", "colums"),
        (
            "follow_up_time = \"teatime\"\n",
            "follow_up_time = \"teatime\" is not a time of day",
        ),
        (
            "[list]\ncolumns = [\"id\", \"size\"]\n",
            "list.columns has \"size\", which is not a column",
        ),
    ] {
        write_config(&env, text);
        let out = env.nj(&["list"]);
        assert_eq!(out.code, Some(1), "{text:?}: {out:?}");
        assert!(out.stderr.starts_with("nj: "), "{}", out.stderr);
        assert!(
            out.stderr.contains(config.to_str().unwrap()),
            "{text:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{text:?}: {}", out.stderr);
    }
    // NJ_CONFIG names another file.
    env.write("elsewhere.toml", "[list]\ncolumns = [\"title\"]\n");
    let out = env
        .cmd(&["list"])
        .env("NJ_CONFIG", env.path("elsewhere.toml"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "TITLE\nHarbor fees rise\n"
    );
}
