#include "core/common/csv.h"

namespace r2w {

bool csv_formula_start(std::string_view text) {
  if (text.empty()) return false;
  char c = text.front();
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

std::string csv_text_cell(std::string_view text) {
  std::string value;
  if (csv_formula_start(text)) value = "'";
  value.append(text);
  bool quote = value.starts_with("'") || value.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string csv_row(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += cells[i];
  }
  out.push_back('\n');
  return out;
}

}  // namespace r2w
