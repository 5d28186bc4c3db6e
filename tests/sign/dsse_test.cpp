#include "mlsc/sign/dsse.hpp"

#include <gtest/gtest.h>

namespace mlsc::sign {
namespace {

using nlohmann::json;

ByteView bytes(std::string_view s) {
  return as_bytes(s);
}

TEST(Dsse, PaeIsTheDsseV1Encoding) {
  // The example of the DSSE protocol document.
  EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", bytes("hello world")),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(dsse_pae("", bytes("")), "DSSEv1 0  0 ");
  const std::string binary("a\0b", 3);
  EXPECT_EQ(dsse_pae("t", bytes(binary)), std::string("DSSEv1 1 t 3 a\0b", 16));
}

TEST(Dsse, PythonBytesReprMatchesCPython) {
  // Expected values are what CPython 3 prints for repr(b'...').
  EXPECT_EQ(python_bytes_repr(bytes("{\n  \"a\": 1\n}")), "b'{\\n  \"a\": 1\\n}'");
  EXPECT_EQ(python_bytes_repr(bytes("it's")), "b\"it's\"");
  EXPECT_EQ(python_bytes_repr(bytes("it's \"q\"")), "b'it\\'s \"q\"'");
  EXPECT_EQ(python_bytes_repr(bytes("back\\slash\ttab\rcr")), "b'back\\\\slash\\ttab\\rcr'");
  const std::uint8_t raw[] = {0x00, 0x1f, 0x7f, 0x80, 0xff, 'A'};
  EXPECT_EQ(python_bytes_repr(raw), "b'\\x00\\x1f\\x7f\\x80\\xffA'");
  EXPECT_EQ(dsse_pae_v020("t", bytes("x\n")), "DSSEV1 1 t 2 b'x\\n'");
}

json envelope(const std::string& payload, const json& sigs) {
  return {
      {"payload", payload}, {"payloadType", "application/vnd.in-toto+json"}, {"signatures", sigs}};
}

TEST(Dsse, ParsesKeyidAbsentNullOrEmpty) {
  for (const json& sig : {json{{"sig", "AQID"}}, json{{"sig", "AQID"}, {"keyid", nullptr}},
                          json{{"sig", "AQID"}, {"keyid", ""}}}) {
    const auto env = parse_dsse_envelope(envelope("aGk=", json::array({sig})));
    ASSERT_TRUE(env) << env.error().describe();
    EXPECT_EQ(std::string(env->payload.begin(), env->payload.end()), "hi");
    EXPECT_EQ(env->signatures.at(0).sig, (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_EQ(env->signatures.at(0).keyid, "");
  }
}

TEST(Dsse, RejectsMalformedEnvelopesWithTheField) {
  auto error_of = [](const json& e) {
    const auto env = parse_dsse_envelope(e);
    EXPECT_FALSE(env);
    return env ? std::string() : env.error().message;
  };
  const json good_sig = json::array({{{"sig", "AQID"}}});
  EXPECT_NE(error_of(json::array()).find("not an object"), std::string::npos);
  EXPECT_NE(error_of({{"payload", "aGk="}, {"signatures", good_sig}}).find("payloadType"),
            std::string::npos);
  EXPECT_NE(error_of(envelope("aGk", good_sig)).find("dsseEnvelope.payload"),
            std::string::npos);  // unpadded
  EXPECT_NE(error_of(envelope("aG-=", good_sig)).find("dsseEnvelope.payload"),
            std::string::npos);  // URL-safe
  EXPECT_NE(error_of(envelope("aGk=", json::array())).find("no signature"), std::string::npos);
  EXPECT_NE(error_of(envelope("aGk=", json::array({{{"sig", ""}}}))).find("empty signature"),
            std::string::npos);
  EXPECT_NE(
      error_of(envelope("aGk=", json::array({{{"sig", "AQID"}, {"keyid", 7}}}))).find("keyid"),
      std::string::npos);
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back({{"sig", "AQID"}});
  EXPECT_NE(error_of(envelope("aGk=", many)).find("limit"), std::string::npos);
}

TEST(Dsse, JsonRoundTrip) {
  DsseEnvelope e{"application/vnd.in-toto+json", {'{', '}'}, {{{0xde, 0xad}, ""}}};
  const auto back = parse_dsse_envelope(json::parse(to_json(e).dump()));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->payload, e.payload);
  EXPECT_EQ(back->signatures.at(0).sig, e.signatures.at(0).sig);
  EXPECT_EQ(
      to_json(e).dump(),
      R"({"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"3q0=","keyid":""}]})");
}

}  // namespace
}  // namespace mlsc::sign
