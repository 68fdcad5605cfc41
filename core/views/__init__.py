"""The analysis views: each module computes a view's data (``compute_*``) and draws it (``*_figure``)."""
