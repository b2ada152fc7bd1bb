"""Publication of the regulator's statistics: exports with Chinese headers, and the quarterly report in Chinese.

:mod:`.exports` writes a table as CSV (UTF-8 with BOM, so spreadsheet programs read the
Chinese), Parquet or XLSX; :mod:`.quarterly` renders the quarterly report as HTML and PDF
with matplotlib charts in a CJK font (docs/regulator.md).
"""
