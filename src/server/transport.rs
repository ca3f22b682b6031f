//! The server's core as the sync client's [`Transport`], in process: the
//! protocol runs against the server's real rules (gapless sequences,
//! idempotent pushes, the clock guard, key checks, blob batches) without
//! HTTP in between. Tests use it; `nj sync` speaks HTTP.
//!
//! A refusal reaches the protocol as the error the HTTP client makes of
//! the same refusal: it takes the HTTP layer's status and body for it
//! (`http::ApiError`) and the client's reading of those
//! (`sync::client::refusal`), so the two transports cannot disagree. It
//! never holds a token: it is given the journal.

use super::core::{Core, ServerError};
use super::http::{self, ApiError, MAX_BODY_BYTES};
use crate::sync::client::{gather_blobs, refusal};
use crate::sync::{Envelope, Page, Pushed, RemoteStatus, SyncError, Transport};

/// One journal on a [`Core`], as a [`Transport`].
pub struct CoreTransport<'a> {
    core: &'a Core,
    journal: String,
    /// The server's clock; `None` for the system clock, as `nj serve` has.
    now_ms: Option<i64>,
    /// The journal as an address, for messages (`core:JOURNAL`).
    url: String,
}

impl Core {
    /// This journal as a [`Transport`], with the system clock as the
    /// server's.
    pub fn transport(&self, journal: &str) -> CoreTransport<'_> {
        CoreTransport {
            core: self,
            journal: journal.to_owned(),
            now_ms: None,
            url: format!("core:{journal}"),
        }
    }
}

impl CoreTransport<'_> {
    /// Sets the server's clock to `now_ms` (milliseconds since the Unix
    /// epoch), which the clock guard and the status use.
    pub fn at(mut self, now_ms: i64) -> Self {
        self.now_ms = Some(now_ms);
        self
    }

    fn now(&self) -> i64 {
        self.now_ms.unwrap_or_else(http::now_ms)
    }

    /// The error the HTTP client makes of the answer the HTTP layer gives
    /// for `e`.
    fn refused(&self, e: ApiError, doing: &str) -> SyncError {
        let (status, body) = e.answer();
        let text = serde_json::to_string(&body).expect("an error body serializes");
        refusal(&self.url, doing, status.as_u16(), &text, None)
    }

    fn failed<'s>(&'s self, doing: &'s str) -> impl Fn(ServerError) -> SyncError + 's {
        move |e| self.refused(ApiError::from(e), doing)
    }
}

impl Transport for CoreTransport<'_> {
    fn status(&mut self) -> Result<RemoteStatus, SyncError> {
        let s = self
            .core
            .status(&self.journal, self.now())
            .map_err(self.failed("asking for the server's status"))?;
        Ok(RemoteStatus {
            server_time_ms: s.server_time_ms,
            devices: s.devices,
            journal: s.journal,
            key_check: s.key_check,
            // No request has a body here, so none is too large; the HTTP
            // layer is what adds a limit.
            max_body: None,
        })
    }

    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError> {
        let doing = "storing the journal's key check";
        match self.core.set_key_check(&self.journal, check) {
            Ok(_) => Ok(()),
            Err(e) => {
                let answer = ApiError::from(e);
                // The client reads a 409 to this request as another key.
                if answer.status() == 409 {
                    return Err(SyncError::WrongKey);
                }
                Err(self.refused(answer, doing))
            }
        }
    }

    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError> {
        self.core
            .push(&self.journal, batch, self.now())
            .map_err(self.failed("pushing changes"))
    }

    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError> {
        let page = self
            .core
            .pull(&self.journal, cursor, limit)
            .map_err(self.failed("pulling changes"))?;
        Ok(Page {
            ops: page.ops,
            next: page.next,
            more: page.more,
        })
    }

    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError> {
        self.core
            .has_blob(&self.journal, id)
            .map_err(self.failed("checking for an article text"))
    }

    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError> {
        self.core
            .put_blob(&self.journal, id, data)
            .map(|_| ())
            .map_err(self.failed("uploading an article text"))
    }

    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError> {
        let doing = "downloading an article text";
        match self.core.get_blob(&self.journal, id) {
            Ok(data) => Ok(data),
            // The HTTP layer names the blob it lacks.
            Err(ServerError::NotFound) => Err(self.refused(http::no_blob(id), doing)),
            Err(e) => Err(self.failed(doing)(e)),
        }
    }

    fn lacking_blobs(&mut self, ids: &[String]) -> Result<Vec<String>, SyncError> {
        self.core
            .lacking_blobs(&self.journal, ids)
            .map_err(self.failed("checking which article texts the server has"))
    }

    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        self.core
            .put_blobs(&self.journal, blobs)
            .map(|_| ())
            .map_err(self.failed("uploading article texts"))
    }

    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        // An answer holds at most a body's worth of blobs, as `nj serve`'s
        // does by default.
        gather_blobs(&self.url, ids, |wanted| {
            self.core
                .get_blobs(&self.journal, wanted, MAX_BODY_BYTES)
                .map_err(self.failed("downloading article texts"))
        })
    }
}
