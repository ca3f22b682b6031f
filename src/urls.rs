//! URL clean-up, so one story clipped through different links is known by
//! one address.

use url::Url;

/// Query parameters that only track where a click came from.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "gclsrc"
                | "msclkid"
                | "yclid"
                | "twclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "mkt_tok"
                | "oly_anon_id"
                | "oly_enc_id"
                | "vero_id"
                | "wt_mc"
                | "cmpid"
                | "ito"
                | "smid"
                | "s_cid"
                | "ref_src"
                | "ref_url"
                | "_hsenc"
                | "_hsmi"
                | "hsctatracking"
                | "xtor"
                | "at_medium"
                | "at_campaign"
                | "ncid"
                | "soc_src"
                | "soc_trk"
                | "guccounter"
                | "guce_referrer"
                | "guce_referrer_sig"
                | "__twitter_impression"
                | "s_kwcid"
                | "ef_id"
                | "wickedid"
                | "epik"
                | "spm"
        )
}

/// Normalises an http(s) URL: drops the fragment and tracking parameters.
/// Returns `None` for anything that is not an absolute http(s) URL.
pub fn normalize_url(raw: &str) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url.to_string())
}

/// Resolves a possibly relative link against the page's URL.
pub fn resolve(base: Option<&str>, link: &str) -> Option<String> {
    match base.and_then(|b| Url::parse(b).ok()) {
        Some(base) => base.join(link).ok().map(|u| u.to_string()),
        None => Url::parse(link).ok().map(|u| u.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Internationalised host names become their ASCII (punycode) form,
    /// case-folded and mapped as UTS 46 says, so the same page copied from
    /// the address bar or a link is one URL (and ureq can fetch it).
    #[test]
    fn internationalised_hosts_are_punycode() {
        assert_eq!(
            normalize_url("https://München.example/Straße?x=1").as_deref(),
            Some("https://xn--mnchen-3ya.example/Stra%C3%9Fe?x=1")
        );
        assert_eq!(
            normalize_url("https://xn--mnchen-3ya.example/a").as_deref(),
            Some("https://xn--mnchen-3ya.example/a")
        );
        assert_eq!(
            normalize_url("http://東京.example/").as_deref(),
            Some("http://xn--1lqs71d.example/")
        );
    }

    #[test]
    fn tracking_parameters_and_fragments_go() {
        assert_eq!(
            normalize_url("https://News.Example.com/a/b?utm_source=x&id=7&fbclid=abc#top")
                .as_deref(),
            Some("https://news.example.com/a/b?id=7")
        );
        assert_eq!(
            normalize_url("https://example.com/story?utm_medium=email").as_deref(),
            Some("https://example.com/story")
        );
    }

    #[test]
    fn social_and_mailing_trackers_go_and_real_parameters_stay() {
        assert_eq!(
            normalize_url(
                "https://n.example/s?ref_src=twsrc%5Etfw&mc_cid=1&mc_eid=2&igshid=3&gclid=4&p=2&utm_content=x&_hsenc=5&xtor=RSS-1"
            )
            .as_deref(),
            Some("https://n.example/s?p=2")
        );
        // Names that only look like trackers are kept.
        assert_eq!(
            normalize_url("https://n.example/s?ref=home&utmost=1").as_deref(),
            Some("https://n.example/s?ref=home&utmost=1")
        );
    }

    #[test]
    fn only_http_urls() {
        assert_eq!(normalize_url("ftp://example.com/x"), None);
        assert_eq!(normalize_url("not a url"), None);
    }

    #[test]
    fn relative_links_resolve() {
        assert_eq!(
            resolve(Some("https://example.com/news/a.html"), "/news/b").as_deref(),
            Some("https://example.com/news/b")
        );
    }
}
