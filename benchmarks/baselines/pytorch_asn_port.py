#!/usr/bin/env python3
"""PyTorch port of the AssembleNet-family networks exactly as asn builds them from a structure file
(graph/structure.cpp, graph/network.cpp, layers/*.cpp), for pytorch_models.py (the training-step
baseline and its --check against asn-structure).

Layout: asn is channels-last (N, T, H, W, C); here every activation is an NCDHW tensor, in
torch.channels_last_3d memory format when the caller makes the inputs so (the same bytes as asn's).
Conv kernels: asn (Cout, kT, kH, kW, Cin) <-> torch (Cout, Cin, kT, kH, kW); dense kernels are
(Cout, Cin) in both. Every parameter and buffer carries asn's name (docs/weights.md), so weights
move both ways (AssembleNet.asn_state / load_asn_state).

Padding follows kernels/common/padding.h: TF SAME (extra pad after) for stride-1 axes and all of
Lite; the reference's "fixed" padding ((k-1)//2 before, the rest after, then VALID) for the strided
2-D convs of AssembleNet / ++. Symmetric pads go to the conv itself, asymmetric ones (Lite's
strided 3x3 on even sizes) to an explicit F.pad first. Max pools are SAME with padding that never
wins. The representation-flow layer is pytorch_rep_flow.rep_flow and the fusion resize
pytorch_fusion.resize (imported, not rewritten).

What differs from asn: only the arithmetic's order and fusion (asn fuses BN+ReLU and the fusion's
resize/weight/gate/sum into single kernels; here they are separate PyTorch ops), so results agree
to float rounding (pytorch_models.py --check measures it). rep_flow.trainable is not supported
(pytorch_rep_flow.py takes fixed taps); no published structure uses it.
"""

import collections
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pytorch_fusion import resize, same_pad  # noqa: E402  (the fusion's max-pool resize rule)
from pytorch_rep_flow import rep_flow  # noqa: E402  (the representation-flow layer, eager)

DEPTHS = {26: [2, 2, 2, 2], 38: [2, 4, 4, 2], 50: [3, 4, 6, 3], 68: [3, 4, 12, 3],
          77: [3, 4, 15, 3], 101: [3, 4, 23, 3]}
# rep_flow/* buffers and their defaults (autograd/functions/rep_flow.cpp rep_flow_param_specs).
REP_FLOW_DEFAULTS = collections.OrderedDict([
    ("theta", [0.3]), ("lambda", [0.15]), ("tau", [0.25]),
    ("img_grad_x", [-0.5, 0.0, 0.5]), ("img_grad_y", [-0.5, 0.0, 0.5]),
    ("f_grad_x", [-1.0, 1.0]), ("f_grad_y", [-1.0, 1.0]),
    ("f_grad_x2", [-1.0, 1.0]), ("f_grad_y2", [-1.0, 1.0])])


# --------------------------------------------------------------------------------------------
# Structure files (graph/structure.cpp; docs/structure-format.md). Validation is asn's job; this
# reads the keys with asn's defaults.

class Structure:
    def __init__(self, path):
        with open(path) as f:
            j = json.load(f)
        self.path = path
        self.name = j.get("name", os.path.splitext(os.path.basename(path))[0])
        self.family = j["family"]
        self.lite = self.family == "assemblenet_plus_lite"
        if "depth" in j:
            self.blocks_per_level = DEPTHS[j["depth"]]
        elif "blocks_per_level" in j:
            self.blocks_per_level = list(j["blocks_per_level"])
        else:
            self.blocks_per_level = [3, 5, 11, 7] if self.lite else DEPTHS[50]
        self.num_classes = j.get("num_classes", 157)
        self.attention = j.get("attention", "none")
        obj = j.get("object_input", {})
        self.object_input = obj.get("enabled", False)
        self.num_object_classes = obj.get("num_classes", 151)
        rf = j.get("rep_flow", {})
        self.rep_flow_iterations = rf.get("iterations", 20 if self.lite else 40)
        self.rep_flow_trainable = rf.get("trainable", False)
        self.max_pool_predictions = j.get("max_pool_predictions", False)
        self.dropout = j.get("dropout", 0.0)
        self.lite_fusion_true_channels = j.get("lite_fusion_true_channels", False)
        self.intermediate_channels = j.get("intermediate_channels", [64, 128, 256, 512])
        self.lite_head_channels = j.get("lite_head_channels", [432, 2048])
        self.nodes = []
        for v in j["nodes"]:
            if v[0] < 0:
                self.nodes.append({"stem": v[0], "level": v[0], "dilation": v[1]})
            else:
                self.nodes.append({"stem": None, "level": v[0], "inputs": list(v[1]), "filters": v[2],
                                   "dilation": v[3], "stride": v[4]})
        ew = j["edge_weights"]
        self.learn_edge_weights = len(ew) == 0
        for i, n in enumerate(self.nodes):
            n["edge_weights"] = list(ew[i][0]) if ew and ew[i] else []
        stems = sum(1 for n in self.nodes if n["stem"] is not None)
        self.stem_filters = j.get("stem_filters", 24 if self.lite else 128 // max(1, stems))

    def nodes_at_level(self, level):
        return [i for i, n in enumerate(self.nodes) if n["level"] == level]


# --------------------------------------------------------------------------------------------
# Layers. Each leaf knows its asn name; asn_entries() lists (asn name, tensor, kind) with kind
# "conv" (layout change on export), "kernel" (dense kernel) or "plain".

def frames(x):
    """(N, C, T, H, W) channels_last_3d -> (N*T, C, H, W) channels_last, a view."""
    n, c, t, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)


def unframes(y, n, t):
    """(N*T, C, H, W) -> (N, C, T, H, W)."""
    return y.reshape(n, t, *y.shape[1:]).permute(0, 2, 1, 3, 4)


def spatial_apply(x, fn):
    """Applies fn, an op on (images, C, H, W) acting on each (H, W) plane, to (N, C, T, H, W)
    through a view: (N*T, C, H, W) channels_last for channels_last_3d tensors (the CUDA case),
    (N, C*T, H, W) for contiguous NCDHW ones (what PyTorch's native CPU convolutions return)."""
    n, c, t, h, w = x.shape
    if x.is_contiguous():
        y = fn(x.reshape(n, c * t, h, w))
        return y.reshape(n, c, t, y.shape[2], y.shape[3])
    return unframes(fn(frames(x)), n, t)


def same_max_pool(x, k, s):
    """TF SAME spatial max pool (window k x k, stride s) of (N, C, T, H, W); padding never wins."""
    h, w = x.shape[3], x.shape[4]
    (pt, pb), (pl, pr) = same_pad(h, k, s), same_pad(w, k, s)
    oh, ow = (h + s - 1) // s, (w + s - 1) // s

    def pool(y):
        if pt == pb and pl == pr:  # PyTorch pads max pools with -inf, symmetric only
            return F.max_pool2d(y, k, s, padding=(pt, pl))
        if pt == 0 and pl == 0 and (h - k + s - 1) // s + 1 == oh and (w - k + s - 1) // s + 1 == ow:
            return F.max_pool2d(y, k, s, ceil_mode=True)  # the same windows, the last one clipped
        return F.max_pool2d(F.pad(y, (pl, pr, pt, pb), value=float("-inf")), k, s)

    y = spatial_apply(x, pool)
    assert y.shape[3:] == (oh, ow)
    return y


class Conv(nn.Module):
    """layers/conv.cpp: no bias; padding 'same' (TF SAME on every axis) or 'fixed' (per axis: SAME
    where the stride is 1, else (ke-1)//2 before and the rest after, ke the dilated extent)."""

    spatial_as_2d = False  # run (1, kH, kW) convs as conv2d over the N*T frames (same maths)

    def __init__(self, name, cin, cout, kernel, stride=(1, 1, 1), dilation=(1, 1, 1), padding="same",
                 init_std=None):
        super().__init__()
        self.asn_name = name
        self.cin, self.cout = cin, cout
        self.kernel, self.stride, self.dilation, self.padding = tuple(kernel), tuple(stride), tuple(dilation), padding
        self.weight = nn.Parameter(torch.empty(cout, cin, *kernel))
        self.init_std = init_std
        self.reset_parameters()
        self.macs = 0  # of the last forward, per clip

    def pads(self, dims):
        out = []
        for n, k, s, d in zip(dims, self.kernel, self.stride, self.dilation):
            ke = (k - 1) * d + 1
            if self.padding == "same" or s == 1:
                out.append(same_pad(n, ke, s))
            else:
                out.append(((ke - 1) // 2, ke - 1 - (ke - 1) // 2))
        return out

    def forward(self, x):
        pads = self.pads(x.shape[2:])
        if all(b == a for b, a in pads):
            padding = tuple(b for b, _ in pads)
        else:
            x = F.pad(x, (pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
            padding = (0, 0, 0)
        if Conv.spatial_as_2d and self.kernel[0] == 1 and self.stride[0] == 1:
            n, t = x.shape[0], x.shape[2]
            y = unframes(F.conv2d(frames(x), self.weight[:, :, 0], None, self.stride[1:], padding[1:],
                                  self.dilation[1:]), n, t)
        else:
            y = F.conv3d(x, self.weight, None, self.stride, padding, self.dilation)
        self.macs = y[0].numel() * self.cin * self.kernel[0] * self.kernel[1] * self.kernel[2]
        return y

    def asn_entries(self):
        return [(self.asn_name + "/kernel", self.weight, "conv")]

    def reset_parameters(self):
        # asn's distributions (ag::init), not its values: variance scaling fan_in (TF's truncated
        # normal), or the reference's std sqrt(2 / (k * cin)) for dilated temporal kernels.
        fan_in = self.cin * self.kernel[0] * self.kernel[1] * self.kernel[2]
        std = self.init_std if self.init_std else math.sqrt(1.0 / fan_in) / 0.87962566103423978
        nn.init.trunc_normal_(self.weight, 0.0, std, -2 * std, 2 * std)


class BatchNorm(nn.BatchNorm3d):
    """layers/batch_norm.cpp: momentum 0.99 in TF's convention (PyTorch 0.01), eps 1e-5, unbiased
    variance into the moving average (as PyTorch)."""

    def __init__(self, name, channels, zero_gamma=False):
        super().__init__(channels, eps=1e-5, momentum=0.01)
        self.asn_name = name
        self.zero_gamma = zero_gamma
        self.reset_to_asn()

    def reset_to_asn(self):
        self.reset_parameters()
        if self.zero_gamma:
            nn.init.zeros_(self.weight)

    def asn_entries(self):
        return [(self.asn_name + "/gamma", self.weight, "plain"), (self.asn_name + "/beta", self.bias, "plain"),
                (self.asn_name + "/moving_mean", self.running_mean, "plain"),
                (self.asn_name + "/moving_variance", self.running_var, "plain")]


class ConvBn(nn.Module):
    """layers/conv_bn.cpp: conv -> BN -> optional ReLU; asn names <name>/conv, <name>/bn."""

    def __init__(self, name, cin, cout, kernel, stride=(1, 1, 1), dilation=(1, 1, 1), padding="same",
                 relu=True, zero_gamma=False, dilated_std=None):
        super().__init__()
        self.conv = Conv(name + "/conv", cin, cout, kernel, stride, dilation, padding, dilated_std)
        self.bn = BatchNorm(name + "/bn", cout, zero_gamma)
        self.relu = relu

    def forward(self, x):
        y = self.bn(self.conv(x))
        return F.relu(y, inplace=True) if self.relu else y


class Dense(nn.Linear):
    """layers/dense.cpp: kernel (Cout, Cin) ~ N(0, 0.01), bias 0."""

    def __init__(self, name, cin, cout):
        super().__init__(cin, cout)
        self.asn_name = name
        self.macs = 0
        nn.init.normal_(self.weight, 0.0, 0.01)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        self.macs = (x.numel() // x.shape[0]) * self.out_features
        return super().forward(x)

    def asn_entries(self):
        return [(self.asn_name + "/kernel", self.weight, "kernel"), (self.asn_name + "/bias", self.bias, "plain")]


def dilated_std(k, cin, d):
    return math.sqrt(2.0 / (k * cin)) if d > 1 else None


class RgbStem(nn.Module):
    """layers/stems.cpp: 7x7/2 fixed-padded conv + BN + ReLU, temporal (5,1,1) conv with dilation
    max(d, 1) + BN + ReLU, 3x3/2 SAME max pool."""

    def __init__(self, name, cin, f, d):
        super().__init__()
        d = max(d, 1)
        self.conv_0 = ConvBn(name + "/conv_0", cin, f, (1, 7, 7), (1, 2, 2), padding="fixed")
        self.conv_1 = ConvBn(name + "/conv_1", f, f, (5, 1, 1), dilation=(d, 1, 1), dilated_std=dilated_std(5, f, d))

    def forward(self, x):
        return same_max_pool(self.conv_1(self.conv_0(x)), 3, 2)


class FlowStem(nn.Module):
    """7x7/2 fixed-padded conv + BN + ReLU, 2x2/2 SAME max pool (no temporal conv)."""

    def __init__(self, name, cin, f):
        super().__init__()
        self.conv_0 = ConvBn(name + "/conv_0", cin, f, (1, 7, 7), (1, 2, 2), padding="fixed")

    def forward(self, x):
        return same_max_pool(self.conv_0(x), 2, 2)


class LiteStem(nn.Module):
    """3x3/2 SAME conv + BN + ReLU, temporal (3,1,1) conv (dilation max(d, 1)) + BN + ReLU."""

    def __init__(self, name, cin, f, d):
        super().__init__()
        d = max(d, 1)
        self.conv_0 = ConvBn(name + "/conv_0", cin, f, (1, 3, 3), (1, 2, 2))
        self.conv_1 = ConvBn(name + "/conv_1", f, f, (3, 1, 1), dilation=(d, 1, 1), dilated_std=dilated_std(3, f, d))

    def forward(self, x):
        return self.conv_1(self.conv_0(x))


class BottleneckBlock(nn.Module):
    """layers/bottleneck_block.cpp: shortcut (first block: 1x1 conv + BN, stride s), then conv_0
    (odd steps temporal (3,1,1) dilation d, else 1x1) + BN + ReLU, conv_1 3x3 stride s + BN + ReLU,
    conv_2 1x1 + BN (gamma 0); ReLU(y + shortcut)."""

    def __init__(self, name, cin, f, inter, stride, d, step):
        super().__init__()
        s = stride if step == 0 else 1
        out = 4 * f
        self.shortcut = ConvBn(name + "/shortcut", cin, out, (1, 1, 1), (1, s, s), padding="fixed",
                               relu=False) if step == 0 else None
        if step % 2 == 1:
            self.conv_0 = ConvBn(name + "/conv_0", cin, f, (3, 1, 1), dilation=(d, 1, 1),
                                 dilated_std=dilated_std(3, cin, d))
        else:
            self.conv_0 = ConvBn(name + "/conv_0", cin, f, (1, 1, 1), padding="fixed")
        self.conv_1 = ConvBn(name + "/conv_1", f, inter, (1, 3, 3), (1, s, s), padding="fixed")
        self.conv_2 = ConvBn(name + "/conv_2", inter, out, (1, 1, 1), padding="fixed", relu=False, zero_gamma=True)

    def forward(self, x):
        sc = self.shortcut(x) if self.shortcut is not None else x
        y = self.conv_2(self.conv_1(self.conv_0(x)))
        return F.relu(y.add_(sc), inplace=True)


class InvertedBottleneckBlock(nn.Module):
    """layers/inverted_bottleneck.cpp (Lite): shortcut (first block, 1x1x1 stride s SAME + BN),
    expand 1x1x1 + BN + ReLU; strided: spatial (1,3,3)/s SAME + BN + ReLU then temporal (3,1,1)
    dilation d + BN + ReLU; else spatiotemporal (3,3,3) dilation (d,1,1) + BN + ReLU; project
    1x1x1 + BN (gamma 0); ReLU(y + shortcut)."""

    def __init__(self, name, cin, filters, stride, d, first):
        super().__init__()
        f0, f1, f2 = filters
        s = stride if first else 1
        self.strided = s > 1
        self.shortcut = ConvBn(name + "/shortcut", cin, f2, (1, 1, 1), (1, s, s), relu=False) if first else None
        self.expand = ConvBn(name + "/expand", cin, f0, (1, 1, 1))
        if self.strided:
            self.spatial = ConvBn(name + "/spatial", f0, f1, (1, 3, 3), (1, s, s))
            self.temporal = ConvBn(name + "/temporal", f1, f1, (3, 1, 1), dilation=(d, 1, 1),
                                   dilated_std=dilated_std(3, f1, d))
        else:
            self.spatial = ConvBn(name + "/spatiotemporal", f0, f1, (3, 3, 3), dilation=(d, 1, 1))
            self.temporal = None
        self.project = ConvBn(name + "/project", f1, f2, (1, 1, 1), relu=False, zero_gamma=True)

    def forward(self, x):
        sc = self.shortcut(x) if self.shortcut is not None else x
        y = self.spatial(self.expand(x))
        if self.temporal is not None:
            y = self.temporal(y)
        y = self.project(y)
        return F.relu(y.add_(sc), inplace=True)


def hw_mean(x):
    """(N, C, T, H, W) -> (N, T, C): the per-frame global average."""
    return x.mean(dim=(3, 4)).transpose(1, 2)


def apply_gate(x, gate):
    """x (N, C, T, H, W) times gate (N, T, C) broadcast over (H, W)."""
    return x * gate.transpose(1, 2)[:, :, :, None, None]


class ConnectionAttention(nn.Module):
    """layers/attention.cpp: peer: softmax(peer_logits) mix of the peer vectors -> dense -> sigmoid;
    self: per-frame mean of the input -> dense -> sigmoid. Gates are (N, T, C)."""

    def __init__(self, name, mode, channels, num_peers, peer_width):
        super().__init__()
        self.mode = mode
        if mode == "peer":
            self.peer_logits = nn.Parameter(torch.empty(num_peers))
            nn.init.trunc_normal_(self.peer_logits, 0.0, 0.01, -0.02, 0.02)
            self.dense = Dense(name + "/dense", peer_width, channels)
        else:
            self.dense = Dense(name + "/dense", channels, channels)
        self.asn_name = name

    def gate(self, x, peers):
        if self.mode == "peer":
            mix = torch.softmax(self.peer_logits, 0)
            a = None
            for k, p in enumerate(peers):
                term = p * mix[k]
                a = term if a is None else a + term
        else:
            a = hw_mean(x)
        return torch.sigmoid(self.dense(a))

    def asn_entries(self):
        return [(self.asn_name + "/peer_logits", self.peer_logits, "plain")] if self.mode == "peer" else []


class Fusion(nn.Module):
    """layers/fusion.cpp: the node's inputs resized to the smallest (H, W) by the reference's max
    pool, times the sigmoid edge weights, gated by attention, summed per channel group (groups in
    first-appearance order), each group not of the fusion width L projected by a 1x1 conv, summed."""

    def __init__(self, name, s, node, in_info, peer_channels):
        super().__init__()
        n = len(in_info)
        self.asn_name = name
        self.mode = s.attention
        self.peers = None
        if self.mode == "peer":  # built first, as in the reference
            width = max(peer_channels)
            self.peers = nn.ModuleList(Dense(f"{name}/attention/peer_{k}", c, width)
                                       for k, c in enumerate(peer_channels))
        self.channels = [c for c, _, _ in in_info]
        self.learned = False
        if n == 1:
            self.width = self.channels[0]
        else:
            self.width = self.fusion_width(s, in_info)
            if not node["edge_weights"]:
                self.learned = True
                self.edge_logits = nn.Parameter(torch.empty(n))
                nn.init.trunc_normal_(self.edge_logits, 0.0, 0.01, -0.02, 0.02)
            else:
                logits = [-math.log(1.0 / w - 1.0) for w in node["edge_weights"]]
                self.register_buffer("edge_logits", torch.tensor(logits, dtype=torch.float64).float())
            self.groups = []
            for c in self.channels:
                if c not in self.groups:
                    self.groups.append(c)
            self.projects = nn.ModuleDict()
            for c in self.groups:
                if c != self.width:
                    self.projects[str(c)] = Conv(f"{name}/fusion/project_{c}", c, self.width, (1, 1, 1))
        self.attention = None
        if self.mode != "none":
            np_ = len(peer_channels) if self.peers is not None else 0
            pw = max(peer_channels) if self.peers is not None else 0
            self.attention = nn.ModuleList(
                ConnectionAttention(f"{name}/attention/connection_{j}", self.mode, self.channels[j], np_, pw)
                for j in range(n))

    @staticmethod
    def fusion_width(s, in_info):
        L = 0
        for c, _, w in in_info:
            if s.family == "assemblenet":
                L = max(L, c)
            elif s.lite and not s.lite_fusion_true_channels:
                if c > L and c != s.num_object_classes:
                    L = w  # the reference's shape[3] of a 5-D tensor: the width (spec 4.4)
            elif c > L and c != s.num_object_classes:
                L = c
        return L

    def forward(self, xs, peer_streams):
        pv = [d(hw_mean(p)) for d, p in zip(self.peers, peer_streams)] if self.peers is not None else []
        if len(xs) == 1:
            x = xs[0]
            return apply_gate(x, self.attention[0].gate(x, pv)) if self.attention is not None else x
        hs = min(x.shape[3] for x in xs)
        ws = min(x.shape[4] for x in xs)
        w = torch.sigmoid(self.edge_logits)
        out = None
        for c in self.groups:
            t = None
            for j, x in enumerate(xs):
                if self.channels[j] != c:
                    continue
                term = spatial_apply(x, lambda y: resize(y, hs, ws)) * w[j]
                if self.attention is not None:
                    term = apply_gate(term, self.attention[j].gate(term, pv))
                t = term if t is None else t + term
            if c != self.width:
                t = self.projects[str(c)](t)
            out = t if out is None else out + t
        return out

    def asn_entries(self):
        return [(self.asn_name + "/fusion/edge_logits", self.edge_logits, "plain")] if len(self.channels) > 1 else []


class RepFlow(nn.Module):
    """The representation-flow layer (layers/rep_flow_layer.cpp, bottleneck 1) through
    pytorch_rep_flow.rep_flow; its nine rep_flow/* values are buffers with asn's defaults."""

    def __init__(self, iterations):
        super().__init__()
        self.iterations = iterations
        for k, v in REP_FLOW_DEFAULTS.items():
            self.register_buffer(k, torch.tensor(v))
        self.refresh()

    def refresh(self):
        """After loading: pytorch_rep_flow takes theta, lambda, tau as numbers and fixed taps."""
        if self.theta.is_meta:
            self.scalars = tuple(REP_FLOW_DEFAULTS[k][0] for k in ("theta", "lambda", "tau"))
            return
        for k in list(REP_FLOW_DEFAULTS)[3:]:
            if getattr(self, k).tolist() != REP_FLOW_DEFAULTS[k]:
                raise ValueError(f"rep_flow/{k} is {getattr(self, k).tolist()}: pytorch_rep_flow.py supports only "
                                 f"the default taps {REP_FLOW_DEFAULTS[k]}")
        self.scalars = (float(self.theta[0]), float(getattr(self, "lambda")[0]), float(self.tau[0]))

    def forward(self, rgb):
        """rgb (N, 3, T, H, W) -> flow (N, 2, T, H, W), both channels-last in memory."""
        theta, lam, tau = self.scalars
        flow = rep_flow(rgb.permute(0, 2, 3, 4, 1), self.iterations, theta, lam, tau)
        return flow.permute(0, 4, 1, 2, 3)

    def asn_entries(self):
        return [("rep_flow/" + k, getattr(self, k), "plain") for k in REP_FLOW_DEFAULTS]


class AssembleNetHead(nn.Module):
    """layers/heads.cpp: per-frame mean over (H, W), mean over T (unless max_pool_predictions),
    average over the level-3 nodes, dense; temporal soft-max pooling (temperature sqrt(T))."""

    def __init__(self, channels, num_classes, mpp):
        super().__init__()
        self.dense = Dense("head/dense", channels, num_classes)
        self.mpp = mpp

    def forward(self, finals):
        pooled = [hw_mean(f) if self.mpp else f.mean(dim=(3, 4)).mean(dim=2) for f in finals]
        h = pooled[0]
        for p in pooled[1:]:
            h = h + p
        if len(pooled) > 1:
            h = h * (1.0 / len(pooled))
        z = self.dense(h)
        return temporal_softmax_pool(z) if self.mpp else z


def temporal_softmax_pool(z):
    """(N, T, K) -> (N, K): sum_t softmax_t(z / sqrt(T)) z_t."""
    a = torch.softmax(z / math.sqrt(z.shape[1]), dim=1)
    return (a * z).sum(dim=1)


class LiteHead(nn.Module):
    """conv_0 1x1x1 + BN + ReLU, conv_1 1x1x1 + BN + ReLU, mean over (T, H, W) (or (H, W) with
    max_pool_predictions), dropout (rate) in training, dense."""

    def __init__(self, channels, w0, w1, num_classes, mpp, dropout):
        super().__init__()
        self.conv_0 = ConvBn("head/conv_0", channels, w0, (1, 1, 1))
        self.conv_1 = ConvBn("head/conv_1", w0, w1, (1, 1, 1))
        self.dense = Dense("head/dense", w1, num_classes)
        self.mpp = mpp
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x):
        y = self.conv_1(self.conv_0(x))
        y = hw_mean(y) if self.mpp else y.mean(dim=(2, 3, 4))
        if self.dropout is not None:
            y = self.dropout(y)
        z = self.dense(y)
        return temporal_softmax_pool(z) if self.mpp else z


def stem_output_shape(kind, lite, f, t, h, w, num_obj):
    """(C, T, H, W) of a stem at batch 1, as layers/stems.cpp infers it."""
    half = lambda n: (n + 1) // 2  # noqa: E731  (7x7/2 fixed and 3x3/2 SAME both give ceil(n/2))
    if kind == -3:
        return num_obj, t, (h + 3) // 4, (w + 3) // 4
    if lite:
        return f, t, half(h), half(w)
    return f, t, half(half(h)), half(half(w))


class AssembleNet(nn.Module):
    """graph/network.cpp: nodes built and run in list order; node i's modules carry asn names
    node_<i>/..., the flow layer rep_flow/..., the head head/.... Built for one input size
    (frames, height, width), because Lite's fusion width depends on it."""

    def __init__(self, s, frames_, height, width):
        super().__init__()
        self.s = s
        f = s.stem_filters
        self.rep_flow = RepFlow(s.rep_flow_iterations) if any(n["stem"] == -2 for n in s.nodes) else None
        if s.rep_flow_trainable:
            raise NotImplementedError(f"{s.path}: rep_flow.trainable is not supported by this port")
        self.nodes = nn.ModuleList()
        self.peers = []
        out = []  # (C, T, H, W) of each node at batch 1
        for i, n in enumerate(s.nodes):
            name = f"node_{i}"
            peers = []
            if n["stem"] is not None:
                k = n["stem"]
                if k == -1:
                    m = LiteStem(name, 3, f, n["dilation"]) if s.lite else RgbStem(name, 3, f, n["dilation"])
                elif k == -2:
                    m = LiteStem(name, 2, f, n["dilation"]) if s.lite else FlowStem(name, 2, f)
                else:
                    m = nn.Identity()  # the object stem: a 4x4/4 SAME max pool, no parameters
                out.append(stem_output_shape(k, s.lite, f, frames_, height, width, s.num_object_classes))
            else:
                in_info = [(out[j][0], out[j][2], out[j][3]) for j in n["inputs"]]
                if s.attention == "peer":
                    peers = [k for lvl in range(-3, n["level"]) for k in s.nodes_at_level(lvl)]
                fusion = Fusion(name, s, n, in_info, [out[k][0] for k in peers])
                cin = fusion.width
                hs = min(o[2] for o in (out[j] for j in n["inputs"]))
                ws = min(o[3] for o in (out[j] for j in n["inputs"]))
                count = s.blocks_per_level[n["level"]]
                blocks = []
                for b in range(count):
                    bn = f"{name}/block_{b}"
                    if s.lite:
                        blocks.append(InvertedBottleneckBlock(bn, cin, n["filters"], n["stride"], n["dilation"],
                                                              b == 0))
                        cin = n["filters"][2]
                    else:
                        blocks.append(BottleneckBlock(bn, cin, n["filters"], s.intermediate_channels[n["level"]],
                                                      n["stride"], n["dilation"], b))
                        cin = 4 * n["filters"]
                st = n["stride"]
                m = nn.ModuleDict({"fusion": fusion, "blocks": nn.Sequential(*blocks)})
                if s.lite:  # SAME stride s: ceil
                    oh, ow = (hs + st - 1) // st, (ws + st - 1) // st
                else:  # fixed padding 3x3/s and 1x1/s shortcut: floor((n - 1) / s) + 1
                    oh, ow = (hs - 1) // st + 1, (ws - 1) // st + 1
                out.append((cin, frames_, oh, ow))
            self.nodes.append(m)
            self.peers.append(peers)
        self.out_shapes = out
        self.finals = s.nodes_at_level(3)
        c = out[self.finals[0]][0]
        if s.lite:
            self.head = LiteHead(c, s.lite_head_channels[0], s.lite_head_channels[1], s.num_classes,
                                 s.max_pool_predictions, s.dropout)
        else:
            for q in self.finals:
                assert out[q][0] == c, f"{s.path}: level-3 nodes have different widths"
            self.head = AssembleNetHead(c, s.num_classes, s.max_pool_predictions)

    def forward(self, rgb, objects=None, return_nodes=False):
        """rgb (N, 3, T, H, W), objects (N, K_obj, T, H, W) -> logits (N, K)."""
        s = self.s
        flow = self.rep_flow(rgb) if self.rep_flow is not None else None
        outs = []
        for i, n in enumerate(s.nodes):
            m = self.nodes[i]
            if n["stem"] is not None:
                k = n["stem"]
                y = m(rgb) if k == -1 else m(flow) if k == -2 else same_max_pool(objects, 4, 4)
            else:
                y = m["fusion"]([outs[j] for j in n["inputs"]], [outs[k] for k in self.peers[i]])
                y = m["blocks"](y)
            outs.append(y)
        if s.lite:
            logits = self.head(outs[self.finals[0]])
        else:
            logits = self.head([outs[q] for q in self.finals])
        return (logits, flow, outs) if return_nodes else logits

    # ---- asn names -------------------------------------------------------------------------

    def asn_entries(self):
        out = []
        for m in self.modules():
            if hasattr(m, "asn_entries") and m is not self:
                out += m.asn_entries()
        return out

    def asn_state(self):
        """{asn name: tensor in asn's layout (f32, CPU, contiguous)}."""
        d = collections.OrderedDict()
        for name, t, kind in self.asn_entries():
            v = t.detach().float().cpu()
            if kind == "conv":
                v = v.permute(0, 2, 3, 4, 1)
            d[name] = v.contiguous()
        return d

    def load_asn_state(self, state):
        """Copies asn-named tensors (asn layout) in; every name must be there, no others."""
        entries = self.asn_entries()
        names = {n for n, _, _ in entries}
        missing = [n for n in names if n not in state]
        unexpected = [n for n in state if n not in names]
        if missing or unexpected:
            raise KeyError(f"weights do not match: missing {missing[:8]}, unexpected {unexpected[:8]}")
        with torch.no_grad():
            for name, t, kind in entries:
                v = state[name]
                if kind == "conv":
                    v = v.permute(0, 4, 1, 2, 3)
                if tuple(v.shape) != tuple(t.shape):
                    raise ValueError(f"{name}: shape {tuple(v.shape)} for {tuple(t.shape)}")
                t.copy_(v)
        if self.rep_flow is not None:
            self.rep_flow.refresh()

    def param_groups(self, weight_decay):
        """asn's weight-decay split: conv and dense kernels decay, everything else does not."""
        decay = {id(t) for _, t, kind in self.asn_entries() if kind in ("conv", "kernel")}
        params = [p for p in self.parameters() if p.requires_grad]
        return [{"params": [p for p in params if id(p) in decay], "weight_decay": weight_decay},
                {"params": [p for p in params if id(p) not in decay], "weight_decay": 0.0}]

    def trainable_parameter_count(self):
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def to_cl(x):
    return x.contiguous(memory_format=torch.channels_last_3d)


# --------------------------------------------------------------------------------------------
# Summary on the meta device: parameter counts, per-node shapes and multiply-accumulates
# (conv and dense, per clip) without computing anything.

def node_of(asn_name):
    return asn_name.split("/")[0]


def meta_summary(s, t, h, w):
    with torch.device("meta"):
        net = AssembleNet(s, t, h, w)
    rows = collections.OrderedDict()
    for name, tensor, _ in net.asn_entries():
        r = rows.setdefault(node_of(name), {"trainable_params": 0, "fixed_params": 0, "macs": 0})
        if isinstance(tensor, nn.Parameter):
            r["trainable_params"] += tensor.numel()
        elif "/moving_" not in name:  # fixed edge logits, frozen flow values (not BN statistics)
            r["fixed_params"] += tensor.numel()
    rgb = torch.empty(1, 3, t, h, w, device="meta")
    obj = torch.empty(1, s.num_object_classes, t, h, w, device="meta") if s.object_input else None
    with torch.no_grad():
        _, flow, outs = net.train()(rgb, obj, return_nodes=True)
    for m in net.modules():
        if isinstance(m, (Conv, Dense)):
            row = rows.setdefault(node_of(m.asn_name), {"trainable_params": 0, "fixed_params": 0, "macs": 0})
            row["macs"] += m.macs
    for i, y in enumerate(outs):
        rows.setdefault(f"node_{i}", {"trainable_params": 0, "fixed_params": 0, "macs": 0})["output"] = \
            [1, y.shape[2], y.shape[3], y.shape[4], y.shape[1]]
    return net, rows
