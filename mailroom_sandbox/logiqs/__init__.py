"""The Logiqs V4 emulator: HTTP routes (``server``) over keys, cases, documents, tasks and the activity feed
(``store``). See docs/logiqs-api.md."""
