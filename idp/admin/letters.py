"""Notification letters as one PDF: one A4 page per person (ReportLab).

Each page gives the identifier, the provisional password, the last day it is valid, the
activation steps, the address of the activation page and a QR code leading to it. The file
holds passwords: callers write it readable by its owner only (:func:`write_pdf`) or send it
with ``Cache-Control: no-store``.
"""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from idp.accounts.provisional import LOCAL_ZONE, PROFILE_LABELS, Letter

STEPS = {
    "eleve": [
        "Rendez-vous à l'adresse ci-dessous (ou flashez le QR code).",
        "Choisissez « Élève », puis saisissez votre identifiant et votre mot de passe provisoire.",
        "Confirmez votre date de naissance.",
        "Choisissez votre nouveau mot de passe : vous l'utiliserez désormais.",
    ],
    "responsable": [
        "Rendez-vous à l'adresse ci-dessous (ou flashez le QR code).",
        "Choisissez « Représentant légal », puis saisissez votre identifiant et votre mot de "
        "passe provisoire.",
        "Confirmez la date de naissance de chacun de vos enfants.",
        "Indiquez votre adresse électronique et validez-la avec le lien reçu.",
        "Choisissez votre nouveau mot de passe : vous l'utiliserez désormais.",
    ],
}


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0,
                                             size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def _wrap(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if canvas.stringWidth(candidate, font, size) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    return lines + ([current] if current else [])


def _page(canvas: Canvas, letter: Letter, school: str, url: str) -> None:
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 25 * mm
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, y, "Votre compte ÉduConnect")
    y -= 8 * mm
    canvas.setFont("Helvetica", 11)
    canvas.drawString(left, y, school)
    y -= 14 * mm
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, y, f"{letter.given_name} {letter.sn}".strip())
    y -= 6 * mm
    canvas.setFont("Helvetica", 11)
    detail = PROFILE_LABELS[letter.profile]
    if letter.children:
        detail += " de " + ", ".join(letter.children)
    if letter.classes:
        detail += " — classe " + ", ".join(letter.classes)
    for line in _wrap(canvas, detail, "Helvetica", 11, right - left):
        canvas.drawString(left, y, line)
        y -= 5.5 * mm
    y -= 6 * mm
    expiry = letter.expires.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y")
    for label, value in (("Identifiant", letter.login), ("Mot de passe provisoire", letter.password),
                         ("Valable jusqu'au", expiry)):
        canvas.setFont("Helvetica", 11)
        canvas.drawString(left, y, f"{label} :")
        canvas.setFont("Courier-Bold", 13)
        canvas.drawString(left + 55 * mm, y, value)
        y -= 8 * mm
    y -= 6 * mm
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, y, "Pour activer votre compte")
    y -= 7 * mm
    canvas.setFont("Helvetica", 11)
    for number, step in enumerate(STEPS[letter.profile], 1):
        for index, line in enumerate(_wrap(canvas, step, "Helvetica", 11, right - left - 8 * mm)):
            if index == 0:
                canvas.drawString(left, y, f"{number}.")
            canvas.drawString(left + 8 * mm, y, line)
            y -= 5.5 * mm
    y -= 6 * mm
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, y, url)
    _qr(canvas, url, left, y - 50 * mm, 40 * mm)
    canvas.setFont("Helvetica", 9)
    footer = ("Ce courrier est personnel : ne communiquez jamais votre mot de passe. Passé la "
              "date de validité, demandez-en un nouveau à l'établissement.")
    for index, line in enumerate(_wrap(canvas, footer, "Helvetica", 9, right - left)):
        canvas.drawString(left, 22 * mm - index * 4.5 * mm, line)


def render_pdf(letters: Iterable[Letter], school: str, url: str) -> bytes:
    """The PDF of ``letters`` (a page saying there is nothing to print when empty)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Courriers de notification – {school}")
    canvas.setAuthor("EduConnect")
    count = 0
    for letter in letters:
        _page(canvas, letter, school, url)
        canvas.showPage()
        count += 1
    if not count:
        canvas.setFont("Helvetica", 12)
        canvas.drawString(20 * mm, A4[1] - 30 * mm, "Aucun courrier : aucun compte n'a été "
                                                    "notifié.")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def write_pdf(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600 (it holds passwords)."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def activation_url(settings) -> str:
    """The address printed on the letters."""
    return settings.admin.activation_url or settings.server.base_url.rstrip("/") + "/login"
