//! What the fuzz targets (`fuzz/`) run, one function per target, so that
//! the inputs that once found a bug replay as ordinary tests on stable Rust
//! (`tests/integration/fuzz_replay.rs`) with no fuzzer installed. Each
//! function panics when what must hold does not; bounded time and memory
//! are the fuzzer's to enforce (`fuzz/run` gives it the limits), and the
//! replay test runs every saved input under a time limit too.
//!
//! Not part of the library's API: hidden from its documentation.

use std::io::Write;

use crate::import::Format;
use crate::journal::Journal;
use crate::time::Timestamp;

/// The fixed "now" every target runs at, so a saved input replays alike.
const NOW_MS: i64 = 1_764_000_000_000;

/// The importers, by the first byte of the input: each reads the rest as
/// the file it is given, into a new journal, which must verify clean.
pub const IMPORT_FORMATS: [Format; 7] = [
    Format::Newsjournal,
    Format::Pocket,
    Format::PocketHtml,
    Format::Netscape,
    Format::Wallabag,
    Format::Instapaper,
    Format::Omnivore,
];

/// One importer on `data`: whatever the file holds, the import either
/// fails with an error or leaves a journal that `nj verify` passes, and
/// whose JSON export imports into a journal that exports the same bytes.
pub fn import(format: Format, data: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("input");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("write the input");
    // In memory: a journal file costs its creation and syncs on every
    // input, most of the fuzzer's time, and tests nothing the import does.
    let mut journal = Journal::open_in_memory().expect("a new journal");
    if crate::import::import(&mut journal, &path, Some(format), Timestamp(NOW_MS)).is_ok() {
        verifies(&journal);
        // What nj exports, nj imports as it was: the export of a journal
        // made from the export is the same bytes.
        let export = dir.path().join("export.json");
        let mut out = std::fs::File::create(&export).expect("create the export");
        crate::export::json::write(&journal, &mut out).expect("export");
        drop(out);
        let mut again = Journal::open_in_memory().expect("a second journal");
        crate::import::import(
            &mut again,
            &export,
            Some(Format::Newsjournal),
            Timestamp(NOW_MS),
        )
        .expect("an export imports");
        verifies(&again);
        let mut second = Vec::new();
        crate::export::json::write(&again, &mut second).expect("export again");
        let first = std::fs::read(&export).expect("read the export");
        assert!(
            first == second,
            "the export did not round-trip through an import"
        );
    }
}

/// Panics unless `nj verify` would pass on `journal`.
fn verifies(journal: &Journal) {
    let report = journal.verify().expect("verify runs");
    assert!(
            report.mismatches.is_empty()
                && report.inconsistent.is_empty()
                && report.index_ok
                && report.tag_counts_ok,
            "the import left a journal that does not verify: {} mismatches, {} inconsistent, index {}, tag counts {}",
            report.mismatches.len(),
            report.inconsistent.len(),
            report.index_ok,
            report.tag_counts_ok
        );
}

/// HTML as `nj clip` reads a page, `nj extract` shows it and the wallabag
/// and Omnivore importers read an article's body: decoded from bytes,
/// extracted, rendered. Nothing may panic; what comes out is text.
pub fn html(data: &[u8]) {
    let html = crate::clip::decode::decode_html(data, None);
    if let Ok(ex) = crate::clip::extract_html("input", &html, Some("https://news.example/a")) {
        assert!(!ex.text.contains('\0'), "NUL in extracted text");
    }
    let text = crate::clip::html_to_text(&html);
    assert!(!text.contains('\0'), "NUL in rendered text");
}

/// A natural-language date (`nj follow-up --due`) and a repeat interval
/// (`--every`): no panic; a repeat that parses prints as text that parses
/// to the same repeat.
pub fn when(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp_millis(NOW_MS).expect("a valid time");
    let _ = crate::time::parse_when(text, now);
    let _ = crate::time::parse_time_of_day(text);
    if let Ok(every) = crate::time::Interval::parse(text) {
        let again = crate::time::Interval::parse(&every.to_string())
            .unwrap_or_else(|e| panic!("{every} does not parse again: {e}"));
        assert_eq!(again, every, "the repeat {text:?} does not round-trip");
    }
}

/// A search query (`nj search`): no panic; a query either runs against a
/// journal or is refused as a bad query, never with an error from SQLite.
pub fn search_query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let columns = ["title", "body", "notes", "tags"];
    if let Ok(expr) = crate::journal::fts_query::parse(text, &columns) {
        let _ = crate::journal::fts_query::superset(&expr);
        let _ = crate::journal::fts_query::has_phrase(&expr);
    }
    let journal = Journal::open_in_memory().expect("a journal");
    let query = crate::journal::SearchQuery {
        since: None,
        until: None,
        query: text.into(),
        tag: None,
        story: None,
        limit: 10,
        mark: (String::new(), String::new()),
    };
    // A query nj cannot read is the user's to fix, and says how; anything
    // else (SQLite refusing what the parser let through) is a bug.
    if let Err(e) = journal.search(&query) {
        assert!(
            matches!(e, crate::Error::BadQuery { .. } | crate::Error::BadInput(_)),
            "the query {text:?} failed as something other than a bad query: {e}"
        );
    }
}

/// One request to the sync server, through its real routes and limits
/// over an in-memory store: the first byte picks the endpoint, the rest is
/// the body (or the query). Whatever comes, the server answers with a
/// status below 500, and still answers a valid request after it.
pub fn server_request(data: &[u8]) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let core = std::sync::Arc::new(crate::server::Core::open_in_memory().expect("a core"));
    let (_, token) = core.new_journal(NOW_MS).expect("a journal");
    let config = crate::server::Config {
        max_body: 64 * 1024,
        ..crate::server::Config::default()
    };
    let app = crate::server::http::router(core, &config);
    let (method, uri) = match pick % 8 {
        0 => ("POST", "/v1/ops".to_owned()),
        1 => (
            "GET",
            format!(
                "/v1/ops?{}",
                String::from_utf8_lossy(body).replace(['#', ' '], "")
            ),
        ),
        2 => ("PUT", "/v1/key-check".to_owned()),
        3 => ("POST", "/v1/blobs/store".to_owned()),
        4 => ("POST", "/v1/blobs/fetch".to_owned()),
        5 => ("POST", "/v1/blobs/lacking".to_owned()),
        6 => ("PUT", "/v1/blobs/k1:ab".to_owned()),
        _ => ("GET", "/v1/status".to_owned()),
    };
    let request = |method: &str, uri: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        // A URI that is not one (from the query bytes) is the client's
        // problem, refused before it reaches the server.
        if let Ok(req) = request(method, &uri, body.to_vec()) {
            let resp = app.clone().oneshot(req).await.expect("the router answers");
            assert!(
                resp.status().as_u16() < 500,
                "{method} {uri} answered {}",
                resp.status()
            );
        }
        let req = request("GET", "/v1/status", Vec::new()).expect("a request");
        let resp = app.oneshot(req).await.expect("the router answers");
        assert_eq!(resp.status().as_u16(), 200, "the server stopped answering");
    });
}

/// Opening what the server sends: a sealed operation, a sealed text, a
/// wrapped key, a recovery string. Bytes nobody sealed never open, and
/// nothing panics; what is sealed opens to itself.
pub fn open_sealed(data: &[u8]) {
    use crate::sync::crypto::JournalKey;
    let keys = JournalKey::from_bytes([7; 32]).sync_keys();
    assert!(
        keys.open_op("j", "d", 1, data).is_err(),
        "unsealed bytes opened as an operation"
    );
    assert!(
        keys.open_blob("j", "k1:ab", data).is_err(),
        "unsealed bytes opened as a text"
    );
    let sealed = keys.seal_op("j", "d", 1, data);
    assert_eq!(keys.open_op("j", "d", 1, &sealed).expect("opens"), data);
    let sealed = keys.seal_blob("j", "k1:ab", data);
    assert_eq!(keys.open_blob("j", "k1:ab", &sealed).expect("opens"), data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = JournalKey::from_recovery(text);
        let _ = crate::journal::parse_key(text);
    }
}
