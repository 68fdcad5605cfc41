import sys

from canns_gui.app import main

sys.exit(main())
