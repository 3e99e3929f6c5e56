// Dense layer (see dense.h).
#include "layers/dense.h"

#include "autograd/functions/dense.h"

namespace asn::layers {

Dense::Dense(ag::Parameters& ps, const std::string& name, int64_t cin, int64_t cout, double init_std)
    : cin_(cin), cout_(cout) {
  kernel_ = ps.add(name + "/kernel", Shape{cout, cin}, ag::init::normal(0.0, init_std));
  bias_ = ps.add(name + "/bias", Shape{cout}, ag::init::zeros(), ag::ParamOptions{true, false});
}

ag::Variable Dense::forward(const ag::Variable& x) const { return ag::dense(x, kernel_, bias_); }

}  // namespace asn::layers
