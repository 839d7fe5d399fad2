"""Entry point for `python -m classifier`."""

from .cli import main

raise SystemExit(main())
