"""The HTML report (jinja2 templates) and its PDF print (wkhtmltopdf through pdfkit)."""
from data_gradients.reports.pdf.html_writer import HtmlWriter
from data_gradients.reports.pdf.pdf_writer import PdfWriter

__all__ = ["HtmlWriter", "PdfWriter"]
