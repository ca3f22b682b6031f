//! What the journal holds and syncs, described once: each entity, its
//! table, and its fields with their column, wire name and cap.
//!
//! The journal's inserts and updates, the sync log's field lists, the
//! snapshot a first sync sends, the merge of other devices' operations and
//! the checks on what enters the journal all read their lists from here.
//! A field's column and its name in an operation are the same word, and a
//! value goes between the two in one way (`journal::tx::sql_to_json` and
//! `json_to_sql`): text as a JSON string, times and numbers as integers,
//! nothing as null. Adding a field is an entry in its entity's list below
//! and a migration in `schema.sql` (`docs/architecture.md`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Result;
use crate::limits;

/// A kind of thing the journal keeps and sync carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Article,
    /// A source URL of an article.
    Url,
    /// A tag on an article.
    Tag,
    /// A text an article has had.
    Version,
    Note,
    Followup,
    /// A syndicated copy of an article's report, folded into it: where it
    /// came from and its own text.
    Copy,
    /// A story the user follows: articles, notes and follow-ups over weeks.
    Story,
    /// An article in a story.
    StoryArticle,
    /// An entity this version of nj does not know, from a newer one: what
    /// this nj knows of its operations is applied, and each is held whole
    /// for the nj that knows it (`held_ops`).
    Unknown,
}

/// How an entity's rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A row per entity with its id in an `id` column.
    Rows,
    /// A link of an article (by rowid) to a URL, with no id column: its id
    /// is made from the article's id and the URL (`url_link_id`).
    UrlLinks,
    /// A link of an article (by rowid) to a tag, present only while
    /// linked: its id is made from the article's id and the tag
    /// (`sync::tag_link_id`).
    TagLinks,
}

/// One field of an entity: a column of its table, a name in operations,
/// and a key of the JSON export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub entity: Entity,
    pub name: &'static str,
    /// What its values are, which says how the export writes them.
    pub kind: Kind,
    /// Whether it may hold nothing (NULL); the export leaves nothing out
    /// of a field that may not.
    pub optional: bool,
    /// The most a text in it may hold when it enters the journal.
    pub cap: Cap,
    /// Whether the search index reads it: changing it re-indexes the row.
    pub indexed: bool,
    /// What a creation that leaves it out stores (its column's default);
    /// none: nothing (NULL).
    pub default: Option<&'static str>,
    /// Where the JSON export writes it.
    pub export: Export,
}

/// What a field's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Milliseconds since the epoch; RFC 3339 text in the export.
    Time,
    /// Yes or no.
    Flag,
    /// The id of the article it belongs to. The export says it by nesting
    /// the record under its article.
    Article,
    /// The id of the story it belongs to, said the same way.
    Story,
}

/// Where the JSON export writes a field (its file format, version 1:
/// renaming a key breaks every file already exported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Under its name.
    Named,
    /// Under its name, and left out while it holds nothing.
    UnlessEmpty,
    /// Under another key.
    As(&'static str),
    /// Not written: the file says it another way (a tag in the file is a
    /// linked one).
    Not,
}

/// Which of [`crate::limits`]' caps a text field has (README, "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    None,
    Title,
    Url,
    /// A byline, a site name, a language.
    Meta,
    Tag,
    Note,
    Followup,
}

impl Cap {
    /// Refuses a text over the cap, saying what to do.
    pub fn check(self, text: &str) -> Result<()> {
        match self {
            Cap::None => Ok(()),
            Cap::Title => limits::check_title(text),
            Cap::Url => limits::check_url(text),
            Cap::Meta => limits::check_meta(text),
            Cap::Tag => limits::check_tag(text),
            Cap::Note => limits::check_note_size(text),
            Cap::Followup => limits::check_followup(text),
        }
    }
}

/// A required text field with no cap, named as it is in the export; the
/// builders below say what else it is.
const fn field(entity: Entity, name: &'static str) -> Field {
    Field {
        entity,
        name,
        kind: Kind::Text,
        optional: false,
        cap: Cap::None,
        indexed: false,
        default: None,
        export: Export::Named,
    }
}

/// The fields of each entity, in the order a creation and the export
/// carry them. Ids, rowids and `updated_at` are not fields: every device
/// keeps its own.
pub mod fields {
    use super::{field, Cap, Entity, Field};

    pub mod article {
        use super::*;
        const E: Entity = Entity::Article;
        pub const TITLE: Field = field(E, "title").cap(Cap::Title).indexed();
        pub const URL: Field = field(E, "url").cap(Cap::Url).optional();
        pub const SITE: Field = field(E, "site").cap(Cap::Meta).optional();
        pub const AUTHOR: Field = field(E, "author").cap(Cap::Meta).optional();
        pub const LANG: Field = field(E, "lang").cap(Cap::Meta).optional();
        pub const PUBLISHED_AT: Field = field(E, "published_at").time().optional();
        /// The current text, by hash; the index reads the text.
        pub const CONTENT_HASH: Field = field(E, "content_hash").indexed();
        pub const CLIPPED_AT: Field = field(E, "clipped_at").time();
        pub const DELETED_AT: Field = field(E, "deleted_at").time().optional();
        /// Absent from the export while unread.
        pub const READ_AT: Field = field(E, "read_at").time().optional().unless_empty();
        /// Clipped with `--separate`: a copy of another article kept as an
        /// article of its own, which no device folds.
        pub const KEPT_APART: Field = field(E, "kept_apart").flag().optional().unless_empty();
        pub const ALL: &[Field] = &[
            TITLE,
            URL,
            SITE,
            AUTHOR,
            LANG,
            PUBLISHED_AT,
            CONTENT_HASH,
            CLIPPED_AT,
            DELETED_AT,
            READ_AT,
            KEPT_APART,
        ];
    }

    pub mod url {
        use super::*;
        const E: Entity = Entity::Url;
        pub const ARTICLE_ID: Field = field(E, "article_id").article();
        pub const URL: Field = field(E, "url").cap(Cap::Url);
        pub const ADDED_AT: Field = field(E, "added_at").time();
        pub const ALL: &[Field] = &[ARTICLE_ID, URL, ADDED_AT];
    }

    pub mod tag {
        use super::*;
        const E: Entity = Entity::Tag;
        /// The article and the tag make the link's id, so they never
        /// change; only whether it is linked does.
        pub const ARTICLE_ID: Field = field(E, "article_id").article();
        pub const TAG: Field = field(E, "tag").cap(Cap::Tag).indexed();
        pub const LINKED: Field = field(E, "linked").flag().indexed().not_exported();
        pub const ALL: &[Field] = &[ARTICLE_ID, TAG, LINKED];
    }

    pub mod version {
        use super::*;
        const E: Entity = Entity::Version;
        pub const ARTICLE_ID: Field = field(E, "article_id").article();
        pub const CREATED_AT: Field = field(E, "created_at").time();
        /// Its text, by hash (in the export, beside the text itself).
        pub const CONTENT_HASH: Field = field(E, "content_hash").exported_as("hash");
        pub const ALL: &[Field] = &[ARTICLE_ID, CREATED_AT, CONTENT_HASH];
    }

    pub mod note {
        use super::*;
        const E: Entity = Entity::Note;
        /// Null for a journal note, which belongs to no article.
        pub const ARTICLE_ID: Field = field(E, "article_id").article().optional();
        pub const BODY: Field = field(E, "body").cap(Cap::Note).indexed();
        pub const CREATED_AT: Field = field(E, "created_at").time();
        pub const DELETED_AT: Field = field(E, "deleted_at").time().optional();
        /// Set for a story's own note (which belongs to no article).
        pub const STORY_ID: Field = field(E, "story_id").story().optional();
        pub const ALL: &[Field] = &[ARTICLE_ID, BODY, CREATED_AT, DELETED_AT, STORY_ID];
    }

    pub mod followup {
        use super::*;
        const E: Entity = Entity::Followup;
        pub const ARTICLE_ID: Field = field(E, "article_id").article().optional();
        pub const TEXT: Field = field(E, "text").cap(Cap::Followup);
        pub const DUE_AT: Field = field(E, "due_at").time();
        /// The interval of a repeating one (`1w`), or null.
        pub const EVERY: Field = field(E, "every").optional();
        /// `open` or `done`.
        pub const STATUS: Field = field(E, "status").or("open");
        pub const DONE_AT: Field = field(E, "done_at").time().optional();
        pub const CREATED_AT: Field = field(E, "created_at").time();
        pub const DELETED_AT: Field = field(E, "deleted_at").time().optional();
        /// Set for a story's own follow-up.
        pub const STORY_ID: Field = field(E, "story_id").story().optional();
        pub const ALL: &[Field] = &[
            ARTICLE_ID, TEXT, DUE_AT, EVERY, STATUS, DONE_AT, CREATED_AT, DELETED_AT, STORY_ID,
        ];
    }

    pub mod copy {
        use super::*;
        const E: Entity = Entity::Copy;
        pub const ARTICLE_ID: Field = field(E, "article_id").article();
        /// The page it was clipped from; none for a file or stdin.
        pub const URL: Field = field(E, "url").cap(Cap::Url).optional();
        /// Its exact text, kept as it was clipped.
        pub const CONTENT_HASH: Field = field(E, "content_hash");
        pub const CREATED_AT: Field = field(E, "created_at").time();
        pub const ALL: &[Field] = &[ARTICLE_ID, URL, CONTENT_HASH, CREATED_AT];
    }

    pub mod story {
        use super::*;
        const E: Entity = Entity::Story;
        pub const TITLE: Field = field(E, "title").cap(Cap::Title);
        pub const CREATED_AT: Field = field(E, "created_at").time();
        /// Set while the story is closed (no longer followed).
        pub const CLOSED_AT: Field = field(E, "closed_at").time().optional();
        pub const DELETED_AT: Field = field(E, "deleted_at").time().optional();
        pub const ALL: &[Field] = &[TITLE, CREATED_AT, CLOSED_AT, DELETED_AT];
    }

    pub mod story_article {
        use super::*;
        const E: Entity = Entity::StoryArticle;
        /// The story and the article make its id, so they never change;
        /// whether it is in the story does.
        pub const STORY_ID: Field = field(E, "story_id").story();
        pub const ARTICLE_ID: Field = field(E, "article_id");
        pub const ADDED_AT: Field = field(E, "added_at").time();
        /// Set while the article is out of the story.
        pub const DROPPED_AT: Field = field(E, "dropped_at").time().optional();
        pub const ALL: &[Field] = &[STORY_ID, ARTICLE_ID, ADDED_AT, DROPPED_AT];
    }
}

impl Entity {
    /// Every entity nj knows, parents before what hangs on them.
    pub const ALL: [Entity; 9] = [
        Entity::Article,
        Entity::Url,
        Entity::Tag,
        Entity::Version,
        Entity::Story,
        Entity::Note,
        Entity::Followup,
        Entity::Copy,
        Entity::StoryArticle,
    ];

    /// Its name in operations and in the sync stamps.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Article => "article",
            Entity::Url => "url",
            Entity::Tag => "tag",
            Entity::Version => "version",
            Entity::Note => "note",
            Entity::Followup => "followup",
            Entity::Copy => "copy",
            Entity::Story => "story",
            Entity::StoryArticle => "story_article",
            Entity::Unknown => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Entity {
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .unwrap_or(Entity::Unknown)
    }

    /// The table its rows are in.
    pub fn table(self) -> Option<&'static str> {
        Some(match self {
            Entity::Article => "articles",
            Entity::Url => "article_urls",
            Entity::Tag => "article_tags",
            Entity::Version => "versions",
            Entity::Note => "notes",
            Entity::Followup => "followups",
            Entity::Copy => "copies",
            Entity::Story => "stories",
            Entity::StoryArticle => "story_articles",
            Entity::Unknown => return None,
        })
    }

    pub fn storage(self) -> Storage {
        match self {
            Entity::Url => Storage::UrlLinks,
            Entity::Tag => Storage::TagLinks,
            _ => Storage::Rows,
        }
    }

    /// Its fields, in column order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Entity::Article => fields::article::ALL,
            Entity::Url => fields::url::ALL,
            Entity::Tag => fields::tag::ALL,
            Entity::Version => fields::version::ALL,
            Entity::Note => fields::note::ALL,
            Entity::Followup => fields::followup::ALL,
            Entity::Copy => fields::copy::ALL,
            Entity::Story => fields::story::ALL,
            Entity::StoryArticle => fields::story_article::ALL,
            Entity::Unknown => &[],
        }
    }

    /// The columns of its rows, for the tables that hold a row per entity
    /// (links keep other columns: see [`Storage`]).
    pub fn columns(self) -> &'static [Field] {
        match self.storage() {
            Storage::Rows => self.fields(),
            Storage::UrlLinks | Storage::TagLinks => &[],
        }
    }

    pub fn field(self, name: &str) -> Option<Field> {
        self.fields().iter().copied().find(|f| f.name == name)
    }

    /// Whether its rows keep `updated_at`, the time of the last change to
    /// them or to what hangs on them.
    pub fn tracks_updates(self) -> bool {
        matches!(
            self,
            Entity::Article | Entity::Note | Entity::Followup | Entity::Story
        )
    }

    /// Whether concurrent edits of the field named `field` keep the losing
    /// value ([`Field::keeps_conflicts`]); a field this nj does not know
    /// keeps none.
    pub fn keeps_conflicts(self, field: &str) -> bool {
        self.field(field).is_some_and(|f| f.keeps_conflicts())
    }

    /// Whether sync keeps a stamp for the field named `field`
    /// ([`Field::is_stamped`]); a field this nj does not know is stamped
    /// like any other.
    pub fn is_stamped(self, field: &str) -> bool {
        self.field(field).is_none_or(|f| f.is_stamped())
    }

    /// Whether it hangs on an article, whose `updated_at` its changes move.
    pub fn bumps_article(self) -> bool {
        matches!(self, Entity::Note | Entity::Url | Entity::Tag)
    }

    /// The time each journal keeps of its own for a row (not synced, but
    /// exported): the last change to an article, note or follow-up, and
    /// when a tag was linked here. The export writes it just before
    /// `deleted_at`, or last.
    pub fn local_time(self) -> Option<&'static str> {
        match self {
            Entity::Article | Entity::Note | Entity::Followup | Entity::Story => Some("updated_at"),
            Entity::Tag => Some("created_at"),
            Entity::Url
            | Entity::Version
            | Entity::Copy
            | Entity::StoryArticle
            | Entity::Unknown => None,
        }
    }

    /// Its name for a list of them: a key of the JSON export.
    pub fn plural(self) -> &'static str {
        match self {
            Entity::Article => "articles",
            Entity::Url => "urls",
            Entity::Tag => "tags",
            Entity::Version => "versions",
            Entity::Note => "notes",
            Entity::Followup => "followups",
            Entity::Copy => "copies",
            Entity::Story => "stories",
            Entity::StoryArticle => "articles",
            Entity::Unknown => "unknown",
        }
    }
}

/// The builders the table above is written with.
impl Field {
    const fn time(self) -> Field {
        Field {
            kind: Kind::Time,
            ..self
        }
    }

    const fn flag(self) -> Field {
        Field {
            kind: Kind::Flag,
            ..self
        }
    }

    const fn article(self) -> Field {
        Field {
            kind: Kind::Article,
            ..self
        }
    }

    const fn story(self) -> Field {
        Field {
            kind: Kind::Story,
            ..self
        }
    }

    const fn optional(self) -> Field {
        Field {
            optional: true,
            ..self
        }
    }

    const fn cap(self, cap: Cap) -> Field {
        Field { cap, ..self }
    }

    const fn indexed(self) -> Field {
        Field {
            indexed: true,
            ..self
        }
    }

    /// This field, with `default` for a creation that leaves it out.
    const fn or(self, default: &'static str) -> Field {
        Field {
            default: Some(default),
            ..self
        }
    }

    const fn unless_empty(self) -> Field {
        Field {
            export: Export::UnlessEmpty,
            ..self
        }
    }

    const fn exported_as(self, key: &'static str) -> Field {
        Field {
            export: Export::As(key),
            ..self
        }
    }

    const fn not_exported(self) -> Field {
        Field {
            export: Export::Not,
            ..self
        }
    }
}

impl Field {
    /// Its key in the JSON export, or none when the file does not carry it
    /// as a key of its own (the article a record belongs to is the record
    /// it is nested under).
    pub fn export_key(self) -> Option<&'static str> {
        match (self.kind, self.export) {
            (Kind::Article | Kind::Story, _) | (_, Export::Not) => None,
            (_, Export::As(key)) => Some(key),
            (_, Export::Named | Export::UnlessEmpty) => Some(self.name),
        }
    }

    /// Whether concurrent edits of it keep the losing value (a note's
    /// text, which a person wrote and would not want lost).
    pub fn keeps_conflicts(self) -> bool {
        self == fields::note::BODY
    }

    /// Whether sync keeps a stamp for its value: a tag link's article and
    /// tag are what its id is made from, so they never change.
    pub fn is_stamped(self) -> bool {
        self != fields::tag::ARTICLE_ID && self != fields::tag::TAG
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Entity {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Entity::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways_and_every_field_is_its_entitys() {
        for e in Entity::ALL {
            assert_eq!(Entity::from_name(e.name()), e);
            assert!(e.table().is_some());
            assert!(!e.fields().is_empty());
            for f in e.fields() {
                assert_eq!(f.entity, e, "{} is listed under {e}", f.name);
                assert_eq!(e.field(f.name), Some(*f));
            }
        }
        assert_eq!(Entity::from_name("story-from-a-newer-nj"), Entity::Unknown);
        assert_eq!(
            serde_json::to_string(&Entity::Followup).unwrap(),
            "\"followup\""
        );
        assert_eq!(
            serde_json::from_str::<Entity>("\"note\"").unwrap(),
            Entity::Note
        );
    }

    #[test]
    fn caps_are_the_limits() {
        assert!(fields::article::TITLE.cap.check(&"t".repeat(5000)).is_err());
        assert!(fields::article::TITLE.cap.check("Court rules").is_ok());
        assert!(fields::note::BODY.cap.check(&"n".repeat(2 << 20)).is_err());
        assert!(fields::article::PUBLISHED_AT
            .cap
            .check(&"x".repeat(1 << 20))
            .is_ok());
    }
}
