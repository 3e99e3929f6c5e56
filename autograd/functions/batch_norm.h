// Differentiable batch normalisation over every axis but the last, optionally fused with ReLU
// (kernels/norm/batch_norm.h holds the maths, the unbiased-moving-variance decision and the
// determinism notes).
//
// x: channels-last, rank >= 2, e.g. (N, T, H, W, C) or (N*T, H, W, C); statistics over all rows
// N*T*H*W per channel. gamma, beta: (C,) or undefined (scale 1 / shift 0). running_mean,
// running_var: (C,) non-trainable buffers (requires_grad false), never differentiated; training
// updates them in place (moving = momentum * moving + (1 - momentum) * batch_stat, unbiased batch
// variance for the moving variance); evaluation reads them and needs both. In training they may be
// undefined (no update). Gradients flow to x, gamma, beta in both modes (evaluation: an affine
// map).
#pragma once

#include "autograd/variable.h"

namespace asn::ag {

struct BatchNormOptions {
  bool training = true;
  double momentum = 0.99;  // TF's decay: moving = momentum * moving + (1 - momentum) * batch
  double eps = 1e-5;
};

Variable batch_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    const Variable& running_mean, const Variable& running_var,
                    const BatchNormOptions& options = {});

// relu(batch_norm(x, ...)) in one pass forward and one backward; same gradients as the two ops.
Variable batch_norm_relu(const Variable& x, const Variable& gamma, const Variable& beta,
                         const Variable& running_mean, const Variable& running_var,
                         const BatchNormOptions& options = {});

}  // namespace asn::ag
