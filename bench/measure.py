#!/usr/bin/env python3
"""Times nj commands as whole processes against a built bench journal.

Called by bench/run; prints a Markdown table of median and 90th-percentile
wall times, the journal's size and its ratio to the raw article text.
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def timed(cmd, env, stdin=None):
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.decode()}")
    return elapsed


def summary(name, samples):
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return {"command": name, "runs": len(ms), "median_ms": statistics.median(ms),
            "p90_ms": p90, "min_ms": ms[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nj", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--build-info", required=True)
    ap.add_argument("--markers", required=True)
    ap.add_argument("--fresh", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--no-copies", dest="copies", action="store_false",
                    help="leave out `nj copies` (for a build before it)")
    a = ap.parse_args()

    info = dict(line.strip().split("=", 1) for line in open(a.build_info) if "=" in line)
    articles = int(info["articles"])
    raw = int(info["raw_text_bytes"])
    size_before = os.path.getsize(a.db)

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NJ_DB": a.db,
           "HOME": a.work, "NO_COLOR": "1", "TZ": "UTC"}
    nj = a.nj

    # Ids to show: a spread over the journal, taken with nj itself.
    listed = subprocess.run([nj, "--json", "list", "--limit", "0"], env=env,
                            stdout=subprocess.PIPE, check=True).stdout
    ids = [x["id"][:8] for x in json.loads(listed)]
    step = max(1, len(ids) // a.runs)
    show_ids = ids[::step][: a.runs]

    results = []
    # Warm the page cache the way daily use does.
    for _ in range(3):
        timed([nj, "list", "--limit", "20"], env)

    results.append(summary("nj list --limit 20",
                           [timed([nj, "list", "--limit", "20"], env) for _ in range(a.runs)]))
    results.append(summary("nj show ID",
                           [timed([nj, "show", i], env) for i in show_ids]))
    markers = json.load(open(a.markers))["counts"]
    rare = "xanthoprism" if markers.get("xanthoprism") else "zorblatt"
    results.append(summary(f"nj search {rare}",
                           [timed([nj, "search", rare], env) for _ in range(a.runs)]))
    results.append(summary("nj search zorblatt (100 hits, top 20 shown)",
                           [timed([nj, "search", "zorblatt"], env) for _ in range(a.runs)]))
    results.append(summary('nj search \'"the zorblatt"\' (a phrase, checked on 100 candidates)',
                           [timed([nj, "search", '"the zorblatt"'], env) for _ in range(a.runs)]))
    results.append(summary("nj search the (every article matches; worst case)",
                           [timed([nj, "search", "the"], env) for _ in range(max(5, a.runs // 3))]))
    results.append(summary("nj tags (every tag with its count)",
                           [timed([nj, "tags"], env) for _ in range(a.runs)]))
    results.append(summary("nj list --sort title --limit 20",
                           [timed([nj, "list", "--sort", "title", "--limit", "20"], env) for _ in range(a.runs)]))

    if "due_now" in info:
        due_env = dict(env, NJ_NOW=info["due_now"])
        results.append(summary(f"nj due ({info['followups_due']} of {info['followups']} follow-ups due)",
                               [timed([nj, "due"], due_env) for _ in range(a.runs)]))
        results.append(summary("nj due --count",
                               [timed([nj, "due", "--count"], due_env) for _ in range(a.runs)]))

    if a.copies:
        results.append(summary("nj copies (every group of copies in the journal)",
                               [timed([nj, "copies"], env) for _ in range(max(3, a.runs // 10))]))

    fresh = [json.loads(l) for l in open(a.fresh)]
    samples = []
    for i, art in enumerate(fresh[: a.runs]):
        path = os.path.join(a.work, f"fresh-{i}.txt")
        with open(path, "w") as f:
            f.write(art["title"] + "\n\n" + art["body"] + "\n")
        samples.append(timed([nj, "clip", path, "-t", "bench"], env))
    results.append(summary("nj clip FILE (.txt, new article)", samples))

    wal = a.db + "-wal"
    size_after = os.path.getsize(a.db) + (os.path.getsize(wal) if os.path.exists(wal) else 0)

    print(f"journal: {articles} articles, raw article text {raw / 1e6:.1f} MB")
    print(f"build: {float(info.get('build_seconds', 'nan')):.1f} s")
    print(f"journal file: {size_before / 1e6:.1f} MB = {size_before / raw:.2f} x raw text "
          f"(after the clip runs, with its WAL: {size_after / 1e6:.1f} MB)")
    print()
    print("| command | median ms | p90 ms | min ms | runs |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| `{r['command']}` | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['min_ms']:.1f} | {r['runs']} |")
    json.dump({"articles": articles, "raw_text_bytes": raw, "journal_bytes": size_before,
               "ratio": size_before / raw, "results": results},
              open(os.path.join(a.work, f"results-{articles}.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
