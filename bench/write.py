#!/usr/bin/env python3
"""How fast `spacegen new` writes a project, and how much memory it takes, against `cp -r`.

Run from the repository root after `cargo build --release` (or pass --spacegen PATH):

    python3 bench/write.py

It builds throwaway blueprints in a temporary folder and measures, in the same run:

1. a 15-file template: `spacegen new` and `cp -r` of the very output it wrote, run in turn
   (A B A B ...), the ratio taken pair by pair; goal: median ratio <= 2.5;
2. cost against file count (100, 500, 2000 files), paired against `cp -r` of the same output at
   each size (creating files on a filesystem is itself not linear): spacegen's share must not
   grow with the count (linear in file count beyond the filesystem's own cost);
3. peak memory (the process's own maximum resident set) for 50 MiB of templates, copied as is
   and rendered; goal: peak <= output size + a few MiB over the binary's own baseline.

Exits 1 when a goal is missed. Timing on a shared machine is noisy: medians are quoted.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
RATIO_GOAL = 2.5
LINEAR_GOAL = 1.5  # spacegen/cp at 2000 files may be at most this times spacegen/cp at 100
MEMORY_SLACK_MIB = 8

MANIFEST = """[blueprint]
name = "bench"
version = "1.0.0"
description = "files for the write benchmark"

[[variables]]
name = "title"
type = "string"
prompt = "Title"
default = "Bench"
"""


def lock_for(spacegen, root):
    """Writes root/spaces.lock for the blueprint root/bench, with its content hash."""
    out = subprocess.run(
        [spacegen, "show", os.path.join(root, "bench")],
        capture_output=True, text=True, check=True,
    ).stdout
    digest = next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("content hash: "))
    with open(os.path.join(root, "spaces.lock"), "w") as f:
        f.write(
            'format = 3\n\n[blueprints.bench]\nversion = "1.0.0"\n'
            f'content-hash = "{digest}"\npython = "3.11"\nrequires-python = ">=3.11"\n'
            'exclude-newer = "2026-11-27T00:00:00Z"\npackages = {}\n'
        )


def blueprint(spacegen, root, files):
    """A blueprint with `files`: (relative path, bytes) pairs under template/."""
    bp = os.path.join(root, "bench")
    os.makedirs(os.path.join(bp, "template"))
    with open(os.path.join(bp, "blueprint.toml"), "w") as f:
        f.write(MANIFEST)
    for rel, data in files:
        path = os.path.join(bp, "template", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    lock_for(spacegen, root)
    return bp


def small_files(count):
    """`count` files like a real backend's: two thirds templates, a third copied as is."""
    files = []
    body = ("# {{ title }}\n" + "def handler(request):\n    return {'ok': True}\n" * 40).encode()
    raw = (b"static text that is copied as is\n" * 120)
    for i in range(count):
        folder = ("app", "tests", "app/routers", "docs")[i % 4]
        if i % 3 == 2:
            files.append((f"{folder}/file{i}.txt", raw))
        else:
            files.append((f"{folder}/file{i}.py.liquid", body))
    return files


def timed(argv):
    """Wall time of one run, and the run's peak resident set in bytes."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(argv)}")
    return elapsed, usage.ru_maxrss * 1024


def new_argv(spacegen, root, dest):
    return [spacegen, "new", "--blueprint", os.path.join(root, "bench"), dest, "--defaults"]


def paired(spacegen, root, work, rounds):
    """Median of spacegen/cp ratios over `rounds` pairs, and both medians."""
    reference = os.path.join(work, "reference")
    timed(new_argv(spacegen, root, reference))
    ratios, ours, copies = [], [], []
    for i in range(rounds + 1):
        a = os.path.join(work, f"a{i}")
        b = os.path.join(work, f"b{i}")
        t_new, _ = timed(new_argv(spacegen, root, a))
        t_cp, _ = timed(["cp", "-r", reference, b])
        shutil.rmtree(a)
        shutil.rmtree(b)
        if i == 0:
            continue  # warm-up
        ratios.append(t_new / t_cp)
        ours.append(t_new)
        copies.append(t_cp)
    return statistics.median(ratios), statistics.median(ours), statistics.median(copies)


def per_file(spacegen, count, rounds):
    """Median time per file of `new`, and its median ratio to `cp -r` of the same output."""
    with tempfile.TemporaryDirectory() as work:
        root = os.path.join(work, "bps")
        blueprint(spacegen, root, small_files(count))
        ratio, ours, _ = paired(spacegen, root, work, rounds)
        return ours / count, ratio


def peak(spacegen, files):
    """Peak resident set of one `new`, and the size of what it wrote."""
    with tempfile.TemporaryDirectory() as work:
        root = os.path.join(work, "bps")
        blueprint(spacegen, root, files)
        dest = os.path.join(work, "out")
        _, rss = timed(new_argv(spacegen, root, dest))
        size = sum(
            os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(dest) for f in fs
        )
        return rss, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacegen", default="target/release/spacegen")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    spacegen = os.path.abspath(args.spacegen)
    if not os.access(spacegen, os.X_OK):
        raise SystemExit(f"{spacegen} not found: run `cargo build --release` first")
    missed = []

    with tempfile.TemporaryDirectory() as work:
        root = os.path.join(work, "bps")
        blueprint(spacegen, root, small_files(15))
        ratio, ours, copy = paired(spacegen, root, work, args.rounds)
    print(f"15 files, {args.rounds} pairs: spacegen {ours * 1e3:.1f} ms, cp -r {copy * 1e3:.1f} ms, "
          f"median ratio {ratio:.2f} (goal <= {RATIO_GOAL})")
    if ratio > RATIO_GOAL:
        missed.append("ratio")

    costs = {n: per_file(spacegen, n, 7) for n in (100, 500, 2000)}
    for n, (c, r) in costs.items():
        print(f"{n:5} files: {c * 1e6:.0f} us per file, {r:.2f} x cp -r")
    growth = costs[2000][1] / costs[100][1]
    print(f"ratio to cp -r at 2000 files / at 100: {growth:.2f} (goal <= {LINEAR_GOAL})")
    if growth > LINEAR_GOAL:
        missed.append("linear")

    base, _ = peak(spacegen, [("a.txt", b"x")])
    print(f"baseline peak (one tiny file): {base / MIB:.1f} MiB")
    chunk = (b"0123456789abcdef" * 64 + b"\n") * 1024  # about 1 MiB
    for kind, files in (
        ("copied as is", [(f"d{i % 5}/f{i}.bin", chunk) for i in range(50)]),
        ("rendered", [(f"d{i % 5}/f{i}.txt.liquid", chunk) for i in range(50)]),
    ):
        rss, size = peak(spacegen, files)
        over = (rss - base - size) / MIB
        print(f"50 MiB {kind}: peak {rss / MIB:.1f} MiB for {size / MIB:.1f} MiB written "
              f"({over:+.1f} MiB over output + baseline; goal <= {MEMORY_SLACK_MIB})")
        if over > MEMORY_SLACK_MIB:
            missed.append(f"memory ({kind})")

    if missed:
        print("missed: " + ", ".join(missed))
        sys.exit(1)
    print("all goals met")


if __name__ == "__main__":
    main()
