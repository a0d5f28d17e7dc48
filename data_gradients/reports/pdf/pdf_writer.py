"""PDF report: the HTML report printed by wkhtmltopdf, its command line built by pdfkit.

wkhtmltopdf runs with JavaScript off, local file access off except for the run folder,
and a timeout. pdfkit builds the command but waits on wkhtmltopdf without a timeout and
treats its exit code 1 (which it also returns after merely refusing a blocked load) as a
failure, so the command runs here (``subprocess.Popen``, killed past the timeout) and the
written file is checked instead of the exit code. It runs in the background: ``start``
launches it and returns what waits for it, and ``write_all`` writes the other outputs
meanwhile (wkhtmltopdf and TensorBoard's writer each take ~0.3 s, on different cores).

When wkhtmltopdf is missing, fails or times out, the other outputs are kept and the
report carries one warning that says how to install it. Never an exception.
"""
from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional

from data_gradients.reports.report import AnalysisReport

logger = logging.getLogger("data_gradients")

INSTALL_HINT = ("install wkhtmltopdf to get the PDF report (Debian/Ubuntu: `sudo apt-get install wkhtmltopdf`; "
                "macOS: `brew install --cask wkhtmltopdf`; others: https://wkhtmltopdf.org/downloads.html)")
MARGINS_MM = {"top": 15, "bottom": 16, "left": 15, "right": 15}


class PdfWriter:
    """Prints ``report.html`` to ``report.pdf`` beside it. ``timeout_s`` bounds wkhtmltopdf's run;
    ``wkhtmltopdf`` is the executable (default: found on PATH)."""

    name = "pdf"
    uses_plots = True  # through the HTML report, when it has to write it
    preload_modules = ("jinja2", "pdfkit")  # imported early, while the data is read (managers.preload)

    def __init__(self, timeout_s: float = 120.0, wkhtmltopdf: Optional[str] = None):
        self.timeout_s = timeout_s
        self.wkhtmltopdf = wkhtmltopdf

    def write(self, report: AnalysisReport) -> Optional[Path]:
        return self.start(report)()

    def start(self, report: AnalysisReport) -> Callable[[], Optional[Path]]:
        """Start wkhtmltopdf on the HTML report (written first if missing) and return what waits for it
        and finishes the PDF: ``write_all`` runs the other writers meanwhile."""
        html = report.outputs.get("html")
        if html is None:
            from data_gradients.reports.pdf.html_writer import HtmlWriter

            html = report.outputs["html"] = HtmlWriter().write(report)
        binary = self.wkhtmltopdf or shutil.which("wkhtmltopdf")
        if binary is None:
            return lambda: _skip(report, html, "wkhtmltopdf was not found on PATH")
        part = report.run_dir / "report.part.pdf"  # renamed once complete: no half-written report.pdf
        try:
            command = pdf_command(binary, Path(html), part, report.run_dir, report.title)
            job = _Job(command, self.timeout_s)
        except OSError as e:
            reason = f"wkhtmltopdf could not be run ({e})"
            return lambda: _skip(report, html, reason)
        finish = functools.partial(self._finish, report, Path(html), part, job)
        finish.cancel = functools.partial(job.cancel, part)  # type: ignore[attr-defined]
        return finish

    def _finish(self, report: AnalysisReport, html: Path, part: Path, job: "_Job") -> Optional[Path]:
        try:
            done = job.wait()
        except subprocess.TimeoutExpired:  # the job has killed it
            part.unlink(missing_ok=True)
            return _skip(report, html, f"wkhtmltopdf did not finish within {self.timeout_s:g} s")
        # it may exit 1 after refusing a blocked load yet write a complete PDF: trust the file
        if not is_complete_pdf(part):
            part.unlink(missing_ok=True)
            return _skip(report, html, f"wkhtmltopdf failed: {_error_line(done)}")
        _number_pages(part)
        pdf = report.run_dir / "report.pdf"
        os.replace(part, pdf)
        return pdf


class _Job:
    """wkhtmltopdf running in the background (its messages in a temporary file, so a full pipe can
    never stall it); ``wait`` waits at most what is left of ``timeout_s`` since the start, kills it
    past that, and loads pypdf (for the page numbers, ~0.15 s) first, while it works."""

    def __init__(self, command: List[str], timeout_s: float):
        self.command, self.deadline = command, time.monotonic() + timeout_s
        self.stderr = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr)
        except OSError:
            self.stderr.close()
            raise

    def cancel(self, part: Path) -> None:
        """Stop it (the writing was interrupted): no process or half-written file left behind."""
        self.process.kill()
        self.process.wait()
        self.stderr.close()
        part.unlink(missing_ok=True)

    def wait(self) -> subprocess.CompletedProcess:
        try:
            try:
                _load_pypdf()
                self.process.wait(timeout=max(self.deadline - time.monotonic(), 0.0))
            except BaseException:  # past the timeout, or interrupted while waiting: never left running
                self.process.kill()
                self.process.wait()
                raise
            self.stderr.seek(0)
            return subprocess.CompletedProcess(self.command, self.process.returncode, b"", self.stderr.read())
        finally:
            self.stderr.close()


def pdf_command(binary: str, html: Path, pdf: Path, run_dir: Path, title: str) -> List[str]:
    """The wkhtmltopdf command line (built by pdfkit from options; the HTML is read as a file,
    so pdfkit's ``<meta name="pdfkit-...">`` option parsing never sees the report's text)."""
    import pdfkit

    options = {
        "page-size": "A4", "encoding": "UTF-8", "title": title, "quiet": None,
        **{f"margin-{side}": f"{mm}mm" for side, mm in MARGINS_MM.items()},
        "disable-javascript": None, "disable-local-file-access": None, "allow": str(run_dir.resolve()),
        "javascript-delay": "0",  # it waits 200 ms for scripts after loading by default, even with them off
        "load-error-handling": "ignore", "load-media-error-handling": "ignore",
        "image-dpi": "300",  # keep the 150 dpi figures as they are (the default would resample them)
    }
    if not _can_number_pages():  # wkhtmltopdf's own footer works only in its patched-Qt builds
        options.update({"footer-center": "[page] / [topage]", "footer-font-size": "8"})
    config = pdfkit.configuration(wkhtmltopdf=binary)
    return pdfkit.PDFKit(str(html.resolve()), "file", options=options, configuration=config).command(str(pdf))


def is_complete_pdf(path: Path) -> bool:
    """A PDF header at the start and an end-of-file marker near the end."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(5)
            f.seek(max(size - 1024, 0))
            tail = f.read()
    except OSError:
        return False
    return size > 1000 and head == b"%PDF-" and b"%%EOF" in tail


def _error_line(done: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    useful = [ln for ln in lines if "error" in ln.lower() or "exit with code" in ln.lower()]
    return (useful or lines or [f"exit code {done.returncode} and no PDF"])[-1]


def _skip(report: AnalysisReport, html: Path, reason: str) -> None:
    message = f"PDF report not written: {reason}; {INSTALL_HINT}. The HTML report has the same content: {html}"
    report.warnings.append(message)
    logger.warning("data_gradients: %s", message)
    return None


# ------------------------------------------------------------------ page numbers
def _can_number_pages() -> bool:
    """pypdf is installed (found, not imported)."""
    from importlib.util import find_spec

    return find_spec("pypdf") is not None


def _load_pypdf() -> None:
    try:
        import pypdf.generic  # noqa: F401
    except ImportError:
        pass


_HELVETICA_WIDTHS = {**{str(d): 556 for d in range(10)}, " ": 278, "/": 278}  # per 1000 em


def _number_pages(path: Path, font_size: float = 8.0) -> None:
    """Stamp "page / pages" at the bottom centre of every page.

    Debian's wkhtmltopdf (unpatched Qt) ignores ``--footer-*``, so the numbers are added
    afterwards: one small content stream per page, the page's own content wrapped in
    ``q``/``Q`` so its graphics state cannot move the stamp. A failure leaves the PDF
    unnumbered, never unwritten.
    """
    if not _can_number_pages():
        return
    tmp = path.with_name(path.name + ".numbered")
    try:
        from pypdf import PdfWriter as _PdfFile
        from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

        doc = _PdfFile(clone_from=str(path))
        font = doc._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }))
        total = len(doc.pages)

        def stream(data: bytes):
            s = DecodedStreamObject()
            s.set_data(data)
            return doc._add_object(s)

        for number, page in enumerate(doc.pages, start=1):
            text = f"{number} / {total}"
            width = sum(_HELVETICA_WIDTHS[c] for c in text) * font_size / 1000
            box = page.mediabox
            x = float(box.left) + (float(box.width) - width) / 2
            y = float(box.bottom) + MARGINS_MM["bottom"] * 72 / 25.4 / 2 - font_size / 3
            if "/Resources" not in page:
                page[NameObject("/Resources")] = DictionaryObject()
            resources = page["/Resources"].get_object()
            if "/Font" not in resources:
                resources[NameObject("/Font")] = DictionaryObject()
            resources["/Font"].get_object()[NameObject("/DGPageNumber")] = font
            old = page.get("/Contents")
            old_list = [] if old is None else (list(old.get_object()) if isinstance(old.get_object(), ArrayObject)
                                              else [old])
            stamp = f"\nQ\nq BT /DGPageNumber {font_size:g} Tf 0.4 g {x:.2f} {y:.2f} Td ({text}) Tj ET Q\n"
            page[NameObject("/Contents")] = ArrayObject([stream(b"q\n"), *old_list, stream(stamp.encode("ascii"))])
        with open(tmp, "wb") as f:
            doc.write(f)
        os.replace(tmp, path)
    except Exception as e:  # an unnumbered report beats no report
        tmp.unlink(missing_ok=True)
        logger.info("data_gradients: page numbers not added to the PDF: %s", e)
