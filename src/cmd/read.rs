use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use newsjournal::journal::short_id;

use super::output;
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
    let mut journal = ctx.journal()?;
    // Resolve every id before changing anything: one bad id changes nothing.
    let refs = ids
        .iter()
        .map(|id| journal.resolve_article(id))
        .collect::<Result<Vec<_>, _>>()?;
    let changed = journal.write(ctx.clock.timestamp(), |tx| {
        refs.iter()
            .map(|r| tx.set_read(r, read))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut out = String::new();
    let mut json = Vec::new();
    for (r, changed) in refs.iter().zip(changed) {
        let a = journal.article(r)?;
        let id = short_id(&a.id);
        let line = match (read, changed) {
            (true, true) => format!("marked {id} read: {}\n", a.title),
            (true, false) => format!("{id} was already read: {}\n", a.title),
            (false, true) => format!("marked {id} unread: {}\n", a.title),
            (false, false) => format!("{id} was not read: {}\n", a.title),
        };
        out.push_str(&line);
        json.push(serde_json::json!({
            "id": a.id,
            "title": a.title,
            "changed": changed,
            "read_at": a.read_at,
        }));
    }
    if ctx.json {
        output::json(&json)?;
    } else {
        output::print(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}
