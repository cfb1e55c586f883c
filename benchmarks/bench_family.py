"""IGCV3 against MobileNetV2: training images/s and peak memory, block and network, at the same batch, input size and
precision. The networks: `igcv3` (IGCV3-D ×1.0, the released model) against the official repository's `mobilenetv2`
and torchvision's `mobilenet_v2` (the two differ by one 1×1 convolution); IGCV3-D and MobileNetV2 cost the same
multiply-accumulates (about 313 M at 224×224), which is the comparison the ShuffleNet V2 paper made on a GPU. The
blocks: one `IGCV3Block` (t = 6, G1 = G2 = 2, shuffle) against the MobileNetV2 block of the same widths (dense 1×1s,
ReLU6 after the expansion), at the shapes of three stages of the 224×224 network; and in fp32 against two exact
rewrites that fold its channel shuffle into the weights (into W¹, or past the depthwise W² into W³). IGCV3-D against
itself with its channel shuffles as passes of their own after torch's BatchNorm (as IGCV3-D runs, the BatchNorm kernel
of each expansion writes its output already shuffled). And the channel shuffle alone, torch's native operator against
`igc_fast.core.channel_shuffle`, at each block's middle tensor.

A training step is forward, cross-entropy (networks) or the mean square (blocks), backward and an SGD step (Nesterov
momentum 0.9, weight decay 1e-4) on random data. Timing: both sides live in one process and run in alternation, in
`--rounds` rounds of `--steps` steps each (this machine stalls single steps for seconds; alternating makes a stall
hit either side alike); per side the median step of each round, then the best round and the spread of the round
medians. Peak memory: a fresh process per side, the peak resident set over two steps above the resident set before
them (CPU: /proc/self/status VmHWM after resetting it through /proc/self/clear_refs) or
`torch.cuda.max_memory_allocated` (CUDA). Floors, as `bench_targets.py` takes them: compute floor = peak FLOP/s
(`bench_layers.peaks`) ÷ (6 × the forward multiply-accumulates per image); memory floor = copy bandwidth ÷ (2 × the
activation bytes autograd holds per image, less the weights: each written once forward and read once backward). Last,
a profile of one network step of each kind per operator, and a reading against the target (IGCV3-D at ≥ 1.0× the
images/s of MobileNetV2).

Usage: python benchmarks/bench_family.py [--device cpu|cuda] [--rounds 7] [--steps 5] [--precisions fp32,bf16] [--out FILE]
"""
import argparse, copy, json, os, platform, time, warnings
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from common import DTYPES, REPO, alternate, code_state, floors, hardware, net_costs, op_shares, peak_memory, run_child, stepper, wait_quiet

NETS = [('igcv3', 'IGCV3-D ×1.0 (igcv3)'), ('mobilenetv2', 'MobileNetV2 (official repository)'),
        ('torchvision.mobilenet_v2', 'MobileNetV2 (torchvision)')]
BLOCKS = [(24, 24, 144, 56), (32, 32, 192, 28), (96, 96, 576, 14)]   # (ni, nf, mid, pixels): stages 2, 3 and 5 at 224×224


def build_net(name):
    if name == 'torchvision.mobilenet_v2':
        import torchvision
        return torchvision.models.mobilenet_v2()
    from igc_fast.models import get_model
    return get_model(name)


def build_block(kind, ni, nf, mid):
    from igc_fast.igcv3 import IGCV3Block
    return IGCV3Block(ni, nf, 1, mid) if kind == 'igcv3' else IGCV3Block(ni, nf, 1, mid, G1=1, G2=1, expand_act=True)


def fold_into_w1(b, x):
    "The IGCV3 block with P¹ folded into W¹: one dense 1×1 with the rows of the shuffled grouped weight (2× its MACs), no shuffle"
    from igc_fast.core import group_to_dense, shuffle_index
    e, bn = b.expand.conv, b.expand.bn
    idx = shuffle_index(e.out_channels, e.groups)
    h = F.conv2d(x, group_to_dense(e.weight, e.groups)[idx])
    h = F.batch_norm(h, bn.running_mean[idx], bn.running_var[idx], bn.weight[idx], bn.bias[idx], True, 0.0, bn.eps)
    y = b.project(b.dw(h))
    return x + y if b.shortcut else y


def fold_into_w3(b, x):
    "The IGCV3 block with P¹ moved past the channel-wise W² into W³: W³ a dense 1×1 with permuted columns (2× its MACs), no shuffle"
    from igc_fast.core import group_to_dense, shuffle_index
    e, d, p = b.expand.conv, b.dw.conv, b.project.conv
    inv = torch.argsort(shuffle_index(e.out_channels, e.groups))
    be, bn = b.expand.bn, b.dw.bn
    h = F.batch_norm(e(x), be.running_mean, be.running_var, be.weight, be.bias, True, 0.0, be.eps)   # W¹ and its BatchNorm, without P¹
    h = F.conv2d(h, d.weight[inv], None, d.stride, 1, 1, d.groups)
    h = F.relu6(F.batch_norm(h, bn.running_mean[inv], bn.running_var[inv], bn.weight[inv], bn.bias[inv], True, 0.0, bn.eps))
    y = b.project.bn(F.conv2d(h, group_to_dense(p.weight, p.groups)[:, inv]))
    return x + y if b.shortcut else y


FOLDS = {'P¹ folded into W¹': fold_into_w1, 'P¹ folded into W³': fold_into_w3}


class Folded(torch.nn.Module):
    "An IGCV3 block computed by `fold` (its own parameters, so the optimiser steps them)"
    def __init__(self, block, fold): super().__init__(); self.block, self.fold = block, fold
    def forward(self, x): return self.fold(self.block, x)


def check_folds():
    "Each fold, and the block with P¹ as a separate pass, equals the block in float64, forward and every gradient, before it is timed"
    torch.manual_seed(0)
    b = build_block('igcv3', 8, 8, 48).double()
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64, requires_grad=True)
    ref = b(x); gr = torch.autograd.grad(ref.sum(), [x, *b.parameters()])
    s = separate_shuffles(copy.deepcopy(b))   # its own parameters, in the block's order
    forms = {**{name: (partial(f, b), b) for name, f in FOLDS.items()}, 'the block with P¹ as a separate pass': (s, s)}
    for name, (f, owner) in forms.items():
        y = f(x); gy = torch.autograd.grad(y.sum(), [x, *owner.parameters()])
        err = max([(y - ref).abs().max().item()] + [(u - v).abs().max().item() for u, v in zip(gy, gr)])
        if err > 1e-10: raise SystemExit(f'{name} differs from the block by {err:.1e}')


def setup(side, dev):
    "(model, x, y) of one side: {'net': name} or {'block': kind, 'shape': (ni, nf, mid, px)}, with batch `bs`"
    torch.manual_seed(0)
    fmt = torch.channels_last
    if 'net' in side:
        m = build_net(side['net']).to(dev).to(memory_format=fmt)
        if side.get('separate_shuffle'): separate_shuffles(m)
        x = torch.randn(side['bs'], 3, side['px'], side['px'], device=dev).contiguous(memory_format=fmt)
        return m, x, torch.randint(0, 1000, (side['bs'],), device=dev)
    ni, nf, mid, px = side['shape']
    m = build_block('igcv3' if side['block'] in FOLDS else side['block'], ni, nf, mid).to(dev).to(memory_format=fmt)
    if side['block'] in FOLDS: m = Folded(m, FOLDS[side['block']])
    return m, torch.randn(side['bs'], ni, px, px, device=dev).contiguous(memory_format=fmt), None


class SeparateShuffle(torch.nn.Sequential):
    "torch's BatchNorm, then the channel shuffle as a pass of its own (`channel_shuffle`)"
    def __init__(self, bn, groups):
        super().__init__(torch.nn.BatchNorm2d(bn.num_features, bn.eps, bn.momentum, device=bn.weight.device, dtype=bn.weight.dtype))
        self[0].load_state_dict(bn.state_dict()); self.groups = groups
    def forward(self, x):
        from igc_fast.core import channel_shuffle
        return channel_shuffle(self[0](x), self.groups)


def separate_shuffles(m):
    "Swap every linear `BatchNormAct2d` that writes a shuffle (IGCV3's P¹) for torch's BatchNorm and a separate `channel_shuffle` (equal values)"
    from igc_fast.fast import BatchNormAct2d
    for mod in list(m.modules()):
        for name, c in mod.named_children():
            if isinstance(c, BatchNormAct2d) and c.shuffle > 1 and c.act is None: setattr(mod, name, SeparateShuffle(c, c.shuffle))
    return m


def shuffle_steps(mid, px, bs, dev, prec):
    "Forward and backward of the channel shuffle P¹ (2 groups) of one block's middle tensor, channels_last: torch's native operator, igc_fast's"
    from igc_fast.core import channel_shuffle
    x = torch.randn(bs, mid, px, px, device=dev, dtype=DTYPES[prec]).contiguous(memory_format=torch.channels_last).requires_grad_()
    g = torch.randn_like(x)
    if not torch.equal(F.channel_shuffle(x, 2), channel_shuffle(x, 2)): raise SystemExit('channel_shuffle differs from F.channel_shuffle')
    return [lambda f=f: torch.autograd.grad(f(x, 2), x, g) for f in (F.channel_shuffle, channel_shuffle)]


def time_pair(a, b, dev, prec, rounds, steps, warmup=2):
    "Best round-median step time of sides `a` and `b` run in alternation, and the spread of each side's round medians"
    return alternate([stepper(*setup(side, dev), dev, prec) for side in (a, b)], dev, rounds, steps, warmup)


def child(cfg):
    "One side's peak training memory in a fresh process, printed as one JSON line"
    from igc_fast.fast import keep_freed_memory
    keep_freed_memory()
    side = cfg['side']
    m, x, y = setup(side, cfg['device'])
    peak = peak_memory(stepper(m, x, y, cfg['device'], cfg['prec']), cfg['device'])
    costs = net_costs(m, x, y, side['px']) if 'net' in side and cfg['prec'] == 'fp32' else dict(params=sum(p.numel() for p in m.parameters()))
    print(json.dumps(dict(peak=peak, **costs)))


def profile(name, bs, px, dev, steps=3):
    "Share of one network's training step per operator (self time), from torch.profiler over `steps` steps"
    m, x, y = setup(dict(net=name, bs=bs, px=px), dev)
    s = stepper(m, x, y, dev, 'fp32')
    for _ in range(2): s()
    return op_shares(s, dev, steps)


def memory(side, dev, prec): return run_child(__file__, dict(side=side, device=dev, prec=prec), side)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--steps', type=int, default=5, help='training steps per side per round')
    ap.add_argument('--net-batch', type=int, default=None, help='default 16 on a CPU, 256 on CUDA')
    ap.add_argument('--net-px', type=int, default=None, help='default 112 on a CPU, 224 on CUDA')
    ap.add_argument('--block-batch', type=int, default=None, help='default 16 on a CPU, 256 on CUDA')
    ap.add_argument('--precisions', default=None, help='comma-separated, from fp32, bf16, fp16 (default fp32,bf16 on a CPU, all three on CUDA)')
    ap.add_argument('--out', default=None, help='markdown file (default benchmarks/results/family_{device}.md)')
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    if args.child: return child(json.loads(args.child))
    if args.device == 'cuda' and not torch.cuda.is_available(): raise SystemExit('no CUDA device: run with --device cpu')
    cpu, dev = args.device == 'cpu', args.device
    nb, npx, bb = args.net_batch or (16 if cpu else 256), args.net_px or (112 if cpu else 224), args.block_batch or (16 if cpu else 256)
    precs = tuple(args.precisions.split(',')) if args.precisions else ('fp32', 'bf16') if cpu else ('fp32', 'bf16', 'fp16')
    if set(precs) - set(DTYPES): raise SystemExit(f'--precisions {args.precisions}: choose among {", ".join(DTYPES)}')
    out = Path(args.out or REPO/'benchmarks'/'results'/f'family_{dev}.md')
    check_folds()
    wait_quiet(device=dev)
    t0, load0 = time.perf_counter(), os.getloadavg()
    from bench_layers import peaks
    pk = peaks(dev, ['fp32'], 5)
    rows, shuffles = [], []
    for prec in precs:
        for other in NETS[1:]:
            a, b = dict(net=NETS[0][0], bs=nb, px=npx), dict(net=other[0], bs=nb, px=npx)
            (ta, sa, _), (tb, sb, _) = time_pair(a, b, dev, prec, args.rounds, args.steps)
            ma, mb = memory(a, dev, prec), memory(b, dev, prec)
            rows.append(dict(kind='network', what=f'{NETS[0][1]} vs {other[1]}', shape=f'batch {nb}, {npx}×{npx}', prec=prec, bs=nb, nets=(NETS[0], other),
                             a=(nb / ta, sa, ma), b=(nb / tb, sb, mb)))
            print(f"{prec} {rows[-1]['what']}: {nb / ta:.1f} vs {nb / tb:.1f} img/s (×{tb / ta:.2f}), peak {ma['peak'] / 2**20:.0f} vs {mb['peak'] / 2**20:.0f} MiB "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)
        # the network with P¹ as a pass of its own after torch's BatchNorm
        a, b = dict(net=NETS[0][0], bs=nb, px=npx), dict(net=NETS[0][0], bs=nb, px=npx, separate_shuffle=True)
        (ta, sa, _), (tb, sb, _) = time_pair(a, b, dev, prec, args.rounds, args.steps)
        rows.append(dict(kind='shuffle', what=f'{NETS[0][1]} vs the same with P¹ as a separate pass', shape=f'batch {nb}, {npx}×{npx}', prec=prec,
                         a=(nb / ta, sa, memory(a, dev, prec)), b=(nb / tb, sb, memory(b, dev, prec))))
        print(f"{prec} {rows[-1]['what']}: {nb / ta:.1f} vs {nb / tb:.1f} img/s", flush=True)
        for shape in BLOCKS:
            a, b = dict(block='igcv3', shape=shape, bs=bb), dict(block='mobilenetv2', shape=shape, bs=bb)
            (ta, sa, _), (tb, sb, _) = time_pair(a, b, dev, prec, args.rounds, args.steps)
            ma, mb = memory(a, dev, prec), memory(b, dev, prec)
            ni, nf, mid, px = shape
            rows.append(dict(kind='block', what=f'{ni}→{mid}→{nf}', shape=f'batch {bb}, {px}×{px}', prec=prec,
                             a=(bb / ta, sa, ma), b=(bb / tb, sb, mb)))
            print(f"{prec} block {rows[-1]['what']} at {px}: {bb / ta:.1f} vs {bb / tb:.1f} img/s (×{tb / ta:.2f}) ({time.perf_counter() - t0:.0f}s)", flush=True)
            (tn, sn, _), (ti, si, _) = alternate(shuffle_steps(mid, px, bb, dev, prec), dev, args.rounds, args.steps)
            shuffles.append(dict(shape=f'{mid} channels, batch {bb}, {px}×{px}', prec=prec, native=(tn, sn), ours=(ti, si)))
            print(f"{prec} shuffle {mid} at {px}: native {tn * 1e3:.2f} ms, channel_shuffle {ti * 1e3:.2f} ms", flush=True)
            if prec == 'fp32':   # the exact folds of the shuffle into the weights, each against the block as it is
                for fold in FOLDS:
                    (ta, sa, _), (tb, sb, _) = time_pair(a, dict(block=fold, shape=shape, bs=bb), dev, prec, args.rounds, args.steps)
                    rows.append(dict(kind='fold', what=f'{ni}→{mid}→{nf}: the block vs {fold}', shape=f'batch {bb}, {px}×{px}', prec=prec,
                                     a=(bb / ta, sa, ma), b=(bb / tb, sb, memory(dict(block=fold, shape=shape, bs=bb), dev, prec))))
                    print(f"{prec} {rows[-1]['what']}: {bb / ta:.1f} vs {bb / tb:.1f} img/s", flush=True)
    profiles = {label: profile(name, nb, npx, dev) for name, label in NETS[:2]}
    write(out, args, pk, rows, shuffles, time.perf_counter() - t0, load0, os.getloadavg(), profiles)
    print(f'wrote {out}')


def net_floors(pk, rows) -> dict:
    "Per network name of the fp32 network rows (in `NETS` order): (label, its memory dict, compute floor, memory floor, measured images/s), in images/s"
    seen = {}
    for r in rows:
        if r['kind'] != 'network' or r['prec'] != 'fp32': continue
        for (name, label), (rate, _, m) in zip(r['nets'], (r['a'], r['b'])):
            if name not in seen: seen[name] = (label, m, *floors(pk, m, r['bs']), rate)
    return seen


def reading(rows, fl: dict) -> list:
    "The target line per precision (IGCV3-D against torchvision's MobileNetV2, the baseline a user has) and what the floors say"
    L = []
    for r in rows:
        if r['kind'] == 'network' and r['nets'][1] == NETS[2]:
            x = r['a'][0] / r['b'][0]
            L.append(f"- **Target ({r['prec']}, {r['shape']}): IGCV3-D ≥ 1.0× MobileNetV2 (torchvision).** {x:.2f}×: "
                     + ('met.' if x >= 1 else f'missed, {1 / x:.1f}× too slow.'))
    if NETS[0][0] in fl and NETS[1][0] in fl:
        (_, ma, ca, mfa, ra), (lb, mb, cb, mfb, rb) = fl[NETS[0][0]], fl[NETS[1][0]]
        blocks = [r['a'][0] / r['b'][0] for r in rows if r['kind'] == 'block']
        r, m, c = ra / rb, mfa / mfb, ca / cb
        nearer = 'memory floors' if abs(r - m) < abs(r - c) else 'compute floors'
        L.append(f"- **Why.** The two cost about the same multiply-accumulates ({ma['macs'] / 1e6:,.1f} M against {mb['macs'] / 1e6:,.1f} M an image "
                 f"for {lb}): the ratio of their compute floors is {c:.2f} (floors table). What differs is the activations: IGCV3-D has "
                 f"twice MobileNetV2's blocks in stages 2 to 6, each with its full t = 6 expansion, so autograd holds "
                 f"{(ma['held'] - ma['weights']) / (mb['held'] - mb['weights']):.2f}× the activation bytes of {lb}, which is built of the "
                 f"same modules, and the ratio of their memory floors is {m:.2f}. The measured ratio, {r:.2f}×, is nearer that of the {nearer}.")
        if blocks:
            L.append(f"- **Blocks.** An IGCV3 block against the MobileNetV2 block of the same widths (the same activations, half the 1×1 "
                     f"multiply-accumulates) trains at {min(blocks):.2f}–{max(blocks):.2f}× its images/s over the block rows. A network "
                     "of IGCV3-D's depth reaches 1.0× only if each block costs about half a MobileNetV2 block: a kernel that keeps "
                     "the block's expanded tensor out of memory (the expansion, shuffle, depthwise convolution and projection fused "
                     "across their BatchNorms), which igc_fast does not have.")
    return L


def write(out, args, pk, rows, shuffles, wall, load0, load1, profiles):
    import fastai
    dev = args.device
    hw = hardware(dev) + ('; **no GPU run was made** (this machine has no CUDA device; `--device cuda` writes `family_cuda.md`)' if dev == 'cpu' else '')
    hw += f'; measured peak {pk["fp32"] / 1e9:.0f} GFLOP/s fp32, copy bandwidth {pk["bw"] / 1e9:.1f} GB/s (read + written)'
    L = ['# IGCV3 against MobileNetV2: training throughput and memory, ' + ('CPU' if dev == 'cpu' else 'GPU'), '',
         f'Produced by `python benchmarks/bench_family.py --device {dev} --rounds {args.rounds} --steps {args.steps}' + (f' --precisions {args.precisions}' if args.precisions else '') + '` on '
         f'{time.strftime("%Y-%m-%d %H:%M")}, from the repository root.', '',
         f'- hardware: {hw}',
         f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}; code: {code_state()}',
         '- step: forward, loss (cross-entropy; the mean square for blocks), backward, SGD (Nesterov, momentum 0.9, wd 1e-4) on random '
         'data, channels_last; bf16/fp16 = autocast',
         f'- timing: both sides in one process, alternating, {args.rounds} rounds of {args.steps} steps per side; images/s from the best '
         'round\'s median step; spread = (slowest − fastest round median) / fastest',
         '- peak memory: a fresh process per side, ' + ('the peak resident set (VmHWM, reset first) over two steps above the resident set before them' if dev == 'cpu'
                                                        else '`torch.cuda.max_memory_allocated` over two steps'),
         f'- 1-minute load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end; total wall time {wall:.0f} s', '',
         '- rows "fold": the IGCV3 block as it is (left) against an exact rewrite that folds the channel shuffle P¹ into the weights '
         '(right; checked equal in float64, forward and gradients, before timing)',
         '- rows "shuffle": IGCV3-D as it is (left: the BatchNorm kernel of each expansion writes its output already shuffled by P¹) '
         'against the same network with torch\'s BatchNorm and P¹ as a pass of its own, `channel_shuffle` (right)', '',
         '| what | shape | precision | IGCV3 images/s (spread) | MobileNetV2 (fold: rewrite; shuffle: separate pass) images/s (spread) | IGCV3 ÷ right | IGCV3 peak MiB | right peak MiB | params IGCV3 / right |',
         '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for r in rows:
        (ra, sa, ma), (rb, sb, mb) = r['a'], r['b']
        L.append(f"| {r['kind']}: {r['what']} | {r['shape']} | {r['prec']} | {ra:,.1f} ({sa:.0%}) | {rb:,.1f} ({sb:.0%}) | {ra / rb:.2f} | "
                 f"{ma['peak'] / 2**20:,.0f} | {mb['peak'] / 2**20:,.0f} | {ma['params']:,} / {mb['params']:,} |")
    L += ['', '## The channel shuffle P¹ alone (2 groups, channels_last; forward and backward of the middle tensor of each block above)', '',
          'torch\'s `F.channel_shuffle` against `igc_fast.core.channel_shuffle` (the transpose inside each pixel\'s channels; equal values, '
          'checked before timing), in alternation as above', '',
          '| tensor | precision | native ms (spread) | channel_shuffle ms (spread) | channel_shuffle ÷ native |', '| --- | --- | ---: | ---: | ---: |']
    for r in shuffles:
        (tn, sn), (ti, si) = r['native'], r['ours']
        L.append(f"| {r['shape']} | {r['prec']} | {tn * 1e3:.2f} ({sn:.0%}) | {ti * 1e3:.2f} ({si:.0%}) | {ti / tn:.2f} |")
    fl = net_floors(pk, rows)
    L += ['', f'## Floors (fp32, {rows[0]["shape"]})', '',
          '| network | params | MACs / image | autograd holds, less weights (MiB / image) | compute floor (images/s) | memory floor (images/s) | fp32 images/s ÷ lower floor |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for label, m, cf, mf, rate in fl.values():
        L.append(f"| {label} | {m['params']:,} | {m['macs'] / 1e6:,.1f} M | {(m['held'] - m['weights']) / rows[0]['bs'] / 2**20:,.2f} | {cf:,.0f} | {mf:,.0f} | {rate / min(cf, mf):.0%} |")
    L += ['', f'## Where a training step goes (fp32, {rows[0]["shape"]}; torch.profiler, self time, the 8 largest operators)', '']
    for label, top in profiles.items():
        L += [f'- {label}: ' + ', '.join(f'`{k}` {v:.0%}' for k, v in top)]
    L += ['', '## Reading', ''] + reading(rows, fl)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(L) + '\n')


if __name__ == '__main__': main()
