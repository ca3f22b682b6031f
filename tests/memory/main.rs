//! Issue 17, item 7: hostile exports that held unbounded pieces in
//! memory, run through the real binary with its peak memory measured.
//!
//! These are a test binary of their own because the kernel's count of a
//! child's peak (`ru_maxrss`) starts from the peak of the process that
//! forked it: from the integration tests, whose buffers reach 170 MiB, every
//! child measured 174 MiB. This process stays a few MiB, so what is
//! measured is nj's.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde_json::{json, Value};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

#[path = "../integration/util.rs"]
#[allow(dead_code)]
mod util;

use util::{import_report, Env, Out};

// Each export is built here, small on disk (a highly compressible field deflates
// a thousandfold), and each test checks nj's peak memory as well as what
// it says.

/// `nj ARGS` run to its end, and its peak resident memory in MiB: the
/// kernel's own count for that one process (`ru_maxrss` from `wait4`),
/// which neither sampling nor an address-space limit gives reliably (the
/// allocator reserves address space it never touches). `None` where that
/// call is not declared here.
fn nj_peak(env: &Env, args: &[&str]) -> (Out, Option<u64>) {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        use std::os::unix::process::ExitStatusExt;
        use std::process::Stdio;

        /// Linux's `struct rusage` on 64-bit targets: two `timeval`s,
        /// then fourteen `long`s, `ru_maxrss` (KiB) first.
        #[repr(C)]
        struct Rusage {
            times: [i64; 4],
            maxrss: i64,
            rest: [i64; 13],
        }
        extern "C" {
            fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
        }
        // Waited for below, by wait4, which std's wait cannot replace: it
        // gives no resource usage.
        #[allow(clippy::zombie_processes)]
        let mut child = env
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nj");
        let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                pipe.read_to_end(&mut bytes).unwrap();
                bytes
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let mut status = 0;
        let mut usage = Rusage {
            times: [0; 4],
            maxrss: 0,
            rest: [0; 13],
        };
        // SAFETY: the child is ours and not yet waited for (so its pid is
        // still its own), and both pointers are to live values of the
        // kernel's layout. std's Child does not wait again when dropped.
        let pid = unsafe { wait4(child.id() as i32, &mut status, 0, &mut usage) };
        assert_eq!(pid, child.id() as i32, "wait4 failed");
        let output = std::process::Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        };
        (Out::from(output), Some(usage.maxrss as u64 / 1024))
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    {
        (env.nj(args), None)
    }
}

/// Asserts a peak measured by [`nj_peak`] is at most `most` MiB.
#[track_caller]
fn assert_peak(peak: Option<u64>, most: u64) {
    if let Some(peak) = peak {
        // Seen with --nocapture, for setting the bounds.
        eprintln!("nj's peak memory: {peak} MiB (at most {most})");
        assert!(
            peak <= most,
            "nj's peak memory was {peak} MiB, over {most} MiB"
        );
    }
}

/// Writes the ZIP at `path` with what `members` writes into it, deflated
/// as the real exports are.
fn zip_with(path: &Path, members: impl FnOnce(&mut ZipWriter<File>, SimpleFileOptions)) {
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    members(&mut zip, options);
    zip.finish().unwrap();
}

/// Writes `bytes` bytes of `pattern`, repeated, a megabyte at a time.
fn write_repeated(w: &mut impl Write, pattern: &[u8], bytes: usize) {
    let block = pattern.repeat((1 << 20) / pattern.len());
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len());
        w.write_all(&block[..n]).unwrap();
        left -= n;
    }
}

/// Issue 17, item 7: a 1 MB Pocket ZIP whose CSV has a URL of 1 GB took
/// more than that in memory, as the csv crate holds a whole row before it
/// hands it over. A row is read to 4 MB at most; past that the import
/// stops, naming the line (a quote left open is the likely cause).
#[test]
fn regression_a_csv_row_of_a_huge_field_was_held_whole() {
    let env = Env::new();
    let path = env.path("pocket.zip");
    zip_with(&path, |zip, options| {
        zip.start_file("part_000000.csv", options).unwrap();
        zip.write_all(b"title,url,time_added,cursor,tags,status\nOne,https://one.example/,1700000000,a,,unread\nBig,https://big.example/")
            .unwrap();
        write_repeated(zip, b"a", 64 << 20);
        zip.write_all(b",1700000000,b,,unread\n").unwrap();
    });
    let (out, peak) = nj_peak(&env, &["import", "pocket.zip"]);
    assert_peak(peak, 48);
    let msg = out.failure();
    assert!(
        msg.contains("line 3 of pocket.zip: part_000000.csv starts a row of more than 4 MB, so nothing was imported; "),
        "{msg}"
    );
    assert_eq!(env.list_json(), json!([]));
    env.nj(&["verify"]).success();
}

/// Issue 17, item 7: a 261 KB ZIP of 134 million bad rows ran out of
/// memory keeping each rejection's place and reason. The first 100 are
/// listed, the rest counted ("... and N more rejected"; `rejected_count`
/// in JSON).
#[test]
fn regression_every_rejected_row_was_kept() {
    let env = Env::new();
    let bad = 500_000;
    let path = env.path("bad.zip");
    zip_with(&path, |zip, options| {
        zip.start_file("part_000000.csv", options).unwrap();
        zip.write_all(b"title,url,time_added,cursor,tags,status\nOne,https://one.example/,1700000000,a,,unread\n")
            .unwrap();
        write_repeated(zip, b"x\n", 2 * bad);
    });
    let (out, peak) = nj_peak(&env, &["import", "bad.zip"]);
    assert_peak(peak, 64);
    let out = out.success();
    assert_eq!(
        out.stdout,
        import_report(Path::new("bad.zip"), "Pocket CSV", (1, 0, 0, bad))
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 101, "{}", &out.stderr[..2000]);
    assert_eq!(
        lines[0],
        "rejected part_000000.csv line 3: has 1 fields where the header has 6; a field with a comma may lack its quotes"
    );
    assert!(lines[99].starts_with("rejected part_000000.csv line 102: "));
    assert_eq!(lines[100], format!("... and {} more rejected", bad - 100));

    let again = env.nj(&["--json", "import", "bad.zip"]).json();
    assert_eq!(again["skipped_duplicate"], 1);
    assert_eq!(again["rejected"].as_array().unwrap().len(), 100);
    assert_eq!(again["rejected"][0]["item"], "part_000000.csv line 3");
    assert_eq!(again["rejected_count"], bad);
    env.nj(&["verify"]).success();
}

/// Issue 17, item 7: an Omnivore text of 512 MB was read whole (and then
/// rejected, being over the 50 MB an article's text may be). A member is
/// read no further than its cap: this one is not decompressed at all, its
/// item is rejected, and the others import.
#[test]
fn regression_an_omnivore_text_over_the_cap_was_read_whole() {
    let env = Env::new();
    let path = env.path("omnivore.zip");
    zip_with(&path, |zip, options| {
        zip.start_file("metadata_0_to_2.json", options).unwrap();
        zip.write_all(br#"[{"slug": "big", "url": "https://big.example/"}, {"slug": "small", "url": "https://small.example/"}]"#)
            .unwrap();
        zip.start_file("content/big.html", options).unwrap();
        zip.write_all(b"<p>").unwrap();
        write_repeated(zip, b"a", 60 << 20);
        zip.start_file("content/small.html", options).unwrap();
        zip.write_all(b"<p>A small page.</p>").unwrap();
    });
    let (out, peak) = nj_peak(&env, &["import", "omnivore.zip"]);
    assert_peak(peak, 48);
    let out = out.success();
    assert_eq!(
        out.stdout,
        import_report(Path::new("omnivore.zip"), "Omnivore ZIP", (1, 0, 0, 1))
    );
    assert_eq!(
        out.stderr,
        "rejected metadata_0_to_2.json entry 1: the article's text (content/big.html) is more than 50 MB, and an article's text holds at most 50 MB; clip the article from its page instead\n"
    );
    let id = env.list_json()[0]["id"].as_str().unwrap().to_owned();
    let text = env.nj(&["show", &id, "--text"]).success().stdout;
    assert_eq!(text.trim(), "A small page.");
    env.nj(&["verify"]).success();
}

/// Issue 17, item 7: a 48 KB Omnivore ZIP whose 2,000 items share one 20
/// MB page ran out of memory: the page was read again for each item, and
/// a batch of them held at once. The page is read once, for the first
/// item with its slug; the others come in without text (pending).
#[test]
fn regression_omnivore_items_sharing_one_page_each_read_it() {
    let env = Env::new();
    let items = 2000;
    let path = env.path("shared.zip");
    zip_with(&path, |zip, options| {
        let list: Vec<Value> = (0..items)
            .map(|i| json!({"slug": "p", "url": format!("https://s.example/{i}")}))
            .collect();
        zip.start_file("metadata_0_to_2000.json", options).unwrap();
        zip.write_all(serde_json::to_string(&list).unwrap().as_bytes())
            .unwrap();
        zip.start_file("content/p.html", options).unwrap();
        zip.write_all(b"<p>").unwrap();
        write_repeated(zip, b"word ", 8 << 20);
    });
    let (out, peak) = nj_peak(&env, &["import", "shared.zip"]);
    assert_peak(peak, 160);
    let out = out.success();
    assert_eq!(
        out.stdout,
        import_report(Path::new("shared.zip"), "Omnivore ZIP", (items, 0, 0, 0))
    );
    let pending = env
        .nj(&["--json", "list", "--pending", "--limit", "0"])
        .json();
    assert_eq!(pending.as_array().unwrap().len(), items - 1);
    env.nj(&["verify"]).success();
}

/// Issue 17, item 7: the items the reader had made ready and the writer
/// not yet stored were bounded by count (four batches of 256, and the one
/// being filled), whatever they weighed: with exported texts of 20 MB, a
/// batch alone was 5 GB. They are bounded by bytes too. Here 250 items
/// each bring a highlight of 1 MB (a note: a text weighs as much, but is
/// slow to render in a test build), all held at once before (375 MB at
/// the peak; 185 MB now, most of it SQLite's caches).
#[test]
fn regression_items_in_flight_were_bounded_by_count_only() {
    let env = Env::new();
    let items = 250;
    let path = env.path("heavy.zip");
    zip_with(&path, |zip, options| {
        let list: Vec<Value> = (0..items)
            .map(|i| json!({"slug": format!("p{i}"), "url": format!("https://h.example/{i}")}))
            .collect();
        zip.start_file("metadata_0_to_250.json", options).unwrap();
        zip.write_all(serde_json::to_string(&list).unwrap().as_bytes())
            .unwrap();
        for i in 0..items {
            zip.start_file(format!("highlights/p{i}.md"), options)
                .unwrap();
            write!(zip, "> Highlight {i}: ").unwrap();
            write_repeated(zip, b"a", 1_000_000);
        }
    });
    let (out, peak) = nj_peak(&env, &["import", "heavy.zip"]);
    assert_peak(peak, 250);
    let out = out.success();
    assert_eq!(
        out.stdout,
        import_report(Path::new("heavy.zip"), "Omnivore ZIP", (items, 0, 0, 0))
    );
    env.nj(&["verify"]).success();
}

/// Issue 17, item 7: a wallabag entry with a `content` of 512 MB was read
/// whole (serde_json holds a whole string before handing it over). An
/// entry is read to 64 MB at most; past that the import stops and names
/// the entry.
#[test]
fn regression_a_wallabag_entry_of_a_huge_text_was_held_whole() {
    let env = Env::new();
    let path = env.path("wallabag.json");
    let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
    file.write_all(br#"[{"url": "https://ok.example/", "content": "<p>Fine.</p>"}, {"url": "https://big.example/", "content": "<p>"#)
        .unwrap();
    write_repeated(&mut file, b"a", 200 << 20);
    file.write_all(br#""}]"#).unwrap();
    file.into_inner().unwrap().sync_all().unwrap();
    let (out, peak) = nj_peak(&env, &["import", "wallabag.json"]);
    assert_peak(peak, 200);
    let msg = out.failure();
    assert!(
        msg.contains("entry 2 of wallabag.json is more than 64 MB, more than an article's text (at most 50 MB) and its annotations take, so nothing was imported; "),
        "{msg}"
    );
    assert_eq!(env.list_json(), json!([]));
    env.nj(&["verify"]).success();
}
