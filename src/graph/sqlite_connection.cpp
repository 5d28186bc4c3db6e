// SQLite backend: RAII handles over the C API, statements cached by text.
#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>

#include "mlsc/graph/sql.hpp"

namespace mlsc::graph {
namespace {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbClose>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets a cached statement on every exit path, so the next use starts clean.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* s) : s_(s) {}
  ~StmtReset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;

 private:
  sqlite3_stmt* s_;
};

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(DbHandle db) : db_(std::move(db)) {}

  std::string_view backend() const override { return "sqlite"; }
  std::string_view identity_column() const override { return "INTEGER PRIMARY KEY"; }
  Expected<void> sync_identity(const std::string&) override { return {}; }  // rowid follows max

  Expected<void> execute_script(const std::string& sql) override {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db_.get());
      sqlite3_free(message);
      return Error{"sqlite: " + text};
    }
    return {};
  }

  Expected<std::vector<SqlRow>> query(const std::string& sql,
                                      std::span<const SqlValue> params) override {
    auto stmt = prepare(sql);
    if (!stmt) return stmt.error();
    StmtReset reset(*stmt);
    if (auto b = bind(*stmt, params); !b) return b.error();
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(*stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return failure("step");
      SqlRow row(static_cast<std::size_t>(sqlite3_column_count(*stmt)));
      for (std::size_t i = 0; i < row.size(); ++i) {
        const auto* text = sqlite3_column_text(*stmt, static_cast<int>(i));
        if (text) row[i] = reinterpret_cast<const char*>(text);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Expected<std::uint64_t> bulk_insert(const std::string& table,
                                      std::span<const std::string> columns,
                                      const RowSource& rows) override {
    std::string sql = "INSERT INTO " + table + " (";
    std::string values;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i];
      values += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    sql += ") VALUES (" + values + ")";
    auto stmt = prepare(sql);
    if (!stmt) return stmt.error();
    std::vector<SqlValue> row;
    std::uint64_t count = 0;
    while (rows(row)) {
      StmtReset reset(*stmt);
      if (auto b = bind(*stmt, row); !b) return b.error();
      if (sqlite3_step(*stmt) != SQLITE_DONE) return failure("bulk insert");
      ++count;
    }
    return count;
  }

 private:
  Expected<sqlite3_stmt*> prepare(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
      return failure("prepare");
    }
    StmtHandle owned(raw);
    auto* stmt = owned.get();
    cache_.emplace(sql, std::move(owned));
    return stmt;
  }

  // $N is a named parameter to SQLite: bind value N-1 to it wherever it appears.
  Expected<void> bind(sqlite3_stmt* stmt, std::span<const SqlValue> params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) return Error{"sqlite: statement has no parameter " + name};
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else {
        const auto& s = std::get<std::string>(params[i]);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return failure("bind");
    }
    return {};
  }

  Error failure(std::string_view what) const {
    return Error{"sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_.get())};
  }

  DbHandle db_;
  std::map<std::string, StmtHandle, std::less<>> cache_;
};

}  // namespace

Expected<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    return Error{"sqlite: cannot open " + path + ": " +
                 (raw ? sqlite3_errmsg(raw) : "out of memory")};
  }
  sqlite3_busy_timeout(db.get(), 10'000);
  auto conn = std::make_unique<SqliteConnection>(std::move(db));
  // WAL: readers never block the writer; NORMAL sync is durable at checkpoints, enough for a
  // store that can be rebuilt by re-ingesting its documents. Walks keep their visited table and
  // sorts in memory (temp_store), not in temporary files.
  if (auto r = conn->execute_script(
          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;"
          " PRAGMA temp_store=MEMORY;");
      !r) {
    return r.error();
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace mlsc::graph
