// The differentiable representation-flow functions: argument checks, device dispatch, and one tape
// node per stage (rep_flow_input, tvl1_flow) whose backward captures what the kernels need.
#include "autograd/functions/rep_flow.h"

#include <algorithm>

#include "autograd/checks.h"
#include "autograd/tape.h"
#include "engine/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/repflow/flow_normalize.h"

namespace asn::ag {

namespace {

constexpr int kNumParams = 9;

// (N, T, H, W, C) with every axis non-empty, f32 or f64.
void check_video(const char* op, const char* what, const Tensor& t) {
  check_floating(op, what, t);
  check_rank(op, what, t, 5, "(N, T, H, W, C)");
  for (int a = 0; a < 5; ++a) {
    ASN_CHECK_SHAPE(t.dim(a) > 0, "{}: {} must have no empty axis, got {}", op, what, describe(t));
  }
}

void check_options(const char* op, const RepFlowOptions& opt) {
  ASN_CHECK(opt.iterations >= 1, "{}: iterations must be >= 1, got {}", op, opt.iterations);
  ASN_CHECK(opt.checkpoint_every >= 0, "{}: checkpoint_every must be >= 0 (0 = automatic), got {}",
            op, opt.checkpoint_every);
}

void check_params(const char* op, const RepFlowParams& p, const Tensor& ref) {
  const std::vector<Variable> vars = p.list();
  const std::vector<RepFlowParamSpec> specs = rep_flow_param_specs();
  for (int k = 0; k < kNumParams; ++k) {
    const std::string what = "parameter " + specs[static_cast<size_t>(k)].name;
    ASN_CHECK_TYPE(vars[static_cast<size_t>(k)].defined(), "{}: {} is undefined", op, what);
    const Tensor& v = vars[static_cast<size_t>(k)].value();
    check_same_type(op, what.c_str(), v, "input", ref);
    check_shape(op, what.c_str(), v, specs[static_cast<size_t>(k)].shape);
  }
}

kernels::TvL1Dims dims_of(const Tensor& image, const RepFlowOptions& opt) {
  kernels::TvL1Dims d;
  d.n = image.dim(0);
  d.t = image.dim(1);
  d.h = image.dim(2);
  d.w = image.dim(3);
  d.c = image.dim(4);
  d.iterations = opt.iterations;
  d.checkpoint_every = opt.checkpoint_every;
  return d;
}

// A parameter gradient as a tensor of the parameter's shape, dtype and device.
Tensor param_tensor(const double* values, const Tensor& like) {
  std::vector<double> v(values, values + like.numel());
  return Tensor::from_vector<double>(like.shape(), v).to(like.dtype()).to(like.device());
}

}  // namespace

std::vector<Variable> RepFlowParams::list() const {
  return {theta, lambda, tau, img_grad_x, img_grad_y, f_grad_x, f_grad_y, f_grad_x2, f_grad_y2};
}

RepFlowParams RepFlowParams::from_list(const std::vector<Variable>& v) {
  ASN_CHECK(v.size() == kNumParams, "RepFlowParams::from_list: needs {} Variables, got {}",
            kNumParams, v.size());
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
}

std::vector<RepFlowParamSpec> rep_flow_param_specs(const kernels::TvL1Params& p) {
  return {
      {"theta", Shape{1}, {p.theta}},
      {"lambda", Shape{1}, {p.lambda}},
      {"tau", Shape{1}, {p.tau}},
      {"img_grad_x", Shape{3}, {p.img_grad_x[0], p.img_grad_x[1], p.img_grad_x[2]}},
      {"img_grad_y", Shape{3}, {p.img_grad_y[0], p.img_grad_y[1], p.img_grad_y[2]}},
      {"f_grad_x", Shape{2}, {p.f_grad_x[0], p.f_grad_x[1]}},
      {"f_grad_y", Shape{2}, {p.f_grad_y[0], p.f_grad_y[1]}},
      {"f_grad_x2", Shape{2}, {p.f_grad_x2[0], p.f_grad_x2[1]}},
      {"f_grad_y2", Shape{2}, {p.f_grad_y2[0], p.f_grad_y2[1]}},
  };
}

RepFlowParams rep_flow_params(const kernels::TvL1Params& values, DType dtype, Device device,
                              bool trainable) {
  std::vector<Variable> vars;
  for (const RepFlowParamSpec& s : rep_flow_param_specs(values)) {
    Tensor t = Tensor::from_vector<double>(s.shape, s.init).to(dtype).to(device);
    vars.emplace_back(t, trainable, "rep_flow/" + s.name);
  }
  return RepFlowParams::from_list(vars);
}

kernels::TvL1Params rep_flow_param_values(const RepFlowParams& params) {
  const std::vector<Variable> v = params.list();
  auto read = [&](int k) { return v[static_cast<size_t>(k)].value().to_vector<double>(); };
  kernels::TvL1Params p;
  p.theta = read(0)[0];
  p.lambda = read(1)[0];
  p.tau = read(2)[0];
  const std::vector<double> igx = read(3), igy = read(4);
  const std::vector<double> fx = read(5), fy = read(6), fx2 = read(7), fy2 = read(8);
  std::copy(igx.begin(), igx.end(), p.img_grad_x);
  std::copy(igy.begin(), igy.end(), p.img_grad_y);
  std::copy(fx.begin(), fx.end(), p.f_grad_x);
  std::copy(fy.begin(), fy.end(), p.f_grad_y);
  std::copy(fx2.begin(), fx2.end(), p.f_grad_x2);
  std::copy(fy2.begin(), fy2.end(), p.f_grad_y2);
  return p;
}

// --- steps 1-2: channel mean and min/max normalisation -------------------------------------------

Variable rep_flow_input(const Variable& x, const RepFlowOptions& opt) {
  OpScope scope("rep_flow_input");
  const char* op = "rep_flow_input";
  ASN_CHECK_TYPE(x.defined(), "{}: input is undefined", op);
  check_video(op, "input", x.value());
  if (!opt.channel_mean && !opt.normalize) return x;

  const Tensor xv = x.value();
  kernels::FlowNormalizeDims d;
  d.pixels = xv.numel() / xv.dim(4);
  d.c = xv.dim(4);
  d.channel_mean = opt.channel_mean;
  d.normalize = opt.normalize;
  Tensor y = Tensor::empty(xv.shape().with(4, d.out_channels()), xv.dtype(), xv.device());
  kernels::FlowNormalizeStats st;
  kernels::dispatch_float(op, xv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (xv.device().is_cpu()) {
      st = kernels::flow_normalize_forward_cpu<T>(xv.data<T>(), d, y.data<T>());
    } else {
#ifdef ASN_WITH_CUDA
      st = kernels::cuda::flow_normalize_forward<T>(xv.data<T>(), d, y.data<T>(),
                                                    xv.device().index);
#else
      throw_no_cuda(op);
#endif
    }
  });
  return record1(op, {x}, y, [xv, d, st](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor gx = Tensor::empty(xv.shape(), xv.dtype(), xv.device());
    kernels::dispatch_float("rep_flow_input backward", xv.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (xv.device().is_cpu()) {
        kernels::flow_normalize_backward_cpu<T>(xv.data<T>(), g[0].data<T>(), d, st, gx.data<T>());
      } else {
#ifdef ASN_WITH_CUDA
        kernels::cuda::flow_normalize_backward<T>(xv.data<T>(), g[0].data<T>(), d, st,
                                                  gx.data<T>(), xv.device().index);
#else
        throw_no_cuda("rep_flow_input");
#endif
      }
    });
    return std::vector<Tensor>{gx};
  });
}

// --- steps 3-5: the TV-L1 iterations -------------------------------------------------------------

Variable tvl1_flow(const Variable& image, const RepFlowParams& params, const RepFlowOptions& opt) {
  OpScope scope("tvl1_flow");
  const char* op = "tvl1_flow";
  ASN_CHECK_TYPE(image.defined(), "{}: input is undefined", op);
  const Tensor iv = image.value();
  check_video(op, "input", iv);
  check_options(op, opt);
  check_params(op, params, iv);

  const kernels::TvL1Dims d = dims_of(iv, opt);
  const kernels::TvL1Params prm = rep_flow_param_values(params);
  std::vector<Variable> inputs = params.list();
  inputs.insert(inputs.begin(), image);
  bool needs_grad = false;
  if (grad_enabled()) {
    for (const Variable& v : inputs) needs_grad = needs_grad || v.requires_grad();
  }

  Tensor flow = Tensor::empty(iv.shape().with(4, 2 * d.c), iv.dtype(), iv.device());
  Tensor ckpt;
  if (needs_grad && d.checkpoint_elements() > 0) {
    ckpt = Tensor::empty(Shape{d.checkpoint_elements()}, iv.dtype(), iv.device());
  }
  kernels::dispatch_float(op, iv.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* cp = ckpt.defined() ? ckpt.data<T>() : nullptr;
    if (iv.device().is_cpu()) {
      kernels::tvl1_flow_forward_cpu<T>(iv.data<T>(), d, prm, flow.data<T>(), cp);
    } else {
#ifdef ASN_WITH_CUDA
      kernels::cuda::tvl1_flow_forward<T>(iv.data<T>(), d, prm, flow.data<T>(), cp,
                                          iv.device().index);
#else
      throw_no_cuda(op);
#endif
    }
  });

  std::vector<Tensor> param_values;
  for (const Variable& v : params.list()) param_values.push_back(v.value());
  auto backward = [iv, ckpt, d, prm, param_values](const std::vector<Tensor>& g,
                                                    const std::vector<bool>& needs) {
    std::vector<Tensor> out(1 + kNumParams);
    bool want_params = false;
    for (int k = 1; k <= kNumParams; ++k) want_params = want_params || needs[static_cast<size_t>(k)];
    if (needs[0]) out[0] = Tensor::empty(iv.shape(), iv.dtype(), iv.device());
    kernels::TvL1ParamGrads pg;
    kernels::dispatch_float("tvl1_flow backward", iv.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* cp = ckpt.defined() ? ckpt.data<T>() : nullptr;
      T* gi = needs[0] ? out[0].data<T>() : nullptr;
      kernels::TvL1ParamGrads* gp = want_params ? &pg : nullptr;
      if (iv.device().is_cpu()) {
        kernels::tvl1_flow_backward_cpu<T>(iv.data<T>(), cp, g[0].data<T>(), d, prm, gi, gp);
      } else {
#ifdef ASN_WITH_CUDA
        kernels::cuda::tvl1_flow_backward<T>(iv.data<T>(), cp, g[0].data<T>(), d, prm, gi, gp,
                                             iv.device().index);
#else
        throw_no_cuda("tvl1_flow");
#endif
      }
    });
    if (want_params) {
      const double* src[kNumParams] = {&pg.theta,     &pg.lambda,     &pg.tau,
                                       pg.img_grad_x, pg.img_grad_y,  pg.f_grad_x,
                                       pg.f_grad_y,   pg.f_grad_x2,   pg.f_grad_y2};
      for (int k = 0; k < kNumParams; ++k) {
        if (needs[static_cast<size_t>(k + 1)]) {
          out[static_cast<size_t>(k + 1)] = param_tensor(src[k], param_values[static_cast<size_t>(k)]);
        }
      }
    }
    return out;
  };
  return record1(op, inputs, flow, backward);
}

Variable rep_flow(const Variable& x, const RepFlowParams& params, const RepFlowOptions& opt) {
  OpScope scope("rep_flow");
  const char* op = "rep_flow";
  ASN_CHECK_TYPE(x.defined(), "{}: input is undefined", op);
  check_video(op, "input", x.value());
  check_options(op, opt);
  check_params(op, params, x.value());
  return tvl1_flow(rep_flow_input(x, opt), params, opt);
}

}  // namespace asn::ag
