// Flat parameter / gradient / buffer storage.
#include "autograd/parameters.h"

#include <unordered_set>

namespace asn::ag {

void Parameters::check_open(const std::string& name) const {
  ASN_CHECK(!finalized_, "cannot add parameter '{}': parameters are already finalized", name);
  ASN_CHECK(!contains(name), "duplicate parameter name '{}'", name);
}

Variable Parameters::add(const std::string& name, const Shape& shape, Initializer init,
                         ParamOptions options) {
  check_open(name);
  ParamEntry e;
  e.name = name;
  e.var = Variable(Tensor(), options.trainable, name);
  e.init = std::move(init);
  e.options = options;
  if (!options.trainable) e.options.weight_decay = false;
  // Shape is remembered through a placeholder CPU tensor until finalize() binds the real view.
  e.var.set_value(Tensor::empty(shape, DType::f32, Device::cpu()));
  entries_.push_back(e);
  return e.var;
}

Variable Parameters::add_buffer(const std::string& name, const Shape& shape, Initializer init) {
  return add(name, shape, std::move(init), ParamOptions{false, false});
}

bool Parameters::contains(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return true;
  return false;
}

const ParamEntry& Parameters::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return e;
  ASN_THROW(ValueError, "no parameter named '{}'", name);
}

void Parameters::bind_views() {
  for (auto& e : entries_) {
    const Shape shape = e.var.shape();
    if (e.options.trainable) {
      e.var.set_value(Tensor::view_of(values_.storage(), values_.offset() + e.offset, shape, dtype_));
      e.var.set_grad(Tensor::view_of(grads_.storage(), grads_.offset() + e.offset, shape, dtype_));
    } else {
      e.var.set_value(Tensor::view_of(buffers_.storage(), buffers_.offset() + e.offset, shape, dtype_));
      e.var.set_grad(Tensor());
    }
  }
}

void Parameters::finalize(DType dtype, Device device, Generator& gen) {
  ASN_CHECK(!finalized_, "parameters are already finalized");
  ASN_CHECK_TYPE(dtype == DType::f32 || dtype == DType::f64,
                 "parameters must be f32 or f64, got {}", dtype_name(dtype));
  dtype_ = dtype;
  device_ = device;
  // Offsets: decayed trainables, then other trainables, then buffers (separate buffer).
  int64_t off = 0;
  for (auto& e : entries_)
    if (e.options.trainable && e.options.weight_decay) {
      e.offset = off;
      off += e.var.numel();
    }
  decay_count_ = off;
  for (auto& e : entries_)
    if (e.options.trainable && !e.options.weight_decay) {
      e.offset = off;
      off += e.var.numel();
    }
  num_trainable_ = off;
  int64_t boff = 0;
  for (auto& e : entries_)
    if (!e.options.trainable) {
      e.offset = boff;
      boff += e.var.numel();
    }
  num_buffer_ = boff;

  // Initialise on the CPU in declaration order, then move.
  Tensor values = Tensor::zeros(Shape{num_trainable_}, dtype, Device::cpu());
  Tensor buffers = Tensor::zeros(Shape{num_buffer_}, dtype, Device::cpu());
  for (auto& e : entries_) {
    Tensor& flat = e.options.trainable ? values : buffers;
    Tensor slice = Tensor::view_of(flat.storage(), e.offset, e.var.shape(), dtype);
    if (e.init) e.init(slice, gen);
  }
  values_ = values.to(device);
  buffers_ = buffers.to(device);
  grads_ = Tensor::zeros(Shape{num_trainable_}, dtype, device);
  finalized_ = true;
  bind_views();
}

void Parameters::to(DType dtype, Device device) {
  ASN_CHECK(finalized_, "Parameters::to before finalize()");
  values_ = values_.to(dtype).to(device);
  buffers_ = buffers_.to(dtype).to(device);
  grads_ = Tensor::zeros(Shape{num_trainable_}, dtype, device);
  dtype_ = dtype;
  device_ = device;
  bind_views();
}

void Parameters::zero_grad() {
  if (grads_.defined()) grads_.zero();
}

namespace init {

Initializer zeros() {
  return [](Tensor& t, Generator&) { t.zero(); };
}
Initializer ones() { return constant(1.0); }
Initializer constant(double v) {
  return [v](Tensor& t, Generator&) { t.fill(v); };
}
Initializer variance_scaling_fan_in(double scale, int64_t fan_in) {
  ASN_CHECK(fan_in > 0, "variance_scaling: fan_in must be positive, got {}", fan_in);
  const double std = std::sqrt(scale / static_cast<double>(fan_in)) / 0.87962566103423978;
  return truncated_normal(0.0, std);
}
Initializer truncated_normal(double mean, double std) {
  return [mean, std](Tensor& t, Generator& g) { g.fill_truncated_normal(t, mean, std); };
}
Initializer normal(double mean, double std) {
  return [mean, std](Tensor& t, Generator& g) { g.fill_normal(t, mean, std); };
}
Initializer uniform(double lo, double hi) {
  return [lo, hi](Tensor& t, Generator& g) { g.fill_uniform(t, lo, hi); };
}
Initializer from_values(std::vector<double> values) {
  return [values](Tensor& t, Generator&) {
    ASN_CHECK_SHAPE(static_cast<int64_t>(values.size()) == t.numel(),
                    "initial values: {} given for a parameter of shape {}", values.size(),
                    t.shape().str());
    Tensor src = Tensor::from_vector<double>(t.shape(), values).to(t.dtype());
    t.copy_from(src);
  };
}

}  // namespace init

}  // namespace asn::ag
