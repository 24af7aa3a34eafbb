"""Whether `call` and the gen_server loop run compiled or from source.

setup.py compiles `_call.py` and `_gen_server.py` (the path of every call)
as they are; `hearth.vm._compiled.choose` decides at import, as it does for
the kernel. This module must be imported before either of them.
"""

import os

from hearth.vm._compiled import choose

__all__ = ["COMPILED", "COMPILED_MODULES"]

#: The modules setup.py compiles in this package.
COMPILED_MODULES = ("_call", "_gen_server")

#: True if they run compiled; False if from their source.
COMPILED = choose(__name__.rpartition(".")[0], os.path.dirname(os.path.abspath(__file__)),
                  COMPILED_MODULES)
