"""Layer-level benchmark: forward + backward time of one IGC layer in every implementation of `igc_fast.fast`
(`IMPLS`, what `'auto'` picks and what a `Tuner` picks) and in the baselines of `baselines.py`, against a dense k×k
convolution of the same width and one of the same parameter count, for the paper's layer shapes, with the fraction of
the machine's measured limits each reaches. The results file names the CPU (or GPU) it was measured on: on another
machine, run it again; "auto ÷ best" says how well the rule fits there.

Shapes: the stage layers of the CIFAR nets IGC-L24M2 and IGC-L4M8 (widths C, 2C, 4C at 32, 16, 8 px, L fixed, M
doubling) and of the ImageNet nets IGC-L16M16 and IGC-L100M2 (56, 28, 14, 7 px); square 3×3 layers, stride 1,
secondary groups M (the paper's block). Timed: y = layer(x); autograd.grad(y, [x, weights]) — a layer inside a network
needs the input gradient too. Each configuration times all its candidates round-robin (`--runs` rounds, `--runs` − 2
but at least 2 for the ImageNet shapes, whose dense baselines take seconds per call on a CPU; each round a calibrated
number of iterations ≥ ~0.1 s), after warm-up; we report the median per iteration and the spread (max − min) over
rounds. Before each configuration the script waits (up to 2 min) for other Python processes to end, and a configuration
whose spread (max − min over median, any candidate) exceeds 30% is measured again, up to 3 times, keeping the
attempt with the smallest spread: the machine is shared. Limits, measured once: peak FLOP/s = the faster of a large
matmul and a large dense convolution per dtype, bandwidth = a large tensor copy (bytes read + written). For a layer, %FLOP = useful FLOPs (3 × 2 × the block's multiply-accumulates: forward, input gradient,
weight gradient) / time / peak (the faster of a large matmul and a large dense conv); %BW = the minimal traffic of the block as one operator (read x, write y; read dy and
x, write dx: 3|x| + 2|y| elements) / time / bandwidth.

The grid on a CPU is trimmed to about 10 minutes: CIFAR shapes at batch 64 in both memory formats and fp32 / bf16;
ImageNet shapes at batch 64 channels_last fp32 (NCHW and bf16 too at 7 px), and at batch 256 (2 rounds) for the 7 px layers;
`torch.compile` for the target case only. Two companion grids write files of their own, about 2 minutes each:
`--grid batch256` the CIFAR shapes at batch 256 (channels_last, fp32 and bf16, NCHW too for the target layer; `--runs` − 2
rounds) into `layers_cpu_b256.md`, and `--grid compile` the CIFAR shapes at batch 64 in channels_last, fp32 and bf16,
eager against `torch.compile`, for the reference order and the two dense-1×1 forms, into `layers_cpu_compile.md`.
On CUDA (`--device cuda`) fp16 joins and the full grid is the same shapes with batch 64 and 256 everywhere, compile
for the CIFAR shapes; `--grid quick` there is every shape once, at its training batch (CIFAR 64, ImageNet 256),
channels_last bf16, eager.

Usage: python benchmarks/bench_layers.py [--device cpu|cuda] [--runs 5] [--grid full|quick|target|batch256|compile] [--out FILE]
"""
import argparse, json, math, os, platform, statistics, subprocess, sys, time, warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from common import DTYPES, REPO, ROOT_ENV, code_state, hardware, least_spread, sync
from igc_fast.core import igc_params
from igc_fast.fast import IMPLS, Tuner, auto_impl, igc_apply, keep_freed_memory
from igc_fast.layers import IGC
from baselines import BASELINES, check as check_baselines

CL, NCHW = torch.channels_last, torch.contiguous_format
FMT = {CL: 'channels_last', NCHW: 'NCHW'}
TARGET = ('CIFAR L24M2', 48, 24, 32)   # family, width G, L, px: the CIFAR layer of the README's speed figures
COMPANIONS = {  # grids written to a file of their own: file suffix, title, what they hold
    'batch256': ('_b256', 'batch 256', 'at batch 256'),
    'compile': ('_compile', 'eager and torch.compile', 'batch 64, channels_last, eager against torch.compile')}


def time_round_robin(cands: dict, runs: int, device: str, target_s: float = 0.1) -> dict:
    "{name: fn} → {name: [seconds per iteration, one value per round]}: warm-up, calibrate, then `runs` interleaved rounds"
    iters = {}
    for k, f in cands.items():
        t = time.perf_counter(); f(); sync(device)
        if time.perf_counter() - t > 5 * target_s: iters[k] = 1; continue   # slow: one warm-up call is enough
        f(); sync(device)
        t = time.perf_counter(); f(); sync(device)
        iters[k] = max(1, min(50, round(target_s / max(time.perf_counter() - t, 1e-6))))
    res = {k: [] for k in cands}
    for _ in range(runs):
        for k, f in cands.items():
            sync(device); t = time.perf_counter()
            for _ in range(iters[k]): f()
            sync(device)
            res[k].append((time.perf_counter() - t) / iters[k])
    return res


def peaks(device, dtypes, runs):
    "Peak FLOP/s per dtype (the faster of a square matmul and a dense 3×3 conv) and copy bandwidth in bytes/s (read + write)"
    n = 4096 if device == 'cuda' else 2048
    out = {}
    for name in dtypes:
        kw = dict(device=device, dtype=DTYPES[name])
        a, b = torch.randn(n, n, **kw), torch.randn(n, n, **kw)
        x = torch.randn(16, 256, 28, 28, **kw).contiguous(memory_format=CL)
        w = torch.randn(256, 256, 3, 3, **kw).contiguous(memory_format=CL)
        t = time_round_robin({'mm': lambda: a @ b, 'conv': lambda: F.conv2d(x, w, None, 1, 1)}, runs, device, 0.3)
        out[name] = max(2 * n ** 3 / min(t['mm']), 2 * 256 * 256 * 9 * 28 * 28 * 16 / min(t['conv']))
    m = (1 << 30 if device == 'cuda' else 256 << 20) // 4
    src, dst = torch.empty(m, device=device), torch.empty(m, device=device)
    t = time_round_robin({'copy': lambda: dst.copy_(src)}, runs, device, 0.3)['copy']
    out['bw'] = 2 * 4 * m / min(t)
    return out


def measure(cands, runs, device):
    "`time_round_robin` under `least_spread`: re-measured while any candidate's spread exceeds 30%"
    def once():
        res = time_round_robin(cands, runs, device)
        return res, max((max(v) - min(v)) / statistics.median(v) for v in res.values())
    return least_spread(once, device)


def candidates(N, G, L, px, dtype, fmt, device, impls, compile_=False):
    "Closures timing forward+backward of each IGC implementation and of the two dense baselines; their useful MACs"
    M, k = G // L, 3
    T = igc_params(L, M, k * k)                        # the block's weights (paper §3), also its MACs per pixel
    C = max(1, round(math.sqrt(T / (k * k))))          # dense conv with (about) the same weights
    g = torch.Generator().manual_seed(0)
    def t(*shape, scale=1.):
        return (torch.randn(*shape, generator=g) * scale).to(device, DTYPES[dtype]).contiguous(memory_format=fmt)
    x, xs = t(N, G, px, px), t(N, C, px, px)
    x.requires_grad_(True); xs.requires_grad_(True)
    wp, wd = t(G, M, k, k, scale=(2 / (M * 9)) ** .5), t(G, L, 1, 1, scale=(2 / L) ** .5)
    wg, ws = t(G, G, k, k, scale=(2 / (G * 9)) ** .5), t(C, C, k, k, scale=(2 / (C * 9)) ** .5)
    for w in (wp, wd, wg, ws): w.requires_grad_(True)
    gy, gys = torch.ones_like(x), torch.ones_like(xs)
    def step(f, inputs, gout):
        return lambda: torch.autograd.grad(f(*inputs), inputs, gout)
    conv = lambda x, w: F.conv2d(x, w, None, 1, 1)
    if compile_: conv = torch.compile(conv, dynamic=False)
    cands = {f'dense {G}ch (same width)': step(conv, (x, wg), gy), f'dense {C}ch (same weights)': step(conv, (xs, ws), gys)}
    macs = {f'dense {G}ch (same width)': G * G * 9 * px * px * N, f'dense {C}ch (same weights)': C * C * 9 * px * px * N}
    igc_macs = T * px * px * N
    picked = auto_impl(x, G, G, L, M)
    for name in impls:
        f = (lambda x, wp, wd, _n=name: igc_apply(x, wp, wd, L, M, impl=_n)) if name in IMPLS else \
            (lambda x, wp, wd, _n=name: BASELINES[_n](x, wp, wd, L, M))
        if compile_: f = torch.compile(f, dynamic=False)
        cands[name] = step(f, (x, wp, wd), gy)
        macs[name] = igc_macs
    if not compile_:
        cands[f'auto → {picked}'] = step(lambda x, wp, wd: igc_apply(x, wp, wd, L, M, impl=picked), (x, wp, wd), gy)
        macs[f'auto → {picked}'] = igc_macs
    act_bytes = (3 + 2) * N * G * px * px * x.element_size()   # x and y have the same size here
    tuned = None
    if not compile_:
        layer = IGC(G, G, L=L, M=M).to(device, DTYPES[dtype])
        with torch.no_grad(): layer.primary.weight.copy_(wp); layer.secondary.weight.copy_(wd)
        tuned = Tuner().choose(x, layer)
    return cands, macs, act_bytes, picked, C, tuned


def grid(device, kind, runs):
    "(family, G, L, px, batch, dtypes, formats, impls, compile, runs) rows"
    cifar = [('CIFAR L24M2', 48 * 2 ** s, 24, 32 >> s) for s in range(3)] + [('CIFAR L4M8', 32 * 2 ** s, 4, 32 >> s) for s in range(3)]
    imnet = [('ImageNet L16M16', 256 * 2 ** s, 16, 56 >> s) for s in range(4)] + \
            [('ImageNet L100M2', 200 * 2 ** s, 100 * 2 ** s, 56 >> s) for s in range(4)]
    all_impls = list(IMPLS) + list(BASELINES)
    def imp(G, L):  # the folded dense baseline costs a full dense conv: only where that is small; depthwise only for M ≤ 2
        return [n for n in all_impls if (not n.startswith('depthwise') or G // L <= 2) and (n != 'dense' or G <= 512)
                and (n not in ('view', 'index') or G <= 512) and not (device == 'cuda' and 'kernel' in n)]   # CPU kernels
    t, few = TARGET, max(2, runs - 2)   # the ImageNet rows' dense baselines take seconds per call on a CPU
    target = [(t[0], t[1], t[2], t[3], 64, ('fp32', 'bf16'), (NCHW, CL), all_impls, False, runs),
              (t[0], t[1], t[2], t[3], 64, ('fp32',), (CL, NCHW), ['reference', 'dense1x1', 'depthwise'], True, runs)]
    if kind == 'target': return target
    if kind == 'batch256':   # the CIFAR shapes at batch 256; NCHW only for the target layer
        return [(f, G, L, px, 256, ('fp32', 'bf16'), (CL, NCHW) if (f, G, L, px) == t else (CL,), imp(G, L), False, few)
                for f, G, L, px in cifar]
    if kind == 'compile':
        return [(f, G, L, px, 64, ('fp32', 'bf16'), (CL,), [n for n in ('reference', 'dense1x1', 'depthwise') if n in imp(G, L)], c, runs)
                for f, G, L, px in cifar for c in (False, True)]
    if device == 'cuda' and kind == 'quick':   # every shape at its training batch, channels_last bf16, eager
        return [(f, G, L, px, 256 if f.startswith('ImageNet') else 64, ('bf16',), (CL,), imp(G, L), False, runs) for f, G, L, px in cifar + imnet]
    if device == 'cuda':
        rows = [(f, G, L, px, bs, ('fp32', 'bf16', 'fp16'), (NCHW, CL), imp(G, L), False, runs)
                for f, G, L, px in cifar + imnet for bs in (64, 256)]
        return rows + [(f, G, L, px, 64, ('bf16',), (CL,), imp(G, L), True, runs) for f, G, L, px in cifar]
    if kind == 'quick':
        return [(f, G, L, px, 64, ('fp32',), (CL,), imp(G, L), False, runs) for f, G, L, px in cifar] + target[1:]
    rows = [(f, G, L, px, 64, ('fp32', 'bf16'), (NCHW, CL), imp(G, L), False, runs) for f, G, L, px in cifar if (G, L) != t[1:3]]
    rows = target[:1] + rows
    for f, G, L, px in imnet:
        impls = ['reference', 'dense1x1'] + ['depthwise', 'depthwise_shuffle'] * (G // L <= 2)
        rows.append((f, G, L, px, 64, ('fp32', 'bf16') if px == 7 else ('fp32',), (CL, NCHW) if px == 7 else (CL,),
                     impls, False, few))
        if px == 7: rows.append((f, G, L, px, 256, ('fp32',), (CL,), impls, False, 2))
    return rows + target[1:]


def fmt_ms(ts):
    med = statistics.median(ts)
    return f'{med * 1e3:.2f} (±{50 * (max(ts) - min(ts)) / med:.0f}%)'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--grid', default='full', choices=['full', 'quick', 'target', *COMPANIONS])
    ap.add_argument('--out', default=None, help='markdown file (default benchmarks/results/layers_{device}.md; --grid quick / '
                                                'target / batch256 / compile: layers_{device}_quick.md / _target.md / _b256.md / _compile.md)')
    ap.add_argument('--malloc', default='keep', choices=['keep', 'default'],
                    help="'keep': igc_fast.fast.keep_freed_memory() first (CPU tensors reuse freed memory); 'default': glibc as it comes")
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.malloc == 'keep': keep_freed_memory()
    if args.child: return child_target(args)
    check_baselines()
    if args.device == 'cuda' and not torch.cuda.is_available(): raise SystemExit('no CUDA device: run with --device cpu')
    warnings.filterwarnings('ignore')
    suffix = {'full': '', 'quick': '_quick', 'target': '_target', **{g: c[0] for g, c in COMPANIONS.items()}}[args.grid]
    out = Path(args.out or REPO/'benchmarks'/'results'/f'layers_{args.device}{suffix}.md')
    t0, load0 = time.perf_counter(), os.getloadavg()
    dtypes = ('fp32', 'bf16', 'fp16') if args.device == 'cuda' else ('fp32', 'bf16')
    pk = peaks(args.device, dtypes, args.runs)
    print('peaks:', {k: f'{v / 1e9:.1f} G' for k, v in pk.items()}, flush=True)

    rows = []
    for fam, G, L, px, bs, dts, fmts, impls, comp, runs in grid(args.device, args.grid, args.runs):
        for dt in dts:
            for fm in fmts:
                tc = time.perf_counter()
                cands, macs, nbytes, picked, C, tuned = candidates(bs, G, L, px, dt, fm, args.device, impls, comp)
                res, spread, attempts = measure(cands, runs, args.device)
                dense = statistics.median(res[f'dense {G}ch (same width)'])
                mode = 'compile' if comp else 'eager'
                print(f'{fam} G={G} L={L} M={G // L} {px}px b{bs} {dt} {FMT[fm]} {mode} ({time.perf_counter() - tc:.0f}s, {time.perf_counter() - t0:.0f}s total, '
                      f'{attempts} attempt{"s" * (attempts > 1)}, spread {100 * spread:.0f}%)', flush=True)
                for name, ts in res.items():
                    med = statistics.median(ts)
                    flops = 6 * macs[name] / med
                    row = dict(fam=fam, G=G, L=L, M=G // L, px=px, bs=bs, dt=dt, fmt=FMT[fm], mode=mode, name=name, ts=ts,
                               ratio=med / dense, runs=runs, attempts=attempts, pflop=flops / pk[dt], pbw=(nbytes / med / pk['bw'] if not name.startswith('dense ') else None),
                               picked=picked, tuned=tuned, C=C)
                    rows.append(row)
                    print(f'    {name:28s} {fmt_ms(ts):>18} ms  ×dense {row["ratio"]:.2f}  FLOP {100 * row["pflop"]:5.1f}%'
                          + (f'  BW {100 * row["pbw"]:5.1f}%' if row['pbw'] is not None else ''), flush=True)
    other = None
    if args.device == 'cpu' and args.malloc == 'keep' and args.grid not in COMPANIONS:  # the target case again, allocator as it comes
        r = subprocess.run([sys.executable, __file__, '--child', '--malloc', 'default', '--runs', str(args.runs)],
                           capture_output=True, text=True, env={**os.environ, ROOT_ENV: str(os.getpid())})
        other = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None
        print('default malloc:', other, flush=True)
    wall, load1 = time.perf_counter() - t0, os.getloadavg()
    write(out, args, pk, rows, wall, load0, load1, other)
    print(f'wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out} ({wall:.0f} s)')


def child_target(args):
    "The target case, fp32 channels_last eager, in this process's allocator setting: print {candidate: median ms} as JSON"
    t = TARGET
    cands, *_ = candidates(64, t[1], t[2], t[3], 'fp32', CL, 'cpu', ['reference', 'dense1x1', 'depthwise'])
    res, spread, attempts = measure(cands, args.runs, 'cpu')
    print(json.dumps({k: statistics.median(v) * 1e3 for k, v in res.items()}))


def write(out, args, pk, rows, wall, load0, load1, other=None):
    dev = args.device
    comp = COMPANIONS.get(args.grid)
    rounds = {'batch256': max(2, args.runs - 2), 'compile': args.runs}.get(args.grid, f'{args.runs}; ImageNet shapes {max(2, args.runs - 2)}')
    L = ['# IGC layer: implementations against dense convolution, ' + ('CPU' if dev == 'cpu' else 'GPU') + (f', {comp[1]}' if comp else ''), '',
         f'Produced by `python benchmarks/bench_layers.py --device {dev} --runs {args.runs} --grid {args.grid}` on '
         f'{time.strftime("%Y-%m-%d %H:%M")}, from the repository root.', '',
         f'- hardware: {hardware(dev)}' + ('; **no GPU run was made** (this machine has no CUDA device; the script supports `--device cuda`, results would go to `layers_cuda.md`)' if dev == 'cpu' else ''),
         f'- software: Python {platform.python_version()}, torch {torch.__version__}; code: {code_state()}',
         '- memory: ' + ('`igc_fast.fast.keep_freed_memory()` first (glibc keeps freed blocks for reuse instead of unmapping them'
                         + ('' if comp else '; the target case without it follows the target table') + ')' if args.malloc == 'keep' else 'glibc malloc as it comes'),
         f'- measured limits (best of {args.runs} rounds): compute peak (the faster of a 2048² matmul and a 3×3 conv, 256 channels, 28×28, batch 16) ' + ', '.join(f'{k} {v / 1e9:.0f} GFLOP/s' for k, v in pk.items() if k != 'bw')
         + f'; copy bandwidth {pk["bw"] / 1e9:.1f} GB/s (read + written)',
         f'- 1-minute load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end (a shared machine: other jobs may have run); total wall time {wall:.0f} s',
         f'- each cell: median time of one forward + backward (input and weight gradients) over the row\'s interleaved rounds ({rounds}), '
         '(±: half the max − min spread over rounds, in % of the median); ×dense: ÷ the dense 3×3 conv of the same width, same batch, dtype and memory format',
         '- %FLOP: the IGC block\'s useful FLOPs (its grouped multiply-accumulates × 2 × 3) / time / compute peak of that dtype; '
         '%BW: minimal bytes (3|x| + 2|y|) / time / copy bandwidth; bf16 rows are pure bf16 tensors and weights', '']
    if comp: L.append(f'The CIFAR layer shapes, {comp[2]}: a companion of `layers_{dev}.md` (with the targets and the notes).')
    else: L += ['## Target case: IGC-L24M2 layer, 48 channels, 32×32, batch 64', '',
                '| dtype | format | mode | implementation | ms | ×dense same width | %FLOP | %BW |', '| --- | --- | --- | --- | ---: | ---: | ---: | ---: |']
    tgt = [r for r in rows if (r['fam'], r['G'], r['L'], r['px'], r['bs']) == TARGET + (64,)] if not comp else []
    for r in tgt:
        bw = '' if r['pbw'] is None else f'{100 * r["pbw"]:.1f}'
        L.append(f'| {r["dt"]} | {r["fmt"]} | {r["mode"]} | {r["name"]} | {fmt_ms(r["ts"])} | {r["ratio"]:.2f} | '
                 f'{100 * r["pflop"]:.1f} | {bw} |')
    if other:
        d = other[f'dense {TARGET[1]}ch (same width)']
        L += ['', 'The same case, fp32 channels_last eager, in a fresh process **without** `keep_freed_memory()` (glibc as it comes): '
              + ', '.join(f'{k} {v:.1f} ms ({v / d:.2f}×)' for k, v in other.items() if 'weights' not in k) + '.']
    L += ['', '## Grid', '',
          'One row per layer shape and setting; IGC columns are milliseconds (±spread) and ×dense same width in brackets. '
          '"best" is the fastest of the row\'s implementations and baselines, "auto" what `auto_impl` picked, "tune" what a '
          '`Tuner` picked after timing the implementations itself (its own, shorter measurement).', '']
    keys = []
    for r in rows:
        k = (r['fam'], r['G'], r['L'], r['px'], r['bs'], r['dt'], r['fmt'], r['mode'])
        if k not in keys: keys.append(k)
    impl_cols = [n for n in [*IMPLS, *BASELINES] if any(r['name'] == n for r in rows)]
    L += ['| layer | batch | dtype | format | mode | dense same width | dense same weights | ' + ' | '.join(f'{n} (baseline)' if n in BASELINES else n for n in impl_cols)
          + ' | best | auto | auto ÷ best | auto ×dense | auto %FLOP | auto %BW | tune | tune ÷ best |',
          '| --- | ---: | --- | --- | --- | ---: | ---: | ' + ' | '.join('---:' for _ in impl_cols) + ' | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |']
    for k in keys:
        rs = {r['name']: r for r in rows if (r['fam'], r['G'], r['L'], r['px'], r['bs'], r['dt'], r['fmt'], r['mode']) == k}
        r0 = next(iter(rs.values()))
        dw = next(r for n, r in rs.items() if n.endswith('(same width)'))
        dp = next(r for n, r in rs.items() if n.endswith('(same weights)'))
        cells = [f'{fmt_ms(rs[n]["ts"])} [{rs[n]["ratio"]:.2f}]' if n in rs else '–' for n in impl_cols]
        best = min((n for n in impl_cols if n in rs), key=lambda n: statistics.median(rs[n]['ts']))
        au = next((r for n, r in rs.items() if n.startswith('auto')), None)
        L.append(f'| {k[0]} G={k[1]} L={k[2]} M={k[1] // k[2]} {k[3]}px | {k[4]} | {k[5]} | {k[6]} | {k[7]} | {fmt_ms(dw["ts"])} | '
                 f'{fmt_ms(dp["ts"])} ({dp["C"]}ch) | ' + ' | '.join(cells) + f' | {best} | {r0["picked"] if au else "–"} | '
                 + (f'{statistics.median(au["ts"]) / statistics.median(rs[best]["ts"]):.2f} | {au["ratio"]:.2f} | '
                    f'{100 * au["pflop"]:.1f} | {100 * au["pbw"]:.1f} |' if au else '– | – | – | – |')
                 + (f' {r0["tuned"]} | {statistics.median(rs[r0["tuned"]]["ts"]) / statistics.median(rs[best]["ts"]):.2f} |'
                    if r0['tuned'] in rs else ' – | – |'))
    if not comp: L += ['', *targets(dev, rows), '', NOTES.get(dev, '')]
    L.append('')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(L))


LAYER_TARGETS = (0.7, 0.35)   # the IGC-L24M2 layer's time ÷ the dense conv's: the first target, then the second


def targets(dev, rows):
    "The layer targets, met or missed, from the target case's rows"
    tgt = [r for r in rows if (r['fam'], r['G'], r['L'], r['px'], r['bs']) == TARGET + (64,)]
    def med(r): return statistics.median(r['ts'])
    def pick(dt, fmt, mode, pred):
        return [r for r in tgt if r['dt'] == dt and r['fmt'] == fmt and r['mode'] == mode and pred(r['name'])]
    L = ['## Targets', '']
    if dev == 'cpu':
        L.append('**CPU, 2 threads, batch 64, 32×32, 48 channels: IGC-L24M2 layer forward + backward ≤ 0.7× the dense 3×3 '
                 'convolution of the same width; the second target ≤ 0.35×.**')
        L.append('')
        for dt in ('fp32', 'bf16'):
            for fmt in ('channels_last', 'NCHW'):
                for mode in ('eager', 'compile'):
                    dense = pick(dt, fmt, mode, lambda n: n.endswith('(same width)'))
                    igc = pick(dt, fmt, mode, lambda n: not n.startswith('dense '))
                    if not dense or not igc: continue
                    best = min(igc, key=med)
                    auto = next((r for r in igc if r['name'].startswith('auto')), None)
                    ref = next(r for r in igc if r['name'] == 'reference')
                    both = [r for r in tgt if r['dt'] == dt and r['mode'] == mode and r['name'].endswith('(same width)')]
                    fastest_dense = min(both, key=med)
                    shown = auto or best
                    ratio = med(shown) / med(dense[0])
                    L.append(f'- {dt}, {fmt}, {mode}: ' + '; '.join(f'≤ {t}×: ' + ('met' if ratio <= t else f'missed by {ratio / t:.2f}×')
                                                                   for t in LAYER_TARGETS) + ' — '
                             + (f'`auto` ({shown["picked"]}) ' if auto else f'fastest ({best["name"]}) ')
                             + f'{med(shown) * 1e3:.1f} ms = {med(shown) / med(dense[0]):.2f}× the dense conv '
                             f'({med(dense[0]) * 1e3:.1f} ms; {med(shown) / med(fastest_dense):.2f}× the faster dense format, '
                             f'{fastest_dense["fmt"]}); the reference order {med(ref) / med(dense[0]):.2f}×'
                             + (f'; fastest implementation {best["name"]} {med(best) / med(dense[0]):.2f}×' if auto and best['name'] not in (auto['name'], auto['picked']) else ''))
        L += ['', '**GPU (bf16, channels_last): IGC layers ≥ 50% of the memory-bandwidth limit** — not measured: no GPU run was '
              'made (`python benchmarks/bench_layers.py --device cuda` measures it; the %BW column is the figure to read).']
    else:
        for r in tgt:
            if r['dt'] == 'bf16' and r['fmt'] == 'channels_last' and r['name'].startswith('auto'):
                L.append(f'- GPU bf16 channels_last: `auto` ({r["picked"]}) reaches {100 * r["pbw"]:.0f}% of the bandwidth limit: '
                         f'{"met" if r["pbw"] >= 0.5 else "missed"} (target ≥ 50%)')
    return L


NOTES = {'cpu': """## Reading

- **Where the reference order's time goes.** Compare its %FLOP and %BW with the dense convolution's: at small channel
  counts the literal order is bound by neither the compute peak nor the bandwidth, but by kernels that are poor at a
  few channels per group (the grouped 3×3 primary) and by the two shuffles, gathers of short runs.
- **What the other implementations change.** `depthwise` and `depthwise_shuffle` compute the primary as depthwise
  convolutions of rolled inputs (fast kernels, one roll and add per extra channel of a group); `dense1x1` and
  `depthwise` compute the secondary and both shuffles as one dense 1×1 GEMM, which pays while its extra
  multiply-accumulates (G(1 − 1/M) per element) cost less than the two shuffle passes. The baselines show what no
  implementation does: other shuffle kernels (`view`, `index`) and the fully folded dense convolution (`dense`).
- **The rule on this machine.** "auto ÷ best" is how far `auto_impl`'s pick is from the fastest of the row here; the
  rule's thresholds were read off one CPU, so on another this column says whether they still fit, and "tune" what a
  `Tuner` would pick instead. Cells move from run to run on a shared machine (compare the ± spreads): read a ratio
  within the spread as a tie.
- **Memory.** With glibc's default thresholds every large freed block goes back to the system and the next step faults
  it in again; `keep_freed_memory()` (used for every row above unless the header says otherwise, and by `igc_train` on
  a CPU) avoids that. The sentence under the target table gives the target case without it.
"""}

if __name__ == '__main__': main()
