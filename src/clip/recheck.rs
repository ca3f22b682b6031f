//! Rechecking sources: fetch each article's URL again, and record a new
//! version when its text changed.
//!
//! Fetches run on a few worker threads; the journal is written only from
//! the calling thread, one transaction per changed article, as each result
//! arrives. A failed fetch is reported and never stops the others, and an
//! interrupted run keeps every version recorded before it stopped.

use serde::Serialize;

use crate::clip::{self, FetchOptions, LoadOptions, Page};
use crate::content::line_diff;
use crate::error::{Error, Result};
use crate::journal::{Article, Journal};
use crate::time::Clock;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Unchanged,
    Changed {
        lines_added: usize,
        lines_removed: usize,
        words_added: usize,
        words_removed: usize,
        /// Only whitespace, punctuation, or a date or an "Updated" line
        /// changed, or fewer words than the `min_change` asked for. The
        /// new text is recorded as a version all the same.
        minor: bool,
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
    min_change: Option<usize>,
    mut progress: impl FnMut(&Checked),
) -> Result<Vec<Checked>> {
    // Each article's URLs, preferred first: a canonical URL may not be
    // reachable from here while the address it was clipped from is.
    // The pages of syndicated copies folded in are not the article's: a
    // copy's text must never become its version.
    let sources = |a: &Article| -> Result<Vec<String>> {
        let copies = journal.copy_urls(&a.as_ref())?;
        let mut urls: Vec<String> = a.url.iter().cloned().collect();
        urls.extend(
            a.urls
                .iter()
                .filter(|u| Some(*u) != a.url.as_ref())
                .cloned(),
        );
        urls.retain(|u| !copies.contains(u));
        Ok(urls)
    };
    let all: Vec<Vec<String>> = articles.iter().map(sources).collect::<Result<_>>()?;
    let jobs: Vec<(usize, Vec<String>)> = all
        .iter()
        .cloned()
        .enumerate()
        .filter(|(_, urls)| !urls.is_empty())
        .collect();
    let mut results: Vec<Option<Checked>> = articles
        .iter()
        .zip(&all)
        .map(|(a, urls)| {
            urls.is_empty().then(|| Checked {
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
    clip::load_each(jobs, &opts, workers, |i, page| {
        let article = &articles[i];
        let outcome = match page {
            Err(e) => Outcome::Unreachable {
                reason: unreachable_reason(e),
            },
            // The journal cannot be written (a full disk, say): that
            // stops the run.
            Ok(page) => record(journal, article, page, clock, min_change)?,
        };
        // Tried now, reached or not: `nj recheck --scheduled` waits its
        // interval before the next try.
        journal.mark_rechecked(&article.as_ref(), clock.timestamp())?;
        // The address it has (an article clipped from a file may have
        // only the URLs of copies folded into it): `url` is None only for
        // an article with nothing to fetch, which `nj recheck` does not
        // count as a failed source.
        let checked = Checked {
            article_id: article.id.clone(),
            title: article.title.clone(),
            url: article
                .url
                .clone()
                .or_else(|| article.urls.first().cloned()),
            outcome,
        };
        progress(&checked);
        results[i] = Some(checked);
        Ok(())
    })?;
    Ok(results.into_iter().flatten().collect())
}

pub(crate) fn unreachable_reason(e: Error) -> String {
    match e {
        Error::Fetch { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Compares a fetched page with the article and records a new version if
/// the text changed.
fn record(
    journal: &mut Journal,
    article: &Article,
    page: Page,
    clock: &Clock,
    min_change: Option<usize>,
) -> Result<Outcome> {
    if page.content.hash == article.content_hash {
        return Ok(Outcome::Unchanged);
    }
    let old = journal.text(&article.content_hash)?;
    let clip = page.into_clip();
    let article_ref = article.as_ref();
    let previous = journal.write(clock.timestamp(), |tx| {
        if article.pending {
            // A bookmark's first text: fetched the way `nj fetch` does it,
            // folded into the article that has it already, if one does.
            return tx
                .fill_pending(&article_ref, &clip)
                .map(|_| Some(article.content_hash.clone()));
        }
        tx.record_version(&article_ref, &clip)
    })?;
    let Some(previous_hash) = previous else {
        return Ok(Outcome::Unchanged);
    };
    let d = line_diff(&old, &clip.content.text, &previous_hash, &clip.content.hash);
    let words = crate::similar::word_change(&old, &clip.content.text);
    let changed_words = words.words_added + words.words_removed;
    Ok(Outcome::Changed {
        lines_added: d.added,
        lines_removed: d.removed,
        words_added: words.words_added,
        words_removed: words.words_removed,
        minor: words.minor || min_change.is_some_and(|n| changed_words < n),
        previous_hash,
        content_hash: clip.content.hash,
        diff: d.unified,
    })
}
