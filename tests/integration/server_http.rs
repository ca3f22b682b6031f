//! The sync server over HTTP: the real `nj serve` on 127.0.0.1:0, driven
//! with raw requests, with bad input, and with the real client
//! (`HttpTransport`) syncing replicas through it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use newsjournal::entity::Entity;
use newsjournal::server::Core;
use newsjournal::sync::client::HttpTransport;
use newsjournal::sync::memory::{test_key, MemoryReplica};
use newsjournal::sync::{sync, Change, Envelope, Hlc, Op, Outgoing, Sealer, SyncError, Transport};
use serde_json::{json, Value};

use crate::util::{dead_port, Env, NjServe as Server};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .proxy(None)
        .build()
        .new_agent()
}

/// One request: (status, body as text).
fn call(method: &str, url: &str, token: Option<&str>, body: Option<&[u8]>) -> (u16, String) {
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match method {
        "GET" | "HEAD" => {
            let mut req = if method == "GET" {
                agent.get(url)
            } else {
                agent.head(url)
            };
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()
        }
        _ => {
            let mut req = if method == "POST" {
                agent.post(url)
            } else {
                agent.put(url)
            };
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(body.unwrap_or_default())
        }
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, text)
}

/// Raw bytes on a fresh connection; everything the server sent back
/// before closing.
/// A keep-alive connection on which `GET /v1/status` with `token` was
/// answered 200, left open.
fn status_kept_open(addr: SocketAddr, token: &str) -> TcpStream {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(
        format!("GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"devices\"") {
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&chunk[..n]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    conn
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = conn.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A batch of operations as `POST /v1/ops` takes it.
fn batch(ops: &[(&str, u64, i64, &str)]) -> Vec<u8> {
    let ops: Vec<Value> = ops
        .iter()
        .map(|(device, seq, hlc_ms, payload)| {
            json!({"device": device, "seq": seq, "hlc_ms": hlc_ms, "payload": BASE64.encode(payload)})
        })
        .collect();
    serde_json::to_vec(&json!({ "ops": ops })).unwrap()
}

fn pull(server: &Server, token: &str, after: u64, limit: usize) -> Value {
    let (status, body) = call(
        "GET",
        &server.url(&format!("/v1/ops?after={after}&limit={limit}")),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// (seq, payload) of each operation in a page.
fn ops_of(page: &Value) -> Vec<(u64, String)> {
    page["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let payload = BASE64.decode(o["payload"].as_str().unwrap()).unwrap();
            (
                o["seq"].as_u64().unwrap(),
                String::from_utf8(payload).unwrap(),
            )
        })
        .collect()
}

const NO_TOKEN: &str = r#"{"error":"this request has no token; send `Authorization: Bearer TOKEN` with a token from `nj server new-journal` or `nj server new-token`"}"#;
const BAD_TOKEN: &str = r#"{"error":"the token is missing, unknown or revoked; ask for a new one with `nj server new-token`"}"#;

#[test]
fn a_token_opens_only_its_own_journal_until_revoked() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (ja, a) = server.new_journal(&env);
    let (_, b) = server.new_journal(&env);
    let a2 = server.new_token(&env, &ja);
    let ops = server.url("/v1/ops");
    assert_eq!(
        call(
            "POST",
            &ops,
            Some(&a),
            Some(&batch(&[("dev-a", 1, 1, "a1"), ("dev-a", 2, 1, "a2")]))
        ),
        (200, r#"{"stored":2,"after":0,"last":2}"#.into())
    );
    assert_eq!(
        call(
            "POST",
            &ops,
            Some(&b),
            Some(&batch(&[("dev-b", 1, 1, "b1")]))
        ),
        (200, r#"{"stored":1,"after":0,"last":1}"#.into())
    );
    let blob = server.url("/v1/blobs/sha256:aa");
    assert_eq!(call("PUT", &blob, Some(&a), Some(b"A's text")).0, 201);

    for path in ["/v1/status", "/v1/ops?after=0", "/v1/blobs/sha256:aa"] {
        assert_eq!(
            call("GET", &server.url(path), None, None),
            (401, NO_TOKEN.into()),
            "{path}"
        );
        assert_eq!(
            call("GET", &server.url(path), Some("njt_guessed"), None),
            (401, BAD_TOKEN.into()),
            "{path}"
        );
    }

    // B sees only B's operations, from any cursor, and none of A's blobs.
    assert_eq!(
        ops_of(&pull(&server, &b, 0, 100)),
        vec![(1, "b1".to_owned())]
    );
    assert_eq!(
        pull(&server, &b, 1, 100),
        json!({"ops": [], "next": 1, "more": false})
    );
    assert_eq!(
        pull(&server, &b, 2, 100),
        json!({"ops": [], "next": 2, "more": false})
    );
    assert_eq!(call("HEAD", &blob, Some(&b), None), (404, String::new()));
    assert_eq!(
        call("GET", &blob, Some(&b), None),
        (
            404,
            r#"{"error":"this journal has no blob sha256:aa; the device that has it must sync first"}"#.into()
        )
    );
    let (_, status) = call("GET", &server.url("/v1/status"), Some(&b), None);
    assert_eq!(
        serde_json::from_str::<Value>(&status).unwrap()["devices"],
        json!({"dev-b": 1})
    );
    // A's second token sees A's journal.
    assert_eq!(call("HEAD", &blob, Some(&a2), None), (200, String::new()));
    assert_eq!(
        call("GET", &blob, Some(&a2), None),
        (200, "A's text".into())
    );

    // Revoking A's first token, while the server runs, shuts only it out.
    let out = env
        .nj(&[
            "server",
            "revoke",
            server.storage()[0],
            server.storage()[1],
            &a,
        ])
        .success();
    assert_eq!(
        out.stdout,
        "revoked the token; the server refuses it from now on\n"
    );
    assert_eq!(
        call("GET", &server.url("/v1/status"), Some(&a), None),
        (401, BAD_TOKEN.into())
    );
    assert_eq!(ops_of(&pull(&server, &a2, 0, 100)).len(), 2);
    let err = env
        .nj(&[
            "server",
            "revoke",
            server.storage()[0],
            server.storage()[1],
            &a,
        ])
        .failure();
    assert_eq!(
        err,
        "nj: no such token on this server, or it was already revoked; nothing changed\n"
    );
}

#[test]
fn push_is_idempotent_and_a_changed_operation_is_a_409() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    let ops = server.url("/v1/ops");
    let push = |b: &[(&str, u64, i64, &str)]| call("POST", &ops, Some(&t), Some(&batch(b)));
    assert_eq!(
        push(&[("d", 1, 5, "one"), ("d", 2, 5, "two")]),
        (200, r#"{"stored":2,"after":0,"last":2}"#.into())
    );
    assert_eq!(
        push(&[("d", 1, 5, "one"), ("d", 2, 5, "two")]),
        (200, r#"{"stored":0,"after":2,"last":2}"#.into())
    );
    // An overlapping retry stores only what is new.
    assert_eq!(
        push(&[("d", 2, 5, "two"), ("d", 3, 5, "three")]),
        (200, r#"{"stored":1,"after":2,"last":3}"#.into())
    );
    assert_eq!(
        push(&[("d", 4, 5, "four"), ("d", 2, 5, "TWO")]),
        (
            409,
            r#"{"device":"d","error":"the server already has a different operation d#2","seq":2}"#
                .into()
        )
    );
    // A clock an hour ahead is refused, and the whole batch with it.
    let ahead = now_ms() + 3_600_500;
    assert_eq!(
        push(&[("d", 4, 5, "four"), ("d", 5, ahead, "five")]),
        (
            422,
            r#"{"error":"an operation is stamped 3600 s ahead of the server's clock; fix this device's clock. Changes made while it was ahead keep their time, so they go through once the server's clock is within 5 minutes of it, in about 55 min"}"#.into()
        )
    );
    assert_eq!(
        call("GET", &server.url("/v1/status"), Some(&t), None)
            .1
            .parse::<Value>()
            .unwrap()["devices"],
        json!({"d": 3})
    );
    assert_eq!(
        ops_of(&pull(&server, &t, 0, 10)),
        vec![(1, "one".into()), (2, "two".into()), (3, "three".into())]
    );
}

#[test]
fn pull_pages_at_the_boundaries() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    assert_eq!(
        pull(&server, &t, 0, 3),
        json!({"ops": [], "next": 0, "more": false})
    );

    let six: Vec<(String, u64)> = (1..=6).map(|i| (format!("p{i}"), i)).collect();
    let ops: Vec<(&str, u64, i64, &str)> =
        six.iter().map(|(p, i)| ("d", *i, 5, p.as_str())).collect();
    call("POST", &server.url("/v1/ops"), Some(&t), Some(&batch(&ops)));
    let shape = |p: &Value| {
        (
            ops_of(p).iter().map(|o| o.0).collect::<Vec<_>>(),
            p["next"].clone(),
            p["more"].clone(),
        )
    };
    // An exact multiple of the page size: the last full page says no more.
    assert_eq!(
        shape(&pull(&server, &t, 0, 3)),
        (vec![1, 2, 3], json!(3), json!(true))
    );
    assert_eq!(
        shape(&pull(&server, &t, 3, 3)),
        (vec![4, 5, 6], json!(6), json!(false))
    );
    assert_eq!(
        shape(&pull(&server, &t, 6, 3)),
        (vec![], json!(6), json!(false))
    );

    // Page size plus one.
    call(
        "POST",
        &server.url("/v1/ops"),
        Some(&t),
        Some(&batch(&[("d", 7, 5, "p7")])),
    );
    assert_eq!(
        shape(&pull(&server, &t, 0, 6)),
        (vec![1, 2, 3, 4, 5, 6], json!(6), json!(true))
    );
    assert_eq!(
        shape(&pull(&server, &t, 6, 6)),
        (vec![7], json!(7), json!(false))
    );
    assert_eq!(ops_of(&pull(&server, &t, 6, 6)), vec![(7, "p7".to_owned())]);
    // No limit: the default page.
    let (_, body) = call("GET", &server.url("/v1/ops"), Some(&t), None);
    assert_eq!(
        shape(&body.parse().unwrap()),
        ((1..=7).collect(), json!(7), json!(false))
    );
}

#[test]
fn bad_input_gets_a_4xx_and_the_server_stays_up() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    let ops = server.url("/v1/ops");
    let status = server.url("/v1/status");
    let cases: [(&[u8], &str); 3] = [
        (b"{\"ops\": [", "the body is not a batch of operations (EOF while parsing a list at line 1 column 9); docs/sync-protocol.md gives its form"),
        (b"{\"ops\": {}}", "the body is not a batch of operations (invalid type: map, expected a sequence at line 1 column 8); docs/sync-protocol.md gives its form"),
        (b"\xff\xfe", "the body is not a batch of operations (expected value at line 1 column 1); docs/sync-protocol.md gives its form"),
    ];
    for (body, message) in cases {
        let (code, text) = call("POST", &ops, Some(&t), Some(body));
        assert_eq!((code, text), (400, json!({ "error": message }).to_string()));
        assert_eq!(call("GET", &status, Some(&t), None).0, 200);
    }
    assert_eq!(
        call("GET", &server.url("/v1/ops?after=-1"), Some(&t), None),
        (
            400,
            json!({"error": "bad query (Failed to deserialize query string: after: invalid digit found in string); ask for /v1/ops?after=CURSOR&limit=N with whole numbers"}).to_string()
        )
    );

    // A body declared over 16 MiB is refused before it is sent.
    let head = format!(
        "PUT /v1/blobs/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Length: {}\r\n\r\n",
        16 * 1024 * 1024 + 1
    );
    let answer = raw(server.addr, head.as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with(r#"{"error":"the request body is over this server's limit of 16 MiB; send fewer operations per request"}"#), "{answer}");
    // Under the limit (and over axum's 2 MB default) is fine.
    let text = vec![b'x'; 3 * 1024 * 1024];
    assert_eq!(
        call("PUT", &server.url("/v1/blobs/big"), Some(&t), Some(&text)).0,
        201
    );
    assert_eq!(
        call("GET", &server.url("/v1/blobs/big"), Some(&t), None)
            .1
            .len(),
        text.len()
    );

    // Garbage instead of HTTP: that connection is answered 400 and closed.
    let garbage: [&[u8]; 4] = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
        b"\x00\x01\x02\x03\xff\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
    ];
    for bytes in garbage {
        let answer = raw(server.addr, bytes);
        assert!(
            answer.starts_with(
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n"
            ),
            "{bytes:?}: {answer:?}"
        );
        assert_eq!(call("GET", &status, Some(&t), None).0, 200);
    }
}

const KC_A: &str = "kc1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const KC_B: &str = "kc1:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const KEY_MISMATCH: &str = r#"{"error":"this journal on the server is encrypted with another key; bring that key here with `nj key import` (print it with `nj key show` on a device that already syncs)"}"#;

/// `GET /v1/status` as JSON, with the server's clock taken out.
fn status_of(server: &Server, token: &str) -> Value {
    let (code, body) = call("GET", &server.url("/v1/status"), Some(token), None);
    assert_eq!(code, 200, "{body}");
    let mut v: Value = serde_json::from_str(&body).unwrap();
    let clock = v.as_object_mut().unwrap().remove("server_time_ms").unwrap();
    assert!(
        (clock.as_i64().unwrap() - now_ms()).abs() < 60_000,
        "{body}"
    );
    v
}

fn key_check_body(check: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "check": check })).unwrap()
}

#[test]
fn a_journal_keeps_the_first_key_check_and_refuses_another() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (ja, a) = server.new_journal(&env);
    let a2 = server.new_token(&env, &ja);
    let (jb, b) = server.new_journal(&env);
    let put = |token: Option<&str>, check: &str| {
        call(
            "PUT",
            &server.url("/v1/key-check"),
            token,
            Some(&key_check_body(check)),
        )
    };

    assert_eq!(
        status_of(&server, &a),
        json!({"devices": {}, "journal": ja, "key_check": null, "max_body": 16 << 20})
    );
    assert_eq!(
        put(Some(&a), KC_A),
        (201, json!({ "check": KC_A }).to_string())
    );
    assert_eq!(
        status_of(&server, &a),
        json!({"devices": {}, "journal": ja, "key_check": KC_A, "max_body": 16 << 20})
    );
    // Another device of the same journal with the same key.
    assert_eq!(
        put(Some(&a2), KC_A),
        (200, json!({ "check": KC_A }).to_string())
    );
    assert_eq!(put(Some(&a), KC_B), (409, KEY_MISMATCH.into()));
    assert_eq!(put(Some(&a2), KC_B), (409, KEY_MISMATCH.into()));
    assert_eq!(put(None, KC_B), (401, NO_TOKEN.into()));
    assert_eq!(put(Some("njt_guessed"), KC_B), (401, BAD_TOKEN.into()));
    assert_eq!(
        status_of(&server, &a2),
        json!({"devices": {}, "journal": ja, "key_check": KC_A, "max_body": 16 << 20})
    );

    // Another journal sees neither A's id nor A's check, and keeps its own.
    assert_eq!(
        status_of(&server, &b),
        json!({"devices": {}, "journal": jb, "key_check": null, "max_body": 16 << 20})
    );
    assert_eq!(
        put(Some(&b), KC_B),
        (201, json!({ "check": KC_B }).to_string())
    );
    assert_eq!(status_of(&server, &b)["key_check"], json!(KC_B));
    assert_eq!(status_of(&server, &a)["key_check"], json!(KC_A));

    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    let ja_field = format!("journal={ja}");
    let puts: Vec<(&str, &str)> = log
        .lines()
        .filter(|l| l.contains(" PUT /v1/key-check "))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[3], f[6])
        })
        .collect();
    assert_eq!(
        puts[..4],
        [
            ("201", ja_field.as_str()),
            ("200", ja_field.as_str()),
            ("409", ja_field.as_str()),
            ("409", ja_field.as_str()),
        ]
    );
}

#[test]
fn a_malformed_key_check_is_a_400_and_the_server_stays_up() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (j, t) = server.new_journal(&env);
    let url = server.url("/v1/key-check");
    let invalid = "a key check is 1 to 256 printable ASCII characters without spaces; docs/sync-protocol.md gives the form nj sends";
    let too_long = key_check_body(&"x".repeat(257));
    let cases: [(&[u8], &str); 7] = [
        (b"{\"check\": ", "the body is not a key check (EOF while parsing a value at line 1 column 10); send {\"check\": \"...\"}"),
        (b"{}", "the body is not a key check (missing field `check` at line 1 column 2); send {\"check\": \"...\"}"),
        (b"{\"check\": null}", "the body is not a key check (invalid type: null, expected a string at line 1 column 14); send {\"check\": \"...\"}"),
        (b"\xff\xfe", "the body is not a key check (expected value at line 1 column 1); send {\"check\": \"...\"}"),
        (b"{\"check\": \"\"}", invalid),
        (b"{\"check\": \"kc1: 00\"}", invalid),
        (&too_long, invalid),
    ];
    for (body, message) in cases {
        assert_eq!(
            call("PUT", &url, Some(&t), Some(body)),
            (400, json!({ "error": message }).to_string()),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            status_of(&server, &t),
            json!({"devices": {}, "journal": j, "key_check": null, "max_body": 16 << 20})
        );
    }
    assert_eq!(
        call("GET", &url, Some(&t), None),
        (
            405,
            json!({"error": "GET is not allowed here; docs/sync-protocol.md lists the endpoints"})
                .to_string()
        )
    );
    assert_eq!(
        call("PUT", &url, Some(&t), Some(&key_check_body(KC_A))),
        (201, json!({ "check": KC_A }).to_string())
    );
}

#[test]
fn a_client_that_stalls_mid_header_or_idles_is_dropped() {
    let env = Env::new();
    let server = Server::start(&env, &["--header-timeout", "1"]);
    let (_, t) = server.new_journal(&env);

    let start = Instant::now();
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "dropped after {waited:?}"
    );

    // A keep-alive connection that is answered, then left idle, is closed
    // after the same timeout.
    let mut idle = status_kept_open(server.addr, &t);
    let mut chunk = [0u8; 4096];
    let answered = Instant::now();
    assert_eq!(
        idle.read(&mut chunk).unwrap(),
        0,
        "the idle connection stayed open"
    );
    let idled = answered.elapsed();
    assert!(
        idled >= Duration::from_millis(900) && idled < Duration::from_secs(3),
        "closed after {idled:?}"
    );

    assert_eq!(
        call("GET", &server.url("/v1/status"), Some(&t), None).0,
        200
    );
}

#[test]
fn a_slow_body_times_out_and_connections_beyond_the_cap_wait() {
    let env = Env::new();
    let mut server = Server::start(
        &env,
        &[
            "--max-connections",
            "1",
            "--header-timeout",
            "1",
            "--request-timeout",
            "1",
        ],
    );
    let (_, t) = server.new_journal(&env);

    // Half a body, then nothing: 408 once the request timeout passes.
    let start = Instant::now();
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(format!("PUT /v1/blobs/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Length: 10\r\n\r\nhello").as_bytes())
        .unwrap();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    let waited = start.elapsed();
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with(r#"{"error":"the request was not finished within 1 s; try again"}"#),
        "{answer}"
    );
    // The upper bounds are loose: a loaded machine (CI) may be slow, and
    // what matters is that the wait ends at all.
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    // A connection that has shown no token holds no slot: with one slot,
    // an idle one keeps no one waiting (issue 17, item 5).
    let idle = TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    assert_eq!(
        call("GET", &server.url("/v1/status"), Some(&t), None).0,
        200
    );
    let waited = start.elapsed();
    assert!(waited < Duration::from_millis(900), "{waited:?}");
    drop(idle);

    // Ctrl-C stops the server as SIGTERM does.
    let status = std::process::Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(server
        .log()
        .contains("nj serve: Ctrl-C: finishing the requests in flight, then stopping\n"));

    // One connection with a token at a time: a second client waits until
    // the first, idle after its answer, is closed by the header timeout.
    // The wait counts toward the request timeout, so that is left long.
    let server = Server::start(&env, &["--max-connections", "1", "--header-timeout", "1"]);
    let mut kept = status_kept_open(server.addr, &t);
    let mut chunk = [0u8; 4096];
    let idle_since = Instant::now();
    assert_eq!(
        call("GET", &server.url("/v1/status"), Some(&t), None).0,
        200
    );
    let waited = idle_since.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(kept.read(&mut chunk).unwrap(), 0, "the idle one is open");
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let env = Env::new();
    let mut server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    let mut upload = TcpStream::connect(server.addr).unwrap();
    upload
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    upload
        .write_all(format!("PUT /v1/blobs/late HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Length: 10\r\n\r\nhello").as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.terminate();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    upload.write_all(b"world").unwrap();
    let mut answer = String::new();
    let _ = upload.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 201 Created\r\n"), "{answer}");
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
    let log = server.log();
    assert!(log.contains(" PUT /v1/blobs/late 201 0B "), "{log}");
    assert!(
        log.contains("nj serve: SIGTERM: finishing the requests in flight, then stopping\n"),
        "{log}"
    );
}

#[test]
fn one_log_line_per_request_and_never_the_token() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (journal, t) = server.new_journal(&env);
    call("GET", &server.url("/v1/status"), Some(&t), None);
    call("GET", &server.url("/v1/status"), None, None);
    call("POST", &server.url("/v1/ops"), Some(&t), Some(b"nonsense"));
    call(
        "GET",
        &server.url(&format!("/v1/ops?after=0&limit=5&token={t}")),
        Some(&t),
        None,
    );
    call("HEAD", &server.url("/v1/blobs/sha256:00"), Some(&t), None);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains(&t), "the token is in the log:\n{log}");
    let requests: Vec<Vec<&str>> = log
        .lines()
        .filter(|l| !l.starts_with("nj serve: "))
        .map(|l| l.split(' ').collect())
        .collect();
    let fields: Vec<(&str, &str, &str, &str)> = requests
        .iter()
        .map(|f| {
            assert_eq!(f.len(), 7, "{f:?}");
            assert!(f[0].ends_with('Z') && f[0].len() == 24, "{f:?}");
            assert!(f[4].ends_with('B') && f[5].ends_with("ms"), "{f:?}");
            (f[1], f[2], f[3], f[6])
        })
        .collect();
    let j = format!("journal={journal}");
    assert_eq!(
        fields,
        vec![
            ("GET", "/v1/status", "200", j.as_str()),
            ("GET", "/v1/status", "401", "journal=-"),
            ("POST", "/v1/ops", "400", j.as_str()),
            ("GET", "/v1/ops", "200", j.as_str()),
            ("HEAD", "/v1/blobs/sha256:00", "404", j.as_str()),
        ]
    );
}

#[test]
fn serve_says_when_the_address_is_taken() {
    let env = Env::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = env
        .nj(&[
            "serve",
            "--data",
            env.path("server").to_str().unwrap(),
            "--listen",
            &addr,
        ])
        .failure();
    assert_eq!(
        err,
        format!("nj: cannot listen on {addr} (Address already in use (os error 98)); is another server using it? pick another address with --listen\n")
    );
}

// ---------------------------------------------------------------------------
// The client, HttpTransport, against the real server.

#[test]
fn replicas_syncing_through_the_real_server_converge() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (journal, ta) = server.new_journal(&env);
    let tb = server.new_token(&env, &journal);
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    let mut via_a = HttpTransport::new(&server.url, &ta);
    let mut via_b = HttpTransport::new(&format!("{}/", server.url), &tb);

    a.create(Entity::Note, "n1", &[("body", json!("first draft"))]);
    a.create(Entity::Article, "a1", &[("title", json!("Courts"))]);
    a.link("a1", "courts");
    b.create(Entity::Article, "b1", &[("title", json!("Budget"))]);
    b.link("b1", "money");
    let key = test_key();
    let run =
        |r: &mut MemoryReplica, t: &mut HttpTransport| sync(r, t, &key, 2, |_| {}).expect("sync");
    assert_eq!(run(&mut a, &mut via_a).pushed, 3);
    let sb = run(&mut b, &mut via_b);
    assert_eq!((sb.pushed, sb.pulled), (2, 3));
    assert_eq!(run(&mut a, &mut via_a).pulled, 2);
    assert_eq!(a.state(), b.state());

    // Concurrent edits of one note: both texts survive, on both sides.
    a.wall_ms += 1_000;
    a.set(Entity::Note, "n1", "body", json!("A's version"));
    b.wall_ms += 2_000;
    b.set(Entity::Note, "n1", "body", json!("B's version"));
    a.unlink("a1", "courts");
    run(&mut a, &mut via_a);
    assert_eq!(run(&mut b, &mut via_b).conflicts, 1);
    run(&mut a, &mut via_a);
    assert_eq!(a.state(), b.state());
    assert_eq!(
        a.get(Entity::Note, "n1", "body"),
        Some(&json!("B's version"))
    );
    assert_eq!(
        a.conflicts_of(Entity::Note, "n1", "body"),
        vec!["\"A's version\"".to_owned()]
    );

    // A late third device gets everything, a page at a time.
    let mut c = MemoryReplica::new("device-c");
    let tc = server.new_token(&env, &journal);
    run(&mut c, &mut HttpTransport::new(&server.url, &tc));
    assert_eq!(c.state(), a.state());

    let status = via_a.status().unwrap();
    assert_eq!(
        status.devices.into_iter().collect::<Vec<_>>(),
        vec![("device-a".to_owned(), 5), ("device-b".to_owned(), 3)]
    );
    assert!((status.server_time_ms - now_ms()).abs() < 60_000);
    // The first device to sync stored its key's check under the journal.
    assert_eq!(status.journal, journal);
    assert_eq!(
        status.key_check,
        Some(Sealer::new(&key, &journal).key_check())
    );

    // Blobs, through the same transport.
    assert!(!via_a.has_blob("sha256:abc").unwrap());
    via_a.put_blob("sha256:abc", b"the text").unwrap();
    via_a.put_blob("sha256:abc", b"the text").unwrap();
    assert!(via_b.has_blob("sha256:abc").unwrap());
    assert_eq!(via_b.get_blob("sha256:abc").unwrap(), b"the text");
}

fn op_at(device: &str, seq: u64, ms: i64, body: &str) -> Envelope {
    let op = Op {
        device: device.into(),
        seq,
        hlc: Hlc { ms, counter: 0 },
        entity: Entity::Note,
        id: "n1".into(),
        change: Change::Set {
            field: "body".into(),
            value: json!(body),
            base: None,
        },
        arrived_as: None,
    };
    Sealer::new(&test_key(), "any-journal").seal(&Outgoing {
        payload: serde_json::to_vec(&op).unwrap(),
        op,
        nonce_seed: [seq as u8; 24],
    })
}

fn transport_error(r: Result<impl std::fmt::Debug, SyncError>) -> String {
    match r {
        Err(SyncError::Transport(m) | SyncError::BadToken(m) | SyncError::Unreachable(m)) => m,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn client_errors_say_what_to_do() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    let url = &server.url;
    let mut client = HttpTransport::new(url, &t);

    client.push(&[op_at("d", 1, 1_000, "one")]).unwrap();
    match client.push(&[op_at("d", 1, 1_000, "changed")]) {
        Err(SyncError::Conflict { device, seq }) => assert_eq!((device.as_str(), seq), ("d", 1)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let ahead = now_ms() + 3_600_500;
    assert_eq!(
        transport_error(client.push(&[op_at("d", 2, ahead, "from the future")])),
        format!("the server at {url} refused the changes: an operation is stamped 3600 s ahead of the server's clock; fix this device's clock. Changes made while it was ahead keep their time, so they go through once the server's clock is within 5 minutes of it, in about 55 min")
    );
    assert_eq!(
        transport_error(client.get_blob("sha256:none")),
        format!("the server at {url} refused the request while downloading an article text (404: this journal has no blob sha256:none; the device that has it must sync first); is {url} an `nj serve`?")
    );

    let refused = format!("the server at {url} refused the token: it is wrong or revoked; ask for a new one with `nj server new-token` and set it with `nj remote set {url} --token TOKEN`");
    assert_eq!(
        transport_error(HttpTransport::new(url, "njt_wrong").pull(0, 10)),
        refused
    );
    env.nj(&[
        "server",
        "revoke",
        server.storage()[0],
        server.storage()[1],
        &t,
    ])
    .success();
    assert_eq!(transport_error(client.status()), refused);

    let down = format!("http://127.0.0.1:{}", dead_port());
    assert_eq!(
        transport_error(HttpTransport::new(&down, &t).pull(0, 10)),
        format!("cannot reach the sync server at {down} (connection refused); is `nj serve` running at {down}?")
    );

    // A server that hangs up mid-request.
    let hangup = TcpListener::bind("127.0.0.1:0").unwrap();
    let hangup_url = format!("http://{}", hangup.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in hangup.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 64];
            let _ = conn.read(&mut buf);
            drop(conn);
        }
    });
    assert_eq!(
        transport_error(HttpTransport::new(&hangup_url, &t).push(&[op_at("d", 2, 1_000, "two")])),
        format!("the connection to {hangup_url} dropped while pushing changes; run `nj sync` again to finish (nothing is sent or applied twice)")
    );
}

/// The server's core in process (`Core::transport`) refuses as the HTTP
/// client reports the same refusal over HTTP: protocol tests that run on
/// the core see the errors `nj sync` sees. Both go to one journal of one
/// server, the core through the server's own file.
#[test]
fn the_core_in_process_refuses_as_the_server_does_over_http() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (journal, token) = server.new_journal(&env);
    let core = Core::open(&server.data.join("server.db")).unwrap();
    let mut http = HttpTransport::new(&server.url, &token);
    let mut local = core.transport(&journal);
    let local_url = format!("core:{journal}");
    let key = Sealer::new(&test_key(), &journal).key_check();
    http.set_key_check(&key).unwrap();
    http.push(&[op_at("d", 1, 1_000, "one")]).unwrap();

    type Call = Box<dyn Fn(&mut dyn Transport) -> Result<String, SyncError>>;
    let push = |ops: Vec<Envelope>| -> Call {
        Box::new(move |t: &mut dyn Transport| t.push(&ops).map(|p| format!("{p:?}")))
    };
    let ahead = now_ms() + 3_600_500;
    let mut bad_device = op_at("d", 2, 1_000, "two");
    bad_device.device = "dev/../x".into();
    let cases: Vec<(&str, Call)> = vec![
        ("a conflict", push(vec![op_at("d", 1, 1_000, "changed")])),
        ("a gap", push(vec![op_at("d", 3, 1_000, "three")])),
        ("a clock ahead", push(vec![op_at("d", 2, ahead, "ahead")])),
        ("a bad device id", push(vec![bad_device])),
        (
            "a cursor past any position",
            Box::new(|t| t.pull(u64::MAX, 10).map(|p| format!("{p:?}"))),
        ),
        (
            "another key",
            Box::new(|t| t.set_key_check("kc1:other").map(|()| String::new())),
        ),
        (
            "a bad key check",
            Box::new(|t| t.set_key_check("kc1: 00").map(|()| String::new())),
        ),
        (
            "a missing blob",
            Box::new(|t| t.get_blob("sha256:none").map(|b| format!("{b:?}"))),
        ),
        (
            "a bad blob id",
            Box::new(|t| t.get_blob("../x").map(|b| format!("{b:?}"))),
        ),
        (
            "a missing blob in a batch",
            Box::new(|t| {
                t.get_blobs(&["k1:missing".to_string()])
                    .map(|b| format!("{b:?}"))
            }),
        ),
        (
            "a bad blob id in a batch",
            Box::new(|t| {
                t.lacking_blobs(&["../x".to_string()])
                    .map(|b| format!("{b:?}"))
            }),
        ),
        (
            "a bad blob id in an upload",
            Box::new(|t| {
                t.put_blobs(&[("../x".to_string(), b"x".to_vec())])
                    .map(|()| String::new())
            }),
        ),
    ];
    for (what, call) in &cases {
        let over_http = format!("{:?}", call(&mut http)).replace(&server.url, "URL");
        let in_process = format!("{:?}", call(&mut local)).replace(&local_url, "URL");
        assert!(over_http.starts_with("Err("), "{what}: {over_http}");
        assert_eq!(in_process, over_http, "{what}");
    }
    // What both agree on, for the cases the protocol acts on.
    assert!(matches!(
        local.push(&[op_at("d", 1, 1_000, "changed")]),
        Err(SyncError::Conflict { seq: 1, .. })
    ));
    assert!(matches!(
        local.push(&[op_at("d", 3, 1_000, "three")]),
        Err(SyncError::Gap {
            seq: 3,
            expected: 2,
            ..
        })
    ));
    assert!(matches!(
        local.set_key_check("kc1:other"),
        Err(SyncError::WrongKey)
    ));
    // And what they answer when all is well.
    assert_eq!(
        local.status().unwrap().devices,
        http.status().unwrap().devices
    );
    assert_eq!(
        format!("{:?}", local.pull(0, 10).unwrap()),
        format!("{:?}", http.pull(0, 10).unwrap())
    );
}

/// Issue 17, item 3: `POST /v1/blobs/fetch` with one id a thousand times
/// answered a thousand copies (a 20 KB request, a 1.4 GB answer). Each id
/// now comes once, an answer holds at most a body's worth of blobs, and
/// the client asks again for the rest.
#[test]
fn regression_blob_fetch_amplifies() {
    let env = Env::new();
    let server = Server::start(&env, &["--max-body", "300000"]);
    let (_, token) = server.new_journal(&env);
    let big = vec![b'x'; 100_000];
    let ids: Vec<String> = (0..5).map(|i| format!("k1:blob{i}")).collect();
    for id in &ids {
        let (status, _) = call(
            "PUT",
            &server.url(&format!("/v1/blobs/{id}")),
            Some(&token),
            Some(&big),
        );
        assert!(status == 201 || status == 200, "{status}");
    }
    // One id, a thousand times: one blob in the answer.
    let same = serde_json::to_vec(&serde_json::json!({ "ids": vec![&ids[0]; 1000] })).unwrap();
    let (status, body) = call(
        "POST",
        &server.url("/v1/blobs/fetch"),
        Some(&token),
        Some(&same),
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["blobs"].as_array().unwrap().len(), 1);
    assert!(body.len() < 200_000, "an answer of {} bytes", body.len());
    // All five at once: cut at the body limit, with "more".
    let all = serde_json::to_vec(&serde_json::json!({ "ids": ids })).unwrap();
    let (_, body) = call(
        "POST",
        &server.url("/v1/blobs/fetch"),
        Some(&token),
        Some(&all),
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["blobs"].as_array().unwrap().len() < 5, "{}", &body[..200]);
    assert_eq!(v["more"], true);
    assert!(body.len() < 450_000, "an answer of {} bytes", body.len());
    // The client gets them all, in several requests.
    let mut client = HttpTransport::new(&server.url, &token);
    let got = client.get_blobs(&ids).unwrap();
    assert_eq!(got.len(), 5);
    for ((id, data), want) in got.iter().zip(&ids) {
        assert_eq!(id, want);
        assert_eq!(data.len(), 100_000);
    }
    // One it lacks is still an error that says so.
    let err = client
        .get_blobs(&["k1:missing".to_string()])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("has no article text k1:missing"), "{err}");
}

/// Issue 17, item 4: an 8 MiB device id was stored (and returned by every
/// later status), and values at the edges of i64 wrapped. Each field is
/// checked at the edge, with a 400 that says which.
#[test]
fn regression_unbounded_values_from_clients() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, token) = server.new_journal(&env);
    let ops = server.url("/v1/ops");
    let now = now_ms();
    let long = "d".repeat(8 << 20);
    for (body, says) in [
        (
            batch(&[(long.as_str(), 1, now, "p")]),
            "the device id must be 1 to 64 letters, digits and dashes",
        ),
        (batch(&[("dev/../x", 1, now, "p")]), "the device id must be"),
        (
            batch(&[("dev-a", u64::MAX, now, "p")]),
            "the sequence number 18446744073709551615 is out of range",
        ),
        (batch(&[("dev-a", 1, i64::MIN, "p")]), "is before 1970"),
    ] {
        let (status, text) = call("POST", &ops, Some(&token), Some(&body));
        assert_eq!(status, 400, "{}", &text[..text.len().min(300)]);
        assert!(text.contains(says), "{}", &text[..text.len().min(300)]);
    }
    let (status, text) = call(
        "GET",
        &server.url(&format!("/v1/ops?after={}", u64::MAX)),
        Some(&token),
        None,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("is past any position"), "{text}");
    // Nothing was stored; the status is as small as before.
    let status = status_of(&server, &token);
    assert_eq!(status["devices"], json!({}));
    let (code, body) = call(
        "POST",
        &ops,
        Some(&token),
        Some(&batch(&[("dev-a", 1, now, "p")])),
    );
    assert_eq!(code, 200, "{body}");
}

/// Issue 17, item 4: gaps and backward sequence numbers were stored,
/// although the protocol promises each device's operations gapless.
#[test]
fn regression_gaps_and_backward_sequences_are_stored() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, token) = server.new_journal(&env);
    let ops = server.url("/v1/ops");
    let now = now_ms();
    let push =
        |items: &[(&str, u64, i64, &str)]| call("POST", &ops, Some(&token), Some(&batch(items)));
    assert_eq!(push(&[("dev-a", 1, now, "p1")]).0, 200);
    // A gap: #3 after #1.
    let (code, text) = push(&[("dev-a", 3, now, "p3")]);
    assert_eq!(code, 409, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({
            "error": "operation dev-a#3 does not follow on from the last one the server holds from that device; the next must be #2",
            "device": "dev-a",
            "seq": 3,
            "expected": 2,
        })
    );
    // A batch that fills the gap itself is fine, and a retried one too.
    assert_eq!(
        push(&[("dev-a", 2, now, "p2"), ("dev-a", 3, now, "p3")]).0,
        200
    );
    assert_eq!(
        push(&[("dev-a", 2, now, "p2"), ("dev-a", 3, now, "p3")]).0,
        200
    );
    // Backward: a new #2 is a conflict; a new device starts at #1.
    assert_eq!(push(&[("dev-a", 2, now, "other")]).0, 409);
    let (code, text) = push(&[("dev-b", 5, now, "p")]);
    assert_eq!(code, 409, "{text}");
    assert!(text.contains("the next must be #1"), "{text}");
    // Nothing of a refused batch is stored.
    let (code, _) = push(&[("dev-b", 1, now, "p"), ("dev-b", 3, now, "p")]);
    assert_eq!(code, 409);
    assert_eq!(status_of(&server, &token)["devices"], json!({"dev-a": 3}));
}

/// Issue 17, item 5: 300 clients that sent half a request head and then
/// nothing held every connection slot, so a valid request waited out the
/// 10 s header timeout, and connections beyond about 385 were refused.
/// Connections without a valid token are now capped per address and in
/// all (the oldest is closed to make room) and never take the slots of
/// clients with a token, so the valid request is answered at once and new
/// connections keep being accepted.
#[test]
fn regression_slow_header_clients_hold_the_connection_slots() {
    let env = Env::new();
    let server = Server::start(&env, &[]);
    let (_, t) = server.new_journal(&env);
    let stall = |n: usize, held: &mut Vec<TcpStream>| {
        for _ in 0..n {
            let mut conn = TcpStream::connect_timeout(&server.addr, Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("connection {} was not accepted: {e}", held.len() + 1));
            conn.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            held.push(conn);
        }
    };
    // A request with the token, timed, on a fresh connection from the
    // same address as the stalled ones.
    let valid = || {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .proxy(None)
            .build()
            .new_agent();
        let start = Instant::now();
        let outcome = agent
            .get(&server.url("/v1/status"))
            .header("Authorization", &format!("Bearer {t}"))
            .call()
            .map(|r| r.status().as_u16());
        (outcome.map_err(|e| e.to_string()), start.elapsed())
    };

    let mut held = Vec::new();
    stall(400, &mut held);
    let (outcome, took) = valid();
    eprintln!("with 400 stalled connections: {outcome:?} after {took:?}");
    // The bound is loose for a loaded machine (CI); before the fix the
    // answer came only once the header timeout had closed the stalled
    // connections, after 10 s.
    assert_eq!(outcome, Ok(200), "after {took:?}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");

    // The server still takes new connections, past where it refused them.
    stall(100, &mut held);
    let (outcome, took) = valid();
    eprintln!("with 500 stalled connections: {outcome:?} after {took:?}");
    assert_eq!(outcome, Ok(200), "after {took:?}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    let answer = raw(
        server.addr,
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );

    // All but the newest 32 (the cap for one address) were closed.
    let open = |held: &[TcpStream]| {
        held.iter()
            .filter(|c| {
                let mut c: &TcpStream = c;
                c.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
                matches!(c.read(&mut [0u8; 64]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
            })
            .count()
    };
    let start = Instant::now();
    let mut still = open(&held);
    while still > 32 && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
        still = open(&held);
    }
    eprintln!("{still} of {} stalled connections still open", held.len());
    assert!(still <= 32, "{still} stalled connections are still open");
    let log = server.log();
    assert!(
        log.contains(" that had shown no valid token, to make room for newer ones (at most 256 such, 32 from one address; the latest newcomer is 127.0.0.1)\n"),
        "{log}"
    );
    // Nor do they hold up stopping.
    let start = Instant::now();
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

/// Issue 17, item 5, when the server runs out of file descriptors: it
/// could accept no one until the header timeout closed a stalled
/// connection, so a valid request waited 10 s. It now closes the oldest
/// connection that has shown no token to make room.
#[test]
fn regression_out_of_file_descriptors_a_token_still_gets_in() {
    let env = Env::new();
    // Caps far above what the files allow, so only the lack of files
    // limits the connections.
    let server = Server::start_with_open_files(
        &env,
        &["--max-pending", "1000", "--max-pending-per-address", "1000"],
        64,
    );
    let (_, t) = server.new_journal(&env);
    let mut held = Vec::new();
    for i in 0..150 {
        let mut conn = TcpStream::connect_timeout(&server.addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connection {i} was not accepted: {e}"));
        conn.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        held.push(conn);
    }
    let start = Instant::now();
    let (status, _) = call("GET", &server.url("/v1/status"), Some(&t), None);
    let took = start.elapsed();
    eprintln!("with 150 stalled connections and 64 files: {status} after {took:?}");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    let log = server.log();
    assert!(
        log.contains("; closing the oldest connection without a valid token"),
        "{log}"
    );
}

crate::on_every_backend!(
    a_token_opens_only_its_own_journal_until_revoked,
    push_is_idempotent_and_a_changed_operation_is_a_409,
    pull_pages_at_the_boundaries,
    bad_input_gets_a_4xx_and_the_server_stays_up,
    a_journal_keeps_the_first_key_check_and_refuses_another,
    a_malformed_key_check_is_a_400_and_the_server_stays_up,
    sigterm_finishes_the_request_in_flight_then_exits_0,
    replicas_syncing_through_the_real_server_converge,
    client_errors_say_what_to_do,
    regression_blob_fetch_amplifies,
    regression_unbounded_values_from_clients,
    regression_gaps_and_backward_sequences_are_stored,
);
