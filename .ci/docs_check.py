"""Open every page of the built site (_docs/) in headless Chromium, the network cut off, and check what a reader sees:
the page loads and fetches nothing from elsewhere, no console error, no notebook error or stderr output, every image
rendered, the figures of each notebook that makes them, mathematics typeset by MathJax with no TeX delimiter left, and
on each API page every function and class of the module's `__all__`. One line per page and a summary; exit 1 on any
problem. Usage: docs_check.py [--screenshots DIR]"""
import sys, re, ast, json, shutil, threading, functools
from pathlib import Path
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler

ROOT = Path(__file__).resolve().parent.parent
SITE, SRC = ROOT/'_docs', ROOT/'_docs_build'/'src'
FIGURES = {'00_core', '04_complexity', '06_data', '08_learner'}   # their plots show the algebra, the data, training
MATH = re.compile(r'(?<![\\$\w])\$[^$\s]')   # an opening `$` of inline or display math in markdown

PAGE_JS = r"""
const q = s => Array.from(document.querySelectorAll(s));
const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .math';
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), raw = [];
for (let n; (n = walker.nextNode());) {
  const t = n.textContent;
  if (!n.parentElement.closest(skip) && /\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$]*\$/.test(t)) raw.push(t.trim().slice(0, 80));
}
const math = q('span.math, div.math');
return {title: document.title, h1: q('h1').length,
  errors: q('.cell_output .traceback, .cell_output .error, .system-message, .problematic').length,
  stderr: q('.cell_output .stderr').length,
  broken: q('img').filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  figures: q('.cell_output img').filter(i => i.complete && i.naturalWidth > 0).length,
  math: math.length, typeset: math.filter(m => m.querySelector('mjx-container')).length,
  merror: q('mjx-merror, [data-mjx-error]').length, raw: raw,
  foreign: performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin)),
  ids: q('dt[id]').map(d => d.id)};
"""

def expected() -> tuple:
    "({page: figures its executed notebook made}, {page: inline math in its markdown}, {module: functions and classes})"
    figs, math = {}, {}
    for fn in sorted(SRC.glob('*.ipynb')):
        nb = json.loads(fn.read_text())
        figs[fn.stem + '.html'] = sum(any(k.startswith('image/') for k in o.get('data', {}))
                                      for c in nb['cells'] for o in c.get('outputs', []))
        math[fn.stem + '.html'] = sum(len(MATH.findall(''.join(c['source']))) for c in nb['cells'] if c['cell_type'] == 'markdown')
    api = {}
    for fn in sorted((ROOT/'igc_fast').glob('*.py')):
        if fn.stem.startswith('_'): continue
        tree = ast.parse(fn.read_text())
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and any(getattr(t, 'id', '') == '__all__' for t in n.targets)), [])
        defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        api[f'api/{fn.stem}.html'] = [f'igc_fast.{fn.stem}.{n}' for n in names if n in defs]
    return figs, math, api

def serve():
    "The site over HTTP on a free loopback port, as a reader's browser would get it"
    handler = functools.partial(type('Quiet', (SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(SITE))
    srv = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'

def browser():
    "Headless Chromium from Debian's packages (or a Chrome already there), driven by chromedriver, only the loopback reachable"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    exe, drv = shutil.which('chromium') or shutil.which('google-chrome'), shutil.which('chromedriver')
    if not (exe and drv): sys.exit('docs check: chromium or chromedriver is missing: apt-get install -y chromium chromium-driver')
    o = webdriver.ChromeOptions()
    o.binary_location = exe
    for a in ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1280,1600',
              '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--disable-background-networking']: o.add_argument(a)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    try: d = webdriver.Chrome(options=o, service=Service(executable_path=drv))
    except Exception as e: sys.exit(f'docs check: chromedriver could not start chromium ({type(e).__name__}: '
                                    f'{(str(e).strip().splitlines() or [""])[0]}): reinstall chromium chromium-driver')
    d.set_page_load_timeout(60); d.set_script_timeout(60)
    return d

def check(d, url: str, page: str, figs: dict, math: dict, api: dict) -> tuple:
    "(problems, summary) of `page` as the browser shows it"
    from selenium.webdriver.support.ui import WebDriverWait
    d.get(url + page)
    WebDriverWait(d, 60).until(lambda d: d.execute_script('return document.readyState') == 'complete')
    # MathJax typesets after the load event; wait for it to finish (or fail) on pages that load it
    WebDriverWait(d, 60).until(lambda d: d.execute_script(
        "return !document.querySelector('script[src*=\"mathjax/\"]') || !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"))
    state = d.execute_async_script("const done = arguments[arguments.length - 1];"
        "if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) done('none');"
        "else MathJax.startup.promise.then(() => done('ok'), e => done('failed: ' + e));")
    WebDriverWait(d, 30).until(lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"))
    r = d.execute_script(PAGE_JS)
    logs = [e['message'][:200] for e in d.get_log('browser') if e['level'] == 'SEVERE']
    bad = []
    if not r['title'] or (page in figs or page in api) and not r['h1']: bad.append('no title or heading')
    if r['errors']: bad.append(f"{r['errors']} error output(s) (traceback, error or system message)")
    if r['stderr']: bad.append(f"{r['stderr']} stderr output(s)")
    if r['broken']: bad.append(f"{len(r['broken'])} image(s) not rendered: {', '.join(r['broken'][:3])}")
    want = max(figs.get(page, 0), 1 if Path(page).stem in FIGURES else 0)
    if r['figures'] < want: bad.append(f"{r['figures']} figure(s) shown, {want} expected")
    if state.startswith('failed'): bad.append(f'MathJax {state}')
    if math.get(page) and not r['typeset']: bad.append(f"markdown has {math[page]} math, none typeset")
    if r['typeset'] < r['math']: bad.append(f"{r['math'] - r['typeset']} of {r['math']} math element(s) not typeset")
    if r['merror']: bad.append(f"{r['merror']} TeX error(s) in math")
    if r['raw']: bad.append(f"raw TeX delimiters in the text: {r['raw'][0]!r}")
    if r['foreign']: bad.append(f"fetches from outside the site: {r['foreign'][0]}")
    if logs: bad.append(f'console error: {logs[0]}')
    missing = [n for n in api.get(page, []) if n not in set(r['ids'])]
    if missing: bad.append(f"{len(missing)} of {len(api[page])} functions/classes missing: {', '.join(missing[:5])}")
    info = ', '.join(s for s in [f"{r['figures']} figures" if r['figures'] else '', f"{r['typeset']} math" if r['typeset'] else '',
                                 f"{len(api[page])} API entries" if page in api else ''] if s)
    return bad, info

def main(args):
    shots = Path(args[args.index('--screenshots') + 1]) if '--screenshots' in args else None
    if not (SITE/'index.html').exists(): sys.exit('docs check: _docs/index.html is missing: build the site first (python .ci/docs.py)')
    figs, math, api = expected()
    pages = sorted(str(p.relative_to(SITE)) for p in SITE.rglob('*.html') if not p.relative_to(SITE).parts[0].startswith('_sources'))
    missing = [p for p in [*figs, *api] if p not in pages]
    srv, url = serve()
    d = browser()
    failed = [(p, 'page missing from the site') for p in missing]
    for p in missing: print(f'FAIL {p}  page missing from the site')
    try:
        if shots: shots.mkdir(parents=True, exist_ok=True)
        for p in pages:
            try: bad, info = check(d, url, p, figs, math, api)
            except Exception as e: bad, info = [f'{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ""}'], ''
            if shots: d.save_screenshot(str(shots/(p.replace('/', '_') + '.png')))
            print(f"{'ok  ' if not bad else 'FAIL'} {p}  {'; '.join(bad) or info}", flush=True)
            if bad: failed.append((p, bad))
    finally: d.quit(); srv.shutdown()
    n = len(pages) + len(missing)
    print(f'docs check: {n - len(failed)} of {n} pages ok' + (f', {len(failed)} with problems (FAIL lines above)' if failed else ''))
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main(sys.argv[1:])
