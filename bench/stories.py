#!/usr/bin/env python3
"""The stories bench: story commands on a journal of 100,000 articles.

Copies the journal bench/run builds (bench/out/journal-100000.db) so it is
left as it was, then, with nj itself, makes 1,000 stories: the first with
500 articles, the others with 3 each. Times, as whole processes (median and
90th percentile of --runs runs):

- `nj story show` of the story of 500 articles (its whole timeline);
- `nj stories` (1,000 open stories, each with its counts), as it runs
  most of the time (every figure kept), after a note on one story (its
  figures worked out again), and with every story's figures to work out;
- `nj recheck --scheduled` with nothing due (every article checked just
  now, as the previous run would have);
- `nj clip FILE` of a new article, which looks for a story it belongs with
  (the suggestion), against the same clip with no open story.

    bench/stories.py [--db bench/out/journal-100000.db] [--runs 20]

Set BENCH_NJ to measure another build.
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(nj, env, *args, stdin=None):
    p = subprocess.run([nj, *args], env=env, stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SystemExit(f"nj {' '.join(args)} failed: {p.stderr.decode()}")
    return p.stdout


def timed(nj, env, *args):
    start = time.perf_counter()
    run(nj, env, *args)
    return (time.perf_counter() - start) * 1000


def row(name, ms):
    ms = sorted(ms)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return f"| {name} | {statistics.median(ms):.1f} | {p90:.1f} | {ms[0]:.1f} | {len(ms)} |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=os.path.join(ROOT, "bench/out/journal-100000.db"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--stories", type=int, default=1000)
    a = ap.parse_args()
    nj = os.environ.get("BENCH_NJ", os.path.join(ROOT, "target/release/nj"))
    out = os.path.join(ROOT, "bench/out")
    db = os.path.join(out, "stories-bench.db")
    work = os.path.join(out, "stories-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(a.db, db)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NJ_DB": db, "HOME": work,
           "NO_COLOR": "1", "TZ": "UTC"}

    # The upgrade (migrations) happens here, not in a timed run.
    run(nj, env, "stories")
    ids = [x["id"][:12] for x in json.loads(run(nj, env, "--json", "list", "--limit", "0"))]

    # Clips with no open story first: the baseline.
    fresh = [os.path.join(out, f"fresh-{i}.txt") for i in range(30)]
    fresh = [f for f in fresh if os.path.exists(f)]
    if len(fresh) < a.runs // 2 + a.runs:
        raise SystemExit("bench/out/fresh-N.txt are missing: run bench/run first")
    base = [timed(nj, env, "clip", f) for f in fresh[: a.runs // 2]]

    run(nj, env, "story", "new", "Story 0", *ids[:500])
    for i in range(1, a.stories):
        start = 500 + (i - 1) * 3
        run(nj, env, "story", "new", f"Story {i}", *ids[start:start + 3])

    show = [timed(nj, env, "story", "show", "story-0") for _ in range(a.runs)]
    listed = [timed(nj, env, "stories") for _ in range(a.runs)]
    # Each story's figures are kept (story_figures) and worked out again
    # for the stories a change touched: one story after a note on it, and
    # all of them, as the first run after the upgrade does.
    touched = []
    for i in range(a.runs):
        run(nj, env, "note", "--story", f"story-{i + 1}", f"bench note {i}")
        touched.append(timed(nj, env, "stories"))
    every = []
    for _ in range(max(3, a.runs // 4)):
        conn = sqlite3.connect(db)
        conn.execute("DELETE FROM story_figures")
        conn.commit()
        conn.close()
        every.append(timed(nj, env, "stories"))
    # Every article checked a moment ago, as the last scheduled run would
    # have left those of open stories and open follow-ups (the bench
    # journal gives every tenth article a follow-up).
    now_ms = int(time.time() * 1000)
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT OR REPLACE INTO rechecked(article_seq, checked_at) SELECT seq, ? FROM articles",
        (now_ms,))
    conn.commit()
    conn.close()
    # The first run after a change looks at every candidate and notes when
    # the next can be due; the runs after answer from that note.
    first = [timed(nj, env, "recheck", "--scheduled")]
    scheduled = [timed(nj, env, "recheck", "--scheduled") for _ in range(a.runs)]
    due = json.loads(run(nj, env, "--json", "recheck", "--scheduled"))
    if due:
        raise SystemExit(f"recheck --scheduled found {len(due)} due; expected none")
    suggested = [timed(nj, env, "clip", f) for f in fresh[a.runs // 2: a.runs // 2 + a.runs]]

    print("| command | median ms | p90 ms | min ms | runs |")
    print("|---|---:|---:|---:|---:|")
    print(row("`nj story show` (500 articles)", show))
    print(row(f"`nj stories` ({a.stories} stories)", listed))
    print(row("`nj stories`, one story changed since the last run", touched))
    print(row(f"`nj stories`, every story's figures worked out (first run after the upgrade)", every))
    print(row("`nj recheck --scheduled`, nothing due, first run after a change", first))
    print(row("`nj recheck --scheduled`, nothing due", scheduled))
    print(row("`nj clip FILE`, no open story", base))
    print(row(f"`nj clip FILE`, with the story suggestion ({a.stories} open stories)", suggested))


if __name__ == "__main__":
    main()
