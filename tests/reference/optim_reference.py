#!/usr/bin/env python3
"""Reference numbers for tests/autograd/test_optim.cpp, produced with PyTorch (CPU, float64).

A toy model with two parameter groups mirrors the flat Parameters layout: group 0 is the decay
range (3 "kernel" elements), group 1 the rest (2 elements: a "bias" and a "BN gamma"). Three steps
with fixed gradients and a learning rate that changes every step. Prints C++ initialisers that the
test hard-codes. Run: python3 tests/reference/optim_reference.py (torch 2.x).
"""
import torch

torch.set_default_dtype(torch.float64)

W0 = [0.5, -1.2, 2.0, 0.3, 1.1]
DECAY = 3
GRADS = [
    [0.1, -0.2, 0.3, 0.4, -0.6],
    [-0.05, 0.15, 0.25, -0.35, 0.02],
    [0.3, 0.0, -0.1, 0.05, 0.5],
]
LRS = [0.1, 0.05, 0.02]


def run(make_opt):
    kernel = torch.tensor(W0[:DECAY], requires_grad=True)
    rest = torch.tensor(W0[DECAY:], requires_grad=True)
    opt = make_opt(kernel, rest)
    out = []
    for g, lr in zip(GRADS, LRS):
        for group in opt.param_groups:
            group["lr"] = lr
        kernel.grad = torch.tensor(g[:DECAY])
        rest.grad = torch.tensor(g[DECAY:])
        opt.step()
        out.append(torch.cat([kernel.detach(), rest.detach()]).tolist())
    return out


def groups(kernel, rest, wd):
    return [{"params": [kernel], "weight_decay": wd}, {"params": [rest], "weight_decay": 0.0}]


def emit(name, rows):
    print(f"// {name}: parameters after steps 1, 2, 3")
    print(f"const double {name}[3][5] = {{")
    for r in rows:
        print("    {" + ", ".join(repr(v) for v in r) + "},")
    print("};")


emit("kTorchSgdNesterov", run(lambda k, r: torch.optim.SGD(
    groups(k, r, 0.01), lr=0.1, momentum=0.9, nesterov=True, foreach=False)))
emit("kTorchSgdMomentum", run(lambda k, r: torch.optim.SGD(
    groups(k, r, 0.01), lr=0.1, momentum=0.9, nesterov=False, foreach=False)))
emit("kTorchAdamW", run(lambda k, r: torch.optim.AdamW(
    groups(k, r, 0.1), lr=0.1, betas=(0.9, 0.999), eps=1e-8, foreach=False)))
