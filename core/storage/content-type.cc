#include "core/storage/content-type.h"

#include <algorithm>

namespace r2w::storage {

namespace {

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' ||
         c == '&' || c == '-' || c == '^' || c == '_' || c == '.' || c == '+';
}

}  // namespace

std::string media_type(std::string_view content_type) {
  std::string_view v = content_type.substr(0, content_type.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string out(v);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  size_t slash = out.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == out.size() ||
      out.find('/', slash + 1) != std::string::npos) {
    return "";
  }
  for (char c : out) {
    if (c != '/' && !token_char(c)) return "";
  }
  return out;
}

bool is_active_content_type(std::string_view content_type) {
  std::string type = media_type(content_type);
  if (type.empty()) return true;  // a browser would sniff it
  static constexpr std::string_view kActive[] = {
      "text/html",
      "application/xhtml+xml",
      "image/svg+xml",
      "text/xml",
      "application/xml",
      "text/xsl",
      "application/xslt+xml",
      "text/javascript",
      "application/javascript",
      "application/x-javascript",
      "application/ecmascript",
      "application/x-ecmascript",
      "text/ecmascript",
      "text/x-ecmascript",
      "text/x-javascript",
      "text/jscript",
      "text/livescript",
      "text/javascript1.0",
      "text/javascript1.1",
      "text/javascript1.2",
      "text/javascript1.3",
      "text/javascript1.4",
      "text/javascript1.5",
      "text/vbscript",
      "text/vbs",
      "application/x-shockwave-flash",
      "application/pdf",
      "text/cache-manifest",
      "multipart/x-mixed-replace",
      "application/wasm",
      "text/x-component",
      "application/hta",
  };
  if (std::find(std::begin(kActive), std::end(kActive), type) != std::end(kActive)) return true;
  // Every XML type (application/atom+xml, application/rss+xml, image/svg+xml, ...) can be
  // rendered with scripts.
  return type.ends_with("+xml") || type.ends_with("/xml");
}

}  // namespace r2w::storage
