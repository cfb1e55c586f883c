"""Build the documentation site into _docs/ without Quarto: execute copies of the notebooks (from nbs/, one torch thread,
cells flagged `slow`/`cuda` or `eval: false` skipped, as nbtest.py does), then Sphinx + myst-nb renders them with an
API reference from the docstrings and MathJax served by the site itself.
Usage: docs.py [--rerender] [notebooks]   (--rerender: keep the copies executed last time)"""
import sys, os, re, json, time, shutil, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD, OUT = ROOT/'_docs_build', ROOT/'_docs'   # BUILD: executed copies, generated sources, MathJax from npm
SRC, STATIC, NODE = BUILD/'src', BUILD/'static', BUILD/'node'
MATHJAX = {'mathjax': '4.1.3', '@mathjax/mathjax-newcm-font': '4.1.3'}
TIMEOUT = 1200   # seconds for one notebook; all of them take ~4 minutes on two cores

def execute(fn: Path, dest: Path) -> dict:
    "Run a copy of notebook `fn` from its folder and write it with its outputs, ready to render, to `dest`"
    from nbdev.process import NBProcessor
    from nbdev.config import get_config
    from execnb.shell import CaptureShell
    from execnb.nbio import write_nb
    from fastcore.xtras import working_directory
    skip = set(get_config().tst_flags.split())
    nb = NBProcessor(fn, process=True).nb   # takes the `#|` lines out of the sources, into `directives_`
    def off(cell, key): return (cell.directives_.get(key, [''])[0] or '').lower() == 'false'
    def no_eval(cell): return cell.cell_type != 'code' or off(cell, 'eval:') or bool(skip & cell.directives_.keys())
    t0, err, tb = time.time(), None, ''
    shell = CaptureShell(fn)
    try:
        with working_directory(fn.parent): shell.run_all(nb, exc_stop=True, preproc=no_eval)
    except Exception as e:
        i = next((c.idx_ + 1 for c in nb.cells if any(o.get('output_type') == 'error' for o in c.get('outputs', []))), '?')
        msg = (re.sub(r'\x1b\[[0-9;]*m', '', str(e)).strip().splitlines() or [''])[0]
        err, tb = f"cell #{i} raised {type(e).__name__}: {msg}", shell.prettytb(fname=fn)
    cells = []
    for c in nb.cells:
        d = c.directives_
        if 'hide' in d or off(c, 'include:'): continue
        if c.cell_type == 'code':
            c.source = ''.join(l for l in c.source.splitlines(True) if not l.lstrip().startswith('#|')).strip()
            if not c.source and not c.get('outputs'): continue   # `default_exp` and the like
            tags = c.setdefault('metadata', {}).setdefault('tags', [])
            if off(c, 'echo:'): tags.append('remove-input')
            if off(c, 'output:'): tags.append('remove-output')
        cells.append(c)
    nb.cells = cells
    nb.metadata.setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    nb.metadata['language_info'] = {'name': 'python'}
    write_nb(nb, dest)
    return dict(name=fn.name, secs=time.time() - t0, error=err, tb=tb)

def execute_child(fn: Path) -> dict:
    "`execute(fn)` in a fresh Python process with one torch thread and matplotlib's inline backend"
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}   # a forced Agg would drop the figures
    env['OMP_NUM_THREADS'] = '1'
    try: r = subprocess.run([sys.executable, __file__, '--child', str(fn), str(SRC/fn.name)], capture_output=True, text=True,
                            env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired: return dict(name=fn.name, secs=TIMEOUT, error=f'ran past {TIMEOUT}s and was stopped', tb='')
    try: return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (r.stderr.strip().splitlines() or ['no output'])[-1]
        return dict(name=fn.name, secs=0.0, error=f'its process ended with status {r.returncode}: {tail}', tb=r.stderr[-4000:])

def mathjax():
    "MathJax and its font from npm into the site's static files, so the pages render mathematics offline"
    mods, dest = NODE/'node_modules', STATIC/'mathjax'
    def version(k): return json.loads((mods/k/'package.json').read_text())['version'] if (mods/k/'package.json').exists() else None
    if any(version(k) != v for k, v in MATHJAX.items()):
        if not shutil.which('npm'): sys.exit('docs: npm is missing: install Node.js (apt-get install -y npm) to fetch MathJax')
        NODE.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(['npm', 'install', '--prefix', str(NODE), '--no-save', '--no-audit', '--no-fund', '--loglevel=error',
                            *[f'{k}@{v}' for k, v in MATHJAX.items()]], capture_output=True, text=True)
        if r.returncode: sys.exit(f'docs: npm could not install {MATHJAX}: {r.stderr.strip()[-500:]}')
    shutil.rmtree(STATIC, ignore_errors=True)
    other = ['node-main*', '*.mjs', '*.mts', '*.cjs', 'mml-*.js', 'tex-chtml*.js', 'tex-svg*.js', 'tex-mml-svg*.js', '*-nofont.js']
    shutil.copytree(mods/'mathjax', dest, ignore=shutil.ignore_patterns(*other))   # one combined build: tex-mml-chtml.js
    font = mods/'@mathjax'/'mathjax-newcm-font'
    for p in ['chtml', 'chtml.js', 'package.json']:   # `loader.paths.fonts` in docs_src/conf.py points here
        (shutil.copytree if (font/p).is_dir() else shutil.copy)(font/p, dest/'fonts'/'mathjax-newcm-font'/p)

def run_all(nbs: list):
    "Execute copies of `nbs` into SRC, two at a time, the longest first (by the times of the last build)"
    times = json.loads((BUILD/'times.json').read_text()) if (BUILD/'times.json').exists() else {}
    shutil.rmtree(SRC, ignore_errors=True); SRC.mkdir(parents=True)
    from concurrent.futures import ThreadPoolExecutor
    print(f'== executing {len(nbs)} notebooks (copies, into {SRC.relative_to(ROOT)}/)', flush=True)
    order = sorted(nbs, key=lambda p: -times.get(p.name, 1e9))
    with ThreadPoolExecutor(min(2, os.cpu_count() or 1)) as ex: results = dict(zip(order, ex.map(execute_child, order)))
    results = [results[p] for p in nbs]
    for r in results: print(f"{'ok  ' if not r['error'] else 'FAIL'} {r['name']}  {r['secs']:.0f}s", flush=True)
    (BUILD/'times.json').write_text(json.dumps({**times, **{r['name']: r['secs'] for r in results}}))
    bad = [r for r in results if r['error']]
    for r in bad: sys.stderr.write(f"\n==== {r['name']}\n{r['tb'].strip()}\n\n")
    for r in bad: print(f"FAIL nbs/{r['name']} does not execute: {r['error']} (traceback above; fix the notebook, "
                        f"`.venv/bin/python .ci/nbtest.py nbs/{r['name']}` reruns its tests)", flush=True)
    if bad: sys.exit(f'docs: {len(bad)} notebook(s) failed to execute: the site is not built')

def api_pages() -> list:
    "One page per igc_fast module, its functions and classes from their docstrings"
    mods = sorted(p.stem for p in (ROOT/'igc_fast').glob('*.py') if not p.stem.startswith('_'))
    (SRC/'api').mkdir(parents=True)
    for m in mods:
        t = f'igc_fast.{m}'
        (SRC/'api'/f'{m}.rst').write_text(f'{t}\n{"=" * len(t)}\n\n.. automodule:: {t}\n   :members:\n   :undoc-members:\n')
    return [f'api/{m}' for m in mods]

def index_page(nbs: list, api: list):
    "The executed front page (nbs/index.ipynb, which README.md is written from) with the site's tables of contents"
    from execnb.nbio import read_nb, write_nb, mk_cell
    fn = SRC/'index.ipynb'
    nb = read_nb(fn)
    nb.cells = [c for c in nb.cells if not c.source.startswith('```{toctree}')]   # those of an earlier --rerender
    toc = lambda cap, pages: f"```{{toctree}}\n:hidden:\n:caption: {cap}\n\n" + '\n'.join(pages) + '\n```'
    nb.cells.append(mk_cell(toc('Notebooks', [p.stem for p in nbs if p.stem != 'index']), 'markdown'))
    nb.cells.append(mk_cell(toc('API reference', api), 'markdown'))
    write_nb(nb, fn)

def main(args):
    rerender = '--rerender' in args   # keep the copies executed last time: for work on the site's configuration
    args = [a for a in args if a != '--rerender']
    nbs = [Path(a).resolve() for a in args] or sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    if not any(p.name == 'index.ipynb' for p in nbs): nbs.insert(0, ROOT/'nbs'/'index.ipynb')
    t0 = time.time()
    mathjax()
    if not rerender or not all((SRC/p.name).exists() for p in nbs): run_all(nbs)
    shutil.rmtree(SRC/'api', ignore_errors=True)
    index_page(nbs, api_pages())
    print('== sphinx-build (myst-nb, autodoc) into _docs/', flush=True)
    html = BUILD/'html'   # myst-nb writes next to the output folder, so the site is built here and then moved
    shutil.rmtree(html, ignore_errors=True); shutil.rmtree(OUT, ignore_errors=True)
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-E', '-W', '--keep-going', '-j', '2',
                        '-c', str(ROOT/'docs_src'), '-d', str(BUILD/'doctrees'), str(SRC), str(html)])
    if r.returncode: sys.exit(f'docs: sphinx-build reported the problems above (status {r.returncode}): fix them in nbs/ or docs_src/conf.py')
    (html/'.nojekyll').touch()
    html.rename(OUT)
    print(f'docs: built {len(list(OUT.rglob("*.html")))} pages into _docs/ in {time.time() - t0:.0f}s')

if __name__ == '__main__':
    if sys.argv[1:2] == ['--child']:
        print('\n' + json.dumps(execute(Path(sys.argv[2]), Path(sys.argv[3]))))
    else: main(sys.argv[1:])
