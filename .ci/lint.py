"""Checks a green test run can hide: no private torch or fastai API in the library, and a project that speaks of
itself only (no pointers to documents outside the repository, no words about how its work is organised)."""
import re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
PRIVATE = re.compile(r"torch\._C\b|torch\._dynamo|torch\._inductor|nn\.modules\.module\._|\._forward_hooks|\._forward_pre_hooks"
                     r"|\._backward_hooks|_global_forward|_valid_mets|\brecorder\._")
WORDS = re.compile(r"spec §|\bthe spec\b|\bspec's\b|\bshared/spec\b|\bsessions?\b|\bthe issue\b|\bthe seed\b|\bseed's\b", re.I)
files = {'library': sorted((root/'igc_fast').glob('*.py')),
         'prose': sorted([*(root/'nbs').glob('*.ipynb'), *(root/'igc_fast').glob('*.py'), *(root/'benchmarks').rglob('*.py'),
                          *(root/'benchmarks').rglob('*.md'), root/'README.md'])}
bad = [f"{f.relative_to(root)}:{i}: private API: {m.group(0)}" for f in files['library']
       for i, l in enumerate(f.read_text().splitlines(), 1) for m in [PRIVATE.search(l)] if m]
bad += [f"{f.relative_to(root)}:{i}: words about something outside the project: {m.group(0)!r}" for f in files['prose']
        for i, l in enumerate(f.read_text().splitlines(), 1) for m in [WORDS.search(l)] if m]
for b in bad: print(b)
print('lint: ' + (f'{len(bad)} problem(s)' if bad else 'no private APIs, no words about things outside the project'))
sys.exit(1 if bad else 0)
