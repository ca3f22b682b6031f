//! WHEN: due times written the way people say them, and intervals
//! (`7d`, `1w`, `1mo`) for `--within` and `--every`.
//!
//! The rules, all in local time:
//! - a date without a time means 09:00;
//! - a weekday (`friday`, `next friday`) is the next such day after today,
//!   never today or a past day; `last friday` is the latest such day
//!   before today, never today;
//! - `yesterday`, `3 days ago`, `2 weeks ago` are those past days (09:00),
//!   `3 hours ago` that exact moment: a past moment stays in the past;
//! - a month and day without a year (`dec 3`) is the next such date;
//! - `end of week` is the coming Friday, `end of month` the month's last day;
//! - `in 3 hours` is exact; `in 3 days` is a date, so 09:00 on that day;
//! - a wall-clock time that a daylight-saving change skips moves to the
//!   first moment after the gap.
//!
//! Month names and other written dates are read with the interim crate;
//! everything whose meaning people disagree on is decided here.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};

use super::local_to_utc;
use crate::error::{Error, Result};

/// The forms WHEN accepts, for error messages and help.
pub const WHEN_FORMS: &str = "2026-12-01, 2026-12-01T09:00, today, tomorrow, tomorrow 9am, \
9am tomorrow, yesterday, friday, next monday, last friday, friday 3pm, in 3 days, in 2 weeks, \
2 weeks, in 3 hours, 3 days ago, dec 3, 3 december 2027, end of week, end of month";

/// A length of time that keeps its unit: days and months are counted on
/// the calendar (so "1mo" from Jan 31 is Feb 28), minutes on the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Minutes(i64),
    Days(i64),
    Months(i64),
}

impl Interval {
    /// Reads `7d`, `1w`, `2 weeks`, `1mo`, `1 month`, `1y`, `12h`, `30min`,
    /// `daily`, `weekly`, `monthly`, `yearly`.
    pub fn parse(input: &str) -> Result<Interval> {
        let s = input.trim().to_lowercase();
        let bad = || {
            Error::BadInput(format!(
                "cannot read the interval {input:?}; use e.g. 3d, 1w, 2 weeks, 1mo, 1y or 12h"
            ))
        };
        let named = match s.as_str() {
            "daily" => Some(Interval::Days(1)),
            "weekly" => Some(Interval::Days(7)),
            "monthly" => Some(Interval::Months(1)),
            "yearly" | "annually" => Some(Interval::Months(12)),
            _ => None,
        };
        if let Some(i) = named {
            return Ok(i);
        }
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let n: i64 = s[..digits].parse().map_err(|_| bad())?;
        if n <= 0 || n > 100_000 {
            return Err(bad());
        }
        Ok(match s[digits..].trim() {
            "m" | "min" | "mins" | "minute" | "minutes" => Interval::Minutes(n),
            "h" | "hr" | "hrs" | "hour" | "hours" => Interval::Minutes(n * 60),
            "d" | "day" | "days" => Interval::Days(n),
            "w" | "wk" | "wks" | "week" | "weeks" => Interval::Days(n * 7),
            "mo" | "mon" | "month" | "months" => Interval::Months(n),
            "y" | "yr" | "yrs" | "year" | "years" => Interval::Months(n * 12),
            _ => return Err(bad()),
        })
    }

    /// `at` moved by this interval, on the local calendar and clock of `tz`.
    pub fn after<Tz: TimeZone>(self, at: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(tz).naive_local();
        let moved = match self {
            Interval::Minutes(m) => return at.checked_add_signed(Duration::minutes(m)),
            Interval::Days(d) => local.checked_add_days(Days::new(u64::try_from(d).ok()?))?,
            Interval::Months(m) => local.checked_add_months(Months::new(u32::try_from(m).ok()?))?,
        };
        local_to_utc(tz, moved)
    }
}

impl Interval {
    /// This interval `k` times over (`1w` three times is `21d`), or `None`
    /// past the integers.
    pub fn times(self, k: i64) -> Option<Interval> {
        Some(match self {
            Interval::Minutes(m) => Interval::Minutes(m.checked_mul(k)?),
            Interval::Days(d) => Interval::Days(d.checked_mul(k)?),
            Interval::Months(m) => Interval::Months(m.checked_mul(k)?),
        })
    }

    /// `at` moved back by this interval, on the local calendar and clock of `tz`.
    pub fn before<Tz: TimeZone>(self, at: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(tz).naive_local();
        let moved = match self {
            Interval::Minutes(m) => return at.checked_sub_signed(Duration::try_minutes(m)?),
            Interval::Days(d) => local.checked_sub_days(Days::new(u64::try_from(d).ok()?))?,
            Interval::Months(m) => local.checked_sub_months(Months::new(u32::try_from(m).ok()?))?,
        };
        local_to_utc(tz, moved)
    }
}

impl fmt::Display for Interval {
    /// The canonical form, which [`Interval::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Interval::Minutes(m) if m % 60 == 0 => write!(f, "{}h", m / 60),
            Interval::Minutes(m) => write!(f, "{m}min"),
            Interval::Days(d) if d % 7 == 0 => write!(f, "{}w", d / 7),
            Interval::Days(d) => write!(f, "{d}d"),
            Interval::Months(m) if m % 12 == 0 => write!(f, "{}y", m / 12),
            Interval::Months(m) => write!(f, "{m}mo"),
        }
    }
}

/// Reads a WHEN in the local time zone.
pub fn parse_when(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    parse_when_in(input, now, &chrono::Local)
}

/// Reads a WHEN relative to `now` in `tz`.
pub fn parse_when_in<Tz: TimeZone>(
    input: &str,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<DateTime<Utc>> {
    parse_when_at(input, now, tz, DEFAULT_TIME)
}

/// The time of day a WHEN without one means, unless the config says
/// otherwise.
pub const DEFAULT_TIME: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(t) => t,
    None => panic!("09:00 is a time"),
};

/// Reads a WHEN relative to `now` in `tz`, where a day without a time of
/// day means `day_time` (the config's `follow_up_time`; 09:00 otherwise).
pub fn parse_when_at<Tz: TimeZone>(
    input: &str,
    now: DateTime<Utc>,
    tz: &Tz,
    day_time: NaiveTime,
) -> Result<DateTime<Utc>> {
    let bad = || {
        Error::BadInput(format!(
            "cannot read the time {input:?}; write it like one of: {WHEN_FORMS}"
        ))
    };
    let s = input
        .trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&s.to_uppercase()) {
        return Ok(dt.with_timezone(&Utc));
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
    let local_now = now.with_timezone(tz).naive_local();
    let today = local_now.date();

    let (time, rest) = split_time(&s).ok_or_else(bad)?;
    let rest = rest.strip_prefix("in ").unwrap_or(&rest).trim().to_owned();
    let at = |date: NaiveDate| local_to_utc(tz, date.and_time(time.unwrap_or(day_time)));

    // A bare time: today, or tomorrow once it has passed.
    if rest.is_empty() {
        let t = time.ok_or_else(bad)?;
        let d = if today.and_time(t) > local_now {
            today
        } else {
            today + Days::new(1)
        };
        return at(d).ok_or_else(bad);
    }
    match rest.as_str() {
        "today" => return at(today).ok_or_else(bad),
        "tomorrow" => return at(today + Days::new(1)).ok_or_else(bad),
        "yesterday" => return at(today - Days::new(1)).ok_or_else(bad),
        "end of week" | "end of the week" | "eow" => {
            // The coming Friday; next week's once this one has passed.
            let mut d = next_weekday_from(today, Weekday::Fri, true);
            if d.and_time(time.unwrap_or(day_time)) <= local_now {
                d = d + Days::new(7);
            }
            return at(d).ok_or_else(bad);
        }
        "end of month" | "end of the month" | "eom" => {
            let mut d = last_day_of_month(today).ok_or_else(bad)?;
            if d.and_time(time.unwrap_or(day_time)) <= local_now {
                d = last_day_of_month(d + Days::new(1)).ok_or_else(bad)?;
            }
            return at(d).ok_or_else(bad);
        }
        _ => {}
    }
    if let Some(day) = weekday(rest.strip_prefix("next ").unwrap_or(&rest)) {
        return at(next_weekday_from(today, day, false)).ok_or_else(bad);
    }
    if let Some(day) = rest.strip_prefix("last ").and_then(weekday) {
        return at(last_weekday_before(today, day)).ok_or_else(bad);
    }
    // An amount of time from now: "in 3 days" (the "in" is gone by now),
    // or back from now, "3 days ago". Minutes and hours are exact; days
    // and months land on a day, at its time.
    let shifted = |interval: Interval, forward: bool| -> Result<DateTime<Utc>> {
        let moved = |at: DateTime<Utc>| {
            if forward {
                interval.after(at, tz)
            } else {
                interval.before(at, tz)
            }
        };
        match interval {
            Interval::Minutes(_) if time.is_some() => Err(bad()),
            Interval::Minutes(_) => moved(now).ok_or_else(bad),
            Interval::Days(_) | Interval::Months(_) => {
                let day = moved(now).ok_or_else(bad)?;
                at(day.with_timezone(tz).date_naive()).ok_or_else(bad)
            }
        }
    };
    if let Some(amount) = rest.strip_suffix(" ago") {
        return shifted(Interval::parse(amount).map_err(|_| bad())?, false);
    }
    if let Ok(d) = NaiveDate::parse_from_str(&rest, "%Y-%m-%d") {
        return at(d).ok_or_else(bad);
    }
    if let Ok(interval) = Interval::parse(&rest) {
        return shifted(interval, true);
    }
    // Written dates ("dec 3", "3 december 2027", "april 1, 2027"), read by
    // interim at local midnight. Without a year, a date that has passed
    // this year means next year's. Only a date that names a month or is
    // written with slashes rolls: whatever else interim reads ("last
    // week") means what it says, past or not.
    let rolls = names_month(&rest) || rest.contains('/');
    let base = now.with_timezone(tz);
    // interim wants a comma in "nov 1, 2027"; people often leave it out.
    let words: Vec<&str> = rest.split(' ').collect();
    let rest = match words.as_slice() {
        [m, d, y]
            if m.chars().all(char::is_alphabetic)
                && y.len() == 4
                && y.parse::<u32>().is_ok()
                && !d.ends_with(',') =>
        {
            format!("{m} {d}, {y}")
        }
        _ => rest,
    };
    // interim reads the word after a number ("3pm") into a 16-byte buffer
    // and panics on a longer one (found by fuzzing: "w3sddaaaaaaaaaaaaw");
    // no word of a date is half that long.
    if rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|word| word.len() >= 16)
    {
        return Err(bad());
    }
    let parsed =
        interim::parse_date_string(&rest, base, interim::Dialect::Us).map_err(|_| bad())?;
    let mut d = parsed.date_naive();
    let has_year = rest
        .split(|c: char| !c.is_ascii_digit())
        .any(|n| n.len() == 4);
    if rolls && !has_year && d.and_time(time.unwrap_or(day_time)) <= local_now {
        d = d.with_year(d.year() + 1).ok_or_else(bad)?;
    }
    at(d).ok_or_else(bad)
}

/// Takes one time of day out of the phrase: `9am`, `9 am`, `9:30pm`,
/// `17:30`, `noon`, `midnight`, with an optional `at` before it. Returns
/// `None` for a phrase with two times.
fn split_time(s: &str) -> Option<(Option<NaiveTime>, String)> {
    let words: Vec<&str> = s.split(' ').collect();
    let mut time = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied();
        let (t, used) = match (parse_clock(w), next) {
            (Some(t), _) => (Some(t), 1),
            (None, Some(ap @ ("am" | "pm"))) => (parse_clock(&format!("{w}{ap}")), 2),
            _ => (None, 1),
        };
        match t {
            Some(t) => {
                if time.is_some() {
                    return None;
                }
                time = Some(t);
                // "at 9am": the "at" goes with the time.
                if rest.last() == Some(&"at") {
                    rest.pop();
                }
                i += used;
            }
            // Something shaped like a clock that is not a valid time
            // ("25:00", "13pm") is a mistake, not a date.
            None if looks_like_clock(w) => return None,
            None => {
                rest.push(w);
                i += 1;
            }
        }
    }
    Some((time, rest.join(" ")))
}

fn looks_like_clock(w: &str) -> bool {
    let body = w.trim_end_matches("am").trim_end_matches("pm");
    body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| c.is_ascii_digit() || c == ':')
        && (w.contains(':') || body.len() < w.len())
}

/// A time of day on its own, as WHEN reads one: `09:00`, `17:30`, `8am`,
/// `5:30pm`, `noon`, `midnight` (spaces ignored: `8 am`).
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    parse_clock(&s.trim().to_lowercase().replace(' ', ""))
}

fn parse_clock(w: &str) -> Option<NaiveTime> {
    match w {
        "noon" | "midday" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let (body, pm) = if let Some(b) = w.strip_suffix("am") {
        (b, Some(false))
    } else if let Some(b) = w.strip_suffix("pm") {
        (b, Some(true))
    } else {
        (w, None)
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if pm.is_some() => (body.parse::<u32>().ok()?, 0),
        _ => return None,
    };
    if h.to_string().len() > 2 || m > 59 {
        return None;
    }
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

pub(crate) fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// Whether a phrase names a month ("dec", "December"), as the written
/// dates interim reads do.
fn names_month(s: &str) -> bool {
    s.split(|c: char| !c.is_alphabetic()).any(is_month)
}

/// Whether a lower-case word is a month's name or its start of three
/// letters or more ("dec", "sept", "december").
pub(crate) fn is_month(w: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    w.len() >= 3 && MONTHS.iter().any(|m| m.starts_with(w))
}

/// The latest `day` strictly before `from`.
fn last_weekday_before(from: NaiveDate, day: Weekday) -> NaiveDate {
    let back =
        (7 + from.weekday().num_days_from_monday() as i64 - day.num_days_from_monday() as i64) % 7;
    let back = if back == 0 { 7 } else { back };
    from - Days::new(back as u64)
}

/// The next `day` after `from` (or on `from` itself when `inclusive`).
fn next_weekday_from(from: NaiveDate, day: Weekday, inclusive: bool) -> NaiveDate {
    let ahead =
        (7 + day.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    let ahead = if ahead == 0 && !inclusive { 7 } else { ahead };
    from + Days::new(ahead as u64)
}

fn last_day_of_month(d: NaiveDate) -> Option<NaiveDate> {
    let first_of_next =
        NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.checked_add_months(Months::new(1))?;
    first_of_next.pred_opt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, SecondsFormat};

    /// Friday 2026-11-27 10:00 at UTC+1 (09:00 UTC).
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
    }

    /// Found by the `when` fuzz target (fuzz/regressions/when/): interim
    /// panicked on a word of 16 letters after a number.
    #[test]
    fn regression_a_long_word_after_a_number_panicked() {
        for input in [
            "W3sDDAAAAAAAAAAAAw",
            "3sddaaaaaaaaaaaaw",
            "fri 5pmmmmmmmmmmmmmmmm",
        ] {
            let err = parse_when_in(input, now(), &Utc).unwrap_err();
            assert!(err.to_string().starts_with("cannot read the time"), "{err}");
        }
        // A short word after a number is still read.
        assert!(parse_when_in("fri 5pm", now(), &Utc).is_ok());
    }

    fn when_at(s: &str, now: DateTime<Utc>) -> String {
        let tz = FixedOffset::east_opt(3600).unwrap();
        match parse_when_in(s, now, &tz) {
            Ok(d) => d.with_timezone(&tz).format("%Y-%m-%d %H:%M %a").to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    fn when(s: &str) -> String {
        when_at(s, now())
    }

    #[test]
    fn iso_forms() {
        assert_eq!(when("2026-12-01"), "2026-12-01 09:00 Tue");
        assert_eq!(when("2026-12-01T14:30"), "2026-12-01 14:30 Tue");
        assert_eq!(when("2026-12-01 14:30"), "2026-12-01 14:30 Tue");
        let tz = FixedOffset::east_opt(3600).unwrap();
        let exact = parse_when_in("2026-12-01T09:00:00Z", now(), &tz).unwrap();
        assert_eq!(
            exact.to_rfc3339_opts(SecondsFormat::Secs, true),
            "2026-12-01T09:00:00Z"
        );
    }

    #[test]
    fn days_and_times() {
        assert_eq!(when("today"), "2026-11-27 09:00 Fri");
        assert_eq!(when("tomorrow"), "2026-11-28 09:00 Sat");
        assert_eq!(when("tomorrow 9am"), "2026-11-28 09:00 Sat");
        assert_eq!(when("9am tomorrow"), "2026-11-28 09:00 Sat");
        assert_eq!(when("tomorrow at 5:30pm"), "2026-11-28 17:30 Sat");
        assert_eq!(when("tomorrow 17:30"), "2026-11-28 17:30 Sat");
        assert_eq!(when("3 pm"), "2026-11-27 15:00 Fri");
        // 9am has passed (it is 10:00 local): the next 9am.
        assert_eq!(when("9am"), "2026-11-28 09:00 Sat");
        assert_eq!(when("noon"), "2026-11-27 12:00 Fri");
        assert_eq!(when("12am tomorrow"), "2026-11-28 00:00 Sat");
    }

    #[test]
    fn weekdays_are_never_today_or_past() {
        assert_eq!(when("friday"), "2026-12-04 09:00 Fri");
        assert_eq!(when("fri 3pm"), "2026-12-04 15:00 Fri");
        assert_eq!(when("saturday"), "2026-11-28 09:00 Sat");
        assert_eq!(when("monday"), "2026-11-30 09:00 Mon");
        assert_eq!(when("next monday"), "2026-11-30 09:00 Mon");
        assert_eq!(when("thursday"), "2026-12-03 09:00 Thu");
    }

    /// Issue 16: on Mon 2026-12-07 past forms jumped a year ahead.
    #[test]
    fn past_dates_stay_in_the_past() {
        // Monday 2026-12-07 10:00 at UTC+1.
        let mon = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        assert_eq!(when_at("yesterday", mon), "2026-12-06 09:00 Sun");
        assert_eq!(when_at("yesterday 5pm", mon), "2026-12-06 17:00 Sun");
        assert_eq!(when_at("last friday", mon), "2026-12-04 09:00 Fri");
        assert_eq!(when_at("last sunday", mon), "2026-12-06 09:00 Sun");
        assert_eq!(when_at("last monday", mon), "2026-11-30 09:00 Mon");
        assert_eq!(when_at("last tue 3pm", mon), "2026-12-01 15:00 Tue");
        assert_eq!(when_at("3 days ago", mon), "2026-12-04 09:00 Fri");
        assert_eq!(when_at("2 weeks ago", mon), "2026-11-23 09:00 Mon");
        assert_eq!(when_at("3 hours ago", mon), "2026-12-07 07:00 Mon");
        assert_eq!(when_at("2020-01-01", mon), "2020-01-01 09:00 Wed");
        // A written date that has passed this year still means next year's.
        assert_eq!(when_at("dec 6", mon), "2027-12-06 09:00 Mon");
        assert_eq!(when_at("sept 1", mon), "2027-09-01 09:00 Wed");
    }

    #[test]
    fn relative_amounts() {
        assert_eq!(when("in 3 days"), "2026-11-30 09:00 Mon");
        assert_eq!(when("in 2 weeks"), "2026-12-11 09:00 Fri");
        assert_eq!(when("2 weeks"), "2026-12-11 09:00 Fri");
        assert_eq!(when("3 weeks 2pm"), "2026-12-18 14:00 Fri");
        assert_eq!(when("in 1 month"), "2026-12-27 09:00 Sun");
        assert_eq!(when("in 3 hours"), "2026-11-27 13:00 Fri");
        assert_eq!(when("90 minutes"), "2026-11-27 11:30 Fri");
    }

    #[test]
    fn written_dates_roll_to_next_year() {
        assert_eq!(when("dec 3"), "2026-12-03 09:00 Thu");
        assert_eq!(when("december 3 4pm"), "2026-12-03 16:00 Thu");
        assert_eq!(when("nov 1"), "2027-11-01 09:00 Mon");
        assert_eq!(when("3 december 2027"), "2027-12-03 09:00 Fri");
        assert_eq!(when("nov 1 2026"), "2026-11-01 09:00 Sun");
    }

    #[test]
    fn end_of_week_and_month() {
        // It is Friday 10:00: this week's 09:00 has passed.
        assert_eq!(when("end of week"), "2026-12-04 09:00 Fri");
        assert_eq!(when("end of month"), "2026-11-30 09:00 Mon");
        let wed = Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap();
        assert_eq!(when_at("end of week", wed), "2026-11-27 09:00 Fri");
        // On the last day of the month, after 09:00: next month's last day.
        let last = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        assert_eq!(when_at("end of month", last), "2026-12-31 09:00 Thu");
        assert_eq!(when_at("end of month 5pm", last), "2026-11-30 17:00 Mon");
    }

    #[test]
    fn month_and_year_ends() {
        let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 7, 0, 0).unwrap();
        assert_eq!(when_at("in 1 month", jan31), "2027-02-28 09:00 Sun");
        assert_eq!(when_at("tomorrow", jan31), "2027-02-01 09:00 Mon");
        assert_eq!(when_at("end of month", jan31), "2027-01-31 09:00 Sun");
        let dec31 = Utc.with_ymd_and_hms(2026, 12, 31, 20, 0, 0).unwrap();
        assert_eq!(when_at("tomorrow", dec31), "2027-01-01 09:00 Fri");
        assert_eq!(when_at("friday", dec31), "2027-01-01 09:00 Fri");
        assert_eq!(when_at("end of month", dec31), "2027-01-31 09:00 Sun");
        assert_eq!(when_at("jan 2", dec31), "2027-01-02 09:00 Sat");
        assert_eq!(when_at("dec 31", dec31), "2027-12-31 09:00 Fri");
    }

    #[test]
    fn unreadable_whens_list_the_forms() {
        for bad in [
            "",
            "someday",
            "tomorrow 9am 10am",
            "25:00",
            "13pm",
            "in 3 hours 9am",
            "blue moon",
        ] {
            let e = when(bad);
            assert!(e.starts_with("error: cannot read the time"), "{bad:?}: {e}");
            assert!(e.contains("end of month"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn intervals() {
        assert_eq!(Interval::parse("1w").unwrap(), Interval::Days(7));
        assert_eq!(Interval::parse("2 weeks").unwrap(), Interval::Days(14));
        assert_eq!(Interval::parse("1mo").unwrap(), Interval::Months(1));
        assert_eq!(Interval::parse("monthly").unwrap(), Interval::Months(1));
        assert_eq!(Interval::parse("12h").unwrap(), Interval::Minutes(720));
        assert!(Interval::parse("0d").is_err());
        assert!(Interval::parse("soon").is_err());
        for s in ["1w", "3d", "1mo", "1y", "12h", "90min"] {
            assert_eq!(Interval::parse(s).unwrap().to_string(), s);
        }
        let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 9, 0, 0).unwrap();
        assert_eq!(
            Interval::Months(1)
                .after(jan31, &Utc)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            "2027-02-28T09:00:00Z"
        );
    }
}
