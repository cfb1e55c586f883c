"""Baselines for `bench_layers.py`: ways to compute the IGC block that no implementation of `igc_fast.fast` uses, kept
to show what the implementations are measured against. Each is a function of the block's input and its two weights,
like `igc_fast.fast.igc_apply`, and `check()` proves each equal to the reference in float64 before it is timed.

- `view`: the literal order with the shuffle as reshape → transpose → reshape (on the NHWC view of a channels_last
  tensor, so that it stays channels_last);
- `index`: the literal order with the shuffle as an `index_select` of the permutation;
- `dense`: one dense k×k convolution with the folded kernel A·W^p (A = P_M W^d P_L): both shuffles and both group
  structures folded away, at the full k²G² cost, and with no primary output that a hook could see.

`'auto'` never picks them and `'tune'` measures only the implementations; the results files of `bench_layers.py` show
where each stands.
"""
import torch
import torch.nn.functional as F
from torch import Tensor
from igc_fast.core import igc_forward, shuffle_index, _is_cl
from igc_fast.fast import mixing_weight


def shuffle_view(x: Tensor, groups: int) -> Tensor:
    "`channel_shuffle` as reshape → transpose → reshape, on the NHWC view of a channels_last `x` so that it stays channels_last"
    n, c = x.shape[:2]
    if groups == 1 or groups == c: return x
    if _is_cl(x):
        h, w = x.shape[2:]
        y = x.permute(0, 2, 3, 1).reshape(n, h, w, groups, c // groups).transpose(3, 4).reshape(n, h, w, c)
        return y.permute(0, 3, 1, 2)
    return x.reshape(n, groups, c // groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


def shuffle_gather(x: Tensor, groups: int) -> Tensor:
    "`channel_shuffle` as an `index_select` of the `shuffle_index` permutation"
    c = x.shape[1]
    if groups == 1 or groups == c: return x
    return x.index_select(1, shuffle_index(c, groups).to(x.device))


def _literal(shuffle):
    def f(x, wp, wd, L, M, stride=1, padding=1):
        z = shuffle(F.conv2d(x, wp, None, stride, padding, 1, L), L)
        return shuffle(F.conv2d(z, wd, None, 1, 0, 1, M), M)
    return f


def folded_kernel(wp: Tensor, wd: Tensor, L: int, M: int) -> Tensor:
    "The block's dense (G, ni, k, k) kernel A · W^p, contracted group by group (= `igc_fast.core.igc_dense_weight`)"
    A = mixing_weight(wd, L, M)
    G, ci, ks = A.shape[0], wp.shape[1], wp.shape[2:]
    return torch.einsum('olp,lpcij->olcij', A.view(G, L, G // L), wp.reshape(L, G // L, ci, *ks)).reshape(G, L * ci, *ks)


def igc_dense(x, wp, wd, L, M, stride=1, padding=1):
    "One dense k×k convolution with `folded_kernel`"
    return F.conv2d(x, folded_kernel(wp, wd, L, M), None, stride, padding)


BASELINES = dict(view=_literal(shuffle_view), index=_literal(shuffle_gather), dense=igc_dense)


def check():
    "Each baseline equals the reference block in float64 (forward and every gradient), in both memory formats; `view` keeps channels_last"
    g = torch.Generator().manual_seed(0)
    for ni, nf, L, M, s in [(48, 48, 24, 2, 1), (16, 32, 4, 4, 2), (12, 12, 3, 2, 1)]:
        wp = torch.randn(nf, ni // L, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
        wd = torch.randn(nf, nf // M, 1, 1, generator=g, dtype=torch.float64, requires_grad=True)
        for fmt in (torch.contiguous_format, torch.channels_last):
            x = torch.randn(2, ni, 7, 7, generator=g, dtype=torch.float64).contiguous(memory_format=fmt).requires_grad_()
            ref = igc_forward(x, wp, wd, L, M, s)
            gref = torch.autograd.grad(ref.sum(), (x, wp, wd))
            for name, f in BASELINES.items():
                y = f(x, wp, wd, L, M, s)
                assert torch.allclose(y, ref, atol=1e-10), (name, ni, nf, fmt)
                if name == 'view' and fmt == torch.channels_last: assert _is_cl(y), 'view must keep channels_last'
                for a, b in zip(torch.autograd.grad(y.sum(), (x, wp, wd)), gref): assert torch.allclose(a, b, atol=1e-10), (name, 'grad')


if __name__ == '__main__':
    check(); print(f'{", ".join(BASELINES)}: equal to the reference block in float64')
