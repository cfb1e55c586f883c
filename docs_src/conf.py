"Sphinx configuration of the documentation site; .ci/docs.py writes its sources (executed notebooks, API pages)."
import re
from configparser import ConfigParser
from pathlib import Path

root = Path(__file__).resolve().parent.parent
cfg = ConfigParser(delimiters=['=']); cfg.read(root/'settings.ini', encoding='utf-8'); cfg = cfg['DEFAULT']

project, author, copyright, release = cfg['lib_name'], cfg['author'], cfg['copyright'], cfg['version']
extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.mathjax', 'sphinx.ext.viewcode']
exclude_patterns = ['**.ipynb_checkpoints']
html_theme = 'furo'
html_title = f"{project} {release}"
html_static_path = [str(root/'_docs_build'/'static')]
html_favicon = 'favicon.svg'
default_role = 'literal'   # docstrings quote names in single backticks, as in the notebooks' markdown

# The notebooks were executed by .ci/docs.py (nbdev's test flags honoured); myst-nb only renders them.
nb_execution_mode = 'off'
nb_output_stderr = 'show'   # the browser check fails on any stderr area, so none may be hidden
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3

autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'

# MathJax from the site itself (.ci/docs.py copies it from npm into _static/mathjax): no page needs the network.
mathjax_path = 'mathjax/tex-mml-chtml.js'
mathjax4_config = {'loader': {'paths': {'fonts': '[mathjax]/fonts'}}}

def _dollar_math(app, what, name, obj, options, lines):
    "Docstrings write math as the notebooks' markdown does, `$...$`; reStructuredText needs the math role"
    lines[:] = [re.sub(r'(?<![\\$\w])\$([^$\s](?:[^$]*[^$\s])?)\$(?![$\w])', r':math:`\1`', l) for l in lines]

def setup(app): app.connect('autodoc-process-docstring', _dollar_math)
