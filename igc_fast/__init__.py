__version__ = "0.0.1"

import os, signal, sys, warnings
if os.path.basename((getattr(sys, 'argv', None) or [''])[0]) == 'igc_train':  # the console script: a signal while it starts up ends it with one line
    def _starting(signum, frame):
        name = 'interrupted' if signum == signal.SIGINT else 'terminated (SIGTERM)'
        os.write(2, f"igc_train: {name} (while starting: nothing was written)\n".encode())
        os._exit(128 + signum)
    for _s in (signal.SIGINT, signal.SIGTERM): signal.signal(_s, _starting)   # igc_fast.cli.main takes over when it starts

with warnings.catch_warnings():  # fastai 2.8.7 warns at import of deprecations in torch (jit.script) and pandas (an option)
    warnings.filterwarnings('ignore', r'`torch\.jit\.script` is deprecated', FutureWarning)
    warnings.filterwarnings('ignore', r"The 'mode\.chained_assignment' option is deprecated")
    import fastai.basics  # noqa: F401 (imported here, quietly, for every later import of fastai)
del warnings
