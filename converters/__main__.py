"""``python -m converters`` runs the ``lbconvert`` command line."""

from .cli import main

raise SystemExit(main())
