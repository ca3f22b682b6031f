//! The sync server's HTTP layer: axum routes over [`Core`], the limits that
//! keep one client from holding the server, and the accept loop that runs
//! them on tokio. `docs/sync-protocol.md` is the contract it serves.
//!
//! It stays thin: each endpoint parses its request, calls one `Core` method
//! off the async threads, and maps [`ServerError`] to a status code. It
//! never reads an operation's payload, and never logs a token.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::core::{Core, KeyCheckSet, OpsPage, ServerError, StoredOp};
use super::metrics::Metrics;
use super::slots::{Conn, Expiry, Slots};
use crate::sync::wire::{ErrorBody, PageBody, PushBody, WireOp};

/// The largest request body: a batch of operations or one blob.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Operations per page when a pull names no `limit`.
pub const DEFAULT_PAGE: usize = 1000;

/// How the server listens, and the limits it holds every client to.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST:PORT`; port 0 picks a free one.
    pub listen: String,
    /// Request bodies larger than this are refused with 413.
    pub max_body: usize,
    /// A request's head must arrive within this long of the connection
    /// opening or of the previous response, so a client that stalls
    /// mid-header, or a keep-alive connection left idle, is closed. A
    /// connection must also have sent a request with a valid token within
    /// this long of opening.
    pub header_timeout: Duration,
    /// Reading a request's body and answering it must take no longer; a
    /// response write that makes no progress for this long closes the
    /// connection.
    pub request_timeout: Duration,
    /// Connections that have sent a request with a valid token, held open
    /// at once; a request that would authenticate one more waits for one
    /// of them to close (within the request timeout).
    pub max_connections: usize,
    /// Connections that have not (yet) sent a request with a valid token,
    /// held open at once. They never wait: one over the cap closes the
    /// oldest. Each also has `header_timeout` from connecting to show a
    /// token.
    pub max_pending: usize,
    /// Of those, from one address (an IPv6 /64); one over closes that
    /// address's oldest.
    pub max_pending_per_address: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "127.0.0.1:8787".into(),
            max_body: MAX_BODY_BYTES,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_pending: 256,
            max_pending_per_address: 32,
        }
    }
}

/// The server's clock, in milliseconds since the Unix epoch: what the
/// clock guard compares operations against.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
struct AppState {
    core: Arc<Core>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
}

/// The journal the request's token opened. The auth layer puts it on the
/// request for the handlers, and on the response for the log line.
#[derive(Debug, Clone)]
struct JournalId(String);

/// An error answer: a status and `{"error": "..."}` saying what to do.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    /// For a 409: the operation the server holds differently, or the one
    /// that leaves a gap.
    conflict: Option<(String, u64)>,
    /// For a gap: the number the device's next operation must have.
    expected: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            conflict: None,
            expected: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is over this server's limit of {}; send fewer operations per request",
                size(limit)
            ),
        )
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        let status = match &e {
            ServerError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServerError::Conflict { .. } | ServerError::Gap { .. } | ServerError::KeyMismatch => {
                StatusCode::CONFLICT
            }
            ServerError::ClockAhead { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::NotFound => StatusCode::NOT_FOUND,
            ServerError::Unavailable(_) | ServerError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            eprintln!("nj serve: {e}");
            return ApiError::new(
                status,
                "the server's database is not answering right now; try again in a moment",
            );
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The details are for the operator, not the client.
            eprintln!("nj serve: error: {e}");
            return ApiError::new(
                status,
                "the server could not read or write its data; try again later (the server's log has the details)",
            );
        }
        let (conflict, expected) = match &e {
            ServerError::Conflict { device, seq } => (Some((device.clone(), *seq)), None),
            ServerError::Gap {
                device,
                seq,
                expected,
            } => (Some((device.clone(), *seq)), Some(*expected)),
            _ => (None, None),
        };
        ApiError {
            status,
            message: e.to_string(),
            conflict,
            expected,
        }
    }
}

impl ApiError {
    pub(super) fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The answer's status and body. The in-process transport
    /// (`transport.rs`) gives the client the same two.
    pub(super) fn answer(self) -> (StatusCode, ErrorBody) {
        let (device, seq) = self.conflict.unzip();
        let body = ErrorBody {
            error: self.message,
            device,
            seq,
            expected: self.expected,
        };
        (self.status, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.answer();
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Runs a `Core` call on the blocking pool: SQLite must not stall the
/// threads that serve other connections.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            eprintln!("nj serve: error: a request handler failed: {e}");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server failed on this request; try again later (the server's log has the details)",
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// The routes, with every layer but the connection limits (those live in
/// the accept loop). Public so tests can call it without a socket.
pub fn router(core: Arc<Core>, config: &Config) -> Router {
    let state = AppState {
        core,
        config: Arc::new(config.clone()),
        metrics: Arc::new(Metrics::default()),
    };
    // Layers run outside in: the last added sees the request first.
    let journals = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/key-check", put(put_key_check))
        .route("/v1/ops", post(push_ops).get(pull_ops))
        .route("/v1/blobs/lacking", post(lacking_blobs))
        .route("/v1/blobs/fetch", post(fetch_blobs))
        .route("/v1/blobs/store", post(store_blobs))
        .route(
            "/v1/blobs/{id}",
            get(get_blob).head(head_blob).put(put_blob),
        )
        .layer(DefaultBodyLimit::max(config.max_body))
        .layer(middleware::from_fn_with_state(state.clone(), refuse_large))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    // For load balancers, systemd and Prometheus: no token, nothing of
    // any journal's.
    Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .merge(journals)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// 200 when the database answers, 503 when it does not (whatever the
/// reason: a load balancer should send requests elsewhere either way).
async fn health(State(st): State<AppState>) -> Result<Response, ApiError> {
    let core = Arc::clone(&st.core);
    blocking(move || {
        core.ping().map_err(|e| match e {
            ServerError::Unavailable(_) => e,
            e => ServerError::Unavailable(e.to_string()),
        })
    })
    .await?;
    Ok(Json(serde_json::json!({ "ok": true })).into_response())
}

async fn metrics(State(st): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        st.metrics.render(),
    )
        .into_response()
}

/// One line per request on stderr: time, method, path (never the query),
/// status, response bytes, milliseconds and journal. Never the token.
async fn log_request(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let journal = resp
        .extensions()
        .get::<JournalId>()
        .map_or("-", |j| j.0.as_str())
        .to_owned();
    let bytes = resp.body().size_hint().exact().unwrap_or(0);
    let (status, took) = (resp.status().as_u16(), start.elapsed());
    eprintln!(
        "{} {method} {path} {status} {bytes}B {}ms journal={journal}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        took.as_millis(),
    );
    st.metrics.request(&path, &method, status, took);
    resp
}

async fn time_limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let limit = st.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request was not finished within {} s; try again",
                limit.as_secs_f64()
            ),
        )
        .into_response(),
    }
}

/// The token from `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this request has no token; send `Authorization: Bearer TOKEN` with a token from `nj server new-journal` or `nj server new-token`",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token.to_owned())
}

async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = match bearer(req.headers()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // The device the client says it is, when the header is a plausible id:
    // it is only shown to the server's owner, never trusted for access.
    let device = req
        .headers()
        .get(crate::sync::client::DEVICE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|d| super::core::is_device_id(d))
        .map(str::to_owned);
    let core = Arc::clone(&st.core);
    let journal =
        match blocking(move || core.authenticate(&token, device.as_deref(), now_ms())).await {
            Ok(j) => JournalId(j),
            Err(e) => return e.into_response(),
        };
    // The connection is a known client's from now on: it leaves the
    // pending places, which are capped and cycled, for a slot of its own.
    if let Some(conn) = req.extensions().get::<Arc<Conn>>().cloned() {
        conn.authenticate().await;
    }
    req.extensions_mut().insert(journal.clone());
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(journal);
    resp
}

/// Refuses a body whose declared length is over the limit before reading
/// any of it. Bodies without a length are cut off at the limit as they
/// are read (`DefaultBodyLimit`).
async fn refuse_large(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > st.config.max_body as u64) {
        return ApiError::too_large(st.config.max_body).into_response();
    }
    next.run(req).await
}

fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(format!(
                "could not read the request body ({}); send it again",
                e.body_text()
            ))
        }
    })
}

async fn status(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
) -> Result<Response, ApiError> {
    let core = Arc::clone(&st.core);
    let mut status = blocking(move || core.status(&journal, now_ms())).await?;
    status.max_body = Some(st.config.max_body as u64);
    Ok(Json(status).into_response())
}

/// The body of `PUT /v1/key-check`, and of its answer.
#[derive(Debug, Serialize, Deserialize)]
struct KeyCheckBody {
    check: String,
}

async fn put_key_check(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body, st.config.max_body)?;
    let KeyCheckBody { check } = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a key check ({e}); send {{\"check\": \"...\"}}"
        ))
    })?;
    let core = Arc::clone(&st.core);
    let query = check.clone();
    let status = match blocking(move || core.set_key_check(&journal, &query)).await? {
        KeyCheckSet::Stored => StatusCode::CREATED,
        KeyCheckSet::AlreadySame => StatusCode::OK,
    };
    Ok((status, Json(KeyCheckBody { check })).into_response())
}

async fn push_ops(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body, st.config.max_body)?;
    let batch: PushBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a batch of operations ({e}); docs/sync-protocol.md gives its form"
        ))
    })?;
    let ops = batch
        .ops
        .into_iter()
        .map(|op| {
            let payload = BASE64.decode(op.payload.as_bytes()).map_err(|e| {
                ApiError::bad_request(format!(
                    "the payload of operation {}#{} is not base64 ({e})",
                    op.device, op.seq
                ))
            })?;
            Ok(StoredOp {
                device: op.device,
                seq: op.seq,
                hlc_ms: op.hlc_ms,
                payload,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let core = Arc::clone(&st.core);
    let pushed = blocking(move || core.push(&journal, &ops, now_ms())).await?;
    st.metrics.ops_stored(pushed.stored);
    Ok(Json(pushed).into_response())
}

async fn pull_ops(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "bad query ({}); ask for /v1/ops?after=CURSOR&limit=N with whole numbers",
            e.body_text()
        ))
    })?;
    let core = Arc::clone(&st.core);
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(DEFAULT_PAGE));
    let page: OpsPage = blocking(move || core.pull(&journal, after, limit)).await?;
    let body = PageBody {
        ops: page
            .ops
            .into_iter()
            .map(|op| WireOp {
                device: op.device,
                seq: op.seq,
                hlc_ms: op.hlc_ms,
                payload: BASE64.encode(&op.payload),
            })
            .collect(),
        next: page.next,
        more: page.more,
    };
    Ok(Json(body).into_response())
}

fn blob_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|e| ApiError::bad_request(format!("bad blob id ({})", e.body_text())))
}

pub(super) fn no_blob(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("this journal has no blob {id}; the device that has it must sync first"),
    )
}

async fn put_blob(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = blob_id(path)?;
    let body = body_bytes(body, st.config.max_body)?;
    let core = Arc::clone(&st.core);
    let created = blocking(move || core.put_blob(&journal, &id, &body)).await?;
    Ok(if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
    .into_response())
}

async fn head_blob(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = blob_id(path)?;
    let core = Arc::clone(&st.core);
    let query = id.clone();
    if blocking(move || core.has_blob(&journal, &query)).await? {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(no_blob(&id))
    }
}

async fn get_blob(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = blob_id(path)?;
    let core = Arc::clone(&st.core);
    let query = id.clone();
    match blocking(move || core.get_blob(&journal, &query)).await {
        Ok(data) => Ok((
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(data),
        )
            .into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(no_blob(&id)),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct BlobIds {
    ids: Vec<String>,
}

fn blob_ids(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Vec<String>, ApiError> {
    let body = body_bytes(body, limit)?;
    let ids: BlobIds = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a list of blob ids ({e}); send {{\"ids\": [...]}}"
        ))
    })?;
    Ok(ids.ids)
}

async fn lacking_blobs(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ids = blob_ids(body, st.config.max_body)?;
    let core = Arc::clone(&st.core);
    let lacking = blocking(move || core.lacking_blobs(&journal, &ids)).await?;
    Ok(Json(serde_json::json!({ "lacking": lacking })).into_response())
}

async fn fetch_blobs(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ids = blob_ids(body, st.config.max_body)?;
    let core = Arc::clone(&st.core);
    // An answer holds at most a body's worth of blob bytes (base64 makes
    // it a third larger), so no request costs the server more memory than
    // the largest one it accepts.
    let cap = st.config.max_body;
    let (blobs, more) = blocking(move || core.get_blobs(&journal, &ids, cap)).await?;
    let blobs: Vec<serde_json::Value> = blobs
        .into_iter()
        .map(|(id, data)| serde_json::json!({ "id": id, "data": BASE64.encode(data) }))
        .collect();
    Ok(Json(serde_json::json!({ "blobs": blobs, "more": more })).into_response())
}

async fn store_blobs(
    State(st): State<AppState>,
    Extension(JournalId(journal)): Extension<JournalId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    #[derive(serde::Deserialize)]
    struct Blob {
        id: String,
        data: String,
    }
    #[derive(serde::Deserialize)]
    struct Blobs {
        blobs: Vec<Blob>,
    }
    let body = body_bytes(body, st.config.max_body)?;
    let parsed: Blobs = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a list of blobs ({e}); send {{\"blobs\": [{{\"id\": ID, \"data\": BASE64}}, ...]}}"
        ))
    })?;
    let blobs = parsed
        .blobs
        .into_iter()
        .map(|b| {
            let data = BASE64
                .decode(b.data.as_bytes())
                .map_err(|e| ApiError::bad_request(format!("blob {} is not base64 ({e})", b.id)))?;
            Ok((b.id, data))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let core = Arc::clone(&st.core);
    let stored = blocking(move || core.put_blobs(&journal, &blobs)).await?;
    Ok(Json(serde_json::json!({ "stored": stored })).into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; docs/sync-protocol.md lists them",
    )
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed here; docs/sync-protocol.md lists the endpoints"),
    )
}

/// The threads that run Core calls (SQLite) at most.
const BLOCKING_THREADS: usize = 8;

/// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish
/// (for at most `request_timeout`) and returns. `on_ready` is told the
/// address once the server listens. Builds its own tokio runtime: the rest
/// of nj is synchronous.
pub fn serve(
    core: Arc<Core>,
    config: Config,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        // Every Core call takes the one SQLite connection's lock, so more
        // than a few blocking threads only wait for it; and each thread
        // keeps memory of its own in the allocator. Tokio's default (512)
        // let a loaded server grow to 116 threads and 168 MB in a minute of
        // the soak (bench/server_soak), 238 MB in five; with 8 it stays
        // under 60 MB at the same throughput, within the run-to-run spread.
        // A request waiting for a thread costs next to nothing.
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()?;
    let result = rt.block_on(run(core, config, on_ready));
    // A handler stuck in SQLite must not keep the process alive.
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn run(
    core: Arc<Core>,
    config: Config,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    // Listen for signals before saying we are ready, so a SIGTERM that
    // follows at once is a clean shutdown, not a kill.
    let mut stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| ServerError::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    on_ready(listener.local_addr()?);

    let app = router(core, &config);
    let (closing_tx, closing) = watch::channel(false);
    let slots = Arc::new(Slots::new(
        config.max_connections,
        config.max_pending,
        config.max_pending_per_address,
    ));
    let mut displaced = Throttle::default();
    let mut accept_failed = Throttle::default();
    let mut conns = JoinSet::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);

    loop {
        while conns.try_join_next().is_some() {}
        // Accepting never waits for a slot: a new connection always gets a
        // pending place (displacing an older one if need be), so clients
        // that hold connections open cannot keep a real client in the
        // listen queue.
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                // The client gave up before we took it: nothing to do.
                Err(e) if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: close the
                    // oldest connection that has shown no token to free
                    // one, or else wait for one of the others to finish.
                    let freed = slots.displace_oldest();
                    if let Some(n) = accept_failed.add(1) {
                        eprintln!(
                            "nj serve: cannot accept a connection: {e}{}{}",
                            if freed { "; closing the oldest connection without a valid token" } else { "" },
                            times(n)
                        );
                    }
                    // Once a place is freed the next accept succeeds as
                    // soon as that connection's task has closed it.
                    let pause = if freed { 1 } else { 100 };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let (slot, closed) = slots.admit(peer.ip());
        if let Some(n) = displaced.add(closed) {
            eprintln!(
                "nj serve: closed {n} {} that had shown no valid token, to make room for newer ones (at most {} such, {} from one address; the latest newcomer is {})",
                if n == 1 { "connection" } else { "connections" },
                config.max_pending,
                config.max_pending_per_address,
                peer.ip()
            );
        }
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(StallGuard::new(stream, config.request_timeout));
        let app = app.clone();
        let requests = Arc::clone(&slot);
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            let app = app.clone();
            let conn = Arc::clone(&requests);
            async move {
                use tower::ServiceExt;
                let _busy = conn.busy();
                req.extensions_mut().insert(conn);
                app.oneshot(req.map(Body::new)).await
            }
        });
        let conn = builder.serve_connection(io, service);
        let mut closing = closing.clone();
        // A connection must show a valid token within the header timeout
        // of connecting: the timeout alone restarts with each request, so
        // a client sending tokenless requests could hold a place forever.
        let deadline = tokio::time::Instant::now() + config.header_timeout;
        conns.spawn(async move {
            tokio::pin!(conn);
            // Garbage, timeouts and dropped clients end only their own
            // connection; returning drops (closes) it.
            tokio::select! {
                _ = conn.as_mut() => return,
                () = slot.displaced() => return,
                expiry = slot.expiry(deadline) => if expiry == Expiry::Close {
                    return;
                },
                // The server is stopping: a connection that has shown no
                // token and has no request in flight has nothing to finish.
                _ = closing.changed() => if slot.if_pending() == Some(Expiry::Close) {
                    return;
                },
            }
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                () = slot.displaced() => {}
            }
        });
    }

    drop(listener);
    let _ = closing_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(config.request_timeout, drain)
        .await
        .is_err()
    {
        eprintln!(
            "nj serve: {} connections did not finish in time and were closed",
            conns.len()
        );
        conns.abort_all();
    }
    eprintln!("nj serve: stopped");
    Ok(())
}

/// At most one log line per kind of event every 10 s, counting the events
/// in between: a flood of connections must not also flood the log.
#[derive(Default)]
struct Throttle {
    /// Events since the last line.
    count: usize,
    last: Option<Instant>,
}

impl Throttle {
    /// Counts `n` events; how many to report, if a line is due now.
    fn add(&mut self, n: usize) -> Option<usize> {
        self.count += n;
        if self.count == 0
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_secs(10))
        {
            return None;
        }
        self.last = Some(Instant::now());
        Some(std::mem::take(&mut self.count))
    }
}

fn times(n: usize) -> String {
    if n == 1 {
        String::new()
    } else {
        format!(" ({n} times since the last such line)")
    }
}

/// Resolves on the first SIGTERM or Ctrl-C.
fn shutdown_signal() -> Result<Pin<Box<dyn Future<Output = ()> + Send>>, ServerError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(Box::pin(async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "Ctrl-C",
            };
            eprintln!("nj serve: {name}: finishing the requests in flight, then stopping");
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("nj serve: Ctrl-C: finishing the requests in flight, then stopping");
        }))
    }
}

/// A connection whose writes fail once they make no progress for `limit`:
/// a client that stops reading its response cannot hold a connection
/// slot forever.
struct StallGuard<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> StallGuard<T> {
    fn new(inner: T, limit: Duration) -> StallGuard<T> {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Passes a write's result through, timing how long it stays pending.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading its response",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;
    use tower::ServiceExt;

    fn app() -> (Router, String, String) {
        let core = Core::open_in_memory().unwrap();
        let (journal, token) = core.new_journal(0).unwrap();
        (router(Arc::new(core), &Config::default()), journal, token)
    }

    async fn call(app: &Router, req: axum::http::Request<Body>) -> (StatusCode, String) {
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn req(method: &str, uri: &str, token: Option<&str>, body: Body) -> axum::http::Request<Body> {
        let mut b = axum::http::Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(body).unwrap()
    }

    /// A body that arrives in pieces with no declared length, as a chunked
    /// upload does.
    struct Chunks(Vec<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            if self.0.is_empty() {
                Poll::Ready(None)
            } else {
                Poll::Ready(Some(Ok(http_body::Frame::data(self.0.remove(0)))))
            }
        }
    }

    #[tokio::test]
    async fn errors_are_json_with_the_right_status() {
        let (app, _, token) = app();
        let t = Some(token.as_str());
        let cases = [
            (req("GET", "/v1/status", None, Body::empty()), 401, "this request has no token; send `Authorization: Bearer TOKEN` with a token from `nj server new-journal` or `nj server new-token`"),
            (req("GET", "/v1/status", Some("njt_wrong"), Body::empty()), 401, "the token is missing, unknown or revoked; ask for a new one with `nj server new-token`"),
            (req("GET", "/v1/nothing", t, Body::empty()), 404, "no such endpoint; docs/sync-protocol.md lists them"),
            (req("DELETE", "/v1/ops", t, Body::empty()), 405, "DELETE is not allowed here; docs/sync-protocol.md lists the endpoints"),
            (req("GET", "/v1/ops?after=x", t, Body::empty()), 400, "bad query (Failed to deserialize query string: after: invalid digit found in string); ask for /v1/ops?after=CURSOR&limit=N with whole numbers"),
            (req("POST", "/v1/ops", t, Body::from(r#"{"ops":[{"device":"d","seq":1,"hlc_ms":1,"payload":"%%%"}]}"#)), 400, "the payload of operation d#1 is not base64 (Invalid symbol 37, offset 0.)"),
            (req("GET", "/v1/blobs/..%2Fx", t, Body::empty()), 400, "\"../x\" is not a blob id"),
            (req("GET", "/v1/blobs/sha256:00", t, Body::empty()), 404, "this journal has no blob sha256:00; the device that has it must sync first"),
            (req("GET", "/v1/key-check", t, Body::empty()), 405, "GET is not allowed here; docs/sync-protocol.md lists the endpoints"),
            (req("PUT", "/v1/key-check", None, Body::from(r#"{"check":"kc1:00"}"#)), 401, "this request has no token; send `Authorization: Bearer TOKEN` with a token from `nj server new-journal` or `nj server new-token`"),
            (req("PUT", "/v1/key-check", t, Body::from(r#"{"check":1}"#)), 400, "the body is not a key check (invalid type: integer `1`, expected a string at line 1 column 10); send {\"check\": \"...\"}"),
            (req("POST", "/v1/blobs/store", t, Body::from(r#"{"blobs":[{"id":"k1:a","data":"%%"}]}"#)), 400, "blob k1:a is not base64 (Invalid symbol 37, offset 0.)"),
            (req("POST", "/v1/blobs/store", t, Body::from(r#"{"blobs":[{"id":"../x","data":"AA=="}]}"#)), 400, "\"../x\" is not a blob id"),
            (req("POST", "/v1/blobs/store", t, Body::from(r#"[1]"#)), 400, "the body is not a list of blobs (invalid type: integer `1`, expected a sequence at line 1 column 2); send {\"blobs\": [{\"id\": ID, \"data\": BASE64}, ...]}"),
            (req("PUT", "/v1/key-check", t, Body::from(r#"{"check":"kc1: 00"}"#)), 400, "a key check is 1 to 256 printable ASCII characters without spaces; docs/sync-protocol.md gives the form nj sends"),
        ];
        for (request, status, message) in cases {
            let uri = request.uri().clone();
            let (got, body) = call(&app, request).await;
            assert_eq!(got.as_u16(), status, "{uri}: {body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"], message, "{uri}");
        }
    }

    #[tokio::test]
    async fn a_body_without_a_length_is_cut_off_at_the_limit() {
        let (app, _, token) = app();
        let mib = Bytes::from(vec![b'x'; 1024 * 1024]);
        let over = Chunks(vec![mib.clone(); 17]);
        let (status, body) = call(
            &app,
            req("PUT", "/v1/blobs/big", Some(&token), Body::new(over)),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(
            body,
            r#"{"error":"the request body is over this server's limit of 16 MiB; send fewer operations per request"}"#
        );
        let under = Chunks(vec![mib; 16]);
        let (status, _) = call(
            &app,
            req("PUT", "/v1/blobs/big", Some(&token), Body::new(under)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }

    #[tokio::test]
    async fn a_conflict_names_the_operation() {
        let (app, _, token) = app();
        let push = |payload: &str| {
            req(
                "POST",
                "/v1/ops",
                Some(&token),
                Body::from(format!(
                    r#"{{"ops":[{{"device":"d","seq":1,"hlc_ms":1,"payload":"{}"}}]}}"#,
                    BASE64.encode(payload)
                )),
            )
        };
        assert_eq!(
            call(&app, push("a")).await,
            (StatusCode::OK, r#"{"stored":1,"after":0,"last":1}"#.into())
        );
        assert_eq!(
            call(&app, push("a")).await,
            (StatusCode::OK, r#"{"stored":0,"after":1,"last":1}"#.into())
        );
        assert_eq!(
            call(&app, push("b")).await,
            (
                StatusCode::CONFLICT,
                r#"{"device":"d","error":"the server already has a different operation d#1","seq":1}"#.into()
            )
        );
    }

    #[tokio::test]
    async fn a_key_check_is_created_then_confirmed_then_defended() {
        let (app, journal, token) = app();
        let set = |check: &str| {
            req(
                "PUT",
                "/v1/key-check",
                Some(&token),
                Body::from(format!(r#"{{"check":"{check}"}}"#)),
            )
        };
        assert_eq!(
            call(&app, set("kc1:aa")).await,
            (StatusCode::CREATED, r#"{"check":"kc1:aa"}"#.into())
        );
        assert_eq!(
            call(&app, set("kc1:aa")).await,
            (StatusCode::OK, r#"{"check":"kc1:aa"}"#.into())
        );
        assert_eq!(
            call(&app, set("kc1:bb")).await,
            (
                StatusCode::CONFLICT,
                r#"{"error":"this journal on the server is encrypted with another key; bring that key here with `nj key import` (print it with `nj key show` on a device that already syncs)"}"#.into()
            )
        );
        let (status, body) =
            call(&app, req("GET", "/v1/status", Some(&token), Body::empty())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (&v["journal"], &v["key_check"], &v["devices"]),
            (
                &serde_json::json!(journal),
                &serde_json::json!("kc1:aa"),
                &serde_json::json!({})
            )
        );
    }
}
