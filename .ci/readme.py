"Write README.md from nbs/index.ipynb without Quarto (nbconvert's markdown exporter); `--check` fails when it is stale."
import sys, difflib, nbformat
from pathlib import Path
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parent.parent
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
nb.metadata['language_info'] = {'name': 'python'}  # cleaned notebooks drop it; it names the code fences
for c in nb.cells:
    if c.cell_type == 'code': c.outputs = []
body, _ = MarkdownExporter().from_notebook_node(nb)
text = '<!-- Generated from nbs/index.ipynb by `bash .ci/run readme`: edit the notebook, not this file. -->\n\n' + body.strip() + '\n'
readme = root/'README.md'
if '--check' in sys.argv:
    old = readme.read_text() if readme.exists() else ''
    if old != text:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), 'README.md', 'from nbs/index.ipynb'))
        sys.exit('README.md is out of date with nbs/index.ipynb: run `bash .ci/run readme` and commit README.md')
    print('README.md is in sync with nbs/index.ipynb')
else:
    readme.write_text(text); print('wrote README.md')
