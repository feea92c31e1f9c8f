"""What one IRS letter of the papers corpus says: the facts (ground truth) and how they are printed.

A ``LetterPlan`` is drawn from a seeded ``random.Random`` and is everything the renderer needs, so a plan can be
checked (the manifest) without rendering anything. Printed forms follow public descriptions of real notices:
CP2000/CP2501/CP3219A come from the Automated Underreporter (AUR) program and carry an AUR control number;
CP504 and LT11 are collection notices and carry none. CP2501 asks for information and prints no amount due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from mailroom_sandbox.papers.layout import Layout, choose_layout
from mailroom_sandbox.papers.names import (
    NAME_LINE_LIMIT,
    Address,
    Person,
    care_of_line,
    make_address,
    make_person,
    make_spouse,
    name_lines,
)

LETTER_TYPES = ("CP2000", "CP2501", "CP3219A", "CP504", "LT11")
LETTER_WEIGHTS = (55, 10, 12, 13, 10)
AUR_LETTERS = frozenset({"CP2000", "CP2501", "CP3219A"})
# Days from the notice date to the date the letter prints (CP3219A: the 90-day Tax Court petition date).
RESPONSE_DAYS = {"CP2000": (30, 35, 37), "CP2501": (30, 32), "CP3219A": (90,), "CP504": (21, 30), "LT11": (30,)}
NAME_STYLES = ("single", "joint_amp", "joint_full", "joint_two_lines", "and_spouse")
DATE_STYLES = ("long", "numeric", "short_month", "upper_long", "numeric_padded")
SSN_STYLES = ("masked_x", "masked_x", "masked_x", "masked_star", "masked_lower", "full")
CAMPUSES = (
    ("Ogden, UT 84201-0011", "1-800-829-8310"),
    ("Fresno, CA 93888-0025", "1-800-829-0922"),
    ("Kansas City, MO 64999-0025", "1-800-829-3903"),
    ("Austin, TX 73301-0023", "1-800-829-8310"),
    ("Philadelphia, PA 19255-0025", "1-800-829-0922"),
    ("Holtsville, NY 11742-9011", "1-800-829-3903"),
)
MONTHS = ("January February March April May June July August September October November December").split()
SHORT_MONTHS = ("Jan. Feb. Mar. Apr. May Jun. Jul. Aug. Sept. Oct. Nov. Dec.").split()


@dataclass(frozen=True)
class LetterPlan:
    letter_type: str
    tax_year: int
    notice_date: date
    response_due_date: date | None  # None: the letter prints no response date
    taxpayer: Person
    spouse: Person | None  # the spouse as printed; None for a single filer or "& SPOUSE"
    crm_spouse: Person | None  # the spouse the firm knows (also set for "& SPOUSE")
    name_style: str
    address: Address
    care_of: str | None
    ssn: str  # full synthetic SSN, 9xx area (never issued)
    ssn_style: str
    aur_control_number: str | None
    amount_due: Decimal | None  # None: the letter prints no amount due
    amount_parts: tuple[tuple[str, Decimal], ...]
    box_date_style: str
    body_date_style: str
    page_count: int
    campus: int
    layout: Layout
    text_seed: int
    variant: int = field(default=0)  # picks label wording and the due-date sentence

    @property
    def ssn_last4(self) -> str:
        return self.ssn[-4:]

    def name_lines(self) -> list[str]:
        return name_lines(self.taxpayer, self.crm_spouse, self.name_style)

    def address_lines(self) -> list[str]:
        lines = self.name_lines()
        if self.care_of:
            lines.append(self.care_of)
        lines.append(self.address.street)
        if self.address.street2:
            lines.append(self.address.street2)
        lines.append(self.address.city_line())
        return lines


def format_date(value: date, style: str) -> str:
    if style == "long":
        return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"
    if style == "upper_long":
        return f"{MONTHS[value.month - 1]} {value.day}, {value.year}".upper()
    if style == "short_month":
        return f"{SHORT_MONTHS[value.month - 1]} {value.day}, {value.year}"
    if style == "numeric":
        return f"{value.month}/{value.day}/{value.year}"
    if style == "numeric_padded":
        return f"{value.month:02d}/{value.day:02d}/{value.year}"
    raise ValueError(f"unknown date style {style!r}")


def format_ssn(ssn: str, style: str) -> str:
    last4 = ssn[-4:]
    if style == "masked_x":
        return f"XXX-XX-{last4}"
    if style == "masked_lower":
        return f"xxx-xx-{last4}"
    if style == "masked_star":
        return f"***-**-{last4}"
    if style == "full":
        return f"{ssn[:3]}-{ssn[3:5]}-{last4}"
    raise ValueError(f"unknown SSN style {style!r}")


def format_amount(value: Decimal) -> str:
    return f"${value:,.2f}"


def synthetic_ssn(rng: random.Random) -> str:
    # Area numbers 900-999 are never issued as SSNs, so these can never be a real person's number.
    return f"{rng.randrange(900, 1000)}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"


def aur_control_number(rng: random.Random) -> str:
    # Public sample letters blank this field; two shapes are used so that a reader does not learn one of them.
    # The letter of the second shape is never one OCR confuses with a digit (B/8, S/5, Z/2, O/0, I/1, G/6, D/0):
    # nothing we found says the real numbers contain letters at all, so they must not make the corpus unfair.
    if rng.random() < 0.7:
        return "".join(rng.choice("0123456789") for _ in range(10))
    return f"{rng.randrange(1, 10)}{rng.choice('ACEFHKMNPRTUVWXY')}{rng.randrange(10**6, 10**7)}"


def _weekday_on_or_after(value: date) -> date:
    while value.weekday() >= 5:
        value += timedelta(days=1)
    return value


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    # Log-uniform: many small balances, a few large ones with several thousands separators.
    value = low * (high / low) ** rng.random()
    return Decimal(f"{value:.2f}") if rng.random() < 0.7 else Decimal(f"{round(value)}.00")


def amounts_for(rng: random.Random, letter_type: str) -> tuple[Decimal | None, tuple[tuple[str, Decimal], ...]]:
    if letter_type == "CP2501":
        reported = _money(rng, 400, 90000)
        return None, (("Amount reported to the IRS", reported), ("Amount shown on your return", Decimal("0.00")))
    tax = _money(rng, 120, 60000 if rng.random() < 0.9 else 400000)
    penalty = (tax * Decimal("0.2")).quantize(Decimal("0.01")) if rng.random() < 0.6 else Decimal("0.00")
    interest = _money(rng, 5, float(tax) * 0.25 + 10)
    if letter_type == "CP3219A":
        return tax + penalty, (("Increase in tax", tax), ("Penalty", penalty))
    parts = (("Tax increase" if letter_type == "CP2000" else "Tax you owed", tax), ("Penalties", penalty),
             ("Interest", interest))
    return tax + penalty + interest, parts


def make_letter_plan(rng: random.Random, letter_type: str | None = None, *, taxpayer: Person | None = None,
                     spouse: Person | None = None, name_style: str | None = None, ssn: str | None = None,
                     address: Address | None = None, tax_year: int | None = None) -> LetterPlan:
    """Draw one letter. The keyword arguments pin the person for a second letter to the same household."""
    letter_type = letter_type or rng.choices(LETTER_TYPES, weights=LETTER_WEIGHTS)[0]
    taxpayer = taxpayer or make_person(rng)
    if name_style is None:
        name_style = rng.choices(NAME_STYLES, weights=(55, 18, 10, 12, 5))[0]
    if name_style == "and_spouse" and len(taxpayer.line()) + len(" & SPOUSE") > NAME_LINE_LIMIT:
        name_style = "joint_two_lines"
    if name_style != "single" and spouse is None:
        spouse = make_spouse(rng, taxpayer)
    if name_style == "single":
        spouse = None
    notice_date = _weekday_on_or_after(date(2023, 1, 2) + timedelta(days=rng.randrange(0, 1200)))
    if tax_year is None:
        tax_year = notice_date.year - rng.choice((1, 2, 2, 3))
    elif tax_year >= notice_date.year:  # a notice about a year comes after that year's return
        notice_date = _weekday_on_or_after(date(tax_year + 1, rng.randrange(4, 13), rng.randrange(1, 29)))
    response_due: date | None = notice_date + timedelta(days=rng.choice(RESPONSE_DAYS[letter_type]))
    if letter_type == "CP504" and rng.random() < 0.4:
        response_due = None  # "Amount due immediately" with no date printed anywhere
    amount_due, parts = amounts_for(rng, letter_type)
    page_count = rng.choices((1, 2, 3, 4), weights=(20, 30, 25, 25))[0]
    box_date_style = rng.choice(DATE_STYLES)
    return LetterPlan(
        letter_type=letter_type,
        tax_year=tax_year,
        notice_date=notice_date,
        response_due_date=response_due,
        taxpayer=taxpayer,
        spouse=spouse if name_style != "and_spouse" else None,
        crm_spouse=spouse,
        name_style=name_style,
        address=address or make_address(rng),
        care_of=care_of_line(rng) if rng.random() < 0.05 else None,
        ssn=ssn or synthetic_ssn(rng),
        ssn_style=rng.choice(SSN_STYLES),
        aur_control_number=aur_control_number(rng) if letter_type in AUR_LETTERS else None,
        amount_due=amount_due,
        amount_parts=parts,
        box_date_style=box_date_style,
        body_date_style=rng.choice(DATE_STYLES) if rng.random() < 0.5 else box_date_style,
        page_count=page_count,
        campus=rng.randrange(len(CAMPUSES)),
        layout=choose_layout(rng, page_count),
        text_seed=rng.randrange(2**31),
        variant=rng.randrange(3),
    )


def expected_fields(plan: LetterPlan) -> dict[str, object]:
    """Ground truth with the field names the benchmark compares, values as printed (names in upper case)."""
    return {
        "letter_type": plan.letter_type,
        "tax_year": plan.tax_year,
        "notice_date": plan.notice_date.isoformat(),
        "response_due_date": plan.response_due_date.isoformat() if plan.response_due_date else None,
        "taxpayer_first_name": plan.taxpayer.first,
        "taxpayer_last_name": plan.taxpayer.last,
        "spouse_first_name": plan.spouse.first if plan.spouse else None,
        "spouse_last_name": plan.spouse.last if plan.spouse else None,
        "ssn_last4": plan.ssn_last4,
        "aur_control_number": plan.aur_control_number,
        "amount_due": f"{plan.amount_due:.2f}" if plan.amount_due is not None else None,
    }


def hard_case_tags(plan: LetterPlan) -> list[str]:
    """Labels for per-class result tables: which of the known hard cases this letter carries."""
    last, tags = plan.taxpayer.last, []
    people = [plan.taxpayer] + ([plan.spouse] if plan.spouse else [])
    if any(" " in p.last for p in people):
        tags.append("particle_surname")
    if any("-" in p.last for p in people):
        tags.append("hyphenated_surname")
    if any("'" in p.last for p in people):
        tags.append("apostrophe_surname")
    if last.startswith(("MC", "MAC")):
        tags.append("mc_surname")
    if len(last) <= 2:
        tags.append("two_letter_surname")
    if "-" in plan.taxpayer.first or "'" in plan.taxpayer.first:
        tags.append("punctuated_first_name")
    if plan.taxpayer.suffix:
        tags.append("suffix")
    if plan.taxpayer.middle:
        tags.append("middle_initial")
    if any(len(line) >= 30 for line in plan.name_lines()):
        tags.append("long_name_line")
    tags.append(f"names_{plan.name_style}")
    if plan.spouse and plan.spouse.last != last:
        tags.append("spouse_other_surname")
    if plan.care_of:
        tags.append("care_of_line")
    if plan.ssn_style == "full":
        tags.append("full_ssn_printed")
    if plan.amount_due is None:
        tags.append("no_amount_printed")
    if plan.response_due_date is None:
        tags.append("no_response_date_printed")
    return tags
