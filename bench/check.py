#!/usr/bin/env python3
"""How long `spacegen check` takes: on each project spacegen generates, and on a tree of
50,000 files (a generated project beside `node_modules`, a virtual environment, `.git` objects
and a folder of data and assets), which must be walked fast, skipping what no deployment reads.
Then its peak memory on hostile Python (dense statements: 40 files of 1 MiB, 80 files of
512 KiB), which must stay under 100 MB.

Run from the repository root after `cargo build --release` (or pass --spacegen PATH):

    python3 bench/check.py
"""

import argparse
import os
import statistics
import subprocess
import sys
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


def hostile_python(root, files, size):
    """`files` Python files of about `size` bytes each, one dense call per line."""
    os.makedirs(root)
    line = "x_{0} = foo(bar, baz, [1, 2, 3], {{'a': 'b'}})\n"
    body = "".join(line.format(i) for i in range(size // len(line) + 1))
    body = body[: size - 100]
    body = body[: body.rfind("\n") + 1]
    for i in range(files):
        with open(os.path.join(root, f"m{i}.py"), "w") as f:
            f.write(body)


def hostile_dockerfile(root):
    """20,000 COPY + RUN pairs over 5,000 files, and a README of 80,000 `docker run`s."""
    os.makedirs(root)
    with open(os.path.join(root, "Dockerfile"), "w") as f:
        f.write("FROM python:3.12\n")
        for n in range(20_000):
            f.write(f"COPY d{n}/ /app/d{n}/\nRUN pip install -r /x/r{n}.txt\n")
    for n in range(5_000):
        os.makedirs(os.path.join(root, f"d{n}", "sub"))
        with open(os.path.join(root, f"d{n}", "sub", "r.txt"), "w") as f:
            f.write("fastapi==0.115.0\n")
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("---\nsdk: docker\n---\n" + "docker run -p 8000:8000 img " * 80_000 + "\n")


def peak_rss_mb(argv):
    """The peak resident memory of `argv`, in MB, measured by a fresh Python process."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


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
        root = os.path.join(work, "hostile-dockerfile")
        hostile_dockerfile(root)
        med, _, hi = timed([spacegen, "check", root], args.runs)
        print(f"{'hostile Dockerfile/README':27}: {med * 1e3:7.1f} ms (max {hi * 1e3:.1f}) (goal < 2 s)")
        for files, size in ((40, 1 << 20), (80, 512 << 10)):
            root = os.path.join(work, f"hostile-{files}")
            hostile_python(root, files, size)
            med, _, hi = timed([spacegen, "check", root], args.runs)
            peak = peak_rss_mb([spacegen, "check", root])
            label = f"{files} x {size >> 10} KiB Python"
            print(f"{label:27}: {med * 1e3:7.1f} ms (max {hi * 1e3:.1f}), peak {peak:.0f} MB (goal < 100)")


if __name__ == "__main__":
    main()
