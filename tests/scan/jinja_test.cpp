#include <gtest/gtest.h>

#include <set>

#include "scan/jinja.hpp"

namespace mlsc::scan::jinja {
namespace {

std::set<std::string> rules(std::string_view t) {
  std::set<std::string> out;
  const auto a = analyse(t);
  for (const auto& i : a.issues) out.insert(i.rule);
  if (a.parse_error) out.insert("unparseable");
  return out;
}

TEST(Jinja, OrdinaryTemplatesAreQuiet) {
  for (const char* t : {
           "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
           "message['content'] }}{% endfor %}",
           "{%- set ns = namespace(found=false) -%}{%- for m in messages[::-1] if m.role != 'tool' "
           "%}{% set ns.found = true %}{% endfor %}",
           "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('no') }}{% "
           "endif %}",
           "{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}{{ (m['content'] | "
           "trim) ~ '\\n' }}",
           "{%- for k, v in tool.parameters.properties.items() %}{{ k }}: {{ v | tojson(indent=2) "
           "}}{% endfor %}",
           "{% if x is not none and x is string %}{{ x.split('</think>')[-1].lstrip('\\n') }}{% "
           "endif %}",
           "{% for m in messages %}{% if loop.index0 % 2 == 0 and m is mapping %}{{ m.content }}{% "
           "endif %}{% endfor %}",
           "{% raw %}{{ __class__ }}{% endraw %}{# {{ ''.__class__ }} #}{{ 'x' }}",
           "{% generation %}{{ m.content }}{% endgeneration %}{% for a in b %}{% break %}{% endfor "
           "%}",
           "{{ {'a': {'b': 1}}['a'] }}{{ [1, 2, 3]|selectattr('real')|list|length is divisibleby 3 "
           "}}",
       }) {
    EXPECT_TRUE(rules(t).empty()) << t;
  }
}

TEST(Jinja, DunderAccessInEveryDisguise) {
  for (const char* t : {
           "{{ ''.__class__ }}",
           "{{ x['__class__'] }}",
           "{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}",
           "{{ x|attr('__class__') }}",
           "{{ x|attr('__cla' ~ 'ss__') }}",
           "{{ x|attr('__ssalc__'|reverse) }}",
           "{{ x|attr(['__', 'class', '__']|join) }}",
           "{% set n = '__cla' + 'ss__' %}{{ x[n] }}",
           "{{ x|map(attribute='__class__')|list }}",
           "{{ x[''.join(['_', '_', 'class', '_', '_'])] }}",
           "{{ x|attr('%s%s'|format('__cla', 'ss__')) }}",
       }) {
    EXPECT_TRUE(rules(t).count("jinja.dunder-access")) << t;
  }
}

TEST(Jinja, GadgetsNamesAndTags) {
  EXPECT_TRUE(rules("{{ lipsum.x }}").count("jinja.gadget-global"));
  EXPECT_FALSE(rules("{% set lipsum = m %}{{ lipsum.x }}").count("jinja.gadget-global"));
  EXPECT_TRUE(rules("{{ self._TemplateReference__context }}").count("jinja.private-attribute"));
  EXPECT_TRUE(rules("{{ x.os.popen('id') }}").count("jinja.dangerous-name"));
  EXPECT_TRUE(rules("{% include 'a' %}").count("jinja.template-load"));
  EXPECT_TRUE(rules("{% from 'a' import b %}").count("jinja.template-load"));
  EXPECT_TRUE(rules("{{ x|attr(name) }}").count("jinja.dynamic-attribute"));
  EXPECT_TRUE(rules("{{ '{0.__class__}'.format(x) }}").count("jinja.format-string"));
}

TEST(Jinja, SyntaxErrorsAreReportedWithOffsets) {
  for (const char* t : {"{{ x", "{% for x in y %}", "{% endif %}", "{{ x[ }}", "{% frobnicate %}",
                        "{{ 'unterminated }}", "{# open", "{% raw %}"}) {
    const auto a = analyse(t);
    EXPECT_TRUE(a.parse_error.has_value()) << t;
  }
  // What parses around a syntax error is still checked.
  EXPECT_TRUE(rules("{{ x.__globals__ }}{% if %}").count("jinja.dunder-access"));
}

TEST(Jinja, NestingIsBounded) {
  std::string deep(100000, '(');
  EXPECT_TRUE(analyse("{{ " + deep + " }}").parse_error.has_value());
  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "not ";
  EXPECT_TRUE(analyse("{{ " + nots + "x }}").parse_error.has_value());
  // Long chains nest without recursion in the parser; their trees are bounded too.
  std::string chain = "x", filters = "x", sum = "x";
  for (int i = 0; i < 200000; ++i) {
    chain += ".a";
    filters += "|f";
    sum += "+x";
  }
  for (const auto& e : {chain, filters, sum}) {
    EXPECT_TRUE(analyse("{{ " + e + " }}").parse_error.has_value());
  }
}

}  // namespace
}  // namespace mlsc::scan::jinja
