//! `nj due`: the follow-ups that are due, as a list, a count or an iCalendar file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use newsjournal::export::ical::to_ics;
use newsjournal::journal::{FollowupFilter, FollowupStatus};
use newsjournal::time::{Interval, Timestamp};

use super::followup::print_table;
use super::output;
use super::Ctx;

/// List open follow-ups that are due, oldest due first
///
/// WHEN (for --as-of here, and --due elsewhere) is written the way people say
/// it: 2026-12-01, 2026-12-01T09:00, today, tomorrow, tomorrow 9am, 9am
/// tomorrow, friday (the next one, never today), next monday, in 3 days,
/// in 2 weeks, 2 weeks, in 3 hours, dec 3, end of week (Friday), end of
/// month. A date without a time means 09:00 local time.
#[derive(Debug, Args)]
pub struct Due {
    /// Also list the ones due within this long (7d, 2w, 1mo)
    #[arg(long, value_name = "INTERVAL")]
    within: Option<String>,

    /// Evaluate at another moment instead of now
    #[arg(long, value_name = "WHEN")]
    as_of: Option<String>,

    /// Print only how many are due (fast enough for a shell prompt)
    #[arg(long, conflicts_with = "ics")]
    count: bool,

    /// Write every open follow-up as an iCalendar file (VTODOs)
    #[arg(long)]
    ics: bool,

    /// With --ics: write to this file (atomically) instead of stdout
    #[arg(short = 'o', long, value_name = "PATH", requires = "ics")]
    output: Option<PathBuf>,
}

impl Due {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        let now = match &self.as_of {
            Some(w) => Timestamp::from_datetime(ctx.when(w)?),
            None => ctx.clock.timestamp(),
        };
        let until = match &self.within {
            Some(w) => Interval::parse(w)?
                .after(now.to_datetime(), &chrono::Local)
                .map(Timestamp::from_datetime)
                .context("--within reaches past the calendar")?,
            None => now,
        };
        let journal = ctx.journal()?;
        if self.count {
            output::print(&format!("{}\n", journal.due_count(until)?))?;
            return Ok(ExitCode::SUCCESS);
        }
        if self.ics {
            let open = journal.followups(&FollowupFilter {
                status: Some(FollowupStatus::Open),
                article: None,
            })?;
            let ics = to_ics(&open, ctx.clock.timestamp());
            match &self.output {
                Some(path) => {
                    output::write_atomically(path, |out| Ok(out.write_all(ics.as_bytes())?))?
                }
                None => output::print_exact(&ics)?,
            }
            return Ok(ExitCode::SUCCESS);
        }
        let due = journal.due(until)?;
        if ctx.json {
            output::json(&due)?;
        } else if due.is_empty() {
            eprintln!("nothing is due");
        } else {
            print_table(&due, now)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use crate::cmd::tests::{command_of, refused};
    use crate::cmd::Command;

    #[test]
    fn as_of_and_the_ics_options() {
        let Command::Due(d) = command_of(&["due", "--as-of", "in 2 weeks", "--within", "7d"])
        else {
            panic!()
        };
        assert_eq!(d.as_of.as_deref(), Some("in 2 weeks"));
        assert_eq!(d.within.as_deref(), Some("7d"));
        let Command::Due(d) = command_of(&["due", "--ics", "-o", "due.ics"]) else {
            panic!()
        };
        assert_eq!(d.output, Some("due.ics".into()));
        assert_eq!(
            refused(&["due", "--count", "--ics"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            refused(&["due", "-o", "due.ics"]),
            ErrorKind::MissingRequiredArgument
        );
    }
}
