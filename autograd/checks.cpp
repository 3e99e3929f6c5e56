// Shared argument checks.
#include "autograd/checks.h"

namespace asn::ag {

void check_floating(const char* op, const char* what, const Tensor& t) {
  ASN_CHECK_TYPE(t.defined(), "{}: {} is undefined", op, what);
  ASN_CHECK_TYPE(t.dtype() == DType::f32 || t.dtype() == DType::f64,
                 "{}: {} must be f32 or f64, got {}", op, what, describe(t));
}

void check_same_type(const char* op, const char* what, const Tensor& t, const char* ref_what,
                     const Tensor& ref) {
  ASN_CHECK_TYPE(t.defined(), "{}: {} is undefined", op, what);
  ASN_CHECK_TYPE(t.dtype() == ref.dtype() && t.device() == ref.device(),
                 "{}: {} is {} but {} is {} (dtype and device must match)", op, what, describe(t),
                 ref_what, describe(ref));
}

void check_rank(const char* op, const char* what, const Tensor& t, int rank, const char* layout) {
  ASN_CHECK_SHAPE(t.rank() == rank, "{}: {} must have rank {} {}, got {}", op, what, rank, layout,
                  describe(t));
}

void check_shape(const char* op, const char* what, const Tensor& t, const Shape& expected) {
  ASN_CHECK_SHAPE(t.shape() == expected, "{}: {} must have shape {}, got {}", op, what,
                  expected.str(), describe(t));
}

void throw_no_cuda(const char* op) {
  ASN_THROW(DeviceError, "{}: this build has no CUDA implementation of this op", op);
}

}  // namespace asn::ag
