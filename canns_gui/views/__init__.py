"""The Views page's parts: data (``compute``), export functions run in a process (``exporting``, no Qt), and
one tab module per view (``*_tab``, pyqtgraph). Importing this package imports no Qt, so the export process
stays light."""
