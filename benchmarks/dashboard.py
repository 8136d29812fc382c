"""Time `zkhealth serve --demo` from the command to the first page served, then each page's render time.

    python benchmarks/dashboard.py              # a fresh key cache (a new machine's first run)
    python benchmarks/dashboard.py --cached     # the default cache (keys made by an earlier run)
    python benchmarks/dashboard.py --runs 5     # page loads per page (median, min-max)

The command runs as a subprocess on 127.0.0.1 with a free port; the wall time runs from starting the process to
the first 200 answer of ``/``. Page times are the server's own (``Server-Timing: app;dur=...``), the first load
of each page apart (its chain reads are remembered until the next block) and the later loads together. The
server is stopped (SIGINT) at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("/", "/trials/contract/{address}", "/verify", "/audit", "/audit.csv")


def _get(url: str) -> tuple[int, float, str]:
    with urllib.request.urlopen(url, timeout=60) as reply:  # noqa: S310 - the loopback server started here
        body = reply.read().decode("utf-8", "replace")
        timing = reply.headers.get("server-timing") or ""
        found = re.search(r"dur=([0-9.]+)", timing)
        return reply.status, float(found.group(1)) if found else float("nan"), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cached", action="store_true", help="use the default key cache instead of a fresh one")
    parser.add_argument("--runs", type=int, default=5, help="page loads per page after the first")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="zkhealth-dash-bench-") as cache:
        command = [sys.executable, "-m", "zkhealth", "serve", "--demo", "--port", "0"]
        if not args.cached:
            command += ["--cache", cache]
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        lines: list[str] = []
        url_box: list[str] = []

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line.rstrip())
                found = re.search(r"zkhealth dashboard: (http://\S+/)", line)
                if found:
                    url_box.append(found.group(1))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while not url_box:
                if process.poll() is not None or time.perf_counter() - started > 600:
                    raise SystemExit("serve --demo did not start:\n" + "\n".join(lines))
                time.sleep(0.05)
            url = url_box[0]
            status, first_ms, body = _get(url)
            first_page = time.perf_counter() - started
            address = re.search(r'/trials/contract/(0x[0-9a-fA-F]{40})', body)
            print(f"serve --demo ({'cached keys' if args.cached else 'fresh key cache'}): first page "
                  f"{first_page:.1f} s after the command (status {status}; its render {first_ms:.0f} ms)")
            for page in PAGES:
                path = page.format(address=address.group(1) if address else "")
                first = _get(url.rstrip("/") + path)[1]
                later = [_get(url.rstrip("/") + path)[1] for _ in range(args.runs)]
                shown = "n/a" if first != first else f"{first:.0f} ms"
                rest = [t for t in later if t == t]
                tail = ""
                if rest:
                    tail = f"; then median {statistics.median(rest):.0f} ms [{min(rest):.0f}-{max(rest):.0f}]"
                print(f"  {path:<62} first {shown}{tail}")
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
