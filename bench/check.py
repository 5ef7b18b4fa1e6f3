#!/usr/bin/env python3
"""How long `spacegen check` takes: on each project spacegen generates, and on a tree of
50,000 files (a generated project beside `node_modules`, a virtual environment, `.git` objects
and a folder of data and assets), which must be walked fast, skipping what no deployment reads.

Run from the repository root after `cargo build --release` (or pass --spacegen PATH):

    python3 bench/check.py
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

BLUEPRINTS = ("sqlite-demo", "openrouter", "neon-qdrant-openai")


def timed(argv, runs):
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def generate(spacegen, blueprint, dest):
    subprocess.run(
        [spacegen, "new", dest, "--defaults", "--blueprint", blueprint],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
    )


def big_tree(spacegen, root, total):
    """A generated project plus filler, `total` files in all."""
    generate(spacegen, "neon-qdrant-openai", root)
    have = sum(len(fs) for _, _, fs in os.walk(root))
    shares = (
        ("node_modules/pkg{0}/lib/index{1}.js", "module.exports = {};\n", 0.5),
        (".venv/lib/python3.11/site-packages/mod{0}/file{1}.py", "x = 1\n", 0.2),
        (".git/objects/{0:02x}/{1:038x}", "blob", 0.1),
        ("assets/img{0}/part{1}.txt", "data\n", 0.2),
    )
    left = total - have
    n = 0
    for pattern, text, share in shares:
        count = int(left * share)
        for i in range(count):
            path = os.path.join(root, pattern.format(i // 100, i))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        n += count
    os.makedirs(os.path.join(root, ".venv"), exist_ok=True)
    with open(os.path.join(root, ".venv", "pyvenv.cfg"), "w") as f:
        f.write("home = /usr/bin\n")
    return have + n + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacegen", default="target/release/spacegen")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    spacegen = os.path.abspath(args.spacegen)
    if not os.access(spacegen, os.X_OK):
        raise SystemExit(f"{spacegen} not found: run `cargo build --release` first")
    with tempfile.TemporaryDirectory() as work:
        for blueprint in BLUEPRINTS:
            dest = os.path.join(work, blueprint)
            generate(spacegen, blueprint, dest)
            files = sum(len(fs) for _, _, fs in os.walk(dest))
            med, lo, hi = timed([spacegen, "check", dest], args.runs)
            print(f"{blueprint:20} {files:6} files: {med * 1e3:7.1f} ms (min {lo * 1e3:.1f}, max {hi * 1e3:.1f})")
        root = os.path.join(work, "big")
        files = big_tree(spacegen, root, 50_000)
        med, lo, hi = timed([spacegen, "check", root], args.runs)
        print(f"{'50,000-file tree':20} {files:6} files: {med * 1e3:7.1f} ms (min {lo * 1e3:.1f}, max {hi * 1e3:.1f})")


if __name__ == "__main__":
    main()
