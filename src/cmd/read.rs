//! `nj read` and `nj unread`: mark articles read or unread.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::short_id;

use super::Ctx;

/// Mark articles read
///
/// `nj list --unread` lists what is left to read. Imports from read-later
/// tools bring their read (archived) state with them.
#[derive(Debug, Args)]
pub struct Read {
    /// The articles' ids
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Read {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        set_read(ctx, &self.ids, true)
    }
}

/// Mark articles unread again
#[derive(Debug, Args)]
pub struct Unread {
    /// The articles' ids
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Unread {
    pub fn run(self, ctx: &Ctx) -> Result<ExitCode> {
        set_read(ctx, &self.ids, false)
    }
}

fn set_read(ctx: &Ctx, ids: &[String], read: bool) -> Result<ExitCode> {
    super::tag::change_each(
        ctx,
        ids,
        |tx, r| tx.set_read(r, read),
        |a, changed| {
            let id = short_id(&a.id);
            let line = match (read, changed) {
                (true, true) => format!("marked {id} read: {}\n", a.title),
                (true, false) => format!("{id} was already read: {}\n", a.title),
                (false, true) => format!("marked {id} unread: {}\n", a.title),
                (false, false) => format!("{id} was not read: {}\n", a.title),
            };
            let json = serde_json::json!({
                "id": a.id,
                "title": a.title,
                "changed": changed,
                "read_at": a.read_at,
            });
            (line, json)
        },
    )
}
