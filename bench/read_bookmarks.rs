//! Times an import format's reader alone, without the journal:
//!
//!     cargo run --release --example read_bookmarks -- pocket FILE
//!
//! FORMAT is one of `nj import --format`'s bookmark formats (`pocket`,
//! `pocket-html`, `netscape`, `wallabag`, `instapaper`, `omnivore`).
//! Prints how many items it read (and how many were rejected) and how
//! long it took. `bench/import_bookmarks` runs it on its files.

use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use newsjournal::import::format::{read_bookmarks, Format};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(format), Some(path)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: read_bookmarks FORMAT FILE");
    };
    let format = Format::from_str(&format, true).map_err(|e| anyhow::anyhow!(e))?;
    let path = PathBuf::from(path);
    let start = Instant::now();
    let (mut read, mut rejected) = (0usize, 0usize);
    read_bookmarks(format, &path, &mut |entry| {
        read += 1;
        rejected += usize::from(entry.item.is_err());
        Ok(())
    })?;
    println!(
        "{}: read {read} items ({rejected} rejected) in {:.3} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
