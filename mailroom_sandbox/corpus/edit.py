"""A copy of a corpus with some typed notices re-printed with other fields (letter type, dates...), for tests that
need a given mix (e.g. a CP504 due in 5 days among CP2000s due in 25) without a generator option for each.

    corpus = with_notices_changed(corpus, tmp / "corpus", {"n0003": dict(letter_type="CP504", ...)})
    with Sandbox(corpus=corpus) as sandbox: ...

Cached corpora are shared read-only inputs: this never edits ``corpus`` in place.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path
from typing import Any

from faker import Faker

from mailroom_sandbox.corpus.generator import _address  # the same address block as generated notices
from mailroom_sandbox.corpus.models import Corpus, FileKind
from mailroom_sandbox.corpus.pdf import IRS_CENTERS, PHONES, NoticeLayout, render_notice


def with_notices_changed(corpus: Corpus, out_dir: Path, changes: dict[str, dict[str, Any]], *,
                         seed: int = 0) -> Corpus:
    """``changes``: corpus file key -> ExpectedNotice fields to change. Only typed notices can be re-printed."""
    out_dir = Path(out_dir)
    shutil.copytree(corpus.root / "files", out_dir / "files")
    fake, rng = Faker("en_US"), random.Random(seed)
    fake.seed_instance(seed)
    files = []
    for entry in corpus.files:
        if entry.key in changes:
            if entry.kind is not FileKind.TYPED or entry.notice is None:
                raise ValueError(f"{entry.key} is not a typed notice: only those can be re-printed")
            notice = entry.notice.model_copy(update=changes[entry.key])
            if notice.ssn_last4:
                notice = notice.model_copy(update={"ssn_display": "masked"})  # the full SSN is not ours to print
            tin = f"XXX-XX-{notice.ssn_last4}" if notice.ssn_last4 else None
            layout = NoticeLayout(expected=notice, tin_shown=tin, address_lines=_address(fake, rng),
                                  caller_id=rng.randrange(100_000, 999_999), phone=rng.choice(PHONES),
                                  center=rng.choice(IRS_CENTERS), rng=random.Random(rng.random()))
            target = out_dir / entry.local_path
            render_notice(target, layout)
            data = target.read_bytes()
            entry = entry.model_copy(update=dict(notice=notice, size=len(data), md5=hashlib.md5(data).hexdigest()))
        files.append(entry)
    changed = corpus.model_copy(update={"files": files})
    changed.root = out_dir
    changed.write()
    return changed
