"""python -m sandbox up | outage REGION on|off | status

    up       start both regions locally, deploy the program, serve the web app; runs until Ctrl-C
    outage   make every endpoint of a region (primary, secondary or its name) fail, or bring it back
    status   endpoints, outages and replication counters of the running sandbox

Exit codes: the table shared with `python -m ops` (components/contract.py, README "Exit codes").
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from components.contract import Exit, exit_code_table
from sandbox.server import PortInUseError

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_RUNNING = Exit.FAILED, Exit.USAGE, Exit.NO_SANDBOX


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        print(f"error: {message} (see python -m sandbox --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _bounded(kind: str, convert: type, low: float, high: float) -> Any:
    """An argparse type: `convert(text)` within [low, high], else one clear line."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {kind}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{kind} out of range {low:g}-{high:g}: {value}")
        return value

    return parse


_port = _bounded("port number", int, 0, 65535)
_seconds = _bounded("number of seconds", float, 0, 600)


def _origin(text: str) -> str:
    from components.settings import ORIGIN_RE

    if not ORIGIN_RE.match(text):
        raise argparse.ArgumentTypeError(f"not an origin (scheme://host[:port], no path): {text!r}")
    return text


def parser() -> argparse.ArgumentParser:
    from sandbox.up import DEFAULT_AWS_PORT, DEFAULT_SESSION_FILE, DEFAULT_WEB_PORT

    root = _Parser(prog="python -m sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                   epilog="exit codes (the same for python -m ops):\n" + exit_code_table())
    commands = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    up = commands.add_parser("up", help="start the sandbox and run until Ctrl-C")
    up.add_argument("--port", type=_port, default=DEFAULT_WEB_PORT, help="web app port (default 8080)")
    up.add_argument("--aws-port", type=_port, default=DEFAULT_AWS_PORT,
                    help="AWS endpoint port; the regions take the next two (default 4566)")
    up.add_argument("--lag", type=_seconds, default=1.0, help="replication lag in seconds (default 1.0)")
    up.add_argument("--session", type=Path, default=DEFAULT_SESSION_FILE, help="where to write session.json")
    up.add_argument("--allow-origin", type=_origin, action="append", default=[], metavar="ORIGIN",
                    help="also let this browser origin call the sandbox (e.g. a dev server: http://localhost:5173); "
                         "repeatable")
    outage = commands.add_parser("outage", help="switch a region's outage on or off")
    outage.add_argument("region", help="primary, secondary or a region name")
    outage.add_argument("switch", choices=["on", "off"])
    outage.add_argument("--session", type=Path, default=DEFAULT_SESSION_FILE)
    status = commands.add_parser("status", help="endpoints, outages and replication counters")
    status.add_argument("--session", type=Path, default=DEFAULT_SESSION_FILE)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "up":
        return _up(args)
    if args.command == "outage":
        return _control(args.session, "POST", "/_sandbox/outage", {"region": args.region, "down": args.switch == "on"})
    return _control(args.session, "GET", "/_sandbox/health", None)


def _up(args: argparse.Namespace) -> int:
    from sandbox.up import SandboxOptions, start_sandbox

    print("starting the sandbox: two regions on moto, deploying the program…", flush=True)
    try:
        sandbox = start_sandbox(SandboxOptions(web_port=args.port, aws_port=args.aws_port, replication_lag=args.lag,
                                               allow_origins=args.allow_origin))
    except PortInUseError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    session = sandbox.write_session(args.session)
    primary, secondary = (sandbox.ui_config[r]["region"] for r in ("primary", "secondary"))
    user, operator = sandbox.demo_user, sandbox.operator
    print(f"""
ready in {sandbox.started_in:.1f}s
  web app       {sandbox.web_url}
  sign in as    {user['username']} / {user['password']}
  AWS endpoint  {sandbox.cloud.endpoint}  ({primary} {sandbox.cloud.region_endpoint(primary)}, \
{secondary} {sandbox.cloud.region_endpoint(secondary)})
  operator keys {operator['accessKeyId']} / {operator['secretAccessKey']}
  state URL     {sandbox.outputs['primary']['stateUrl']}
  session       {session}

try:  python -m ops --sandbox state get
      python -m ops --sandbox state set fenced
      python -m sandbox outage primary on
Ctrl-C stops the sandbox.""", flush=True)
    endpoint = sandbox.cloud.endpoint
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping the sandbox", flush=True)
        sandbox.stop()
        if _session_is(session, endpoint):
            session.unlink(missing_ok=True)
    return 0


def _session_is(path: Path, endpoint: str) -> bool:
    try:
        return json.loads(path.read_text()).get("awsEndpoint") == endpoint
    except (OSError, ValueError):
        return False


def _control(session_file: Path, method: str, path: str, body: dict[str, Any] | None) -> int:
    from sandbox.outage import control_headers

    try:
        session = json.loads(session_file.read_text())
        endpoint, authorization = session["awsEndpoint"], control_headers(session)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        print(f"error: no sandbox running ({session_file} missing or unreadable): start it with make demo",
              file=sys.stderr)
        return EXIT_NOT_RUNNING
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **authorization})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        try:
            detail = json.loads(detail).get("message", detail)
        except ValueError:
            pass
        print(f"error: {detail}", file=sys.stderr)
        return EXIT_USAGE if 400 <= error.code < 500 else EXIT_FAILED
    except (urllib.error.URLError, OSError) as error:
        print(f"error: no sandbox answers at {endpoint} ({error}): start it with make demo", file=sys.stderr)
        return EXIT_NOT_RUNNING
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
