//! Printing: JSON, tables, colour, the pager, and reading note text from an
//! argument, stdin or the user's editor.

use std::io::{IsTerminal, Read, Write};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

/// "1 change", "2 changes".
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// Colour only for a terminal, and never when NO_COLOR is set.
pub fn color() -> bool {
    stdout_is_tty() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A progress bar of `len` steps drawn with `template` on stderr, or a
/// hidden one when stderr is not a terminal or the output is JSON.
pub fn progress(len: usize, json: bool, template: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !std::io::stderr().is_terminal() || json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // A write error stays an io::Error, so `nj --json ... | head` is a
    // closed pipe (success), not "nj: Broken pipe".
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| -> anyhow::Error {
        if e.is_io() {
            std::io::Error::from(e).into()
        } else {
            e.into()
        }
    })?;
    writeln!(out)?;
    Ok(())
}

/// Writes text for people to stdout, with control characters from the
/// data made visible (see [`visible`]).
pub fn print(text: &str) -> Result<()> {
    write_out(&visible(text))
}

/// Writes text that must stay byte for byte what is stored (`nj show
/// --text`, whose hash anyone can check, and `nj extract`): as it is in a
/// pipe or file; on a terminal, with control characters made visible.
pub fn print_exact(text: &str) -> Result<()> {
    if stdout_is_tty() {
        write_out(&visible(text))
    } else {
        write_out(text)
    }
}

fn write_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The colour codes nj writes: every one is named here, so [`visible`]
/// can let exactly these through.
pub const RESET: &str = "\x1b[0m";
pub const BOLD: &str = "\x1b[1m";
pub const DIM: &str = "\x1b[2m";
/// The search mark: bold yellow.
pub const MARK: &str = "\x1b[1;33m";
pub const RED: &str = "\x1b[31m";
pub const GREEN: &str = "\x1b[32m";
pub const CYAN: &str = "\x1b[36m";
const OWN_CODES: &[&str] = &[RESET, BOLD, DIM, MARK, RED, GREEN, CYAN];

/// `s` with every control character except newline and tab shown as a
/// visible stand-in (ESC as ␛, BEL as ␇, the C1 controls as �), so a
/// title or note cannot move the cursor, retitle the terminal or ring its
/// bell. nj's own colour codes stay.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !s.chars().any(control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' {
            if let Some(code) = OWN_CODES.iter().find(|code| rest.starts_with(**code)) {
                out.push_str(code);
                rest = &rest[code.len()..];
                continue;
            }
        }
        out.push(match c {
            c if !control(c) => c,
            '\u{7f}' => '\u{2421}',
            c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            _ => '\u{fffd}',
        });
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// The width a table must fit: `COLUMNS` when set (also in a pipe, for
/// scripts and tests), else the terminal's; `None` in a pipe.
pub fn fit_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    stdout_is_tty().then(term_width)
}

/// How many terminal columns `s` takes (wide characters count two).
pub fn display_width(s: &str) -> usize {
    textwrap::core::display_width(s)
}

/// `s` padded with spaces to `width` columns.
pub fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// `s` cut to at most `width` columns at a word boundary, ending in "…";
/// a single word longer than the width is cut where it must be.
pub fn shorten(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_owned();
    }
    let room = width.saturating_sub(1);
    let mut cut = 0;
    let mut fits = 0;
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let end = i + c.len_utf8();
        used += display_width(&s[i..end]);
        if used > room {
            break;
        }
        fits = end;
        if c == ' ' {
            cut = i;
        }
    }
    // A word that ends right at the edge is whole.
    if s[fits..].starts_with(' ') {
        cut = fits;
    }
    let kept = if cut > 0 { &s[..cut] } else { &s[..fits] };
    format!("{}…", kept.trim_end())
}

/// Items joined with "," in at most `width` columns, whole items only,
/// with "…" when some are left out.
pub fn shorten_list(items: &[String], width: usize) -> String {
    let all = items.join(",");
    if display_width(&all) <= width {
        return all;
    }
    let mut out = String::new();
    for item in items {
        let next = if out.is_empty() {
            item.clone()
        } else {
            format!("{out},{item}")
        };
        if display_width(&next) + 2 > width {
            break;
        }
        out = next;
    }
    // Never half a tag: when not even one fits, only the mark that some
    // are left out.
    if out.is_empty() {
        return "…".to_owned();
    }
    format!("{out},…")
}

pub fn term_width() -> usize {
    terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .unwrap_or(80)
}

/// A borderless table sized to the terminal (or unwrapped in a pipe).
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if stdout_is_tty() {
        t.set_width(term_width() as u16);
    }
    t
}

pub fn print_table(t: &Table) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for line in t.lines() {
        // The borderless style pads every cell by one space; the first
        // column's padding would only indent the whole table.
        let line = line.strip_prefix(' ').unwrap_or(&line);
        writeln!(out, "{}", visible(line.trim_end()))?;
    }
    Ok(())
}

pub fn bold(s: &str) -> String {
    if color() {
        format!("{BOLD}{s}{RESET}")
    } else {
        s.to_owned()
    }
}

pub fn dim(s: &str) -> String {
    if color() {
        format!("{DIM}{s}{RESET}")
    } else {
        s.to_owned()
    }
}

/// Shows long text through `$PAGER` (default `less -FRX`) on a terminal;
/// prints it directly otherwise, or when the pager cannot start.
pub fn page(text: &str, pager: Option<String>) -> Result<()> {
    if !stdout_is_tty() {
        return print(text);
    }
    let pager = pager.unwrap_or_else(|| "less -FRX".into());
    let child = Command::new("sh")
        .arg("-c")
        .arg(&pager)
        .stdin(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return print(text);
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader may quit the pager early; that is not an error.
        let _ = stdin.write_all(visible(text).as_bytes());
    }
    child.wait().context("the pager failed")?;
    Ok(())
}

/// The text of a note: the argument, stdin for `-`, or the user's editor
/// when there is no argument (starting from `initial`).
pub fn note_text(arg: Option<&str>, initial: &str) -> Result<String> {
    match arg {
        Some("-") => {
            // Read no more than one byte past the cap: a 60 MB stream
            // is refused without holding it (it took 765 MB).
            let cap = newsjournal::journal::MAX_NOTE_BYTES;
            let mut s = String::new();
            std::io::stdin()
                .take(cap as u64 + 1)
                .read_to_string(&mut s)
                .context("cannot read the note from standard input (it must be UTF-8 text)")?;
            if s.len() > cap {
                bail!("the note on standard input is over 1 MB, and a note holds at most 1 MB; keep the long text as a file (or clip it: `nj clip FILE`) and note where it is");
            }
            Ok(s)
        }
        Some(text) => Ok(text.to_owned()),
        None => edit(initial),
    }
}

/// Opens `$VISUAL` or `$EDITOR` (default `vi`) on a temporary file.
fn edit(initial: &str) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".into());
    let mut file = tempfile::Builder::new()
        .prefix("nj-note-")
        .suffix(".md")
        .tempfile()
        .context("cannot create a temporary file for the editor")?;
    file.write_all(initial.as_bytes())?;
    file.flush()?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .with_context(|| {
            format!(
                "cannot start the editor {editor:?}; set EDITOR, or pass the text as an argument"
            )
        })?;
    if !status.success() {
        bail!("the editor {editor:?} exited with {status}; nothing was saved");
    }
    std::fs::read_to_string(file.path())
        .context("cannot read back the edited note (it must be UTF-8 text)")
}

/// Writes a file so that a reader (a calendar that subscribes to it, a
/// backup script) sees the old or the new one, never half of one: `write`
/// fills a temporary file in the same folder, which then replaces `path`.
/// If `write` fails, `path` is left as it was.
///
/// A symbolic link keeps pointing where it did: the file it points to is
/// the one replaced. What is not a file (a pipe, `/dev/null`, a terminal)
/// is written into as it is, as a shell's `>` would: replacing it would
/// have put a file where the device or pipe was (`-o /dev/null`, run as
/// root, replaced the system's /dev/null).
pub fn write_atomically<T>(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T>,
) -> Result<T> {
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let resolved = match linked {
        // A link to nowhere is replaced, as there is nothing to keep.
        true => std::fs::canonicalize(path).ok(),
        false => None,
    };
    let path = resolved.as_deref().unwrap_or(path);
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return write_in_place(path, write);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    // Said plainly, before a temporary file's name can get into the message.
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write {}: the folder {} does not exist; create it (mkdir -p {}) or give another path",
            path.display(),
            dir.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!(
            "cannot write {}: it is a folder; give a file name in it, e.g. {}",
            path.display(),
            path.join("journal.json").display()
        );
    }
    let mut builder = tempfile::Builder::new();
    // A temporary file is private (0600); the file should keep the mode of
    // the one it replaces, or get the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let tmp = builder.tempfile_in(dir).map_err(|e| {
        // tempfile's error names the temporary file, which the user never
        // asked for; the folder and the reason are what matter.
        anyhow::anyhow!(
            "cannot write in {}: {}",
            dir.display(),
            std::io::Error::from(e.kind())
        )
    })?;
    let (file, tmp_path) = tmp.into_parts();
    let mut out = std::io::BufWriter::new(file);
    let value = write(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()?;
    tmp_path
        .persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(value)
}

/// Writes into what `path` is (a pipe, a device), without replacing it.
fn write_in_place<T>(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T>,
) -> Result<T> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let value = write(&mut out)?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_at_a_word_and_never_past_the_width() {
        assert_eq!(
            shorten("Harbor bridge contract", 40),
            "Harbor bridge contract"
        );
        assert_eq!(shorten("Harbor bridge contract", 16), "Harbor bridge…");
        assert_eq!(shorten("Harbor bridge contract", 14), "Harbor bridge…");
        assert_eq!(shorten("Harbor bridge contract", 13), "Harbor…");
        // One word longer than the room is cut where it must be.
        assert_eq!(shorten("Infrastructure", 6), "Infra…");
        // Wide characters count two columns.
        assert_eq!(shorten("東京 の 橋 の 契約", 8), "東京 の…");
        for w in 2..30 {
            assert!(display_width(&shorten("Harbor bridge contract goes to review", w)) <= w);
        }
    }

    #[test]
    fn control_characters_are_shown_not_run() {
        assert_eq!(visible("plain title"), "plain title");
        assert_eq!(visible("a\tb\nc"), "a\tb\nc");
        assert_eq!(
            visible("Title \x1b]0;pwned\x07 here\x1b[2J\r\u{7f}\u{9b}"),
            "Title \u{241b}]0;pwned\u{2407} here\u{241b}[2J\u{240d}\u{2421}\u{fffd}"
        );
        // nj's own colours pass.
        let painted = format!("{BOLD}x{RESET} {MARK}y{RESET} {RED}-{RESET}");
        assert_eq!(visible(&painted), painted);
    }

    #[test]
    fn shorten_list_keeps_whole_items() {
        let tags: Vec<String> = ["city-hall", "courts", "harbor-bridge"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(shorten_list(&tags, 40), "city-hall,courts,harbor-bridge");
        assert_eq!(shorten_list(&tags, 20), "city-hall,courts,…");
        assert_eq!(shorten_list(&tags, 12), "city-hall,…");
        assert_eq!(shorten_list(&tags, 6), "…");
    }
}
