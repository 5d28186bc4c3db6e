// libFuzzer target: PEP 440 versions and specifiers on arbitrary text. Beyond crashes and UB it
// checks the ordering's laws on pairs drawn from the input: antisymmetry, consistency of
// equality with equality_key(), and that normalising a version does not change it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlsc/vuln/pep440.hpp"
#include "mlsc/vuln/semver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::vuln;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = text.find('\n');
  const std::string_view left = text.substr(0, cut);
  const std::string_view right = cut == std::string_view::npos ? "" : text.substr(cut + 1);

  const Version a = Version::parse(left);
  const Version b = Version::parse(right);
  const auto ab = a <=> b;
  const auto ba = b <=> a;
  if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) std::abort();
  if ((ab == 0) != (a.equality_key() == b.equality_key())) std::abort();
  // (Normalising can lengthen a version by a few characters, past the length limit.)
  if (!a.is_legacy() && a.str().size() <= kMaxVersionLength) {
    const auto again = Version::parse_strict(a.str());
    if (!again || *again != a || again->str() != a.str()) std::abort();
  }
  if (auto spec = SpecifierSet::parse(left)) {
    (void)spec->contains(b);
    (void)spec->contains(b, true);
    (void)spec->pinned();
    const std::string round = spec->str();
    if (!SpecifierSet::parse(round)) std::abort();
  }
  const auto sa = SemVer::parse(left);
  const auto sb = SemVer::parse(right);
  if (sa && sb && ((*sa <=> *sb) < 0) != ((*sb <=> *sa) > 0)) std::abort();
  return 0;
}
