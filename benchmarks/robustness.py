"""The robustness matrix of `igc_train` and the Python API: bad flags, broken data, crafted pickles, full disks, signals
and concurrent runs, each with what should happen and what did, written to results/robustness.md with the counts
tried / clear / correct / traceback / silent wrong / lost / code executed (and unexpected: a refusal with another
status or message than expected). About two minutes on a 2-core CPU.

    .venv/bin/python benchmarks/robustness.py [--out benchmarks/results/robustness.md] [--quiet]

Kinds: `clear` a refusal or a stop as expected, in one line with the documented exit status; `correct` a run that
did what it should (checked); `traceback` anything printed as a traceback or escaping `main`; `silent wrong` exit 0
where a refusal was due, or a check that failed; `lost` files of an earlier run changed or gone; `code executed` a
crafted pickle's command ran (a sentinel file appeared).
"""
from __future__ import annotations
import argparse, builtins, contextlib, datetime, io, json, os, pickle, platform, shutil, signal, subprocess, sys, tempfile, time
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import hardware, code_state
import torch
import igc_fast
import igc_fast.cli as cli
from igc_fast.checkpoint import read_checkpoint, CheckpointReadError
from igc_fast.data import tensor_dls
from igc_fast.datasets import load_dataset
from igc_fast.layers import IGC
from igc_fast.models import get_model
from igc_fast.test_utils import fake_cifar10, fake_svhn, fake_image_folder, same_state

KINDS = ('clear', 'correct', 'traceback', 'silent wrong', 'lost', 'code executed', 'unexpected')
TMP = Path(tempfile.mkdtemp(prefix='igc-robustness-'))
SENTINEL = TMP/'pwned'
TINY = ['--network', 'resnet_igc', '--depth', '8', '--primary-partition', '2', '--secondary-partition', '2',
        '--batch-size', '128', '--rand-seed', '0', '--gpus', 'cpu']
CASES = []

def case(group, name, given, expected):
    "Register a case: `run()` returns (kind, observed)"
    def deco(run): CASES.append(dict(group=group, name=name, input=given, expected=expected, run=run)); return run
    return deco

def call(argv, cwd=None):
    "(exit status, stdout, stderr) of `igc_fast.cli.main(argv)` in this process; status None when an exception escapes it"
    o, e = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(o), redirect_stderr(e), (contextlib.chdir(cwd) if cwd else contextlib.nullcontext()):
            code = cli.main(argv)
    except BaseException as ex:
        return None, o.getvalue(), e.getvalue() + f'Traceback (escaped main): {type(ex).__name__}: {ex}\n'
    return code, o.getvalue(), e.getvalue()

def files(folder) -> dict:
    "Every file under `folder` and its bytes"
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(Path(folder).rglob('*')) if f.is_file()} if Path(folder).exists() else {}

def names(folder) -> list:
    "The sorted names of what `folder` holds"
    return sorted(f.name for f in Path(folder).iterdir())

def short(s, n=150): s = ' '.join(str(s).split()); return s if len(s) <= n else s[:n - 3] + '...'

def judge(code, e, want_code, contains, before=None, folder=None, extra_ok=True):
    "The kind of an outcome that should be exit `want_code` with one line holding every string of `contains`"
    if code is None or 'Traceback' in e: return 'traceback'
    if before is not None and files(folder) != before: return 'lost'
    if want_code == 0: return 'correct' if code == 0 and extra_ok else 'silent wrong'
    if code == 0: return 'silent wrong'
    if e.count('\n') != 1: return 'traceback'
    return 'clear' if code == want_code and all(c in e for c in contains) and extra_ok else 'unexpected'

def refused(argv, *contains, code=2, keep=None, cwd=None):
    "Run `argv`, expecting a one-line refusal (exit `code`) naming `contains`, with the files of `keep` unchanged"
    before = files(keep) if keep else None
    c, o, e = call(argv, cwd)
    return judge(c, e, code, contains, before, keep), f"exit {c}: {short(e or o)}"

def api_refused(f, *contains, errors=(ValueError,)):
    "Call `f()`, expecting a one-line `errors` naming `contains`"
    try: f()
    except errors as ex:
        msg = str(ex)
        return ('clear' if '\n' not in msg and all(c in msg for c in contains) else 'unexpected'), f"{type(ex).__name__}: {short(msg)}"
    except BaseException as ex: return 'traceback', f"{type(ex).__name__}: {short(ex)}"
    return 'silent wrong', 'accepted'

# ---- every flag, with values both sensible and not: a dry run refuses in one line naming the flag, or is ready
INT_FLAGS = ['--depth', '--primary-partition', '--secondary-partition', '--batch-size', '--test-batch-size', '--num-epochs',
             '--checkpoint-epochs', '--data-shape', '--rand-seed', '--load-epoch', '--aug-type']
READY = {('--rand-seed', '0'), ('--checkpoint-epochs', '99999999999999999999'), ('--test-batch-size', '99999999999999999999'),
         ('--aug-type', '0'), ('--depth', '8'), ('--batch-size', '1437'), ('--precision', 'fp16'), ('--precision', 'bf16')}
GRID = [(f, v) for f in INT_FLAGS for v in ('-1', '0', '99999999999999999999', 'x', '')]
GRID += [('--depth', '8'), ('--batch-size', '1437'), ('--batch-size', '1438'), ('--batch-size', '5000')]   # 1,437 digits to train on
GRID += [(f, v) for f in ('--lr', '--lr-factor') for v in ('0', '-1', 'nan', 'inf', 'x')]
GRID += [('--network', ''), ('--network', 'resnet_igx'), ('--dataset', 'mnist'), ('--gpus', 'x'), ('--gpus', '0,0'), ('--gpus', '-2'),
         ('--precision', 'x'), ('--precision', 'fp16'), ('--precision', 'bf16'), ('--impl', 'x'), ('--schedule', 'x'), ('--exp-name', ''), ('--exp-name', '.'),
         ('--exp-name', '..'), ('--exp-name', 'a/b'), ('--model-prefix', 'runs/'), ('--model-prefix', '.'), ('--lr-steps', 'x'),
         ('--lr-steps', '0'), ('--lr-steps', '5,100'), ('--lr-steps', 'nan'), ('--data-dir', str(TMP))]

def _grid_case(flag, value):
    ready = (flag, value) in READY
    extra = ['--schedule', 'paper'] if flag in ('--lr-factor', '--lr-steps') else []
    words = (flag, flag[2:].replace('-', ' '), flag[2:].replace('-', '_'), 'batch size' if 'batch' in flag else flag)
    @case('flags', f'{flag} {value!r}', f"igc_train {' '.join(TINY[:8])} {flag} {value!r} --dry-run",
          'ready (dry run)' if ready else 'exit 2, one line naming the flag')
    def run():
        logs = TMP/'grid'
        c, o, e = call(TINY + ['--log-dir', str(logs)] + extra + [flag, value, '--dry-run'])
        left = logs.exists()
        if ready: return judge(c, e, 0, (), extra_ok=o.startswith('igc_train: ready') and not left), f"exit {c}: {short(e or o)}"
        kind = judge(c, e, 2, ())
        if kind == 'clear' and not any(w in e for w in words): kind = 'unexpected'
        return ('lost' if left else kind), f"exit {c}: {short(e)}"
for _f, _v in GRID: _grid_case(_f, _v)

# ---- datasets that are missing, damaged, mislabelled or crafted
class Payload:
    "A pickle that asks to run a shell command while it is loaded"
    def __reduce__(self): return (os.system, (f'touch {SENTINEL}',))

def _cifar(name, change):
    root = TMP/'data'/name; fake_cifar10(root)
    f = root/'cifar-10-batches-py'/'data_batch_1'
    change(f)
    return root

def _relabel(value):
    def change(f):
        d = pickle.loads(f.read_bytes()); d['labels'][2] = value; f.write_bytes(pickle.dumps(d, protocol=2))
    return change

def _empty_batch(f):
    d = pickle.loads(f.read_bytes()); d['data'], d['labels'] = d['data'][:0], []; f.write_bytes(pickle.dumps(d, protocol=2))

DATA = [('cifar10', 'missing folder', lambda: TMP/'data'/'nowhere', 'is not a folder'),
        ('cifar10', 'no files', lambda: (TMP/'data'/'empty').mkdir(parents=True, exist_ok=True) or TMP/'data'/'empty', 'missing'),
        ('cifar10', 'truncated batch', lambda: _cifar('trunc', lambda f: f.write_bytes(f.read_bytes()[:999])), 'data_batch_1'),
        ('cifar10', 'label 3.7', lambda: _cifar('float', _relabel(3.7)), 'data_batch_1'),
        ('cifar10', 'label None', lambda: _cifar('none', _relabel(None)), 'data_batch_1'),
        ('cifar10', 'label 2**70', lambda: _cifar('huge', _relabel(2**70)), 'data_batch_1'),
        ('cifar10', "label 'cat'", lambda: _cifar('cat', _relabel('cat')), 'data_batch_1'),
        ('cifar10', 'label True', lambda: _cifar('bool', _relabel(True)), 'data_batch_1'),
        ('cifar10', 'label 10 of 10 classes', lambda: _cifar('ten', _relabel(10)), 'data_batch_1'),
        ('cifar10', 'empty batch', lambda: _cifar('emptybatch', _empty_batch), 'holds no images'),
        ('cifar10', 'crafted pickle (os.system)', lambda: _cifar('evil', lambda f: f.write_bytes(pickle.dumps(Payload(), protocol=2))), 'data_batch_1'),
        ('cifar10', 'not a dict', lambda: _cifar('list', lambda f: f.write_bytes(pickle.dumps([1, 2], protocol=2))), 'data_batch_1'),
        ('svhn', 'truncated .mat', lambda: _svhn_truncated(), 'train_32x32.mat'),
        ('imagenet', 'no train/ and val/', lambda: (TMP/'data'/'inet-empty').mkdir(parents=True, exist_ok=True) or TMP/'data'/'inet-empty', 'image folders missing'),
        ('imagenet', 'one 0-byte image', lambda: _images('zero', b''), 'cannot be read'),
        ('imagenet', 'one image of random bytes', lambda: _images('noise', os.urandom(500)), 'cannot be read'),
        ('imagenet', 'a text file named .JPEG', lambda: _images('text', b'hello'), 'cannot be read')]

def _svhn_truncated():
    root = TMP/'data'/'svhn'; fake_svhn(root)
    f = root/'train_32x32.mat'; f.write_bytes(f.read_bytes()[:300])
    return root

def _images(name, data):
    root = fake_image_folder(TMP/'data'/f'inet-{name}'); (root/'train'/'dog'/'dog_1.JPEG').write_bytes(data)
    return root

def _data_case(dataset, what, make, contains):
    @case('data', f'{dataset}: {what}', f'igc_train --dataset {dataset} --data-dir <{what}>', f'exit 2, one line: {contains!r}')
    def run():
        root = make()
        extra = ['--data-shape', '32', '--batch-size', '4'] if dataset == 'imagenet' else []
        kind, obs = refused(['--dataset', dataset, '--data-dir', str(root), '--log-dir', str(TMP/'data-runs'), '--gpus', 'cpu'] + extra, contains)
        return ('lost' if (TMP/'data-runs').exists() else kind), obs
for _d in DATA: _data_case(*_d)

@case('data', 'svhn: no extra_32x32.mat', 'igc_train --dataset svhn --data-dir <train and test only>', 'exit 2 naming the missing file, offering no flag that does not exist')
def _():
    root = TMP/'data'/'svhn-noextra'; fake_svhn(root); (root/'extra_32x32.mat').unlink()
    kind, obs = refused(['--dataset', 'svhn', '--data-dir', str(root), '--log-dir', str(TMP/'data-runs'), '--gpus', 'cpu'], 'extra_32x32.mat')
    return ('unexpected' if 'extra=False' in obs else kind), obs

@case('data', 'API: cifar label 3.7', "load_dataset('cifar10', <label 3.7>)", 'CorruptDataError naming the file')
def _():
    root = _cifar('api-float', _relabel(3.7))
    from igc_fast.datasets import CorruptDataError
    return api_refused(lambda: load_dataset('cifar10', root), 'data_batch_1', errors=(CorruptDataError,))

@case('data', 'API: batch larger than the training set', "tensor_dls('digits', bs=5000)", 'ValueError: at most the training set')
def _(): return api_refused(lambda: tensor_dls('digits', bs=5000), 'batch size of at most')

# ---- the Python API's layers and networks
@case('api', 'IGC even kernel', 'IGC(8, 8, ks=2, L=2)', 'ValueError: odd kernel')
def _(): return api_refused(lambda: IGC(8, 8, ks=2, L=2), 'ks=2')

@case('api', 'IGC M beyond nf/L', 'IGC(48, 48, L=2, M=48)', 'ValueError naming M')
def _(): return api_refused(lambda: IGC(48, 48, L=2, M=48), 'M=48')

@case('api', 'network too large for memory', 'get_model("resnet", depth=6e9+2)', 'ValueError before allocating')
def _(): return api_refused(lambda: get_model('resnet', depth=int(6e9 + 2)), "memory")

@case('api', 'resnet_imgnet_d18 secondary partition', 'get_model("resnet_imgnet_d18", secondary_partition=7)', 'ValueError: it has none')
def _(): return api_refused(lambda: get_model('resnet_imgnet_d18', secondary_partition=7), 'has no secondary partitions')

# ---- runs, their folders and their checkpoints
def _run(name, *extra, epochs=2, every=1, log=None):
    return call(TINY + ['--log-dir', str(log or TMP/'runs'), '--num-epochs', str(epochs), '--checkpoint-epochs', str(every), '--exp-name', name, *extra])

RUNS = TMP/'runs'
@case('folders', 'first run', 'igc_train <tiny> --num-epochs 2 --exp-name base', 'exit 0, log, metrics, 2 checkpoints')
def _():
    c, o, e = _run('base')
    ok = c == 0 and names(RUNS/'base') == ['log.csv', 'metrics.json', 'model-0001.pth', 'model-0002.pth']
    return judge(c, e, 0, (), extra_ok=ok), f"exit {c}: {short(o.splitlines()[-1] if o else e)}"

@case('folders', 'same --exp-name again', 'igc_train <tiny> --exp-name base (it exists)', 'exit 2, base untouched')
def _(): return refused(TINY + ['--log-dir', str(RUNS), '--exp-name', 'base'], 'already holds a run', keep=RUNS/'base')

@case('folders', 'a run folder in use', 'resume base while another process holds its lock', 'exit 2: in use')
def _():
    with cli.lock_folder(RUNS/'base'): return refused(['--log-dir', str(RUNS), '--exp-name', 'base', '--load-epoch', '1'], 'in use by another igc_train run')

@case('folders', 'resume with another --log-dir', 'igc_train --model-prefix runs/base/model --log-dir elsewhere --load-epoch 1', 'exit 2: it writes beside its checkpoints')
def _(): return refused(['--model-prefix', str(RUNS/'base'/'model'), '--log-dir', str(TMP), '--load-epoch', '1'], 'would be ignored', keep=RUNS/'base')

@case('folders', '--log-dir under a file', '--log-dir <file>/runs', 'exit 2 before training')
def _():
    (TMP/'a-file').write_text('x')
    return refused(TINY + ['--log-dir', str(TMP/'a-file'/'runs')], 'is a file')

@case('folders', '--model-prefix under a file', '--model-prefix <file>/m', 'exit 2 before training, no folder left')
def _():
    kind, obs = refused(TINY + ['--log-dir', str(TMP/'pfx-runs'), '--model-prefix', str(TMP/'a-file'/'m')], 'is a file')
    return ('lost' if (TMP/'pfx-runs').exists() else kind), obs

if os.geteuid() != 0:
    @case('folders', 'read-only --log-dir', '--log-dir <mode 555>/runs', 'exit 2 before training')
    def _():
        ro = TMP/'ro'; ro.mkdir(mode=0o555)
        return refused(TINY + ['--log-dir', str(ro/'runs')], 'Permission denied')

@case('folders', '--model-prefix with checkpoints', '--model-prefix runs/base/model (a new run)', 'exit 2: it holds epochs 1, 2')
def _(): return refused(TINY + ['--log-dir', str(TMP/'other'), '--model-prefix', str(RUNS/'base'/'model')], 'already holds the checkpoints', keep=RUNS/'base')

@case('folders', 'stale temporary of a killed write', 'resume a run whose folder holds .model-0002.pth.x.tmp', 'removed at the start')
def _():
    (RUNS/'stale').mkdir(); shutil.copy(RUNS/'base'/'model-0001.pth', RUNS/'stale')
    (RUNS/'stale'/'.model-0002.pth.abc.tmp').write_bytes(b'')
    c, o, e = call(['--log-dir', str(RUNS), '--exp-name', 'stale', '--load-epoch', '1'])
    return judge(c, e, 0, (), extra_ok=not list((RUNS/'stale').glob('*.tmp'))), f"exit {c}; temporaries left: {len(list((RUNS/'stale').glob('*.tmp')))}"

@case('resume', 'resume a copied run', 'copy base/model-0001.pth to copy/, --exp-name copy --load-epoch 1', 'copy = uninterrupted, base untouched')
def _():
    before = files(RUNS/'base')
    (RUNS/'copy').mkdir(); shutil.copy(RUNS/'base'/'model-0001.pth', RUNS/'copy')
    c, o, e = call(['--log-dir', str(RUNS), '--exp-name', 'copy', '--load-epoch', '1'])
    if files(RUNS/'base') != before: return 'lost', 'base changed'
    same = c == 0 and same_state(*(torch.load(RUNS/n/'model-0002.pth', weights_only=True) for n in ('base', 'copy')))
    rows = lambda n: [l.split(',')[:4] for l in (RUNS/n/'log.csv').read_text().splitlines()[1:]]
    loss = c == 0 and rows('copy') == rows('base')[1:]
    return judge(c, e, 0, (), extra_ok=same and loss), f"exit {c}; final state equal: {same}; log rows (train/test loss, accuracy) equal: {loss}"

@case('resume', 'resume from another working directory', 'cd elsewhere; igc_train --model-prefix <abs>/copy2/model --load-epoch 1', 'writes next to the checkpoint')
def _():
    (RUNS/'copy2').mkdir(); shutil.copy(RUNS/'base'/'model-0001.pth', RUNS/'copy2'); (TMP/'cwd').mkdir()
    c, o, e = call(['--model-prefix', str(RUNS/'copy2'/'model'), '--load-epoch', '1'], cwd=TMP/'cwd')
    beside, empty = (RUNS/'copy2'/'metrics.json').exists(), not names(TMP/'cwd')
    return judge(c, e, 0, (), extra_ok=beside and empty), f"exit {c}; metrics beside the checkpoint: {beside}; cwd empty: {empty}"

def _ckpt_case(what, change, contains):
    @case('checkpoints', what, f'resume from a checkpoint: {what}', f'exit 2, one line: {contains!r}')
    def run():
        d = RUNS/f"ck-{what.replace(' ', '-')}"; d.mkdir()
        f = d/'model-0001.pth'; shutil.copy(RUNS/'base'/'model-0001.pth', f); change(f)
        kind, obs = refused(['--log-dir', str(RUNS), '--exp-name', d.name, '--load-epoch', '1'], contains)
        return kind, obs

def _flip(f):
    ck = torch.load(f, weights_only=True)
    v = next(t for t in ck['model'].values() if t.ndim == 4)
    v.as_strided((v.numel(),), (1,), v.storage_offset())[:1].view(torch.int32).bitwise_xor_(0x01020304)
    torch.save(ck, f)

class Exec:
    def __reduce__(self): return (builtins.exec, (f"open({str(SENTINEL)!r}, 'w')",))

for _w, _ch, _c in (('empty file', lambda f: f.write_bytes(b''), 'model-0001.pth'),
                    ('truncated', lambda f: f.write_bytes(f.read_bytes()[:2000]), 'model-0001.pth'),
                    ('4 flipped bytes in a conv weight', _flip, 'do not match the digest'),
                    ('crafted pickle (os.system)', lambda f: torch.save({'epoch': 1, 'model': Payload()}, f), 'nothing was executed'),
                    ('crafted pickle (builtins.exec)', lambda f: torch.save({'epoch': 1, 'model': Exec()}, f), 'nothing was executed'),
                    ('random bytes', lambda f: f.write_bytes(os.urandom(4096)), 'model-0001.pth'),
                    ('another epoch under this name', lambda f: shutil.copy(RUNS/'base'/'model-0002.pth', f), 'holds epoch 2, not 1')):
    _ckpt_case(_w, _ch, _c)

@case('checkpoints', 'missing', '--exp-name nothing --load-epoch 3', 'exit 2: not found')
def _(): return refused(['--log-dir', str(RUNS), '--exp-name', 'nothing', '--load-epoch', '3', '--num-epochs', '4'], 'not found')

@case('checkpoints', 'flags of another network', '--exp-name base --load-epoch 1 --primary-partition 4', 'exit 2, base untouched')
def _(): return refused(['--log-dir', str(RUNS), '--exp-name', 'base', '--load-epoch', '1', '--primary-partition', '4'], 'holds another network', keep=RUNS/'base')

@case('api', 'read_checkpoint of a crafted pickle', 'read_checkpoint(<os.system pickle>)', 'CheckpointReadError, nothing run')
def _():
    f = TMP/'evil.pth'; torch.save({'epoch': 1, 'model': Payload()}, f)
    return api_refused(lambda: read_checkpoint(f), 'nothing was executed', errors=(CheckpointReadError,))

# ---- faults while a run trains: one line, the documented status, earlier files whole
@case('faults', 'disk full writing log.csv (epoch 2)', 'open(log.csv, "a") raises ENOSPC at its 3rd line', 'exit 4; log rows and checkpoint 1 whole')
def _():
    n = []
    def full_open(file, mode='r', *a, **k):
        if str(file).endswith('full-log/log.csv') and 'a' in mode:
            n.append(1)
            if len(n) == 3: raise OSError(28, 'No space left on device')
        return builtins.open(file, mode, *a, **k)
    with mock.patch.object(cli, 'open', full_open, create=True): c, o, e = _run('full-log', epochs=3)
    whole = names(RUNS/'full-log') == ['log.csv', 'model-0001.pth'] and \
        torch.load(RUNS/'full-log'/'model-0001.pth', weights_only=True)['epoch'] == 1
    return (judge(c, e, 4, ('log.csv', 'No space left')) if whole else 'lost'), f"exit {c}: {short(e)}"

@case('faults', 'disk full writing checkpoint 2', 'torch.save raises ENOSPC at the 2nd checkpoint', 'exit 1; checkpoint 1 whole, nothing half-written')
def _():
    real, n = torch.save, []
    def save(obj, f, *a, **k):
        n.append(1)
        if len(n) == 2: f.write(b'half'); raise OSError(28, 'No space left on device')
        return real(obj, f, *a, **k)
    with mock.patch.object(torch, 'save', save): c, o, e = _run('full-ckpt', epochs=3)
    whole = names(RUNS/'full-ckpt') == ['log.csv', 'model-0001.pth']
    return (judge(c, e, 1, ('could not write checkpoint',)) if whole else 'lost'), f"exit {c}: {short(e)}"

@case('faults', 'disk full writing metrics.json', 'atomic_write(metrics.json) raises ENOSPC', 'exit 4; log and checkpoints whole')
def _():
    real = cli.atomic_write
    def aw(path, write):
        if Path(path).name == 'metrics.json': raise OSError(28, 'No space left on device')
        return real(path, write)
    with mock.patch.object(cli, 'atomic_write', aw): c, o, e = _run('full-metrics', epochs=1)
    whole = names(RUNS/'full-metrics') == ['log.csv', 'model-0001.pth']
    return (judge(c, e, 4, ('metrics.json',)) if whole else 'lost'), f"exit {c}: {short(e)}"

def proc(argv, **kw):
    return subprocess.Popen([sys.executable, '-m', 'igc_fast.cli', *argv], env={**os.environ, 'OMP_NUM_THREADS': '1'},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

def _wait_for(f, p, limit=300):
    t = time.perf_counter()
    while not f.exists():
        if p.poll() is not None or time.perf_counter() - t > limit: return False
        time.sleep(0.02)
    return True

def _signal_case(sig, status, words):
    @case('signals', f'{signal.Signals(sig).name} in epoch 2', f'kill -{signal.Signals(sig).name[3:]} once model-0001.pth exists', f'exit {status}, one line with the resume command')
    def run():
        name = f'sig-{sig}'
        p = proc(TINY + ['--log-dir', str(RUNS), '--num-epochs', '4', '--checkpoint-epochs', '1', '--exp-name', name])
        if not _wait_for(RUNS/name/'model-0001.pth', p): return 'silent wrong', 'the run ended before its first checkpoint'
        p.send_signal(sig); o, e = p.communicate(timeout=120)
        kept = names(RUNS/name) == ['log.csv', 'model-0001.pth']
        return (judge(p.returncode, e, status, (words, '--load-epoch 1')) if kept else 'lost'), f"exit {p.returncode}: {short(e)}"
_signal_case(signal.SIGTERM, 143, 'terminated (SIGTERM)')
_signal_case(signal.SIGINT, 130, 'interrupted')

def _start_case(sig, status):
    @case('signals', f'{signal.Signals(sig).name} while starting', f'igc_train, kill -{signal.Signals(sig).name[3:]} after 0.5 s (importing torch)', f'exit {status}, one line, nothing written')
    def run():
        script = Path(sys.executable).parent/'igc_train'
        p = subprocess.Popen([str(script), '--log-dir', str(TMP/f'start-{sig}')], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5); p.send_signal(sig); o, e = p.communicate(timeout=120)
        kind = judge(p.returncode, e, status, ('nothing was written',))
        return ('lost' if (TMP/f'start-{sig}').exists() else kind), f"exit {p.returncode}: {short(e)}"
_start_case(signal.SIGINT, 130)
_start_case(signal.SIGTERM, 143)

@case('signals', 'SIGKILL in epoch 2, then resume', 'kill -9 once model-0001.pth exists; --load-epoch 1', 'final state = the uninterrupted run')
def _():
    p = proc(TINY + ['--log-dir', str(RUNS), '--num-epochs', '2', '--checkpoint-epochs', '1', '--exp-name', 'killed'])
    if not _wait_for(RUNS/'killed'/'model-0001.pth', p): return 'silent wrong', 'the run ended before its first checkpoint'
    p.kill(); p.communicate()
    c, o, e = call(['--log-dir', str(RUNS), '--exp-name', 'killed', '--load-epoch', '1'])
    same = c == 0 and same_state(*(torch.load(RUNS/n/'model-0002.pth', weights_only=True) for n in ('base', 'killed')))
    return judge(c, e, 0, (), extra_ok=same), f"exit {c}; final state equal to the uninterrupted run: {same}"

@case('folders', 'two runs at once, default names', 'two igc_train processes started together, no --exp-name', 'two folders, one whole run each')
def _():
    both = TMP/'both'
    ps = [proc(TINY[:-4] + ['--rand-seed', str(s), '--gpus', 'cpu', '--num-epochs', '1', '--log-dir', str(both)]) for s in (1, 2)]
    codes = [p.wait(timeout=300) for p in ps]; [p.communicate() for p in ps]
    dirs = sorted(both.iterdir()) if both.exists() else []
    seeds = sorted(json.loads((d/'metrics.json').read_text())['seed'] for d in dirs if (d/'metrics.json').exists())
    ok = codes == [0, 0] and len(dirs) == 2 and seeds == [1, 2] and all(len((d/'log.csv').read_text().splitlines()) == 2 for d in dirs)
    return ('correct' if ok else 'lost'), f"exits {codes}; folders {[d.name for d in dirs]}; seeds {seeds}"

@case('folders', 'two runs at once, one --exp-name', 'two igc_train processes started together, both --exp-name same', 'one trains, the other exit 2 in one line')
def _():
    ps = [proc(TINY + ['--num-epochs', '1', '--log-dir', str(TMP/'same'), '--exp-name', 'same']) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in ps]
    codes = sorted(p.returncode for p in ps)
    loser = next((e for p, (o, e) in zip(ps, outs) if p.returncode == 2), '')
    whole = names(TMP/'same'/'same') == ['log.csv', 'metrics.json', 'model-0001.pth']
    if codes != [0, 2] or not whole: return ('lost' if codes == [0, 0] or not whole else 'traceback'), f"exits {codes}"
    return judge(2, loser, 2, ('same',)), f"exits {codes}: {short(loser)}"

@case('faults', 'non-finite loss', 'a network whose logits turn nan in epoch 2', 'exit 3, checkpoint 1 kept')
def _():
    real = cli.prepare
    def prep(args):
        job = real(args); n, k = len(job.dls.train), []
        def hook(m, i, out):
            if m.training: k.append(1)
            return out * float('nan') if m.training and len(k) == n + 2 else out
        job.learn.model.register_forward_hook(hook); return job
    with mock.patch.object(cli, 'prepare', prep): c, o, e = _run('nan', epochs=3)
    whole = names(RUNS/'nan') == ['log.csv', 'model-0001.pth']
    return (judge(c, e, 3, ('training loss is nan',)) if whole else 'lost'), f"exit {c}: {short(e)}"

@case('faults', 'a bug (an unexpected exception)', 'a network raising ZeroDivisionError in step 2', 'exit 5, one line, traceback in error.log')
def _():
    real = cli.prepare
    def prep(args):
        job, k = real(args), []
        def hook(m, i, out):
            if m.training: k.append(1)
            if len(k) == 2: 1 / 0
        job.learn.model.register_forward_hook(hook); return job
    with mock.patch.object(cli, 'prepare', prep): c, o, e = _run('bug', epochs=1)
    log = RUNS/'bug'/'error.log'
    return judge(c, e, 5, ('ZeroDivisionError', 'error.log'), extra_ok=log.exists() and 'Traceback' in log.read_text()), f"exit {c}: {short(e)}"

def write(rows, counts, out: Path, wall):
    lines = [f"# Robustness matrix of igc_train and the Python API",
             '', f"date {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: {hardware()}; torch {torch.__version__}; "
             f"igc_fast {igc_fast.__version__}; python {platform.python_version()}; code: {code_state()}; {len(rows)} cases in {wall:.0f} s"
             f"{'; running as root (the read-only folder case needs another user)' if os.geteuid() == 0 else ''}.", '',
             'Written by `benchmarks/robustness.py`; the kinds are defined in its docstring; `<tmp>` is its temporary folder.', '',
             '| tried | ' + ' | '.join(KINDS) + ' |', '| ---: | ' + ' | '.join('---:' for _ in KINDS) + ' |',
             f"| {len(rows)} | " + ' | '.join(str(counts[k]) for k in KINDS) + ' |', '',
             '| group | case | input | expected | observed | kind |', '| --- | --- | --- | --- | --- | --- |']
    esc = lambda s: str(s).replace(str(TMP), '<tmp>').replace('|', '\\|').replace('\n', ' ')
    lines += [f"| {r['group']} | {esc(r['name'])} | {esc(r['input'])} | {esc(r['expected'])} | {esc(r['observed'])} | {r['kind']} |" for r in rows]
    out.write_text('\n'.join(lines) + '\n')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'robustness.md'))
    ap.add_argument('--quiet', action='store_true', help='print only the cases neither clear nor correct, and the counts')
    opts = ap.parse_args(); out = Path(opts.out)
    torch.set_num_threads(1)
    t0, rows = time.perf_counter(), []
    try:
        for c in CASES:
            try: kind, observed = c['run']()
            except BaseException as ex:
                if isinstance(ex, KeyboardInterrupt): raise
                kind, observed = 'traceback', f"{type(ex).__name__} escaped the case: {short(ex)}"
            if SENTINEL.exists(): kind, observed = 'code executed', observed + ' (the sentinel file appeared)'; SENTINEL.unlink()
            rows.append({**{k: c[k] for k in ('group', 'name', 'input', 'expected')}, 'observed': observed, 'kind': kind})
            if not opts.quiet or kind not in ('clear', 'correct'):
                print(f"{kind:>13}  {c['group']:<11} {c['name']:<40} {short(observed, 90)}", flush=True)
    finally: shutil.rmtree(TMP, ignore_errors=True)
    counts = {k: sum(r['kind'] == k for r in rows) for k in KINDS}
    write(rows, counts, out, time.perf_counter() - t0)
    print(f"{len(rows)} tried: " + ', '.join(f'{v} {k}' for k, v in counts.items()) + f"; written to {out}")
    sys.exit(0 if counts['clear'] + counts['correct'] == len(rows) else 1)
