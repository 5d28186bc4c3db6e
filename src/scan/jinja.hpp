// Chat-template injection: a bounded Jinja2 reader. Templates are lexed into {{ }} / {% %}
// blocks the way Jinja's lexer does it (brackets balanced before a block may end, {# #} and
// {% raw %} skipped, string escapes decoded), every expression is parsed into a tree (names,
// attributes, subscripts, calls, filters, tests, literals, operators), and the trees are checked
// for what server-side template injection needs: dunder and private attributes (also through
// string subscripts, |attr(), map(attribute=...) and strings built from constants), the globals
// that lead to Python objects (cycler, joiner, namespace, lipsum, range, config, request, self),
// names of process and code primitives, and tags that load other templates. Ordinary chat
// templates (Llama, Mistral, ChatML, Gemma, Qwen) use none of these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::scan::jinja {

// ---- lexer -----------------------------------------------------------------------------------

enum class TokKind { name, string, integer, floating, op };

struct Token {
  TokKind kind;
  std::string text;  // identifier, operator, number spelling, or the decoded string value
  std::size_t pos;   // offset in the template
};

struct Block {
  bool statement = false;  // {% %}; otherwise {{ }}
  std::vector<Token> tokens;
  std::size_t pos = 0;  // offset of the opening delimiter
};

struct LexLimits {
  std::size_t max_tokens = 1U << 20;
};

Expected<std::vector<Block>> lex(std::string_view source, const LexLimits& limits = {});

// ---- expressions -----------------------------------------------------------------------------

struct Node {
  enum class Kind {
    name,      // text = identifier
    str,       // text = value
    number,    // text = spelling
    constant,  // true / false / none
    list,
    tuple,
    dict,    // kids (dict: key, value, key, value, ...)
    attr,    // kids[0].text   (text = attribute name)
    item,    // kids[0][kids[1]]
    slice,   // kids: start, stop, step (absent parts are constant "none")
    call,    // kids[0](kids[1..]); keyword arguments are `kwarg` nodes
    kwarg,   // text = keyword, kids[0] = value
    filter,  // kids[0] | text(kids[1..])
    test,    // kids[0] is text(kids[1..])  (negated tests too)
    binary,  // text = operator
    unary,   // text = operator
    cond,    // kids: then, condition, else (optional)
  };
  Kind kind = Kind::constant;
  std::string text;
  std::vector<Node> kids;
  std::size_t pos = 0;
  std::size_t height = 1;  // longest path to a leaf: bounded, so trees never recurse deeply
};

// One statement or expression block, parsed.
struct Statement {
  std::string tag;                 // "" for {{ }}, else the tag name ("for", "set", "include", ...)
  std::vector<Node> exprs;         // every expression the block holds
  std::vector<std::string> binds;  // names the block binds (set, for, macro, with, import)
  std::size_t pos = 0;
};

struct ParseLimits {
  std::size_t max_depth = 64;  // expression nesting
};

struct Parsed {
  std::vector<Statement> statements;  // every block that parsed
  std::optional<Error> error;         // the first block that did not, or a nesting error
};

// Parses every block and checks that block tags nest (for/endfor, if/elif/else/endif, ...).
// A block that does not parse is skipped, so what surrounds a syntax error is still checked.
Parsed parse(const std::vector<Block>& blocks, const ParseLimits& limits = {});

// ---- analysis --------------------------------------------------------------------------------

struct Issue {
  Severity severity;
  std::string rule;
  std::string message;
  std::size_t pos;  // offset in the template
};

struct Analysis {
  std::vector<Issue> issues;
  std::optional<Error> parse_error;  // the template is not valid Jinja (offset in the template)
  bool too_large = false;            // over max_bytes: not analysed at all
  std::size_t blocks = 0;
};

struct AnalyseLimits {
  std::size_t max_bytes = 4U << 20;  // larger templates are not analysed (parse_error says so)
  std::size_t max_issues = 32;
};

Analysis analyse(std::string_view source, const AnalyseLimits& limits = {});

// Heuristic for text with no container: does it read as a Jinja template?
bool looks_like_template(std::string_view text);

}  // namespace mlsc::scan::jinja
