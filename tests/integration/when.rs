//! WHEN through the binary, in real time zones (TZ=America/New_York and
//! TZ=Europe/Berlin): each form's due time in UTC (`due_at` in --json), the
//! local time people see, daylight-saving changes, month and year ends, and
//! the error for a WHEN that cannot be read.

use serde_json::json;

use crate::util::{assert_refused, id_of, short, Env};

/// What an unreadable WHEN's message lists.
pub const WHEN_FORMS: &str = "2026-12-01, 2026-12-01T09:00, today, tomorrow, tomorrow 9am, \
9am tomorrow, yesterday, friday, next monday, last friday, friday 3pm, in 3 days, in 2 weeks, \
2 weeks, in 3 hours, 3 days ago, dec 3, 3 december 2027, end of week, end of month";

/// The UTC due time of a free-standing follow-up due `when`, read in `tz`
/// at `now`.
fn due_at(tz: &str, now: &str, when: &str) -> String {
    let env = Env::new();
    env.set_tz(tz);
    env.set_now(now);
    let v = env.follow_up(&["check", "--due", when]);
    v["due_at"].as_str().unwrap().to_owned()
}

/// Checks each `(WHEN, UTC due time)` in one journal, so a failure names
/// every form that is off.
#[track_caller]
fn assert_forms(tz: &str, now: &str, cases: &[(&str, &str)]) {
    let env = Env::new();
    env.set_tz(tz);
    env.set_now(now);
    let mut wrong = Vec::new();
    for (when, want) in cases {
        let v = env.follow_up(&["check", "--due", when]);
        if v["due_at"] != *want {
            wrong.push(format!("{when:?}: got {}, want {want}", v["due_at"]));
        }
    }
    assert!(
        wrong.is_empty(),
        "TZ={tz} NJ_NOW={now}\n{}",
        wrong.join("\n")
    );
}

#[test]
fn forms_in_new_york() {
    // Friday 2026-11-27, 10:00 EST (UTC-5).
    assert_forms(
        "America/New_York",
        "2026-11-27T15:00:00Z",
        &[
            ("2026-12-01", "2026-12-01T14:00:00Z"),
            ("2026-12-01T14:30", "2026-12-01T19:30:00Z"),
            ("2026-12-01 14:30", "2026-12-01T19:30:00Z"),
            ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"),
            ("today", "2026-11-27T14:00:00Z"),
            ("tomorrow", "2026-11-28T14:00:00Z"),
            ("tomorrow 9am", "2026-11-28T14:00:00Z"),
            ("9am tomorrow", "2026-11-28T14:00:00Z"),
            ("Tomorrow at 5:30pm", "2026-11-28T22:30:00Z"),
            // Today is Friday: "friday" is next week's.
            ("friday", "2026-12-04T14:00:00Z"),
            ("friday 3pm", "2026-12-04T20:00:00Z"),
            ("next monday", "2026-11-30T14:00:00Z"),
            ("monday", "2026-11-30T14:00:00Z"),
            ("in 3 days", "2026-11-30T14:00:00Z"),
            ("in 2 weeks", "2026-12-11T14:00:00Z"),
            ("2 weeks", "2026-12-11T14:00:00Z"),
            ("in 3 hours", "2026-11-27T18:00:00Z"),
            ("dec 3", "2026-12-03T14:00:00Z"),
            // November 1 has passed: next year's, on EDT again.
            ("nov 1", "2027-11-01T13:00:00Z"),
            ("3 december 2027", "2027-12-03T14:00:00Z"),
            ("end of month", "2026-11-30T14:00:00Z"),
            // This Friday's 09:00 has passed: next Friday.
            ("end of week", "2026-12-04T14:00:00Z"),
        ],
    );
}

#[test]
fn forms_in_berlin() {
    // Friday 2026-11-27, 16:00 CET (UTC+1).
    assert_forms(
        "Europe/Berlin",
        "2026-11-27T15:00:00Z",
        &[
            ("2026-12-01", "2026-12-01T08:00:00Z"),
            ("2026-12-01T14:30", "2026-12-01T13:30:00Z"),
            ("tomorrow", "2026-11-28T08:00:00Z"),
            ("tomorrow 9am", "2026-11-28T08:00:00Z"),
            ("9am tomorrow", "2026-11-28T08:00:00Z"),
            ("friday", "2026-12-04T08:00:00Z"),
            ("next monday", "2026-11-30T08:00:00Z"),
            ("in 3 days", "2026-11-30T08:00:00Z"),
            ("in 2 weeks", "2026-12-11T08:00:00Z"),
            ("2 weeks", "2026-12-11T08:00:00Z"),
            ("in 3 hours", "2026-11-27T18:00:00Z"),
            ("dec 3", "2026-12-03T08:00:00Z"),
            ("end of month", "2026-11-30T08:00:00Z"),
            ("end of week", "2026-12-04T08:00:00Z"),
        ],
    );
}

#[test]
fn friday_morning_friday_is_still_next_week_but_end_of_week_is_today() {
    // Friday 2026-11-27, 07:00 EST: 09:00 today is still ahead.
    assert_forms(
        "America/New_York",
        "2026-11-27T12:00:00Z",
        &[
            ("friday", "2026-12-04T14:00:00Z"),
            ("next friday", "2026-12-04T14:00:00Z"),
            ("end of week", "2026-11-27T14:00:00Z"),
            ("today", "2026-11-27T14:00:00Z"),
            ("9am", "2026-11-27T14:00:00Z"),
        ],
    );
}

#[test]
fn the_date_is_the_local_one_not_the_utc_one() {
    // 2026-11-28 02:00 UTC is still Friday 21:00 in New York, and already
    // Saturday 03:00 in Berlin.
    assert_eq!(
        due_at("America/New_York", "2026-11-28T02:00:00Z", "tomorrow"),
        "2026-11-28T14:00:00Z"
    );
    assert_eq!(
        due_at("Europe/Berlin", "2026-11-28T02:00:00Z", "tomorrow"),
        "2026-11-29T08:00:00Z"
    );
}

#[test]
fn stored_in_utc_and_shown_in_local_time() {
    let env = Env::new();
    env.set_tz("America/New_York");
    env.set_now("2026-11-27T15:00:00Z");
    let v = env.follow_up(&["call the clerk", "--due", "2026-12-01"]);
    let f = id_of(&v);
    assert_eq!(v["due_at"], "2026-12-01T14:00:00Z");
    let out = env.nj(&["follow-ups"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS     FOLLOW-UP       ARTICLE\n\
             {}  2026-12-01 09:00  in 3d 23h  call the clerk  -\n",
            short(&f)
        )
    );
    // The same journal read in Berlin shows Berlin's clock.
    env.set_tz("Europe/Berlin");
    let out = env.nj(&["follow-ups"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ID        DUE               STATUS     FOLLOW-UP       ARTICLE\n\
             {}  2026-12-01 15:00  in 3d 23h  call the clerk  -\n",
            short(&f)
        )
    );
    let out = env.nj(&["snooze", &f, "2026-12-02T10:00"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "snoozed follow-up {}: call the clerk (due Wed 2026-12-02 10:00)\n",
            short(&f)
        )
    );
    assert_eq!(
        env.followups_json()[0]["due_at"],
        json!("2026-12-02T09:00:00Z")
    );
}

#[test]
fn spring_forward_in_new_york() {
    // Saturday 2026-03-07 10:00 EST; EDT begins at 02:00 on Sunday March 8.
    let env = Env::new();
    env.set_tz("America/New_York");
    env.set_now("2026-03-07T15:00:00Z");
    let v = env.follow_up(&["check", "--due", "tomorrow"]);
    assert_eq!(v["due_at"], "2026-03-08T13:00:00Z");
    let out = env.nj(&["follow-ups"]).success();
    assert_eq!(
        out.stdout,
        format!(
            // 22 hours, not 23: the night is an hour short.
            "ID        DUE               STATUS  FOLLOW-UP  ARTICLE\n\
             {}  2026-03-08 09:00  in 22h  check      -\n",
            short(&id_of(&v))
        )
    );
    assert_forms(
        "America/New_York",
        "2026-03-07T15:00:00Z",
        &[
            ("in 1 week", "2026-03-14T13:00:00Z"),
            // 02:30 does not exist that night: the first moment after the gap.
            ("tomorrow 2:30am", "2026-03-08T07:30:00Z"),
            ("tomorrow 1:30am", "2026-03-08T06:30:00Z"),
        ],
    );
    // Hours are exact: 01:00 EST plus 3 hours is 05:00 EDT.
    assert_eq!(
        due_at("America/New_York", "2026-03-08T06:00:00Z", "in 3 hours"),
        "2026-03-08T09:00:00Z"
    );
}

#[test]
fn fall_back_in_new_york() {
    // Saturday 2026-10-31 11:00 EDT; EST begins at 02:00 on Sunday November 1.
    assert_forms(
        "America/New_York",
        "2026-10-31T15:00:00Z",
        &[
            ("tomorrow", "2026-11-01T14:00:00Z"),
            ("in 1 week", "2026-11-07T14:00:00Z"),
            ("tomorrow 3am", "2026-11-01T08:00:00Z"),
        ],
    );
}

#[test]
fn fall_back_ambiguous_hour_takes_the_earlier_reading() {
    // 01:30 on November 1 happens twice in New York (EDT, then EST), and
    // 02:30 on October 25 twice in Berlin (CEST, then CET). The rule
    // (src/time/mod.rs, local_to_utc) is the earlier reading. Regression:
    // chrono's `Local` lists the two readings latest first (chrono issue
    // #1625), so taking the first one gave the later reading.
    assert_eq!(
        due_at(
            "America/New_York",
            "2026-10-31T15:00:00Z",
            "tomorrow 1:30am"
        ),
        "2026-11-01T05:30:00Z"
    );
    assert_eq!(
        due_at("Europe/Berlin", "2026-10-24T15:00:00Z", "tomorrow 2:30am"),
        "2026-10-25T00:30:00Z"
    );
}

#[test]
fn daylight_saving_in_berlin() {
    // Saturday 2026-10-24 17:00 CEST; CET begins at 03:00 on Sunday October 25.
    assert_forms(
        "Europe/Berlin",
        "2026-10-24T15:00:00Z",
        &[
            ("tomorrow", "2026-10-25T08:00:00Z"),
            ("2026-10-24T09:00", "2026-10-24T07:00:00Z"),
            ("in 1 week", "2026-10-31T08:00:00Z"),
        ],
    );
    // Saturday 2026-03-28; CEST begins at 02:00 on Sunday March 29, so
    // 02:30 that night is 03:30 CEST.
    assert_forms(
        "Europe/Berlin",
        "2026-03-28T15:00:00Z",
        &[
            ("tomorrow", "2026-03-29T07:00:00Z"),
            ("tomorrow 2:30am", "2026-03-29T01:30:00Z"),
        ],
    );
}

#[test]
fn month_end() {
    // Sunday 2027-01-31 10:00 EST: one month on is February's last day.
    assert_forms(
        "America/New_York",
        "2027-01-31T15:00:00Z",
        &[
            ("in 1 month", "2027-02-28T14:00:00Z"),
            ("tomorrow", "2027-02-01T14:00:00Z"),
            // Today's 09:00 has passed: next month's last day.
            ("end of month", "2027-02-28T14:00:00Z"),
        ],
    );
    assert_forms(
        "Europe/Berlin",
        "2027-01-31T06:00:00Z",
        &[
            ("in 1 month", "2027-02-28T08:00:00Z"),
            ("end of month", "2027-01-31T08:00:00Z"),
        ],
    );
}

#[test]
fn year_end() {
    // Thursday 2026-12-31 15:00 EST.
    assert_forms(
        "America/New_York",
        "2026-12-31T20:00:00Z",
        &[
            ("tomorrow", "2027-01-01T14:00:00Z"),
            ("friday", "2027-01-01T14:00:00Z"),
            ("jan 2", "2027-01-02T14:00:00Z"),
            ("dec 31", "2027-12-31T14:00:00Z"),
            ("end of month", "2027-01-31T14:00:00Z"),
            ("in 2 weeks", "2027-01-14T14:00:00Z"),
        ],
    );
    // 2027-01-01 03:00 UTC is still New Year's Eve in New York...
    assert_eq!(
        due_at("America/New_York", "2027-01-01T03:00:00Z", "tomorrow"),
        "2027-01-01T14:00:00Z"
    );
    // ...and already New Year's Day in Berlin.
    assert_eq!(
        due_at("Europe/Berlin", "2026-12-31T23:30:00Z", "tomorrow"),
        "2027-01-02T08:00:00Z"
    );
}

#[test]
fn unreadable_when_lists_the_accepted_forms() {
    let env = Env::new();
    env.set_tz("Europe/Berlin");
    let a = env.clip_text("Story\n\nText.\n", &[]);
    for bad in ["blue moon", "25:00", "13pm", "tomorrow 9am 10am", "someday"] {
        assert_refused(
            &env,
            &["follow-up", &a, "check", "--due", bad],
            None,
            &format!("nj: cannot read the time {bad:?}; write it like one of: {WHEN_FORMS}\n"),
        );
    }
    assert_refused(
        &env,
        &["due", "--as-of", "soonish"],
        None,
        &format!("nj: cannot read the time \"soonish\"; write it like one of: {WHEN_FORMS}\n"),
    );
    assert_eq!(env.followups_json(), json!([]));
}

/// Issue 16, bug 1: on Monday 2026-12-07 `yesterday` was 2027-12-06, `last
/// friday` a Saturday a year on, `last monday` today, and `nj due --as-of
/// yesterday` showed everything 362 days overdue.
#[test]
fn regression_past_dates_jump_a_year_ahead() {
    // Monday 2026-12-07, 10:00 in Berlin (UTC+1).
    assert_forms(
        "Europe/Berlin",
        "2026-12-07T09:00:00Z",
        &[
            ("yesterday", "2026-12-06T08:00:00Z"),
            ("yesterday 5pm", "2026-12-06T16:00:00Z"),
            ("last friday", "2026-12-04T08:00:00Z"),
            ("last sunday", "2026-12-06T08:00:00Z"),
            ("last monday", "2026-11-30T08:00:00Z"),
            ("3 days ago", "2026-12-04T08:00:00Z"),
            ("2 hours ago", "2026-12-07T07:00:00Z"),
            // A month and day without a year is still the next one.
            ("dec 6", "2027-12-06T08:00:00Z"),
        ],
    );

    let env = Env::new();
    env.set_tz("Europe/Berlin");
    env.set_now("2026-12-07T09:00:00Z");
    // A follow-up due yesterday is overdue now, by a day, not a year.
    let f = env.follow_up(&["check the docket", "--due", "yesterday"]);
    let due = env.nj(&["due"]).success().stdout;
    assert!(due.contains(short(&id_of(&f))), "{due}");
    assert!(due.contains("1d 1h overdue"), "{due}");
    // As of yesterday 08:00 it was not due yet; by 18:00 it was.
    let as_of = env
        .nj(&["--json", "due", "--as-of", "yesterday 8am"])
        .json();
    assert_eq!(as_of, json!([]), "due as of yesterday 08:00");
    let as_of = env
        .nj(&["due", "--as-of", "yesterday 6pm"])
        .success()
        .stdout;
    assert!(as_of.contains("9h overdue"), "{as_of}");

    // Weekdays are right, shown in local time.
    let f = env
        .nj(&["follow-up", "x", "--free", "--due", "last friday"])
        .success();
    assert!(f.stdout.contains("Fri 2026-12-04 09:00"), "{}", f.stdout);
    assert!(
        f.stderr.is_empty(),
        "a few days back needs no warning: {}",
        f.stderr
    );

    // A far-past date is made as asked, with a warning.
    let old = env
        .nj(&["follow-up", "renew the permit", "--due", "2020-01-01"])
        .success();
    assert!(
        old.stdout.contains("Wed 2020-01-01 09:00"),
        "{}",
        old.stdout
    );
    assert!(
        old.stderr.contains("warning") && old.stderr.contains("overdue already"),
        "{}",
        old.stderr
    );
}
