//! Follow-ups as an iCalendar file (RFC 5545): one VTODO per follow-up
//! (`nj due --ics` gives the open ones, `nj export --format ics` all), which
//! calendar and task applications can import or subscribe to. A done one
//! is COMPLETED. Pure formatting: it takes follow-ups and returns text.

use crate::journal::{short_id, Followup};
use crate::time::Timestamp;

/// UTC in the iCalendar basic format: `20261201T090000Z`.
fn ics_time(t: Timestamp) -> String {
    t.to_datetime().format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newline.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes one content line, folded at 75 octets without splitting a
/// UTF-8 character, ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The calendar. `now` is the DTSTAMP: when this file was made.
pub fn to_ics(followups: &[Followup], now: Timestamp) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!(
            "PRODID:-//newsjournal//nj {}//EN",
            env!("CARGO_PKG_VERSION")
        ),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "X-WR-CALNAME:newsjournal follow-ups");
    for f in followups {
        line(&mut out, "BEGIN:VTODO");
        // Stable across exports, so a subscribed calendar updates the same
        // task instead of adding a new one.
        line(&mut out, &format!("UID:{}@newsjournal", f.id));
        line(&mut out, &format!("DTSTAMP:{}", ics_time(now)));
        line(&mut out, &format!("CREATED:{}", ics_time(f.created_at)));
        line(
            &mut out,
            &format!("LAST-MODIFIED:{}", ics_time(f.updated_at)),
        );
        line(&mut out, &format!("DUE:{}", ics_time(f.due_at)));
        line(&mut out, &format!("SUMMARY:{}", escape(&f.text)));
        let mut desc = Vec::new();
        match (&f.article_id, &f.article_title) {
            (Some(id), Some(title)) => {
                desc.push(format!("Article: {title}"));
                if let Some(url) = &f.article_url {
                    desc.push(format!("URL: {url}"));
                }
                desc.push(format!("nj show {}", short_id(id)));
            }
            _ if f.story.is_some() => {}
            _ => desc.push("A journal follow-up, on no article.".to_owned()),
        }
        if let Some(story) = &f.story {
            desc.push(format!("Story: {story} (nj story show {story})"));
        }
        if let Some(every) = &f.every {
            desc.push(format!("Repeats: due again {every} after it is done."));
        }
        desc.push(format!("nj done {}", short_id(&f.id)));
        line(
            &mut out,
            &format!("DESCRIPTION:{}", escape(&desc.join("\n"))),
        );
        if let Some(url) = &f.article_url {
            line(&mut out, &format!("URL:{url}"));
        }
        match (f.status, f.done_at) {
            (crate::journal::FollowupStatus::Done, Some(done)) => {
                line(&mut out, &format!("COMPLETED:{}", ics_time(done)));
                line(&mut out, "STATUS:COMPLETED");
            }
            _ => line(&mut out, "STATUS:NEEDS-ACTION"),
        }
        line(&mut out, "END:VTODO");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::FollowupStatus;

    fn followup(text: &str) -> Followup {
        Followup {
            id: "3fa9c1d2-0000-4000-8000-000000000001".into(),
            article_id: Some("e494a610-0000-4000-8000-000000000002".into()),
            article_title: Some("Bridge, contract; review".into()),
            article_url: Some("https://example.org/a?b=1".into()),
            text: text.into(),
            due_at: Timestamp(1_796_115_600_000),
            status: FollowupStatus::Open,
            every: None,
            done_at: None,
            created_at: Timestamp(1_795_000_000_000),
            updated_at: Timestamp(1_795_000_000_000),
            story_id: None,
            story: None,
        }
    }

    #[test]
    fn vtodo_fields_and_escaping() {
        let ics = to_ics(
            &[followup("check the ruling; then, write")],
            Timestamp(1_795_600_000_000),
        );
        assert!(
            ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{ics}"
        );
        assert!(
            ics.contains("\r\nUID:3fa9c1d2-0000-4000-8000-000000000001@newsjournal\r\n"),
            "{ics}"
        );
        assert!(ics.contains("\r\nDUE:20261201T090000Z\r\n"), "{ics}");
        assert!(
            ics.contains("\r\nSUMMARY:check the ruling\\; then\\, write\r\n"),
            "{ics}"
        );
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("\r\nDESCRIPTION:Article: Bridge\\, contract\\; review\\nURL: https://example.org/a?b=1\\nnj show e494a610\\nnj done 3fa9c1d2\r\n"),
            "{ics}"
        );
        assert!(ics.ends_with("END:VTODO\r\nEND:VCALENDAR\r\n"), "{ics}");
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_char_boundaries() {
        let ics = to_ics(&[followup(&"é".repeat(100))], Timestamp(0));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}\r\n", "é".repeat(100))));
    }
}
