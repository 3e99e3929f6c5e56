// Per-pixel arithmetic of the unrolled TV-L1 (assemblenet-spec §5.2), shared by the CPU and the
// CUDA implementation of kernels/repflow/tvl1_flow.h: the CPU tests exercise exactly what the GPU
// runs, border rules included.
//
// One "plane" is one channel of one frame pair, H x W. Two layers of functions:
//   * value functions (image_grad, divergence, primal_update, forward_diff, dual_update and their
//     adjoints) take the neighbour values already fetched, plus border masks where a rule is not
//     "zero outside the image". They are templated on the value type V: the scalar T (CUDA, the
//     CPU's scalar paths) or a CPU SIMD pack of T (kernels/repflow/tvl1_simd.h), so the CPU's
//     vectorised interior and the GPU run the same expressions. Branches are written as selects
//     (tvl1_select) so they vectorise; every select reproduces the branch it replaces exactly.
//   * accessor functions (*_at) read neighbours through a small accessor `P` with
//     `T operator()(int i, int j) const` in image coordinates, apply the border rules below and
//     call the value functions. The GPU passes views of shared-memory tiles or global planes.
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

// The two lane-wise operations the formulas need besides + - * / and comparisons. SIMD packs
// overload both in their own header (found by argument-dependent lookup).
ASN_HOST_DEVICE float tvl1_sqrt(float v) { return sqrtf(v); }
ASN_HOST_DEVICE double tvl1_sqrt(double v) { return sqrt(v); }
template <class V>
ASN_HOST_DEVICE V tvl1_select(bool m, V a, V b) {
  return m ? a : b;
}

// --- image terms (computed once per plane) -------------------------------------------------------

// Central gradients of I1 (the later frame) from its five neighbours (0 outside the image).
template <class T, class V>
ASN_HOST_DEVICE void image_grad(const Coeffs<T>& c, V left, V here, V right, V up, V down, V& gx,
                                V& gy) {
  gx = c.igx[0] * left + c.igx[1] * here + c.igx[2] * right;
  gy = c.igy[0] * up + c.igy[1] * here + c.igy[2] * down;
}

template <class T, class P>
ASN_HOST_DEVICE void image_grad_at(const Coeffs<T>& c, const P& img, int i, int j, int h, int w,
                                   T& gx, T& gy) {
  const T here = img(i, j);
  const T left = j >= 1 ? img(i, j - 1) : T(0);
  const T right = j + 1 < w ? img(i, j + 1) : T(0);
  const T up = i >= 1 ? img(i - 1, j) : T(0);
  const T down = i + 1 < h ? img(i + 1, j) : T(0);
  image_grad(c, left, here, right, up, down, gx, gy);
}

// grad = gx^2 + gy^2 + 1e-12.
template <class T, class V>
ASN_HOST_DEVICE V grad_sq(const Coeffs<T>& c, V gx, V gy) {
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
template <class T, class V>
ASN_HOST_DEVICE V residual(const Coeffs<T>& c, V rho_c, V gx, V gy, V u1, V u2) {
  return ((rho_c + gx * u1) + gy * u2) + c.eps;
}

// The step (d1, d2) of the three-way hard mask (no gradient flows through the comparisons):
//   branch 1 if rho < -lt grad:          d = lt (gx, gy)
//   branch 2 else if rho > lt grad:      d = -lt (gx, gy)
//   branch 3 else if grad > 1e-12:       d = -(rho / grad) (gx, gy)
//   branch 0 else:                       d = 0
// Written as selects in reverse priority (branch 1 last, so it wins), every branch's value
// computed: the selected value is bit for bit the branch's. -lt grad is computed as -(lt grad),
// which rounds exactly like (-lt) grad.
template <class T, class V>
ASN_HOST_DEVICE void data_step(const Coeffs<T>& c, V rho, V gx, V gy, V grad, V& d1, V& d2) {
  const V zero(T(0));
  const V thr = c.lt * grad;
  const V q = -rho / grad;
  const auto b1 = rho < -thr;
  const auto b2 = rho > thr;
  const auto b3 = grad > c.eps;
  d1 = tvl1_select(b1, c.lt * gx, tvl1_select(b2, -c.lt * gx, tvl1_select(b3, q * gx, zero)));
  d2 = tvl1_select(b1, c.lt * gy, tvl1_select(b2, -c.lt * gy, tvl1_select(b3, q * gy, zero)));
}

// Reverse of data_step followed by residual: given the gradients d1_bar, d2_bar of the step,
// adds the contributions to u1_bar / u2_bar (through rho), gx_bar, gy_bar (through the step, grad
// and rho), rho_c_bar, and the lt gradient accumulator. u1, u2: the flow before the step. Per
// branch:
//   1: lt_acc += s, g_bar += lt d_bar;   2: lt_acc -= s, g_bar -= lt d_bar   (s = d_bar . g)
//   3: q = -rho/grad, rho_bar = -s/grad, grad_bar = -s q/grad: g_bar += q d_bar + 2 g grad_bar +
//      rho_bar u, rho_c_bar += rho_bar, u_bar += rho_bar g;   0: nothing.
// Selects as in data_step (adding a selected 0 leaves a value unchanged).
template <class T, class V, class A>
ASN_HOST_DEVICE void data_adjoint(const Coeffs<T>& c, V rho, V gx, V gy, V grad, V u1, V u2,
                                  V d1_bar, V d2_bar, V& u1_bar, V& u2_bar, V& gx_bar, V& gy_bar,
                                  V& rho_c_bar, A& lt_acc) {
  const V zero(T(0));
  const V thr = c.lt * grad;
  const auto b1 = rho < -thr;
  const auto b2 = rho > thr;
  const auto b3 = grad > c.eps;
  const V s = d1_bar * gx + d2_bar * gy;  // q_bar of branch 3
  const V q = -rho / grad;
  const V rho_bar = -s / grad;             // dq/drho = -1/grad
  const V grad_bar = -s * q / grad;        // dq/dgrad = rho/grad^2 = -q/grad
  const V lgx = c.lt * d1_bar, lgy = c.lt * d2_bar;
  const V gx3 = q * d1_bar + T(2) * gx * grad_bar + rho_bar * u1;
  const V gy3 = q * d2_bar + T(2) * gy * grad_bar + rho_bar * u2;
  lt_acc += A(tvl1_select(b1, s, tvl1_select(b2, -s, zero)));
  gx_bar += tvl1_select(b1, lgx, tvl1_select(b2, -lgx, tvl1_select(b3, gx3, zero)));
  gy_bar += tvl1_select(b1, lgy, tvl1_select(b2, -lgy, tvl1_select(b3, gy3, zero)));
  const V r3 = tvl1_select(b1, zero, tvl1_select(b2, zero, tvl1_select(b3, rho_bar, zero)));
  rho_c_bar += r3;
  u1_bar += r3 * gx;
  u2_bar += r3 * gy;
}

// --- divergence and the primal update ------------------------------------------------------------

// div = t0 pa[i,j-1] + t1 pa[i,j] + t0' pb[i-1,j] + t1' pb[i,j] from the four shifted values
// sx0 = pa[i,j-1] (0 at j = 0), sx1 = pa[i,j] (0 at j = W-1), sy0 = pb[i-1,j] (0 at i = 0),
// sy1 = pb[i,j] (0 at i = H-1).
template <class T, class V>
ASN_HOST_DEVICE V divergence(const Coeffs<T>& c, V sx0, V sx1, V sy0, V sy1) {
  return (c.dvx[0] * sx0 + c.dvx[1] * sx1) + (c.dvy[0] * sy0 + c.dvy[1] * sy1);
}

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
  return divergence(c, sx0, sx1, sy0, sy1);
}

// Adjoint of the divergence (u' = v + θ div): with D_bar = θ u'_bar, the gradients of pa and pb at
// (i, j) are pa_bar = [j <= W-2] (t0 D_bar[i,j+1] + t1 D_bar[i,j]), pb_bar likewise along H.
// ub_here / ub_right / ub_down are u'_bar at (i, j), (i, j+1), (i+1, j); has_right = j <= W-2,
// has_down = i <= H-2 (bool, or a pack mask). θ is applied here.
template <class T, class V, class M>
ASN_HOST_DEVICE void divergence_adjoint(const Coeffs<T>& c, V ub_here, V ub_right, V ub_down,
                                        M has_right, M has_down, V& pa_bar, V& pb_bar) {
  const V zero(T(0));
  const V here = c.theta * ub_here;
  pa_bar = tvl1_select(has_right, c.dvx[0] * (c.theta * ub_right) + c.dvx[1] * here, zero);
  pb_bar = tvl1_select(has_down, c.dvy[0] * (c.theta * ub_down) + c.dvy[1] * here, zero);
}

template <class T, class P>
ASN_HOST_DEVICE void divergence_adjoint_at(const Coeffs<T>& c, const P& ub, int i, int j, int h,
                                           int w, T& pa_bar, T& pb_bar) {
  const bool has_right = j + 1 < w, has_down = i + 1 < h;
  divergence_adjoint(c, ub(i, j), has_right ? ub(i, j + 1) : T(0), has_down ? ub(i + 1, j) : T(0),
                     has_right, has_down, pa_bar, pb_bar);
}

// Parameter gradients of θ div at one pixel, given u'_bar there and the divergence's four shifted
// values (see divergence): θ gets u'_bar div, the taps θ u'_bar times their input.
template <class T, class V, class A>
ASN_HOST_DEVICE void divergence_taps(const Coeffs<T>& c, V u_bar, V sx0, V sx1, V sy0, V sy1,
                                     A* acc) {
  const V div = divergence(c, sx0, sx1, sy0, sy1);
  const V d_bar = c.theta * u_bar;
  acc[kTheta] += A(u_bar * div);
  acc[kDivX + 0] += A(d_bar * sx0);
  acc[kDivX + 1] += A(d_bar * sx1);
  acc[kDivY + 0] += A(d_bar * sy0);
  acc[kDivY + 1] += A(d_bar * sy1);
}

// u' = (u + d) + θ div, both flow components at one pixel (pass A of an iteration).
template <class T, class V>
ASN_HOST_DEVICE void primal_update(const Coeffs<T>& c, V rho_c, V gx, V gy, V div1, V div2, V& u1,
                                   V& u2) {
  const V grad = grad_sq(c, gx, gy);
  const V rho = residual(c, rho_c, gx, gy, u1, u2);
  V d1, d2;
  data_step(c, rho, gx, gy, grad, d1, d2);
  u1 = (d1 + u1) + c.theta * div1;
  u2 = (d2 + u2) + c.theta * div2;
}

// --- forward differences and the dual update -----------------------------------------------------

// ux = f0 u[i,j] + f1 u[i,j+1], uy = f0' u[i,j] + f1' u[i+1,j]; right / down are 0 outside.
template <class T, class V>
ASN_HOST_DEVICE void forward_diff(const Coeffs<T>& c, V here, V right, V down, V& ux, V& uy) {
  ux = c.fdx[0] * here + c.fdx[1] * right;
  uy = c.fdy[0] * here + c.fdy[1] * down;
}

template <class T, class P>
ASN_HOST_DEVICE void forward_diff_at(const Coeffs<T>& c, const P& u, int i, int j, int h, int w,
                                     T& ux, T& uy) {
  forward_diff(c, u(i, j), j + 1 < w ? u(i, j + 1) : T(0), i + 1 < h ? u(i + 1, j) : T(0), ux, uy);
}

// Adjoint of forward_diff gathered at (i, j): u_bar[i,j] += f0 a_bar[i,j] + f0' b_bar[i,j] +
// f1 a_bar[i,j-1] + f1' b_bar[i-1,j]; a_left / b_up are 0 outside the image.
template <class T, class V>
ASN_HOST_DEVICE V forward_diff_adjoint(const Coeffs<T>& c, V a_here, V b_here, V a_left, V b_up) {
  V s = c.fdx[0] * a_here + c.fdy[0] * b_here;
  s += c.fdx[1] * a_left;
  s += c.fdy[1] * b_up;
  return s;
}

template <class T, class P>
ASN_HOST_DEVICE T forward_diff_adjoint_at(const Coeffs<T>& c, const P& a_bar, const P& b_bar, int i,
                                          int j) {
  return forward_diff_adjoint(c, a_bar(i, j), b_bar(i, j), j >= 1 ? a_bar(i, j - 1) : T(0),
                              i >= 1 ? b_bar(i - 1, j) : T(0));
}

// Tap gradients of forward_diff at one pixel (right / down are 0 outside the image).
template <class V, class A>
ASN_HOST_DEVICE void forward_diff_taps(V here, V right, V down, V a_bar, V b_bar, A* acc) {
  acc[kFwdX + 0] += A(a_bar * here);
  acc[kFwdY + 0] += A(b_bar * here);
  acc[kFwdX + 1] += A(a_bar * right);
  acc[kFwdY + 1] += A(b_bar * down);
}

template <class T, class P, class A>
ASN_HOST_DEVICE void forward_diff_taps_at(const P& u, T a_bar, T b_bar, int i, int j, int h, int w,
                                          A* acc) {
  forward_diff_taps(u(i, j), j + 1 < w ? u(i, j + 1) : T(0), i + 1 < h ? u(i + 1, j) : T(0), a_bar,
                    b_bar, acc);
}

// n = 1 + taut sqrt(a^2 + b^2 + 1e-12).
template <class T, class V>
ASN_HOST_DEVICE V dual_norm(const Coeffs<T>& c, V a, V b) {
  return T(1) + c.taut * tvl1_sqrt((a * a + b * b) + c.eps);
}

// p' = (p + taut a) / n for the pair (pa, pb) of one flow component (pass B of an iteration).
template <class T, class V>
ASN_HOST_DEVICE void dual_update(const Coeffs<T>& c, V a, V b, V& pa, V& pb) {
  const V n = dual_norm(c, a, b);
  pa = (pa + c.taut * a) / n;
  pb = (pb + c.taut * b) / n;
}

// Reverse of dual_update at one pixel. In: the forward differences (a, b), the updated duals
// (pa_new, pb_new) and their gradients. Out: the gradients of a and b, of the old duals
// (pa_bar, pb_bar: direct path only; the divergence adds its part later), and taut's accumulator.
template <class T, class V, class A>
ASN_HOST_DEVICE void dual_adjoint(const Coeffs<T>& c, V a, V b, V pa_new, V pb_new, V pa_new_bar,
                                  V pb_new_bar, V& a_bar, V& b_bar, V& pa_bar, V& pb_bar,
                                  A& taut_acc) {
  const V r = tvl1_sqrt((a * a + b * b) + c.eps);
  const V n = T(1) + c.taut * r;
  pa_bar = pa_new_bar / n;
  pb_bar = pb_new_bar / n;
  // d(q / n)/dn = -q / n^2 = -p_new / n.
  const V n_bar = -(pa_new_bar * pa_new + pb_new_bar * pb_new) / n;
  const V r_bar = n_bar * c.taut;
  a_bar = pa_bar * c.taut + r_bar * a / r;
  b_bar = pb_bar * c.taut + r_bar * b / r;
  taut_acc += A(pa_bar * a + pb_bar * b + n_bar * r);
}

}  // namespace asn::kernels::tvl1
