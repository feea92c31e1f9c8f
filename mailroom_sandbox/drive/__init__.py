"""The Google Drive v3 emulator: HTTP routes (``server``), files and folders in memory (``store``), ``q``/``fields``/
``orderBy`` (``query``) and Google's service-account OAuth2 token endpoint (``oauth``). See docs/sandbox-drive.md."""
