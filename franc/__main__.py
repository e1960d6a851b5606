import sys

from franc.cli import main

sys.exit(main())
