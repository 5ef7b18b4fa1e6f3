#!/usr/bin/env python3
"""Score `spacegen check` against the hand-reviewed corpus of public Space backends.

The manifest (`generator/tests/fixtures/corpus/manifest.toml`) records, for each public
repository, the commit that was reviewed, the folder that is deployed, and a verdict for every
checklist item: "defect" (with `file:line` and the rule that covers it, or "none"), "clean" or
"n/a". This script checks out each recorded commit from a local bare mirror into a temporary
folder, runs `spacegen check --format json` on the folder, and scores the findings:

- true positive: a "defect" verdict and a finding, in the stated file, of the verdict's rule or
  of any rule the manifest's [item_rules] maps to that item;
- false negative: a "defect" verdict with no such finding (classed "no rule" when the verdict
  names no rule, "rule gap" when it names the rule that should have reported it);
- false positive: a finding of a rule mapped to an item whose verdict is "clean" or "n/a";
- findings of a mapped rule on a "defect" item but in another file are listed as "elsewhere"
  (neither TP nor FP); findings of rules mapped to no item are listed as outside the checklist.

Mirrors: `--mirrors DIR` holds one git directory per repository named `owner+name` (a bare
repository, or a folder holding one as `repo/`, the layout the fetch tool produces).
Repositories whose mirror is absent, or lacks the recorded commit, are skipped and named.

    python3 bench/corpus.py --mirrors DIR [--spacegen target/release/spacegen] [--json OUT]

Needs Python 3.11.4 or newer (tomllib, tar extraction filters) and git.
"""

import argparse
import collections
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_MANIFEST = os.path.join(ROOT, "generator", "tests", "fixtures", "corpus", "manifest.toml")
DEFAULT_SPACEGEN = os.path.join(ROOT, "target", "release", "spacegen")


def git_dir(mirrors, repo):
    """The mirror's git directory for `owner/name`, or None."""
    base = os.path.join(mirrors, repo.replace("/", "+"))
    for candidate in (os.path.join(base, "repo"), base):
        if os.path.isfile(os.path.join(candidate, "HEAD")) and os.path.isdir(os.path.join(candidate, "objects")):
            return candidate
    return None


def extract(gitdir, commit, folder, dest):
    """Write the tree of `commit` (only `folder` when given) into `dest`, without .git.

    Returns (error or None, paths left out). A snapshot may lack some blobs (large files);
    then the files are written one by one and the missing ones are left out and named.
    Symbolic links that point outside the tree are left out too.
    """
    spec = [folder] if folder else []
    proc = subprocess.run(
        ["git", "--git-dir", gitdir, "archive", "--format=tar", commit, "--"] + spec,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
    )
    left_out = []
    if proc.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            for member in tar:
                try:
                    tar.extract(member, dest, filter="data")
                except tarfile.FilterError:
                    left_out.append(member.name)
        return None, left_out
    listing = subprocess.run(
        ["git", "--git-dir", gitdir, "ls-tree", "-r", "-z", commit, "--"] + spec,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
    )
    if listing.returncode != 0:
        return listing.stderr.decode("utf-8", "replace").strip() or "git ls-tree failed", []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, sha = meta.split()
        path = path.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode == b"120000":
            left_out.append(path)
            continue
        blob = subprocess.run(["git", "--git-dir", gitdir, "cat-file", "blob", sha.decode()],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        if blob.returncode != 0:
            left_out.append(path)
            continue
        out = os.path.join(dest, path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as fh:
            fh.write(blob.stdout)
    return None, left_out


def run_check(spacegen, folder, timeout):
    """Findings of `spacegen check --format json folder`, or (None, error)."""
    try:
        proc = subprocess.run(
            [spacegen, "check", "--format", "json", folder],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    if proc.returncode not in (0, 1):
        return None, f"exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[:300]}"
    try:
        return json.loads(proc.stdout)["findings"], None
    except (ValueError, KeyError) as err:
        return None, f"unreadable JSON ({err})"


def norm(path):
    """A relative path in one spelling: forward slashes, no leading `./`."""
    return os.path.normpath(path).replace(os.sep, "/") if path else ""


def where_file(where):
    return norm(where.rsplit(":", 1)[0]) if ":" in where else norm(where)


def score_repo(entry, findings, item_rules, rule_items):
    """Per-item counts and the notable events of one repository."""
    counts = collections.defaultdict(lambda: collections.Counter())
    events = []
    verdicts = collections.defaultdict(list)
    for it in entry["item"]:
        verdicts[it["item"]].append(it)
    used = set()
    for item, its in verdicts.items():
        for it in its:
            if it["verdict"] != "defect":
                continue
            rules = set(item_rules.get(item, []))
            if it.get("rule", "none") != "none":
                rules.add(it["rule"])
            want = where_file(it["where"])
            hit = [i for i, f in enumerate(findings) if f["rule"] in rules and norm(f["file"]) == want]
            named = it.get("rule", "none") != "none"
            if hit:
                counts[item]["tp"] += 1
                counts[item]["tp_named"] += named
                used.update(hit)
            else:
                counts[item]["fn"] += 1
                counts[item]["fn_named"] += named
                cls = "no rule" if it.get("rule", "none") == "none" else "rule gap"
                events.append(("fn", cls, item, it.get("rule", "none"), it["where"], it.get("note", "")))
    for i, f in enumerate(findings):
        if i in used:
            continue
        items = rule_items.get(f["rule"], [])
        if not items:
            events.append(("outside", f["rule"], f["name"], f"{f['file']}:{f['line']}", f["message"]))
            continue
        for item in items:
            its = verdicts.get(item, [])
            if any(it["verdict"] == "defect" for it in its):
                if not any(it["verdict"] == "defect" and where_file(it["where"]) == norm(f["file"]) for it in its):
                    events.append(("elsewhere", item, f["rule"], f"{f['file']}:{f['line']}", f["message"]))
            else:
                counts[item]["fp"] += 1
                events.append(("fp", item, f["rule"], f"{f['file']}:{f['line']}", f["message"]))
    return counts, events


def pct(num, den):
    return f"{100.0 * num / den:5.1f}%" if den else "    -"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", required=True, help="folder holding the owner+name git mirrors")
    ap.add_argument("--spacegen", default=DEFAULT_SPACEGEN, help="the spacegen binary (default: target/release/spacegen)")
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST, help="the corpus manifest")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for one check")
    ap.add_argument("--json", metavar="OUT", help="also write the scores and events as JSON")
    args = ap.parse_args()

    with open(args.manifest, "rb") as fh:
        manifest = tomllib.load(fh)
    items = manifest["items"]
    item_rules = manifest.get("item_rules", {})
    rule_items = collections.defaultdict(list)
    for item, rules in item_rules.items():
        for rule in rules:
            rule_items[rule].append(item)

    total = {item: collections.Counter() for item in items}
    all_events = []
    skipped = []
    scored = []
    for entry in manifest["repository"]:
        repo, commit, folder = entry["repo"], entry["commit"], entry.get("folder", "")
        gitdir = git_dir(args.mirrors, repo)
        if gitdir is None:
            skipped.append((repo, "no mirror"))
            continue
        with tempfile.TemporaryDirectory(prefix="spacegen-corpus-") as tmp:
            err, left_out = extract(gitdir, commit, folder, tmp)
            if left_out:
                print(f"  {repo}: {len(left_out)} path(s) not in the checkout (absent blobs or links out of the tree), e.g. {left_out[0]}")
            if err:
                skipped.append((repo, f"commit {commit[:12]} not readable: {err}"))
                continue
            target = os.path.join(tmp, folder) if folder else tmp
            findings, err = run_check(args.spacegen, target, args.timeout)
        if err:
            skipped.append((repo, f"check failed: {err}"))
            continue
        counts, events = score_repo(entry, findings, item_rules, rule_items)
        for item, c in counts.items():
            total[item].update(c)
        all_events.extend((repo,) + e for e in events)
        scored.append((repo, len(findings)))

    print(f"corpus: {len(manifest['repository'])} repositories, {len(scored)} checked")
    for repo, why in skipped:
        print(f"  skipped {repo}: {why}")
    print()
    print(f"{'item':<26} {'TP':>3} {'FN':>3} {'FP':>3} {'recall':>7} {'precision':>9}")
    tp = fn = fp = 0
    ruled_tp = ruled_fn = 0
    for item in items:
        c = total[item]
        tp, fn, fp = tp + c["tp"], fn + c["fn"], fp + c["fp"]
        ruled_tp, ruled_fn = ruled_tp + c["tp_named"], ruled_fn + c["fn_named"]
        if c["tp"] + c["fn"] + c["fp"] == 0:
            continue
        print(f"{item:<26} {c['tp']:>3} {c['fn']:>3} {c['fp']:>3} {pct(c['tp'], c['tp'] + c['fn']):>7} {pct(c['tp'], c['tp'] + c['fp']):>9}")
    print(f"{'all items':<26} {tp:>3} {fn:>3} {fp:>3} {pct(tp, tp + fn):>7} {pct(tp, tp + fp):>9}")
    print(f"{'verdicts naming a rule':<26} {ruled_tp:>3} {ruled_fn:>3} {fp:>3} {pct(ruled_tp, ruled_tp + ruled_fn):>7} {pct(ruled_tp, ruled_tp + fp):>9}")

    def section(title, kind, fmt):
        rows = [e for e in all_events if e[1] == kind]
        if rows:
            print(f"\n{title} ({len(rows)})")
            for e in rows:
                print("  " + fmt(e))

    for cls in ("no rule", "rule gap"):
        rows = [e for e in all_events if e[1] == "fn" and e[2] == cls]
        if rows:
            print(f"\nmissed, {cls} ({len(rows)})")
            for repo, _, _, item, rule, where, note in rows:
                print(f"  {item:<22} {rule:<6} {repo} {where}: {note}")
    section("false positives", "fp", lambda e: f"{e[2]:<22} {e[3]:<6} {e[0]} {e[4]}: {e[5]}")
    section("on a defect item, another file", "elsewhere", lambda e: f"{e[2]:<22} {e[3]:<6} {e[0]} {e[4]}: {e[5]}")
    outside = collections.Counter(e[2] for e in all_events if e[1] == "outside")
    if outside:
        print("\noutside the checklist (not scored): " + ", ".join(f"{r} x{n}" for r, n in sorted(outside.items())))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({
                "checked": [r for r, _ in scored],
                "skipped": [{"repo": r, "why": w} for r, w in skipped],
                "items": {i: {k: total[i][k] for k in ("tp", "fn", "fp")} for i in items},
                "events": [list(e) for e in all_events],
            }, fh, indent=1)
    return 0 if scored else 1


if __name__ == "__main__":
    sys.exit(main())
