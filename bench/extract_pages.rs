//! Runs the extraction `nj extract` does over a folder of HTML pages in one
//! process, so the timings measure extraction and not process start-up.
//! `bench/extraction` drives it; the text comes from the same
//! `clip::load` call as `nj extract FILE`.
//!
//!   extract_pages DIR OUT.json
//!
//! OUT.json maps each page id (file name without `.html`) to
//! `{"articleBody": text, "ms": milliseconds, "error": message-or-null,
//! "title", "canonical_url", "lang", "published_at", "author", "site"}`
//! (the metadata null where not found).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use newsjournal::clip::{load, LoadOptions, Source};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else {
        anyhow::bail!("usage: extract_pages DIR OUT.json");
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    paths.sort();
    let mut results = BTreeMap::new();
    for path in paths {
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        let source = Source::File(path.clone());
        let start = Instant::now();
        let page = load(&source, &LoadOptions::default(), std::io::empty());
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let entry = match page {
            Ok(p) => json!({
                "articleBody": p.content.text,
                "ms": ms,
                "error": null,
                "title": p.title,
                "canonical_url": p.canonical_url,
                "lang": p.lang,
                "published_at": p.published_at.map(|t| t.0),
                "author": p.author,
                "site": p.site,
            }),
            Err(e) => json!({"articleBody": "", "ms": ms, "error": e.to_string()}),
        };
        results.insert(id, entry);
    }
    std::fs::write(out, serde_json::to_vec_pretty(&results)?)?;
    Ok(())
}
