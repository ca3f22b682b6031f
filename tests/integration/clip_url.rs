//! `nj clip URL` against the local test server: extraction and metadata,
//! redirects, charsets, and every way a fetch can fail.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::pages::{self, ARTICLE, ARTICLE_TEXT};
use crate::util::{assert_refused, dead_port, sha256, short, Env, Reply, Server, NOW};

#[test]
fn url_clip_keeps_the_article_and_its_metadata() {
    let env = Env::new();
    let server = Server::start();
    server.route("/news/bridge", Reply::html(ARTICLE));
    let url = server.url("/news/bridge");

    let out = env.nj(&["clip", &url]).success();
    let list = env.list_json();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let hash = sha256(ARTICLE_TEXT.as_bytes());
    assert_eq!(
        out.stdout,
        format!(
            "clipped {}: Harbour Bridge Reopens After Repairs\n  {hash}\n",
            short(&id)
        )
    );
    assert_eq!(out.stderr, "");
    assert_eq!(
        list,
        json!([{
            "id": id,
            "title": "Harbour Bridge Reopens After Repairs",
            // The canonical link, without its utm_ parameters.
            "url": "https://ledger.example/news/harbour-bridge-reopens?id=42",
            "urls": [
                "https://ledger.example/news/harbour-bridge-reopens?id=42",
                url,
            ],
            "site": "The Coastal Ledger",
            "author": "Mara Quint",
            "lang": "en",
            "pending": false,
            "published_at": "2026-03-04T08:00:00Z",
            "read_at": null,
            "clipped_at": NOW,
            "updated_at": NOW,
            "deleted_at": null,
            "content_hash": hash,
            "tags": [],
            "word_count": 116,
        }])
    );

    let text = env.nj(&["show", &id, "--text"]).success().stdout;
    assert_eq!(text, ARTICLE_TEXT);
    for chrome in [
        "Home",
        "Subscribe today",
        "BUY CHEAP WIDGETS",
        "Most read",
        "Local bakery",
        "Copyright",
        "Privacy policy",
    ] {
        assert!(!text.contains(chrome), "{chrome:?} is in the article text");
    }
}

#[test]
fn redirects_are_followed_and_both_addresses_kept() {
    let env = Env::new();
    let server = Server::start();
    let story = pages::page(
        "Night Ferry Timetable Changes",
        &["The night ferry will leave at half past eleven from next week, the operator said."],
    );
    server
        .route("/story", Reply::html(&story))
        .route("/old", Reply::redirect(301, &server.url("/story")))
        .route("/moved", Reply::redirect(302, "/story"));

    let v = env.nj(&["--json", "clip", &server.url("/old")]).json();
    assert_eq!(v["status"], "new");
    assert_eq!(
        v["article"]["urls"],
        json!([server.url("/old"), server.url("/story")])
    );
    assert_eq!(v["article"]["url"], server.url("/old"));
    assert_eq!(v["article"]["title"], "Night Ferry Timetable Changes");
    assert_eq!((server.hits("/old"), server.hits("/story")), (1, 1));
    let id = v["article"]["id"].as_str().unwrap();
    assert_eq!(
        env.nj(&["show", id, "--text"]).success().stdout,
        "The night ferry will leave at half past eleven from next week, the operator said.\n"
    );

    // A relative 302 to the same page is the same article.
    let out = env.nj(&["clip", &server.url("/moved")]).success();
    assert_eq!(
        out.stdout,
        format!(
            "already clipped as {}: Night Ferry Timetable Changes (added URL {})\n  {}\n",
            short(id),
            server.url("/moved"),
            v["article"]["content_hash"].as_str().unwrap()
        )
    );
    assert_eq!(server.hits("/story"), 2);
}

/// A page in windows-1252 with “smart quotes”, é and £, in its bytes.
fn cp1252_page(meta: &str) -> Vec<u8> {
    let mut page = Vec::new();
    page.extend_from_slice(b"<!DOCTYPE html><html><head>");
    page.extend_from_slice(meta.as_bytes());
    page.extend_from_slice(
        b"<title>Caf\xe9 prices rise</title></head><body><article><h1>Caf\xe9 prices rise</h1>\
          <p>\x93A coffee at the caf\xe9 now costs \xa33.20,\x94 the owner said \x96 up from \xa32.80 last year.</p>\
          </article></body></html>",
    );
    page
}

const CP1252_TEXT: &str =
    "\u{201c}A coffee at the café now costs £3.20,\u{201d} the owner said \u{2013} up from £2.80 last year.\n";

fn clip_text_of(env: &Env, url: &str) -> (String, String) {
    let v = env.nj(&["--json", "clip", url]).json();
    let id = v["article"]["id"].as_str().unwrap();
    let text = env.nj(&["show", id, "--text"]).success().stdout;
    (v["article"]["title"].as_str().unwrap().to_owned(), text)
}

#[test]
fn windows_1252_declared_in_the_header_is_decoded() {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/cp1252",
        Reply::bytes(200, "text/html; charset=windows-1252", &cp1252_page("")),
    );
    let (title, text) = clip_text_of(&env, &server.url("/cp1252"));
    assert_eq!(title, "Café prices rise");
    assert_eq!(text, CP1252_TEXT);
}

#[test]
fn windows_1252_declared_only_in_meta_is_decoded() {
    let env = Env::new();
    let server = Server::start();
    server.route(
        "/meta",
        Reply::bytes(
            200,
            "text/html",
            &cp1252_page("<meta charset=\"windows-1252\">"),
        ),
    );
    let (title, text) = clip_text_of(&env, &server.url("/meta"));
    assert_eq!(title, "Café prices rise");
    assert_eq!(text, CP1252_TEXT);
}

#[test]
fn meta_charset_is_read_not_guessed() {
    // In ISO-8859-15 byte A4 is the euro sign; the windows-1252 fallback
    // would read it as ¤, so only a page whose <meta> was read says €.
    let env = Env::new();
    let server = Server::start();
    let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-15\">\
        <title>Prices</title></head><body><article><p>A ticket costs \xa45 and a pass \xa440.</p></article></body></html>";
    server.route("/euro", Reply::bytes(200, "text/html", page));
    let (_, text) = clip_text_of(&env, &server.url("/euro"));
    assert_eq!(text, "A ticket costs €5 and a pass €40.\n");
}

/// A journal with one article in it, so "unchanged" means something.
fn seeded() -> Env {
    let env = Env::new();
    env.clip_text("Seed article\n\nIt was here before.\n", &[]);
    env
}

#[test]
fn http_404_is_refused_and_changes_nothing() {
    let env = seeded();
    let server = Server::start();
    server.route("/missing", Reply::not_found());
    let url = server.url("/missing");
    assert_refused(
        &env,
        &["clip", &url],
        None,
        &format!(
            "nj: could not fetch {url}: the server answered 404 Not Found; the page is gone; check the address\n"
        ),
    );
    assert_eq!(server.hits("/missing"), 1);
}

#[test]
fn slow_server_times_out_and_names_the_limit() {
    let env = seeded();
    let server = Server::start();
    server.route(
        "/slow",
        Reply::Slow(
            Duration::from_secs(3),
            Box::new(Reply::html(&pages::page(
                "Too late",
                &["This arrives after the timeout."],
            ))),
        ),
    );
    let url = server.url("/slow");
    let start = Instant::now();
    assert_refused(
        &env,
        &["clip", &url, "--timeout", "1"],
        None,
        &format!(
            "nj: could not fetch {url}: no complete answer within 1s; the site may be slow or down, try again later or raise --timeout\n"
        ),
    );
    assert!(
        start.elapsed() < Duration::from_millis(2900),
        "the timeout did not cut the fetch short: {:?}",
        start.elapsed()
    );
}

#[test]
fn connection_refused_is_refused_and_changes_nothing() {
    let env = seeded();
    let url = format!("http://127.0.0.1:{}/story", dead_port());
    assert_refused(
        &env,
        &["clip", &url, "--timeout", "5"],
        None,
        &format!("nj: could not fetch {url}: connection refused; is the address right, and the site up?\n"),
    );
}

#[test]
fn pdf_content_type_is_refused() {
    let env = seeded();
    let server = Server::start();
    server.route(
        "/report.pdf",
        Reply::bytes(
            200,
            "application/pdf",
            b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n",
        ),
    );
    let url = server.url("/report.pdf");
    assert_refused(
        &env,
        &["clip", &url],
        None,
        &format!(
            "nj: could not fetch {url}: it is application/pdf, not an HTML page or text; nj clips articles, so save this elsewhere\n"
        ),
    );
}

#[test]
fn connection_dropped_mid_body_is_refused() {
    let env = seeded();
    let server = Server::start();
    let page = pages::page("Cut short", &["This page never finishes arriving."]);
    server.route(
        "/cut",
        Reply::Truncated {
            content_type: "text/html".into(),
            claimed: page.len() + 5000,
            body: page.as_bytes().to_vec(),
        },
    );
    let url = server.url("/cut");
    assert_refused(
        &env,
        &["clip", &url, "--timeout", "5"],
        None,
        &format!("nj: could not fetch {url}: the server dropped the connection; try again later\n"),
    );
}

#[test]
fn syndicated_copy_is_one_article_with_two_urls() {
    let env = Env::new();
    let server = Server::start();
    let story = pages::page(
        "Rail Strike Called Off",
        &[
            "Train drivers called off Friday's strike after a late offer from the operators.",
            "Services will run to the normal timetable.",
        ],
    );
    server
        .route("/wire/strike", Reply::html(&story))
        .route("/partner/strike-copy", Reply::html(&story));

    let first = env
        .nj(&["--json", "clip", &server.url("/wire/strike"), "-t", "rail"])
        .json();
    let id = first["article"]["id"].as_str().unwrap();
    let hash = first["article"]["content_hash"].as_str().unwrap();

    let copy = server.url("/partner/strike-copy");
    env.set_now("2026-11-26T11:00:00Z");
    let out = env
        .nj(&[
            "clip",
            &copy,
            "-t",
            "rail",
            "-t",
            "Labour",
            "-n",
            "same wire story",
        ])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "already clipped as {}: Rail Strike Called Off (added tags labour; added URL {copy}; added the note)\n  {hash}\n",
            short(id)
        )
    );
    let list = env.list_json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["urls"], json!([server.url("/wire/strike"), copy]));
    assert_eq!(list[0]["url"], server.url("/wire/strike"));
    assert_eq!(list[0]["tags"], json!(["labour", "rail"]));
    let shown = env.nj(&["--json", "show", id]).json();
    assert_eq!(shown["notes"][0]["text"], "same wire story");
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
}

#[test]
fn canonical_url_naming_the_front_page_does_not_merge_stories() {
    // Some sites give every article their front page as canonical URL.
    let env = Env::new();
    let server = Server::start();
    let with_canonical = |title: &str, body: &str| {
        pages::page(title, &[body, "A second paragraph long enough to count as article text for the extractor, with several more words in it."])
            .replace("<title>", &format!("<link rel=\"canonical\" href=\"{}\">\n<title>", server.url("/")))
    };
    server
        .route("/storm", Reply::html(&with_canonical("Storm hits the coast", "Winds of ninety kilometres an hour brought down trees along the coast road overnight.")))
        .route("/budget", Reply::html(&with_canonical("Council passes budget", "The council passed next year's budget by seven votes to four after a long debate.")));
    let a = env.nj(&["--json", "clip", &server.url("/storm")]).json();
    let b = env.nj(&["--json", "clip", &server.url("/budget")]).json();
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("new"), Some("new"))
    );
    assert_ne!(a["article"]["id"], b["article"]["id"]);
    assert_eq!(a["article"]["title"], "Storm hits the coast");
    assert_eq!(a["article"]["urls"], json!([server.url("/storm")]));
    assert_eq!(env.list_json().as_array().unwrap().len(), 2);
}

#[test]
fn page_reverted_to_an_earlier_text_is_a_new_version() {
    let env = Env::new();
    let server = Server::start();
    let first = pages::page("Ruling due", &["The court will rule on the contract award on Friday, the clerk said in a short statement to reporters."]);
    let second = pages::page("Ruling due", &["The court postponed its ruling on the contract award to next month, the clerk said in a short statement."]);
    server.route("/ruling", Reply::html(&first));
    let id =
        crate::util::id_of(&env.nj(&["--json", "clip", &server.url("/ruling")]).json()["article"]);
    server.route("/ruling", Reply::html(&second));
    env.nj(&["clip", &server.url("/ruling")]).success();
    server.route("/ruling", Reply::html(&first));
    let back = env.nj(&["--json", "clip", &server.url("/ruling")]).json();
    assert_eq!(back["status"], "new_version");
    let versions = env.nj(&["--json", "versions", &id]).json();
    assert_eq!(versions.as_array().unwrap().len(), 3);
    assert_eq!(versions[0]["content_hash"], versions[2]["content_hash"]);
    assert_eq!(back["article"]["content_hash"], versions[0]["content_hash"]);
}
