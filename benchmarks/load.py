"""Bounded load test of the feed server on 127.0.0.1: N requests from C concurrent clients.

    python -m benchmarks.load --requests 20000 --concurrency 50

Starts `wachtplanner serve` on the demo (published into a temporary store), fetches one doctor's
feed over keep-alive connections, and prints errors and latency percentiles.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    """Outcome of a load run."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float


def run_load(host: str, port: int, path: str, requests: int, concurrency: int) -> LoadResult:
    """Fetch ``path`` ``requests`` times from ``concurrency`` keep-alive clients."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = [
        requests // concurrency + (1 if i < requests % concurrency else 0)
        for i in range(concurrency)
    ]

    def client(count: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, port, timeout=30)
        mine, failed = [], 0
        for _ in range(count):
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except OSError:
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, per_client))
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(requests, errors, seconds, cuts[49] * 1000, cuts[98] * 1000)


def main() -> None:
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    root = Path(__file__).parents[1]
    demo = root / "scenarios" / "demo.yaml"
    with tempfile.TemporaryDirectory() as folder:
        db, out = Path(folder) / "store.db", Path(folder) / "out"
        run = [sys.executable, "-c", "from wachtplanner.cli import main; main()"]
        subprocess.run(
            [*run, "solve", str(demo), "-o", str(out), "--time-limit", "5", "-q"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*run, "publish", str(demo), str(out / "roster.json"), "--db", str(db)],
            check=True,
            capture_output=True,
        )
        issued = subprocess.run(
            [*run, "token", "issue", str(demo), "dirk-lambert", "--db", str(db)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
        path = "/feeds/" + issued.rsplit("/feeds/", 1)[1]
        server = subprocess.Popen(
            [*run, "serve", str(demo), "--db", str(db), "--port", str(args.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)
            result = run_load("127.0.0.1", args.port, path, args.requests, args.concurrency)
        finally:
            server.terminate()
            server.wait()
    print(
        f"{result.requests} requests, {args.concurrency} clients: {result.errors} errors, "
        f"{result.seconds:.1f} s ({result.requests / result.seconds:.0f} req/s), "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
