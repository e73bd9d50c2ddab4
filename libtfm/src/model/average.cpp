#include "tfm/model/average.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/data/vocabulary.h"
#include "tfm/io/hdf5.h"
#include "tfm/model/model_file.h"

namespace tfm {

namespace {

// What averaging needs to know about an input before reading its data.
struct Header {
  std::vector<std::pair<std::string, std::string>> config;  // attribute, value as text
  Vocabulary vocabulary;
  std::vector<hdf5::DatasetEntry> params;  // sorted by name
};

Header read_header(const std::string& path) {
  hdf5::File file = open_model_or_checkpoint(path);
  if (!file.is_group("config") || !file.is_group("params") || !file.is_dataset("vocab"))
    throw InputError(path, 0, "not a model: /config, /vocab or /params missing");
  Header h;
  hdf5::Group config = file.open_group("config");
  for (const auto& name : config.attribute_names()) h.config.emplace_back(name, config.attribute_text(name));
  read_config(config);  // every attribute a model needs is there
  h.vocabulary = Vocabulary::load(file, "vocab");
  h.params = hdf5::list_datasets(file.open_group("params"));
  std::sort(h.params.begin(), h.params.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& p : h.params)
    if (p.type != hdf5::DataType::kFloat32)
      throw InputError(path, 0, fmt::format("parameter {} is {}, not float32", p.name, hdf5::type_name(p.type)));
  return h;
}

std::string config_difference(const Header& a, const Header& b) {
  for (const auto& [name, value] : a.config) {
    // A copy of the name: clang 14 cannot capture a structured binding.
    auto it = std::find_if(b.config.begin(), b.config.end(), [&, key = name](const auto& e) { return e.first == key; });
    if (it == b.config.end()) return fmt::format("config {} is missing", name);
    if (it->second != value) return fmt::format("config {} is {}, not {}", name, it->second, value);
  }
  if (a.config.size() != b.config.size()) return "config has other attributes";
  return "";
}

std::string vocabulary_difference(const Vocabulary& a, const Vocabulary& b) {
  if (a.size() != b.size()) return fmt::format("vocabulary has {} tokens, not {}", b.size(), a.size());
  for (std::uint32_t i = 0; i < a.size(); ++i)
    if (a.token(i) != b.token(i))
      return fmt::format("vocabulary token {} is '{}', not '{}'", i, b.token(i), a.token(i));
  return "";
}

std::string params_difference(const Header& a, const Header& b) {
  for (std::size_t i = 0; i < std::max(a.params.size(), b.params.size()); ++i) {
    if (i >= b.params.size()) return fmt::format("parameter {} is missing", a.params[i].name);
    if (i >= a.params.size() || a.params[i].name != b.params[i].name)
      return fmt::format("parameter {} is not in the first file", b.params[i].name);
    if (a.params[i].shape != b.params[i].shape)
      return fmt::format("parameter {} has shape {}, not {}", a.params[i].name,
                         hdf5::shape_text(b.params[i].shape), hdf5::shape_text(a.params[i].shape));
  }
  return "";
}

std::uint64_t elements(const hdf5::Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
}

}  // namespace

void average_models(const std::vector<std::string>& inputs, const std::vector<double>& weights,
                    const std::string& output) {
  if (inputs.empty()) throw UsageError("nothing to average");
  std::vector<double> w = weights.empty() ? std::vector<double>(inputs.size(), 1.0) : weights;
  if (w.size() != inputs.size())
    throw UsageError(fmt::format("{} weights for {} inputs", w.size(), inputs.size()));
  if (std::any_of(w.begin(), w.end(), [](double x) { return !(x >= 0); }) ||
      std::accumulate(w.begin(), w.end(), 0.0) <= 0)
    throw UsageError("weights must be non-negative with a positive sum");
  const Header first = read_header(inputs[0]);
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    Header h = read_header(inputs[i]);
    for (const std::string& diff : {config_difference(first, h), vocabulary_difference(first.vocabulary, h.vocabulary),
                                    params_difference(first, h)})
      if (!diff.empty()) throw InputError(inputs[i], 0, fmt::format("differs from {}: {}", inputs[0], diff));
  }
  std::vector<std::uint64_t> offsets{0};
  for (const auto& p : first.params) offsets.push_back(offsets.back() + elements(p.shape));
  std::vector<double> sum(offsets.back(), 0.0);
  std::vector<float> values;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    hdf5::File file = open_model_or_checkpoint(inputs[i]);
    for (std::size_t k = 0; k < first.params.size(); ++k) {
      hdf5::Dataset d = file.open_dataset(first.params[k].name);
      d.read_rows<float>(0, d.rows(), values);
      double* s = sum.data() + offsets[k];
      for (std::size_t j = 0; j < values.size(); ++j) s[j] += w[i] * static_cast<double>(values[j]);
    }
  }
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  hdf5::File file = hdf5::File::create(output);
  hdf5::write_format(file, kModelFormat, kModelFormatVersion);
  hdf5::Group config = file.create_group("config");
  write_config(config, read_config(open_model_or_checkpoint(inputs[0]).open_group("config")));
  first.vocabulary.save(file, "vocab");
  for (std::size_t k = 0; k < first.params.size(); ++k) {
    values.resize(offsets[k + 1] - offsets[k]);
    for (std::size_t j = 0; j < values.size(); ++j) values[j] = static_cast<float>(sum[offsets[k] + j] / total);
    file.write<float>(first.params[k].name, values, first.params[k].shape);
  }
  file.commit();
}

}  // namespace tfm
