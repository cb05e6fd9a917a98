"""Tools for China's Government Information Disclosure annual reports.

The package reads reports in every published form (text dumps, HTML pages,
PDFs, DOCX files), finds the three standard tables, maps them onto one
canonical codebook, validates the template's identities and computes metrics.
"""

__version__ = "0.1.0"
