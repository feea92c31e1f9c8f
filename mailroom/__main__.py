"""``python -m mailroom doctor ...`` forwards to ``blocks.doctor``: the checks live in ``mailroom.doctor``, but loading
the Prefect blocks they check cannot live in the core (docs/architecture.md)."""

import sys

from blocks.doctor import cli

if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
