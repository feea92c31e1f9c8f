"""Page layouts of the papers corpus: where the letterhead, the notice box and the address block sit, in which font.

The first corpus draws one layout in Helvetica; this one varies what a reader must not depend on: the notice box on
the right (the CP2000 habit), on the left, as a two-column table under the letterhead or as plain label lines under
the title; the window address block high, low or indented; Courier, Times or a monospace TrueType letter font.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path

# A monospace TrueType "letter" font if the machine has one (fonts-dejavu-core; scripts/install.sh installs it).
MONO_TTF_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSansMono.ttf"),
)

FONTS = ("courier", "times", "mono_ttf", "times_courier")
LETTERHEADS = ("stacked_left", "centered", "title_bar", "seal_left")
BOX_STYLES = ("right", "left", "table", "inline")
# (x, y) of the first address line in points from the top left of a US Letter page; the #10 window is ~(63, 140).
ADDRESS_POSITIONS = {
    "window": (66.0, 156.0),
    "window_high": (60.0, 128.0),
    "window_low": (72.0, 198.0),
    "indented": (108.0, 170.0),
}
PAGE_LABELS = ("Page {n} of {total}", "{n} of {total}", "Page {n}")


@dataclass(frozen=True)
class Layout:
    font: str
    font_size: float
    letterhead: str
    box_style: str
    box_frame: bool
    address_position: str
    page_label: str
    header_on_later_pages: bool
    response_form: bool  # the last page repeats name, address and SSN on a tear-off response form

    def describe(self) -> dict[str, object]:
        return asdict(self)


def mono_ttf_path() -> Path | None:
    return next((p for p in MONO_TTF_CANDIDATES if p.is_file()), None)


def choose_layout(rng: random.Random, page_count: int) -> Layout:
    box_style = rng.choices(BOX_STYLES, weights=(40, 20, 20, 20))[0]
    address_position = rng.choice(tuple(ADDRESS_POSITIONS))
    if box_style == "left" and address_position == "indented":
        address_position = "window_low"  # a left box and an indented window would overlap on paper too
    font = rng.choice(FONTS)
    if font == "mono_ttf" and mono_ttf_path() is None:
        font = "courier"  # same draw either way, so the rest of the plan does not depend on the machine's fonts
    return Layout(
        font=font,
        font_size=rng.choice((9.0, 9.5, 10.0, 10.5, 11.0)),
        letterhead=rng.choice(LETTERHEADS),
        box_style=box_style,
        box_frame=rng.random() < 0.5,
        address_position=address_position,
        page_label=rng.choice(PAGE_LABELS),
        header_on_later_pages=rng.random() < 0.6,
        response_form=page_count >= 2 and rng.random() < 0.7,
    )
