#!/usr/bin/env python3
"""Related coverage at scale: clips the first N related pairs of the labelled
set (bench/copies/make_pairs.py) into a journal (a copy of the journal
bench's, by default), then runs `nj related A` for each pair and reports how
often B comes first, and the median and worst time of the command.

  bench/related.py --db bench/out/journal-100000.db [--pairs FILE] [-n 20]

The journal given is copied first; the copy is left in --work.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nj", default=os.path.join(HERE, "..", "target", "release", "nj"))
    ap.add_argument("--db", required=True, help="the journal to copy and add the pairs to")
    ap.add_argument("--pairs", default=os.path.join(HERE, "out", "copies-7", "related.jsonl"),
                    help="related.jsonl from bench/copies/run")
    ap.add_argument("--work", default=os.path.join(HERE, "out"))
    ap.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    db = os.path.join(a.work, "related-bench.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(a.db, db)
    env = dict(os.environ, NJ_DB=db, NJ_CONFIG=os.path.join(a.work, "no-config.toml"))
    # The first command brings an older journal's copy keys up to date.
    subprocess.run([a.nj, "copies"], env=env, capture_output=True, check=True)
    pairs = [json.loads(l) for l in open(a.pairs)][: a.n]
    ids = []
    for k, p in enumerate(pairs):
        got = []
        for side in ("a", "b"):
            text = p[side]["title"] + "\n\n" + p[side]["text"] + "\n"
            out = subprocess.run([a.nj, "--json", "clip", "-", "--url", f"https://related.example/{k}/{side}"],
                                 input=text.encode(), env=env, capture_output=True, check=True)
            got.append(json.loads(out.stdout)["article"]["id"])
        ids.append(got)
    first, times = 0, []
    for a_id, b_id in ids:
        t = time.perf_counter()
        out = subprocess.run([a.nj, "--json", "related", a_id, "--limit", "3"],
                             env=env, capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
        found = json.loads(out.stdout)
        if found and found[0]["article"]["id"] == b_id:
            first += 1
    print(f"pairs={len(ids)} other_article_first={first} "
          f"related_median_ms={statistics.median(times):.1f} related_max_ms={max(times):.1f}")


if __name__ == "__main__":
    sys.exit(main())
