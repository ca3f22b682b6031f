//! The sync client: [`HttpTransport`] speaks the HTTP API of
//! `docs/sync-protocol.md` to `nj serve`, with ureq. It is one
//! implementation of [`Transport`]; the protocol itself stays in
//! `protocol.rs`.
//!
//! Every failure becomes a [`SyncError`] whose message says what to do:
//! start the server, fix the token, fix the clock, or run `nj sync` again.
//! It never logs or prints the token.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;

use super::protocol::{Envelope, Page, Pushed, RemoteStatus, SyncError, Transport};
use super::wire::{ErrorBody, PageBody, PushBody, WireOp};

/// The longest wait for a connection to the server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one request may take, from connecting to the last byte of
/// the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest page or blob the client reads. A page holds at most 8 MiB
/// of payloads plus one operation (see `MAX_PAGE_BYTES` on the server),
/// which base64 and JSON make about a third larger.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// An error answer is a short JSON object.
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// The pauses before sending a request again whose connection dropped
/// unanswered, or that was answered 503: four more tries within about
/// 8 s, then the error.
const RETRY_PAUSES: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
    Duration::from_secs(5),
];

/// A blob id as one path segment: everything but unreserved characters
/// and `:` is percent-encoded.
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A client for one journal on one `nj serve`.
pub struct HttpTransport {
    agent: ureq::Agent,
    /// The server's address without a trailing slash.
    base: String,
    auth: String,
    /// This device's id, sent with every request so the server can say
    /// which device last used a token (`nj server tokens`); empty if unset.
    device: String,
}

/// The request header that names the device (docs/sync-protocol.md).
pub const DEVICE_HEADER: &str = "NJ-Device";

type Response = ureq::http::Response<ureq::Body>;

/// Whether the connection closed under a request before any answer came
/// (rather than refused, timed out or answered).
fn dropped(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(io) if matches!(
        io.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof
            | ErrorKind::BrokenPipe
    ))
}

/// What the protocol makes of an error answer: the server at `url`
/// answered `status` with the body `text` (an [`ErrorBody`], or anything
/// else) while `doing`, redirecting to `location` for a 3xx. The HTTP
/// client and the in-process transport over the server's core
/// (`server::transport`) both take their errors from here, so the protocol
/// sees the same error for the same refusal either way.
pub(crate) fn refusal(
    url: &str,
    doing: &str,
    status: u16,
    text: &str,
    location: Option<&str>,
) -> SyncError {
    let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
    let said = if body.error.is_empty() {
        text.trim().chars().take(200).collect::<String>()
    } else {
        body.error.clone()
    };
    match status {
        401 => SyncError::BadToken(format!(
            "the server at {url} refused the token: it is wrong or revoked; ask for a new one with `nj server new-token` and set it with `nj remote set {url} --token TOKEN`"
        )),
        409 => match (body.device, body.seq) {
            (Some(device), Some(seq)) if body.expected.is_some() => SyncError::Gap {
                device,
                seq,
                expected: body.expected.unwrap_or_default(),
            },
            (Some(device), Some(seq)) => SyncError::Conflict { device, seq },
            _ => SyncError::Transport(format!("the server at {url} refused the changes as a conflict: {said}")),
        },
        422 => SyncError::Transport(format!("the server at {url} refused the changes: {said}")),
        // The protocol splits what it sent and tries again, or names
        // the one change that cannot fit.
        413 => SyncError::TooLarge(format!("the server at {url} refused a request as too large while {doing}: {said}")),
        408 => SyncError::Transport(format!(
            "the server at {url} gave up waiting while {doing}; run `nj sync` again"
        )),
        300..=399 => {
            let to = location.unwrap_or("another address");
            SyncError::Transport(format!(
                "the server at {url} redirects to {to}; set the remote to the server's own address with `nj remote set URL`"
            ))
        }
        500..=599 => SyncError::Transport(format!(
            "the server at {url} failed while {doing} ({status}: {said}); try again later, and see the server's log"
        )),
        _ => SyncError::Transport(format!(
            "the server at {url} refused the request while {doing} ({status}: {said}); is {url} an `nj serve`?"
        )),
    }
}

impl HttpTransport {
    /// A client for the server at `url` (e.g. `http://192.168.1.20:8787`),
    /// sending `token` as the bearer token. Nothing is sent until the
    /// first call.
    pub fn new(url: &str, token: &str) -> HttpTransport {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            // Status codes are mapped below, where the message can say
            // what to do.
            .http_status_as_error(false)
            // A redirect would carry the token somewhere else; report it.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("newsjournal/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        HttpTransport {
            agent,
            base: url.trim().trim_end_matches('/').to_owned(),
            auth: format!("Bearer {}", token.trim()),
            device: String::new(),
        }
    }

    /// Names this device in every request.
    pub fn with_device(mut self, device: &str) -> HttpTransport {
        self.device = device.to_owned();
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Asks `path` (a GET, or a HEAD when `head`) with this device's
    /// headers; see [`HttpTransport::retried`].
    fn request(&self, head: bool, path: &str) -> Result<Response, ureq::Error> {
        let url = self.url(path);
        self.retried(|| {
            let req = if head {
                self.agent.head(&url)
            } else {
                self.agent.get(&url)
            };
            req.header("Authorization", &self.auth)
                .header(DEVICE_HEADER, &self.device)
                .call()
        })
    }

    /// Sends `body` (a PUT, or a POST when `post`) to `path` with this
    /// device's headers; see [`HttpTransport::retried`].
    fn upload(
        &self,
        post: bool,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, ureq::Error> {
        let url = self.url(path);
        self.retried(|| {
            let req = if post {
                self.agent.post(&url)
            } else {
                self.agent.put(&url)
            };
            req.header("Authorization", &self.auth)
                .header(DEVICE_HEADER, &self.device)
                .content_type(content_type)
                .send(body)
        })
    }

    /// Sends a request, and sends it again when its connection dropped
    /// before any answer came, or the server answered 503: a server under
    /// load (or shedding connections that have shown no token yet, which a
    /// new one has not) may close it before reading it, and one whose
    /// database is restarting says so with a 503. Every request of the
    /// protocol is idempotent (a push names its sequence numbers, a text
    /// its hash), so a second send changes nothing the first did.
    fn retried(
        &self,
        send: impl Fn() -> Result<Response, ureq::Error>,
    ) -> Result<Response, ureq::Error> {
        let again = |resp: &Result<Response, ureq::Error>| match resp {
            Ok(r) => r.status() == 503,
            Err(e) => dropped(e),
        };
        let mut last = send();
        if !again(&last) {
            return last;
        }
        for pause in RETRY_PAUSES {
            std::thread::sleep(pause);
            let next = send();
            match &next {
                _ if again(&next) => last = next,
                Ok(_) => return next,
                // The server went away (refused, timed out): what happened
                // before is what to report.
                Err(_) => break,
            }
        }
        last
    }

    /// Turns a transport failure or an error status into a `SyncError`;
    /// passes a successful answer through.
    fn check(
        &self,
        resp: Result<Response, ureq::Error>,
        doing: &str,
    ) -> Result<Response, SyncError> {
        let mut resp = resp.map_err(|e| self.failed(&e, doing))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BYTES)
            .read_to_string()
            .unwrap_or_default();
        Err(refusal(
            &self.base,
            doing,
            status,
            &text,
            location.as_deref(),
        ))
    }

    /// A message for a request that got no answer.
    fn failed(&self, e: &ureq::Error, doing: &str) -> SyncError {
        let url = &self.base;
        let dropped_message = || {
            format!("the connection to {url} dropped while {doing}; run `nj sync` again to finish (nothing is sent or applied twice)")
        };
        let down = || {
            format!("cannot reach the sync server at {url} (connection refused); is `nj serve` running at {url}?")
        };
        let timed_out = || {
            format!(
                "the sync server at {url} did not answer within {} s while {doing}; run `nj sync` again",
                REQUEST_TIMEOUT.as_secs()
            )
        };
        match e {
            e if dropped(e) => SyncError::Transport(dropped_message()),
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused => SyncError::Unreachable(down()),
                ErrorKind::TimedOut | ErrorKind::WouldBlock => SyncError::Unreachable(timed_out()),
                _ => SyncError::Unreachable(format!("cannot talk to the sync server at {url} ({io}); check the address with `nj remote show`, then run `nj sync` again")),
            },
            ureq::Error::ConnectionFailed => SyncError::Unreachable(down()),
            ureq::Error::Timeout(_) => SyncError::Unreachable(timed_out()),
            ureq::Error::HostNotFound => SyncError::Unreachable(format!(
                "the host in {url} was not found; check the address with `nj remote show` and your network"
            )),
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => SyncError::Transport(format!(
                "{url} is not a server address; set one like http://192.168.1.20:8787 with `nj remote set URL`"
            )),
            ureq::Error::Protocol(_) => SyncError::Transport(format!(
                "the server at {url} did not answer in HTTP while {doing}; is {url} an `nj serve`?"
            )),
            ureq::Error::BodyExceedsLimit(n) => SyncError::Transport(format!(
                "the server at {url} sent more than {n} bytes while {doing}; is {url} an `nj serve`?"
            )),
            other => SyncError::Transport(format!("the request to {url} failed while {doing} ({other}); run `nj sync` again")),
        }
    }

    fn read_bytes(&self, mut resp: Response, doing: &str) -> Result<Vec<u8>, SyncError> {
        resp.body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| self.failed(&e, doing))
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, resp: Response) -> Result<T, SyncError> {
        let bytes = self.read_bytes(resp, "reading the server's answer")?;
        serde_json::from_slice(&bytes).map_err(|e| {
            SyncError::Transport(format!(
                "the server at {} sent an answer nj cannot read ({e}); is it an `nj serve` of the same version?",
                self.base
            ))
        })
    }
}

impl Transport for HttpTransport {
    fn status(&mut self) -> Result<RemoteStatus, SyncError> {
        let resp = self.request(false, "/v1/status");
        let resp = self.check(resp, "asking for the server's status")?;
        self.read_json(resp)
    }

    fn set_key_check(&mut self, check: &str) -> Result<(), SyncError> {
        let body =
            serde_json::to_vec(&serde_json::json!({ "check": check })).expect("a check serializes");
        let resp = self.upload(false, "/v1/key-check", "application/json", &body[..]);
        if matches!(&resp, Ok(r) if r.status().as_u16() == 409) {
            return Err(SyncError::WrongKey);
        }
        let resp = self.check(resp, "storing the journal's key check")?;
        self.read_bytes(resp, "storing the journal's key check")?;
        Ok(())
    }

    fn push(&mut self, batch: &[Envelope]) -> Result<Pushed, SyncError> {
        let ops = batch
            .iter()
            .map(|env| WireOp {
                device: env.device.clone(),
                seq: env.seq,
                hlc_ms: env.hlc_ms,
                payload: BASE64.encode(&env.payload),
            })
            .collect();
        let body = serde_json::to_vec(&PushBody { ops }).expect("a batch always serializes");
        let resp = self.upload(true, "/v1/ops", "application/json", &body[..]);
        let resp = self.check(resp, "pushing changes")?;
        // Read the answer: the batch counts as stored only once the
        // server has said so in full.
        self.read_json(resp)
    }

    fn pull(&mut self, cursor: u64, limit: usize) -> Result<Page, SyncError> {
        let resp = self.request(false, &format!("/v1/ops?after={cursor}&limit={limit}"));
        let resp = self.check(resp, "pulling changes")?;
        let bytes = self.read_bytes(resp, "pulling changes")?;
        let page: PageBody = serde_json::from_slice(&bytes).map_err(|e| {
            SyncError::Transport(format!(
                "the server at {} sent a page nj cannot read ({e}); is it an `nj serve` of the same version?",
                self.base
            ))
        })?;
        let ops = page
            .ops
            .into_iter()
            .map(|op| Envelope {
                device: op.device,
                seq: op.seq,
                hlc_ms: op.hlc_ms,
                // A payload that is not base64 becomes an empty one, which
                // the protocol counts as unreadable and skips, as it does
                // any other operation it cannot read.
                payload: BASE64.decode(op.payload.as_bytes()).unwrap_or_default(),
            })
            .collect();
        Ok(Page {
            ops,
            next: page.next,
            more: page.more,
        })
    }

    fn has_blob(&mut self, id: &str) -> Result<bool, SyncError> {
        let resp = self.request(true, &format!("/v1/blobs/{}", segment(id)));
        match resp {
            Ok(r) if r.status().as_u16() == 404 => Ok(false),
            other => self
                .check(other, "checking for an article text")
                .map(|_| true),
        }
    }

    fn put_blob(&mut self, id: &str, data: &[u8]) -> Result<(), SyncError> {
        let resp = self.upload(
            false,
            &format!("/v1/blobs/{}", segment(id)),
            "application/octet-stream",
            data,
        );
        let resp = self.check(resp, "uploading an article text")?;
        self.read_bytes(resp, "uploading an article text")?;
        Ok(())
    }

    fn get_blob(&mut self, id: &str) -> Result<Vec<u8>, SyncError> {
        let resp = self.request(false, &format!("/v1/blobs/{}", segment(id)));
        let resp = self.check(resp, "downloading an article text")?;
        self.read_bytes(resp, "downloading an article text")
    }

    fn lacking_blobs(&mut self, ids: &[String]) -> Result<Vec<String>, SyncError> {
        #[derive(Deserialize)]
        struct Lacking {
            lacking: Vec<String>,
        }
        let doing = "checking which article texts the server has";
        let bytes = self.post_ids("/v1/blobs/lacking", ids, doing)?;
        let answer: Lacking = serde_json::from_slice(&bytes).map_err(|e| self.unreadable(e))?;
        Ok(answer.lacking)
    }

    fn put_blobs(&mut self, blobs: &[(String, Vec<u8>)]) -> Result<(), SyncError> {
        let doing = "uploading article texts";
        let blobs: Vec<serde_json::Value> = blobs
            .iter()
            .map(|(id, data)| serde_json::json!({ "id": id, "data": BASE64.encode(data) }))
            .collect();
        let body =
            serde_json::to_vec(&serde_json::json!({ "blobs": blobs })).expect("blobs serialize");
        let resp = self.upload(true, "/v1/blobs/store", "application/json", &body[..]);
        let resp = self.check(resp, doing)?;
        self.read_bytes(resp, doing)?;
        Ok(())
    }

    fn get_blobs(&mut self, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
        #[derive(Deserialize)]
        struct Blob {
            id: String,
            data: String,
        }
        #[derive(Deserialize)]
        struct Blobs {
            blobs: Vec<Blob>,
            /// The server cut the answer short (by size): ask for the rest.
            #[serde(default)]
            more: bool,
        }
        let doing = "downloading article texts";
        let url = self.base.clone();
        gather_blobs(&url, ids, |wanted| {
            let bytes = self.post_ids("/v1/blobs/fetch", wanted, doing)?;
            let answer: Blobs = serde_json::from_slice(&bytes).map_err(|e| self.unreadable(e))?;
            let blobs = answer
                .blobs
                .into_iter()
                .map(|blob| {
                    let data = BASE64
                        .decode(blob.data.as_bytes())
                        .map_err(|e| self.unreadable(e))?;
                    Ok((blob.id, data))
                })
                .collect::<Result<_, SyncError>>()?;
            Ok((blobs, answer.more))
        })
    }
}

/// Blobs and whether the server cut the answer short, as one fetch of
/// [`gather_blobs`] answers.
pub(crate) type BlobAnswer = (Vec<(String, Vec<u8>)>, bool);

/// Downloads the blobs `ids` from the server at `url` with `fetch`, which
/// asks for some ids once: each id once, asking again for the rest while
/// the server says it cut an answer short (by size), in the order of
/// `ids`; an error if the server lacks one. The HTTP client and the
/// in-process transport over the server's core share it.
pub(crate) fn gather_blobs(
    url: &str,
    ids: &[String],
    mut fetch: impl FnMut(&[String]) -> Result<BlobAnswer, SyncError>,
) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
    let mut got: HashMap<String, Vec<u8>> = HashMap::with_capacity(ids.len());
    let mut seen = HashSet::new();
    let mut wanted: Vec<String> = ids.iter().filter(|id| seen.insert(*id)).cloned().collect();
    loop {
        let (blobs, more) = fetch(&wanted)?;
        let before = got.len();
        got.extend(blobs);
        wanted.retain(|id| !got.contains_key(id));
        // A cut answer that brought nothing new would loop forever.
        if wanted.is_empty() || !more || got.len() == before {
            break;
        }
    }
    if let Some(id) = wanted.first() {
        return Err(SyncError::Transport(format!(
            "the server at {url} has no article text {id}; the device that clipped it must sync first"
        )));
    }
    Ok(ids
        .iter()
        .filter_map(|id| got.remove(id).map(|d| (id.clone(), d)))
        .collect())
}

impl HttpTransport {
    /// POSTs `{"ids": [...]}` and returns the answer's bytes.
    fn post_ids(&mut self, path: &str, ids: &[String], doing: &str) -> Result<Vec<u8>, SyncError> {
        let body = serde_json::to_vec(&serde_json::json!({ "ids": ids })).expect("ids serialize");
        let resp = self.upload(true, path, "application/json", &body[..]);
        let resp = self.check(resp, doing)?;
        self.read_bytes(resp, doing)
    }

    fn unreadable(&self, e: impl std::fmt::Display) -> SyncError {
        SyncError::Transport(format!(
            "the server at {} sent an answer nj cannot read ({e}); is it an `nj serve` of the same version?",
            self.base
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_one_path_segment() {
        assert_eq!(segment("sha256:ab-C_d"), "sha256:ab-C_d");
        assert_eq!(segment("../x y"), "..%2Fx%20y");
    }
}
