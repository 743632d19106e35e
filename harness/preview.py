"""`make preview`: the program's resources per region, from an offline mock run.

    python -m harness.preview [--stack prod]
"""

from __future__ import annotations

import argparse
import sys

import pulumi

from harness.fake_cloud import FakeCloud
from harness.program import PROVIDER_TYPE, format_tree, run_program, stack_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.preview", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod", help="stack whose Pulumi.<stack>.yaml config is used (default prod)")
    args = parser.parse_args(argv)
    try:
        config = stack_config(args.stack)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        run = run_program(FakeCloud(), config, stack=args.stack)
    except pulumi.RunError as err:  # bad config: one line, like the Pulumi CLI prints it
        print(f"error: {err}", file=sys.stderr)
        return 2
    regions = [run.outputs["primary"]["region"], run.outputs["secondary"]["region"]]
    resources = [r for r in run.resources if r.custom and r.type != PROVIDER_TYPE]
    components = [r for r in run.resources if not r.custom]
    print(f"stack {args.stack}: {len(resources)} resources in {len(components)} components (offline mock run)\n")
    print(format_tree(run, regions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
