"""The scan damage model: what paper, a scanner or a fax machine does to a page, with numpy and PIL.

Each scanned file gets a ``ScanPlan`` (resolution plus a list of damage steps, each tied to a page) drawn before
anything is rendered, so the manifest can say which damage every page got. Steps run in the physical order: ink on
paper (stamp, pen), print quality (faded), how the sheet went in (rotated, skewed), optics (blur), scanner lid
(dark border), dust and sensor noise (speckle), and last the encoding (fax 1-bit or JPEG at some quality).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Page-level kinds first, file-level kinds (cover_page, two_letters) last; batch.py handles the file-level ones.
PAGE_DAMAGE_KINDS = ("speckle", "blur", "skew", "fax_threshold", "jpeg_low_quality", "rotated_90", "rotated_180",
                     "received_stamp", "pen_marks", "faded", "dark_border")
FILE_DAMAGE_KINDS = ("cover_page", "two_letters")
DAMAGE_KINDS = PAGE_DAMAGE_KINDS + FILE_DAMAGE_KINDS
# How often a kind is drawn on top of the one each file is guaranteed (see plan_scan).
EXTRA_PROBABILITY = {"speckle": 0.45, "blur": 0.35, "skew": 0.6, "fax_threshold": 0.12, "jpeg_low_quality": 0.22,
                     "rotated_90": 0.05, "rotated_180": 0.04, "received_stamp": 0.3, "pen_marks": 0.25,
                     "faded": 0.15, "dark_border": 0.2, "cover_page": 0.12, "two_letters": 0.1}
DPIS = (150, 200, 300)
ORDER = ("skew", "received_stamp", "pen_marks", "faded", "rotated_90", "rotated_180", "blur", "dark_border",
         "speckle")


@dataclass(frozen=True)
class DamageStep:
    kind: str
    page: int | None  # 1-based page of the file; None for file-level kinds and the encoding kinds
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanPlan:
    dpi: int
    kinds: tuple[str, ...]
    steps: tuple[DamageStep, ...]
    seed: int

    def page_steps(self, page: int) -> list[DamageStep]:
        steps = [s for s in self.steps if s.page == page]
        return sorted(steps, key=lambda s: ORDER.index(s.kind))

    def encoding(self) -> DamageStep | None:
        return next((s for s in self.steps if s.kind in ("fax_threshold", "jpeg_low_quality")), None)


def choose_kinds(rng: random.Random, guaranteed: str | None) -> tuple[str, ...]:
    kinds = {guaranteed} if guaranteed else set()
    for kind, probability in EXTRA_PROBABILITY.items():
        if rng.random() < probability:
            kinds.add(kind)
    # One encoding per file, and a sheet lies either sideways or upside down, not both.
    if "fax_threshold" in kinds and "jpeg_low_quality" in kinds:
        kinds.discard("jpeg_low_quality" if guaranteed != "jpeg_low_quality" else "fax_threshold")
    # A fax machine's auto-exposure recovers faint print; thresholding faded toner at a fixed level erases it.
    if "fax_threshold" in kinds and "faded" in kinds:
        kinds.discard("faded" if guaranteed != "faded" else "fax_threshold")
    if "rotated_90" in kinds and "rotated_180" in kinds:
        kinds.discard("rotated_180" if guaranteed != "rotated_180" else "rotated_90")
    return tuple(k for k in DAMAGE_KINDS if k in kinds)


def plan_scan(rng: random.Random, kinds: tuple[str, ...], page_count: int, letter_pages: list[int],
              stamp_date: date) -> ScanPlan:
    """Ties each page-level kind to pages of a ``page_count``-page file and draws its parameters.

    Kinds that hit one sheet (rotation, stamp, pen) land on letter pages, never only on a cover sheet.
    """
    dpi = rng.choices(DPIS, weights=(35, 45, 20))[0]
    if "fax_threshold" in kinds:
        dpi = rng.choice((200, 200, 300))  # fax "fine" mode is ~200 dpi; a 150 dpi fax is unreadable on paper too
    steps: list[DamageStep] = []
    all_pages = list(range(1, page_count + 1))
    for kind in kinds:
        if kind in FILE_DAMAGE_KINDS:
            continue
        if kind == "fax_threshold":
            # Above mid-grey: thin anti-aliased Courier strokes survive, as they do on a real fax of a laser print.
            steps.append(DamageStep(kind, None, {"threshold": rng.randrange(145, 190)}))
        elif kind == "jpeg_low_quality":
            steps.append(DamageStep(kind, None, {"quality": rng.randrange(12, 32)}))
        elif kind in ("rotated_90", "rotated_180"):
            page = rng.choice(letter_pages)
            angle = 180 if kind == "rotated_180" else rng.choice((90, 270))
            steps.append(DamageStep(kind, page, {"angle": angle}))
        elif kind == "received_stamp":
            steps.append(DamageStep(kind, letter_pages[0] if rng.random() < 0.7 else rng.choice(letter_pages), {
                "text_date": stamp_date.strftime("%b %d %Y").upper(), "color": rng.choice(("red", "grey")),
                "angle": round(rng.uniform(-18, 18), 1), "where": rng.choice(("address", "box", "body", "body")),
                "x": round(rng.random(), 3), "y": round(rng.random(), 3)}))
        elif kind == "pen_marks":
            for page in rng.sample(letter_pages, k=min(len(letter_pages), rng.choice((1, 1, 2)))):
                steps.append(DamageStep(kind, page, {"strokes": rng.randrange(1, 5), "seed": rng.randrange(2**31),
                                                     "near_address": page == letter_pages[0] and rng.random() < 0.4}))
        elif kind == "skew":
            angle = rng.uniform(0.5, 3.0) * rng.choice((-1, 1))
            for page in all_pages:  # a skewed feeder skews every sheet a little differently
                steps.append(DamageStep(kind, page, {"angle": round(angle + rng.uniform(-0.3, 0.3), 2)}))
        elif kind == "blur":
            radius = round(rng.uniform(0.6, 1.6), 2)
            steps.extend(DamageStep(kind, page, {"radius": radius}) for page in all_pages)
        elif kind == "speckle":
            density = round(rng.uniform(0.002, 0.02), 4)
            steps.extend(DamageStep(kind, page, {"density": density}) for page in all_pages)
        elif kind == "faded":
            strength = round(rng.uniform(0.4, 0.7), 2)
            steps.extend(DamageStep(kind, page, {"ink": strength}) for page in all_pages)
        elif kind == "dark_border":
            sides = rng.sample(("left", "right", "top", "bottom"), k=rng.choice((1, 2)))
            steps.extend(DamageStep(kind, page, {"sides": sides, "width": rng.randrange(8, 40)})
                         for page in all_pages)
    return ScanPlan(dpi=dpi, kinds=kinds, steps=tuple(steps), seed=rng.randrange(2**31))


Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in points on the unrotated page
DEFAULT_ANCHORS: dict[str, Rect] = {"address": (50, 120, 300, 230), "box": (330, 30, 560, 150),
                                    "body": (50, 250, 420, 650)}


def _stamp(image: Image.Image, step: DamageStep, dpi: int, anchors: dict[str, Rect]) -> Image.Image:
    p = step.params
    scale = dpi / 72.0
    font = ImageFont.load_default(size=int(22 * scale))
    small = ImageFont.load_default(size=int(11 * scale))
    lines = [("RECEIVED", font), (str(p["text_date"]), small), ("TAX RESOLUTION DEPT", small)]
    w = int(190 * scale)
    h = int(78 * scale)
    stamp = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(stamp)
    ink = (200, 30, 40, 215) if p["color"] == "red" else (90, 90, 90, 200)
    draw.rounded_rectangle((2, 2, w - 3, h - 3), radius=int(8 * scale), outline=ink, width=max(2, int(2 * scale)))
    y = int(6 * scale)
    for text, face in lines:
        tw = draw.textlength(text, font=face)
        draw.text(((w - tw) / 2, y), text, font=face, fill=ink)
        y += int((30 if face is font else 17) * scale)
    stamp = stamp.rotate(float(p["angle"]), expand=True, resample=Image.BICUBIC)
    # Where on the page, in points: over the address block, over the notice box, or anywhere in the body.
    region = anchors.get(str(p["where"])) or DEFAULT_ANCHORS[str(p["where"])]
    x = (region[0] + float(p["x"]) * (region[2] - region[0])) * scale
    y0 = (region[1] + float(p["y"]) * (region[3] - region[1])) * scale
    base = image.convert("RGB")
    base.paste(stamp, (int(x - stamp.width / 2), int(y0 - stamp.height / 2)), stamp)
    return base


def _pen(image: Image.Image, step: DamageStep, dpi: int, anchors: dict[str, Rect]) -> Image.Image:
    rng = random.Random(int(step.params["seed"]))  # type: ignore[arg-type]
    scale = dpi / 72.0
    base = image.convert("RGB")
    draw = ImageDraw.Draw(base)
    ink = rng.choice(((20, 40, 160), (15, 15, 15), (30, 30, 120)))
    width = max(2, int(rng.uniform(1.2, 2.5) * scale))
    for stroke in range(int(step.params["strokes"])):  # type: ignore[call-overload]
        if step.params["near_address"] and stroke == 0:  # the clerk underlines the name, just below it
            left, _, right, bottom = anchors.get("name_line") or (66.0, 150.0, 230.0, 158.0)
            x0, y0, steps = (left - rng.uniform(0, 8)) * scale, (bottom + rng.uniform(0.5, 3)) * scale, 8
            span = (right - left + rng.uniform(0, 16)) * scale
            points = [(x0 + i * span / steps, y0 + rng.uniform(-1.5, 1.5) * scale) for i in range(steps + 1)]
        else:
            cx, cy = rng.uniform(60, 540) * scale, rng.uniform(80, 740) * scale
            kind = rng.choice(("scribble", "check", "circle", "line"))
            if kind == "circle":
                r = rng.uniform(20, 60) * scale
                points = [(cx + r * 1.6 * math.cos(t / 10), cy + r * 0.6 * math.sin(t / 10)) for t in range(66)]
            elif kind == "check":
                points = [(cx, cy), (cx + 8 * scale, cy + 10 * scale), (cx + 26 * scale, cy - 16 * scale)]
            elif kind == "line":
                points = [(cx, cy), (cx + rng.uniform(80, 260) * scale, cy + rng.uniform(-8, 8) * scale)]
            else:
                points = [(cx + rng.uniform(-40, 40) * scale, cy + rng.uniform(-14, 14) * scale) for _ in range(9)]
        draw.line(points, fill=ink, width=width, joint="curve")
    return base


def _faded(image: Image.Image, ink: float, rng: np.random.Generator) -> Image.Image:
    arr = np.asarray(image.convert("L"), dtype=np.float32)
    paper = 255 - rng.uniform(8, 28)
    arr = paper - (paper - arr) * ink
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def _speckle(image: Image.Image, density: float, rng: np.random.Generator) -> Image.Image:
    arr = np.array(image.convert("L"))
    mask = rng.integers(0, 1 << 16, size=arr.shape, dtype=np.uint16) < int(density * (1 << 16))
    arr[mask] = np.where(rng.random(int(mask.sum())) < 0.6, 0, 255).astype(np.uint8)
    blobs = rng.integers(0, arr.shape[0] * arr.shape[1], size=int(40 * density * 100))
    for index in blobs:  # dust: a few blobs bigger than one pixel
        y, x = divmod(int(index), arr.shape[1])
        arr[y:y + 3, x:x + 3] = 0
    return Image.fromarray(arr, "L")


def _border(image: Image.Image, sides: list[str], width: int, dpi: int) -> Image.Image:
    arr = np.array(image.convert("L"))
    px = max(4, int(width * dpi / 200))
    ramp = np.linspace(30, 200, px, dtype=np.float32)
    if "left" in sides:
        arr[:, :px] = np.minimum(arr[:, :px], ramp[None, :].astype(np.uint8))
    if "right" in sides:
        arr[:, -px:] = np.minimum(arr[:, -px:], ramp[::-1][None, :].astype(np.uint8))
    if "top" in sides:
        arr[:px, :] = np.minimum(arr[:px, :], ramp[:, None].astype(np.uint8))
    if "bottom" in sides:
        arr[-px:, :] = np.minimum(arr[-px:, :], ramp[::-1][:, None].astype(np.uint8))
    return Image.fromarray(arr, "L")


def skew_angle(plan: ScanPlan, page: int) -> float:
    """The page's skew in degrees. The rasteriser applies it (rotating a 200 dpi bitmap costs 10x more)."""
    angles = [s.params["angle"] for s in plan.page_steps(page) if s.kind == "skew"]
    return float(angles[0]) if angles else 0.0  # type: ignore[arg-type]


def damage_page(image: Image.Image, plan: ScanPlan, page: int,
                anchors: dict[str, Rect] | None = None) -> Image.Image:
    """Applies the page's steps in physical order, but for skew (see skew_angle); returns a grey image, or RGB
    when coloured ink is on the page. ``anchors`` say where the name line, the address block and the notice box
    really are on this page (regions a stamp is centred in; the line a clerk underlines)."""
    rng = np.random.default_rng([plan.seed, page])
    for step in plan.page_steps(page):
        p = step.params
        if step.kind == "received_stamp":
            image = _stamp(image, step, plan.dpi, anchors or {})
        elif step.kind == "pen_marks":
            image = _pen(image, step, plan.dpi, anchors or {})
        elif step.kind == "faded":
            image = _faded(image, float(p["ink"]), rng)  # type: ignore[arg-type]
        elif step.kind in ("rotated_90", "rotated_180"):
            turn = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
            image = image.transpose(turn[int(p["angle"])])  # type: ignore[call-overload]
        elif step.kind == "blur":
            # One box pass, not Gaussian's three: a third of the time, and a scanner's softness is no Gaussian.
            image = image.filter(ImageFilter.BoxBlur(float(p["radius"]) * plan.dpi / 200))  # type: ignore[arg-type]
        elif step.kind == "dark_border":
            image = _border(image, list(p["sides"]), int(p["width"]), plan.dpi)  # type: ignore[call-overload]
        elif step.kind == "speckle":
            image = _speckle(image, float(p["density"]), rng)  # type: ignore[arg-type]
    return image


def encode_page(image: Image.Image, plan: ScanPlan, page: int) -> tuple[bytes, str]:
    """The page as the scanner stores it: 1-bit PNG for a fax, else JPEG (grey unless ink colour is on it)."""
    encoding = plan.encoding()
    buffer = io.BytesIO()
    if encoding is not None and encoding.kind == "fax_threshold":
        grey = np.asarray(image.convert("L"), dtype=np.int16)
        jitter = np.random.default_rng([plan.seed, page, 1]).integers(-12, 13, size=grey.shape)
        bits = (grey + jitter) > int(encoding.params["threshold"])  # type: ignore[call-overload]
        Image.fromarray(bits).convert("1").save(buffer, format="PNG", optimize=False)
        return buffer.getvalue(), "png"
    quality = int(encoding.params["quality"]) if encoding else 60 + plan.seed % 26  # type: ignore[call-overload]
    if image.mode == "RGB" and _is_grey(image):
        image = image.convert("L")
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue(), "jpeg"


def _is_grey(image: Image.Image) -> bool:
    arr = np.asarray(image, dtype=np.int16)
    return bool(np.abs(arr[..., 0] - arr[..., 2]).max() < 12)
