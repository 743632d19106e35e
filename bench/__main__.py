"""python -m bench [--samples N] [--lag S] [--cold-starts N] [--drills N]: one table of sandbox benchmarks."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from bench.measures import (
    ROOT,
    bench_app_replication,
    bench_cold_start,
    bench_drills,
    bench_failover_switch,
    bench_replication_lag,
    summarize,
    webapp_js_gzip_bytes,
)

REPORT_DIR = ROOT / "drill-report"
WEB_BUDGET = 250 * 1024


def _row(name: str, values: list[float], target: str = "") -> str:
    s = summarize(values)
    return f"{name:<34}{s['n']:>4}{s['min']:>9.3f}{s['p50']:>9.3f}{s['p90']:>9.3f}{s['max']:>9.3f}  {target}"


def _count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"expected 0..1000, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--samples", type=_count, default=20, help="replication writes per service (default 20)")
    parser.add_argument("--lag", type=float, default=1.0, help="configured replication lag, seconds (default 1.0)")
    parser.add_argument("--cold-starts", type=_count, default=3, help="sandbox cold starts to time (default 3)")
    parser.add_argument("--drills", type=_count, default=20, help="failover drills in a row (default 20)")
    parser.add_argument("--drill-steady", type=float, default=2.0, help="seconds of writes per drill phase (2.0)")
    args = parser.parse_args(argv)
    from sandbox.up import SandboxOptions, start_sandbox

    rows = [_row("cold start to ready (s)", bench_cold_start(args.cold_starts), "target < 15 s")] \
        if args.cold_starts else []
    sandbox = start_sandbox(SandboxOptions(web_port=0, aws_port=0, replication_lag=args.lag, serve_web=False))
    try:
        rows.append(_row("state set failover -> writes (s)", bench_failover_switch(sandbox), "target < 1 s"))
        for service in ("s3", "dynamodb"):
            lags = bench_replication_lag(sandbox.cloud, max(1, args.samples), service)
            rows.append(_row(f"{service} replication lag (s)", lags, f"configured {args.lag:g} s"))
        for what, lags in bench_app_replication(sandbox).items():
            rows.append(_row(f"app {what} replicated (s)", lags, "through the signed APIs"))
        began = time.perf_counter()
        drills = bench_drills(sandbox, args.drills, REPORT_DIR, steady=args.drill_steady)
        drills_seconds = time.perf_counter() - began
    finally:
        sandbox.stop()
    print(f"{'benchmark':<34}{'n':>4}{'min':>9}{'p50':>9}{'p90':>9}{'max':>9}")
    print("\n".join(rows))
    passed = [r for r, _ in drills if r.passed]
    if drills:
        rows = [_row("drill duration (s)", [s for _, s in drills]),
                _row("drill RTO (s)", [r.rto for r in passed] or [0.0], "longest time without a write")]
        print("\n".join(rows))
        print(f"\nfailover drills: {len(passed)}/{len(drills)} passed (target {len(drills)}/{len(drills)}) in "
              f"{drills_seconds:.0f} s; RPO max {max((r.rpo for r, _ in drills), default=0)} writes, "
              f"{sum(len(r.lost) for r, _ in drills)} lost, {sum(len(r.duplicated) for r, _ in drills)} duplicated; "
              f"last report in {REPORT_DIR.relative_to(ROOT)}/")
        for n, (result, _) in enumerate(drills, 1):
            if not result.passed:
                print(f"  drill {n}: {result.aborted or 'lost or duplicated writes'}")
        (REPORT_DIR / "bench.json").write_text(json.dumps({
            "drills": len(drills), "passed": len(passed), "seconds": round(drills_seconds, 1),
            "rtoP50S": round(statistics.median([r.rto for r in passed]), 3) if passed else None,
            "results": [{"passed": r.passed, "aborted": r.aborted, "seconds": round(s, 1), "rtoS": round(r.rto, 3)}
                        for r, s in drills]}, indent=2))
    size = webapp_js_gzip_bytes()
    if size is None:
        print("web app JavaScript (gzip): not built (make setup builds it)")
    else:
        print(f"web app JavaScript (gzip): {size / 1024:.1f} KiB of a {WEB_BUDGET // 1024} KiB budget"
              f"{'' if size <= WEB_BUDGET else '  OVER BUDGET'}")
    return 0 if len(passed) == len(drills) else 1


if __name__ == "__main__":
    sys.exit(main())
