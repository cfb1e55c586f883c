"""The compiled kernels of `igc_fast.fast` against the other ways to compute each half of an IGC layer. The primary
(`PRIMARY_KERNEL_SRC`: W^p x of a 3×3, stride-1 layer with K ∈ {1, 2, 4, 8} channels per group in one pass over
channels-last memory, the within-group roll a shuffle inside each vector register) against the grouped convolution,
the depthwise form and one depthwise pass; the secondary (`SECONDARY_KERNEL_SRC`: P_M W^d P_L z, the grouped 1×1
reading through both shuffles with one broadcast per primary partition) against the dense 1×1 and the shuffle form;
BatchNorm with its ReLU (`BN_ACT_KERNEL_SRC`: two passes over memory each way) against torch's operators; the
transition blocks of `resnet_igc` (stride 2, C → 2C) with their widening primary and grouped shortcut by oneDNN and
by the widening kernel (`WIDENING_KERNEL_SRC`); the whole square layer as the two kernels compute it and as the fused
pass does (`FUSED_KERNEL_SRC`: z mixed row by row while in cache, ∂z kept to three rows).
Each alone at the three stage shapes of `resnet_igc` d20 L24M2 (batch 64: K = M = 2, 4 and 8) and at one L100M2
input past the rule's `depthwise_bytes` (the secondary also at IGC-L100M2 ResNet-18's 400-channel stage, batch 16);
then inside that network with the kernels nowhere, the primary kernel at K = 2, at K = 2 and 4, at every stage, both
kernels at every stage (BatchNorm, the shortcut's sum and ReLU by torch in all of these), then with BatchNorm and ReLU
in two passes too (the shortcut's sum inside those of each block's second layer), as `'auto'` runs with the
transitions by oneDNN, as `'auto_fused'` runs (rule 8) and with the fused pass at every square layer (`'fused'`),
and as `'auto'` runs, ResNet-20 as
built (`'auto'` too) alongside for scale; in fp32, then in bf16 autocast (the kernels' bfloat16 forms; the big input
in fp32 only). It checks both kernels against PyTorch in float64 (forward and all gradients) before timing. All
candidates of a table alternate in one process, round by round.

Usage: python benchmarks/bench_kernel.py [--rounds 5] [--steps 3] [--out FILE]
"""
import argparse, os, platform, subprocess, time, warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from bench_targets import setup
from common import REPO, alternate, code_state, hardware, stepper, wait_quiet
from igc_fast.fast import (KERNEL_FLAGS, BatchNormAct2d, FusedKernel, GroupedConv2d, PrimaryKernel, SecondaryKernel, fused_lanes, igc_apply,
                            keep_freed_memory, kernel_lanes,
                            kernel_status, mix_dense, mix_kernel_lanes, mix_shuffle, primary_depthwise, WideningKernel, widening_lanes)

STAGES = [(48, 2, 32), (96, 4, 16), (192, 8, 8)]   # resnet_igc d20 L24M2: (channels, K = M = channels / L, size) per stage
BIG = (200, 2, 56)   # an L100M2 layer at 56 px: 153 MiB at batch 64, past RULES' depthwise_bytes
WIDE = (400, 2, 28)   # the second stage of IGC-L100M2 ResNet-18: the secondary at M = 2 in 16 lanes, with L = 200
PRECISIONS = dict(fp32=torch.float32, bf16=torch.bfloat16)   # bf16: autocast, bfloat16 activations
PRIMARIES = ['grouped conv', 'depthwise form', 'one depthwise pass', 'kernel']
SECONDARIES = ['dense 1×1', 'shuffle form', 'kernel']
BN_ACTS = ['torch', 'two passes']   # BatchNormAct2d's impl 'torch', and 'auto' where its kernel applies
# the implementation of the square stride-1 layers with K channels per group; unnamed K: 'auto'
NO_KERNEL = {2: 'depthwise', 4: 'dense1x1', 8: 'reference'}   # 'auto' as it runs without the kernel
BOTH = {2: 'kernels', 4: 'kernels', 8: 'kernels'}
FUSED = {2: 'fused', 4: 'fused', 8: 'fused'}
VARIANTS = [  # label, the IGC layers' implementation per K, BatchNormAct2d's impl
    ('no kernel: the depthwise form where K = 2, the grouped conv elsewhere', NO_KERNEL,                                         'torch'),
    ('the kernel where K = 2',                                                {**NO_KERNEL, 2: 'kernel'},                        'torch'),
    ('the kernel where K = 2 or 4',                                           {**NO_KERNEL, 2: 'kernel', 4: 'kernel'},           'torch'),
    ('the kernel at every stage (K = 2, 4, 8)',                               {2: 'kernel', 4: 'kernel', 8: 'kernel_shuffle'},   'torch'),
    ('both kernels at every stage',                                           BOTH,                                              'torch'),
    ('both kernels at every stage, BatchNorm and ReLU in two passes',         BOTH,                                              'auto'),
    ('`auto` with the transitions by oneDNN (their primary grouped, their shortcut torch\'s convolution)', {},                'auto', False),
    ('`auto_fused` (rule 8: `auto` with the fused pass where it fuses)',       {2: 'auto_fused', 4: 'auto_fused', 8: 'auto_fused'}, 'auto'),
    ('`auto`, but the fused pass at every square layer (`use_impl(\'fused\')`)', FUSED,                                      'auto'),
    ('`auto`',                                                                {},                                                'auto')]
WIDEN = ['oneDNN (grouped conv, dense 1×1 secondary)', 'the widening kernel (same secondary)']
LAYER = ['both kernels (`\'kernels\'`)', 'the fused pass (`\'fused\'`)']


def worst_error(y, ref, ins, gy) -> float:
    "The largest absolute difference between `y` and `ref`, forward and in the gradients of `ins` from `gy`"
    return max([(y - ref).abs().max().item()] + [(a - b).abs().max().item() for a, b in
                                                 zip(torch.autograd.grad(y, ins, gy), torch.autograd.grad(ref, ins, gy))])


def fwd_bwd(f, ins, gy, prec):
    "One timed candidate: `f()` under `prec`'s CPU autocast (none for fp32), then the gradients of `ins` from `gy`"
    def run():
        with torch.autocast('cpu', dtype=PRECISIONS[prec], enabled=prec != 'fp32'): y = f()
        torch.autograd.grad(y, ins, gy)
    return run


def check():
    "The kernels equal PyTorch's convolutions in float64, forward and all gradients; the fused pass equals the reference order"
    torch.manual_seed(0)
    for G, M, h, w in [(48, 2, 8, 8), (96, 4, 5, 3), (192, 8, 3, 4), (40, 2, 4, 1)]:
        L = G // M
        if not fused_lanes(G, M, torch.float64): continue
        x = torch.randn(2, G, h, w, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
        wp = torch.randn(G, M, 3, 3, dtype=torch.float64, requires_grad=True)
        wd = torch.randn(G, L, 1, 1, dtype=torch.float64, requires_grad=True)
        ref, y = igc_apply(x, wp, wd, L, M), FusedKernel.apply(x, wp, wd, L, M)
        err = worst_error(y, ref, (x, wp, wd), torch.randn_like(ref))
        if err > 1e-10: raise SystemExit(f'the fused pass differs from the reference order by {err:.1e} at G={G}, M={M}, {h}×{w}')
    for G, K, h, w in [(48, 2, 8, 8), (8, 2, 5, 7), (16, 4, 6, 4), (24, 1, 3, 3), (32, 4, 1, 1), (96, 2, 3, 2), (40, 2, 7, 11),
                       (192, 8, 4, 4), (64, 8, 5, 6)]:
        L = G // K
        if not kernel_lanes(G, K, torch.float64): continue   # K = 8 in float64 needs AVX-512's 8 lanes
        x = torch.randn(2, G, h, w, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
        wp = torch.randn(G, K, 3, 3, dtype=torch.float64, requires_grad=True)
        ref, y = F.conv2d(x, wp, None, 1, 1, 1, L), PrimaryKernel.apply(x, wp, L)
        err = worst_error(y, ref, (x, wp), torch.randn_like(ref))
        if err > 1e-10: raise SystemExit(f'the kernel differs from the grouped convolution by {err:.1e} at G={G}, K={K}, {h}×{w}')
    for C, L, k in [(48, 24, 3), (48, 24, 1), (96, 24, 3), (96, 24, 1)]:
        if not widening_lanes(C, C // L, torch.float64): continue   # 4 per group in float64 needs AVX-512's 8 lanes
        x = torch.randn(2, C, 7, 9, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
        w = torch.randn(2 * C, C // L, k, k, dtype=torch.float64, requires_grad=True)
        ref, y = F.conv2d(x, w, None, 2, k // 2, 1, L), WideningKernel.apply(x, w, L)
        err = worst_error(y, ref, (x, w), torch.randn_like(ref))
        if err > 1e-10: raise SystemExit(f'the widening kernel differs from the grouped convolution by {err:.1e} at C={C}, L={L}, k={k}')
    for G, M, h, w in [(48, 2, 8, 8), (96, 4, 3, 5), (192, 8, 2, 3), (40, 2, 3, 3), (200, 2, 2, 5)]:
        L = G // M
        if not mix_kernel_lanes(G, M, torch.float64): continue   # M = 8 in float64 needs AVX-512's 8 lanes
        z = torch.randn(2, G, h, w, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
        wd = torch.randn(G, L, 1, 1, dtype=torch.float64, requires_grad=True)
        ref, y = mix_shuffle(z, wd, L, M), SecondaryKernel.apply(z, wd, M)
        err = worst_error(y, ref, (z, wd), torch.randn_like(ref))
        if err > 1e-10: raise SystemExit(f'the secondary kernel differs from the shuffle form by {err:.1e} at G={G}, M={M}, {h}×{w}')


def transitions(m, widen: bool):
    "Set the transition blocks of `m`: their widening IGC layers and grouped shortcuts by the widening kernel where it applies (`widen`), or by oneDNN"
    from igc_fast.layers import IGC
    for mod in m.modules():
        if isinstance(mod, IGC) and mod.ni != mod.nf: mod.impl = 'kernel' if widen else 'dense1x1'
        if isinstance(mod, GroupedConv2d): mod.impl = 'auto' if widen else 'reference'
    return m


def net(name, kw, impls=None, bn='auto', widen=True, prec='fp32'):
    "A training step of network `name`, its square stride-1 IGC layers with K channels per group running `impls[K]` (else 'auto'), its BatchNormAct2d `bn`, its transitions `widen`"
    from igc_fast.layers import IGC
    m, x, y = setup(dict(name=name, kw=kw, bs=64, px=32, classes=10), 'cpu')
    for mod in m.modules():
        if isinstance(mod, IGC) and mod.ni == mod.nf and mod.stride == 1: mod.impl = (impls or {}).get(mod.nf // mod.L)
        if isinstance(mod, BatchNormAct2d): mod.impl = bn
    if not widen: transitions(m, False)
    return stepper(m, x, y, 'cpu', prec)


def transition_blocks(name, kw, px, bs, prec, rounds, steps):
    "Each transition block of network `name` (stride 2, C → 2C), forward + every gradient, its primary and shortcut by oneDNN and by the widening kernel"
    from igc_fast.models import get_model
    from igc_fast.layers import IGC
    torch.manual_seed(0)
    m = get_model(name, num_classes=10, **kw).to(memory_format=torch.channels_last)
    rows = []
    for blk in [b for b in m.modules() if hasattr(b, 'shortcut') and isinstance(getattr(b.shortcut, 'conv', None), GroupedConv2d)]:
        first = next(c for c in blk.modules() if isinstance(c, IGC))
        x = torch.randn(bs, first.ni, px, px).to(memory_format=torch.channels_last).requires_grad_()
        px //= 2
        ins = (x, *blk.parameters())
        cands = []
        for widen in (False, True):
            def run(widen=widen, blk=blk, x=x, ins=ins):
                transitions(blk, widen)
                with torch.autocast('cpu', dtype=PRECISIONS[prec], enabled=prec != 'fp32'): y = blk(x)
                torch.autograd.grad(y, ins, torch.ones_like(y))
            cands.append(run)
        res = alternate(cands, 'cpu', rounds, steps)
        transitions(blk, True)
        print(f'transition {prec} {first.ni}→{first.nf}, {x.shape[-1]}×{x.shape[-1]}: ' + ', '.join(f'{n} {r[0] * 1e3:.2f} ms' for n, r in zip(WIDEN, res)), flush=True)
        rows.append((first.ni, first.nf, x.shape[-1], res))
    return rows


def primary(C, K, px, prec, rounds, steps):
    "The primary alone, forward + both gradients, each way: the kernel last where it takes the layer; bf16 = autocast on a bfloat16 input"
    L, dt = C // K, PRECISIONS[prec]
    x = torch.randn(64, C, px, px).to(dt, memory_format=torch.channels_last).requires_grad_()
    wp = torch.randn(C, K, 3, 3, requires_grad=True)
    gy = torch.ones(64, C, px, px).to(dt, memory_format=torch.channels_last)
    fb = lambda f: fwd_bwd(f, (x, wp), gy, prec)
    cands = [fb(lambda: F.conv2d(x, wp, None, 1, 1, 1, L)), fb(lambda: primary_depthwise(x, wp, L)),
             fb(lambda: F.conv2d(x, wp[:, :1], None, 1, 1, 1, C))] + ([fb(lambda: PrimaryKernel.apply(x, wp, L))] if kernel_lanes(C, K, dt) else [])
    res = alternate(cands, 'cpu', rounds, steps)
    print(f'primary {prec} {C} ch, K={K}, {px}×{px}: ' + ', '.join(f'{n} {r[0] * 1e3:.2f} ms' for n, r in zip(PRIMARIES, res)), flush=True)
    return C, K, px, res


def secondary(C, M, px, prec, rounds, steps):
    "The secondary alone, forward + both gradients, each way: the kernel last where it takes the layer; bf16 = autocast on a bfloat16 input"
    L, dt = C // M, PRECISIONS[prec]
    N = 64 if (C, M, px) in STAGES else 16
    z = torch.randn(N, C, px, px).to(dt, memory_format=torch.channels_last).requires_grad_()
    wd = torch.randn(C, L, 1, 1, requires_grad=True)
    gy = torch.ones(N, C, px, px).to(dt, memory_format=torch.channels_last)
    fb = lambda f: fwd_bwd(f, (z, wd), gy, prec)
    cands = [fb(lambda: mix_dense(z, wd, L, M)), fb(lambda: mix_shuffle(z, wd, L, M))] + (
        [fb(lambda: SecondaryKernel.apply(z, wd, M))] if mix_kernel_lanes(C, M, dt) else [])
    res = alternate(cands, 'cpu', rounds, steps)
    print(f'secondary {prec} {C} ch, M={M}, {px}×{px}, batch {N}: ' + ', '.join(f'{n} {r[0] * 1e3:.2f} ms' for n, r in zip(SECONDARIES, res)), flush=True)
    return C, M, px, N, mix_kernel_lanes(C, M, dt), res


def bn_act(C, px, prec, rounds, steps):
    "BatchNorm (training) and ReLU alone, forward + the input, weight and bias gradients, by torch and in two passes"
    x = torch.randn(64, C, px, px).to(PRECISIONS[prec], memory_format=torch.channels_last).requires_grad_()
    gy = torch.ones_like(x)
    mods = [BatchNormAct2d(C, impl=impl) for impl in ('torch', 'auto')]
    res = alternate([fwd_bwd(lambda m=m: m(x), (x, m.weight, m.bias), gy, prec) for m in mods], 'cpu', rounds, steps)
    print(f'BatchNorm + ReLU {prec} {C} ch, {px}×{px}: ' + ', '.join(f'{n} {r[0] * 1e3:.2f} ms' for n, r in zip(BN_ACTS, res)), flush=True)
    return C, px, res


def whole_layer(C, K, px, prec, rounds, steps):
    "The square IGC layer alone, forward + every gradient, as the two kernels compute it and as the fused pass does"
    from igc_fast.layers import IGC
    dt = PRECISIONS[prec]
    m = IGC(C, C, L=C // K)
    x = torch.randn(64, C, px, px).to(dt, memory_format=torch.channels_last).requires_grad_()
    gy = torch.ones(64, C, px, px).to(dt, memory_format=torch.channels_last)
    def as_(impl):
        def f(): m.impl = impl; return m(x)
        return fwd_bwd(f, (x, *m.parameters()), gy, prec)
    res = alternate([as_('kernels'), as_('fused')], 'cpu', rounds, steps)
    print(f'layer {prec} {C} ch, K=M={K}, {px}×{px}: ' + ', '.join(f'{n} {r[0] * 1e3:.2f} ms' for n, r in zip(LAYER, res)), flush=True)
    return C, K, px, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--out', default=None, help='markdown file (default benchmarks/results/kernel_cpu.md)')
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    keep_freed_memory()
    if kernel_status() != 'built': raise SystemExit(kernel_status())
    check()
    wait_quiet()
    t0, load0 = time.perf_counter(), os.getloadavg()
    igc, tables = ('resnet_igc', dict(depth=20, L=24, M=2)), {}
    for prec in PRECISIONS:
        layers = [primary(C, K, px, prec, args.rounds, args.steps) for C, K, px in STAGES + ([BIG] if prec == 'fp32' else [])]
        mixes = [secondary(C, M, px, prec, args.rounds, args.steps) for C, M, px in STAGES + [WIDE] + ([BIG] if prec == 'fp32' else [])]
        bns = [bn_act(C, px, prec, args.rounds, args.steps) for C, _, px in STAGES]
        trans = transition_blocks(*igc, 32, 64, prec, args.rounds, args.steps)
        whole = [whole_layer(C, K, px, prec, args.rounds, args.steps) for C, K, px in STAGES]
        nets = alternate([net(*igc, impls, bn, *rest, prec=prec) for _, impls, bn, *rest in VARIANTS] + [net('resnet', dict(depth=20, C=16), prec=prec)],
                         'cpu', args.rounds, args.steps)
        print(f'network {prec}: ' + ', '.join(f'{64 / t:.0f}' for t, _, _ in nets) + ' images/s', flush=True)
        tables[prec] = layers, mixes, bns, trans, whole, nets
    out = Path(args.out or REPO/'benchmarks'/'results'/'kernel_cpu.md')
    write(out, args, tables, time.perf_counter() - t0, load0, os.getloadavg())
    print(f'wrote {out}')


def cells(res) -> str:
    "The table cells of a row of timings: ms of the best round's median, and the spread"
    return ' | '.join(f'{t * 1e3:.2f} ({s:.0%})' for t, s, _ in res)


def write(out, args, tables, wall, load0, load1):
    import fastai
    L = ['# Compiled kernels for the two halves of an IGC layer against the other forms, CPU', '',
         f'Produced by `python benchmarks/bench_kernel.py --rounds {args.rounds} --steps {args.steps}` on {time.strftime("%Y-%m-%d %H:%M")}, '
         f'run in `{os.path.relpath(os.getcwd(), REPO)}`.', '',
         f'- hardware: {hardware("cpu")}; **no GPU run was made**',
         f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}, '
         f'{subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]}; code: {code_state()}',
         f'- the kernels (`igc_fast.fast.PRIMARY_KERNEL_SRC`, `SECONDARY_KERNEL_SRC`, `BN_ACT_KERNEL_SRC`, `WIDENING_KERNEL_SRC` and `FUSED_KERNEL_SRC`, g++ {" ".join(KERNEL_FLAGS)}, '
         'rows or pixels over the OpenMP threads torch uses) were checked equal to the grouped convolutions and to the shuffle form in '
         'float64, forward and both gradients, before timing (BatchNorm with ReLU: in `02_fast`\'s tests)',
         '- BatchNorm + ReLU: `BatchNormAct2d` in training, its `impl` \'torch\' (torch\'s batch norm and ReLU) and \'auto\' (the two-pass '
         'kernel, with the shortcut\'s sum inside where a block adds one); ResNet-20 C16 runs as built, its BatchNormAct2d \'auto\'',
         '- bf16: autocast, each half fed a bfloat16 input as it meets one inside the network; the kernels\' bfloat16 forms '
         '(bfloat16 in and out, float32 arithmetic and weight gradient)',
         f'- timing: the candidates of a table in one process, alternating, {args.rounds} rounds of {args.steps} calls or steps; '
         'the best round\'s median; spread = (slowest − fastest round median) / fastest',
         f'- 1-minute load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end; total wall time {wall:.0f} s']
    per = lambda res: ', '.join(f'{res[3][0] / res[i][0]:.2f}× the {PRIMARIES[i]}\'s' for i in (0, 1)) if len(res) > 3 else 'not taken'
    reading = []
    per2 = lambda res: ', '.join(f'{res[2][0] / res[i][0]:.2f}× the {SECONDARIES[i]}\'s' for i in (0, 1)) if len(res) > 2 else 'not taken'
    for prec, (layers, mixes, bns, trans, whole, nets) in tables.items():
        L += ['', f'## The primary alone (batch 64, {prec}, channels_last; forward + input and weight gradients; ms, spread)', '',
              '| channels, K, size | ' + ' | '.join(PRIMARIES) + ' |', '| --- | ---: | ---: | ---: | ---: |']
        for C, K, px, res in layers:
            L.append(f'| {C}, {K}, {px}×{px} | ' + cells(res) + (' | –' if len(res) < 4 else '') + ' |')
        L += ['', f'## The secondary alone ({prec}, channels_last; forward + input and weight gradients; ms, spread)', '',
              '| channels, M, size, batch | kernel lanes | ' + ' | '.join(SECONDARIES) + ' |', '| --- | ---: | ---: | ---: | ---: |']
        for C, M, px, N, lanes, res in mixes:
            L.append(f'| {C}, {M}, {px}×{px}, {N} | {lanes or "–"} | ' + cells(res) + (' | –' if len(res) < 3 else '') + ' |')
        L += ['', f'## BatchNorm and ReLU alone (batch 64, {prec}, channels_last, training; forward + the three gradients; ms, spread)', '',
              '| channels, size | ' + ' | '.join(BN_ACTS) + ' | two passes ÷ torch |', '| --- | ---: | ---: | ---: |']
        for C, px, res in bns:
            L.append(f'| {C}, {px}×{px} | ' + cells(res) + f' | {res[1][0] / res[0][0]:.2f} |')
        L += ['', f'## The transition blocks of `resnet_igc` d20 L24M2 alone (batch 64, {prec}, channels_last; forward + every gradient; ms, spread)', '',
              'The first block of stages 2 and 3: its widening IGC layer (primary and dense 1×1 secondary) and its grouped 1×1 stride-2 shortcut, '
              'by oneDNN and by the widening kernel; the rest of the block the same in both.', '',
              '| block | ' + ' | '.join(WIDEN) + ' | kernel ÷ oneDNN |', '| --- | ---: | ---: | ---: |']
        for ni, nf, px, res in trans:
            L.append(f'| {ni} → {nf}, {px}×{px} input | ' + cells(res) + f' | {res[1][0] / res[0][0]:.2f} |')
        L += ['', f'## The whole square layer alone (batch 64, {prec}, channels_last; forward + every gradient; ms, spread)', '',
              'The paper\'s block at each stage shape (K = M), as `\'kernels\'` computes it (z and its gradient through memory between the '
              'two kernels) and as the fused pass does (one pass each way).', '',
              '| channels, K = M, size | ' + ' | '.join(LAYER) + ' | fused ÷ kernels |', '| --- | ---: | ---: | ---: |']
        for C, K, px, res in whole:
            L.append(f'| {C}, {K}, {px}×{px} | ' + cells(res) + f' | {res[1][0] / res[0][0]:.2f} |')
        L += ['', f'## Inside `resnet_igc` d20 L24M2 (batch 64, {prec}, channels_last; training step)', '',
              '| kernels | images/s (spread) | ÷ the first row |', '| --- | ---: | ---: |']
        for (label, *_), (t, sp, _) in zip(VARIANTS + [('ResNet-20 C16 (for scale)',)], nets):
            L.append(f'| {label} | {64 / t:,.1f} ({sp:.0%}) | {nets[0][0] / t:.2f} |')
        reading += [f'- {prec}, the primary alone, the kernel\'s time against the two exact forms it replaces: ' +
                    '; '.join(f'{C} channels, K = {K}, {px}×{px}: {per(res)}' for C, K, px, res in layers) + '.',
                    f'- {prec}, the secondary alone, the kernel\'s time against the two exact forms it replaces: ' +
                    '; '.join(f'{C} channels, M = {M}, {px}×{px} ({lanes or "no"} lanes): {per2(res)}' for C, M, px, N, lanes, res in mixes) + '.',
                    f'- {prec}, the transition blocks alone, the widening kernel\'s time against oneDNN\'s: ' +
                    ', '.join(f'{ni} → {nf}: {res[1][0] / res[0][0]:.2f}×' for ni, nf, px, res in trans) + '.',
                    f'- {prec}, the whole square layer alone, the fused pass\'s time against the two kernels\': ' +
                    ', '.join(f'{C} channels: {res[1][0] / res[0][0]:.2f}×' for C, K, px, res in whole) + '.',
                    f'- {prec}, BatchNorm and ReLU alone, two passes against torch\'s operators: ' +
                    ', '.join(f'{C} channels, {px}×{px}: {res[1][0] / res[0][0]:.2f}× the time' for C, px, res in bns) + '.',
                    f'- {prec}, inside the network: ' + ', '.join(f'{label.split(":")[0]} {nets[0][0] / t:.2f}×' for (label, *_), (t, _, _) in zip(VARIANTS[1:], nets[1:]))
                    + f' the images/s of the network without the kernels; with `auto` it trains at {nets[-1][0] / nets[-2][0]:.2f}× '
                    f'the images/s of ResNet-20 C16; with `auto_fused` at {nets[-1][0] / nets[-4][0]:.2f}×, '
                    f'at every square layer {nets[-1][0] / nets[-3][0]:.2f}×.']
    L += ['', '## Reading', '', *reading,
          '- On this shared machine the spreads are wide: rows that differ by less than their spread are ties.',
          '- The three stage shapes have the same primary multiply-accumulates (C·K·H·W is equal); the depthwise form pays one more pass over '
          'memory for every channel of a group, so its cost grows with K, while the kernel rolls the channels in registers.',
          '- The secondary\'s multiply-accumulates halve from stage to stage (C·L·H·W); the dense 1×1 does M times as many, the shuffle form '
          'two more passes over memory, the kernel neither: its vector lanes hold M-channel chunks, one broadcast load per primary partition. '
          'Where a width is not a multiple of 16 floats it runs in 8 lanes, half the arithmetic of AVX-512\'s 16.']
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(L) + '\n')


if __name__ == '__main__': main()
