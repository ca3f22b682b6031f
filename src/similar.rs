//! How alike two texts are: the measure behind recognising a syndicated
//! copy of an article already in the journal.
//!
//! A text is cut into word shingles: every run of [`SHINGLE_WORDS`]
//! consecutive words, with case, punctuation, quotes and dashes ignored, so
//! a copy whose only changes are typographic has the same shingles. Two
//! texts are compared by the shingles they share ([`Overlap`]); a copy
//! shares most of its shingles with the original even with a headline, a
//! byline, a "Read more" line or a few sentences added, dropped or cut from
//! the end, while two different reports on one story share almost none
//! (they share words, not runs of words).
//!
//! Comparing a new text with every stored one would read the whole journal,
//! so each text also gets a [`Sketch`]: [`HASHES`] MinHash values, whose
//! agreement estimates the two texts' share of common shingles. Its
//! [`Sketch::band_keys`] (locality-sensitive hashing) find the few stored
//! texts worth comparing exactly, through an index lookup per band.
//!
//! The words, the shingle hash and the sketch decide the copy keys a
//! journal stores: change any of them and every article's keys must be
//! made again (a migration).

/// Words per shingle. Five words rarely repeat by chance between two
/// different articles, even in the same outlet's style, while a copy
/// keeps nearly all of its runs of five.
pub const SHINGLE_WORDS: usize = 5;

/// Values per sketch (one-permutation MinHash, [`Sketch::of`]).
pub const HASHES: usize = BANDS * ROWS;

/// LSH bands, each of [`ROWS`] MinHash values: two texts become
/// candidates when all the values of any one band agree. With `J` the
/// share of their shingles they have in common, the chance is
/// `1 - (1 - J^ROWS)^BANDS`: at 3 rows and 40 bands, 0.9999 for J = 0.7,
/// 0.995 for J = 0.5, and 0.00004 for the J of 0.01 two unrelated texts
/// have.
pub const BANDS: usize = 40;
pub const ROWS: usize = 3;

/// A text with fewer shingles than this (about 100 words) is never a
/// copy of anything: a headline, a brief, or a page that is mostly a
/// site's paywall notice would match another too easily (two different
/// briefs behind the same 50-word subscription notice scored 0.82).
pub const MIN_SHINGLES: usize = 100;

/// The least [`Overlap::similarity`] of a copy. On the labelled set
/// (`bench/copies/run`, seeds 7 and 8) every copy scores 0.754 or more and
/// every other pair 0.000; among 771 real article bodies
/// (`../shared/data/extraction`), the most alike different pair, two posts
/// of one blog sharing its boilerplate, scores 0.673, and two weekly posts
/// from one template 0.512. 0.72 is between (docs/benchmarks.md,
/// "Copies").
pub const COPY_SIMILARITY: f64 = 0.72;

/// The distinct shingles of a text, as sorted hashes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shingles(Vec<u64>);

impl Shingles {
    pub fn of(text: &str) -> Shingles {
        let words: Vec<u64> = words(text).collect();
        let mut hashes: Vec<u64> = words
            .windows(SHINGLE_WORDS)
            .map(|w| {
                let joined = w.iter().fold(0u64, |h, &x| {
                    h.wrapping_mul(0x100_0000_01b3).wrapping_add(x)
                });
                mix(joined)
            })
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        Shingles(hashes)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many shingles the two texts share.
    pub fn overlap(&self, other: &Shingles) -> Overlap {
        let (mut i, mut j, mut shared) = (0, 0, 0);
        let (a, b) = (&self.0, &other.0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        Overlap {
            shared,
            a: a.len(),
            b: b.len(),
        }
    }
}

/// The shingles two texts share, and how many each has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    pub shared: usize,
    pub a: usize,
    pub b: usize,
}

impl Overlap {
    /// How alike the texts are, from 0 (nothing in common) to 1 (the same
    /// shingles): the shingles they share over the geometric mean of how
    /// many each has (the Ochiai, or cosine, coefficient). A copy with its
    /// last paragraphs cut keeps a high score (nearly all of it is in the
    /// original), while an excerpt (a teaser, the first paragraph) does not
    /// (it is a small part of the article), and neither do two texts that
    /// share only a site's boilerplate.
    pub fn similarity(&self) -> f64 {
        if self.shared == 0 {
            return 0.0;
        }
        self.shared as f64 / ((self.a as f64) * (self.b as f64)).sqrt()
    }

    /// Whether one text is a copy of the other.
    pub fn is_copy(&self) -> bool {
        self.a.min(self.b) >= MIN_SHINGLES && self.similarity() >= COPY_SIMILARITY
    }
}

/// A text's MinHash sketch: for each of [`HASHES`] hash functions, the
/// least value over its shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sketch {
    pub mins: [u32; HASHES],
}

impl Sketch {
    /// The sketch of a text's shingles; none for a text too short to be
    /// anyone's copy.
    ///
    /// One-permutation hashing: each shingle's hash picks one of the
    /// [`HASHES`] bins and offers the rest of its bits as that bin's
    /// value, the least kept; a bin no shingle fell in takes the value of
    /// the next filled one, marked with the distance (densification, after
    /// Shrivastava and Li, 2014). One hash per shingle, where a hash per
    /// shingle and function took a journal's import 10 s longer at
    /// 100,000 articles; the bins agree between two texts as often as
    /// independent MinHash values would.
    pub fn of(shingles: &Shingles) -> Option<Sketch> {
        if shingles.len() < MIN_SHINGLES {
            return None;
        }
        let mut mins = [u32::MAX; HASHES];
        let mut filled = [false; HASHES];
        for &s in &shingles.0 {
            // The shingle's hash is already well mixed: its top bits pick
            // the bin (a multiply instead of a division), its low bits
            // are the value.
            let bin = (((s >> 32) * HASHES as u64) >> 32) as usize;
            let value = s as u32;
            if value <= mins[bin] {
                mins[bin] = value;
                filled[bin] = true;
            }
        }
        if filled.iter().any(|f| !f) {
            let taken = mins;
            for i in 0..HASHES {
                if filled[i] {
                    continue;
                }
                let (distance, from) = (1..HASHES)
                    .map(|d| (d, (i + d) % HASHES))
                    .find(|&(_, j)| filled[j])
                    .expect("a text of MIN_SHINGLES shingles fills a bin");
                mins[i] = mix(u64::from(taken[from]) ^ ((distance as u64) << 32)) as u32;
            }
        }
        Some(Sketch { mins })
    }

    /// The share of hash functions on which two sketches agree: an
    /// estimate of the share of shingles the two texts have in common
    /// (of all the shingles either has).
    pub fn estimate(&self, other: &Sketch) -> f64 {
        let same = self
            .mins
            .iter()
            .zip(other.mins.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / HASHES as f64
    }

    /// One key per band: texts with an equal key in some band are
    /// candidates to compare. The band's number is in the key, so equal
    /// values in different bands do not meet.
    pub fn band_keys(&self) -> [i64; BANDS] {
        let mut keys = [0i64; BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let rows = &self.mins[band * ROWS..(band + 1) * ROWS];
            let h = rows
                .iter()
                .fold(mix(band as u64 + 1), |h, &v| mix(h ^ u64::from(v)));
            // 31 bits: SQLite stores such an integer in 4 bytes, not 8,
            // and among a journal's millions of keys the chance meetings
            // that adds are a few extra candidates, compared and dropped.
            *key = (h >> 33) as i64;
        }
        keys
    }

    /// The sketch as stored: its values, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.mins.iter().flat_map(|m| m.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Sketch> {
        if bytes.len() != HASHES * 4 {
            return None;
        }
        let mut mins = [0u32; HASHES];
        for (m, chunk) in mins.iter_mut().zip(bytes.chunks_exact(4)) {
            *m = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
        }
        Some(Sketch { mins })
    }
}

/// How much a text changed from one version to the next, word by word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WordChange {
    pub words_added: usize,
    pub words_removed: usize,
    /// Only whitespace, punctuation, or a date or an "Updated" line
    /// changed: the same report.
    pub minor: bool,
}

/// How `new` differs from `old`: the words added and removed (case and
/// punctuation ignored), and whether the change is minor.
pub fn word_change(old: &str, new: &str) -> WordChange {
    let (a, b) = (lower_words(old), lower_words(new));
    // A diff of two very different long texts could take long; past the
    // deadline `similar` gives a coarser diff, which still counts words.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let ops = similar::capture_diff_deadline(
        similar::Algorithm::Myers,
        &a,
        0..a.len(),
        &b,
        0..b.len(),
        Some(deadline),
    );
    let (mut words_added, mut words_removed) = (0, 0);
    for op in ops {
        match op {
            similar::DiffOp::Insert { new_len, .. } => words_added += new_len,
            similar::DiffOp::Delete { old_len, .. } => words_removed += old_len,
            similar::DiffOp::Replace {
                old_len, new_len, ..
            } => {
                words_added += new_len;
                words_removed += old_len;
            }
            similar::DiffOp::Equal { .. } => {}
        }
    }
    WordChange {
        words_added,
        words_removed,
        minor: report_words(old) == report_words(new),
    }
}

fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words that make the report: without the lines that only date it,
/// a line that starts "Updated", "Published" or "Last updated", or one of
/// nothing but date and time words ("Tuesday, Dec. 3, 2019, 5:40 p.m.
/// ET"). Numbers elsewhere are news: a vote of 5 to 4 becoming 6 to 3 is
/// no minor change.
fn report_words(text: &str) -> Vec<String> {
    const DATED: &[&str] = &["updated", "update", "published", "posted", "modified"];
    // With the month and weekday names `nj follow-up --due` reads.
    const TIME_WORDS: &[&str] = &[
        "am",
        "pm",
        "a",
        "p",
        "m",
        "utc",
        "gmt",
        "et",
        "est",
        "edt",
        "ct",
        "cst",
        "cdt",
        "pt",
        "pst",
        "pdt",
        "bst",
        "cet",
        "cest",
        "today",
        "yesterday",
        "ago",
        "minutes",
        "minute",
        "hours",
        "hour",
        "at",
        "on",
        "last",
    ];
    let date_word = |w: &str| {
        TIME_WORDS.contains(&w) || crate::time::is_month(w) || crate::time::weekday(w).is_some()
    };
    let mut words = Vec::new();
    for line in text.lines() {
        let line_words = lower_words(line);
        let first = line_words.first().map(String::as_str);
        let second = line_words.get(1).map(String::as_str);
        let dating = |w: Option<&str>| w.is_some_and(|w| DATED.contains(&w));
        let only_a_date = line_words
            .iter()
            .all(|w| date_word(w) || w.chars().all(|c| c.is_ascii_digit()));
        if dating(first) || (first == Some("last") && dating(second)) || only_a_date {
            continue;
        }
        words.extend(line_words);
    }
    words
}

/// The words of a text, each as a hash of its lower-case letters and
/// digits: anything else (punctuation, quotes, dashes, spaces) separates
/// words and is otherwise ignored.
fn words(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            // FNV-1a over the lower-case UTF-8 bytes.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut feed = |c: char| {
                let mut buf = [0u8; 4];
                for &byte in c.encode_utf8(&mut buf).as_bytes() {
                    h ^= u64::from(byte);
                    h = h.wrapping_mul(0x100_0000_01b3);
                }
            };
            for c in w.chars() {
                if c.is_ascii() {
                    feed(c.to_ascii_lowercase());
                } else {
                    c.to_lowercase().for_each(&mut feed);
                }
            }
            h
        })
}

/// splitmix64's finaliser: spreads every input bit over the output.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(seed: u64, sentences: usize) -> Vec<String> {
        // Sentences of made-up words, different for each seed.
        (0..sentences)
            .map(|s| {
                let words: Vec<String> = (0..12)
                    .map(|w| format!("w{:x}", mix(seed * 10_000 + s as u64 * 100 + w) % 5000))
                    .collect();
                format!("{}.", words.join(" "))
            })
            .collect()
    }

    #[test]
    fn typography_and_case_do_not_change_the_shingles() {
        let a = Shingles::of("The \"deal\" - signed today - was worth $10bn, officials said.");
        let b = Shingles::of("the “deal” — signed today — was worth $10bn officials SAID");
        assert_eq!(a, b);
        assert!(!a.is_empty());
    }

    #[test]
    fn a_copy_with_a_line_added_is_a_copy_and_a_different_text_is_not() {
        let text = article(1, 30).join(" ");
        let copy = format!("By A. Writer\n\n{text}\n\nOriginally published on Example News.");
        let other = article(2, 30).join(" ");
        let (a, b, c) = (
            Shingles::of(&text),
            Shingles::of(&copy),
            Shingles::of(&other),
        );
        let same = a.overlap(&b);
        assert!(same.is_copy(), "{same:?}");
        assert!(same.similarity() > 0.97, "{same:?}");
        let different = a.overlap(&c);
        assert!(!different.is_copy(), "{different:?}");
        assert!(different.similarity() < 0.05, "{different:?}");
        let (sa, sb, sc) = (
            Sketch::of(&a).unwrap(),
            Sketch::of(&b).unwrap(),
            Sketch::of(&c).unwrap(),
        );
        assert!(sa.estimate(&sb) > 0.8);
        assert!(sa.estimate(&sc) < 0.1);
        let shared_band = |x: &Sketch, y: &Sketch| {
            x.band_keys()
                .iter()
                .zip(y.band_keys().iter())
                .any(|(p, q)| p == q)
        };
        assert!(shared_band(&sa, &sb));
        assert!(!shared_band(&sa, &sc));
        assert_eq!(Sketch::from_bytes(&sa.to_bytes()), Some(sa));
    }

    #[test]
    fn a_change_of_a_date_or_an_updated_line_is_minor() {
        let text = "Harbour vote\n\nUpdated Dec. 3, 2019 at 5:40 p.m. ET\n\nThe council voted 5 to 4 on Tuesday.\n";
        let later = "Harbour vote\n\nUpdated Dec. 4, 2019 at 9:15 a.m. ET\n\nThe council voted 5 to 4 on Tuesday.\n";
        let c = word_change(text, later);
        assert!(c.minor, "{c:?}");
        assert_eq!((c.words_added, c.words_removed), (4, 4), "{c:?}");
        // A dateline of its own.
        let dated = text.replace(
            "Updated Dec. 3, 2019 at 5:40 p.m. ET",
            "Tuesday, Dec. 3, 2019",
        );
        let redated = text.replace(
            "Updated Dec. 3, 2019 at 5:40 p.m. ET",
            "Wednesday, Dec. 4, 2019",
        );
        assert!(word_change(&dated, &redated).minor);
        // Punctuation and quotes only.
        let c = word_change(text, &text.replace("voted", "voted,").replace('.', "!"));
        assert_eq!((c.words_added, c.words_removed, c.minor), (0, 0, true));
        // A changed count is news.
        let c = word_change(text, &text.replace("5 to 4", "6 to 3"));
        assert!(!c.minor, "{c:?}");
        let c = word_change(text, &format!("{text}The mayor will veto it.\n"));
        assert_eq!((c.words_added, c.words_removed, c.minor), (5, 0, false));
    }

    #[test]
    fn an_excerpt_or_a_short_text_is_no_copy() {
        let sentences = article(3, 40);
        let text = sentences.join(" ");
        let teaser = sentences[..4].join(" ");
        let overlap = Shingles::of(&text).overlap(&Shingles::of(&teaser));
        assert_eq!(overlap.shared, overlap.b, "the teaser is all in the text");
        assert!(!overlap.is_copy(), "{overlap:?}");
        for short in ["", "word", "Court rules on the contract"] {
            let s = Shingles::of(short);
            assert!(!s.overlap(&s).is_copy(), "{short:?}");
            assert_eq!(Sketch::of(&s), None);
        }
    }
}
