"""Which optimiser `igc_learner` should default to for `fit_one_cycle`: SGD with Nesterov momentum (the original's,
weight decay 1e-4 on every weight) against fastai's Adam (fastai's defaults: decoupled weight decay 0.01, none on
BatchNorm and biases), each at fastai's usual learning rates, on `resnet_igc` (d20 L24M2) and `resnet` (d20 C16).

Data: `../shared/data/cifar10-mini`: training on data_batch_1..4 (4,068 real CIFAR-10 images, batch 64, augmentation
type 1), test accuracy on its test_batch (1,017 images from official training batch 5). A fixed number of epochs of
`fit_one_cycle` per run (default 5), seed 0; also what `lr_find` suggests (valley) for each network and optimiser.
Records test accuracy, not time, so a busy machine changes no number but the wall time.

Usage: python benchmarks/bench_opt.py [--epochs 5] [--lrs 1e-3,1e-2,0.1] [--out FILE]
"""
import argparse, os, platform, shlex, sys, tempfile, time
from pathlib import Path
import torch
from igc_fast.datasets import load_cifar10, MissingDataError, CorruptDataError
from igc_fast.data import tensor_dls
from igc_fast.learner import igc_learner, nesterov_sgd
import fastai
from fastai.optimizer import Adam
from fastai.basics import set_seed
from common import MINI, REPO, code_state, hardware

NETS = [('resnet_igc', 'IGC-L24M2', dict(depth=20, L=24, M=2)), ('resnet', 'ResNet-20 C16', dict(depth=20, C=16))]
OPTS = {'sgd': dict(opt_func=nesterov_sgd, wd=1e-4, wd_bn_bias=True, label='SGD Nesterov 0.9, wd 1e-4 (L2, all weights)'),
        'adam': dict(opt_func=Adam, wd=0.01, wd_bn_bias=False, label="fastai Adam, wd 0.01 (decoupled, not on BN/bias)")}

def learner(net, kw, opt, dls, seed):
    set_seed(seed)
    o = OPTS[opt]
    learn = igc_learner(dls, net, opt_func=o['opt_func'], wd=o['wd'], **kw)   # igc_learner's defaults otherwise: fp32, channels_last
    learn.wd_bn_bias = o['wd_bn_bias']
    learn.path = Path(tempfile.mkdtemp())
    return learn

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', default=str(MINI))
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--lrs', default='1e-3,1e-2,0.1', help='comma-separated peak learning rates')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=str(REPO/'benchmarks'/'results'/'opt_cifar10_mini_cpu.md'))
    args = ap.parse_args()
    try: arrays = load_cifar10(args.data)
    except (MissingDataError, CorruptDataError) as e:
        print(f'skipped: cifar10-mini is not usable at {args.data}: {" ".join(str(e).split())}'); return 0
    dls = tensor_dls(arrays, bs=64, val_bs=400, device='cpu', seed=args.seed)
    lrs = [float(v) for v in args.lrs.split(',')]
    t0, rows, sugg = time.perf_counter(), [], {}
    for net, label, kw in NETS:
        for opt in OPTS:
            learn = learner(net, kw, opt, dls, args.seed)
            with learn.no_bar(), learn.no_logging(): sugg[net, opt] = learn.lr_find(show_plot=False).valley
            print(f'{net} {opt}: lr_find valley {sugg[net, opt]:.2g}', flush=True)
            for lr in lrs:
                learn = learner(net, kw, opt, dls, args.seed)
                t = time.perf_counter()
                with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(args.epochs, lr)
                loss, acc = learn.validate()
                rows.append(dict(net=net, label=label, opt=opt, lr=lr, acc=acc, loss=loss, s=time.perf_counter() - t))
                print(f'{net} {opt} lr {lr:g}: test accuracy {acc:.4f}, loss {loss:.4f} ({rows[-1]["s"]:.0f}s)', flush=True)
    cmd = 'python ' + ' '.join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], REPO) if Path(sys.argv[0]).is_absolute() else sys.argv[0], *sys.argv[1:]])
    lines = [f'# Default optimiser for fit_one_cycle: SGD Nesterov against fastai Adam on cifar10-mini', '',
             f'Produced by `{cmd}` on {time.strftime("%Y-%m-%d")}, run in `{os.path.relpath(os.getcwd(), REPO)}`.', '',
             f'- hardware: {hardware("cpu")}',
             f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}; code: {code_state()}',
             f'- data: cifar10-mini: training on data_batch_1–4 ({len(arrays.x_train):,} real CIFAR-10 images, batch 64, pad 4 + '
             f'random crop + mirror), test on its test_batch ({len(arrays.x_test):,} images from official training batch 5)',
             f'- each run: a fresh network (seed {args.seed}), `fit_one_cycle({args.epochs}, lr)`, channels_last, float32; one run per cell '
             f'(accuracy, not time: the wall time is the only number another process changes); total {time.perf_counter() - t0:.0f} s',
             *[f'- `{k}`: {o["label"]}' for k, o in OPTS.items()], '',
             '| network | optimiser | ' + ' | '.join(f'lr {lr:g}' for lr in lrs) + ' | lr_find valley |',
             '| --- | --- | ' + ' | '.join('---:' for _ in lrs) + ' | ---: |']
    for net, label, _ in NETS:
        for opt in OPTS:
            cells = [next(r for r in rows if r['net'] == net and r['opt'] == opt and r['lr'] == lr) for lr in lrs]
            lines.append(f'| {label} (`{net}`) | {opt} | ' + ' | '.join(f"{r['acc']:.3f}" for r in cells) + f' | {sugg[net, opt]:.2g} |')
    best = {net: max((r for r in rows if r['net'] == net), key=lambda r: r['acc']) for net, _, _ in NETS}
    lines += ['', 'Test accuracy after the fit. Best per network: ' +
              '; '.join(f"{n}: {b['opt']} at lr {b['lr']:g} ({b['acc']:.3f})" for n, b in best.items()) + '.', '']
    Path(args.out).write_text('\n'.join(lines))
    print('\n'.join(lines))

if __name__ == '__main__': sys.exit(main())
