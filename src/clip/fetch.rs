//! Fetching a page over HTTP(S) with ureq: bounded in time and size,
//! following redirects, and turning every failure into a message a person
//! can act on.

use std::io::Read;
use std::time::Duration;

use ureq::ResponseExt;

use super::decode::too_big;
use crate::error::{Error, Result};
use crate::limits::MAX_INPUT_BYTES;

/// What came back from the server.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// The media type, lower-case, without parameters.
    pub mime: Option<String>,
    pub charset: Option<String>,
    /// Where the page ended up after redirects.
    pub final_url: String,
}

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The whole exchange, from connecting to the last body byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_redirects: u32,
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 10,
            max_bytes: MAX_INPUT_BYTES,
        }
    }
}

pub struct Fetcher {
    agent: ureq::Agent,
    opts: FetchOptions,
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Fetcher {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(opts.connect_timeout.min(opts.timeout)))
            .max_redirects(opts.max_redirects)
            // Status codes are handled below, where the message can name them.
            .http_status_as_error(false)
            .user_agent(concat!(
                "newsjournal/",
                env!("CARGO_PKG_VERSION"),
                " (+https://crates.io/crates/newsjournal)"
            ))
            .build();
        Fetcher {
            agent: config.new_agent(),
            opts,
        }
    }

    pub fn fetch(&self, url: &str) -> Result<Fetched> {
        let fail = |reason: String| Error::Fetch {
            url: url.to_owned(),
            reason,
        };
        let response = self
            .agent
            .get(url)
            .header(
                "Accept",
                "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            )
            .call()
            .map_err(|e| fail(describe(&e, &self.opts)))?;
        let status = response.status();
        if !status.is_success() {
            let hint = match status.as_u16() {
                404 | 410 => "the page is gone; check the address",
                401 | 403 => {
                    "the site refused access; save the page from your browser and clip the file"
                }
                429 => "the site is rate-limiting; try again later",
                500..=599 => "the site has a problem; try again later",
                300..=399 => "too many redirects, or a redirect without a target",
                _ => "check the address",
            };
            return Err(fail(format!(
                "the server answered {} {}; {hint}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let final_url = response.get_uri().to_string();
        let (mime, charset) = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(parse_content_type)
            .unwrap_or((None, None));
        if let Some(len) = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            if len > self.opts.max_bytes {
                return Err(too_big(url, Some(len)));
            }
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(self.opts.max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| fail(describe_io(&e, &self.opts)))?;
        if body.len() as u64 > self.opts.max_bytes {
            return Err(too_big(url, None));
        }
        Ok(Fetched {
            body,
            mime,
            charset,
            final_url,
        })
    }
}

/// Splits `text/html; charset=ISO-8859-1` into its media type and charset.
pub fn parse_content_type(value: &str) -> (Option<String>, Option<String>) {
    let mut parts = value.split(';');
    let mime = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_owned())
    });
    (mime, charset)
}

const HOST_NOT_FOUND: &str = "the host name was not found; check the address and your network";

fn timed_out(opts: &FetchOptions) -> String {
    format!(
        "no complete answer within {}s; the site may be slow or down, try again later or raise --timeout",
        opts.timeout.as_secs_f64()
    )
}

fn describe(e: &ureq::Error, opts: &FetchOptions) -> String {
    match e {
        ureq::Error::Timeout(_) => timed_out(opts),
        ureq::Error::HostNotFound => {
            "the host name was not found; check the address and your network".into()
        }
        ureq::Error::ConnectionFailed => {
            "could not connect; check the address, or try again later".into()
        }
        ureq::Error::TooManyRedirects => format!("more than {} redirects", opts.max_redirects),
        ureq::Error::BadUri(u) => format!("{u} is not a valid URL"),
        ureq::Error::Io(io) => describe_io(io, opts),
        ureq::Error::BodyExceedsLimit(n) => format!("the page is larger than {n} bytes"),
        other => format!("{other}; check the address, or try again later"),
    }
}

fn describe_io(e: &std::io::Error, opts: &FetchOptions) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused; is the address right, and the site up?".into(),
        ConnectionReset | ConnectionAborted | UnexpectedEof | BrokenPipe => {
            "the server dropped the connection; try again later".into()
        }
        TimedOut | WouldBlock => timed_out(opts),
        _ => {
            // ureq reports its own timeouts wrapped in io errors while reading.
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("timeout") || msg.contains("timed out") {
                timed_out(opts)
            } else if msg.contains("lookup address") || msg.contains("Name or service not known") {
                HOST_NOT_FOUND.into()
            } else {
                format!("{msg}; try again later")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parts() {
        assert_eq!(
            parse_content_type("text/html; charset=\"ISO-8859-1\""),
            (Some("text/html".into()), Some("ISO-8859-1".into()))
        );
        assert_eq!(
            parse_content_type("Application/PDF"),
            (Some("application/pdf".into()), None)
        );
    }
}
