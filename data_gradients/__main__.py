"""``python -m data_gradients ...``: the ``data-gradients`` command line."""
import sys

from data_gradients.cli import main

if __name__ == "__main__":
    sys.exit(main())
