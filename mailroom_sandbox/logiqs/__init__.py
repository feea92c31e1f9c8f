"""The Logiqs V4 emulator: HTTP routes (``server``), keys, cases, documents, tasks and FindCase's search
(``store``), and ``directory.InMemoryCaseDirectory``, the same search without HTTP. See docs/logiqs-api.md."""
