//! Rechecking sources: fetch each article's URL again, and record a new
//! version when its text changed.
//!
//! Fetches run on a few worker threads; the journal is written only from
//! the calling thread, one transaction per changed article, as each result
//! arrives. A failed fetch is reported and never stops the others, and an
//! interrupted run keeps every version recorded before it stopped.

use std::collections::VecDeque;
use std::sync::{mpsc, Mutex};

use serde::Serialize;

use crate::clip::{self, FetchOptions, LoadOptions, Page, Source};
use crate::content::line_diff;
use crate::error::{Error, Result};
use crate::journal::{Article, Journal, NewClip};
use crate::time::Clock;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Unchanged,
    Changed {
        lines_added: usize,
        lines_removed: usize,
        previous_hash: String,
        content_hash: String,
        /// A unified diff from the previous text to the new one.
        diff: String,
    },
    Unreachable {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub article_id: String,
    pub title: String,
    pub url: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Rechecks `articles` with `workers` fetches at a time, calling `progress`
/// after each one. Returns the results in the order given.
pub fn recheck(
    journal: &mut Journal,
    articles: &[Article],
    fetch: &FetchOptions,
    workers: usize,
    clock: &Clock,
    mut progress: impl FnMut(&Checked),
) -> Result<Vec<Checked>> {
    // Each article's URLs, preferred first: a canonical URL may not be
    // reachable from here while the address it was clipped from is.
    let sources = |a: &Article| -> Vec<String> {
        let mut urls: Vec<String> = a.url.iter().cloned().collect();
        urls.extend(
            a.urls
                .iter()
                .filter(|u| Some(*u) != a.url.as_ref())
                .cloned(),
        );
        urls
    };
    let queue: Mutex<VecDeque<(usize, Vec<String>)>> = Mutex::new(
        articles
            .iter()
            .enumerate()
            .map(|(i, a)| (i, sources(a)))
            .filter(|(_, urls)| !urls.is_empty())
            .collect(),
    );
    let mut results: Vec<Option<Checked>> = articles
        .iter()
        .map(|a| {
            sources(a).is_empty().then(|| Checked {
                article_id: a.id.clone(),
                title: a.title.clone(),
                url: None,
                outcome: Outcome::Unreachable {
                    reason: "it has no source URL to fetch".into(),
                },
            })
        })
        .collect();
    for r in results.iter().flatten() {
        progress(r);
    }
    let opts = LoadOptions {
        fetch: fetch.clone(),
        title: None,
        url: None,
    };
    let (tx, rx) = mpsc::channel::<(usize, Result<Page>)>();
    let mut failure: Option<Error> = None;
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let queue = &queue;
            let opts = &opts;
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some((i, urls)) = next else { break };
                // The first URL that answers; else the first one's error.
                let mut page = Err(Error::BadInput("no URL".into()));
                for (n, url) in urls.into_iter().enumerate() {
                    let attempt = clip::load(&Source::Url(url), opts, std::io::empty());
                    if attempt.is_ok() || n == 0 {
                        page = attempt;
                    }
                    if page.is_ok() {
                        break;
                    }
                }
                if tx.send((i, page)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, page) in rx {
            let article = &articles[i];
            let outcome = match page {
                Err(e) => Outcome::Unreachable {
                    reason: unreachable_reason(e),
                },
                Ok(_) if failure.is_some() => continue,
                Ok(page) => match record(journal, article, page, clock) {
                    Ok(o) => o,
                    Err(e) => {
                        // The journal cannot be written (a full disk, say):
                        // stop fetching, and report it once the workers end.
                        if let Ok(mut q) = queue.lock() {
                            q.clear();
                        }
                        failure = Some(e);
                        continue;
                    }
                },
            };
            let checked = Checked {
                article_id: article.id.clone(),
                title: article.title.clone(),
                url: article.url.clone(),
                outcome,
            };
            progress(&checked);
            results[i] = Some(checked);
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(results.into_iter().flatten().collect())
}

fn unreachable_reason(e: Error) -> String {
    match e {
        Error::Fetch { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Compares a fetched page with the article and records a new version if
/// the text changed.
fn record(journal: &mut Journal, article: &Article, page: Page, clock: &Clock) -> Result<Outcome> {
    if page.content.hash == article.content_hash {
        return Ok(Outcome::Unchanged);
    }
    let old = journal.text(&article.content_hash)?;
    let clip = NewClip {
        content: page.content,
        title: page.title,
        urls: page.urls,
        site: page.site,
        author: page.author,
        lang: page.lang,
        published_at: page.published_at,
        ..NewClip::default()
    };
    let article_ref = article.as_ref();
    let previous = journal.write(clock.timestamp(), |tx| {
        tx.record_version(&article_ref, &clip)
    })?;
    let Some(previous_hash) = previous else {
        return Ok(Outcome::Unchanged);
    };
    let d = line_diff(&old, &clip.content.text, &previous_hash, &clip.content.hash);
    Ok(Outcome::Changed {
        lines_added: d.added,
        lines_removed: d.removed,
        previous_hash,
        content_hash: clip.content.hash,
        diff: d.unified,
    })
}
