//! Writing notes: on an article, or free-standing in the journal.

use rusqlite::types::Value;

use super::query::{ArticleRef, NoteRef};
use super::Tx;
use crate::entity::fields::note;
use crate::error::{Error, Result};

pub(super) fn clean(body: &str) -> Result<String> {
    crate::limits::check_note_size(body)?;
    let body = crate::content::normalize(body);
    let body = body.trim_end_matches('\n');
    if body.is_empty() {
        return Err(Error::BadInput(
            "the note is empty, so nothing was saved".into(),
        ));
    }
    Ok(body.to_owned())
}

impl Tx<'_> {
    pub fn add_note(&mut self, article: Option<&ArticleRef>, body: &str) -> Result<NoteRef> {
        let body = clean(body)?;
        self.create_note(article, &body)
    }

    /// Replaces a note's text. Returns false when the text is unchanged.
    pub fn edit_note(&mut self, note: &NoteRef, body: &str, current: &str) -> Result<bool> {
        let body = clean(body)?;
        if body == current {
            return Ok(false);
        }
        self.set_note(note, note::BODY, body.into())?;
        Ok(true)
    }

    /// Brings a removed note back.
    pub fn restore_note(&mut self, note: &NoteRef) -> Result<()> {
        self.set_note(note, note::DELETED_AT, Value::Null)
    }

    pub fn remove_note(&mut self, note: &NoteRef) -> Result<()> {
        let now = self.now().0;
        self.set_note(note, note::DELETED_AT, Value::Integer(now))
    }
}
