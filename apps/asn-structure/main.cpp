// asn-structure: look at, check, prune, draw and run structure files.
//
//   asn-structure validate FILE...
//   asn-structure summary FILE [--input 32x224x224] [--json]
//   asn-structure draw FILE [-o out.dot] [--weights W.safetensors] [--svg]
//   asn-structure prune FILE --weights W.safetensors [--threshold 0.5] [--top-k K] -o OUT.json
//   asn-structure run FILE --input-tensor X.safetensors [--weights W | --seed S] [--device cpu|cuda] -o OUT.safetensors
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "autograd/tape.h"
#include "engine/io/safetensors.h"
#include "engine/log.h"
#include "engine/parallel.h"
#include "graph/draw.h"
#include "graph/network.h"
#include "graph/prune.h"
#include "graph/weights.h"

using namespace asn;
using namespace asn::graph;

namespace {

std::string human(int64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f} G", static_cast<double>(n) / 1e9);
  if (n >= 1000000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
  if (n >= 1000) return fmt::format("{:.1f} k", static_cast<double>(n) / 1e3);
  return std::to_string(n);
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

int cmd_summary(const std::string& file, const std::string& input, bool as_json) {
  const Structure s = load_structure(file);
  const InputSpec spec = InputSpec::parse(input);
  Network net(s, spec);
  const auto rows = net.summary();
  int64_t params = 0, fixed = 0, macs = 0;
  for (const auto& r : rows) {
    params += r.trainable_params;
    fixed += r.fixed_params;
    macs += r.macs;
  }
  if (as_json) {
    nlohmann::json j;
    j["structure"] = s.name;
    j["input"] = spec.str();
    j["trainable_params"] = params;
    j["fixed_params"] = fixed;
    j["macs"] = macs;
    for (const auto& r : rows)
      j["nodes"].push_back({{"name", r.name}, {"kind", r.kind}, {"inputs", r.inputs}, {"output", r.output.vec()},
                            {"trainable_params", r.trainable_params}, {"fixed_params", r.fixed_params}, {"macs", r.macs}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{} ({}), input {} per clip\n\n", s.name.empty() ? file : s.name, family_name(s.family),
                           spec.str());
  std::cout << fmt::format("{:<9} {:<62} {:<12} {:<24} {:>12} {:>10}\n", "node", "kind", "inputs", "output (N=1)",
                           "params", "MACs");
  for (const auto& r : rows) {
    std::cout << fmt::format("{:<9} {:<62} {:<12} {:<24} {:>12} {:>10}\n", r.name, r.kind, join(r.inputs),
                             r.output.str(), r.trainable_params, human(r.macs));
  }
  std::cout << fmt::format("\ntotal: {} trainable parameters ({}), {} fixed values (edge logits, frozen flow "
                           "parameters), {} multiply-accumulates per clip\n",
                           params, human(params), fixed, human(macs));
  return 0;
}

// Post-sigmoid edge weights per node, from a weights/checkpoint file (learned logits) or the structure.
std::vector<std::vector<double>> weights_from_file(const Structure& s, const std::string& path) {
  io::SafetensorsFile f = io::load_safetensors(path);
  std::vector<std::vector<double>> w(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const std::string name = fmt::format("node_{}/fusion/edge_logits", i);
    if (!f.contains(name)) continue;
    for (double a : f.get(name).to_vector<double>()) w[i].push_back(1.0 / (1.0 + std::exp(-a)));
    ASN_CHECK(w[i].size() == s.nodes[i].inputs.size(), "{}: '{}' has {} values but node {} has {} inputs", path,
              name, w[i].size(), i, s.nodes[i].inputs.size());
  }
  return w;
}

int cmd_draw(const std::string& file, std::string out, const std::string& weights, bool svg) {
  const Structure s = load_structure(file);
  const std::string dot = structure_to_dot(s, weights.empty() ? std::vector<std::vector<double>>{}
                                                              : weights_from_file(s, weights));
  if (out.empty()) {
    std::cout << dot;
    return 0;
  }
  io::write_file_atomic(out, dot);
  std::cout << "wrote " << out << "\n";
  if (svg) {
    if (std::system("command -v dot > /dev/null 2>&1") != 0) {
      std::cerr << "graphviz 'dot' is not installed: SVG skipped (apt-get install graphviz)\n";
      return 0;
    }
    const std::string svg_path = out.substr(0, out.rfind('.')) + ".svg";
    const std::string cmd = fmt::format("dot -Tsvg '{}' -o '{}'", out, svg_path);
    if (std::system(cmd.c_str()) != 0) ASN_THROW(IoError, "graphviz failed: {}", cmd);
    std::cout << "wrote " << svg_path << "\n";
  }
  return 0;
}

int cmd_prune(const std::string& file, const std::string& weights, double threshold, int top_k, const std::string& out) {
  const Structure s = load_structure(file);
  ASN_CHECK(s.learn_edge_weights, "{}: the edge weights are fixed already; prune works on a structure whose edges "
            "were learned (edge_weights: [])", file);
  auto w = weights_from_file(s, weights);
  for (size_t i = 0; i < s.nodes.size(); ++i)
    ASN_CHECK(s.nodes[i].is_stem || s.nodes[i].inputs.size() == 1 || !w[i].empty(),
              "{}: no learned edge weights for node {} (node_{}/fusion/edge_logits)", weights, i, i);
  PruneReport rep;
  Structure p = prune_structure(s, w, PruneOptions{threshold, top_k}, &rep);
  save_structure(p, out);
  std::cout << fmt::format("kept {} of {} edges and {} of {} nodes (dropped: [{}]); wrote {}\n", rep.edges_after,
                           rep.edges_before, rep.nodes_after, rep.nodes_before, join(rep.dropped_nodes), out);
  return 0;
}

int cmd_run(const std::string& file, const std::string& input_path, const std::string& weights, uint64_t seed,
            const std::string& device_name, bool training_bn, bool gradients, const std::string& dtype_name_,
            const std::string& out) {
  ASN_CHECK(dtype_name_ == "f32" || dtype_name_ == "f64", "run: --dtype must be f32 or f64, got '{}'", dtype_name_);
  const DType dt = dtype_name_ == "f64" ? DType::f64 : DType::f32;
  const Structure s = load_structure(file);
  io::SafetensorsFile in = io::load_safetensors(input_path);
  ASN_CHECK(in.contains("rgb"), "{}: needs a tensor named 'rgb' of shape (N, T, H, W, 3)", input_path);
  Tensor rgb = in.get("rgb").to(dt);
  ASN_CHECK_SHAPE(rgb.rank() == 5 && rgb.dim(4) == 3, "{}: 'rgb' must be (N, T, H, W, 3), got {}", input_path,
                  describe(rgb));
  const Device device = Device::parse(device_name);
  Network net(s, InputSpec{rgb.dim(1), rgb.dim(2), rgb.dim(3)});
  net.initialize(dt, device, seed);
  if (!weights.empty()) {
    LoadReport r = load_weights(net.parameters(), weights, /*strict=*/true);
    std::cout << fmt::format("loaded {} tensors from {}\n", r.loaded, weights);
  }
  NetworkInputs ni;
  ni.rgb = ag::Variable(rgb.to(device), /*requires_grad=*/gradients, "rgb");
  if (s.object_input) {
    ASN_CHECK(in.contains("objects"), "{}: the structure takes object input: add a tensor 'objects' (N, T, H, W, {})",
              input_path, s.num_object_classes);
    ni.objects = ag::Variable(in.get("objects").to(dt).to(device), gradients, "objects");
  }
  std::unique_ptr<ag::NoGradGuard> no_grad;
  if (!gradients) no_grad = std::make_unique<ag::NoGradGuard>();
  ag::tape().clear();
  NetworkOutputs o = net.forward(ni, training_bn);
  std::vector<std::pair<std::string, Tensor>> ts{{"logits", o.logits.value()}};
  if (o.flow.defined()) ts.emplace_back("flow", o.flow.value());
  for (size_t i = 0; i < o.nodes.size(); ++i) ts.emplace_back(fmt::format("node_{}/output", i), o.nodes[i].value());
  if (gradients) {
    // d(sum(logits * logits_grad)) / d(every trainable parameter and the inputs).
    ASN_CHECK(in.contains("logits_grad"), "{}: --gradients needs a tensor 'logits_grad' of the logits' shape {}",
              input_path, o.logits.shape().str());
    const Tensor seed_grad = in.get("logits_grad").to(dt);
    ASN_CHECK_SHAPE(seed_grad.shape() == o.logits.shape(), "{}: 'logits_grad' is {} but the logits are {}",
                    input_path, describe(seed_grad), o.logits.shape().str());
    net.parameters().zero_grad();
    ag::backward(o.logits, seed_grad.to(device));
    for (const auto& e : net.parameters().entries())
      if (e.options.trainable) ts.emplace_back("grad/" + e.name, e.var.grad());
    ts.emplace_back("grad/rgb", ni.rgb.grad());
    if (ni.objects.defined() && ni.objects.has_grad()) ts.emplace_back("grad/objects", ni.objects.grad());
  }
  io::save_safetensors(out, ts, {{"structure", s.name}, {"weights", weights.empty() ? fmt::format("seed {}", seed) : weights}});
  std::cout << fmt::format("logits {}; wrote {} tensors to {}\n", o.logits.shape().str(), ts.size(), out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"asn-structure: inspect, validate, draw, prune and run AssembleNet structure files"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads (default: all)");

  auto* validate = app.add_subcommand("validate", "check structure files and report the first problem of each");
  std::vector<std::string> vfiles;
  validate->add_option("files", vfiles, "structure files")->required();

  auto* summary = app.add_subcommand("summary", "per-node output shapes, parameters and multiply-accumulates");
  std::string sfile, input = "32x224x224";
  bool as_json = false;
  summary->add_option("file", sfile, "structure file")->required();
  summary->add_option("--input", input, "clip size FRAMESxHEIGHTxWIDTH (or FRAMESxSIZE)")->capture_default_str();
  summary->add_flag("--json", as_json, "print JSON instead of a table");

  auto* draw = app.add_subcommand("draw", "Graphviz DOT drawing (SVG too when graphviz is installed)");
  std::string dfile, dout, dweights;
  bool svg = false;
  draw->add_option("file", dfile, "structure file")->required();
  draw->add_option("-o,--output", dout, "DOT file to write (default: stdout)");
  draw->add_option("--weights", dweights, "weights/checkpoint with learned edge weights to draw");
  draw->add_flag("--svg", svg, "also render OUTPUT.svg with graphviz");

  auto* prune = app.add_subcommand("prune", "fix learned connectivity into a new structure file");
  std::string pfile, pweights, pout;
  double threshold = 0.5;
  int top_k = 0;
  prune->add_option("file", pfile, "structure file whose edges were learned")->required();
  prune->add_option("--weights", pweights, "trained weights or checkpoint (safetensors)")->required();
  prune->add_option("--threshold", threshold, "keep edges whose learned weight is at least this")->capture_default_str();
  prune->add_option("--top-k", top_k, "keep at most this many inputs per node (0: no limit)")->capture_default_str();
  prune->add_option("-o,--output", pout, "structure file to write")->required();

  auto* run = app.add_subcommand("run", "run the forward pass on an input tensor and save logits and node outputs");
  std::string rfile, rinput, rweights, rout, device = "cpu";
  uint64_t seed = 0;
  bool training_bn = false;
  run->add_option("file", rfile, "structure file")->required();
  run->add_option("--input-tensor", rinput, "safetensors file with 'rgb' (N, T, H, W, 3) [and 'objects']")->required();
  run->add_option("--weights", rweights, "weights (safetensors, names node_<i>/...); default: seeded initialisation");
  run->add_option("--seed", seed, "initialisation seed when no weights are given")->capture_default_str();
  run->add_option("--device", device, "cpu or cuda[:N]")->capture_default_str();
  run->add_flag("--batch-stats", training_bn, "normalise with batch statistics (training-mode BN)");
  bool gradients = false;
  std::string run_dtype = "f32";
  run->add_option("--dtype", run_dtype, "f32, or f64 (CPU) for comparisons with a double-precision reference")
      ->capture_default_str();
  run->add_flag("--gradients", gradients,
                "also backpropagate the input file's 'logits_grad' and save grad/<parameter> and grad/rgb");
  run->add_option("-o,--output", rout, "safetensors file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    set_log_level("warn");
    if (threads > 0) set_num_threads(threads);
    if (*validate) {
      int bad = 0;
      for (const auto& f : vfiles) {
        try {
          Structure s = load_structure(f);
          std::cout << fmt::format("{}: ok ({}, {} nodes)\n", f, family_name(s.family), s.nodes.size());
        } catch (const Error& e) {
          std::cout << e.what() << "\n";
          ++bad;
        }
      }
      return bad ? 1 : 0;
    }
    if (*summary) return cmd_summary(sfile, input, as_json);
    if (*draw) return cmd_draw(dfile, dout, dweights, svg);
    if (*prune) return cmd_prune(pfile, pweights, threshold, top_k, pout);
    if (*run) return cmd_run(rfile, rinput, rweights, seed, device, training_bn, gradients, run_dtype, rout);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
