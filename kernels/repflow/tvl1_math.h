// Per-pixel arithmetic of the unrolled TV-L1 (assemblenet-spec §5.2), shared by the CPU and the
// CUDA implementation of kernels/repflow/tvl1_flow.h: the CPU tests exercise exactly what the GPU
// runs, border rules included.
//
// One "plane" is one channel of one frame pair, H x W. Stencil functions read neighbours through a
// small accessor `P` with `T operator()(int i, int j) const` in image coordinates; each function
// decides itself which neighbours exist (the TF SAME zero-padding rules below), so callers never
// repeat border logic. The CPU passes a strided view of a (P, H, W, C) array, the GPU a view of a
// shared-memory tile.
//
// Border rules (TF SAME, stride 1, cross-correlation, zeros outside the image):
//   image gradient (3 taps k):   gx[i,j] = k0 I1[i,j-1] + k1 I1[i,j] + k2 I1[i,j+1]
//   forward difference (2 taps f): ux[i,j] = f0 u[i,j] + f1 u[i,j+1]   (u[i,W] = 0: last column f0 u)
//   divergence (2 taps t): shift pa right by one column (0 enters at column 0, the last column is
//     dropped), then the 2-tap forward difference:
//       div_x[i,j] = t0 pa[i,j-1] [j >= 1] + t1 pa[i,j] [j <= W-2];  same along H for pb.
// Arithmetic order follows the reference's TF expressions (e.g. rho = ((rho_c + gx u1) + gy u2) +
// 1e-12), so float results track a TF float32 graph closely.
#pragma once

#include <cmath>

#include "engine/host_device.h"

namespace asn::kernels::tvl1 {

// Indices of the scalar parameter gradients accumulated by the backward pass. kTheta is the
// gradient of the derived θ through the divergence term only; kLt and kTaut those of lt = lambda θ
// and taut = tau / θ; the rest are filter taps. TvL1ParamGrads maps them to theta / lambda / tau.
enum Slot : int {
  kTheta = 0,
  kLt = 1,
  kTaut = 2,
  kImgGradX = 3,   // 3 taps: 3, 4, 5
  kImgGradY = 6,   // 3 taps: 6, 7, 8
  kDivX = 9,       // f_grad_x: 9, 10
  kDivY = 11,      // f_grad_y: 11, 12
  kFwdX = 13,      // f_grad_x2: 13, 14
  kFwdY = 15,      // f_grad_y2: 15, 16
  kNumSlots = 17
};

// Everything one iteration needs, in the working precision T (derived the way the reference does:
// θ = |theta| + 1e-12, lt = lambda θ, taut = tau / θ, all rounded to T).
template <class T>
struct Coeffs {
  T eps;      // 1e-12
  T theta;    // θ
  T lt;       // lambda θ
  T taut;     // tau / θ
  T igx[3];   // img_grad_x taps (along W)
  T igy[3];   // img_grad_y taps (along H)
  T dvx[2];   // f_grad_x: divergence taps along W
  T dvy[2];   // f_grad_y: divergence taps along H
  T fdx[2];   // f_grad_x2: forward-difference taps along W
  T fdy[2];   // f_grad_y2: forward-difference taps along H
};

ASN_HOST_DEVICE float tvl1_sqrt(float v) { return sqrtf(v); }
ASN_HOST_DEVICE double tvl1_sqrt(double v) { return sqrt(v); }

// --- image terms (computed once per plane) -------------------------------------------------------

// Central gradients of I1 (the later frame) at (i, j).
template <class T, class P>
ASN_HOST_DEVICE void image_grad_at(const Coeffs<T>& c, const P& img, int i, int j, int h, int w,
                                   T& gx, T& gy) {
  const T here = img(i, j);
  const T left = j >= 1 ? img(i, j - 1) : T(0);
  const T right = j + 1 < w ? img(i, j + 1) : T(0);
  const T up = i >= 1 ? img(i - 1, j) : T(0);
  const T down = i + 1 < h ? img(i + 1, j) : T(0);
  gx = c.igx[0] * left + c.igx[1] * here + c.igx[2] * right;
  gy = c.igy[0] * up + c.igy[1] * here + c.igy[2] * down;
}

// grad = gx^2 + gy^2 + 1e-12.
template <class T>
ASN_HOST_DEVICE T grad_sq(const Coeffs<T>& c, T gx, T gy) {
  return (gx * gx + gy * gy) + c.eps;
}

// Adjoint of image_grad_at, gathered at (i, j): d(sum gx_bar gx + gy_bar gy) / d I1[i, j].
template <class T, class P>
ASN_HOST_DEVICE T image_grad_adjoint_at(const Coeffs<T>& c, const P& gx_bar, const P& gy_bar, int i,
                                        int j, int h, int w) {
  T s = c.igx[1] * gx_bar(i, j) + c.igy[1] * gy_bar(i, j);
  if (j + 1 < w) s += c.igx[0] * gx_bar(i, j + 1);
  if (j >= 1) s += c.igx[2] * gx_bar(i, j - 1);
  if (i + 1 < h) s += c.igy[0] * gy_bar(i + 1, j);
  if (i >= 1) s += c.igy[2] * gy_bar(i - 1, j);
  return s;
}

// Tap gradients of image_grad_at at (i, j): acc[kImgGradX + t] += gx_bar * (tap t's input), etc.
template <class T, class P, class A>
ASN_HOST_DEVICE void image_grad_taps_at(const P& img, T gx_bar, T gy_bar, int i, int j, int h, int w,
                                        A* acc) {
  const T here = img(i, j);
  const T left = j >= 1 ? img(i, j - 1) : T(0);
  const T right = j + 1 < w ? img(i, j + 1) : T(0);
  const T up = i >= 1 ? img(i - 1, j) : T(0);
  const T down = i + 1 < h ? img(i + 1, j) : T(0);
  acc[kImgGradX + 0] += A(gx_bar * left);
  acc[kImgGradX + 1] += A(gx_bar * here);
  acc[kImgGradX + 2] += A(gx_bar * right);
  acc[kImgGradY + 0] += A(gy_bar * up);
  acc[kImgGradY + 1] += A(gy_bar * here);
  acc[kImgGradY + 2] += A(gy_bar * down);
}

// --- data term (pointwise) -----------------------------------------------------------------------

// rho = rho_c + gx u1 + gy u2 + 1e-12.
template <class T>
ASN_HOST_DEVICE T residual(const Coeffs<T>& c, T rho_c, T gx, T gy, T u1, T u2) {
  return ((rho_c + gx * u1) + gy * u2) + c.eps;
}

// The three-way mask: 1 when rho < -lt grad, 2 when rho > lt grad, 3 when neither and
// grad > 1e-12, 0 otherwise (no step). Hard selects: no gradient flows through the comparison.
template <class T>
ASN_HOST_DEVICE int data_branch(const Coeffs<T>& c, T rho, T grad) {
  if (rho < -c.lt * grad) return 1;
  if (rho > c.lt * grad) return 2;
  if (grad > c.eps) return 3;
  return 0;
}

// The step (d1, d2) of the chosen branch.
template <class T>
ASN_HOST_DEVICE void data_step(const Coeffs<T>& c, int branch, T rho, T gx, T gy, T grad, T& d1,
                               T& d2) {
  if (branch == 1) {
    d1 = c.lt * gx;
    d2 = c.lt * gy;
  } else if (branch == 2) {
    d1 = -c.lt * gx;
    d2 = -c.lt * gy;
  } else if (branch == 3) {
    const T q = -rho / grad;
    d1 = q * gx;
    d2 = q * gy;
  } else {
    d1 = T(0);
    d2 = T(0);
  }
}

// Reverse of data_step followed by residual: given the gradients d1_bar, d2_bar of the step,
// adds the contributions to u1_bar / u2_bar (through rho), gx_bar, gy_bar (through the step, grad
// and rho), rho_c_bar, and the lt gradient accumulator.
template <class T, class A>
ASN_HOST_DEVICE void data_adjoint(const Coeffs<T>& c, int branch, T rho, T gx, T gy, T grad, T u1,
                                  T u2, T d1_bar, T d2_bar, T& u1_bar, T& u2_bar, T& gx_bar,
                                  T& gy_bar, T& rho_c_bar, A& lt_acc) {
  if (branch == 1) {
    lt_acc += A(d1_bar * gx + d2_bar * gy);
    gx_bar += c.lt * d1_bar;
    gy_bar += c.lt * d2_bar;
  } else if (branch == 2) {
    lt_acc -= A(d1_bar * gx + d2_bar * gy);
    gx_bar -= c.lt * d1_bar;
    gy_bar -= c.lt * d2_bar;
  } else if (branch == 3) {
    const T q = -rho / grad;                    // d = q g
    const T q_bar = d1_bar * gx + d2_bar * gy;
    const T rho_bar = -q_bar / grad;            // dq/drho = -1/grad
    const T grad_bar = -q_bar * q / grad;       // dq/dgrad = rho/grad^2 = -q/grad
    gx_bar += q * d1_bar + T(2) * gx * grad_bar + rho_bar * u1;
    gy_bar += q * d2_bar + T(2) * gy * grad_bar + rho_bar * u2;
    rho_c_bar += rho_bar;
    u1_bar += rho_bar * gx;
    u2_bar += rho_bar * gy;
  }
}

// --- divergence and the primal update ------------------------------------------------------------

// The four shifted values the divergence at (i, j) combines: sx0 = pa[i,j-1] (0 at j = 0),
// sx1 = pa[i,j] (0 at j = W-1), sy0 = pb[i-1,j], sy1 = pb[i,j] (0 at i = H-1).
template <class T, class P>
ASN_HOST_DEVICE void divergence_terms_at(const P& pa, const P& pb, int i, int j, int h, int w,
                                         T& sx0, T& sx1, T& sy0, T& sy1) {
  sx0 = j >= 1 ? pa(i, j - 1) : T(0);
  sx1 = j + 1 < w ? pa(i, j) : T(0);
  sy0 = i >= 1 ? pb(i - 1, j) : T(0);
  sy1 = i + 1 < h ? pb(i, j) : T(0);
}

template <class T, class P>
ASN_HOST_DEVICE T divergence_at(const Coeffs<T>& c, const P& pa, const P& pb, int i, int j, int h,
                                int w) {
  T sx0, sx1, sy0, sy1;
  divergence_terms_at<T>(pa, pb, i, j, h, w, sx0, sx1, sy0, sy1);
  return (c.dvx[0] * sx0 + c.dvx[1] * sx1) + (c.dvy[0] * sy0 + c.dvy[1] * sy1);
}

// Adjoint of the divergence (u' = v + θ div): with D_bar = θ u'_bar, the gradients of pa and pb at
// (i, j) are pa_bar = [j <= W-2] (t0 D_bar[i,j+1] + t1 D_bar[i,j]), pb_bar likewise along H.
// `ub` reads u'_bar; θ is applied here.
template <class T, class P>
ASN_HOST_DEVICE void divergence_adjoint_at(const Coeffs<T>& c, const P& ub, int i, int j, int h,
                                           int w, T& pa_bar, T& pb_bar) {
  const T here = c.theta * ub(i, j);
  pa_bar = j + 1 < w ? c.dvx[0] * (c.theta * ub(i, j + 1)) + c.dvx[1] * here : T(0);
  pb_bar = i + 1 < h ? c.dvy[0] * (c.theta * ub(i + 1, j)) + c.dvy[1] * here : T(0);
}

// u' = (u + d) + θ div, both flow components at one pixel (pass A of an iteration).
template <class T>
ASN_HOST_DEVICE void primal_update(const Coeffs<T>& c, T rho_c, T gx, T gy, T div1, T div2, T& u1,
                                   T& u2) {
  const T grad = grad_sq(c, gx, gy);
  const T rho = residual(c, rho_c, gx, gy, u1, u2);
  T d1, d2;
  data_step(c, data_branch(c, rho, grad), rho, gx, gy, grad, d1, d2);
  u1 = (d1 + u1) + c.theta * div1;
  u2 = (d2 + u2) + c.theta * div2;
}

// --- forward differences and the dual update -----------------------------------------------------

template <class T, class P>
ASN_HOST_DEVICE void forward_diff_at(const Coeffs<T>& c, const P& u, int i, int j, int h, int w,
                                     T& ux, T& uy) {
  const T here = u(i, j);
  ux = c.fdx[0] * here + c.fdx[1] * (j + 1 < w ? u(i, j + 1) : T(0));
  uy = c.fdy[0] * here + c.fdy[1] * (i + 1 < h ? u(i + 1, j) : T(0));
}

// Adjoint of forward_diff_at gathered at (i, j): u_bar[i,j] += f0 a_bar[i,j] + f1 a_bar[i,j-1] + ...
template <class T, class P>
ASN_HOST_DEVICE T forward_diff_adjoint_at(const Coeffs<T>& c, const P& a_bar, const P& b_bar, int i,
                                          int j) {
  T s = c.fdx[0] * a_bar(i, j) + c.fdy[0] * b_bar(i, j);
  if (j >= 1) s += c.fdx[1] * a_bar(i, j - 1);
  if (i >= 1) s += c.fdy[1] * b_bar(i - 1, j);
  return s;
}

// Tap gradients of forward_diff_at at (i, j).
template <class T, class P, class A>
ASN_HOST_DEVICE void forward_diff_taps_at(const P& u, T a_bar, T b_bar, int i, int j, int h, int w,
                                          A* acc) {
  const T here = u(i, j);
  acc[kFwdX + 0] += A(a_bar * here);
  acc[kFwdY + 0] += A(b_bar * here);
  if (j + 1 < w) acc[kFwdX + 1] += A(a_bar * u(i, j + 1));
  if (i + 1 < h) acc[kFwdY + 1] += A(b_bar * u(i + 1, j));
}

// n = 1 + taut sqrt(a^2 + b^2 + 1e-12).
template <class T>
ASN_HOST_DEVICE T dual_norm(const Coeffs<T>& c, T a, T b) {
  return T(1) + c.taut * tvl1_sqrt((a * a + b * b) + c.eps);
}

// p' = (p + taut a) / n for the pair (pa, pb) of one flow component (pass B of an iteration).
template <class T>
ASN_HOST_DEVICE void dual_update(const Coeffs<T>& c, T a, T b, T& pa, T& pb) {
  const T n = dual_norm(c, a, b);
  pa = (pa + c.taut * a) / n;
  pb = (pb + c.taut * b) / n;
}

// Reverse of dual_update at one pixel. In: the forward differences (a, b), the updated duals
// (pa_new, pb_new) and their gradients. Out: the gradients of a and b, of the old duals
// (pa_bar, pb_bar: direct path only; the divergence adds its part later), and taut's accumulator.
template <class T, class A>
ASN_HOST_DEVICE void dual_adjoint(const Coeffs<T>& c, T a, T b, T pa_new, T pb_new, T pa_new_bar,
                                  T pb_new_bar, T& a_bar, T& b_bar, T& pa_bar, T& pb_bar,
                                  A& taut_acc) {
  const T r = tvl1_sqrt((a * a + b * b) + c.eps);
  const T n = T(1) + c.taut * r;
  pa_bar = pa_new_bar / n;
  pb_bar = pb_new_bar / n;
  // d(q / n)/dn = -q / n^2 = -p_new / n.
  const T n_bar = -(pa_new_bar * pa_new + pb_new_bar * pb_new) / n;
  const T r_bar = n_bar * c.taut;
  a_bar = pa_bar * c.taut + r_bar * a / r;
  b_bar = pb_bar * c.taut + r_bar * b / r;
  taut_acc += A(pa_bar * a + pb_bar * b + n_bar * r);
}

}  // namespace asn::kernels::tvl1
