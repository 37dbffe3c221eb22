"""What every media example shares: the command line and the summary line.

Each example builds a few assets in memory with the public model and writes them with
``converters.write``; run one as ``python examples/media_X.py OUT.ndjson [--mode ...]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence

import converters


def run(assets: Iterable[converters.Asset], argv: Sequence[str] | None, what: str) -> int:
    parser = argparse.ArgumentParser(description=f"Write {what} rows built in memory (converters.write).")
    parser.add_argument("output", metavar="OUT.ndjson")
    parser.add_argument("--mode", choices=("prelabel", "ground-truth"), default="ground-truth")
    args = parser.parse_args(argv)
    try:
        report = converters.write(assets, args.output, mode=args.mode, source=f"example-{what}")
    except converters.ConversionError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{report.summary()} -> {args.output}")
    return 0
