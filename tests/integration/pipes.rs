//! A reader that closes stdout early (`nj export | head -1`) has seen what
//! it wanted: every command that can print a lot stops quietly with exit
//! code 0, never a panic or "Broken pipe".

use std::process::Stdio;

use crate::util::Env;

/// Runs `nj ARGS` with stdout a pipe whose reading end is closed before nj
/// writes, so its first write fails with EPIPE.
fn with_closed_stdout(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = env.cmd(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run nj");
    // `spawn` returns once nj has started (exec'd); nj opens its journal
    // before it writes, long after this.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for nj");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 16, bug 4: `nj completions bash | head -1` panicked (exit 101) and
/// `nj export | head -1` said "nj: Broken pipe (os error 32)" (exit 1).
#[test]
fn regression_broken_pipes() {
    let env = Env::new();
    let mut first = String::new();
    for i in 0..12 {
        let text = format!(
            "Council minutes {i}\n\nThe council met on day {i} and discussed the harbor bridge.\n"
        );
        let id = env.clip_text(
            &text,
            &[
                "--url",
                &format!("https://news.example/{i}"),
                "-t",
                "council",
            ],
        );
        env.nj(&["note", &id, "ask about the harbor bridge"])
            .success();
        env.nj(&["follow-up", &id, "check the vote", "--due", "tomorrow"])
            .success();
        if i == 0 {
            first = id;
        }
    }
    env.nj_stdin(
        &["clip", "-", "--url", "https://news.example/0"],
        "Council minutes 0\n\nThe council met again.\n",
    )
    .success();
    env.write("page.html", "<html><body><article><p>The harbor bridge vote was delayed again by the council.</p></article></body></html>");
    let commands: &[&[&str]] = &[
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["export"],
        &["export", "--format", "netscape"],
        &["export", "--format", "ics"],
        &["--json", "export"],
        &["list"],
        &["--json", "list"],
        &["search", "harbor"],
        &["--json", "search", "harbor"],
        &["show", &first],
        &["show", &first, "--text"],
        &["--json", "show", &first],
        &["versions", &first],
        &["diff", &first],
        &["notes"],
        &["follow-ups"],
        &["due", "--within", "7d"],
        &["due", "--ics"],
        &["tags"],
        &["extract", "page.html"],
        &["help"],
        &["--help"],
    ];
    let mut wrong = Vec::new();
    for args in commands {
        let (code, stderr) = with_closed_stdout(&env, args);
        if code != Some(0) || !stderr.is_empty() {
            wrong.push(format!(
                "nj {}: exit {code:?}, stderr {stderr:?}",
                args.join(" ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
