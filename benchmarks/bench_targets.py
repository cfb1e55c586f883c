"""The IGC networks against the regular networks they replace, target by target: training images/s (IGC ÷ regular,
fp32 and bf16 autocast, channels_last, CIFAR batch 64 and 256), peak training memory with and without gradient
checkpointing, where every network stands against its compute and memory floors, how much fusing could buy at most,
and a profile of a training step.

Pairs (IGC, regular): `resnet_igc` d20 L24M2 against `resnet` d20 C16 (ResNet-20); `plain_igc` d38 L24M2 against
`plain` d38 C16; `igc_resnet18_l100m2` against torchvision's ResNet-18 (ImageNet layout, 1000 classes; on a CPU at
`--imagenet-batch` and `--imagenet-px`, default 16 at 112×112).

Timing: the two networks of a pair live in one process and alternate, `--rounds` rounds of `--steps` training steps
each (forward, cross-entropy, backward, SGD with Nesterov momentum on random data); per network the median step of
each round, then the best round, and the spread (slowest − fastest round median) / fastest. This machine stalls
single steps for seconds; alternating makes a stall hit either side alike.

Memory (fp32, the timing batch): a fresh process per network; the peak resident set over two steps above the resident
set before them (VmHWM, reset through /proc/self/clear_refs; `torch.cuda.max_memory_allocated` on CUDA), which counts
what the allocator keeps as well as live tensors, under both settings of `igc_fast.fast.ALLOCATORS`
(`keep_freed_memory`: freed blocks up to 1 GiB kept for reuse, as `igc_train` runs by default, or only up to 1 MiB, as
`igc_train --allocator lean` runs); and `saved_bytes`, the bytes autograd holds after the forward pass, which is exact
and the same on every machine. The checkpointed IGC network is also timed against the regular one under the lean
setting, in a process of their own (the allocator is process-wide).

Floors: compute floor = peak FLOP/s (`bench_layers.peaks`: the faster of a square matmul and a large dense conv) ÷
(6 × the forward multiply-accumulates per image: forward, input gradient and weight gradient, 2 FLOPs each); memory
floor = copy bandwidth ÷ (2 × the activation bytes autograd holds per image, less the weights: each written once
forward and read once backward). Neither floor counts what the other costs, so a network can reach at most the lower.

Bounds: the IGC network of the first pair with parts made free (BatchNorm and ReLU removed) or cheaper than exact
(each square primary as a single depthwise pass), timed against the network as it is and ResNet-20: what fused
kernels could gain at most. These variants compute wrong numbers; only their time is read.

`--impl` sets the IGC layers' implementation (default `auto`; another writes `targets_{device}_{impl}.md`).

Usage: python benchmarks/bench_targets.py [--device cpu|cuda] [--rounds 5] [--steps 3] [--impl auto] [--out FILE]
"""
import argparse, json, os, platform, time, warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from common import REPO, alternate, code_state, floors, hardware, net_costs, op_shares, peak_memory, run_child, stepper, wait_quiet

PAIRS = [  # (IGC network, regular network, group): (name, label, constructor arguments)
    (('resnet_igc', 'IGC-L24M2 resnet_igc d20', dict(depth=20, L=24, M=2)), ('resnet', 'ResNet-20 C16', dict(depth=20, C=16)), 'cifar'),
    (('plain_igc', 'IGC-L24M2 plain_igc d38', dict(depth=38, L=24, M=2)), ('plain', 'plain d38 C16', dict(depth=38, C=16)), 'cifar'),
    (('igc_resnet18_l100m2', 'IGC-L100M2 ResNet-18', {}), ('torchvision.resnet18', 'ResNet-18 (torchvision)', {}), 'imagenet'),
]
CL = torch.channels_last


def setup(side, dev):
    "(model, x, y) of `side` = dict(name, kw, bs, px, classes, ckpt), channels_last on `dev`"
    torch.manual_seed(0)
    if side['name'] == 'torchvision.resnet18':
        import torchvision
        m = torchvision.models.resnet18(num_classes=side['classes'])
    else:
        from igc_fast.models import get_model
        m = get_model(side['name'], num_classes=side['classes'], **side['kw'])
        m.set_grad_checkpointing(side.get('ckpt', False))
        from igc_fast.layers import IGC
        for mod in m.modules():
            if isinstance(mod, IGC): mod.impl = side.get('impl', 'auto')
    m = m.to(dev).to(memory_format=CL)
    x = torch.randn(side['bs'], 3, side['px'], side['px'], device=dev).contiguous(memory_format=CL)
    return m, x, torch.randint(0, side['classes'], (side['bs'],), device=dev)


def time_sides(sides, dev, prec, rounds, steps) -> list:
    "Training steps of the networks `sides` alternated in this process: per side (best round median, spread, round medians)"
    return alternate([stepper(*setup(s, dev), dev, prec) for s in sides], dev, rounds, steps)


class OneDepthwise(torch.nn.Module):
    "A timing stand-in for a square IGC layer's primary convolution: one depthwise 3×3 pass (wrong numbers on purpose)"
    def __init__(self, p):
        super().__init__()
        self.stride, self.weight = p.stride, torch.nn.Parameter(p.weight[:, :1].detach().clone())
    def forward(self, x, form=None): return F.conv2d(x, self.weight, None, self.stride, 1, 1, x.shape[1])


def ablated(model, parts):
    "`model` with `parts` made free or cheap, for a timing bound only: 'bn_relu' removes every BatchNorm and ReLU, 'primary' makes each square IGC primary one depthwise pass"
    from igc_fast.layers import IGC
    for mod in list(model.modules()):
        for n, c in list(mod.named_children()):
            if 'bn_relu' in parts and isinstance(c, (torch.nn.BatchNorm2d, torch.nn.ReLU)): setattr(mod, n, torch.nn.Identity())
            if 'primary' in parts and isinstance(c, IGC) and c.ni == c.nf:
                c.primary = OneDepthwise(c.primary)
                if c.impl == 'fused': c.impl = 'kernels'   # the fused pass would not call the stand-in
    return model


def ablated_step(side, parts, dev):
    "A training step (fp32) of the network of `side` with `parts` ablated"
    m, x, y = setup(side, dev)
    return stepper(ablated(m, parts), x, y, dev, 'fp32')


ABLATIONS = [('as it is', ()), ('primary as one depthwise pass', ('primary',)), ('no BatchNorm, no ReLU', ('bn_relu',)),
             ('both', ('primary', 'bn_relu'))]


def child(cfg):
    "In a fresh process with the allocator setting cfg['allocator'], printed as one JSON line: the alternated timing of cfg['pair'], or peak memory, autograd-held bytes, weights and MACs of cfg['side']"
    from igc_fast.fast import ALLOCATORS, keep_freed_memory
    keep_freed_memory(ALLOCATORS[cfg['allocator']])
    dev = cfg['device']
    if 'pair' in cfg:
        res = time_sides(cfg['pair'], dev, cfg['prec'], cfg['rounds'], cfg['steps'])
        return print(json.dumps([r[:2] for r in res]))
    side = cfg['side']
    m, x, y = setup(side, dev)
    peak = peak_memory(stepper(m, x, y, dev, 'fp32'), dev)
    print(json.dumps(dict(peak=peak, **net_costs(m, x, y, side['px']))))


def memory(side, dev, allocator): return run_child(__file__, dict(side=side, device=dev, allocator=allocator), side['name'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--steps', type=int, default=3, help='training steps per network per round')
    ap.add_argument('--imagenet-batch', type=int, default=None, help='default 16 on a CPU, 256 on CUDA')
    ap.add_argument('--imagenet-px', type=int, default=None, help='default 112 on a CPU, 224 on CUDA')
    ap.add_argument('--impl', default='auto', help="the IGC layers' implementation: a choice of igc_fast.fast.CHOICES or a name of IMPLS")
    ap.add_argument('--out', default=None, help='markdown file (default benchmarks/results/targets_{device}.md, targets_{device}_{impl}.md for another --impl)')
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    if args.child: return child(json.loads(args.child))
    if args.device == 'cuda' and not torch.cuda.is_available(): raise SystemExit('no CUDA device: run with --device cpu')
    from igc_fast.fast import CHOICES, IMPLS, keep_freed_memory
    if args.impl not in (*CHOICES, *IMPLS): raise SystemExit(f"--impl {args.impl}: choose one of {', '.join((*CHOICES, *IMPLS))}")
    from bench_layers import peaks
    keep_freed_memory()
    dev, cpu = args.device, args.device == 'cpu'
    ib, ipx = args.imagenet_batch or (16 if cpu else 256), args.imagenet_px or (112 if cpu else 224)
    precs = ('fp32', 'bf16') if cpu else ('fp32', 'bf16', 'fp16')
    out = Path(args.out or REPO/'benchmarks'/'results'/f"targets_{dev}{'' if args.impl == 'auto' else '_' + args.impl}.md")
    wait_quiet(device=dev)
    t0, load0 = time.perf_counter(), os.getloadavg()
    pk = peaks(dev, ['fp32'], 5)
    shapes = {'cifar': [(64, 32, 10), (256, 32, 10)], 'imagenet': [(ib, ipx, 1000)]}
    speed, mem = [], []
    for pair, (igc, reg, group) in enumerate(PAIRS):
        for bs, px, classes in shapes[group]:
            sides = [dict(name=n, kw=kw, bs=bs, px=px, classes=classes, impl=args.impl) for n, _, kw in (igc, reg)]
            variants = [(prec, False) for prec in precs] + ([('fp32', True)] if bs == shapes[group][0][0] else [])
            for prec, ckpt in variants:   # the last: the IGC network with gradient checkpointing, fp32
                a = dict(sides[0], ckpt=ckpt)
                (ta, sa, _), (tb, sb, _) = time_sides([a, sides[1]], dev, prec, args.rounds, args.steps)
                speed.append(dict(igc=igc[1], reg=reg[1], bs=bs, px=px, prec=prec, ckpt=ckpt, lean=False, a=bs / ta, sa=sa, b=bs / tb, sb=sb))
                print(f"{igc[1]} {'(checkpointed) ' if ckpt else ''}vs {reg[1]}, batch {bs}, {prec}: {bs / ta:.1f} vs {bs / tb:.1f} img/s "
                      f"(×{tb / ta:.2f}) ({time.perf_counter() - t0:.0f}s)", flush=True)
            if not cpu or bs != shapes[group][0][0]: continue   # the allocator settings are glibc's: CPU tensors only
            (ta, sa), (tb, sb) = run_child(__file__, dict(pair=[dict(sides[0], ckpt=True), sides[1]], device=dev, allocator='lean',
                                                          prec='fp32', rounds=args.rounds, steps=args.steps), igc[0])
            speed.append(dict(igc=igc[1], reg=reg[1], bs=bs, px=px, prec='fp32', ckpt=True, lean=True, a=bs / ta, sa=sa, b=bs / tb, sb=sb))
            print(f"{igc[1]} (checkpointed, lean allocator) vs {reg[1]}, batch {bs}: {bs / ta:.1f} vs {bs / tb:.1f} img/s", flush=True)
        bs, px, classes = shapes[group][0]
        for (name, label, kw), ckpt in ((igc, False), (igc, True), (reg, False)):
            side = dict(name=name, kw=kw, bs=bs, px=px, classes=classes, ckpt=ckpt, impl=args.impl)
            r = memory(side, dev, 'keep')
            r['lean'] = memory(side, dev, 'lean')['peak'] if cpu else None
            mem.append(dict(label=label, pair=pair, regular=name == reg[0], bs=bs, px=px, ckpt=ckpt, **r))
            lean = f" (lean allocator: {r['lean'] / 2**20:.0f})" if cpu else ''
            print(f"{label} {'(checkpointed) ' if ckpt else ''}batch {bs}: peak {r['peak'] / 2**20:.0f} MiB{lean}, "
                  f"autograd holds {r['held'] / 2**20:.1f} MiB", flush=True)
    igc, reg, _ = PAIRS[0]
    sides = [dict(name=n, kw=kw, bs=64, px=32, classes=10, impl=args.impl) for n, _, kw in (igc, reg)]
    runs = [ablated_step(sides[0], parts, dev) for _, parts in ABLATIONS]
    res = alternate(runs + [stepper(*setup(sides[1], dev), dev, 'fp32')], dev, args.rounds, args.steps)
    bounds = [(label, 64 / t, spread) for (label, _), (t, spread, _) in zip(ABLATIONS + [(reg[1], ())], res)]
    print('bounds: ' + ', '.join(f'{label} {r:.0f}' for label, r, _ in bounds), flush=True)
    profiles = {}
    for name, label, kw in (igc, reg):
        s = stepper(*setup(dict(name=name, kw=kw, bs=64, px=32, classes=10, impl=args.impl), dev), dev, 'fp32')
        for _ in range(2): s()
        profiles[label] = op_shares(s, dev)
    write(out, args, pk, speed, mem, bounds, profiles, time.perf_counter() - t0, load0, os.getloadavg())
    print(f'wrote {out}')


def reading(speed, mem, bounds, impl='auto') -> list:
    "What the tables say, in sentences computed from them"
    from igc_fast.fast import auto_impl
    first = [r for r in speed if r['igc'] == PAIRS[0][0][1] and not r['ckpt']]
    lo, hi = min(r['a'] / r['b'] for r in first), max(r['a'] / r['b'] for r in first)
    asis, p1, nobn, both, reg = (b[1] for b in bounds)
    x = torch.empty(64, 48, 32, 32).contiguous(memory_format=torch.channels_last)   # the target layer, as 'auto' meets it
    secondary = ('The secondary runs its grouped multiply-accumulates in the compiled kernel (48 × 24 per pixel, half of '
                 'ResNet-20\'s 16-channel 3×3: 16 × 16 × 9 = 2,304)' if (auto_impl(x, 48, 48, 24, 2) if impl in ('auto', 'auto_fused') else impl) in ('kernels', 'fused') else
                 'The dense 1×1 that computes the secondary and both permutations does as many multiply-accumulates per pixel '
                 'as ResNet-20\'s 16-channel 3×3 (48 × 48 = 16 × 16 × 9)')
    held = {(r['pair'], r['ckpt'], r['regular']): r for r in mem}
    on, base = held[(0, True, False)], held[(0, False, True)]
    ckr, rr = held[(2, True, False)], held[(2, False, True)]
    lean = next((r for r in speed if r['lean'] and r['igc'] == PAIRS[0][0][1]), None)
    return [
        f'- **Speed.** {PAIRS[0][0][1]} trains at {lo:.2f}–{hi:.2f}× the images/s of {PAIRS[0][1][1]} over the precisions and batch '
        f'sizes above. Its multiply-accumulates are fewer, so the compute floor is not what binds it: it runs at a far smaller '
        f'fraction of its floor than the regular network does (floors table). The bounds table says where the time is: every '
        f'primary a single depthwise pass gives {p1 / asis:.2f}× the images/s of the network as it is, no BatchNorm and no ReLU '
        f'{nobn / asis:.2f}×, and with both the network still reaches only {both / reg:.2f}× the regular network with all of its '
        f'own. The rest is the convolutions themselves. {secondary}; it and the primary move three times the bytes of '
        f'ResNet-20\'s convolutions, the network being three times wider. '
        + ('Fusing BatchNorm, ReLU and the primary into custom kernels cannot close the gap alone; a kernel per layer that keeps '
           'activations in cache between the primary and the secondary would have to.' if both < reg else
           'Fusing BatchNorm, ReLU and the primary into custom kernels could close the gap on this machine.'),
        f'- **Memory.** Gradient checkpointing cuts what autograd holds for {PAIRS[0][0][1]} to {on["held"] / base["held"]:.2f}× '
        f'{PAIRS[0][1][1]}\'s. With the allocator keeping freed blocks for reuse its peak resident set stays at '
        f'{on["peak"] / base["peak"]:.2f}×: the allocator keeps the memory of the recomputed blocks\' tensors, three times ResNet-20\'s width, for reuse. '
        + (f'With the lean allocator it is {on["lean"] / base["lean"]:.2f}× '
           + ('(target ≤ 1.5×: met' if on['lean'] <= 1.5 * base['lean'] else '(target ≤ 1.5×: missed')
           + f'; {PAIRS[2][0][1]} against {PAIRS[2][1][1]}: {ckr["lean"] / rr["lean"]:.2f}×), training at '
           f'{lean["a"] / lean["b"]:.2f}× the regular network\'s images/s (speed table). ' if on['lean'] and lean else '')
        + f'Without checkpointing the peak is {held[(0, False, False)]["peak"] / base["peak"]:.2f}×.']


def write(out, args, pk, speed, mem, bounds, profiles, wall, load0, load1):
    import fastai
    dev = args.device
    hw = hardware(dev) + ('; **no GPU run was made** (this machine has no CUDA device; `--device cuda` writes `targets_cuda.md`)' if dev == 'cpu' else '')
    L = ['# IGC networks against the regular networks they replace: the targets, ' + ('CPU' if dev == 'cpu' else 'GPU'), '',
         f'Produced by `python benchmarks/bench_targets.py --device {dev} --rounds {args.rounds} --steps {args.steps}'
         + ('' if args.impl == 'auto' else f' --impl {args.impl}') + '` on '
         f'{time.strftime("%Y-%m-%d %H:%M")}, from the repository root.', '',
         f'- hardware: {hw}; measured peak {pk["fp32"] / 1e9:.0f} GFLOP/s fp32, copy bandwidth {pk["bw"] / 1e9:.1f} GB/s (read + written)',
         f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}; code: {code_state()}',
         '- step: forward, cross-entropy, backward, SGD (Nesterov, momentum 0.9, wd 1e-4) on random data, channels_last, '
         f"the IGC layers' `'{args.impl}'` implementation; bf16 = autocast",
         f'- timing: the two networks of a row in one process, alternating, {args.rounds} rounds of {args.steps} steps each; images/s from '
         'the best round\'s median step; spread = (slowest − fastest round median) / fastest',
         '- memory: a fresh process per network, fp32: peak resident set over two steps above the resident set before them '
         '(allocator included); "autograd holds": the bytes of the tensors autograd keeps after the forward pass (`saved_bytes`, exact)',
         '- allocator: `keep_freed_memory` (`igc_fast.fast`) keeps freed blocks up to 1 GiB for reuse in every process, as `igc_train` '
         'runs, except where a row says "lean allocator": blocks up to 1 MiB, bigger ones unmapped when freed, as `igc_train '
         '--allocator lean` runs; a lean speed row times both networks of the pair in a process of their own with that setting',
         f'- 1-minute load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end; total wall time {wall:.0f} s', '',
         '## Speed', '',
         '| IGC network | regular network | batch, size | precision | IGC images/s (spread) | regular images/s (spread) | IGC ÷ regular | target ≥ 1.0 |',
         '| --- | --- | --- | --- | ---: | ---: | ---: | --- |']
    for r in speed:
        ratio = r['a'] / r['b']
        L.append(f"| {r['igc']}{' (gradient checkpointing' + (', lean allocator' if r['lean'] else '') + ')' if r['ckpt'] else ''} | {r['reg']} | {r['bs']}, {r['px']}×{r['px']} | {r['prec']} | "
                 f"{r['a']:,.1f} ({r['sa']:.0%}) | {r['b']:,.1f} ({r['sb']:.0%}) | {ratio:.2f} | "
                 + ('met' if ratio >= 1 else f'missed: {1 / ratio:.1f}× too slow') + ' |')
    L += ['', '## Memory and floors (fp32, first batch size of each group)', '',
          '| network | params | MACs / image | peak memory (MiB) | peak, lean allocator (MiB) | autograd holds (MiB) | ÷ its regular network (peak / lean peak / holds) | compute floor (images/s) | memory floor (images/s) | fp32 images/s ÷ lower floor |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    rate = {}
    for r in speed:
        if r['prec'] == 'fp32' and not r['ckpt']: rate.setdefault(r['igc'], r['a']); rate.setdefault(r['reg'], r['b'])
        if r['prec'] == 'fp32' and r['ckpt'] and not r['lean']: rate.setdefault(r['igc'] + ' ckpt', r['a'])
    base = {r['pair']: r for r in mem if r['regular']}
    for r in mem:
        b = base[r['pair']]
        cf, mf = floors(pk, r, r['bs'])
        # without checkpointing every op saves its weights, so what autograd holds beyond them is activations; with it, recomputing moves more
        if r['ckpt']: mf = None
        got = rate.get(r['label'] + (' ckpt' if r['ckpt'] else ''))
        lean_mib, lean_ratio = (f"{r['lean'] / 2**20:,.0f}", f"{r['lean'] / b['lean']:.2f}") if r['lean'] else ('–', '–')
        L.append(f"| {r['label']}{' (gradient checkpointing)' if r['ckpt'] else ''} | {r['params']:,} | {r['macs'] / 1e6:,.1f} M | "
                 f"{r['peak'] / 2**20:,.0f} | {lean_mib} | {r['held'] / 2**20:,.1f} | "
                 f"{r['peak'] / b['peak']:.2f} / {lean_ratio} / {r['held'] / b['held']:.2f} | "
                 f"{cf:,.0f} | {f'{mf:,.0f}' if mf else '–'} | " + (f'{got / min(cf, mf or cf):.0%}' if got else '–') + ' |')
    igc, reg, _ = PAIRS[0]
    L += ['', f'## What fusing could buy at most ({igc[1]}, fp32, batch 64; timing only: these variants compute wrong numbers)', '',
          'Each variant makes a part free or cheaper than any exact kernel could: without BatchNorm and ReLU, the bound of fusing '
          'them into the convolutions; the primary as one depthwise pass, the bound of a kernel computing the two-channel '
          'groups in one pass. All five networks alternate in one process.', '',
          f'| variant | images/s (spread) | ÷ {reg[1]} |', '| --- | ---: | ---: |']
    L += [f'| {label} | {r:,.1f} ({sp:.0%}) | {r / bounds[-1][1]:.2f} |' for label, r, sp in bounds]
    L += ['', f'## Where a training step goes (fp32, batch 64; torch.profiler, self time, the 8 largest operators)', '']
    for label, top in profiles.items():
        L += [f'- {label}: ' + ', '.join(f'`{k}` {v:.0%}' for k, v in top)]
    L += ['', '## Reading', ''] + reading(speed, mem, bounds, args.impl)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(L) + '\n')


if __name__ == '__main__': main()
