"""Entry script of the frozen app: ``canns_gui.app.main``, whose first call diverts worker processes."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # forkserver/spawn helpers and pool workers stop here
    from canns_gui.app import main

    sys.exit(main())
