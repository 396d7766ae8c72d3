#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace r2w {

// CSV as r2watch writes it (RFC 4180, "\n" line ends), safe to open in a spreadsheet. Every CSV
// r2watch serves (reports, usage export, and the CLI's export, which saves the served file) is
// written by these functions, through the engine's `csv_table` command.

// One text cell. Text that a spreadsheet would run as a formula (starting with '=', '+', '-',
// '@', a tab or a carriage return) gets a leading single quote ("=1+1" -> "'=1+1"), and a cell
// holding a comma, a double quote, a line break or a leading quote is quoted, with its double
// quotes doubled. Numbers written by r2watch itself are not text cells (see csv_number_cell).
std::string csv_text_cell(std::string_view text);

// Whether text would start a formula in a spreadsheet (the first character is one of
// = + - @ tab CR).
bool csv_formula_start(std::string_view text);

// One row: the cells joined with commas (each already a cell), ended by "\n".
std::string csv_row(const std::vector<std::string>& cells);

}  // namespace r2w
