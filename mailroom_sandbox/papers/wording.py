"""The printed text of each letter type, page by page, with the label and sentence variation of real notices.

Wording paraphrases public descriptions of the notices (IRS "Understanding your CP2000/CP2501/CP504/CP3219A/LT11"
pages and sample-content pages); it is not copied. Distractors that real letters carry are kept on purpose: other
dates (return received, interest computed to), other amounts (tax increase, penalties, amounts payers reported),
a caller or employee ID number, payer names that look like surnames, the campus CITY ST ZIP in the letterhead and a
scan line with the name control on the response form.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from mailroom_sandbox.papers.letters import (
    CAMPUSES,
    LetterPlan,
    format_amount,
    format_date,
    format_ssn,
)


@dataclass(frozen=True)
class Block:
    kind: str  # heading | para | row | rule | check
    text: str = ""
    value: str = ""


@dataclass
class LetterContent:
    titles: list[str]
    box_rows: list[tuple[str, str]]
    header_rows: list[tuple[str, str]]  # the shorter box printed on later pages
    return_address: list[str]
    address_lines: list[str]
    pages: list[list[Block]] = field(default_factory=list)
    footer: str = ""
    scan_line: str | None = None


TITLES = {
    "CP2000": ("Changes to your {y} Form 1040", "Proposed changes to your {y} Form 1040",
               "Proposed changes to your {y} tax return"),
    "CP2501": ("We need information about your {y} Form 1040",
               "The income we received doesn't match your {y} return", "Please explain these {y} differences"),
    "CP3219A": ("Notice of Deficiency", "Notice of Deficiency - Proposed increase in tax",
                "Statutory Notice of Deficiency"),
    "CP504": ("Notice of intent to seize (levy) your property or rights to property",
              "Notice of intent to seize (levy) your property or rights to property",
              "Intent to seize your property or rights to property"),
    "LT11": ("Final Notice of Intent to Levy and Notice of Your Right to a Hearing",) * 3,
}
TOTAL_LABELS = {
    "CP2000": ("Proposed amount due", "Amount due", "Proposed balance due"),
    "CP3219A": ("Amount due", "Total amount you owe", "Proposed balance due"),
    "CP504": ("Amount due immediately",) * 3,
    "LT11": ("Amount you owe", "Total amount due", "Amount you owe"),
}
DUE_SENTENCES = {
    "CP2000": ("If you don't agree, respond by {d}.", "Respond by: {d}",
               "You must return the Response form by {d}."),
    "CP2501": ("Please respond by {d}.", "Reply by {d}", "Send us your response by {d} so we can finish your case."),
    "CP3219A": ("Last day to file a petition with the United States Tax Court: {d}",
                "You have until {d} to file a petition with the United States Tax Court.",
                "Last date to petition Tax Court: {d}"),
    "CP504": ("Pay by {d}", "If you don't pay {a} by {d}, we may seize (levy) your state tax refund.",
              "Pay the amount due by {d} to avoid a levy."),
    "LT11": ("Please respond by {d}. To ask for a hearing, send us Form 12153 by that date.",
             "You have the right to a hearing. Request it by {d}.", "Respond by {d}"),
}
NO_DUE_SENTENCE = {"CP504": "Pay the amount due immediately. Call us if you can't pay in full."}
DATE_LABELS = ("Notice date", "Date of this notice", "Notice Date")
SSN_LABELS = ("Social Security number", "SSN", "Taxpayer ID number", "Social security number")
YEAR_LABELS = ("Tax year", "Tax Year", "Tax year ending")
AUR_LABELS = ("AUR control number", "AUR Control No.", "Control number")
PAYERS = ("GREAT LAKES CREDIT UNION", "VAN BUREN HOLDINGS LLC", "ST JOHN PROVIDENCE HOSPITAL",
          "O'MALLEY & SONS ROOFING INC", "DE LA ROSA FARMS", "FIDELITY BROKERAGE SERVICES", "MARTIN & HILL LLP",
          "COUNTY OF SAN DIEGO", "SMITH BARNEY TRUST CO", "PACIFIC GAS AND ELECTRIC")
FILLER = (
    "The income and payment information we have on file doesn't match the entries on your {y} Form 1040.",
    "We compared the amounts reported by employers, banks and other payers with the amounts on your return.",
    "This notice is not a bill. It explains the changes we propose and what you can do if you disagree.",
    "Review the information on this notice and compare it with your records for {y}.",
    "If you filed an amended return for {y}, you don't need to send it again; tell us the date you sent it.",
    "Interest continues to accrue on any unpaid balance until you pay it in full.",
    "You can pay online, by phone or by mail. Write your Social Security number and the tax year on your payment.",
    "If you can't pay the full amount, you may qualify for a payment plan. Visit www.irs.gov/payments.",
    "We sent you earlier notices about this balance and haven't received your full payment.",
    "You have rights as a taxpayer. Publication 1, Your Rights as a Taxpayer, explains them.",
    "Keep this notice for your records. If you call us, have this notice and your tax return with you.",
    "If you're working with a tax professional, share this notice with them.",
)


def _date_text(plan: LetterPlan, value: date, body: bool = True) -> str:
    return format_date(value, plan.body_date_style if body else plan.box_date_style)


def _box_rows(plan: LetterPlan, rng: random.Random) -> list[tuple[str, str]]:
    v = plan.variant
    ssn = format_ssn(plan.ssn, plan.ssn_style)
    campus_phone = CAMPUSES[plan.campus][1]
    year = str(plan.tax_year) if v != 2 else f"December 31, {plan.tax_year}"
    if plan.letter_type == "LT11":
        rows = [("Letter date" if v != 1 else "Date of this letter", _date_text(plan, plan.notice_date, False)),
                ("Taxpayer ID number", ssn), ("Person to contact", "Collections"),
                ("Contact telephone number", campus_phone),
                ("Employee ID number", str(rng.randrange(10**9, 10**10)))]
        if v == 0:
            rows.insert(0, ("Notice", "LT11"))
        return rows
    middle = [(YEAR_LABELS[v], year), (DATE_LABELS[v], _date_text(plan, plan.notice_date, False)),
              (SSN_LABELS[rng.randrange(len(SSN_LABELS))], ssn)]
    if plan.aur_control_number:
        middle.append((AUR_LABELS[v], plan.aur_control_number))
    if rng.random() < 0.3:
        rng.shuffle(middle)
    rows = [("Notice", plan.letter_type), *middle, ("To contact us", f"Phone {campus_phone}")]
    if plan.letter_type == "CP504":
        rows.append(("Your caller ID", str(rng.randrange(100000, 999999))))
    return rows


def _summary(plan: LetterPlan, rng: random.Random) -> list[Block]:
    v, y = plan.variant, plan.tax_year
    blocks: list[Block] = []
    amount = format_amount(plan.amount_due) if plan.amount_due is not None else ""
    if plan.letter_type == "LT11":
        blocks.append(Block("para", "Please respond immediately."))
        blocks.append(Block("para", "We haven't received full payment of the federal tax you owe, listed below. "
                                    "This letter is your notice of our intent to levy and of your right to a hearing."))
        blocks.append(Block("row", "Form   Tax period", "Amount you owe"))
        blocks.append(Block("row", f"1040   12/31/{y}", amount))
    elif plan.letter_type == "CP504" and rng.random() < 0.5:
        blocks.append(Block("row", "Amount due immediately", amount))
    else:
        blocks.append(Block("para", FILLER[0].format(y=y)))
    if plan.response_due_date is not None:
        due = _date_text(plan, plan.response_due_date)
        blocks.append(Block("heading", DUE_SENTENCES[plan.letter_type][v].format(d=due, a=amount)))
    elif plan.letter_type in NO_DUE_SENTENCE:
        blocks.append(Block("heading", NO_DUE_SENTENCE[plan.letter_type]))
    heading = "Summary of proposed changes" if plan.letter_type in ("CP2000", "CP3219A") else "Billing summary"
    if plan.letter_type == "CP2501":
        heading = "Information reported to the IRS"
    if plan.letter_type != "LT11":
        blocks.append(Block("heading", heading))
        for label, value in plan.amount_parts:
            blocks.append(Block("row", label, format_amount(value)))
        if plan.amount_due is not None:
            blocks.append(Block("row", TOTAL_LABELS[plan.letter_type][v], amount))
    if plan.letter_type == "CP2000" and plan.amount_parts:
        blocks.append(Block("para", f"The total increase in tax for {y} is {format_amount(plan.amount_parts[0][1])}."))
    if plan.letter_type == "CP2501":
        blocks.append(Block("para", "The difference may increase or decrease your tax, or not change it at all."))
    blocks.append(Block("para", rng.choice(FILLER[2:6]).format(y=y)))
    return blocks


def _middle_page(plan: LetterPlan, rng: random.Random, index: int) -> list[Block]:
    y = plan.tax_year
    received = date(y + 1, 4, rng.randrange(1, 16))
    blocks = [Block("heading", rng.choice(("What you need to do", "Explanation of changes",
                                           "Frequently asked questions", "Additional information")))]
    for sentence in rng.sample(FILLER, 4):
        blocks.append(Block("para", sentence.format(y=y)))
    if index == 1:
        blocks.append(Block("para", f"We received your {y} return on {_date_text(plan, received)}."))
        blocks.append(Block("heading", "Information reported by payers"))
        for payer in rng.sample(PAYERS, 3):
            blocks.append(Block("row", f"{payer}  {rng.choice(('1099-INT', '1099-NEC', 'W-2', '1099-B'))}",
                                format_amount(rng.randrange(100, 90000) + rng.randrange(100) / 100)))
        blocks.append(Block("row", "Recipient's SSN", format_ssn(plan.ssn, plan.ssn_style)))
    else:
        interest_to = plan.notice_date + timedelta(days=rng.choice((10, 14, 21)))
        blocks.append(Block("para", f"Interest is computed to {_date_text(plan, interest_to)}."))
        blocks.append(Block("para", rng.choice(FILLER).format(y=y)))
    return blocks


def name_control(last: str) -> str:
    letters = "".join(ch for ch in last if ch.isalpha() or ch == "-")
    return letters[:4].ljust(4, " ")


def _response_page(plan: LetterPlan, rng: random.Random) -> tuple[list[Block], str]:
    v = plan.variant
    blocks = [Block("heading", "Response form" if v != 1 else "Response page"),
              Block("para", "Complete this form and send it with any documents in the enclosed envelope."),
              Block("check", "I agree with the proposed changes." if plan.letter_type != "LT11"
                    else "I'm requesting a Collection Due Process hearing."),
              Block("check", "I don't agree with some or all of the changes. I've enclosed a signed statement.")]
    if plan.amount_due is not None:
        blocks.append(Block("row", "Amount due", format_amount(plan.amount_due)))
    blocks.append(Block("rule"))
    for line in plan.address_lines():
        blocks.append(Block("para", line))
    blocks.append(Block("rule"))
    blocks.append(Block("para", "Signature ____________________   Date __________"))
    if plan.spouse or plan.crm_spouse:
        blocks.append(Block("para", "Spouse's signature, if a joint return ____________________   Date __________"))
    ssn_digits = plan.ssn if plan.ssn_style == "full" else f"XXXXX{plan.ssn_last4}"
    scan = (f"{ssn_digits} {name_control(plan.taxpayer.last)} {rng.randrange(10, 99)} 0 {plan.tax_year}12 "
            f"{rng.randrange(100, 999)} {int((plan.amount_due or 0) * 100):011d}")
    return blocks, scan


def compose(plan: LetterPlan) -> LetterContent:
    rng = random.Random(plan.text_seed)
    y = plan.tax_year
    title = TITLES[plan.letter_type][plan.variant].format(y=y)
    titles = [title]
    if plan.letter_type == "CP504" and plan.amount_due is not None:
        titles.append(f"Amount due immediately: {format_amount(plan.amount_due)}")
    elif plan.letter_type == "CP2000" and plan.amount_due is not None and plan.variant != 2:
        label = TOTAL_LABELS["CP2000"][plan.variant]
        titles.append(f"{label}: {format_amount(plan.amount_due)}")
    rows = _box_rows(plan, rng)
    header_rows = [(label, value) for label, value in rows
                   if label in ("Notice", *YEAR_LABELS, *DATE_LABELS, *SSN_LABELS, "Letter date",
                                "Date of this letter")]
    return_address = ["Department of the Treasury", "Internal Revenue Service", CAMPUSES[plan.campus][0]]
    content = LetterContent(titles=titles, box_rows=rows, header_rows=header_rows, return_address=return_address,
                            address_lines=plan.address_lines())
    content.pages.append(_summary(plan, rng))
    middle_count = plan.page_count - 1 - (1 if plan.layout.response_form else 0)
    for index in range(1, middle_count + 1):
        content.pages.append(_middle_page(plan, rng, index))
    if plan.layout.response_form:
        blocks, content.scan_line = _response_page(plan, rng)
        content.pages.append(blocks)
    revision = rng.choice(("Rev. 01-2022", "Rev. 6-2021", "Rev. 11-2023", "Rev. 04-2019"))
    content.footer = f"{plan.letter_type} ({revision})" if plan.letter_type != "LT11" else f"Letter LT11 ({revision})"
    return content
