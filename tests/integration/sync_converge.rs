//! Convergence whatever the order, on every replica nj has. Three devices
//! make random edits (clip, clip syndicated copies, retitle, tag, bin,
//! notes, follow-ups, fold copies, stories: made, filled, emptied,
//! retitled, closed, binned), move their clocks hours either way,
//! and sync in random orders and page sizes through the real server's
//! core. Once each has synced four more times, in random order, every
//! device must hold the same journal, everything anyone made must be on
//! every device, and each note must keep exactly the texts no later edit
//! replaced: its text, and the ones kept from concurrent edits.
//!
//! Four rounds, not two, because a fold of copies is itself a change: a
//! device that meets a copy from another device in the second round folds
//! it after that sync, pushes the fold in the third, and the devices that
//! synced before it in the third get it in the fourth.
//!
//! The property is written once over [`Device`] and instantiated per
//! replica by `convergence_tests!` (taskchampion's `storage_tests!` is the
//! model): the in-memory `MemoryReplica`, and the SQLite journal users run
//! (`JournalReplica` over a journal file).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;

use newsjournal::content::Content;
use newsjournal::entity::Entity;
use newsjournal::journal::{
    ArticleRef, FollowupRef, Journal, JournalReplica, NewClip, NoteRef, StoryRef,
};
use newsjournal::server::CoreTransport;
use newsjournal::sync::memory::{test_key, MemoryReplica};
use newsjournal::sync::{sync, Summary, SyncError};
use newsjournal::time::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rusqlite::OptionalExtension;
use serde_json::{json, Value};

use crate::util::LocalServer;

/// A device under test: a replica of one kind, with the edits a person
/// makes on it, its wall clock, and what must end up equal everywhere.
/// Edits that name something this device does not hold (yet) do nothing
/// and say so.
trait Device: Sized {
    /// What two devices that have seen the same operations hold alike.
    type State: Debug + PartialEq;

    /// A device named `name` (its device id) with an empty journal, in
    /// `dir` if it keeps one on disk, and its wall clock at `wall_ms`.
    fn open(name: &str, dir: &Path, wall_ms: i64) -> Self;
    /// The wall clock, in milliseconds since the Unix epoch.
    fn clock(&mut self) -> &mut i64;
    fn sync(&mut self, server: &mut CoreTransport<'_>, page: usize) -> Result<Summary, SyncError>;

    /// Clips `text` from `url`; returns the article it made, or the one it
    /// went into. `id` is for a replica that takes ids from outside (the
    /// journal makes its own). `separate` keeps a near-copy of an article
    /// apart instead of folding it in (`nj clip --separate`).
    fn clip(&mut self, id: &str, title: &str, text: &str, url: &str, separate: bool) -> String;
    /// Folds the near-copies among the articles here (`nj copies --fold`);
    /// returns how many were folded.
    fn fold_copies(&mut self) -> usize;
    fn retitle(&mut self, article: &str, title: &str) -> bool;
    fn tag(&mut self, article: &str, tag: &str, on: bool) -> bool;
    fn bin_article(&mut self, article: &str, binned: bool) -> bool;
    /// A note on `article`, or in the journal; `None` when the article
    /// is not here.
    fn add_note(&mut self, id: &str, article: Option<&str>, text: &str) -> Option<String>;
    /// The note's text, if the note is here.
    fn note_text(&self, note: &str) -> Option<String>;
    fn edit_note(&mut self, note: &str, text: &str) -> bool;
    fn bin_note(&mut self, note: &str, binned: bool) -> bool;
    fn add_followup(
        &mut self,
        id: &str,
        article: Option<&str>,
        text: &str,
        due_ms: i64,
    ) -> Option<String>;
    fn mark_followup(&mut self, followup: &str, done: bool) -> bool;
    /// A new story; `id` as for `clip`.
    fn new_story(&mut self, id: &str, title: &str) -> String;
    /// Puts the article in the story, or takes it out.
    fn story_member(&mut self, story: &str, article: &str, on: bool) -> bool;
    fn retitle_story(&mut self, story: &str, title: &str) -> bool;
    fn close_story(&mut self, story: &str, closed: bool) -> bool;
    fn bin_story(&mut self, story: &str, binned: bool) -> bool;

    /// Whether the entity `id` is here.
    fn holds(&self, entity: Entity, id: &str) -> bool;
    /// A note's text and the texts it keeps from concurrent edits, sorted.
    fn note_texts(&self, note: &str) -> Vec<String>;
    fn state(&self) -> Self::State;
    /// What must hold on one device by itself (the journal's index and
    /// counts agree with its rows).
    fn sound(&mut self) -> Result<(), String>;
    /// Reads what a user would between changes (`nj stories`, whose
    /// figures the journal keeps from one run to the next).
    fn look(&mut self) {}
}

// ---------------------------------------------------------------------------
// The property.

const DEVICES: [&str; 3] = ["device-a", "device-b", "device-c"];
const TAGS: [&str; 3] = ["courts", "jedi", "cloud"];
/// Where every wall clock starts.
const START_MS: i64 = 1_700_000_000_000;
const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone)]
enum Action {
    /// One of a few texts from one of a few URLs, so devices clip the same
    /// text, or a new text from a known URL, as people do.
    Clip {
        device: usize,
        text: usize,
        url: usize,
    },
    /// One of two long reports (long enough to be a copy, as a short
    /// text never is) as an aggregator or another paper ran it: the
    /// original (variant 0) or one with its own closing line, from a URL
    /// of its own. On the journal it folds into the report, on this
    /// device or, after a sync, on every device.
    ClipCopy {
        device: usize,
        report: usize,
        variant: usize,
        separate: bool,
    },
    FoldCopies {
        device: usize,
    },
    /// `article`, `note` and `followup` pick among everything made so far,
    /// on any device (modulo how many there are).
    Retitle {
        device: usize,
        article: usize,
        title: u8,
    },
    Tag {
        device: usize,
        article: usize,
        tag: usize,
        on: bool,
    },
    BinArticle {
        device: usize,
        article: usize,
        binned: bool,
    },
    AddNote {
        device: usize,
        article: Option<usize>,
    },
    EditNote {
        device: usize,
        note: usize,
    },
    BinNote {
        device: usize,
        note: usize,
        binned: bool,
    },
    AddFollowup {
        device: usize,
        article: Option<usize>,
        due_hours: i64,
    },
    MarkFollowup {
        device: usize,
        followup: usize,
        done: bool,
    },
    NewStory {
        device: usize,
        title: u8,
    },
    StoryMember {
        device: usize,
        story: usize,
        article: usize,
        on: bool,
    },
    RetitleStory {
        device: usize,
        story: usize,
        title: u8,
    },
    CloseStory {
        device: usize,
        story: usize,
        closed: bool,
    },
    BinStory {
        device: usize,
        story: usize,
        binned: bool,
    },
    /// The wall clock jumps, backwards as well as forwards, by up to three
    /// hours.
    Tick {
        device: usize,
        ms: i64,
    },
    Sync {
        device: usize,
        page: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let device = 0..DEVICES.len();
    let pick = 0..8usize;
    prop_oneof![
        2 => (device.clone(), 0..4usize, 0..3usize)
            .prop_map(|(device, text, url)| Action::Clip { device, text, url }),
        2 => (device.clone(), 0..2usize, 0..3usize, proptest::bool::weighted(0.2))
            .prop_map(|(device, report, variant, separate)| Action::ClipCopy { device, report, variant, separate }),
        1 => device.clone().prop_map(|device| Action::FoldCopies { device }),
        1 => (device.clone(), any::<u8>())
            .prop_map(|(device, title)| Action::NewStory { device, title }),
        2 => (device.clone(), pick.clone(), pick.clone(), proptest::bool::weighted(0.7))
            .prop_map(|(device, story, article, on)| Action::StoryMember { device, story, article, on }),
        1 => (device.clone(), pick.clone(), any::<u8>())
            .prop_map(|(device, story, title)| Action::RetitleStory { device, story, title }),
        1 => (device.clone(), pick.clone(), any::<bool>())
            .prop_map(|(device, story, closed)| Action::CloseStory { device, story, closed }),
        1 => (device.clone(), pick.clone(), any::<bool>())
            .prop_map(|(device, story, binned)| Action::BinStory { device, story, binned }),
        2 => (device.clone(), pick.clone(), any::<u8>())
            .prop_map(|(device, article, title)| Action::Retitle { device, article, title }),
        2 => (device.clone(), pick.clone(), 0..TAGS.len(), any::<bool>())
            .prop_map(|(device, article, tag, on)| Action::Tag { device, article, tag, on }),
        1 => (device.clone(), pick.clone(), any::<bool>())
            .prop_map(|(device, article, binned)| Action::BinArticle { device, article, binned }),
        2 => (device.clone(), proptest::option::of(pick.clone()))
            .prop_map(|(device, article)| Action::AddNote { device, article }),
        4 => (device.clone(), pick.clone())
            .prop_map(|(device, note)| Action::EditNote { device, note }),
        1 => (device.clone(), pick.clone(), any::<bool>())
            .prop_map(|(device, note, binned)| Action::BinNote { device, note, binned }),
        1 => (device.clone(), proptest::option::of(pick.clone()), 1..72i64)
            .prop_map(|(device, article, due_hours)| Action::AddFollowup { device, article, due_hours }),
        1 => (device.clone(), pick, any::<bool>())
            .prop_map(|(device, followup, done)| Action::MarkFollowup { device, followup, done }),
        2 => (device.clone(), -3 * HOUR_MS..3 * HOUR_MS)
            .prop_map(|(device, ms)| Action::Tick { device, ms }),
        3 => (device, 1..6usize).prop_map(|(device, page)| Action::Sync { device, page }),
    ]
}

/// The random edits and syncs, then the four rounds in which every device
/// syncs, each in its own random order.
fn scenario() -> impl Strategy<Value = (Vec<Action>, [Vec<usize>; 4])> {
    let order = || Just((0..DEVICES.len()).collect::<Vec<_>>()).prop_shuffle();
    (
        proptest::collection::vec(action(), 1..60),
        [order(), order(), order(), order()],
    )
}

/// A long report, and the copies of it aggregators run: the same text
/// with a closing line of their own. Its words are its own, so the two
/// reports are not copies of each other.
fn report(report: usize, variant: usize) -> (String, String) {
    let title = format!("Report {report}");
    let sentences: Vec<String> = (0..24)
        .map(|s| {
            let words: Vec<String> = (0..6).map(|w| format!("r{report}w{s}x{w}")).collect();
            format!("{}.", words.join(" "))
        })
        .collect();
    let mut text = format!("{title}\n\n{}", sentences.join(" "));
    if variant > 0 {
        text.push_str(&format!("\n\nOriginally published by mirror {variant}."));
    }
    (title, text)
}

/// One note text as it was written: the text (every one is different),
/// and the write it replaced on the device that made it.
struct NoteWrite {
    note: String,
    text: String,
    base: Option<usize>,
}

/// What the test knows of what the devices did.
#[derive(Default)]
struct World {
    articles: Vec<String>,
    stories: Vec<String>,
    notes: Vec<String>,
    followups: Vec<String>,
    writes: Vec<NoteWrite>,
    /// The server's clock: the latest any device's wall clock has been,
    /// so no operation is ever ahead of it (that refusal is the clock
    /// guard's own test).
    server_ms: i64,
    /// Names for what a replica that takes ids from outside makes.
    made: usize,
}

fn pick(ids: &[String], i: usize) -> Option<&str> {
    (!ids.is_empty()).then(|| ids[i % ids.len()].as_str())
}

fn failed(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

impl World {
    fn fresh(&mut self, kind: &str) -> String {
        self.made += 1;
        format!("{kind}{}", self.made)
    }

    /// A note text nobody has written yet.
    fn note_text(&self) -> String {
        format!("note text {}", self.writes.len() + 1)
    }

    fn sync<D: Device>(
        &self,
        d: &mut D,
        server: &LocalServer,
        page: usize,
    ) -> Result<(), TestCaseError> {
        let mut transport = server.transport().at(self.server_ms);
        let s = d.sync(&mut transport, page).map_err(failed)?;
        prop_assert_eq!(s.skipped, 0, "{:?}", s);
        Ok(())
    }

    fn act<D: Device>(
        &mut self,
        devices: &mut [D],
        a: &Action,
        server: &LocalServer,
    ) -> Result<(), TestCaseError> {
        match *a {
            Action::Clip { device, text, url } => {
                let id = self.fresh("a");
                let made = devices[device].clip(
                    &id,
                    &format!("Story {text}"),
                    &format!("Story {text}\n\nThe report numbered {text}, in full."),
                    &format!("https://news.example/{url}"),
                    false,
                );
                if !self.articles.contains(&made) {
                    self.articles.push(made);
                }
            }
            Action::ClipCopy {
                device,
                report: r,
                variant,
                separate,
            } => {
                let id = self.fresh("a");
                let (title, text) = report(r, variant);
                let url = format!("https://mirror{variant}.example/report-{r}");
                let made = devices[device].clip(&id, &title, &text, &url, separate);
                if !self.articles.contains(&made) {
                    self.articles.push(made);
                }
            }
            Action::FoldCopies { device } => {
                devices[device].fold_copies();
            }
            Action::NewStory { device, title } => {
                let id = self.fresh("s");
                let made = devices[device].new_story(&id, &format!("Story {title}"));
                self.stories.push(made);
            }
            Action::StoryMember {
                device,
                story,
                article,
                on,
            } => {
                if let (Some(s), Some(a)) =
                    (pick(&self.stories, story), pick(&self.articles, article))
                {
                    devices[device].story_member(s, a, on);
                }
            }
            Action::RetitleStory {
                device,
                story,
                title,
            } => {
                if let Some(s) = pick(&self.stories, story) {
                    devices[device].retitle_story(s, &format!("Story title {title}"));
                }
            }
            Action::CloseStory {
                device,
                story,
                closed,
            } => {
                if let Some(s) = pick(&self.stories, story) {
                    devices[device].close_story(s, closed);
                }
            }
            Action::BinStory {
                device,
                story,
                binned,
            } => {
                if let Some(s) = pick(&self.stories, story) {
                    devices[device].bin_story(s, binned);
                }
            }
            Action::Retitle {
                device,
                article,
                title,
            } => {
                if let Some(a) = pick(&self.articles, article) {
                    devices[device].retitle(a, &format!("Title {title}"));
                }
            }
            Action::Tag {
                device,
                article,
                tag,
                on,
            } => {
                if let Some(a) = pick(&self.articles, article) {
                    devices[device].tag(a, TAGS[tag], on);
                }
            }
            Action::BinArticle {
                device,
                article,
                binned,
            } => {
                if let Some(a) = pick(&self.articles, article) {
                    devices[device].bin_article(a, binned);
                }
            }
            Action::AddNote { device, article } => {
                let on = match article {
                    Some(i) => match pick(&self.articles, i) {
                        Some(a) => Some(a.to_owned()),
                        None => return Ok(()),
                    },
                    None => None,
                };
                let (id, text) = (self.fresh("n"), self.note_text());
                if let Some(note) = devices[device].add_note(&id, on.as_deref(), &text) {
                    self.notes.push(note.clone());
                    self.writes.push(NoteWrite {
                        note,
                        text,
                        base: None,
                    });
                }
            }
            Action::EditNote { device, note } => {
                let Some(note) = pick(&self.notes, note).map(str::to_owned) else {
                    return Ok(());
                };
                let Some(current) = devices[device].note_text(&note) else {
                    return Ok(());
                };
                // The edit replaces the text the device shows: the write
                // that made it.
                let base = self.writes.iter().position(|w| w.text == current);
                prop_assert!(
                    base.is_some(),
                    "{note} shows {current:?}, which nobody wrote"
                );
                let text = self.note_text();
                prop_assert!(devices[device].edit_note(&note, &text));
                self.writes.push(NoteWrite { note, text, base });
            }
            Action::BinNote {
                device,
                note,
                binned,
            } => {
                if let Some(n) = pick(&self.notes, note) {
                    devices[device].bin_note(n, binned);
                }
            }
            Action::AddFollowup {
                device,
                article,
                due_hours,
            } => {
                let on = match article {
                    Some(i) => match pick(&self.articles, i) {
                        Some(a) => Some(a.to_owned()),
                        None => return Ok(()),
                    },
                    None => None,
                };
                let id = self.fresh("f");
                let d = &mut devices[device];
                let due = *d.clock() + due_hours * HOUR_MS;
                let text = format!("follow up {}", self.made);
                if let Some(f) = d.add_followup(&id, on.as_deref(), &text, due) {
                    self.followups.push(f);
                }
            }
            Action::MarkFollowup {
                device,
                followup,
                done,
            } => {
                if let Some(f) = pick(&self.followups, followup) {
                    devices[device].mark_followup(f, done);
                }
            }
            Action::Tick { device, ms } => {
                let clock = devices[device].clock();
                *clock += ms;
                self.server_ms = self.server_ms.max(*clock);
            }
            Action::Sync { device, page } => self.sync(&mut devices[device], server, page)?,
        }
        Ok(())
    }

    /// The texts `note` must keep: those written to it that no later
    /// write replaced.
    fn heads(&self, note: &str) -> Vec<String> {
        let replaced: BTreeSet<usize> = self.writes.iter().filter_map(|w| w.base).collect();
        let mut heads: Vec<String> = self
            .writes
            .iter()
            .enumerate()
            .filter(|(i, w)| w.note == note && !replaced.contains(i))
            .map(|(_, w)| w.text.clone())
            .collect();
        heads.sort();
        heads
    }
}

fn converge<D: Device>(actions: &[Action], rounds: &[Vec<usize>]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalServer::new();
    let mut devices: Vec<D> = DEVICES
        .iter()
        .map(|name| D::open(name, dir.path(), START_MS))
        .collect();
    let mut world = World {
        server_ms: START_MS,
        ..World::default()
    };
    for a in actions {
        world.act(&mut devices, a, &server)?;
        devices.iter_mut().for_each(D::look);
    }
    // Each pushes what it has, then each pulls what the others pushed.
    for round in rounds {
        for &d in round {
            world.sync(&mut devices[d], &server, 4)?;
            devices[d].look();
        }
    }
    let first = devices[0].state();
    for (name, d) in DEVICES.iter().zip(&devices).skip(1) {
        prop_assert_eq!(&first, &d.state(), "{} and {} differ", DEVICES[0], name);
    }
    for (name, d) in DEVICES.iter().zip(&mut devices) {
        d.sound().map_err(|e| failed(format!("{name}: {e}")))?;
        for (entity, ids) in [
            (Entity::Article, &world.articles),
            (Entity::Story, &world.stories),
            (Entity::Note, &world.notes),
            (Entity::Followup, &world.followups),
        ] {
            for id in ids {
                prop_assert!(d.holds(entity, id), "{} lacks {} {}", name, entity, id);
            }
        }
        for note in &world.notes {
            prop_assert_eq!(d.note_texts(note), world.heads(note), "{} {}", name, note);
        }
    }
    Ok(())
}

/// The property as a test per replica, in a module named after it.
macro_rules! convergence_tests {
    ($($replica:ident: $device:ty, $cases:expr;)*) => {$(
        mod $replica {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases($cases))]

                #[test]
                fn replicas_converge_whatever_the_order((actions, rounds) in scenario()) {
                    converge::<$device>(&actions, &rounds)?;
                }
            }
        }
    )*};
}

convergence_tests! {
    memory: MemoryReplica, 200;
    sqlite: JournalDevice, 64;
}

// ---------------------------------------------------------------------------
// The in-memory replica: fields in a map, ids from the test.

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

impl Device for MemoryReplica {
    type State = newsjournal::sync::memory::State;

    fn open(name: &str, _dir: &Path, wall_ms: i64) -> Self {
        let mut r = MemoryReplica::new(name);
        r.wall_ms = wall_ms;
        r
    }

    fn clock(&mut self) -> &mut i64 {
        &mut self.wall_ms
    }

    fn sync(&mut self, server: &mut CoreTransport<'_>, page: usize) -> Result<Summary, SyncError> {
        sync(self, server, &test_key(), page, |_| {})
    }

    /// The in-memory replica has no copy detection: a copy is an article
    /// of its own, as `separate` asks.
    fn clip(&mut self, id: &str, title: &str, text: &str, url: &str, _separate: bool) -> String {
        let now = self.wall_ms;
        self.create(
            Entity::Article,
            id,
            &[
                ("title", json!(title)),
                ("url", json!(url)),
                ("content_hash", json!(Content::new(text).hash)),
                ("clipped_at", json!(now)),
                ("deleted_at", Value::Null),
            ],
        );
        id.to_owned()
    }

    fn fold_copies(&mut self) -> usize {
        0
    }

    fn retitle(&mut self, article: &str, title: &str) -> bool {
        self.holds(Entity::Article, article) && {
            self.set(Entity::Article, article, "title", json!(title));
            true
        }
    }

    fn tag(&mut self, article: &str, tag: &str, on: bool) -> bool {
        if !self.holds(Entity::Article, article) {
            return false;
        }
        if on {
            self.link(article, tag);
        } else {
            self.unlink(article, tag);
        }
        true
    }

    fn bin_article(&mut self, article: &str, binned: bool) -> bool {
        let at = if binned {
            json!(self.wall_ms)
        } else {
            Value::Null
        };
        self.holds(Entity::Article, article) && {
            self.set(Entity::Article, article, "deleted_at", at);
            true
        }
    }

    fn add_note(&mut self, id: &str, article: Option<&str>, text: &str) -> Option<String> {
        if article.is_some_and(|a| !self.holds(Entity::Article, a)) {
            return None;
        }
        let now = self.wall_ms;
        self.create(
            Entity::Note,
            id,
            &[
                ("article_id", json!(article)),
                ("body", json!(text)),
                ("created_at", json!(now)),
                ("deleted_at", Value::Null),
            ],
        );
        Some(id.to_owned())
    }

    fn note_text(&self, note: &str) -> Option<String> {
        text(self.get(Entity::Note, note, "body"))
    }

    fn edit_note(&mut self, note: &str, text: &str) -> bool {
        self.holds(Entity::Note, note) && {
            self.set(Entity::Note, note, "body", json!(text));
            true
        }
    }

    fn bin_note(&mut self, note: &str, binned: bool) -> bool {
        let at = if binned {
            json!(self.wall_ms)
        } else {
            Value::Null
        };
        self.holds(Entity::Note, note) && {
            self.set(Entity::Note, note, "deleted_at", at);
            true
        }
    }

    fn add_followup(
        &mut self,
        id: &str,
        article: Option<&str>,
        text: &str,
        due_ms: i64,
    ) -> Option<String> {
        if article.is_some_and(|a| !self.holds(Entity::Article, a)) {
            return None;
        }
        self.create(
            Entity::Followup,
            id,
            &[
                ("article_id", json!(article)),
                ("text", json!(text)),
                ("due_at", json!(due_ms)),
                ("status", json!("open")),
            ],
        );
        Some(id.to_owned())
    }

    fn mark_followup(&mut self, followup: &str, done: bool) -> bool {
        let status = if done { "done" } else { "open" };
        self.holds(Entity::Followup, followup) && {
            self.set(Entity::Followup, followup, "status", json!(status));
            true
        }
    }

    fn new_story(&mut self, id: &str, title: &str) -> String {
        let now = self.wall_ms;
        self.create(
            Entity::Story,
            id,
            &[
                ("title", json!(title)),
                ("created_at", json!(now)),
                ("closed_at", Value::Null),
                ("deleted_at", Value::Null),
            ],
        );
        id.to_owned()
    }

    fn story_member(&mut self, story: &str, article: &str, on: bool) -> bool {
        if !self.holds(Entity::Story, story) || !self.holds(Entity::Article, article) {
            return false;
        }
        // One id for the pair, as the journal makes (from the two ids).
        let id = format!("{story}+{article}");
        let dropped = if on { Value::Null } else { json!(self.wall_ms) };
        if self.get(Entity::StoryArticle, &id, "story_id").is_some() {
            self.set(Entity::StoryArticle, &id, "dropped_at", dropped);
        } else if on {
            let now = self.wall_ms;
            self.create(
                Entity::StoryArticle,
                &id,
                &[
                    ("story_id", json!(story)),
                    ("article_id", json!(article)),
                    ("added_at", json!(now)),
                    ("dropped_at", Value::Null),
                ],
            );
        }
        true
    }

    fn retitle_story(&mut self, story: &str, title: &str) -> bool {
        self.holds(Entity::Story, story) && {
            self.set(Entity::Story, story, "title", json!(title));
            true
        }
    }

    fn close_story(&mut self, story: &str, closed: bool) -> bool {
        let at = if closed {
            json!(self.wall_ms)
        } else {
            Value::Null
        };
        self.holds(Entity::Story, story) && {
            self.set(Entity::Story, story, "closed_at", at);
            true
        }
    }

    fn bin_story(&mut self, story: &str, binned: bool) -> bool {
        let at = if binned {
            json!(self.wall_ms)
        } else {
            Value::Null
        };
        self.holds(Entity::Story, story) && {
            self.set(Entity::Story, story, "deleted_at", at);
            true
        }
    }

    fn holds(&self, entity: Entity, id: &str) -> bool {
        let field = match entity {
            Entity::Article => "title",
            Entity::Story => "title",
            Entity::Note => "body",
            Entity::Followup => "text",
            _ => return false,
        };
        self.get(entity, id, field).is_some()
    }

    fn note_texts(&self, note: &str) -> Vec<String> {
        let mut texts: Vec<String> = self
            .conflicts_of(Entity::Note, note, "body")
            .iter()
            .map(|kept| serde_json::from_str(kept).expect("a kept text is JSON"))
            .collect();
        texts.extend(self.note_text(note));
        texts.sort();
        texts
    }

    fn state(&self) -> Self::State {
        MemoryReplica::state(self)
    }

    fn sound(&mut self) -> Result<(), String> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The SQLite journal users run: a journal file, synced by `JournalReplica`.

struct JournalDevice {
    journal: Journal,
    /// A second connection to the file, for the test's own reads.
    read: rusqlite::Connection,
    wall_ms: i64,
}

impl JournalDevice {
    fn now(&self) -> Timestamp {
        Timestamp(self.wall_ms)
    }

    fn article(&self, id: &str) -> Option<ArticleRef> {
        self.read
            .query_row("SELECT seq FROM articles WHERE id = ?1", [id], |r| {
                Ok(ArticleRef {
                    rowid: r.get(0)?,
                    id: id.to_owned(),
                })
            })
            .optional()
            .unwrap()
    }

    fn story(&self, id: &str) -> Option<StoryRef> {
        self.read
            .query_row("SELECT rowid FROM stories WHERE id = ?1", [id], |r| {
                Ok(StoryRef {
                    rowid: r.get(0)?,
                    id: id.to_owned(),
                })
            })
            .optional()
            .unwrap()
    }

    fn note(&self, id: &str) -> Option<NoteRef> {
        self.read
            .query_row(
                "SELECT n.rowid, a.seq, a.id FROM notes n LEFT JOIN articles a ON a.id = n.article_id
                  WHERE n.id = ?1",
                [id],
                |r| {
                    let article = match r.get::<_, Option<i64>>(1)? {
                        Some(rowid) => Some(ArticleRef {
                            rowid,
                            id: r.get(2)?,
                        }),
                        None => None,
                    };
                    Ok(NoteRef {
                        rowid: r.get(0)?,
                        id: id.to_owned(),
                        article,
                    })
                },
            )
            .optional()
            .unwrap()
    }

    fn followup(&self, id: &str) -> Option<FollowupRef> {
        self.read
            .query_row("SELECT rowid FROM followups WHERE id = ?1", [id], |r| {
                Ok(FollowupRef {
                    rowid: r.get(0)?,
                    id: id.to_owned(),
                })
            })
            .optional()
            .unwrap()
    }

    /// One table as lines of values, in a fixed order.
    fn rows(&self, table: &str, sql: &str) -> Vec<String> {
        let mut stmt = self.read.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let values: Vec<rusqlite::types::Value> =
                    (0..n).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
                Ok(format!("{table}: {values:?}"))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        rows
    }

    /// Each field's stamp as the merge reads it: its own row, or else the
    /// row (`*`) its entity's creation stamped every field with. A journal
    /// may keep the same stamps in either form (a link two devices both
    /// made: one holds its creation's row and the other's fields, the
    /// other the other's creation row alone), and later merges see no
    /// difference.
    fn stamps(&self) -> Vec<String> {
        use std::collections::BTreeMap;
        type Stamp = (i64, i64, String);
        let mut stmt = self
            .read
            .prepare("SELECT entity, id, field, ms, counter, device FROM sync_stamps")
            .unwrap();
        let mut by_entity: BTreeMap<(String, String), BTreeMap<String, Stamp>> = BTreeMap::new();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get::<_, String>(2)?,
                    (r.get(3)?, r.get(4)?, r.get(5)?),
                ))
            })
            .unwrap();
        for row in rows {
            let (key, field, stamp) = row.unwrap();
            by_entity.entry(key).or_default().insert(field, stamp);
        }
        let mut out = Vec::new();
        for ((entity, id), mut fields) in by_entity {
            if let Some(all) = fields.remove("*") {
                for f in Entity::from_name(&entity).fields() {
                    if f.is_stamped() {
                        fields
                            .entry(f.name.to_owned())
                            .or_insert_with(|| all.clone());
                    }
                }
            }
            for (field, stamp) in fields {
                out.push(format!("sync_stamps: {entity} {id} {field} {stamp:?}"));
            }
        }
        out
    }
}

impl Device for JournalDevice {
    /// What sync carries, as rows: each entity's fields (entity.rs lists
    /// them) by id, the links by article id, the kept note texts, the
    /// field stamps, the texts held and the tag counts. Rowids and
    /// `updated_at` are each device's own, and so is when a tag link
    /// arrived.
    type State = Vec<String>;

    fn open(name: &str, dir: &Path, wall_ms: i64) -> Self {
        let path = dir.join(format!("{name}.db"));
        let mut journal = Journal::open(&path).unwrap();
        journal
            .set_meta(Timestamp(wall_ms), "device_id", name)
            .unwrap();
        journal.enable_sync(Timestamp(wall_ms)).unwrap();
        let read = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        JournalDevice {
            journal,
            read,
            wall_ms,
        }
    }

    fn clock(&mut self) -> &mut i64 {
        &mut self.wall_ms
    }

    /// As `nj sync` does: the sync, then the fold of the copies it
    /// brought.
    fn sync(&mut self, server: &mut CoreTransport<'_>, page: usize) -> Result<Summary, SyncError> {
        let now = self.now();
        let seen = self.journal.last_article_seq().unwrap();
        let summary = {
            let mut r = JournalReplica::new(&mut self.journal, now);
            sync(&mut r, server, &test_key(), page, |_| {})?
        };
        self.journal.fold_pulled_copies(now, seen).unwrap();
        Ok(summary)
    }

    fn clip(&mut self, _id: &str, title: &str, text: &str, url: &str, separate: bool) -> String {
        let clip = NewClip {
            content: Content::new(text),
            title: title.to_owned(),
            urls: vec![url.to_owned()],
            separate,
            ..NewClip::default()
        };
        self.journal.clip(self.now(), &clip).unwrap().article.id
    }

    fn fold_copies(&mut self) -> usize {
        let now = self.now();
        let groups = self.journal.copy_groups(now).unwrap();
        self.journal.fold_copies(now, &groups).unwrap()
    }

    fn retitle(&mut self, article: &str, title: &str) -> bool {
        let Some(a) = self.article(article) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.set_title(&a, title))
            .unwrap();
        true
    }

    fn tag(&mut self, article: &str, tag: &str, on: bool) -> bool {
        let Some(a) = self.article(article) else {
            return false;
        };
        let tag = vec![tag.to_owned()];
        let (add, remove) = if on { (&tag, &vec![]) } else { (&vec![], &tag) };
        self.journal
            .write(self.now(), |tx| tx.retag(&a, add, remove))
            .unwrap();
        true
    }

    fn bin_article(&mut self, article: &str, binned: bool) -> bool {
        let Some(a) = self.article(article) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.set_removed(&a, binned))
            .unwrap();
        true
    }

    fn add_note(&mut self, _id: &str, article: Option<&str>, text: &str) -> Option<String> {
        let on = match article {
            Some(id) => Some(self.article(id)?),
            None => None,
        };
        let note = self
            .journal
            .write(self.now(), |tx| tx.add_note(on.as_ref(), text))
            .unwrap();
        Some(note.id)
    }

    fn note_text(&self, note: &str) -> Option<String> {
        self.read
            .query_row("SELECT body FROM notes WHERE id = ?1", [note], |r| r.get(0))
            .optional()
            .unwrap()
    }

    fn edit_note(&mut self, note: &str, text: &str) -> bool {
        let (Some(n), Some(current)) = (self.note(note), self.note_text(note)) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.edit_note(&n, text, &current))
            .unwrap()
    }

    fn bin_note(&mut self, note: &str, binned: bool) -> bool {
        let Some(n) = self.note(note) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| {
                if binned {
                    tx.remove_note(&n)
                } else {
                    tx.restore_note(&n)
                }
            })
            .unwrap();
        true
    }

    fn add_followup(
        &mut self,
        _id: &str,
        article: Option<&str>,
        text: &str,
        due_ms: i64,
    ) -> Option<String> {
        let on = match article {
            Some(id) => Some(self.article(id)?),
            None => None,
        };
        let f = self
            .journal
            .write(self.now(), |tx| {
                tx.create_followup(on.as_ref(), text, Timestamp(due_ms), None)
            })
            .unwrap();
        Some(f.id)
    }

    fn mark_followup(&mut self, followup: &str, done: bool) -> bool {
        let Some(f) = self.followup(followup) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| {
                if done {
                    tx.mark_done(&f).map(|_| ())
                } else {
                    tx.reopen(&f).map(|_| ())
                }
            })
            .unwrap();
        true
    }

    fn new_story(&mut self, _id: &str, title: &str) -> String {
        self.journal
            .write(self.now(), |tx| tx.create_story(title))
            .unwrap()
            .id
    }

    fn story_member(&mut self, story: &str, article: &str, on: bool) -> bool {
        let (Some(s), Some(a)) = (self.story(story), self.article(article)) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| {
                if on {
                    tx.add_to_story(&s, &a)
                } else {
                    tx.drop_from_story(&s, &a)
                }
            })
            .unwrap();
        true
    }

    fn retitle_story(&mut self, story: &str, title: &str) -> bool {
        let Some(s) = self.story(story) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.set_story_title(&s, title))
            .unwrap();
        true
    }

    fn close_story(&mut self, story: &str, closed: bool) -> bool {
        let Some(s) = self.story(story) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.set_story_closed(&s, closed))
            .unwrap();
        true
    }

    fn bin_story(&mut self, story: &str, binned: bool) -> bool {
        let Some(s) = self.story(story) else {
            return false;
        };
        self.journal
            .write(self.now(), |tx| tx.set_story_removed(&s, binned))
            .unwrap();
        true
    }

    fn holds(&self, entity: Entity, id: &str) -> bool {
        let table = entity.table().unwrap();
        self.read
            .query_row(
                &format!("SELECT 1 FROM {table} WHERE id = ?1"),
                [id],
                |_| Ok(()),
            )
            .optional()
            .unwrap()
            .is_some()
    }

    fn note_texts(&self, note: &str) -> Vec<String> {
        let mut texts = self.journal.note_conflicts(note).unwrap();
        texts.extend(self.note_text(note));
        texts.sort();
        texts
    }

    fn state(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entity in Entity::ALL {
            let table = entity.table().unwrap();
            let sql = match entity.storage() {
                newsjournal::entity::Storage::Rows => {
                    let columns: Vec<&str> = entity.columns().iter().map(|f| f.name).collect();
                    format!("SELECT id, {} FROM {table} ORDER BY id", columns.join(", "))
                }
                newsjournal::entity::Storage::UrlLinks => format!(
                    "SELECT a.id, l.url, l.added_at FROM {table} l
                       JOIN articles a ON a.seq = l.article_seq ORDER BY a.id, l.url"
                ),
                newsjournal::entity::Storage::TagLinks => format!(
                    "SELECT a.id, l.tag FROM {table} l
                       JOIN articles a ON a.seq = l.article_seq ORDER BY a.id, l.tag"
                ),
            };
            out.extend(self.rows(table, &sql));
        }
        for (table, sql) in [
            (
                "note_conflicts",
                "SELECT * FROM note_conflicts ORDER BY note_id, ms, counter, device",
            ),
            ("texts", "SELECT hash FROM texts ORDER BY hash"),
            ("tag_counts", "SELECT * FROM tag_counts ORDER BY tag"),
        ] {
            out.extend(self.rows(table, sql));
        }
        out.extend(self.stamps());
        out
    }

    fn look(&mut self) {
        for (closed, removed) in [(false, false), (true, false), (false, true)] {
            self.journal.stories(closed, removed).unwrap();
        }
    }

    fn sound(&mut self) -> Result<(), String> {
        // The figures `nj stories` kept through every change are those
        // worked out afresh.
        for (closed, removed) in [(false, false), (true, false), (false, true)] {
            let kept = self.journal.stories(closed, removed).unwrap();
            rusqlite::Connection::open(self.read.path().unwrap())
                .unwrap()
                .execute("DELETE FROM story_figures", [])
                .unwrap();
            let afresh = self.journal.stories(closed, removed).unwrap();
            let (kept, afresh) = (
                serde_json::to_string(&kept).unwrap(),
                serde_json::to_string(&afresh).unwrap(),
            );
            if kept != afresh {
                return Err(format!("nj stories kept {kept}, afresh {afresh}"));
            }
        }
        // Only what a newer nj makes is held.
        let held: i64 = self
            .read
            .query_row("SELECT count(*) FROM held_ops", [], |r| r.get(0))
            .unwrap();
        if held > 0 {
            return Err(format!("{held} operations of this nj's own were held"));
        }
        let report = self.journal.verify().map_err(|e| e.to_string())?;
        let sound = report.index_ok
            && report.tag_counts_ok
            && report.mismatches.is_empty()
            && report.inconsistent.is_empty();
        if sound {
            Ok(())
        } else {
            Err(format!(
                "verify: index {}, tag counts {}, {} mismatched, {} inconsistent",
                report.index_ok,
                report.tag_counts_ok,
                report.mismatches.len(),
                report.inconsistent.len()
            ))
        }
    }
}
