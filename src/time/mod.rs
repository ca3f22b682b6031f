//! Time as the journal stores it, and the few human time forms the journal
//! commands read.
//!
//! Times are stored as integer milliseconds since the Unix epoch in UTC
//! ([`Timestamp`]), shown in local time, and written to JSON as RFC 3339 UTC.

use chrono::{
    DateTime, Datelike, Duration, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    SecondsFormat, TimeZone, Utc,
};
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

mod when;

pub(crate) use when::{is_month, weekday};
pub use when::{
    parse_time_of_day, parse_when, parse_when_at, parse_when_in, Interval, DEFAULT_TIME, WHEN_FORMS,
};

/// A moment in UTC, stored as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_datetime(dt: DateTime<Utc>) -> Timestamp {
        Timestamp(dt.timestamp_millis())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC, to the second: `2026-11-26T07:06:57Z`.
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// Local time for people: `2026-11-26 08:06`.
    pub fn local(self) -> String {
        self.to_datetime()
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Local date for people: `2026-11-26`.
    pub fn local_date(self) -> String {
        self.to_datetime()
            .with_timezone(&Local)
            .format("%Y-%m-%d")
            .to_string()
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(Timestamp)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// Where "now" comes from. Tests and scripts pin it with `NJ_NOW`
/// (RFC 3339) so output is reproducible; everyone else gets the real clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(at) }
    }

    /// The clock the `NJ_NOW` setting asks for (the command line reads
    /// it), or the system clock.
    pub fn from_setting(now: Option<&str>) -> Result<Clock> {
        match now {
            Some(s) if !s.trim().is_empty() => {
                let at = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
                    Error::BadInput(format!(
                        "NJ_NOW={s:?} is not an RFC 3339 time ({e}); use e.g. 2026-11-26T09:00:00Z or unset it"
                    ))
                })?;
                Ok(Clock::fixed(at.with_timezone(&Utc)))
            }
            _ => Ok(Clock::system()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    pub fn timestamp(&self) -> Timestamp {
        Timestamp::from_datetime(self.now())
    }
}

/// Reads a "since" moment for filters such as `nj list --since`: an absolute
/// date or time, or an amount of time before `now`.
///
/// Accepted: `2026-11-01`, `2026-11-01T09:30`, `2026-11-01 09:30`, RFC 3339,
/// `today`, `yesterday`, `7d`, `2w`, `3h`, `1mo`, `1y`, and the same with
/// words and an optional `ago` (`3 days ago`, `2 weeks`).
pub fn parse_since(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    parse_since_in(input, now, &Local)
}

fn parse_since_in<Tz: TimeZone>(input: &str, now: DateTime<Utc>, tz: &Tz) -> Result<DateTime<Utc>> {
    let s = input.trim().to_lowercase();
    let bad = || {
        Error::BadInput(format!(
            "cannot read the time {input:?}; use a date (2026-11-01), a date and time \
             (2026-11-01T09:30), today, yesterday, or an amount of time ago (7d, 2w, 3 days ago, 1mo)"
        ))
    };
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&s.to_uppercase()) {
        return Ok(dt.with_timezone(&Utc));
    }
    let local_midnight = |d: NaiveDate| local_to_utc(tz, d.and_time(NaiveTime::MIN));
    let today = now.with_timezone(tz).date_naive();
    match s.as_str() {
        "today" => return local_midnight(today).ok_or_else(bad),
        "yesterday" => return local_midnight(today - Duration::days(1)).ok_or_else(bad),
        _ => {}
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return local_midnight(d).ok_or_else(bad);
    }
    for fmt in [
        "%Y-%m-%dt%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dt%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(&s, fmt) {
            return local_to_utc(tz, dt).ok_or_else(bad);
        }
    }
    let span = s.strip_suffix("ago").unwrap_or(&s).trim();
    Interval::parse(span)
        .ok()
        .and_then(|i| i.before(now, tz))
        .ok_or_else(bad)
}

/// Reads an "until" moment, the end of a range: the forms of
/// [`parse_since`], where a whole day (`2026-11-30`, `today`, `yesterday`)
/// means the end of that day, so `--until 2026-11-30` includes the 30th.
pub fn parse_until(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    parse_until_in(input, now, &Local)
}

fn parse_until_in<Tz: TimeZone>(input: &str, now: DateTime<Utc>, tz: &Tz) -> Result<DateTime<Utc>> {
    let start = parse_since_in(input, now, tz)?;
    let s = input.trim().to_lowercase();
    let whole_day = matches!(s.as_str(), "today" | "yesterday")
        || NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok();
    if !whole_day {
        return Ok(start);
    }
    let next = start.with_timezone(tz).date_naive() + Duration::days(1);
    local_to_utc(tz, next.and_time(NaiveTime::MIN))
        .ok_or_else(|| Error::BadInput(format!("cannot read the time {input:?}")))
}

/// The UTC moment of a local wall-clock time. A time that falls in a
/// daylight-saving gap moves forward to the first valid moment; an ambiguous
/// one takes the earlier reading.
pub(crate) fn local_to_utc<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        // Not `a`: chrono's `Local` gives the two readings latest first.
        LocalResult::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => {
            let later = naive + Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

/// Parses the publication time a page declares, in whatever form it used,
/// to UTC. Returns `None` for anything unreadable: a missing date is better
/// than a wrong one.
pub fn parse_published(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::from_datetime(dt.with_timezone(&Utc)));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(Timestamp::from_datetime(dt.with_timezone(&Utc)));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(Timestamp::from_datetime(dt.with_timezone(&Utc)));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Timestamp::from_datetime(dt.and_utc()));
        }
    }
    let date_part = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .ok()
        .filter(|d| d.year() > 1900)
        .map(|d| Timestamp::from_datetime(d.and_time(NaiveTime::MIN).and_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 7, 30, 0).unwrap()
    }

    fn since(s: &str) -> String {
        let tz = FixedOffset::east_opt(3600).unwrap();
        parse_since_in(s, now(), &tz)
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(since("2026-11-01"), "2026-10-31T23:00:00Z");
        assert_eq!(since("2026-11-01T09:30"), "2026-11-01T08:30:00Z");
        assert_eq!(since("2026-11-01 09:30"), "2026-11-01T08:30:00Z");
        assert_eq!(since("2026-11-01T09:30:00Z"), "2026-11-01T09:30:00Z");
        assert_eq!(since("today"), "2026-11-25T23:00:00Z");
        assert_eq!(since("Yesterday"), "2026-11-24T23:00:00Z");
    }

    #[test]
    fn relative_forms() {
        assert_eq!(since("7d"), "2026-11-19T07:30:00Z");
        assert_eq!(since("3 days ago"), "2026-11-23T07:30:00Z");
        assert_eq!(since("2w"), "2026-11-12T07:30:00Z");
        assert_eq!(since("2 weeks"), "2026-11-12T07:30:00Z");
        assert_eq!(since("1mo"), "2026-10-26T07:30:00Z");
        assert_eq!(since("1y"), "2025-11-26T07:30:00Z");
        assert_eq!(since("12h"), "2026-11-25T19:30:00Z");
    }

    #[test]
    fn huge_amounts_are_errors_not_panics() {
        assert!(since("200000000d").starts_with("error:"));
        assert!(since("99999999999999y").starts_with("error:"));
    }

    #[test]
    fn unreadable_times_list_the_forms() {
        let e = since("last blue moon");
        assert!(
            e.starts_with("error: cannot read the time \"last blue moon\""),
            "{e}"
        );
        assert!(e.contains("3 days ago"), "{e}");
        assert!(since("").starts_with("error:"));
        assert!(since("7 fortnights").starts_with("error:"));
    }

    #[test]
    fn published_forms() {
        let f = |s| parse_published(s).map(|t| t.rfc3339());
        assert_eq!(
            f("2026-03-04T10:00:00+02:00").as_deref(),
            Some("2026-03-04T08:00:00Z")
        );
        assert_eq!(
            f("Wed, 04 Mar 2026 10:00:00 GMT").as_deref(),
            Some("2026-03-04T10:00:00Z")
        );
        assert_eq!(
            f("2026-03-04T10:00:00.123+0000").as_deref(),
            Some("2026-03-04T10:00:00Z")
        );
        assert_eq!(f("2026-03-04").as_deref(), Some("2026-03-04T00:00:00Z"));
        assert_eq!(f("last tuesday"), None);
    }
}
