"""One BLAS thread for the command line (imported by :mod:`converters.cli` before numpy).

numpy's OpenBLAS starts a thread per core when numpy is imported: ~30-40 ms of a start-up on
this project's 2-core bench machine (more on big ones), a tenth of converting a val2017-sized
file. Nothing here uses BLAS (only elementwise numpy), so the command line asks for one
thread, unless the user set the variables. Library users keep their own settings: only the
CLI imports this module.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
