"""The research layer: loading processed data, metrics, statistics, figures and exports.

Modules (each imports only from the layers below it, never from the notebooks):

``load``     read only the columns asked for from ``data/processed`` (canonical records)
``metrics``  the metric dictionary (``data/metrics.csv``) and its one implementation
``stats``    intervals, pooled rates, homogeneity, funnel limits, shrinkage, concentration, trends
``plots``    one figure style, CJK font discovery, deterministic PNG/PDF export
``export``   tables for papers: CSV and LaTeX (booktabs)
"""
