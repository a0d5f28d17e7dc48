"""PDF report: the HTML report printed by wkhtmltopdf, driven through pdfkit.

wkhtmltopdf runs with JavaScript off, local file access off except for the run
folder, and a timeout. When it is missing, fails or times out, the other outputs
are kept and the report carries one warning that says how to install it.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from data_gradients.reports.report import AnalysisReport

logger = logging.getLogger("data_gradients")

INSTALL_HINT = ("install wkhtmltopdf to get the PDF report (Debian/Ubuntu: `apt-get install wkhtmltopdf`; "
                "other systems: the wkhtmltopdf project's downloads page); the HTML report is complete without it")


class PdfWriter:
    """Prints ``report.html`` to ``report.pdf``. ``timeout_s`` bounds wkhtmltopdf's run."""

    name = "pdf"

    def __init__(self, timeout_s: float = 120.0, wkhtmltopdf: Optional[str] = None):
        self.timeout_s = timeout_s
        self.wkhtmltopdf = wkhtmltopdf

    def write(self, report: AnalysisReport) -> Optional[Path]:
        html = report.outputs.get("html")
        if html is None:
            from data_gradients.reports.pdf.html_writer import HtmlWriter

            html = report.outputs["html"] = HtmlWriter().write(report)
        binary = self.wkhtmltopdf or shutil.which("wkhtmltopdf")
        if binary is None:
            return self._skip(report, "wkhtmltopdf was not found on PATH")
        pdf = report.run_dir / "report.pdf"
        try:
            command = self._command(binary, Path(html), pdf, report.run_dir)
            done = subprocess.run(command, capture_output=True, timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            pdf.unlink(missing_ok=True)
            return self._skip(report, f"wkhtmltopdf did not finish within {self.timeout_s:g} s")
        except OSError as e:
            return self._skip(report, f"wkhtmltopdf could not be run ({e})")
        # with local file access disabled it may exit 1 after refusing a load yet write the PDF
        if _is_pdf(pdf):
            return pdf
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return self._skip(report, f"wkhtmltopdf failed: {detail[0]}")

    @staticmethod
    def _command(binary: str, html: Path, pdf: Path, run_dir: Path) -> list:
        import pdfkit

        options = {
            "page-size": "A4", "margin-top": "16mm", "margin-bottom": "16mm", "margin-left": "15mm",
            "margin-right": "15mm", "encoding": "UTF-8", "disable-javascript": None,
            "disable-local-file-access": None, "allow": str(run_dir.resolve()),
            "footer-center": "[page] / [topage]", "footer-font-size": "8", "quiet": None,
            "image-dpi": "150", "enable-smart-shrinking": None,
        }
        config = pdfkit.configuration(wkhtmltopdf=binary)
        return pdfkit.PDFKit(str(html.resolve()), "file", options=options, configuration=config).command(str(pdf))

    @staticmethod
    def _skip(report: AnalysisReport, reason: str) -> None:
        message = f"PDF report not written: {reason}; {INSTALL_HINT}"
        report.warnings.append(message)
        logger.warning("data_gradients: %s", message)
        return None


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return path.stat().st_size > 1000 and f.read(5) == b"%PDF-"
    except OSError:
        return False
