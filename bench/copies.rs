//! How well `nj` recognises syndicated copies, on the labelled set that
//! `bench/copies/make_pairs.py` generates (see `bench/copies/run`).
//!
//! The journal here is every distinct article, every copy pair's original
//! and both articles of every related pair, each with its sketch in an LSH
//! index as `nj` keeps them. Each copy is then looked up as a clip would
//! be: the candidates its band keys find, compared exactly, the best copy
//! taken. A copy found as its own original counts as found; a related
//! article taken as a copy, or a copy matched to the wrong original, counts
//! against precision. Last, every distinct article is looked up against
//! the others: none may be taken for another's copy.
//!
//! With `--real FILE...` (ground-truth JSON files of the extraction sets
//! in `../shared/data/extraction`, objects of `{"articleBody": ...}`), it
//! compares every real article body with every other and lists the most
//! alike pairs instead: real pages of one site share boilerplate, quotes
//! and agency copy in a way generated text does not.
//!
//! Usage: cargo run --release --example copies -- DIR
//!        cargo run --release --example copies -- --real FILE...

use std::collections::HashMap;
use std::time::Instant;

use newsjournal::similar::{Overlap, Shingles, Sketch};

struct Text {
    label: String,
    shingles: Shingles,
    sketch: Option<Sketch>,
}

fn text(label: String, value: &serde_json::Value) -> (Text, String) {
    let body = value["text"].as_str().expect("a text").to_owned();
    let shingles = Shingles::of(&body);
    let sketch = Sketch::of(&shingles);
    (
        Text {
            label,
            shingles,
            sketch,
        },
        body,
    )
}

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let file = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    file.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[derive(Default)]
struct Index {
    texts: Vec<Text>,
    bands: HashMap<i64, Vec<usize>>,
}

impl Index {
    fn add(&mut self, t: Text) -> usize {
        let i = self.texts.len();
        if let Some(s) = &t.sketch {
            for key in s.band_keys() {
                self.bands.entry(key).or_default().push(i);
            }
        }
        self.texts.push(t);
        i
    }

    /// The stored texts sharing a band with `t`, each once.
    fn candidates(&self, t: &Text) -> Vec<usize> {
        let Some(s) = &t.sketch else {
            return Vec::new();
        };
        let mut found: Vec<usize> = s
            .band_keys()
            .iter()
            .filter_map(|k| self.bands.get(k))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The stored text `t` is the best copy of, other than `skip`.
    fn best_copy(&self, t: &Text, skip: Option<usize>) -> (Option<(usize, Overlap)>, usize) {
        let candidates = self.candidates(t);
        let best = candidates
            .iter()
            .filter(|&&i| Some(i) != skip)
            .map(|&i| (i, t.shingles.overlap(&self.texts[i].shingles)))
            .filter(|(_, o)| o.is_copy())
            .max_by(|x, y| x.1.similarity().total_cmp(&y.1.similarity()));
        (best, candidates.len())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Every pair of real article bodies, the most alike first.
fn real(files: &[String]) {
    let mut texts: Vec<(String, String, Shingles)> = Vec::new();
    for file in files {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}")),
        )
        .expect("a JSON object");
        for (key, value) in json.as_object().expect("an object of pages") {
            let body = value["articleBody"].as_str().unwrap_or_default();
            let body = newsjournal::content::normalize(body);
            texts.push((format!("{file}:{key}"), body.clone(), Shingles::of(&body)));
        }
    }
    let mut pairs = Vec::new();
    for i in 0..texts.len() {
        for j in i + 1..texts.len() {
            let o = texts[i].2.overlap(&texts[j].2);
            if o.shared > 0 {
                pairs.push((o.similarity(), i, j, o));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let copies = pairs.iter().filter(|p| p.3.is_copy()).count();
    println!(
        "real texts={} pairs={} sharing_a_shingle={} taken_as_copies={copies}",
        texts.len(),
        texts.len() * (texts.len() - 1) / 2,
        pairs.len()
    );
    let containment = |o: &Overlap| o.shared as f64 / o.a.min(o.b).max(1) as f64;
    let mut by_containment: Vec<_> = pairs
        .iter()
        .filter(|p| p.3.a.min(p.3.b) >= newsjournal::similar::MIN_SHINGLES)
        .collect();
    by_containment.sort_by(|x, y| containment(&y.3).total_cmp(&containment(&x.3)));
    for (sim, i, j, o) in by_containment.iter().take(8) {
        println!(
            "containment {:.3} similarity {sim:.3} {o:?} {} <> {}",
            containment(o),
            texts[*i].0,
            texts[*j].0
        );
    }
    for (sim, i, j, o) in pairs.iter().take(15) {
        let head = |k: usize| newsjournal::content::first_line(&texts[k].1, 60);
        println!(
            "{sim:.3} {:?} {} | {} <> {} | {}",
            o,
            texts[*i].0,
            head(*i),
            texts[*j].0,
            head(*j)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--real") {
        return real(&args[1..]);
    }
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: copies DIR"));
    let copies = lines(&dir.join("copies.jsonl"));
    let related = lines(&dir.join("related.jsonl"));
    let distinct = lines(&dir.join("distinct.jsonl"));

    let mut index = Index::default();
    let started = Instant::now();
    let mut words = 0usize;
    let mut distinct_at = Vec::new();
    for d in &distinct {
        let (t, body) = text(d["id"].as_str().unwrap().to_owned(), d);
        words += body.split_whitespace().count();
        distinct_at.push(index.add(t));
    }
    let sketch_time = started.elapsed();
    let mut originals = Vec::new();
    for c in &copies {
        let (t, _) = text(format!("{} a", c["id"].as_str().unwrap()), &c["a"]);
        originals.push(index.add(t));
    }
    let mut related_b = Vec::new();
    for r in &related {
        let (a, _) = text(format!("{} a", r["id"].as_str().unwrap()), &r["a"]);
        index.add(a);
        let (b, _) = text(format!("{} b", r["id"].as_str().unwrap()), &r["b"]);
        related_b.push(b);
    }

    // Copies, looked up as a clip would look them up.
    let (mut found, mut wrong, mut missed) = (0, 0, Vec::new());
    let mut similarities = Vec::new();
    let mut containments = Vec::new();
    let mut estimate_error: f64 = 0.0;
    for (c, &original) in copies.iter().zip(&originals) {
        let (copy, _) = text(format!("{} b", c["id"].as_str().unwrap()), &c["b"]);
        let exact = copy.shingles.overlap(&index.texts[original].shingles);
        similarities.push(exact.similarity());
        containments.push(exact.shared as f64 / exact.a.min(exact.b) as f64);
        if let (Some(a), Some(b)) = (&copy.sketch, &index.texts[original].sketch) {
            let jaccard = exact.shared as f64 / (exact.a + exact.b - exact.shared) as f64;
            estimate_error = estimate_error.max((a.estimate(b) - jaccard).abs());
        }
        match index.best_copy(&copy, None).0 {
            Some((i, _)) if i == original => found += 1,
            Some(_) => wrong += 1,
            None => missed.push((
                c["id"].as_str().unwrap().to_owned(),
                exact,
                c["edits"].to_string(),
            )),
        }
    }
    // Related coverage: never a copy.
    let mut taken = 0;
    let mut related_max: f64 = 0.0;
    for (r, b) in related.iter().zip(&related_b) {
        let _ = r;
        if let Some((_, o)) = index.best_copy(b, None).0 {
            taken += 1;
            related_max = related_max.max(o.similarity());
        }
        for i in index.candidates(b) {
            related_max =
                related_max.max(b.shingles.overlap(&index.texts[i].shingles).similarity());
        }
    }
    // Distinct articles: none another's copy.
    let started = Instant::now();
    let (mut folded, mut candidates, mut distinct_max) = (Vec::new(), 0, 0.0f64);
    for &i in &distinct_at {
        let t = &index.texts[i];
        let (best, n) = index.best_copy(t, Some(i));
        candidates += n.saturating_sub(1);
        for j in index.candidates(t) {
            if j != i {
                distinct_max =
                    distinct_max.max(t.shingles.overlap(&index.texts[j].shingles).similarity());
            }
        }
        if let Some((j, o)) = best {
            folded.push((t.label.clone(), index.texts[j].label.clone(), o));
        }
    }
    let lookup_time = started.elapsed();

    similarities.sort_by(f64::total_cmp);
    let true_positives = found as f64;
    let false_positives = (wrong + taken) as f64;
    let precision = true_positives / (true_positives + false_positives);
    let recall = true_positives / copies.len() as f64;
    println!(
        "copies={} related={} distinct={} threshold={} shingle_words={} bands={}x{}",
        copies.len(),
        related.len(),
        distinct.len(),
        newsjournal::similar::COPY_SIMILARITY,
        newsjournal::similar::SHINGLE_WORDS,
        newsjournal::similar::BANDS,
        newsjournal::similar::ROWS
    );
    println!(
        "precision={precision:.4} recall={recall:.4} found={found} wrong_original={wrong} related_taken_as_copies={taken} missed={}",
        missed.len()
    );
    println!(
        "distinct_folded={} distinct_candidate_pairs={} (of {} pairs)",
        folded.len(),
        candidates,
        distinct.len() * (distinct.len() - 1)
    );
    println!(
        "copy similarity: min={:.3} p1={:.3} p5={:.3} median={:.3}; highest related={related_max:.3}; highest distinct candidate={distinct_max:.3}",
        percentile(&similarities, 0.0),
        percentile(&similarities, 0.01),
        percentile(&similarities, 0.05),
        percentile(&similarities, 0.5)
    );
    containments.sort_by(f64::total_cmp);
    println!(
        "copy containment (of the shorter): min={:.3} p1={:.3} p5={:.3} median={:.3}",
        percentile(&containments, 0.0),
        percentile(&containments, 0.01),
        percentile(&containments, 0.05),
        percentile(&containments, 0.5)
    );
    println!(
        "largest gap between the sketch's estimate and the exact Jaccard: {estimate_error:.3}"
    );
    println!(
        "shingles and sketch: {:.1} µs per article ({:.0} words on average); lookup of each distinct article: {:.1} µs",
        sketch_time.as_secs_f64() * 1e6 / distinct.len() as f64,
        words as f64 / distinct.len() as f64,
        lookup_time.as_secs_f64() * 1e6 / distinct.len() as f64
    );
    for (id, o, edits) in missed.iter().take(10) {
        println!(
            "missed {id}: {o:?} similarity {:.3} {edits}",
            o.similarity()
        );
    }
    for (a, b, o) in folded.iter().take(10) {
        println!("folded {a} into {b}: {o:?}");
    }
}
