#pragma once
/// \file datasets.hpp  (anodiff::anodiff) The study's data: CIFAR-10 binary files, MNIST / Fashion-MNIST IDX files,
/// the synthetic "gauss" control; normalisation, augmentation and seeded mini-batches.
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace anodiff {

/// Images as uint8 (N, C, 32, 32) with labels, and the per-channel normalisation of the data set.
struct Dataset {
  std::string name;                 ///< cifar10, mnist, fashion-mnist or gauss.
  torch::Tensor images;             ///< uint8 (N, C, 32, 32); gauss holds float32 values in [0, 1).
  torch::Tensor labels;             ///< int64 (N).
  std::vector<double> mean, std;    ///< Per-channel normalisation (on the 0..1 scale).
  std::int64_t classes = 10;        ///< Number of classes.
  /// Number of samples.
  [[nodiscard]] std::int64_t size() const { return labels.size(0); }
  /// Channels per image.
  [[nodiscard]] std::int64_t channels() const { return images.size(1); }
  /// The first n samples (all if n <= 0 or n >= size()).
  [[nodiscard]] Dataset first(std::int64_t n) const;
};

/// Training and test split.
struct DataSplit {
  Dataset train;  ///< Training set.
  Dataset test;   ///< Test set.
};

/// Debian's dataset-fashion-mnist location.
inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Reads CIFAR-10's binary version from `dir` (data_batch_1..5.bin, test_batch.bin: records of one label byte and
/// 3,072 pixel bytes, 10,000 per file). Throws InputError naming the file for a missing file, a size that is not
/// 10,000 records, or a label outside 0..9.
DataSplit load_cifar10(const std::filesystem::path& dir);

/// Reads one CIFAR-10 binary file (any number of records); the same checks, without the 10,000-record rule.
Dataset read_cifar10_file(const std::filesystem::path& file);

/// Reads MNIST-format IDX files (train-images-idx3-ubyte[.gz] etc.) from `dir`, zero-padded from 28x28 to 32x32.
/// `fashion` selects Fashion-MNIST's normalisation. Throws InputError naming the file for a missing file, a bad
/// magic number, inconsistent counts or truncated data.
DataSplit load_idx_dataset(const std::filesystem::path& dir, bool fashion);

/// The study's synthetic control: images uniform in [0, 1) (3 x 32 x 32), labels uniform in 0..8, normalised
/// with (0.1307, 0.3081); 50,000 train and 1,000 test samples by default, seeded.
DataSplit make_gauss_dataset(std::int64_t train = 50000, std::int64_t test = 1000, std::uint64_t seed = 0);

/// Loads a data set by name: cifar10 (needs `dir`), mnist (needs `dir`), fashion-mnist (default: Debian's path)
/// or gauss. Throws std::invalid_argument for an unknown name, InputError for bad files.
DataSplit load_dataset(const std::string& name, const std::filesystem::path& dir = {});

/// A normalised float32 batch (B, C, 32, 32) of the samples `indices`; with `augment`, each image is randomly
/// cropped from its 4-pixel zero padding and flipped horizontally with probability 1/2 (seeded by `generator`).
torch::Tensor make_batch(const Dataset& data, const std::vector<std::int64_t>& indices, bool augment,
                         std::mt19937_64& generator);

/// A data set held on a training device for mini-batches assembled there (the Trainer's path): the images and
/// labels are uploaded once (uint8 images stay uint8), each batch is gathered with index_select on the device, the
/// random crop from the 4-pixel zero padding and the horizontal flip are one gather for the whole batch (per-image row
/// and column indices), and uint8 pixels are normalised through a per-channel lookup table computed on the CPU.
/// images() draws (dy, dx, flip) per image from the generator in make_batch's order and returns make_batch's values
/// bit for bit, whatever the device, so that a run's batches do not depend on the path or the device.
class DeviceBatches {
 public:
  /// Uploads `data` to `device` (on the CPU the tensors are shared, not copied). Throws std::invalid_argument if the
  /// images are not uint8 or float32 (N, C, 32, 32) with one mean and std per channel.
  DeviceBatches(const Dataset& data, torch::Device device);
  /// The normalised float32 batch (B, C, 32, 32) of the samples `indices`, on the device: make_batch's values.
  torch::Tensor images(const std::vector<std::int64_t>& indices, bool augment, std::mt19937_64& generator) const;
  /// The labels (int64, B) of the samples `indices`, on the device.
  [[nodiscard]] torch::Tensor labels(const std::vector<std::int64_t>& indices) const;
  /// The device the data are on.
  [[nodiscard]] torch::Device device() const { return device_; }

 private:
  [[nodiscard]] torch::Tensor index_on_device(const std::vector<std::int64_t>& indices) const;

  torch::Device device_;
  torch::Tensor images_, labels_;
  torch::Tensor table_;          // uint8 data: (C * 256) normalised values, entry c * 256 + v
  torch::Tensor channel_base_;   // uint8 data: int64 (1, C, 1, 1), c * 256
  torch::Tensor mean_, std_;     // float data: float32 (1, C, 1, 1)
};

/// The sample order of one epoch: a permutation of 0..n-1 drawn from (seed, epoch) alone, so that a resumed run
/// sees the same order.
std::vector<std::int64_t> epoch_order(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace anodiff
