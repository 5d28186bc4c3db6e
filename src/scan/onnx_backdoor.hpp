// Architectural-backdoor heuristics for ONNX graphs.
//
// A backdoor that lives in the architecture rather than the weights needs three parts: a
// detector that tests the raw input for a trigger (a comparison of input values against
// constants), a switch that lets the detector decide the output (If, Where, or arithmetic
// masking), and a route from the switch to a graph output that no learned layer corrects. The
// analysis builds the dataflow graph (subgraphs and model-local functions included), computes
// for every value whether it depends on input values (not just shapes), how many parameterised
// nodes (MatMul/Gemm/Conv/RNN/embedding Gather with a weight) lie on the deepest path from an
// input to it, and whether it is a trigger (derived from a raw-input comparison with no learned
// layer in between). A backward pass gives, for every value, the fewest parameterised nodes
// between it and a graph output. A switch whose one side carries the network and whose other
// side is a constant or a raw-input value, controlled by a trigger, with nothing learned after
// it, is reported with the node path of the comparison, the switch and the output.
#pragma once

#include "onnx_model.hpp"

namespace mlsc::scan::onnx_scan {

// Upper bound on node visits (function bodies are analysed once per call site).
constexpr std::size_t kMaxAnalysedNodes = 4'000'000;

Issues find_backdoors(const onnx::ModelProto& model);

}  // namespace mlsc::scan::onnx_scan
