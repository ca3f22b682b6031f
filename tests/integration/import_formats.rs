//! `nj import` of every read-later and bookmark format, through the real
//! binary: each fixture (tests/fixtures/import, written for these tests to
//! follow the real formats) is detected, imported with its rejected lines
//! named, and imported again without adding anything; a damaged ZIP, an
//! empty file and a file without a URL column import nothing and say what
//! to do.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::{assert_refused, import_report, Env};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// Omnivore's export, zipped here from the readable fixture files.
fn omnivore_zip(env: &Env) -> PathBuf {
    let dir = fixture("omnivore");
    let path = env.path("omnivore-export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for name in [
        "metadata_0_to_2.json",
        "metadata_2_to_3.json",
        "metadata_10_to_11.json",
        "content/garden-paths-18c2.html",
        "highlights/garden-paths-18c2.md",
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(dir.join(name)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
    path
}

fn import(env: &Env, file: &Path) -> (String, String) {
    let out = env.nj(&["import", file.to_str().unwrap()]).success();
    (out.stdout, out.stderr)
}

fn by_url<'a>(list: &'a Value, url: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["url"] == url)
        .unwrap_or_else(|| panic!("no article at {url} in {list}"))
}

/// Imports `file`, checks the report and the rejected lines, imports it
/// again (all duplicates), and returns the journal's articles.
fn import_twice(env: &Env, file: &Path, format: &str, added: usize, rejected: &[&str]) -> Value {
    let (stdout, stderr) = import(env, file);
    assert_eq!(
        stdout,
        import_report(file, format, (added, 0, 0, rejected.len())),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines, rejected);
    let (stdout, _) = import(env, file);
    assert_eq!(
        stdout,
        import_report(file, format, (0, 0, added, rejected.len()))
    );
    env.list_json()
}

#[test]
fn pocket_csv_with_quoting_newlines_non_ascii_and_a_short_row() {
    let env = Env::new();
    let file = fixture("pocket.csv");
    let list = import_twice(
        &env,
        &file,
        "Pocket CSV",
        5,
        &[
            "rejected line 7: has 4 fields where the header has 6; a field with a comma may lack its quotes",
            "rejected line 8: no URL",
        ],
    );
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["pending"] == true));
    // The same columns without `cursor`.
    let env = Env::new();
    let (stdout, _) = import(&env, &fixture("pocket_no_cursor.csv"));
    assert!(stdout.contains("(Pocket CSV)"), "{stdout}");
    // Only a header: nothing to import, and no error.
    let env = Env::new();
    let file = fixture("pocket_header_only.csv");
    assert_eq!(
        import(&env, &file).0,
        import_report(&file, "Pocket CSV", (0, 0, 0, 0))
    );
}

#[test]
fn pocket_html_netscape_and_instapaper_keep_tags_times_and_read_state() {
    let env = Env::new();
    import_twice(
        &env,
        &fixture("ril_export.html"),
        "Pocket HTML",
        3,
        &["rejected line 18: not a web address (javascript:alert(1))"],
    );
    let env = Env::new();
    import_twice(
        &env,
        &fixture("bookmarks.html"),
        "Netscape bookmarks",
        5,
        &[
            "rejected line 11: not a web address (place:sort=8&maxResults=10)",
            "rejected line 21: not a web address (javascript:void(0))",
        ],
    );
    let env = Env::new();
    import_twice(
        &env,
        &fixture("bookmarks_linkding.html"),
        "Netscape bookmarks",
        3,
        &[],
    );
    let env = Env::new();
    let list = import_twice(
        &env,
        &fixture("instapaper.csv"),
        "Instapaper CSV",
        4,
        &["rejected line 6: not a web address (instapaper-private://email/123)"],
    );
    let a = by_url(&list, "https://insta.example/a");
    assert_eq!(a["title"], "Rivers, lakes and ponds");
    assert_eq!(a["read_at"], Value::Null);
    assert_eq!(a["clipped_at"], "2014-05-13T16:53:20Z");
    let shown = env
        .nj(&["--json", "show", a["id"].as_str().unwrap()])
        .json();
    assert_eq!(shown["notes"][0]["text"], "A selected\npassage");
    let b = by_url(&list, "https://insta.example/b");
    assert_eq!(b["read_at"], "2026-11-26T09:00:00Z");
    let c = by_url(&list, "https://insta.example/c");
    assert_eq!(c["tags"], json!(["starred"]));
}

#[test]
fn wallabag_brings_texts_tags_and_annotations_as_notes() {
    let env = Env::new();
    let list = import_twice(
        &env,
        &fixture("wallabag.json"),
        "wallabag JSON",
        3,
        &[
            "rejected entry 3: no URL",
            "rejected entry 4: not a wallabag entry: invalid type: integer `42`, expected a sequence",
        ],
    );
    let moss = by_url(&list, "https://moss.example/walls");
    assert_eq!(moss["pending"], false);
    assert_eq!(moss["tags"], json!(["science", "ünï"]));
    assert_eq!(moss["clipped_at"], "2019-03-01T09:02:03Z");
    assert_eq!(moss["read_at"], "2019-03-04T08:30:00Z");
    let shown = env
        .nj(&["--json", "show", moss["id"].as_str().unwrap()])
        .json();
    assert_eq!(shown["text"], "Moss grows slowly.\n");
    let notes: Vec<&str> = shown["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "> Moss grows slowly.\n> Very slowly.\n\nCheck this later",
            "> Only a quote",
            "Only text"
        ]
    );
    // The text is searchable, and verify counts it.
    let hits = env.nj(&["--json", "search", "moss"]).json();
    assert_eq!(hits[0]["article"]["id"], moss["id"]);
    assert_eq!(
        env.nj(&["verify"]).success().stdout,
        "checked 1 text of 3 articles: every hash matches, every article agrees with its versions, and the search index is sound\n"
    );
    // The import into the empty journal built that index in a scratch
    // file beside it, which went when the import ended.
    let beside: Vec<String> = std::fs::read_dir(env.db().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".nj-import-index-"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn omnivore_zip_brings_texts_labels_and_highlights() {
    let env = Env::new();
    let file = omnivore_zip(&env);
    let list = import_twice(
        &env,
        &file,
        "Omnivore ZIP",
        3,
        &["rejected metadata_10_to_11.json entry 1: no URL"],
    );
    let with_text: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["pending"] == false)
        .collect();
    assert_eq!(with_text.len(), 1, "{list}");
    let shown = env
        .nj(&["--json", "show", with_text[0]["id"].as_str().unwrap()])
        .json();
    assert!(!shown["text"].as_str().unwrap().is_empty());
    assert!(!shown["notes"].as_array().unwrap().is_empty(), "{shown}");
}

#[test]
fn a_damaged_zip_an_empty_file_or_no_url_column_imports_nothing_and_says_so() {
    let env = Env::new();
    let whole = std::fs::read(omnivore_zip(&env)).unwrap();
    let cut = env.write("cut.zip", &whole[..whole.len() / 2]);
    let err = env.nj(&["import", cut.to_str().unwrap()]).failure();
    assert!(
        err.starts_with(&format!("nj: {} is cut off or damaged (", cut.display()))
            && err.ends_with("), so nothing was imported; download the export again\n"),
        "{err}"
    );
    let empty = env.write("empty.csv", "");
    let err = env.nj(&["import", empty.to_str().unwrap()]).failure();
    assert_eq!(
        err,
        format!(
            "nj: {} is empty; export the library again\n",
            empty.display()
        )
    );
    let err = env
        .nj(&[
            "import",
            "--format",
            "pocket",
            fixture("pocket_no_url.csv").to_str().unwrap(),
        ])
        .failure();
    assert_eq!(
        err,
        format!(
            "nj: {} has no `url` column (its columns are: title, link, time_added, tags, status); is it the right file? pass --format if nj guessed wrong; nothing was imported\n",
            fixture("pocket_no_url.csv").display()
        )
    );
    assert_eq!(env.list_json(), json!([]));
}

/// The mistakes people make with an export they unzipped: the folder, one
/// file out of it, or `--format` for a file that is not the ZIP. Each says
/// what it is and what to pass instead, and imports nothing.
#[test]
fn an_unzipped_export_or_a_file_that_is_not_the_zip_is_named_for_what_it_is() {
    let env = Env::new();
    env.init();
    let dir = fixture("omnivore");
    assert_refused(
        &env,
        &["import", dir.to_str().unwrap()],
        None,
        &format!(
            "nj: {} is a folder; nj imports an export as the one file it came as: for an unzipped Pocket or Omnivore export, pass its ZIP\n",
            dir.display()
        ),
    );
    let metadata = dir.join("metadata_0_to_2.json");
    assert_refused(
        &env,
        &["import", metadata.to_str().unwrap()],
        None,
        &format!(
            "nj: cannot import {}: it looks like one metadata file of an unzipped Omnivore export; import the export's ZIP, which holds the texts and highlights too; nothing was imported\n",
            metadata.display()
        ),
    );
    // Told the format, nj gets as far as the bulk write's setup (which
    // touches the file's header) before it reads the file: what the
    // journal holds is what is checked here. (Pocket's format also reads
    // a lone CSV, so a JSON file given `--format pocket` is told it has
    // no `url` column, as tested above.)
    let err = env
        .nj(&["import", "--format", "omnivore", metadata.to_str().unwrap()])
        .failure();
    assert_eq!(
        err,
        format!(
            "nj: {} is not a ZIP archive, so nothing was imported; Pocket's and Omnivore's exports are the .zip file they download (leave out --format to let nj tell the format)\n",
            metadata.display()
        )
    );
    assert_eq!(env.list_json(), json!([]));
}

#[test]
fn pending_and_read_articles_round_trip_through_a_json_export() {
    let a = Env::new();
    import(&a, &fixture("instapaper.csv"));
    import(&a, &fixture("wallabag.json"));
    let list = a.list_json();
    let first_id = list[0]["id"].as_str().unwrap().to_owned();
    a.nj(&["read", &first_id]).success();
    let first = a.nj(&["export", "--format", "json"]).success().stdout_bytes;
    let text = String::from_utf8(first.clone()).unwrap();
    assert!(text.contains("\"read_at\""), "{text}");
    let file = a.write("journal.json", &first);

    let b = Env::new();
    b.set_now("2026-11-27T12:00:00Z");
    b.nj(&["import", file.to_str().unwrap()]).success();
    let again = b.nj(&["export", "--format", "json"]).success().stdout_bytes;
    assert!(first == again, "the re-export differs");
    // The same articles (in the same order but for ties in time, which
    // the list breaks by the order rows were written).
    let by_id = |env: &Env| {
        let mut v = env.list_json().as_array().unwrap().clone();
        v.sort_by(|x, y| x["id"].as_str().cmp(&y["id"].as_str()));
        v
    };
    assert_eq!(by_id(&b), by_id(&a));
    let pending = b.nj(&["--json", "list", "--pending"]).json();
    assert_eq!(pending.as_array().unwrap().len(), 6);
}

/// Issue 17, item 7: one row with 100,000 tags was deduplicated in
/// quadratic time (30 s; 5 million never finished). An item keeps at most
/// 500 tags, each added in constant time.
#[test]
fn regression_a_row_of_many_tags_is_quadratic() {
    let env = Env::new();
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    env.write(
        "many.csv",
        format!(
            "url,title,time_added,tags,status\nhttps://a.example/x,A,1700000000,{},unread\n",
            tags.join("|")
        ),
    );
    let out = env.nj(&["import", "many.csv"]).success();
    assert!(out.stdout.contains("1 added"), "{}", out.stdout);
    let list = env.list_json();
    assert_eq!(list[0]["tags"].as_array().unwrap().len(), 500);
    env.nj(&["verify"]).success();
}

/// An imported item whose text is a syndicated copy of an article's joins
/// that article, its own text kept as the article's copy.
#[test]
fn an_imported_copy_joins_the_article_it_copies() {
    let env = Env::new();
    let report = (0..30)
        .map(|i| {
            format!(
                "The moss on wall {i} grew {} millimetres this spring.",
                i * 2
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let original = format!("Moss on northern walls\n\n{report}\n");
    let kept = env.clip_text(&original, &["--url", "https://moss.example/walls"]);
    let entry = serde_json::json!([{
        "is_archived": 0, "is_starred": 0, "tags": ["moss"], "id": 1,
        "title": "Moss on northern walls (wire)",
        "url": "https://wire.example/moss",
        "content": format!("<p>{report}</p><p>Distributed by Example Wire.</p>"),
        "created_at": "2019-03-01T10:02:03+0100",
        "annotations": []
    }]);
    let file = env.write("wallabag.json", entry.to_string());
    let out = env.nj(&["import", file.to_str().unwrap()]).success();
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("0 added, 1 updated"), "{said}");
    let list = env.nj(&["--json", "list"]).json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], kept.as_str());
    assert_eq!(list[0]["tags"], serde_json::json!(["moss"]));
    let shown = env.nj(&["--json", "show", &kept]).json();
    assert_eq!(
        shown["copies"][0]["url"], "https://wire.example/moss",
        "{shown}"
    );
    let text = env
        .nj(&[
            "show",
            &kept,
            "--copy",
            "https://wire.example/moss",
            "--text",
        ])
        .success()
        .stdout;
    assert!(text.ends_with("Distributed by Example Wire.\n"), "{text}");
}
