"""`python -m graph.cli`: the `ordergraph` command."""

import sys

from graph.cli import main

sys.exit(main())
