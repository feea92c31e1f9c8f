"""The HTTP core both emulators run on (``core.EmulatorServer``, ``wire`` below it), seeded fault injection and the
server-side rate limit (``faults``), and the lifecycle every emulator shares (``emulator.Emulator``)."""
