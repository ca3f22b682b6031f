//! The sync protocol and merge, in process: replicas in memory syncing
//! through the real server's core (`Core::transport`), without HTTP.
//! Nothing anyone wrote may be lost, and replicas that have seen the same
//! operations hold the same journal (`sync_converge.rs` tries every order
//! of syncing, on each kind of replica).

use newsjournal::entity::Entity;
use newsjournal::sync::memory::{test_key, MemoryReplica, Watched};
use newsjournal::sync::{sync, Envelope, Sealer, Summary, SyncError, Transport};
use serde_json::{json, Value};

use crate::util::LocalServer;

fn run(r: &mut MemoryReplica, server: &LocalServer, page: usize) -> Summary {
    sync(r, &mut server.transport(), &test_key(), page, |_| {}).expect("sync")
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("<none>")
}

#[test]
fn concurrent_edits_of_one_note_keep_both_texts() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    a.create(Entity::Note, "n1", &[("body", json!("first draft"))]);
    run(&mut a, &server, 10);
    run(&mut b, &server, 10);
    // Both edit offline; B's edit is later.
    a.wall_ms += 1_000;
    a.set(Entity::Note, "n1", "body", json!("A's version"));
    b.wall_ms += 2_000;
    b.set(Entity::Note, "n1", "body", json!("B's version"));
    let sa = run(&mut a, &server, 10);
    let sb = run(&mut b, &server, 10);
    run(&mut a, &server, 10);
    assert_eq!((sa.conflicts, sb.conflicts), (0, 1));
    for r in [&a, &b] {
        assert_eq!(text(r.get(Entity::Note, "n1", "body")), "B's version");
        assert_eq!(
            r.conflicts_of(Entity::Note, "n1", "body"),
            vec!["\"A's version\"".to_string()]
        );
    }
    assert_eq!(a.state(), b.state());
}

#[test]
fn sequential_edits_are_not_conflicts() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    a.create(Entity::Note, "n1", &[("body", json!("one"))]);
    run(&mut a, &server, 10);
    run(&mut b, &server, 10);
    b.set(Entity::Note, "n1", "body", json!("two"));
    run(&mut b, &server, 10);
    run(&mut a, &server, 10);
    a.set(Entity::Note, "n1", "body", json!("three"));
    run(&mut a, &server, 10);
    let mut c = MemoryReplica::new("device-c");
    run(&mut c, &server, 2);
    run(&mut b, &server, 10);
    for r in [&a, &b, &c] {
        assert_eq!(text(r.get(Entity::Note, "n1", "body")), "three");
        assert!(r.conflicts_of(Entity::Note, "n1", "body").is_empty());
    }
}

#[test]
fn a_removal_and_an_edit_both_survive() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    a.create(
        Entity::Note,
        "n1",
        &[("body", json!("draft")), ("deleted_at", Value::Null)],
    );
    run(&mut a, &server, 10);
    run(&mut b, &server, 10);
    a.set(
        Entity::Note,
        "n1",
        "deleted_at",
        json!(1_700_000_100_000i64),
    );
    b.set(Entity::Note, "n1", "body", json!("important addition"));
    run(&mut a, &server, 10);
    run(&mut b, &server, 10);
    run(&mut a, &server, 10);
    for r in [&a, &b] {
        assert_eq!(
            text(r.get(Entity::Note, "n1", "body")),
            "important addition"
        );
        assert_eq!(
            r.get(Entity::Note, "n1", "deleted_at"),
            Some(&json!(1_700_000_100_000i64))
        );
    }
}

#[test]
fn tags_added_on_both_sides_are_one_set() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    a.link("art", "courts");
    a.link("art", "jedi");
    b.link("art", "jedi");
    b.link("art", "cloud");
    b.unlink("art", "cloud");
    for _ in 0..2 {
        run(&mut a, &server, 3);
        run(&mut b, &server, 3);
    }
    assert_eq!(a.state(), b.state());
    let linked = |tag: &str| {
        a.get(
            Entity::Tag,
            &newsjournal::sync::tag_link_id("art", tag),
            "linked",
        )
        .cloned()
    };
    assert_eq!(
        (linked("courts"), linked("jedi"), linked("cloud")),
        (Some(json!(true)), Some(json!(true)), Some(json!(false)))
    );
}

#[test]
fn a_device_joining_late_receives_everything() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut b = MemoryReplica::new("device-b");
    for i in 0..25 {
        a.create(
            Entity::Article,
            &format!("a{i}"),
            &[("title", json!(format!("story {i}")))],
        );
        b.set(
            Entity::Article,
            &format!("a{i}"),
            "title",
            json!(format!("retitled {i}")),
        );
    }
    run(&mut a, &server, 7);
    run(&mut b, &server, 7);
    run(&mut a, &server, 7);
    let mut c = MemoryReplica::new("device-c");
    let s = run(&mut c, &server, 7);
    assert_eq!(s.pulled, 50);
    assert_eq!(c.state(), a.state());
    assert_eq!(c.state(), b.state());
}

#[test]
fn a_clock_an_hour_wrong_still_converges() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    let mut slow = MemoryReplica::new("device-slow");
    slow.wall_ms -= 3_600_000;
    a.create(Entity::Article, "x", &[("title", json!("from A"))]);
    run(&mut a, &server, 10);
    run(&mut slow, &server, 10);
    // The slow device has seen A's change, so its edit wins even though
    // its wall clock says it happened an hour earlier.
    slow.set(Entity::Article, "x", "title", json!("from the slow device"));
    run(&mut slow, &server, 10);
    run(&mut a, &server, 10);
    assert_eq!(
        text(a.get(Entity::Article, "x", "title")),
        "from the slow device"
    );
    assert_eq!(a.state(), slow.state());
}

#[test]
fn page_boundaries() {
    for (ops, page) in [(0usize, 5usize), (10, 5), (11, 5), (4, 5), (1, 1)] {
        let server = LocalServer::new();
        let mut a = MemoryReplica::new("device-a");
        for i in 0..ops {
            a.create(Entity::Article, &format!("a{i}"), &[("title", json!(i))]);
        }
        let pushed = run(&mut a, &server, page);
        assert_eq!(pushed.pushed, ops, "{ops} ops, page {page}");
        let mut b = MemoryReplica::new("device-b");
        let pulled = run(&mut b, &server, page);
        assert_eq!(pulled.pulled, ops, "{ops} ops, page {page}");
        assert_eq!(b.state(), a.state());
        // Nothing to do the second time.
        assert_eq!(run(&mut b, &server, page), Summary::default());
    }
}

#[test]
fn pushes_are_idempotent_and_a_changed_operation_is_refused() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    for i in 0..6 {
        a.create(Entity::Article, &format!("a{i}"), &[("title", json!(i))]);
    }
    let ops: Vec<Envelope> = {
        use newsjournal::sync::Replica;
        let sealer = Sealer::new(&test_key(), &server.journal);
        let ops: Vec<Envelope> = a
            .unpushed(100)
            .unwrap()
            .iter()
            .map(|o| sealer.seal(o))
            .collect();
        // Sealing again gives the same bytes: a retried push is the same push.
        let again: Vec<Envelope> = a
            .unpushed(100)
            .unwrap()
            .iter()
            .map(|o| sealer.seal(o))
            .collect();
        assert_eq!(ops, again);
        ops
    };
    let mut t = server.transport();
    t.push(&ops[0..4]).unwrap();
    // A retry of an overlapping range adds nothing twice.
    t.push(&ops[2..6]).unwrap();
    t.push(&ops[0..6]).unwrap();
    assert_eq!(server.len(), 6);
    let mut forged = ops[3].clone();
    forged.payload = b"{}".to_vec();
    assert!(matches!(
        t.push(&[forged]),
        Err(SyncError::Conflict { seq: 4, .. })
    ));
    assert_eq!(server.len(), 6);
}

#[test]
fn an_interrupted_pull_resumes_after_the_last_applied_page() {
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    for i in 0..9 {
        a.create(Entity::Article, &format!("a{i}"), &[("title", json!(i))]);
    }
    run(&mut a, &server, 100);

    let mut b = MemoryReplica::new("device-b");
    let err = sync(
        &mut b,
        &mut Watched::new(server.transport(), Some(2)),
        &test_key(),
        4,
        |_| {},
    );
    assert!(err.is_err());
    use newsjournal::sync::Replica;
    assert_eq!(b.cursor(), 8);
    let rest = run(&mut b, &server, 4);
    assert_eq!(rest.pulled, 1);
    assert_eq!(b.state(), a.state());
}

/// The case the convergence property once shrank to, when it lived here
/// (its seed was in `tests/proptest-regressions/sync_merge.txt`): two
/// devices edit a note to the same text, one of them twice, before either
/// has synced.
#[test]
fn regression_the_same_text_written_on_two_devices_converges() {
    let server = LocalServer::new();
    let mut rs = [
        MemoryReplica::new("device-a"),
        MemoryReplica::new("device-b"),
        MemoryReplica::new("device-c"),
    ];
    rs[1].set(Entity::Note, "n1", "body", json!("text 0"));
    rs[0].set(Entity::Note, "n1", "body", json!("text 0"));
    rs[0].set(Entity::Note, "n1", "body", json!("text 0"));
    for _ in 0..2 {
        for r in rs.iter_mut() {
            run(r, &server, 4);
        }
    }
    assert_eq!(rs[0].state(), rs[1].state());
    assert_eq!(rs[1].state(), rs[2].state());
}

#[test]
fn a_device_does_not_pull_back_what_it_just_pushed_but_never_skips_others() {
    use newsjournal::sync::Replica;
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    for i in 0..5 {
        a.create(Entity::Article, &format!("a{i}"), &[("title", json!(i))]);
    }
    // Into an empty journal: every position is A's own, so A's cursor
    // moves past them without pulling them.
    let mut counting = Watched::new(server.transport(), None);
    let first = sync(&mut a, &mut counting, &test_key(), 2, |_| {}).unwrap();
    assert_eq!((first.pushed, first.pulled), (5, 0));
    assert_eq!(counting.fetched, 0, "pulled its own operations back");
    assert_eq!(a.cursor(), 5);

    // B pushes between A's batches: A's cursor must not jump past B's.
    let mut b = MemoryReplica::new("device-b");
    b.create(Entity::Article, "b0", &[("title", json!("from b"))]);
    for i in 5..9 {
        a.create(Entity::Article, &format!("a{i}"), &[("title", json!(i))]);
    }
    run(&mut b, &server, 2);
    let second = run(&mut a, &server, 2);
    assert_eq!((second.pushed, second.pulled), (4, 1));
    assert_eq!(
        a.get(Entity::Article, "b0", "title"),
        Some(&json!("from b"))
    );
    assert_eq!(a.cursor(), server.len() as u64);
    run(&mut b, &server, 2);
    assert_eq!(a.state(), b.state());
}

#[test]
fn a_payload_in_a_newer_format_stops_the_pull_before_it_instead_of_skipping_it() {
    use newsjournal::sync::Replica;
    let server = LocalServer::new();
    let mut a = MemoryReplica::new("device-a");
    a.create(Entity::Article, "a1", &[("title", json!("one"))]);
    run(&mut a, &server, 10);
    // Version byte 2 alone is damage (or a forgery): skipped.
    server
        .transport()
        .push(&[Envelope {
            device: "device-y".into(),
            seq: 1,
            hlc_ms: 0,
            payload: vec![2; 80],
        }])
        .unwrap();
    // What a newer nj would write: version byte 2 and the proof that a
    // holder of the key wrote it.
    let newer =
        test_key()
            .sync_keys()
            .newer_payload_op(2, &server.journal, "device-z", 1, &[2; 60]);
    server
        .transport()
        .push(&[Envelope {
            device: "device-z".into(),
            seq: 1,
            hlc_ms: 0,
            payload: newer,
        }])
        .unwrap();
    let mut b = MemoryReplica::new("device-b");
    let err = sync(&mut b, &mut server.transport(), &test_key(), 1, |_| {}).unwrap_err();
    assert!(matches!(err, SyncError::NewerFormat(2)), "{err}");
    assert!(err.to_string().contains("update nj"), "{err}");
    // The pages before it were applied (the damaged one skipped); the
    // newer one waits for an update.
    assert_eq!(b.cursor(), 2);
    assert_eq!(b.get(Entity::Article, "a1", "title"), Some(&json!("one")));
}

#[test]
fn a_journal_from_before_encryption_is_refused_with_what_to_do() {
    let server = LocalServer::new();
    server
        .transport()
        .push(&[Envelope {
            device: "old".into(),
            seq: 1,
            hlc_ms: 0,
            payload: br#"{"device":"old","seq":1}"#.to_vec(),
        }])
        .unwrap();
    let mut a = MemoryReplica::new("device-a");
    a.create(Entity::Article, "a1", &[("title", json!("one"))]);
    let err = sync(&mut a, &mut server.transport(), &test_key(), 10, |_| {}).unwrap_err();
    assert!(matches!(err, SyncError::PlainJournal), "{err}");
    assert!(err.to_string().contains("nj server new-journal"), "{err}");
    assert_eq!(server.len(), 1, "nothing was pushed");
}
