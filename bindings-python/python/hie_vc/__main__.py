"""``python -m hie_vc demo [--kafka BROKERS] [--arrival-timeout SECONDS]``: the VC demo (the
VCI and VCE flows end to end) on the embedded HIE sandbox — the same demo as ``hie-vc demo``."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__, _native


def main(argv: Optional[List[str]] = None) -> int:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m hie_vc", description=__doc__)
    p.add_argument("--version", action="version", version=f"hie_vc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the VC demo on the embedded HIE sandbox")
    d.add_argument("--kafka", metavar="BROKERS", help="publish and listen through this Kafka cluster")
    d.add_argument("--arrival-timeout", type=float, default=60.0, metavar="SECONDS")
    args = p.parse_args(argv)
    if args.command == "demo":
        sys.stdout.flush()
        _native.demo(args.kafka, args.arrival_timeout)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
