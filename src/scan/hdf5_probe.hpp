// Reading what a Keras .h5 file says about itself, with libhdf5 kept at arm's length.
//
// libhdf5 is a large C library that trusts its input; malformed files have crashed it many
// times (CVE lists for H5O, H5T, H5F decoders). So mlsc never calls it in its own process:
//   1. check_superblock() validates the superblock in-process with plain bounds-checked code
//      (signature, version, field sizes, end-of-file address against the real size), so the
//      common broken cases get a precise message and never reach libhdf5;
//   2. probe() starts a child process (the scanner's own executable again, through
//      posix_spawn, so no lock another thread held is inherited) that maps a copy of the bytes
//      (a memfd) as a read-only in-memory file image, with filter plugins disabled, reads the
//      string attributes Keras writes and sends them back over a pipe. The child runs under
//      CPU, address-space, file-size and core limits and a wall-clock deadline; a crash, hang
//      or limit hit is an answer ("unscannable"), not a crash of the scanner.
// Costs: one copy of the file into the memfd (memory equal to the file while it is probed) and
// a process start per .h5 file.
// Residual risk: a libhdf5 bug that does damage without crashing (an infinite loop is cut by
// the deadline, but a bug that returns wrong attribute text is not detected).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::hdf5 {

constexpr std::string_view kSignature{"\x89HDF\r\n\x1a\n", 8};

// Offset of the superblock signature: 0, 512, 1024, 2048, ... as libhdf5 searches.
std::optional<std::uint64_t> find_signature(ByteView data);

struct Superblock {
  std::uint64_t offset = 0;  // where the signature is (= user block size)
  int version = 0;
  int offset_size = 8;
  int length_size = 8;
  std::uint64_t base = 0;  // absolute address all other addresses are relative to
  std::uint64_t end = 0;   // absolute end of the HDF5 data (base + end-of-file address)
};

Expected<Superblock> check_superblock(ByteView data);

struct Attribute {
  std::string object;  // "/" for the root group, else the object path
  std::string name;
  std::string value;
  bool truncated = false;
};

struct Probe {
  std::vector<Attribute> attributes;  // root string attributes; model/training configs anywhere
  std::uint64_t objects = 0;          // groups and datasets visited
  bool objects_truncated = false;
  std::string open_error;  // libhdf5 refused the file (it said why only vaguely)
};

struct ProbeLimits {
  unsigned timeout_seconds = 60;
  std::uint64_t max_attribute_bytes = 64ULL << 20;
  std::uint64_t max_output_bytes = 256ULL << 20;
  std::uint64_t max_objects = 200000;
  std::uint64_t memory_headroom = 4ULL << 30;  // address space the child may add
};

// Runs libhdf5 in a child process. The error says how the child failed (signal, deadline,
// limits, garbled reply).
Expected<Probe> probe(ByteView data, const ProbeLimits& limits = {});

}  // namespace mlsc::scan::hdf5
