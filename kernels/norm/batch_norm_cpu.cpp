// CPU batch normalisation with optional fused ReLU (kernels/norm/batch_norm.h).
//
// Layout: x is M rows of C contiguous channels, so every loop runs over rows outside and channels
// inside (contiguous, vectorisable). Per-channel sums use one double partial per chunk of a static
// row partition, combined in chunk order (deterministic for a given thread count).
#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "kernels/norm/batch_norm.h"
#include "kernels/norm/batch_norm_math.h"

namespace asn::kernels {

namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per chunk below which a loop runs serially

// out[k * C + c] (K sums per channel) = sum over all rows of what rows_fn adds. rows_fn(r0, r1,
// acc) adds the contributions of rows [r0, r1) into acc (K * C doubles, zeroed).
template <int K, class RowsFn>
void channel_sums(int64_t rows, int64_t C, const RowsFn& rows_fn, double* out) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(num_threads(), rows * C / kGrain));
  const size_t width = static_cast<size_t>(K * C);
  std::vector<double> partial(static_cast<size_t>(chunks) * width, 0.0);
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      rows_fn(rows * c / chunks, rows * (c + 1) / chunks, partial.data() + c * width);
    }
  });
  std::fill(out, out + width, 0.0);
  for (int64_t c = 0; c < chunks; ++c) {
    const double* p = partial.data() + c * width;
    for (size_t j = 0; j < width; ++j) out[j] += p[j];
  }
}

// y[r, c] = bn_apply(x[r, c], mean[c], scale[c], shift[c]) over all rows.
template <class T>
void apply_affine(const BatchNormParams& p, const T* x, const T* mean, const T* scale,
                  const T* shift, T* y) {
  const int64_t C = p.channels;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1));
  parallel_for(0, p.rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      T* yr = y + r * C;
      if (p.relu) {
        for (int64_t c = 0; c < C; ++c) yr[c] = bn_apply(xr[c], mean[c], scale[c], shift[c], true);
      } else {
        for (int64_t c = 0; c < C; ++c) yr[c] = bn_apply(xr[c], mean[c], scale[c], shift[c], false);
      }
    }
  });
}

// scale = gamma * invstd, shift = beta (1 and 0 when absent).
template <class T>
void affine_coefficients(int64_t C, const T* gamma, const T* beta, const T* invstd,
                         std::vector<T>* scale, std::vector<T>* shift) {
  scale->resize(static_cast<size_t>(C));
  shift->resize(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    (*scale)[static_cast<size_t>(c)] = (gamma ? gamma[c] : T(1)) * invstd[c];
    (*shift)[static_cast<size_t>(c)] = beta ? beta[c] : T(0);
  }
}

}  // namespace

template <class T>
void batch_norm_forward_train_cpu(const BatchNormParams& p, const T* x, const T* gamma,
                                  const T* beta, T* y, T* save_mean, T* save_invstd,
                                  T* running_mean, T* running_var) {
  const int64_t M = p.rows, C = p.channels;
  const size_t uc = static_cast<size_t>(C);
  // Pass 1: mean.
  std::vector<double> mean(uc), var(uc);
  channel_sums<1>(
      M, C,
      [&](int64_t r0, int64_t r1, double* acc) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* xr = x + r * C;
          for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<double>(xr[c]);
        }
      },
      mean.data());
  for (size_t c = 0; c < uc; ++c) mean[c] /= static_cast<double>(M);
  // Pass 2: biased variance around the mean.
  channel_sums<1>(
      M, C,
      [&](int64_t r0, int64_t r1, double* acc) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* xr = x + r * C;
          for (int64_t c = 0; c < C; ++c) {
            const double d = static_cast<double>(xr[c]) - mean[static_cast<size_t>(c)];
            acc[c] += d * d;
          }
        }
      },
      var.data());
  for (size_t c = 0; c < uc; ++c) var[c] /= static_cast<double>(M);

  const double unbiased = bn_unbiased_factor(M);
  for (int64_t c = 0; c < C; ++c) {
    const size_t i = static_cast<size_t>(c);
    save_mean[c] = static_cast<T>(mean[i]);
    save_invstd[c] = static_cast<T>(bn_invstd(var[i], p.eps));
    if (running_mean) {
      running_mean[c] = static_cast<T>(bn_moving_update(running_mean[c], mean[i], p.momentum));
    }
    if (running_var) {
      running_var[c] =
          static_cast<T>(bn_moving_update(running_var[c], var[i] * unbiased, p.momentum));
    }
  }
  // Pass 3: normalise.
  std::vector<T> scale, shift;
  affine_coefficients(C, gamma, beta, save_invstd, &scale, &shift);
  apply_affine(p, x, save_mean, scale.data(), shift.data(), y);
}

template <class T>
void batch_norm_forward_eval_cpu(const BatchNormParams& p, const T* x, const T* gamma,
                                 const T* beta, const T* running_mean, const T* running_var, T* y,
                                 T* save_mean, T* save_invstd) {
  for (int64_t c = 0; c < p.channels; ++c) {
    save_mean[c] = running_mean[c];
    save_invstd[c] = static_cast<T>(bn_invstd(static_cast<double>(running_var[c]), p.eps));
  }
  std::vector<T> scale, shift;
  affine_coefficients(p.channels, gamma, beta, save_invstd, &scale, &shift);
  apply_affine(p, x, save_mean, scale.data(), shift.data(), y);
}

template <class T>
void batch_norm_apply_cpu(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                          const T* mean, const T* invstd, T* y) {
  std::vector<T> scale, shift;
  affine_coefficients(p.channels, gamma, beta, invstd, &scale, &shift);
  apply_affine(p, x, mean, scale.data(), shift.data(), y);
}

namespace {

// Backward pass 1: per channel, sums[c] = sum dy' and sums[C + c] = sum dy' * (x - mean).
// RELU is a template argument so the inner loop is a branch-free (vectorisable) select.
template <bool RELU, class T>
void backward_sums(const BatchNormParams& p, const T* dy, const T* x, const T* y,
                   const double* mean, double* sums) {
  const int64_t C = p.channels;
  channel_sums<2>(
      p.rows, C,
      [&](int64_t r0, int64_t r1, double* acc) {
        double* s_dy = acc;
        double* s_dyx = acc + C;
        for (int64_t r = r0; r < r1; ++r) {
          const T* xr = x + r * C;
          const T* dyr = dy + r * C;
          const T* yr = RELU ? y + r * C : nullptr;
          for (int64_t c = 0; c < C; ++c) {
            const double g =
                static_cast<double>(RELU ? bn_masked_grad(dyr[c], yr[c], true) : dyr[c]);
            s_dy[c] += g;
            s_dyx[c] += g * (static_cast<double>(xr[c]) - mean[c]);
          }
        }
      },
      sums);
}

// Backward pass 2: dx from the per-channel coefficients.
template <bool RELU, bool TRAINING, class T>
void backward_dx(const BatchNormParams& p, const T* dy, const T* x, const T* y, const T* mean,
                 const T* invstd, const T* scale, const T* mean_dy, const T* mean_dy_xhat, T* dx) {
  const int64_t C = p.channels;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1));
  parallel_for(0, p.rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      const T* dyr = dy + r * C;
      const T* yr = RELU ? y + r * C : nullptr;
      T* dxr = dx + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const T g = RELU ? bn_masked_grad(dyr[c], yr[c], true) : dyr[c];
        if constexpr (TRAINING) {
          const T xhat = (xr[c] - mean[c]) * invstd[c];
          dxr[c] = bn_train_grad_x(g, xhat, scale[c], mean_dy[c], mean_dy_xhat[c]);
        } else {
          dxr[c] = scale[c] * g;
        }
      }
    }
  });
}

}  // namespace

template <class T>
void batch_norm_backward_cpu(const BatchNormParams& p, bool training, const T* dy, const T* x,
                             const T* y, const T* gamma, const T* save_mean, const T* save_invstd,
                             T* dx, T* dgamma, T* dbeta) {
  const int64_t M = p.rows, C = p.channels;
  const size_t uc = static_cast<size_t>(C);
  // Per channel: sum dy' and sum dy' * (x - mean) (times invstd afterwards gives sum dy' * xhat).
  std::vector<double> sums(2 * uc, 0.0);
  if (dgamma || dbeta || (dx && training)) {
    std::vector<double> mean(uc);
    for (size_t c = 0; c < uc; ++c) mean[c] = static_cast<double>(save_mean[c]);
    if (p.relu) {
      backward_sums<true>(p, dy, x, y, mean.data(), sums.data());
    } else {
      backward_sums<false>(p, dy, x, y, mean.data(), sums.data());
    }
  }
  std::vector<double> sum_dy(sums.begin(), sums.begin() + C);
  std::vector<double> sum_dy_xhat(uc);
  for (size_t c = 0; c < uc; ++c) {
    sum_dy_xhat[c] = sums[uc + c] * static_cast<double>(save_invstd[c]);
  }
  if (dbeta) {
    for (size_t c = 0; c < uc; ++c) dbeta[c] = static_cast<T>(sum_dy[c]);
  }
  if (dgamma) {
    for (size_t c = 0; c < uc; ++c) dgamma[c] = static_cast<T>(sum_dy_xhat[c]);
  }
  if (!dx) return;

  std::vector<T> scale(uc), mean_dy(uc), mean_dy_xhat(uc);
  for (size_t c = 0; c < uc; ++c) {
    scale[c] = (gamma ? gamma[c] : T(1)) * save_invstd[c];
    mean_dy[c] = static_cast<T>(sum_dy[c] / static_cast<double>(M));
    mean_dy_xhat[c] = static_cast<T>(sum_dy_xhat[c] / static_cast<double>(M));
  }
  const T *sc = scale.data(), *mdy = mean_dy.data(), *mdyx = mean_dy_xhat.data();
  if (p.relu && training) {
    backward_dx<true, true>(p, dy, x, y, save_mean, save_invstd, sc, mdy, mdyx, dx);
  } else if (p.relu) {
    backward_dx<true, false>(p, dy, x, y, save_mean, save_invstd, sc, mdy, mdyx, dx);
  } else if (training) {
    backward_dx<false, true>(p, dy, x, y, save_mean, save_invstd, sc, mdy, mdyx, dx);
  } else {
    backward_dx<false, false>(p, dy, x, y, save_mean, save_invstd, sc, mdy, mdyx, dx);
  }
}

#define ASN_INSTANTIATE(T)                                                                   \
  template void batch_norm_forward_train_cpu<T>(const BatchNormParams&, const T*, const T*,  \
                                                const T*, T*, T*, T*, T*, T*);               \
  template void batch_norm_forward_eval_cpu<T>(const BatchNormParams&, const T*, const T*,   \
                                               const T*, const T*, const T*, T*, T*, T*);    \
  template void batch_norm_apply_cpu<T>(const BatchNormParams&, const T*, const T*, const T*,  \
                                        const T*, const T*, T*);                               \
  template void batch_norm_backward_cpu<T>(const BatchNormParams&, bool, const T*, const T*, \
                                           const T*, const T*, const T*, const T*, T*, T*, T*);
ASN_INSTANTIATE(float)
ASN_INSTANTIATE(double)
#undef ASN_INSTANTIATE

}  // namespace asn::kernels
