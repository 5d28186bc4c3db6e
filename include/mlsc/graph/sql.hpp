// A minimal SQL connection the graph store is written against, so that both backends run the
// very same statements. Parameters are written $1, $2, ... (PostgreSQL's syntax; SQLite accepts
// the same text as named parameters and we bind them by name). Statements are prepared once per
// connection and cached by their text; values are always bound, never spliced into SQL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::graph {

using SqlValue = std::variant<std::int64_t, std::string>;
using SqlRow = std::vector<std::string>;  // every column as text; NULL reads as ""

// Rows for bulk_insert: called repeatedly; fills `row` (one value per column) and returns
// false when there are no more rows.
using RowSource = std::function<bool(std::vector<SqlValue>& row)>;

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  SqlConnection() = default;
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  virtual std::string_view backend() const = 0;  // "sqlite" or "postgresql"
  // One or more statements without parameters (schema, BEGIN/COMMIT).
  virtual Expected<void> execute_script(const std::string& sql) = 0;
  // One parameterised statement; returns its rows (empty for statements without results).
  virtual Expected<std::vector<SqlRow>> query(const std::string& sql,
                                              std::span<const SqlValue> params) = 0;
  // Appends rows to a table as fast as the backend allows: a prepared INSERT in the caller's
  // transaction (SQLite) or COPY FROM STDIN (PostgreSQL). Returns the number of rows.
  virtual Expected<std::uint64_t> bulk_insert(const std::string& table,
                                              std::span<const std::string> columns,
                                              const RowSource& rows) = 0;
  // The DDL of an auto-assigned 64-bit primary key column (the one schema difference).
  virtual std::string_view identity_column() const = 0;
  // After explicit ids were inserted into `table`: move its id generator past them.
  virtual Expected<void> sync_identity(const std::string& table) = 0;
};

// SQLite on a file (created if missing); ":memory:" for a private in-memory database.
Expected<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path);
// PostgreSQL by libpq connection string or URI ("postgresql://user@host:port/db", "host=...").
Expected<std::unique_ptr<SqlConnection>> open_postgres(const std::string& conninfo);

}  // namespace mlsc::graph
