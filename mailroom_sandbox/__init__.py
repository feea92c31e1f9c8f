"""The sandbox beside the product: local emulators of Google Drive v3 and Logiqs V4 with seeded fault injection,
and the synthetic corpus they are seeded from (see docs/sandbox.md).

Subpackages: ``http`` (the HTTP core both emulators run on, fault injection), ``drive`` (Drive v3 + Google OAuth),
``logiqs`` (Logiqs V4, and ``InMemoryCaseDirectory`` over its case search), ``corpus`` (notices, case book,
manifest); ``stack.Sandbox`` starts both emulators seeded from one corpus; ``python -m mailroom_sandbox`` is the CLI.

The arrow runs one way: the sandbox may import ``mailroom`` (the core's models), ``mailroom`` never imports the
sandbox. Its libraries (faker, reportlab, cryptography, pyjwt, pypdf) come with the optional extra:
``pip install 'mailroom[sandbox]'``.
"""
