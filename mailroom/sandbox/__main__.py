"""``python -m mailroom.sandbox ...`` forwards to ``python -m mailroom_sandbox ...`` (the documented command)."""

import sys

try:
    from mailroom_sandbox.__main__ import main
except ModuleNotFoundError as exc:  # the sandbox's libraries come with an optional extra
    if (exc.name or "").startswith("mailroom"):
        raise  # one of our own modules is missing: a bug to show, not an extra to install
    sys.exit(f"The sandbox needs its optional extra: {exc.name} is not installed here.\n"
             "Install it with:  pip install 'mailroom[sandbox]'    (in a checkout: bash scripts/install.sh)")

if __name__ == "__main__":
    sys.exit(main())
