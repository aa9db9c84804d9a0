#include "sql_builder.h"

#include <charconv>

#include <dicomd/cpp/json.hpp>

#include "fold.h"

namespace dicomd::index {
namespace {

constexpr std::string_view kTables[] = {"studies", "series", "instances"};

std::string_view table_of(Level level) {
  return kTables[static_cast<int>(level)];
}

// The column that ties rows of a level to the instances below it.
std::string_view group_column(Level level) {
  return level == Level::kStudy ? "study_uid" : "series_uid";
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?") != std::string_view::npos;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

int number(std::string_view s) {
  int n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// Collects the WHERE clauses of one statement and their parameters.
class Where {
 public:
  // Built in place: GCC 12 warns (wrongly) about a moved-from variant.
  std::string param(int64_t v) {
    params_.emplace_back(std::in_place_type<int64_t>, v);
    return "?";
  }
  std::string param(std::string v) {
    params_.emplace_back(std::in_place_type<std::string>, std::move(v));
    return "?";
  }
  void add(std::string clause) { clauses_.push_back(std::move(clause)); }
  std::string text() const {
    std::string out;
    for (const auto& c : clauses_) out += (out.empty() ? " WHERE " : " AND ") + c;
    return out;
  }
  const std::vector<SqlValue>& params() const { return params_; }

 private:
  std::vector<std::string> clauses_;
  std::vector<SqlValue> params_;
};

[[noreturn]] void refuse(const SearchKey& key, std::string_view why) {
  throw QueryError("bad value for " + std::string(key.keyword) + ": " + std::string(why));
}

// `column` = value, or LIKE when it has wildcards.
std::string text_match(Where& w, const std::string& column, std::string_view value) {
  if (has_wildcard(value)) return column + " LIKE " + w.param(like_pattern(value)) + " ESCAPE '\\'";
  return column + " = " + w.param(std::string(value));
}

// Alternatives separated by '\' (a DICOM value list), any of which matches.
template <class One>
std::string any_of(std::string_view value, One&& one) {
  auto values = split(value, '\\');
  if (values.size() == 1) return one(values[0]);
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? " OR " : "") + one(values[i]);
  return out + ")";
}

std::string uid_match(Where& w, const SearchKey& key, const std::string& column, std::string_view value) {
  auto uids = split(value, '\\');
  std::string out = column + " IN (";
  for (size_t i = 0; i < uids.size(); ++i) {
    if (uids[i].empty() || uids[i].size() > 64 || uids[i].find_first_not_of("0123456789.") != std::string_view::npos)
      refuse(key, "a UID is digits and dots, at most 64 (no wildcards)");
    out += (i ? ", " : "") + w.param(std::string(uids[i]));
  }
  return out + ")";
}

// HH[MM[SS[.F]]] padded to a bound of its period: "0930" -> "093000" from
// below, "093059.999999" from above, so a range includes the whole minute.
std::string time_bound(std::string_view t, bool upper) {
  std::string out(t);
  if (upper) {
    const std::string_view max = "235959.999999";
    if (out.size() < max.size()) out += max.substr(out.size());
  }
  return out;
}

std::string range_match(Where& w, const SearchKey& key, const std::string& column, std::string_view value,
                        bool (*valid)(std::string_view), bool is_time) {
  size_t dash = value.find('-');
  if (dash == std::string_view::npos) {
    if (!valid(value)) refuse(key, is_time ? "a time is HH[MM[SS[.FFFFFF]]]" : "a date is YYYYMMDD");
    return column + " = " + w.param(std::string(value));
  }
  std::string_view low = value.substr(0, dash), high = value.substr(dash + 1);
  if ((low.empty() && high.empty()) || (!low.empty() && !valid(low)) || (!high.empty() && !valid(high)))
    refuse(key, is_time ? "a range is T1-T2, T1- or -T2 with times HH[MM[SS[.FFFFFF]]]"
                        : "a range is D1-D2, D1- or -D2 with dates YYYYMMDD");
  if (!low.empty() && !high.empty() && time_bound(low, false) > time_bound(high, is_time))
    refuse(key, "the range ends before it starts");
  std::string out;
  if (!low.empty()) out = column + " >= " + w.param(time_bound(low, false));
  if (!high.empty()) out += (out.empty() ? "" : " AND ") + column + " <= " + w.param(time_bound(high, is_time));
  return "(" + out + ")";
}

std::string integer_match(Where& w, const SearchKey& key, const std::string& column, std::string_view value) {
  return any_of(value, [&](std::string_view v) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) refuse(key, "an integer, or a list of them");
    return column + " = " + w.param(n);
  });
}

constexpr std::string_view kComponentColumns[] = {"n.family", "n.given", "n.middle", "n.prefix", "n.suffix"};

// `owner` has a person-name row (one per group of each PN value) on which
// every (column, folded value) matches. Not a correlated EXISTS: the
// matching rows are found once, through the (name_key, family) index for a
// family prefix, and the rows they belong to by their id. Parameters are
// added in the order they appear in the text.
std::string names_exists(Where& w, const SearchKey& key, Level level, std::string_view owner,
                         const std::vector<std::pair<std::string, std::string>>& matches) {
  // One param() per statement: the operands of + are evaluated in no set
  // order, and the parameters must follow the text.
  std::string out = std::string(owner) + " IN (SELECT n.owner_id FROM person_names n WHERE n.level = ";
  out += w.param(static_cast<int64_t>(level));
  out += " AND n.name_key = ";
  out += w.param(std::string(key.keyword));
  for (const auto& [column, value] : matches) out += " AND " + text_match(w, column, value);
  return out + ")";
}

// Fuzzy: every word of the query begins a word of some component, in any
// group. Otherwise, per group of the query (split on '='), its components
// (split on '^') match those of one group of the name; a missing or "*"
// component matches anything.
std::string person_name_match(Where& w, const SearchKey& key, Level level, std::string_view owner,
                              std::string_view value, bool fuzzy) {
  std::string out;
  auto add = [&](const std::vector<std::pair<std::string, std::string>>& matches) {
    if (!matches.empty()) out += (out.empty() ? "" : " AND ") + names_exists(w, key, level, owner, matches);
  };
  if (fuzzy) {
    size_t start = 0;
    for (size_t i = 0; i <= value.size(); ++i) {
      if (i < value.size() && value[i] != ' ' && value[i] != '^' && value[i] != '=' && value[i] != ',') continue;
      std::string word = fold(value.substr(start, i - start));
      start = i + 1;
      if (word.empty() || word.find_first_not_of('*') == std::string::npos) continue;
      add({{"n.words", "* " + word + "*"}});
    }
    return out;
  }
  for (std::string_view group : split(value, '=')) {
    auto components = split(group, '^');
    if (components.size() > 5)
      refuse(key, "a person name has at most five components (family^given^middle^prefix^suffix)");
    std::vector<std::pair<std::string, std::string>> matches;
    for (size_t i = 0; i < components.size(); ++i) {
      std::string folded = fold(components[i]);
      if (folded.empty() || folded.find_first_not_of('*') == std::string::npos) continue;  // any
      matches.emplace_back(kComponentColumns[i], std::move(folded));
    }
    add(matches);
  }
  return out;
}

// The condition of one filter on the row `t` of `level`'s table; "" when the
// value matches everything (empty, or "*").
std::string condition(Where& w, const Filter& f, Level level, bool fuzzy) {
  const SearchKey& key = *f.key;
  std::string_view value = f.value;
  if (value.empty() || value == "*") return "";
  if (key.match == Match::kModalities) {
    return "EXISTS (SELECT 1 FROM series m WHERE m.study_uid = t.study_uid AND " +
           any_of(value, [&](std::string_view v) { return text_match(w, "m.modality", v); }) + ")";
  }
  if (key.match == Match::kPersonName) {
    // PN keys are study-level: every table holds them directly.
    return person_name_match(w, key, level, level == Level::kInstance ? "t.id" : "t.rep_id", value, fuzzy);
  }
  bool direct = key.level <= level;
  std::string column = std::string(direct ? "t." : "i.") + std::string(key.column);
  std::string cond;
  switch (key.match) {
    case Match::kUid:
      cond = uid_match(w, key, column, value);
      break;
    case Match::kDate:
      cond = range_match(w, key, column, value, is_dicom_date, false);
      break;
    case Match::kTime:
      cond = range_match(w, key, column, value, is_dicom_time, true);
      break;
    case Match::kInteger:
      cond = integer_match(w, key, column, value);
      break;
    default:
      cond = any_of(value, [&](std::string_view v) { return text_match(w, column, v); });
      break;
  }
  if (direct) return cond;
  // A key of a lower level: some instance of this study (series) matches.
  std::string group(group_column(level));
  return "EXISTS (SELECT 1 FROM instances i WHERE i." + group + " = t." + group + " AND " + cond + ")";
}

std::string order_by(const SearchQuery& q) {
  std::vector<Order> order = q.order;
  if (order.empty()) order.push_back({find_key("StudyDate"), true});
  std::string out = " ORDER BY ";
  for (size_t i = 0; i < order.size(); ++i)
    out += (i ? ", t." : "t.") + std::string(order[i].key->column) + (order[i].descending ? " DESC" : " ASC") +
           " NULLS LAST";
  // A stable page: ties broken on the level's UID (and, for two files of
  // one instance, the row).
  switch (q.level) {
    case Level::kStudy:
      return out + ", t.study_uid";
    case Level::kSeries:
      return out + ", t.series_uid";
    case Level::kInstance:
      return out + ", t.sop_instance_uid, t.id";
  }
  return out;
}

}  // namespace

std::string like_pattern(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 4);
  for (char c : value) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '*') {
      out += '%';
    } else if (c == '?') {
      out += '_';
    } else {
      out += c;
    }
  }
  return out;
}

bool is_dicom_date(std::string_view s) {
  if (s.size() != 8 || !all_digits(s)) return false;
  int year = number(s.substr(0, 4)), month = number(s.substr(4, 2)), day = number(s.substr(6, 2));
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= (month == 2 && !leap ? 28 : kDays[month - 1]);
}

bool is_dicom_time(std::string_view s) {
  std::string_view whole = s.substr(0, s.find('.'));
  if (whole.size() != 2 && whole.size() != 4 && whole.size() != 6) return false;
  if (!all_digits(whole) || number(whole.substr(0, 2)) > 23) return false;
  if (whole.size() >= 4 && number(whole.substr(2, 2)) > 59) return false;
  if (whole.size() == 6 && number(whole.substr(4, 2)) > 60) return false;
  if (whole.size() == s.size()) return true;
  std::string_view fraction = s.substr(whole.size() + 1);
  return whole.size() == 6 && fraction.size() >= 1 && fraction.size() <= 6 && all_digits(fraction);
}

SearchSql build_search_sql(const SearchQuery& q) {
  Where where;
  for (const auto& f : q.filters)
    if (std::string c = condition(where, f, q.level, q.fuzzy); !c.empty()) where.add(std::move(c));
  std::string from = " FROM " + std::string(table_of(q.level)) + " t" + where.text();
  SearchSql sql;
  sql.count = "SELECT count(*)" + from;
  sql.count_params = where.params();
  sql.page = "SELECT t.attrs, (" + sql.count + ")" + from + order_by(q) + " LIMIT ? OFFSET ?";
  sql.page_params = where.params();
  sql.page_params.insert(sql.page_params.end(), where.params().begin(), where.params().end());
  sql.page_params.emplace_back(static_cast<int64_t>(q.limit));
  sql.page_params.emplace_back(static_cast<int64_t>(q.offset));
  return sql;
}

}  // namespace dicomd::index
