"""Sandbox: local emulators of Google Drive v3 and Logiqs V4 with seeded fault injection (see docs/architecture.md)."""
