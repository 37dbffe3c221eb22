"""The switch of the fast lanes (issue 16): ``LBCONVERT_NO_FAST_PATH=1`` turns them off.

Every speed trick of the COCO hot path (the plain-object reader lane, the row lane of
:mod:`converters.fastrows`) must give the bytes the general path gives; the differential
tests run both ways through this switch. Read at each call, so a test can flip it.
"""

from __future__ import annotations

import os

__all__ = ["enabled"]


def enabled() -> bool:
    """Whether the fast lanes are on (the default)."""
    return os.environ.get("LBCONVERT_NO_FAST_PATH", "") in ("", "0")
