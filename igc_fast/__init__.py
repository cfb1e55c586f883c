__version__ = "0.0.1"

import warnings
with warnings.catch_warnings():  # fastai 2.8.7 warns at import of deprecations in torch (jit.script) and pandas (an option)
    warnings.filterwarnings('ignore', r'`torch\.jit\.script` is deprecated', FutureWarning)
    warnings.filterwarnings('ignore', r"The 'mode\.chained_assignment' option is deprecated")
    import fastai.basics  # noqa: F401 (imported here, quietly, for every later import of fastai)
del warnings
