//! Fetching the text of pending articles: bookmarks imported without it.
//!
//! Pages are fetched a few at a time on worker threads (see
//! [`crate::clip::load_each`]); each result is written on the calling
//! thread in a transaction of its own, so a run that is stopped (Ctrl-C, a
//! lost connection) keeps every text fetched so far, and running it again
//! goes on with the rest. A page that cannot be fetched is recorded as
//! failed on this device and skipped by later runs until asked to retry.

use serde::Serialize;

use super::recheck::unreachable_reason;
use crate::clip::{self, FetchOptions, LoadOptions, Page};
use crate::error::Result;
use crate::journal::{Filled, Journal, PendingArticle};
use crate::time::Clock;

/// What happened to one pending article.
#[derive(Debug, Clone, Serialize)]
pub struct Fetched {
    pub article_id: String,
    pub title: String,
    pub url: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The text is now the article's first version.
    Fetched { content_hash: String, words: i64 },
    /// Another article had this text (or one this is a syndicated copy
    /// of); the bookmark was folded into it.
    Merged {
        into: String,
        /// For a copy: how alike its text is to the article's.
        #[serde(skip_serializing_if = "Option::is_none")]
        similarity: Option<f64>,
    },
    /// Fetched elsewhere meanwhile (another device, another run).
    AlreadyFetched,
    /// The page could not be fetched or held no article.
    Failed { reason: String },
}

/// Fetches `articles`' texts with `workers` fetches at a time, calling
/// `progress` after each. Returns the results in the order they finished.
pub fn fetch_pending(
    journal: &mut Journal,
    articles: &[PendingArticle],
    fetch: &FetchOptions,
    workers: usize,
    clock: &Clock,
    mut progress: impl FnMut(&Fetched),
) -> Result<Vec<Fetched>> {
    let jobs = articles
        .iter()
        .enumerate()
        .map(|(i, a)| (i, a.urls.clone()))
        .collect();
    let opts = LoadOptions {
        fetch: fetch.clone(),
        title: None,
        url: None,
    };
    let mut results = Vec::with_capacity(articles.len());
    clip::load_each(jobs, &opts, workers, |i, page| {
        let article = &articles[i];
        let outcome = record(journal, article, page, clock)?;
        // A bookmark titled by its address takes the page's title.
        let title = match outcome {
            Outcome::Fetched { .. } => journal.article(&article.as_ref())?.title,
            _ => article.title.clone(),
        };
        let done = Fetched {
            article_id: article.id.clone(),
            title,
            url: article.urls.first().cloned(),
            outcome,
        };
        progress(&done);
        results.push(done);
        Ok(())
    })?;
    Ok(results)
}

/// Writes one result: the text, or the failure. Only the journal's own
/// trouble (a full disk) is an error; it stops the run.
fn record(
    journal: &mut Journal,
    article: &PendingArticle,
    page: Result<Page>,
    clock: &Clock,
) -> Result<Outcome> {
    let a = article.as_ref();
    let page = match page {
        Ok(page) => page,
        Err(e) => {
            let reason = unreachable_reason(e);
            journal.write(clock.timestamp(), |tx| tx.record_fetch_failure(&a, &reason))?;
            return Ok(Outcome::Failed { reason });
        }
    };
    let words = page.content.word_count;
    let clip = page.into_clip();
    Ok(
        match journal.write(clock.timestamp(), |tx| tx.fill_pending(&a, &clip))? {
            Filled::Fetched { content_hash } => Outcome::Fetched {
                content_hash,
                words,
            },
            Filled::Merged { into, similarity } => Outcome::Merged { into, similarity },
            Filled::NotPending => Outcome::AlreadyFetched,
        },
    )
}
