"""``python -m mailroom.sandbox ...`` forwards to ``python -m mailroom_sandbox ...`` (the documented command)."""

import sys

from mailroom_sandbox.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
