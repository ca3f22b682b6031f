//! Property checks of imports: whatever order bookmarks, clips, fetches
//! and newsjournal exports arrive in, every article ends whole. Its
//! pending flag, current text, versions and search entry agree (what `nj
//! verify` checks), and an article with text is found by its words.

use proptest::prelude::*;

use crate::content::Content;
use crate::journal::{Journal, ListFilter, NewBookmark, NewClip, SearchQuery};
use crate::time::Timestamp;

const URLS: [&str; 3] = [
    "https://ledger.example/harbor",
    "https://courier.example/harbor-copy",
    "https://gazette.example/ferry",
];

/// Each text has a word no other has, to search by.
const TEXTS: [(&str, &str); 3] = [
    (
        "quayside",
        "Harbor contract\n\nThe quayside contract goes to review.\n",
    ),
    (
        "turbines",
        "Wind farm\n\nThe turbines were approved on Tuesday.\n",
    ),
    ("timetable", "Ferry\n\nThe new timetable starts in March.\n"),
];

#[derive(Debug, Clone)]
enum Op {
    /// A bookmark file's link: pending, or with its text (wallabag).
    Bookmark { url: usize, text: Option<usize> },
    /// `nj clip URL`.
    Clip { url: usize, text: usize },
    /// `nj fetch` of whatever is pending at this URL.
    Fetch { url: usize, text: usize },
    /// `nj import` of another journal's export holding this clip, or this
    /// pending bookmark.
    Export { url: usize, text: Option<usize> },
    /// `nj rm` (or `nj restore`) of whatever holds this URL.
    Bin { url: usize, removed: bool },
    /// `nj tags merge` of one tag into another.
    Merge { from: usize, into: usize },
}

const TAGS: [&str; 3] = ["courts", "harbor", "ferries"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, proptest::option::of(0..3usize))
            .prop_map(|(url, text)| Op::Bookmark { url, text }),
        (0..3usize, 0..3usize).prop_map(|(url, text)| Op::Clip { url, text }),
        (0..3usize, 0..3usize).prop_map(|(url, text)| Op::Fetch { url, text }),
        (0..3usize, proptest::option::of(0..3usize))
            .prop_map(|(url, text)| Op::Export { url, text }),
        (0..3usize, any::<bool>()).prop_map(|(url, removed)| Op::Bin { url, removed }),
        (0..3usize, 0..3usize).prop_map(|(from, into)| Op::Merge { from, into }),
    ]
}

fn clip(url: usize, text: usize) -> NewClip {
    NewClip {
        tags: vec![TAGS[text].to_owned()],
        content: Content::new(TEXTS[text].1),
        title: TEXTS[text].1.lines().next().unwrap_or_default().to_owned(),
        urls: vec![URLS[url].to_owned()],
        ..NewClip::default()
    }
}

fn bookmark(url: usize, text: Option<usize>) -> NewBookmark {
    NewBookmark {
        urls: vec![URLS[url].to_owned()],
        title: crate::journal::placeholder_title(URLS[url]),
        content: text.map(|t| Content::new(TEXTS[t].1)),
        tags: vec![
            TAGS[url].to_owned(),
            TAGS[(url + text.unwrap_or(0)) % 3].to_owned(),
        ],
        ..NewBookmark::default()
    }
}

/// The newsjournal JSON export of a journal that holds one article.
fn export_of(url: usize, text: Option<usize>, at: Timestamp) -> Vec<u8> {
    let mut other = Journal::open_in_memory().unwrap();
    match text {
        Some(t) => {
            other.clip(at, &clip(url, t)).unwrap();
        }
        None => {
            other
                .write(at, |tx| tx.import_bookmark(&bookmark(url, None)))
                .unwrap();
        }
    }
    let mut out = Vec::new();
    crate::export::json::write(&other, &mut out).unwrap();
    out
}

fn apply(j: &mut Journal, op: &Op, at: Timestamp) {
    // An op may be refused (an empty text, nothing pending): a refusal
    // must leave the journal whole too, which the checks below see.
    let _ = match *op {
        Op::Bookmark { url, text } => j
            .write(at, |tx| tx.import_bookmark(&bookmark(url, text)))
            .map(drop),
        Op::Clip { url, text } => j.clip(at, &clip(url, text)).map(drop),
        Op::Fetch { url, text } => {
            let pending = j.pending(true, 0).unwrap();
            match pending
                .iter()
                .find(|p| p.urls.iter().any(|u| u == URLS[url]))
            {
                Some(p) => j
                    .write(at, |tx| tx.fill_pending(&p.as_ref(), &clip(url, text)))
                    .map(drop),
                None => Ok(()),
            }
        }
        Op::Export { url, text } => {
            let bytes = export_of(url, text, at);
            super::newsjournal::import(j, "export.json", &bytes[..], at).map(drop)
        }
        Op::Bin { url, removed } => {
            let all = j
                .list(&ListFilter {
                    limit: 0,
                    removed: !removed,
                    ..ListFilter::default()
                })
                .unwrap();
            match all.iter().find(|a| a.urls.iter().any(|u| u == URLS[url])) {
                Some(a) => j
                    .write(at, |tx| tx.set_removed(&a.as_ref(), removed))
                    .map(drop),
                None => Ok(()),
            }
        }
        Op::Merge { from, into } => j
            .write(at, |tx| tx.rename_tag(TAGS[from], TAGS[into], true))
            .map(drop),
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_import_order_leaves_each_article_whole(ops in proptest::collection::vec(op(), 1..7)) {
        let mut j = Journal::open_in_memory().unwrap();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut j, op, Timestamp(1_000_000 + i as i64 * 1_000));
            let report = j.verify().unwrap();
            prop_assert!(report.inconsistent.is_empty(), "after {:?}: {:?}", &ops[..=i], report.inconsistent);
            prop_assert!(report.mismatches.is_empty());
            prop_assert!(report.index_ok, "after {:?}: the search index disagrees", &ops[..=i]);
            prop_assert!(report.tag_counts_ok, "after {:?}: the tag counts disagree: {:?}", &ops[..=i], j.tags());
        }
        let articles = j
            .list(&ListFilter { limit: 0, ..ListFilter::default() })
            .unwrap();
        for a in articles {
            let versions = j.versions(&a.as_ref()).unwrap();
            if a.pending {
                prop_assert!(versions.is_empty(), "{} is pending with versions", a.id);
                continue;
            }
            prop_assert!(versions.iter().any(|v| v.content_hash == a.content_hash));
            let text = j.text(&a.content_hash).unwrap();
            let word = TEXTS.iter().find(|(_, t)| Content::new(t).hash == a.content_hash).unwrap().0;
            prop_assert!(text.contains(word));
            let hits = j
                .search(&SearchQuery {
                since: None,
                until: None,
                    query: word.to_owned(),
                    tag: None,
 story: None,
                    limit: 0,
                    mark: (String::new(), String::new()),
                })
                .unwrap();
            prop_assert!(
                hits.iter().any(|h| h.article.as_ref().is_some_and(|h| h.id == a.id)),
                "{} ({word}) is not found by search after {ops:?}", a.id
            );
        }
    }
}
