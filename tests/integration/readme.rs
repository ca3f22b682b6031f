//! What README shows must be what nj prints (issue 16, bug 10: the
//! rejection line, the sync summary and the example's date line had
//! drifted from it).

use crate::util::Env;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn regression_readme_drift() {
    let readme = readme();
    let env = Env::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/harbor-bridge.html");

    // The quick start's clip: README shows its hash, and the stored text
    // starts with the story, not its date line ("bylines and date lines"
    // are dropped, as README says).
    let out = env.nj(&["clip", example, "-t", "bridge"]).success();
    let hash_line = out.stdout.lines().nth(1).unwrap().trim().to_owned();
    assert!(hash_line.starts_with("sha256:"), "{}", out.stdout);
    assert!(readme.contains(&hash_line), "README lacks {hash_line}");
    let listed = env.list_json();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let text = env.nj(&["show", &id, "--text"]).success().stdout;
    assert!(
        text.starts_with("The city's largest public works contract"),
        "{text}"
    );
    let words = format!(
        "{}    bridge  Harbor bridge contract",
        listed[0]["word_count"]
    );
    assert!(readme.contains(&words), "README's list lacks {words:?}");
    assert!(
        readme.contains(&format!("{}  -", &hash_line["sha256:".len()..])),
        "the sha256sum example"
    );

    // The import's rejection line, as README shows it.
    env.write(
        "pocket.csv",
        "url,title,time_added,tags,status\nhttps://a.example/x,A,1700000000,,unread\njavascript:void(0),B,1700000000,,unread\n",
    );
    let out = env.nj(&["import", "pocket.csv"]).success();
    let rejected = out
        .stderr
        .lines()
        .find(|l| l.starts_with("rejected line"))
        .unwrap();
    let shown = rejected.replacen("line 3", "line 14", 1);
    assert!(readme.contains(&shown), "README lacks {shown:?}");

    // The sync summary's shape: "pushed N change(s) and N text(s), ...".
    let line = readme
        .lines()
        .find(|l| l.starts_with("pushed ") && l.contains(", pulled "))
        .unwrap();
    for part in line.split(", ") {
        let words: Vec<&str> = part.split_whitespace().collect();
        // [pushed|pulled, N, change(s), and, N, text(s)]
        assert_eq!(words.len(), 6, "{line}");
        for (n, noun) in [(words[1], words[2]), (words[4], words[5])] {
            let one = n == "1";
            assert_eq!(noun.ends_with('s'), !one, "{line}: {n} {noun}");
        }
    }
}
