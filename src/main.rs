//! `nj`: parse the command line, run the command, and map errors to an exit
//! code and a one-line message. Everything else lives in the library.

mod cmd;

use std::process::ExitCode;

// An import allocates on one thread (the file's reader) what it frees on
// another (the writer), and glibc's malloc spent much of the writing
// thread waiting on its arena locks there. mimalloc frees across threads
// without them (the import bench's times are in docs/benchmarks.md, "Links
// by rowid, and another allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::parse();
    match cli.run() {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`nj list | head`) is how the reader says it has
            // seen enough: not an error.
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // A title or note inside a message shows its control
            // characters, never runs them.
            eprintln!("nj: {}", cmd::output::visible(&message(&err)));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || matches!(
                e.downcast_ref::<newsjournal::Error>(),
                Some(newsjournal::Error::Io(io)) if io.kind() == BrokenPipe
            )
    })
}

/// The error and its causes on one line, without repeating a cause that the
/// message already includes.
fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out
}
