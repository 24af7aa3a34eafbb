"""``python -m kindling.sdk build FILE.c -o OUT.wasm``: see `build.main`."""

import sys

from .build import main

sys.exit(main())
