"""Text-layer PDFs laid out like IRS notices (reportlab canvas: fast, and the text layer is exact).

Page 1 has the IRS return address, the right-hand box of labelled facts (notice, tax year, notice date, taxpayer id,
AUR control number, phone, caller id, page x of n), the taxpayer's name and address, the amount and the response
date. Later pages repeat a short header and carry boilerplate, an information-return table and a response form.
Distractors real notices have are kept on purpose: ZIP+4 codes shaped like AUR control numbers, phone numbers,
tax-period dates, payer ids and income amounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from mailroom_sandbox.corpus.models import DateStyle, ExpectedNotice

PAGE_W, PAGE_H = letter
LEFT, RIGHT = 54.0, PAGE_W - 54.0
BODY_FONT, BOLD_FONT = "Helvetica", "Helvetica-Bold"

TITLES = {
    "CP2000": "Changes to your {year} Form 1040",
    "CP2501": "Your {year} Form 1040 has differences from information reported to the IRS",
    "CP3219A": "Notice of Deficiency for tax year {year}",
    "CP504": "Notice of intent to levy - you have unpaid taxes for {year}",
    "LT11": "Final notice of intent to levy and notice of your right to a hearing",
}
AMOUNT_LABELS = {"CP2000": "Proposed amount due", "CP3219A": "Amount due", "CP504": "Amount due", "LT11": "Amount you owe"}
DUE_LABELS = {
    "CP2000": "Respond by",
    "CP2501": "Respond by",
    "CP3219A": "Last day to file a petition with the United States Tax Court",
    "CP504": "Pay by",
    "LT11": "Respond by",
}
IRS_CENTERS = (
    ("Internal Revenue Service", "Ogden, UT 84201-0045"),
    ("Internal Revenue Service", "Kansas City, MO 64999-0023"),
    ("Internal Revenue Service", "Philadelphia, PA 19255-0025"),
    ("Internal Revenue Service", "Austin, TX 73301-0030"),
)
PHONES = ("1-800-829-0922", "1-800-829-1040", "1-866-897-0161", "1-800-829-8374")
PAYERS = ("FIRST NATIONAL BANK", "ACME BROKERAGE LLC", "RIVERSIDE CREDIT UNION", "NORTHWIND PAYROLL INC")
BOILERPLATE = (
    "We are required to send you this notice because the information reported to us by employers, banks and "
    "other payers does not match the information you reported on your tax return. Review the information below.",
    "If you agree with the changes, sign and date the response form, and return it with your payment or payment "
    "arrangement. If you do not agree, send a signed statement explaining why, with any documents that support it.",
    "Interest is charged on the amount you owe from the due date of the return until it is paid in full. The "
    "interest rate is determined quarterly and is the federal short-term rate plus 3 percent.",
    "You can pay online, by phone or by mail. Visit the IRS website to review your payment options, including "
    "installment agreements. Write your taxpayer identification number and the tax year on your payment.",
    "If you do not respond, we will send you a notice of deficiency and you will lose the right to appeal this "
    "decision within the IRS. Keep this notice for your records.",
    "You have the right to be informed, the right to quality service and the right to challenge the position of "
    "the IRS and be heard. The Taxpayer Advocate Service can help if you are facing financial difficulty.",
    "If you have questions, call us at the number shown above. Have this notice and your tax return available when "
    "you call. Representatives are available Monday through Friday, 7 a.m. to 7 p.m. local time.",
)


def format_date(value: date, style: DateStyle) -> str:
    if style == "long":
        return f"{value:%B} {value.day}, {value.year}"
    if style == "abbrev":
        month = f"{value:%B}"
        return f"{month if len(month) <= 4 else month[:3] + '.'} {value.day}, {value.year}"
    return f"{value.month:02d}/{value.day:02d}/{value.year}"


def format_amount(amount: Decimal) -> str:
    return f"${amount:,.2f}"


@dataclass
class NoticeLayout:
    """Everything printed on one notice; ``expected`` is the ground truth, the rest is decoration."""

    expected: ExpectedNotice
    tin_shown: str | None  # what the TIN line prints: "XXX-XX-1234", a full synthetic SSN, or None
    address_lines: list[str]
    caller_id: int
    phone: str
    center: tuple[str, str]
    rng: random.Random = field(repr=False)
    extra_blank_pages: int = 0  # for the oversized bad file


def render_notice(path: Path, layout: NoticeLayout) -> None:
    pages = layout.expected.page_count + layout.extra_blank_pages
    canvas = Canvas(str(path), pagesize=letter, pageCompression=1, invariant=1)  # invariant: same seed, same bytes
    canvas.setTitle(f"Notice {layout.expected.letter_type}")
    canvas.setAuthor("Internal Revenue Service")
    _first_page(canvas, layout, pages)
    for number in range(2, pages + 1):
        canvas.showPage()
        _header(canvas, layout, number, pages)
        if number == layout.expected.page_count:
            _response_form(canvas, layout)
        elif number == 2:
            _information_table(canvas, layout)
        elif number <= layout.expected.page_count:
            _paragraphs(canvas, layout, PAGE_H - 130, count=4)
    canvas.showPage()
    canvas.save()


def _first_page(c: Canvas, layout: NoticeLayout, pages: int) -> None:
    n = layout.expected
    c.setFont(BOLD_FONT, 10)
    c.drawString(LEFT, PAGE_H - 54, "Department of the Treasury")
    c.drawString(LEFT, PAGE_H - 66, layout.center[0])
    c.setFont(BODY_FONT, 9)
    c.drawString(LEFT, PAGE_H - 78, layout.center[1])
    box = [("Notice", n.letter_type), ("Tax year", str(n.tax_year)),
           ("Notice date", format_date(n.notice_date, n.date_style))]  # fmt: skip
    if layout.tin_shown:
        box.append(("Social Security number", layout.tin_shown))
    if n.aur_control_number:
        box.append(("AUR control number", n.aur_control_number))
    box += [("To contact us", f"Phone {layout.phone}"), ("Your caller ID", str(layout.caller_id)),
            ("Page 1 of", str(pages))]  # fmt: skip
    y = PAGE_H - 54
    for label, value in box:
        c.setFont(BODY_FONT, 9)
        c.drawString(340, y, label)
        c.setFont(BOLD_FONT, 9)
        c.drawString(465, y, value)
        y -= 13
    c.setFont(BODY_FONT, 10)
    y = PAGE_H - 200
    for line in [n.name_line, *layout.address_lines]:
        c.drawString(LEFT + 18, y, line)
        y -= 13
    y -= 24
    c.setFont(BOLD_FONT, 14)
    for line in simpleSplit(TITLES[n.letter_type].format(year=n.tax_year), BOLD_FONT, 14, RIGHT - LEFT):
        c.drawString(LEFT, y, line)
        y -= 18
    if n.amount_due is not None:
        c.setFont(BOLD_FONT, 12)
        c.drawString(LEFT, y - 4, f"{AMOUNT_LABELS[n.letter_type]}: {format_amount(n.amount_due)}")
        y -= 24
    c.setFont(BODY_FONT, 10)
    if n.letter_type in ("CP504", "LT11"):
        c.drawString(LEFT, y, f"Tax period: {format_date(date(n.tax_year, 12, 31), n.date_style)}   Form 1040")
        y -= 16
    if n.response_due_derived:
        due_text = "Respond within 30 days of the date of this notice." if n.letter_type != "CP3219A" else (
            "You have 90 days from the date of this letter to file a petition with the United States Tax Court.")
    else:
        due_text = f"{DUE_LABELS[n.letter_type]}: {format_date(n.response_due_date, n.date_style)}"
    c.setFont(BOLD_FONT, 10)
    c.drawString(LEFT, y, due_text)
    _paragraphs(c, layout, y - 24, count=2)


def _header(c: Canvas, layout: NoticeLayout, number: int, pages: int) -> None:
    n = layout.expected
    c.setFont(BODY_FONT, 8)
    parts = [f"Notice {n.letter_type}", f"Tax year {n.tax_year}",
             f"Notice date {format_date(n.notice_date, n.date_style)}"]  # fmt: skip
    if layout.tin_shown and layout.tin_shown.startswith("XXX"):
        parts.append(f"Social Security number {layout.tin_shown}")
    parts.append(f"Page {number} of {pages}")
    c.drawString(LEFT, PAGE_H - 40, "   ".join(parts))
    c.line(LEFT, PAGE_H - 46, RIGHT, PAGE_H - 46)


def _paragraphs(c: Canvas, layout: NoticeLayout, top: float, *, count: int) -> float:
    y = top
    c.setFont(BODY_FONT, 10)
    for text in layout.rng.sample(BOILERPLATE, count):
        for line in simpleSplit(text, BODY_FONT, 10, RIGHT - LEFT):
            if y < 72:
                return y
            c.drawString(LEFT, y, line)
            y -= 13
        y -= 9
    return y


def _information_table(c: Canvas, layout: NoticeLayout) -> None:
    rng = layout.rng
    c.setFont(BOLD_FONT, 12)
    c.drawString(LEFT, PAGE_H - 80, "Information reported to the IRS")
    c.setFont(BOLD_FONT, 9)
    columns = (LEFT, LEFT + 170, LEFT + 250, LEFT + 340, LEFT + 430)
    for x, head in zip(columns, ("Payer", "Payer ID", "Form", "Reported to IRS", "Shown on return")):
        c.drawString(x, PAGE_H - 104, head)
    c.setFont(BODY_FONT, 9)
    y = PAGE_H - 120
    for payer in rng.sample(PAYERS, rng.randint(1, 3)):
        reported = Decimal(rng.randrange(20_000, 9_000_000)) / 100
        cells = (payer, f"XX-XXX{rng.randrange(10_000):04d}", rng.choice(("1099-INT", "1099-B", "W-2", "1099-NEC")),
                 format_amount(reported), format_amount(Decimal(0)))  # fmt: skip
        for x, cell in zip(columns, cells):
            c.drawString(x, y, cell)
        y -= 13
    _paragraphs(c, layout, y - 24, count=3)


def _response_form(c: Canvas, layout: NoticeLayout) -> None:
    n = layout.expected
    c.setFont(BOLD_FONT, 12)
    c.drawString(LEFT, PAGE_H - 80, "Response form")
    c.setFont(BODY_FONT, 10)
    y = PAGE_H - 104
    lines = [n.name_line, *layout.address_lines, ""]
    if layout.tin_shown and layout.tin_shown.startswith("XXX"):
        lines.append(f"Social Security number: {layout.tin_shown}")
    if n.amount_due is not None:
        lines.append(f"Amount due: {format_amount(n.amount_due)}")
    lines += ["", "[ ] I agree with the changes.   [ ] I do not agree with the changes.",
              "Signature ____________________________   Date ______________",
              "Spouse's signature, if a joint return ____________________________"]  # fmt: skip
    for line in lines:
        c.drawString(LEFT, y, line)
        y -= 14
    c.setFont(BODY_FONT, 9)
    c.drawString(LEFT, 90, f"{layout.center[0]}  {layout.center[1]}")
