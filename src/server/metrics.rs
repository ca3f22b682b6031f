//! `GET /metrics`: request counters and latency histograms per endpoint,
//! in Prometheus's text format. Labels name endpoints (their route, with
//! `{id}` for a blob's id), never journals or tokens: the server's owner
//! sees load, not who reads what.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use axum::http;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Observations at or under each bound (not yet cumulative).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    /// (endpoint, method, status) -> requests.
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    /// (endpoint, method) -> latency.
    latency: BTreeMap<(&'static str, &'static str), Histogram>,
    ops_stored: u64,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// The endpoint a path belongs to, as routed: a fixed set, so a client
/// cannot grow the metrics with made-up paths.
pub fn endpoint(path: &str) -> &'static str {
    match path {
        "/v1/status" => "/v1/status",
        "/v1/key-check" => "/v1/key-check",
        "/v1/ops" => "/v1/ops",
        "/v1/blobs/lacking" => "/v1/blobs/lacking",
        "/v1/blobs/fetch" => "/v1/blobs/fetch",
        "/v1/blobs/store" => "/v1/blobs/store",
        "/v1/health" => "/v1/health",
        "/metrics" => "/metrics",
        p if p.starts_with("/v1/blobs/") => "/v1/blobs/{id}",
        _ => "other",
    }
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn request(&self, path: &str, method: &http::Method, status: u16, took: Duration) {
        let endpoint = endpoint(path);
        // Methods outside the protocol's are one label, for the same
        // reason; static labels also keep a request from allocating here.
        let method = match *method {
            http::Method::GET => "GET",
            http::Method::HEAD => "HEAD",
            http::Method::POST => "POST",
            http::Method::PUT => "PUT",
            _ => "other",
        };
        let mut m = self.lock();
        *m.requests.entry((endpoint, method, status)).or_default() += 1;
        let h = m.latency.entry((endpoint, method)).or_default();
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            h.counts[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn ops_stored(&self, n: usize) {
        self.lock().ops_stored += n as u64;
    }

    /// The text format (version 0.0.4).
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP nj_requests_total Requests answered, by endpoint, method and status.\n",
        );
        out.push_str("# TYPE nj_requests_total counter\n");
        for ((endpoint, method, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "nj_requests_total{{endpoint=\"{endpoint}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP nj_request_duration_seconds Time to answer a request, by endpoint and method.\n");
        out.push_str("# TYPE nj_request_duration_seconds histogram\n");
        for ((endpoint, method), h) in &m.latency {
            let labels = format!("endpoint=\"{endpoint}\",method=\"{method}\"");
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "nj_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "nj_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "nj_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(
                out,
                "nj_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP nj_ops_stored_total Operations stored by pushes to this server process.\n",
        );
        out.push_str("# TYPE nj_ops_stored_total counter\n");
        let _ = writeln!(out, "nj_ops_stored_total {}", m.ops_stored);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_cumulative_and_labels_bounded() {
        let m = Metrics::default();
        let (get, post) = (http::Method::GET, http::Method::POST);
        let brew = http::Method::from_bytes(b"BREW").unwrap();
        m.request("/v1/ops", &post, 200, Duration::from_millis(3));
        m.request("/v1/ops", &post, 200, Duration::from_millis(30));
        m.request("/v1/blobs/sha256:abc", &get, 404, Duration::from_millis(1));
        m.request("/made/up/path", &brew, 404, Duration::from_millis(1));
        m.ops_stored(500);
        let text = m.render();
        assert!(text.contains(
            "nj_requests_total{endpoint=\"/v1/ops\",method=\"POST\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "nj_requests_total{endpoint=\"/v1/blobs/{id}\",method=\"GET\",status=\"404\"} 1\n"
        ));
        assert!(text
            .contains("nj_requests_total{endpoint=\"other\",method=\"other\",status=\"404\"} 1\n"));
        // 3 ms is under 5 ms; 30 ms under 50 ms but not 25 ms.
        assert!(text.contains(
            "nj_request_duration_seconds_bucket{endpoint=\"/v1/ops\",method=\"POST\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains(
            "nj_request_duration_seconds_bucket{endpoint=\"/v1/ops\",method=\"POST\",le=\"0.025\"} 1\n"
        ));
        assert!(text.contains(
            "nj_request_duration_seconds_bucket{endpoint=\"/v1/ops\",method=\"POST\",le=\"0.05\"} 2\n"
        ));
        assert!(text.contains(
            "nj_request_duration_seconds_count{endpoint=\"/v1/ops\",method=\"POST\"} 2\n"
        ));
        assert!(text.contains("nj_ops_stored_total 500\n"));
        assert!(!text.contains("sha256:abc"));
    }
}
