//! HTML pages the tests clip, written for these tests: a news article in a
//! full site layout, and a plain page builder for everything else.

/// A news article inside navigation, an ad, a sidebar and a footer, with its
/// metadata in meta tags and JSON-LD, and a canonical link carrying
/// tracking parameters.
pub const ARTICLE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Harbour Bridge Reopens After Repairs | The Coastal Ledger</title>
<link rel="canonical" href="https://ledger.example/news/harbour-bridge-reopens?utm_source=rss&utm_medium=feed&id=42">
<meta property="og:site_name" content="The Coastal Ledger">
<meta name="author" content="Mara Quint">
<meta property="article:published_time" content="2026-03-04T10:00:00+02:00">
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"NewsArticle","headline":"Harbour Bridge Reopens After Repairs","author":{"@type":"Person","name":"Mara Quint"},"datePublished":"2026-03-04T10:00:00+02:00","publisher":{"@type":"Organization","name":"The Coastal Ledger"}}
</script>
</head>
<body>
<nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li><li><a href="/subscribe">Subscribe today</a></li></ul></nav>
<div class="ad-banner advertisement">BUY CHEAP WIDGETS NOW advertisement</div>
<main>
<article>
<h1>Harbour Bridge Reopens After Repairs</h1>
<p class="byline">By Mara Quint</p>
<p>The harbour bridge reopened to traffic on Tuesday morning after eleven weeks of repairs to its corroded steel cables, the city engineering office said in a statement.</p>
<p>Engineers replaced forty-two suspension cables and resurfaced the deck, work that cost the city roughly 3.1 million in total. Commuters who had faced detours of up to forty minutes welcomed the reopening.</p>
<p>"We are relieved that the crossing is safe again," said the harbourmaster, who had warned in January that the cables were deteriorating faster than expected because of salt spray.</p>
<p>The council will publish a full inspection report next month, and has promised annual checks of the remaining original cables, which date from the bridge's construction in 1961.</p>
</article>
</main>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">Local bakery wins award</a></li><li><a href="/b">Tide tables for March</a></li></ul></aside>
<footer class="site-footer"><p>Copyright 2026 The Coastal Ledger. All rights reserved. Privacy policy. Contact us.</p></footer>
</body>
</html>
"#;

/// The text `nj` keeps of [`ARTICLE`]: the article's paragraphs only (the
/// byline is metadata, not text).
pub const ARTICLE_TEXT: &str = "The harbour bridge reopened to traffic on Tuesday morning after eleven weeks of repairs to its corroded steel cables, the city engineering office said in a statement.

Engineers replaced forty-two suspension cables and resurfaced the deck, work that cost the city roughly 3.1 million in total. Commuters who had faced detours of up to forty minutes welcomed the reopening.

\"We are relieved that the crossing is safe again,\" said the harbourmaster, who had warned in January that the cables were deteriorating faster than expected because of salt spray.

The council will publish a full inspection report next month, and has promised annual checks of the remaining original cables, which date from the bridge's construction in 1961.
";

/// A plain page: a title, then one `<p>` per paragraph, with no metadata.
pub fn page(title: &str, paragraphs: &[&str]) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n</head>\n<body>\n<article>\n<h1>{title}</h1>\n"
    );
    for p in paragraphs {
        s.push_str(&format!("<p>{p}</p>\n"));
    }
    s.push_str("</article>\n</body>\n</html>\n");
    s
}

/// A plain page whose stored text is exactly `text`: its first paragraph
/// (up to a blank line) is the title, and every paragraph is a `<p>`.
pub fn text_page(text: &str) -> String {
    let mut parts = text.split("\n\n").map(str::trim);
    let title = parts.next().unwrap();
    // The title is also the first paragraph, so the stored text is `text`.
    let mut paragraphs = vec![title];
    paragraphs.extend(parts);
    let html = page(title, &paragraphs);
    html.replace(&format!("<h1>{title}</h1>\n"), "")
}
