"""Helpers shared by the benchmark scripts: the machine's name, the code's state, device sync, a check for other
processes that would distort timings on a shared machine, and a network's costs and floors. The scripts run as
`python benchmarks/<script>.py`, so this file is importable as `common`."""
import json, os, platform, statistics, subprocess, sys, time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
MINI = REPO.parent/'shared'/'data'/'cifar10-mini'   # real CIFAR-10 images in the official layout, beside the repository


DTYPES = dict(fp32=torch.float32, bf16=torch.bfloat16, fp16=torch.float16)   # the benchmarks' precision names

def _cpu_name() -> str:
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or 'unknown'


def hardware(device='cpu') -> str:
    "The machine as the results files name it: the CPU (model, logical cores, vector extensions, torch threads), and the GPU for CUDA"
    try: flags = next((l for l in open('/proc/cpuinfo') if l.startswith('flags')), '')
    except OSError: flags = ''
    isa = [f for f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile') if f' {f}' in flags]
    cpu = f'{_cpu_name()}, {os.cpu_count()} logical cores ({", ".join(isa) or "no AVX2"}), torch intra-op threads {torch.get_num_threads()}'
    if torch.device(device).type != 'cuda': return cpu
    return f'{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); host {cpu}'


def sync(device):
    "Wait for the device's queued work, so that a timer around it measures it (no-op on a CPU)"
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()


def code_state() -> str:
    "The HEAD commit, and the files of the package that differ from it (a benchmark runs the working tree)"
    git = lambda *a: subprocess.run(['git', *a], cwd=REPO, capture_output=True, text=True, check=True).stdout
    try: sha, dirty = git('rev-parse', '--short', 'HEAD').strip(), git('status', '--porcelain', '--', 'igc_fast').splitlines()
    except (OSError, subprocess.CalledProcessError): return 'not a git checkout'
    return f'git {sha}' + (f' plus uncommitted changes to {", ".join(sorted(l[3:] for l in dirty))}' if dirty else ', igc_fast as committed')


ROOT_ENV = 'IGC_BENCH_ROOT'   # set for a benchmark's child processes: the pid of the process that started them


def others_running() -> int:
    "Python processes on this machine other than this benchmark's: its first process and that one's descendants (children, compile workers)"
    root = int(os.environ.get(ROOT_ENV, os.getpid()))
    procs = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\0')[0]
            ppid = int(open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError): continue
        procs[int(pid)] = (ppid, b'python' in os.path.basename(cmd))
    def ours(pid):
        while pid > 1:
            if pid == root: return True
            pid = procs.get(pid, (0,))[0]
        return False
    return sum(py and not ours(pid) for pid, (_, py) in procs.items())


def wait_quiet(max_s: float = 120, device='cpu'):
    "Wait, up to `max_s` seconds, until no other Python process runs (they share a CPU benchmark's cores); at once for a GPU"
    if torch.device(device).type != 'cpu': return
    t = time.perf_counter()
    while others_running() and time.perf_counter() - t < max_s: time.sleep(5)


def least_spread(measure, device, tries: int = 3, max_spread: float = 0.3, wait_s: float = 120) -> tuple:
    "(result, spread, attempts) of `measure()` → (result, spread), repeated up to `tries` times while spread > `max_spread`, the least spread kept; on a CPU each try first waits for quiet"
    best = None
    for attempt in range(1, tries + 1):
        wait_quiet(wait_s, device)
        res, spread = measure()
        if best is None or spread < best[1]: best = (res, spread, attempt)
        if spread <= max_spread: break
    return best


def run_child(script, cfg: dict, what: str) -> dict:
    "Run `script --child <cfg as JSON>` in a fresh Python process and return the JSON its last line prints; exit naming `what` if it fails"
    r = subprocess.run([sys.executable, str(script), '--child', json.dumps(cfg)], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, 'PYTHONWARNINGS': 'ignore'})
    if r.returncode: print(r.stderr[-3000:]); raise SystemExit(f'{what} failed')
    return json.loads(r.stdout.strip().splitlines()[-1])


def stepper(model, x, y, dev, prec):
    "A function running one training step of `model` on (x, y): forward, loss (cross-entropy; the mean square when `y` is None), backward, SGD"
    import torch.nn.functional as F
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    dt = dict(bf16=torch.bfloat16, fp16=torch.float16).get(prec)
    scaler = torch.amp.GradScaler(dev) if prec == 'fp16' else None
    def step():
        with torch.autocast(dev, dtype=dt, enabled=dt is not None):
            out = model(x)
            loss = F.cross_entropy(out, y) if y is not None else out.float().square().mean()
        if scaler: scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        else: loss.backward(); opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def alternate(steps: list, dev, rounds: int, per_round: int, warmup: int = 2) -> list:
    "Run the step functions `steps` in alternation, `rounds` rounds of `per_round` calls each: per function (best round median, spread of the round medians, round medians)"
    for s in steps:
        for _ in range(warmup): s()
    meds = [[] for _ in steps]
    for _ in range(rounds):
        for s, m in zip(steps, meds):
            ts = []
            for _ in range(per_round):
                sync(dev); t = time.perf_counter(); s(); sync(dev); ts.append(time.perf_counter() - t)
            m.append(statistics.median(ts))
    return [(min(m), (max(m) - min(m)) / min(m), m) for m in meds]


def status_bytes(key: str) -> int:
    "A size in bytes from /proc/self/status (VmRSS: resident now, VmHWM: the peak since the last reset)"
    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith(key + ':'))
    return int(line.split()[1]) * 1024


def peak_memory(step, dev, steps: int = 2) -> int:
    "Peak bytes of `steps` calls of `step`: CUDA's max allocated, or on a CPU the peak resident set (VmHWM, reset first) above the resident set before them"
    if torch.device(dev).type == 'cuda': torch.cuda.reset_peak_memory_stats()
    else: rss0 = status_bytes('VmRSS'); Path('/proc/self/clear_refs').write_text('5')   # '5' resets VmHWM to the current resident set
    for _ in range(steps): step()
    sync(dev)
    return torch.cuda.max_memory_allocated() if torch.device(dev).type == 'cuda' else status_bytes('VmHWM') - rss0


def net_costs(m, x, y, px: int) -> dict:
    "What the floors of network `m` need: the bytes autograd holds after a forward pass on (x, y) (exact), its weights' bytes, parameters, MACs per image at `px`"
    import torch.nn.functional as F
    from igc_fast.complexity import count_macs
    from igc_fast.models import saved_bytes
    return dict(held=saved_bytes(lambda: F.cross_entropy(m(x), y)), weights=sum(p.numel() * p.element_size() for p in m.parameters()),
                params=sum(p.numel() for p in m.parameters()), macs=count_macs(m, px))


def floors(pk: dict, costs: dict, bs: int) -> tuple:
    "(compute, memory) floor in images/s of a network of `net_costs` trained at batch `bs`: peak FLOP/s ÷ 6·MACs; copy bandwidth ÷ 2·(held − weights)/bs"
    return pk['fp32'] / (6 * costs['macs']), pk['bw'] / (2 * (costs['held'] - costs['weights']) / bs)


def op_shares(step, dev, steps: int = 3, top: int = 8) -> list:
    "The `top` operators of `steps` calls of `step` by share of self time (device time on CUDA), from torch.profiler"
    from torch.profiler import profile, ProfilerActivity
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.device(dev).type == 'cuda' else [])
    with profile(activities=acts) as p:
        for _ in range(steps): step()
    ev = [(e.key, e.self_device_time_total if torch.device(dev).type == 'cuda' else e.self_cpu_time_total) for e in p.key_averages()]
    total = sum(t for _, t in ev)
    return sorted(((k, t / total) for k, t in ev), key=lambda kt: -kt[1])[:top]
