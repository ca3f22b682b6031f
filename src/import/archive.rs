//! Opening the ZIP exports (Pocket's and Omnivore's) and saying clearly when
//! one is cut off or damaged. Only the central directory is read to list
//! the members; each member is then read as a stream. Nothing here knows
//! what the members mean.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use zip::ZipArchive;

use crate::error::{Error, Result};

pub(crate) type Zip = ZipArchive<BufReader<File>>;

/// The message for a ZIP that cannot be read: an interrupted download is
/// by far the likeliest cause, so that is what it suggests.
pub(crate) fn damaged(name: &str, why: impl std::fmt::Display) -> Error {
    Error::Refused(format!(
        "{name} is cut off or damaged ({why}), so nothing was imported; download the export again"
    ))
}

/// Opens the ZIP at `path`, reading its directory only.
pub(crate) fn open(path: &Path) -> Result<Zip> {
    let name = path.display().to_string();
    let file = File::open(path)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    if file.metadata().map(|m| m.len()).unwrap_or(1) == 0 {
        return Err(Error::BadInput(format!(
            "{name} is empty; download the export again"
        )));
    }
    // Not a ZIP at all (`--format` given for another file) is another
    // mistake than a cut-off download, and says so.
    let mut magic = [0u8; 4];
    let mut file = BufReader::new(file);
    let n = file
        .read(&mut magic)
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    if !magic[..n].starts_with(b"PK") {
        return Err(Error::Refused(format!(
            "{name} is not a ZIP archive, so nothing was imported; Pocket's and Omnivore's exports are the .zip file they download (leave out --format to let nj tell the format)"
        )));
    }
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::BadInput(format!("cannot read {name} ({e}); check the path")))?;
    ZipArchive::new(file).map_err(|e| damaged(&name, e))
}

/// The names of the files in the archive (not directories, not macOS's
/// `__MACOSX/` resource forks, which unzip-and-rezip leaves behind).
pub(crate) fn file_names(zip: &Zip) -> Vec<String> {
    zip.file_names()
        .filter(|n| !n.ends_with('/') && !n.starts_with("__MACOSX/"))
        .map(str::to_string)
        .collect()
}

/// The last part of a member's path.
pub(crate) fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A member read as text, or why it was not.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Member {
    /// No such member.
    Missing,
    /// The member is over the cap it was read with; only the cap was read.
    Over,
    Text(String),
}

/// A whole member as text, if it is at most `cap` bytes. A member that
/// fails to decompress or whose checksum is wrong is an error.
///
/// The size the ZIP's directory gives is checked first, so a member that
/// says it is too large is not decompressed at all, and the reading stops
/// past the cap whatever the directory says: a 1 MB ZIP can hold a
/// gigabyte of text.
pub(crate) fn read_text(zip: &mut Zip, zip_name: &str, member: &str, cap: u64) -> Result<Member> {
    let file = match zip.by_name(member) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(Member::Missing),
        Err(e) => return Err(damaged(zip_name, format!("{member}: {e}"))),
    };
    if file.size() > cap {
        return Ok(Member::Over);
    }
    let mut bytes = Vec::with_capacity(file.size().min(1 << 24) as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| damaged(zip_name, format!("{member}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Ok(Member::Over);
    }
    Ok(Member::Text(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}
