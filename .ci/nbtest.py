"Run notebooks with nbdev's own runner (`nbdev_test`) and close with a line counting notebook results."
import sys, re, subprocess
from pathlib import Path

nbdev_test = str(Path(sys.executable).parent/'nbdev_test')
runs = [[p] for p in sys.argv[1:]] or [[]]   # named notebooks one by one; none: every notebook, in parallel
started, failed, rc = [], set(), 0
for path in runs:
    r = subprocess.run([nbdev_test, '--do_print', '--timing'] + (['--path', path[0]] if path else []),
                       capture_output=True, text=True)
    sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)
    started += re.findall(r'^Starting .*?([^/]+\.ipynb)$', r.stdout, re.M)
    failed |= set(re.findall(r'^\t(\S+\.ipynb)$', r.stderr, re.M))
    if r.returncode and not re.search(r'^\t\S+\.ipynb$', r.stderr, re.M): failed.add(f'nbdev_test {" ".join(path)} (exit {r.returncode})')
    rc |= r.returncode
print()
for n in started: print(f"{'FAIL' if n in failed else 'ok  '} {n}")
print(f"{len([n for n in started if n not in failed])} passed, {len(failed)} failed")
sys.exit(1 if failed or rc else 0)
