"""Run the notebooks as nbdev_test does (execnb, skipping cells flagged `slow`/`cuda` unless asked for) and check their
outputs: a notebook fails on an error, and on a warning or any other stderr text in its outputs, which would show in
the rendered notebook. Closes with a line counting notebook results. Usage: nbtest.py [--flags slow cuda] [notebooks]"""
import sys, os, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _texts(cell):
    "(stream name or output type, text) of every output of `cell`"
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': yield o.get('name'), ''.join(o.get('text', ''))
        elif o.get('output_type') == 'error': yield 'error', '\n'.join(o.get('traceback', []))
        else: yield o.get('output_type'), ''.join(o.get('data', {}).get('text/plain', ''))

def run(fn: str, flags=()) -> tuple:
    "(notebook, passed, seconds, messages) of running notebook `fn`"
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.config import get_config
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    fn = Path(fn).resolve()
    skip = set(get_config().tst_flags.split()) - set(flags)
    os.environ['IN_TEST'] = '1'
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        d = getattr(cell, 'directives_', {}) or {}
        if d.get('eval:', [''])[0].lower() == 'false': return True
        return bool(skip & d.keys())
    t0, msgs = time.time(), []
    shell = CaptureShell(fn)
    try:
        with working_directory(fn.parent): shell.run_all(nb, exc_stop=True, preproc=no_eval)
    except Exception: msgs.append(shell.prettytb(fname=fn))
    for i, cell in enumerate(nb.cells):
        for kind, text in _texts(cell):
            if kind == 'stderr' or 'Warning' in text:
                msgs.append(f'cell {i}: {kind} output in a rendered notebook:\n{text.strip()[:2000]}')
    return fn.name, not msgs, time.time() - t0, msgs

def run_child(fn: str, flags) -> tuple:
    "`run(fn, flags)` in a fresh Python process (a notebook's kernel state never reaches another notebook)"
    import json, subprocess
    r = subprocess.run([sys.executable, __file__, '--child', fn, *flags], capture_output=True, text=True)
    try: return tuple(json.loads(r.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError): return Path(fn).name, False, 0.0, [f'the test process ended with status {r.returncode}:\n{r.stderr[-4000:]}']

if __name__ == '__main__':
    args = sys.argv[1:]
    if args[:1] == ['--child']:
        import json
        print('\n' + json.dumps(run(args[1], args[2:])))
        sys.exit(0)
    flags = []
    if args[:1] == ['--flags']:
        args = args[1:]
        while args and not args[0].endswith('.ipynb'): flags.append(args.pop(0))
    nbs = [Path(a) for a in args] or sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(min(len(nbs), os.cpu_count() or 1)) as ex:
        results = list(ex.map(lambda fn: run_child(str(fn), flags), nbs))
    for name, ok, secs, msgs in results:
        for m in msgs: sys.stderr.write(f'\n==== {name}\n{m}\n')
    print()
    for name, ok, secs, msgs in results: print(f"{'ok  ' if ok else 'FAIL'} {name}  {secs:.0f}s")
    failed = [r for r in results if not r[1]]
    print(f'{len(results) - len(failed)} passed, {len(failed)} failed')
    sys.exit(1 if failed else 0)
