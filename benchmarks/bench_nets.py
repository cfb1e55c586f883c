"""Network-level benchmark: training images/s and peak memory of the paper's IGC networks against the regular
networks they are compared with, at the same batch, input size and precision: `resnet_igc` d20 L24M2 and `plain_igc`
d38 L24M2 against `resnet` d20 C16 (CIFAR, 32×32), and `igc_resnet18_l16m16` / `igc_resnet18_l100m2` against
ResNet-18 (torchvision's `resnet18` and this package's `resnet18_c64`, ImageNet layout).

A training step is forward, cross-entropy, backward and an SGD step (Nesterov momentum 0.9, weight decay 1e-4) on
random data held on the device. Settings per network: the IGC layers' reference implementation (`'reference'`, the
literal order) in NCHW fp32, then `'auto'` in NCHW and in channels_last fp32, and channels_last under
bf16 autocast (fp16 autocast with a GradScaler too on CUDA). Each setting runs in a fresh process: warm-up steps, then
`--runs` timed chunks of `--steps` steps; we report the median images/s over chunks and the spread. Peak memory: on
CUDA `torch.cuda.max_memory_allocated` over the timed steps; on the CPU the growth of the process's peak resident set
(`getrusage` ru_maxrss) from just before the first step to the end, i.e. activations, gradients, optimiser state and
workspace, not the weights or the Python runtime.

On a CPU the ImageNet networks run at a reduced batch and resolution (`--imagenet-batch`, `--imagenet-px`, default
16 at 112×112), stated in the results; on CUDA at batch 256, 224×224 unless told otherwise.

Usage: python benchmarks/bench_nets.py [--device cpu|cuda] [--runs 5] [--steps 3] [--nets cifar,imagenet]
                                        [--compile] [--precisions fp32,bf16,fp16] [--out FILE]
"""
import argparse, json, os, platform, resource, statistics, time, warnings
from pathlib import Path

import torch
from common import DTYPES, REPO, code_state, hardware, least_spread, run_child, sync

CIFAR = [('resnet_igc', 'IGC-L24M2 resnet_igc d20', dict(depth=20, L=24, M=2)),
         ('plain_igc', 'IGC-L24M2 plain_igc d38', dict(depth=38, L=24, M=2)),
         ('resnet', 'ResNet-20 C16 (resnet d20)', dict(depth=20, C=16))]
IMAGENET = [('igc_resnet18_l16m16', 'IGC-L16M16 ResNet-18', {}), ('igc_resnet18_l100m2', 'IGC-L100M2 ResNet-18', {}),
            ('torchvision.resnet18', 'ResNet-18 (torchvision)', {}), ('resnet18_c64', 'ResNet-18 C64 (igc_fast)', {})]


def settings(device, is_igc, compile_):
    "(impl, channels_last, precision, compile) settings per network"
    prec = ('bf16', 'fp16') if device == 'cuda' else ('bf16',)
    s = ([('reference', False, 'fp32', False)] if is_igc else []) + [('auto', False, 'fp32', False), ('auto', True, 'fp32', False)]
    s += [('auto', True, p, False) for p in prec]
    if compile_: s.append(('auto', True, prec[0] if device == 'cuda' else 'fp32', True))
    return s


def build(name, kw, num_classes):
    if name == 'torchvision.resnet18':
        import torchvision
        return torchvision.models.resnet18(num_classes=num_classes)
    from igc_fast.models import get_model
    return get_model(name, num_classes=num_classes, **kw)


def child(cfg):
    "Run one setting in this process and print its result as one JSON line"
    import torch.nn.functional as F
    from igc_fast.fast import use_impl, keep_freed_memory
    dev = cfg['device']
    if cfg['malloc'] == 'keep': keep_freed_memory()
    torch.manual_seed(0)
    model = build(cfg['name'], cfg['kw'], cfg['classes']).to(dev)
    fmt = torch.channels_last if cfg['cl'] else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randn(cfg['bs'], 3, cfg['px'], cfg['px'], device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, cfg['classes'], (cfg['bs'],), device=dev)
    dt = dict(bf16=torch.bfloat16, fp16=torch.float16).get(cfg['prec'])
    scaler = torch.amp.GradScaler(dev) if cfg['prec'] == 'fp16' else None
    fwd = torch.compile(model) if cfg['compile'] else model
    def step():
        with torch.autocast(dev, dtype=dt, enabled=dt is not None):
            loss = F.cross_entropy(fwd(x), y)
        if scaler: scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        else: loss.backward(); opt.step()
        opt.zero_grad(set_to_none=True)
    with use_impl(cfg['impl']):
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tc = time.perf_counter()
        for _ in range(cfg['warmup']): step()
        sync(dev)
        first = time.perf_counter() - tc
        if dev == 'cuda': torch.cuda.reset_peak_memory_stats()
        rates = []
        for _ in range(cfg['runs']):
            sync(dev); t = time.perf_counter()
            for _ in range(cfg['steps']): step()
            sync(dev)
            rates.append(cfg['bs'] * cfg['steps'] / (time.perf_counter() - t))
        peak = (torch.cuda.max_memory_allocated() if dev == 'cuda'
                else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024)
    n_params = sum(p.numel() for p in model.parameters())
    print(json.dumps(dict(rates=rates, peak=peak, params=n_params, warmup_s=first)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--steps', type=int, default=3, help='training steps per timed chunk')
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--nets', default='cifar,imagenet')
    ap.add_argument('--cifar-batch', type=int, default=64)
    ap.add_argument('--imagenet-batch', type=int, default=None, help='default 16 on a CPU, 256 on CUDA')
    ap.add_argument('--imagenet-px', type=int, default=None, help='default 112 on a CPU, 224 on CUDA')
    ap.add_argument('--compile', action='store_true', help='add a torch.compile setting per network')
    ap.add_argument('--precisions', default=None, help='comma-separated, from fp32, bf16, fp16: only the settings in these (default all)')
    ap.add_argument('--out', default=None, help='markdown file (default benchmarks/results/nets_{device}.md)')
    ap.add_argument('--malloc', default='keep', choices=['keep', 'default'],
                    help="'keep': igc_fast.fast.keep_freed_memory() in each process (CPU tensors reuse freed memory); 'default': glibc as it comes")
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    if args.child: return child(json.loads(args.child))
    if args.device == 'cuda' and not torch.cuda.is_available(): raise SystemExit('no CUDA device: run with --device cpu')
    cpu = args.device == 'cpu'
    precs = args.precisions.split(',') if args.precisions else None
    if precs and set(precs) - set(DTYPES): raise SystemExit(f'--precisions {args.precisions}: choose among {", ".join(DTYPES)}')
    ib = args.imagenet_batch or (16 if cpu else 256)
    ipx = args.imagenet_px or (112 if cpu else 224)
    groups = {'cifar': (CIFAR, args.cifar_batch, 32, 10), 'imagenet': (IMAGENET, ib, ipx, 1000)}
    out = Path(args.out or REPO/'benchmarks'/'results'/f'nets_{args.device}.md')
    t0, load0 = time.perf_counter(), os.getloadavg()
    rows = []
    for g in args.nets.split(','):
        nets, bs, px, classes = groups[g]
        for name, label, kw in nets:
            is_igc = 'igc' in name
            for impl, cl, prec, comp in settings(args.device, is_igc, args.compile):
                if precs and prec not in precs: continue
                cfg = dict(device=args.device, name=name, kw=kw, classes=classes, bs=bs, px=px, impl=impl, cl=cl, prec=prec,
                           compile=comp, runs=args.runs, steps=args.steps, warmup=args.warmup + 2 * comp, malloc=args.malloc)
                def once():  # a fresh process per try: a shared machine makes some settings noisy
                    got = run_child(__file__, cfg, f'{label} {impl}')
                    return got, (max(got['rates']) - min(got['rates'])) / statistics.median(got['rates'])
                res, spread, attempts = least_spread(once, args.device)
                res = {**res, 'spread': spread, 'attempts': attempts}
                rows.append(dict(group=g, label=label, name=name, bs=bs, px=px, impl=impl if is_igc else '–', cl=cl,
                                 prec=prec, compile=comp, **res))
                med = statistics.median(res['rates'])
                print(f'{label:32s} {impl:8s} {"CL  " if cl else "NCHW"} {prec} {"compile" if comp else "eager"}: '
                      f'{med:8.1f} img/s [{min(res["rates"]):.1f}, {max(res["rates"]):.1f}]  peak {res["peak"] / 2**20:7.0f} MiB '
                      f'({time.perf_counter() - t0:.0f}s)', flush=True)
    write(out, args, rows, time.perf_counter() - t0, load0, os.getloadavg(), ib, ipx)
    print(f'wrote {out}')


def write(out, args, rows, wall, load0, load1, ib, ipx):
    import fastai
    dev = args.device
    hw = hardware(dev) + ('; **no GPU run was made** (this machine has no CUDA device; `--device cuda` writes `nets_cuda.md`)'
                          if dev == 'cpu' else '')
    L = [f'# IGC networks: training throughput and memory, {"CPU" if dev == "cpu" else "GPU"}', '',
         f'Produced by `python benchmarks/bench_nets.py --device {dev} --runs {args.runs} --steps {args.steps}'
         + (' --compile' if args.compile else '') + (f' --nets {args.nets}' if args.nets != 'cifar,imagenet' else '')
         + (f' --precisions {args.precisions}' if args.precisions else '') + f'` on {time.strftime("%Y-%m-%d %H:%M")}, from the repository root.', '',
         f'- hardware: {hw}',
         f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}; code: {code_state()}',
         '- memory: ' + ('`igc_fast.fast.keep_freed_memory()` in every process (glibc keeps freed blocks for reuse; the resident set then '
                         'stays at its peak, which is what the peak column measures anyway)' if args.malloc == 'keep' else 'glibc malloc as it comes'),
         f'- CIFAR networks: batch {args.cifar_batch}, 32×32, 10 classes; ImageNet networks: batch {ib}, {ipx}×{ipx}, 1000 classes'
         + (' (reduced from 256 at 224×224 to fit this CPU)' if dev == 'cpu' else ''),
         '- step: forward, cross-entropy, backward, SGD (Nesterov, momentum 0.9, wd 1e-4) on random data on the device; '
         'bf16/fp16 = autocast (fp16 with a GradScaler)',
         f'- each row: a fresh process, {args.warmup} warm-up steps, then {args.runs} timed chunks of {args.steps} steps; '
         'images/s = median over chunks [min, max]; a row whose spread exceeded 30% was measured again (up to 3 times, the '
         'least spread kept; column "tries"), after waiting for other Python processes to end',
         '- peak memory: ' + ('growth of the peak resident set (ru_maxrss) from just before the first step to the end of the timed steps'
                              if dev == 'cpu' else '`torch.cuda.max_memory_allocated` over the timed steps'),
         f'- 1-minute load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end (a shared machine); total wall time {wall:.0f} s', '']
    for g, title in (('cifar', 'CIFAR networks'), ('imagenet', 'ImageNet networks')):
        rs = [r for r in rows if r['group'] == g]
        if not rs: continue
        base = {(r['cl'], r['prec'], r['compile']): statistics.median(r['rates']) for r in rs if r['name'] in ('resnet', 'torchvision.resnet18')}
        ref_name = 'ResNet-20 C16' if g == 'cifar' else 'torchvision ResNet-18'
        L += [f'## {title}', '', f'| network | params | IGC impl | format | precision | mode | images/s | ÷ {ref_name} same setting | peak memory (MiB) | tries |',
              '| --- | ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: |']
        for r in rs:
            med = statistics.median(r['rates'])
            b = base.get((r['cl'], r['prec'], r['compile']))
            ratio = f'{med / b:.2f}' if b else '–'
            L.append(f'| {r["label"]} | {r["params"]:,} | {r["impl"]} | {"channels_last" if r["cl"] else "NCHW"} | {r["prec"]} | '
                     f'{"compile" if r["compile"] else "eager"} | {med:,.1f} [{min(r["rates"]):,.1f}, {max(r["rates"]):,.1f}] | '
                     f'{ratio} | {r["peak"] / 2**20:,.0f} | {r["attempts"]} |')
        L.append('')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(L))


if __name__ == '__main__': main()
