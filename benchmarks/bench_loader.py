"""Training-loader throughput on CIFAR-sized images: igc_fast's device-resident `TensorLoader` (aug type 1:
pad 4 + random 32 crop + mirror, normalised) against fastai's default image pipeline with the same augmentation
(item transforms `CropPad(40)` + `RandomCrop(32)` + `FlipItem`, batch `IntToFloatTensor` + `Normalize`), fed from
in-memory images and from a folder of PNGs, with 0 and 2 worker processes. Batch 256, CPU.

Data: the real CIFAR-10 sample `../shared/data/cifar10-mini` when present (4,068 training images), else
scikit-learn's digits (1,437). Each configuration runs one untimed warm-up epoch, then RUNS timed epochs
(full passes over the training loader, workers started anew each epoch as fastai does); we report the median.

Usage: python benchmarks/bench_loader.py [--runs 5] [--out benchmarks/results/loader_cpu.md]
"""
import argparse, os, platform, statistics, tempfile, time, warnings
from pathlib import Path

import torch
import fastai
from fastai.vision.all import (DataBlock, ImageBlock, CategoryBlock, PILImage, CropPad, RandomCrop, FlipItem,
                               Normalize, IndexSplitter, ImageDataLoaders)
from common import MINI, REPO, hardware
from igc_fast.datasets import load_cifar10, load_digits32, DATASET_STATS
from igc_fast.data import tensor_dls


def time_epochs(dl, runs):
    "Images/s of full passes over `dl` (one untimed warm-up pass first)"
    for _ in dl: pass
    rates = []
    for _ in range(runs):
        n, t = 0, time.perf_counter()
        for xb, yb in dl: n += len(yb)
        rates.append(n / (time.perf_counter() - t))
    return rates


def fastai_dls(arrays, stats, workers, png_dir=None):
    "fastai's stock pipeline with the original aug type 1: pad 4, random 32 crop, mirror; then normalise"
    x = torch.cat([arrays.x_train, arrays.x_test]).permute(0, 2, 3, 1).numpy()  # HWC for PIL
    y = torch.cat([arrays.y_train, arrays.y_test])
    n_trn = len(arrays.x_train)
    mean, std = (torch.tensor(s) / 255 for s in stats)
    tfms = dict(item_tfms=[CropPad(40), RandomCrop(32), FlipItem(0.5)], batch_tfms=Normalize.from_stats(mean, std))
    if png_dir is None:
        db = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=lambda _: list(range(len(x))),
                       get_x=lambda i: PILImage.create(x[i]), get_y=lambda i: arrays.classes[int(y[i])],
                       splitter=IndexSplitter(range(n_trn, len(x))), **tfms)
        return db.dataloaders(None, bs=256, num_workers=workers, device='cpu')
    return ImageDataLoaders.from_folder(png_dir, train='train', valid='valid', bs=256, num_workers=workers,
                                        device='cpu', **tfms)


def write_pngs(arrays, root):
    from PIL import Image
    for split, xs, ys in (('train', arrays.x_train, arrays.y_train), ('valid', arrays.x_test, arrays.y_test)):
        for c in arrays.classes: (root/split/c).mkdir(parents=True, exist_ok=True)
        for i, (im, lab) in enumerate(zip(xs.permute(0, 2, 3, 1).numpy(), ys.tolist())):
            Image.fromarray(im).save(root/split/arrays.classes[lab]/f'{i}.png')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--out', default=str(REPO/'benchmarks'/'results'/'loader_cpu.md'))
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    if (MINI/'cifar-10-batches-py').is_dir(): arrays, data = load_cifar10(MINI), 'cifar10-mini (real CIFAR-10, 4 batches)'
    else: arrays, data = load_digits32(), 'scikit-learn digits resized to 32×32×3 (cifar10-mini absent)'
    stats = DATASET_STATS['cifar10']
    print(f'data: {data}: {len(arrays.x_train)} training images', flush=True)

    results = []
    def record(name, workers, rates):
        results.append((name, workers, rates))
        print(f'{name:<48} workers={workers}: median {statistics.median(rates):8.0f} img/s  '
              f'(runs: {", ".join(f"{r:.0f}" for r in rates)})', flush=True)

    t0, load0, threads = time.perf_counter(), os.getloadavg()[0], torch.get_num_threads()
    # one intra-op thread too: a busy core stalls a multi-threaded torch op, while a single thread only slows down
    for nt, fmt in ((threads, torch.contiguous_format), (threads, torch.channels_last), (1, torch.contiguous_format)):
        torch.set_num_threads(nt)
        dls = tensor_dls(arrays._replace(name='cifar10'), bs=256, device='cpu', aug_type=1, seed=0, memory_format=fmt)
        record(f'igc_fast TensorLoader ({str(fmt).split(".")[-1]}, {nt} thread{"s"*(nt > 1)})', 0,
               time_epochs(dls.train, 4*args.runs))
    torch.set_num_threads(threads)
    fa_runs = max(3, args.runs - 2)
    with tempfile.TemporaryDirectory() as d:
        for workers in (0, 2):
            record('fastai DataBlock, in-memory images', workers, time_epochs(fastai_dls(arrays, stats, workers).train, fa_runs))
        write_pngs(arrays, Path(d))
        for workers in (0, 2):
            record('fastai ImageDataLoaders.from_folder, PNG files', workers,
                   time_epochs(fastai_dls(arrays, stats, workers, Path(d)).train, fa_runs))
    wall = time.perf_counter() - t0

    base = statistics.median(results[0][2])
    lines = [
        '# Training-loader throughput, CPU', '',
        f'Produced by `python benchmarks/bench_loader.py` on {time.strftime("%Y-%m-%d")}.', '',
        f'- hardware: {hardware()} unless the row says otherwise, no GPU used',
        f'- software: Python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}',
        f'- data: {data}, {len(arrays.x_train)} training images of 32×32×3; batch 256, last partial batch dropped',
        f'- augmentation (all rows): pad 4 + random 32×32 crop + mirror (original aug type 1), normalised float32',
        f'- 1-minute load average: {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (a shared machine: other jobs may have run)',
        f'- each row: 1 untimed warm-up epoch, then the listed number of timed epochs (4× more for the fast TensorLoader, whose epochs last milliseconds); total wall time {wall:.0f} s', '',
        '| loader | workers | runs | median img/s | min | max | first row\'s median ÷ this median |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for name, workers, rates in results:
        med = statistics.median(rates)
        lines.append(f'| {name} | {workers} | {len(rates)} | {med:,.0f} | {min(rates):,.0f} | {max(rates):,.0f} | {base / med:.1f} |')
    lines += ['', 'The fastai rows make a PIL image of every item and pad, crop and flip it one item at a time; the '
              'TensorLoader rows cut each batch from one uint8 tensor with one gather and normalise it in place.', '']
    out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__': main()
