// Representation-flow layers (see rep_flow_layer.h).
#include "layers/rep_flow_layer.h"

#include "autograd/functions/activations.h"
#include "autograd/functions/elementwise.h"

namespace asn::layers {

ag::RepFlowParams declare_rep_flow_params(ag::Parameters& ps, const std::string& name, bool trainable) {
  std::vector<ag::Variable> vars;
  for (const auto& spec : ag::rep_flow_param_specs()) {
    const std::string full = name + "/" + spec.name;
    vars.push_back(trainable ? ps.add(full, spec.shape, ag::init::from_values(spec.init), ag::ParamOptions{true, false})
                             : ps.add_buffer(full, spec.shape, ag::init::from_values(spec.init)));
  }
  return ag::RepFlowParams::from_list(vars);
}

RepFlowLayer::RepFlowLayer(ag::Parameters& ps, const std::string& name, int iterations, bool trainable)
    : params_(declare_rep_flow_params(ps, name, trainable)) {
  options_.iterations = iterations;
  options_.channel_mean = true;
  options_.normalize = true;
}

ag::Variable RepFlowLayer::forward(const ag::Variable& rgb) const { return ag::rep_flow(rgb, params_, options_); }

FeatureRepFlowLayer::FeatureRepFlowLayer(ag::Parameters& ps, const std::string& name, int64_t channels,
                                         int64_t bottleneck, int iterations, bool trainable)
    : channels_(channels), bottleneck_(bottleneck) {
  ASN_CHECK(channels > 0 && bottleneck > 0, "feature rep-flow '{}': channels {} and bottleneck {} must be positive",
            name, channels, bottleneck);
  if (channels != bottleneck)
    reduce_ = Conv(ps, name + "/reduce", {channels, bottleneck, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same});
  params_ = declare_rep_flow_params(ps, name, trainable);
  expand_ = ConvBn(ps, name + "/expand", {2 * bottleneck, channels, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, Padding::Same},
                   /*relu=*/false, /*zero_gamma=*/true);
  options_.iterations = iterations;
  options_.channel_mean = false;
  options_.normalize = true;
}

ag::Variable FeatureRepFlowLayer::forward(const ag::Variable& x, bool training) const {
  ASN_CHECK_SHAPE(x.rank() == 5 && x.shape()[4] == channels_, "feature rep-flow: input {} must have {} channels",
                  describe(x.value()), channels_);
  ag::Variable f = channels_ != bottleneck_ ? reduce_.forward(x) : x;
  f = ag::rep_flow(f, params_, options_);  // (N, T, H, W, 2b)
  return ag::relu(ag::add(expand_.forward(f, training), x));
}

}  // namespace asn::layers
