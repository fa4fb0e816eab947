// Eigen views of Tensors, sharing their memory (no copy). Link
// //graph:tensor_eigen; the core itself does not depend on Eigen.
//
//   theta::Tensor t(theta::DType::kFloat32, {3, 4});
//   auto m = theta::AsEigenMatrix<float>(t);   // 3x4 row-major map
//   m.setRandom();
#ifndef THETA_GRAPH_TENSOR_EIGEN_H_
#define THETA_GRAPH_TENSOR_EIGEN_H_

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "graph/tensor.h"

namespace theta {

template <typename T>
using EigenRowMajorMatrix =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A rank-2 tensor as a row-major matrix map; throws Error for another rank
// or dtype.
template <typename T>
Eigen::Map<EigenRowMajorMatrix<T>> AsEigenMatrix(Tensor& t) {
  if (t.ndim() != 2) {
    throw Error(absl::StrCat("AsEigenMatrix: tensor of shape ",
                             t.dims().ToString(), " is not a matrix"));
  }
  return Eigen::Map<EigenRowMajorMatrix<T>>(t.data<T>(), t.dims()[0],
                                            t.dims()[1]);
}
template <typename T>
Eigen::Map<const EigenRowMajorMatrix<T>> AsEigenMatrix(const Tensor& t) {
  if (t.ndim() != 2) {
    throw Error(absl::StrCat("AsEigenMatrix: tensor of shape ",
                             t.dims().ToString(), " is not a matrix"));
  }
  return Eigen::Map<const EigenRowMajorMatrix<T>>(t.data<T>(), t.dims()[0],
                                                  t.dims()[1]);
}

// Any tensor as a flat vector map of all its elements.
template <typename T>
Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> AsEigenVector(Tensor& t) {
  return Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(t.data<T>(), t.size());
}
template <typename T>
Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> AsEigenVector(
    const Tensor& t) {
  return Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(t.data<T>(),
                                                               t.size());
}

}  // namespace theta

#endif  // THETA_GRAPH_TENSOR_EIGEN_H_
