//! The fuzz targets' functions (`newsjournal::fuzzing`, run by `fuzz/`)
//! on stable Rust: every input a fuzzer once found a bug with, saved under
//! `fuzz/regressions/TARGET/`, and each target's seeds, must pass its
//! checks, each within a time bound. docs/fuzzing.md has the runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use newsjournal::fuzzing;
use newsjournal::import::Format;

/// What one input may take here (a debug build); the fuzzer allows 10 s
/// to a release build.
const BOUND: Duration = Duration::from_secs(20);

fn run(target: &str, data: &[u8]) {
    match target {
        "import_newsjournal" => fuzzing::import(Format::Newsjournal, data),
        "import_pocket" => fuzzing::import(Format::Pocket, data),
        "import_pocket_html" => fuzzing::import(Format::PocketHtml, data),
        "import_netscape" => fuzzing::import(Format::Netscape, data),
        "import_wallabag" => fuzzing::import(Format::Wallabag, data),
        "import_instapaper" => fuzzing::import(Format::Instapaper, data),
        "import_omnivore" => fuzzing::import(Format::Omnivore, data),
        "html" => fuzzing::html(data),
        "when" => fuzzing::when(data),
        "search_query" => fuzzing::search_query(data),
        "server_request" => fuzzing::server_request(data),
        "open_sealed" => fuzzing::open_sealed(data),
        other => panic!("no fuzz target {other}; see fuzz/Cargo.toml"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The entries of `dir` that `keep` says yes to, in name order; none when
/// `dir` does not exist.
fn entries(dir: &Path, keep: fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| keep(p))
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[track_caller]
fn replay(target: &str, name: &str, data: &[u8]) {
    let start = Instant::now();
    run(target, data);
    let took = start.elapsed();
    assert!(took < BOUND, "{target} on {name} took {took:?}");
}

#[test]
fn inputs_that_found_bugs_replay_clean() {
    let doc = std::fs::read_to_string(root().join("docs/fuzzing.md")).unwrap();
    let mut saved = Vec::new();
    for dir in entries(&root().join("fuzz/regressions"), Path::is_dir) {
        let target = dir.file_name().unwrap().to_str().unwrap().to_owned();
        for file in entries(&dir, Path::is_file) {
            let name = format!(
                "fuzz/regressions/{target}/{}",
                file.file_name().unwrap().to_str().unwrap()
            );
            replay(&target, &name, &std::fs::read(&file).unwrap());
            // Each saved input is named in docs/fuzzing.md with the bug it
            // found.
            assert!(doc.contains(&name), "docs/fuzzing.md does not name {name}");
            saved.push(name);
        }
    }
    // And each one named there is saved: none is lost.
    for named in doc.split(|c: char| c.is_whitespace() || c == '`') {
        if let Some(rest) = named.strip_prefix("fuzz/regressions/") {
            if !rest.starts_with("TARGET") {
                assert!(
                    saved.iter().any(|s| s == named),
                    "docs/fuzzing.md names {named}, which is not saved"
                );
            }
        }
    }
}

/// Every target runs its checks on real inputs (the test fixtures `fuzz/run`
/// seeds it with), so a target that cannot pass on good input is caught here.
#[test]
fn every_target_passes_on_its_seeds() {
    let fixtures = root().join("tests/fixtures");
    let read = |rel: &str| std::fs::read(fixtures.join(rel)).unwrap();
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "import_newsjournal",
            std::fs::read(root().join("fuzz/seeds/newsjournal.json")).unwrap(),
        ),
        ("import_pocket", read("import/pocket.csv")),
        ("import_pocket_html", read("import/ril_export.html")),
        ("import_netscape", read("import/bookmarks.html")),
        ("import_wallabag", read("import/wallabag.json")),
        ("import_instapaper", read("import/instapaper.csv")),
        (
            "import_omnivore",
            b"PK\x05\x06".iter().copied().chain([0; 18]).collect(),
        ),
        ("html", read("extract/json-ld.html")),
        ("html", read("extract/lists-headings.html")),
        ("when", b"in 3 weeks".to_vec()),
        ("when", b"2w".to_vec()),
        (
            "search_query",
            br#"title:bridge OR "court ruling""#.to_vec(),
        ),
        (
            "server_request",
            br#"{"ops":[{"device":"d","seq":1,"hlc_ms":0,"payload":"AQ=="}]}"#
                .iter()
                .copied()
                .fold(vec![0u8], |mut v, b| {
                    v.push(b);
                    v
                }),
        ),
        ("server_request", b"\x01after=0&limit=5".to_vec()),
        ("open_sealed", b"nj1-abcde".to_vec()),
    ];
    for (target, data) in &seeds {
        replay(target, "a seed", data);
    }
}
