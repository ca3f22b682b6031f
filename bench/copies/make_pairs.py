#!/usr/bin/env python3
"""Labelled test set for near-duplicate ("syndicated copy") detection.

A detector should say "copy" for an article and its syndicated, lightly
edited reprint, and "not a copy" both for unrelated articles and for two
different articles about the same story (which share rare names but little
else).  This script writes the three kinds of example; it is committed
instead of the data because its output is fully determined by --seed.

Base articles come from the bench corpus generator
(../shared/tools/corpus/gen_corpus.py, its Gen class), using Gen index ranges
that never overlap, so no two sets share a base article:

  distinct.jsonl  Gen 0 .. N-1
      {"id": "d<i>", "title": ..., "text": ...}
      All different articles: no two of them are copies.

  copies.jsonl    a = Gen 1_000_000 + k, donor sentences from 3_000_000 + k
      {"id": "c<k>", "a": {"title", "text"}, "b": {"title", "text"},
       "edits": [...]}
      a is the base article with 2-4 straight-quoted runs and 1-3 " - "
      dashes added; b is a copy of a with 2-5 of these edits.  Each label
      starts with the edit's kind:
        "drop N sentences"        up to 10% of a's sentences (at least 1)
        "add N sentences"         up to 10% more, from an unrelated article
        "headline <how>"          reorder / replace / reword / new / prefix /
                                  suffix
        "syndication <where>"     top / bottom line, or prefix like
                                  "(Reuters) -" on the first paragraph
        "byline"                  "By Jane Smith, Staff Reporter" etc. on top
        "insert N lines"          "Read more: ...", "Related: ...", ...
                                  between or after paragraphs
        "cut N paragraphs"        the last 1-2, never over 25% of a's words
        "quotes and dashes <d>"   straight quotes to curly, " - " to " <d> "
      Dropping and cutting together always keep at least 70% of a's words.

  related.jsonl   a = Gen 2_000_000 + 2k, b = Gen 2_000_000 + 2k + 1
      {"id": "r<k>", "a": {...}, "b": {...}, "shared": ["word", ...]}
      Two different articles given the same 5-8 made-up topic words (never
      in the generator's vocabulary, never reused by another pair), each
      put 2-6 times into each text and 2-3 of them into each title.  They
      share distinctive words but are NOT copies.

Texts are paragraphs separated by a blank line ("\\n\\n").

Usage: python3 bench/copies/make_pairs.py -o OUTDIR [--seed 7] [--copies 1000]
           [--related 1000] [--distinct 10000] [--corpus-tools DIR]
"""
import argparse
import hashlib
import json
import os
import random
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_TOOLS = os.path.join(os.path.dirname(REPO), 'shared', 'tools', 'corpus')

COPY_BASE, RELATED_BASE, DONOR_BASE = 1_000_000, 2_000_000, 3_000_000

# Outlets that reprint others' stories, and the lines they add.
SYND_OUTLETS = ["Windows Central", "The Conversation", "AiUpNow", "Yahoo News",
                "MSN", "Business Insider", "Fast Company", "Grist", "Vox",
                "Kaiser Health News", "ProPublica", "The Verge", "Axios",
                "Inside Climate News", "Stateline"]
SYND_LINES = ["Originally published on {o}.",
              "This article first appeared on {o}.",
              "This story was originally published by {o}.",
              "This article is republished from {o} under a Creative Commons "
              "license. Read the original article.",
              "Republished with permission from {o}.",
              "via {o}",
              "Source: {o}"]
# Wire-service datelines: these go inside the first paragraph, not on a line
# of their own, so they change its first sentence.
WIRE_PREFIXES = ["(Reuters) -", "(AP) -", "(AFP) -", "LONDON (Reuters) -",
                 "WASHINGTON (AP) -", "NEW YORK (Reuters) -", "BERLIN (dpa) -"]
ROLES = ["Staff Reporter", "Senior Editor", "Contributor", "Correspondent",
         "Associated Press", "Staff Writer", "Science Editor"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
HEADLINE_PREFIXES = ["Exclusive:", "Opinion:", "Analysis:", "Breaking:",
                     "Explainer:", "Watch:"]

# Syllables for made-up topic words: "val" + "mo" + "rex" gives "valmorex".
# Clusters only at the start and codas mostly at the end keep them short and
# pronounceable, like a real product, place or drug name.
ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "kl", "l", "m",
          "n", "p", "pr", "qu", "r", "s", "st", "t", "tr", "v", "z", "th", "sh"]
INNER = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ia", "ou"]
CODAS = ["l", "n", "r", "s", "x", "m", "nd", "rk", "th", "v"]
NAME_ENDINGS = ["", "ov", "ton", "ia", "berg", "ski", "ard", "ez", "wick", "ani"]


def stream(seed, name, k):
    """An RNG for one item of one set.

    Seeding each item on its own makes item k the same whatever the set size
    (a smaller set is a prefix of a larger one), like gen_corpus itself.
    hashlib rather than hash() because hash() of str is salted per process.
    """
    digest = hashlib.sha256(f'make_pairs/{seed}/{name}/{k}'.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], 'big'))


# --- article structure ------------------------------------------------------
# A body is kept as paragraphs -> sentences -> tokens while it is edited, so
# that edits can work on whole sentences and quotes never cross a sentence
# (dropping a sentence then never leaves half a quote behind).  An inserted
# line ("Read more: ...") is a plain str among the paragraphs, so sentence
# edits leave it alone.

def parse(body):
    paras = []
    for p in body.split('\n\n'):
        sents, cur = [], []
        for tok in p.split(' '):
            cur.append(tok)
            if tok.endswith('.'):
                sents.append(cur)
                cur = []
        if cur:
            sents.append(cur)
        paras.append(sents)
    return paras


def render(paras):
    return '\n\n'.join(p if isinstance(p, str) else ' '.join(' '.join(s) for s in p)
                       for p in paras)


DASHES = ('-', '\u2014', '\u2013')


def n_words(sent):
    return sum(1 for t in sent if t not in DASHES)


def para_words(p):
    return sum(n_words(s) for s in p)


def headline(rng, g, lo, hi):
    # Same word distribution as the generator's own titles.
    return ' '.join(w.capitalize() for w in rng.choices(g.twords, cum_weights=g.tcum,
                                                         k=rng.randint(lo, hi)))


def person(rng, gc):
    return f'{rng.choice(gc.FIRST)} {rng.choice(gc.LAST)}'


def date_text(rng):
    return f'{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2015, 2025)}'


# --- copies -----------------------------------------------------------------

def decorate(paras, rng):
    """Give a base article straight quotes and dashes, in place.

    The generator writes neither, and without them the quotes-and-dashes
    edit would change nothing.  At most one quote or dash per sentence keeps
    quotes from nesting or overlapping.
    """
    sents = [s for p in paras for s in p]
    busy = set()
    for _ in range(rng.randint(2, 4)):
        n = rng.randint(3, 8)
        cands = [i for i, s in enumerate(sents) if i not in busy and len(s) >= n]
        i = rng.choice(cands)
        s = sents[i]
        start = rng.randint(0, len(s) - n)
        s[start] = '"' + s[start]
        s[start + n - 1] += '"'
        busy.add(i)
    for _ in range(rng.randint(1, 3)):
        cands = [(i, j) for i, s in enumerate(sents) if i not in busy
                 for j in range(1, len(s)) if not s[j - 1].endswith(',')]
        i, j = rng.choice(cands)
        sents[i].insert(j, '-')
        busy.add(i)


def plural(n, word):
    return f'{n} {word}' if n == 1 else f'{n} {word}s'


def edit_quotes(paras, rng):
    dash = rng.choice(['\u2014', '\u2013'])
    for p in paras:
        for s in p:
            for j, t in enumerate(s):
                if t == '-':
                    t = dash
                if t.startswith('"'):
                    t = '\u201c' + t[1:]
                if t.endswith('"'):
                    t = t[:-1] + '\u201d'
                s[j] = t
    return f'quotes and dashes {dash}'


def cut_size(paras, total, rng):
    """How many last paragraphs to cut (0 if even one is too much)."""
    want = rng.choice([1, 2])
    for m in range(want, 0, -1):
        # Keep at least two paragraphs: a copy cut down to its lead is a
        # different (and much harder) case than a trimmed tail.
        if len(paras) - m >= 2 and sum(para_words(p) for p in paras[-m:]) <= 0.25 * total:
            return m
    return 0


def edit_drop(paras, total, rng):
    n_sents = sum(len(p) for p in paras)
    want = rng.randint(1, max(1, n_sents // 10))
    kept = sum(para_words(p) for p in paras)
    where = [(pi, si) for pi, p in enumerate(paras) for si in range(len(p))]
    rng.shuffle(where)
    gone = set()
    for pi, si in where:
        if len(gone) == want:
            break
        w = n_words(paras[pi][si])
        # A cut may already have taken up to 25%; the two together must keep 70%.
        if kept - w >= 0.7 * total:
            gone.add((pi, si))
            kept -= w
    paras[:] = [q for q in ([s for si, s in enumerate(p) if (pi, si) not in gone]
                            for pi, p in enumerate(paras)) if q]
    return f'drop {plural(len(gone), "sentence")}'


def edit_add(paras, n_sents, donor, rng):
    pool = [s for p in parse(donor['body']) for s in p]
    extra = rng.sample(pool, min(len(pool), rng.randint(1, max(1, n_sents // 10))))
    for s in extra:
        p = rng.choice(paras)
        p.insert(rng.randint(0, len(p)), list(s))
    return f'add {plural(len(extra), "sentence")}'


def edit_insert(paras, g, rng):
    n = rng.randint(1, 3)
    for _ in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            line = f'Read more: {headline(rng, g, 5, 10)}'
        elif kind == 1:
            line = f'Related: {headline(rng, g, 5, 10)}'
        elif kind == 2:
            line = f'READ MORE: {headline(rng, g, 5, 10)}'
        elif kind == 3:
            line = 'Sign up for our newsletter.'
        else:
            line = 'Advertisement'
        # Never before the first paragraph: these sit between or after the text.
        paras.insert(rng.randint(1, len(paras)), line)
    return f'insert {plural(n, "line")}'


def edit_headline(title, g, rng):
    words = title.split(' ')
    how = rng.choice(['reorder', 'replace', 'reword', 'new', 'prefix', 'suffix'])
    if how == 'new':
        return headline(rng, g, 6, 12), 'headline new'
    if how == 'prefix':
        return f'{rng.choice(HEADLINE_PREFIXES)} {title}', 'headline prefix'
    if how == 'suffix':
        sep = rng.choice([' | ', ' - ', ': '])
        return f'{title}{sep}{rng.choice(SYND_OUTLETS)}', 'headline suffix'
    new = list(words)
    if how in ('reorder', 'reword'):
        for _ in range(rng.randint(1, 2)):
            i, j = rng.sample(range(len(new)), 2)
            new[i], new[j] = new[j], new[i]
    if how in ('replace', 'reword'):
        for i in rng.sample(range(len(new)), rng.randint(1, min(3, len(new) // 2))):
            new[i] = rng.choices(g.twords, cum_weights=g.tcum)[0].capitalize()
    while new == words:
        # Swapped two equal words or drew the same ones: it must really change.
        new[rng.randrange(len(new))] = rng.choice(g.twords).capitalize()
    return ' '.join(new), f'headline {how}'


def edit_syndication(paras, rng):
    where = rng.choice(['top', 'bottom', 'prefix'])
    if where == 'prefix':
        paras[0][0][:0] = rng.choice(WIRE_PREFIXES).split(' ')
    else:
        line = rng.choice(SYND_LINES).format(o=rng.choice(SYND_OUTLETS))
        paras.insert(0 if where == 'top' else len(paras), line)
    return f'syndication {where}'


def edit_byline(paras, gc, rng):
    kind = rng.randrange(4)
    if kind == 0:
        line = f'By {person(rng, gc)}, {rng.choice(ROLES)}'
    elif kind == 1:
        line = f'By {person(rng, gc)} | {date_text(rng)}'
    elif kind == 2:
        line = f'By {person(rng, gc)} and {person(rng, gc)}'
    else:
        line = f'{person(rng, gc)} | {rng.choice(SYND_OUTLETS)} | Updated {date_text(rng)}'
    paras.insert(0, line)
    return 'byline'


# Edits run in this order whatever order they were picked in: size changes
# (cut, drop) are measured on a's own sentences before anything is added,
# quotes are converted before the "(Reuters) -" dash is added, and the lines
# at the top end up as byline above syndication line, as they usually are.
EDIT_ORDER = ['quotes', 'cut', 'drop', 'add', 'insert', 'headline', 'syndication', 'byline']


def make_copy(g, gc, k, rng):
    base = g.article(COPY_BASE + k)
    paras = parse(base['body'])
    decorate(paras, rng)
    a = {'title': base['title'], 'text': render(paras)}

    total = sum(para_words(p) for p in paras)
    n_sents = sum(len(p) for p in paras)
    cut = cut_size(paras, total, rng)
    wanted = rng.randint(2, 5)
    # A random pick of the edits that apply (a short article may have no
    # last paragraph small enough to cut), so each is chosen independently.
    picked = [e for e in rng.sample(EDIT_ORDER, len(EDIT_ORDER))
              if e != 'cut' or cut][:wanted]

    title, edits = base['title'], []
    for e in EDIT_ORDER:
        if e not in picked:
            continue
        if e == 'quotes':
            edits.append(edit_quotes(paras, rng))
        elif e == 'cut':
            del paras[-cut:]
            edits.append(f'cut {plural(cut, "paragraph")}')
        elif e == 'drop':
            edits.append(edit_drop(paras, total, rng))
        elif e == 'add':
            edits.append(edit_add(paras, n_sents, g.article(DONOR_BASE + k), rng))
        elif e == 'insert':
            edits.append(edit_insert(paras, g, rng))
        elif e == 'headline':
            title, label = edit_headline(title, g, rng)
            edits.append(label)
        elif e == 'syndication':
            edits.append(edit_syndication(paras, rng))
        elif e == 'byline':
            edits.append(edit_byline(paras, gc, rng))
    return {'id': f'c{k}', 'a': a, 'b': {'title': title, 'text': render(paras)},
            'edits': edits}


# --- related ----------------------------------------------------------------

def topic_word(rng, taken):
    """A made-up word no other pair and no generated article uses."""
    while True:
        w = ''
        syllables = rng.randint(2, 3)
        for n in range(syllables):
            w += rng.choice(INNER if n else ONSETS) + rng.choice(VOWELS)
            if rng.random() < (0.75 if n == syllables - 1 else 0.3):
                w += rng.choice(CODAS)
        if rng.random() < 0.5:
            # Proper-noun-like: a place or person name.
            w = (w + rng.choice(NAME_ENDINGS)).capitalize()
        if 6 <= len(w) <= 12 and w.lower() not in taken:
            taken.add(w.lower())
            return w


def spread(body, topics, rng):
    """Put each topic word 2-6 times at random places inside sentences."""
    paras = [p.split(' ') for p in body.split('\n\n')]
    # Insert before token j, never at a sentence start, so lowercase words
    # do not start sentences and no word lands after the final full stop.
    slots = [(pi, j) for pi, p in enumerate(paras) for j in range(1, len(p))
             if not p[j - 1].endswith('.')]
    puts = [(*rng.choice(slots), w) for w in topics for _ in range(rng.randint(2, 6))]
    # Back to front so earlier insertions do not shift later positions.
    for pi, j, w in sorted(puts, key=lambda x: (x[0], x[1]), reverse=True):
        paras[pi].insert(j, w)
    return '\n\n'.join(' '.join(p) for p in paras)


def retitle(title, topics, rng):
    words = title.split(' ')
    for w in rng.sample(topics, rng.randint(2, 3)):
        words.insert(rng.randint(0, len(words)), w[0].upper() + w[1:])
    return ' '.join(words)


def make_related(g, k, rng, taken):
    topics = [topic_word(rng, taken) for _ in range(rng.randint(5, 8))]
    pair = {'id': f'r{k}'}
    for side, i in (('a', RELATED_BASE + 2 * k), ('b', RELATED_BASE + 2 * k + 1)):
        art = g.article(i)
        pair[side] = {'title': retitle(art['title'], topics, rng),
                      'text': spread(art['body'], topics, rng)}
    pair['shared'] = topics
    return pair


# --- main -------------------------------------------------------------------

def write_jsonl(path, rows):
    # Through a temporary name, so an interrupted run never leaves a
    # complete-looking but short file behind.
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8', newline='\n') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-o', '--out', required=True, help='output directory')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--copies', type=int, default=1000)
    ap.add_argument('--related', type=int, default=1000)
    ap.add_argument('--distinct', type=int, default=10000)
    ap.add_argument('--corpus-tools', default=DEFAULT_TOOLS,
                    help='folder holding gen_corpus.py and words_en_5000.tsv')
    args = ap.parse_args()

    # The tools folder is shared and meant to stay read-only; do not leave a
    # __pycache__ in it.
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.abspath(args.corpus_tools))
    import gen_corpus as gc

    g = gc.Gen(args.seed, os.path.join(args.corpus_tools, 'words_en_5000.tsv'))
    os.makedirs(args.out, exist_ok=True)

    write_jsonl(os.path.join(args.out, 'copies.jsonl'),
                (make_copy(g, gc, k, stream(args.seed, 'copies', k))
                 for k in range(args.copies)))
    # Topic words must be rare in the whole set: not real words, not the
    # generator's marker words, and not shared with any other pair.
    taken = set(g.words) | set(gc.MARKERS)
    write_jsonl(os.path.join(args.out, 'related.jsonl'),
                (make_related(g, k, stream(args.seed, 'related', k), taken)
                 for k in range(args.related)))
    # Last, because bench/copies/run takes distinct.jsonl being there to mean
    # the whole set is.
    write_jsonl(os.path.join(args.out, 'distinct.jsonl'),
                ({'id': f'd{art["id"]}', 'title': art['title'], 'text': art['body']}
                 for art in map(g.article, range(args.distinct))))

    print(f'wrote {args.distinct} distinct, {args.copies} copy pairs, '
          f'{args.related} related pairs (seed {args.seed}) -> {args.out}')


if __name__ == '__main__':
    main()
