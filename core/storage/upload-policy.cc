#include "core/storage/upload-policy.h"

#include <algorithm>

namespace r2w::storage {

namespace {

// 1..16 decimal digits (a length up to 10^16 - 1, far above any limit), else nullopt.
std::optional<uint64_t> length_value(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

Error too_large(uint64_t limit, std::string what) {
  return Error{.code = "payload_too_large",
               .message = what + " may be at most " + std::to_string(limit) + " bytes",
               .field = "content-length"};
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool printable(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
  });
}

bool valid_name(std::string_view n) {
  return !n.empty() && n.size() <= kMaxMetadataNameBytes &&
         std::all_of(n.begin(), n.end(), name_char);
}

std::string strip_quotes(std::string_view etag) {
  if (etag.starts_with("W/")) return std::string(etag);  // never a part's etag
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Error invalid_part(std::string field, std::string message) {
  return Error{.code = "invalid_part", .message = std::move(message), .field = std::move(field)};
}

}  // namespace

Result<UploadBody> plan_upload_body(std::optional<std::string_view> content_length,
                                    uint64_t max_upload_bytes) {
  UploadBody body;
  if (content_length) {
    auto n = length_value(*content_length);
    if (!n) {
      return invalid_field("content-length", "content-length must be a whole number of bytes");
    }
    if (*n > max_upload_bytes) return too_large(max_upload_bytes, "an upload");
    body.declared_bytes = n;
    return body;
  }
  body.buffer_limit_bytes = std::min(kMaxUnsizedUploadBytes, max_upload_bytes);
  if (max_upload_bytes <= kMaxUnsizedUploadBytes) {
    body.over_limit = too_large(max_upload_bytes, "an upload");
  } else {
    body.over_limit =
        Error{.code = "length_required",
              .message = "an upload without content-length may be at most " +
                         std::to_string(kMaxUnsizedUploadBytes) +
                         " bytes; send content-length to stream a larger one (or use a multipart "
                         "upload)",
              .field = "content-length"};
  }
  return body;
}

Result<Metadata> metadata_from_headers(const Metadata& headers) {
  Metadata out;
  size_t total = 0;
  for (const auto& [header, value] : headers) {
    if (!header.starts_with(kMetadataHeaderPrefix)) continue;
    std::string name = header.substr(kMetadataHeaderPrefix.size());
    if (!valid_name(name)) {
      return invalid_field(header, header + ": a metadata name is 1.." +
                                       std::to_string(kMaxMetadataNameBytes) +
                                       " of a-z, 0-9, - and _");
    }
    if (!printable(value)) {
      return invalid_field(header, header + " must be printable ASCII");
    }
    total += name.size() + value.size();
    if (total > kMaxMetadataBytes) {
      return invalid_field(header, "custom metadata may be at most " +
                                       std::to_string(kMaxMetadataBytes) +
                                       " bytes of names and values in all");
    }
    out.emplace_back(std::move(name), value);
  }
  // Insertion sort: a few entries at most (kMaxMetadataBytes in all), and r2watch.wasm is
  // spared a std::sort instantiation for pairs of strings (about 5 KB of code).
  for (size_t i = 1; i < out.size(); ++i) {
    for (size_t j = i; j > 0 && out[j] < out[j - 1]; --j) std::swap(out[j], out[j - 1]);
  }
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first == out[i - 1].first) {
      std::string h = std::string(kMetadataHeaderPrefix) + out[i].first;
      return invalid_field(h, h + " is given more than once");
    }
  }
  return out;
}

Metadata metadata_headers(const Metadata& custom) {
  Metadata out;
  for (const auto& [name, value] : custom) {
    if (valid_name(name) && printable(value)) {
      out.emplace_back(std::string(kMetadataHeaderPrefix) + name, value);
    }
  }
  return out;
}

Result<uint32_t> parse_part_number(std::string_view text) {
  bool digits = !text.empty() && text.size() <= 5 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  uint32_t n = 0;
  for (char c : text) n = digits ? n * 10 + static_cast<uint32_t>(c - '0') : 0;
  if (!digits || n < 1 || n > kMaxPartNumber) {
    return invalid_part("part_number", "part_number must be a whole number from 1 to " +
                                           std::to_string(kMaxPartNumber));
  }
  return n;
}

Result<uint64_t> part_bytes(std::optional<std::string_view> content_length,
                            uint64_t max_upload_bytes) {
  if (!content_length) {
    return Error{.code = "length_required",
                 .message = "a part needs content-length (R2 streams a part only with its length)",
                 .field = "content-length"};
  }
  auto n = length_value(*content_length);
  if (!n) return invalid_field("content-length", "content-length must be a whole number of bytes");
  uint64_t limit = std::min(kMaxPartBytes, max_upload_bytes);
  if (*n > limit) return too_large(limit, "a part");
  return *n;
}

std::optional<Error> check_upload_open(TimePoint expires_at, TimePoint now) {
  if (now < expires_at) return std::nullopt;
  return Error{.code = "no_such_upload",
               .message =
                   "the multipart upload has expired (R2 aborts an upload left "
                   "incomplete after 7 days)",
               .field = "upload_id"};
}

Result<CompletePlan> plan_complete(const std::vector<PartRef>& requested,
                                   const std::vector<UploadedPart>& uploaded) {
  if (requested.empty()) return invalid_part("parts", "parts must name at least one part");
  if (requested.size() > kMaxPartNumber) {
    return invalid_part("parts", "parts may name at most " + std::to_string(kMaxPartNumber));
  }
  CompletePlan plan;
  for (size_t i = 0; i < requested.size(); ++i) {
    const PartRef& ref = requested[i];
    std::string at = "parts[" + std::to_string(i) + "]";
    if (ref.part_number < 1 || ref.part_number > kMaxPartNumber) {
      return invalid_part(at + ".part_number",
                          at + ".part_number must be from 1 to " + std::to_string(kMaxPartNumber));
    }
    if (i > 0 && ref.part_number <= requested[i - 1].part_number) {
      return Error{.code = "invalid_part_order",
                   .message = at +
                              ".part_number must be above the one before it: parts are "
                              "listed in ascending order, each once",
                   .field = at + ".part_number"};
    }
    auto found = std::find_if(uploaded.begin(), uploaded.end(), [&](const UploadedPart& p) {
      return p.part_number == ref.part_number;
    });
    if (found == uploaded.end()) {
      return invalid_part(at + ".part_number",
                          "part " + std::to_string(ref.part_number) + " was not uploaded");
    }
    if (strip_quotes(ref.etag) != strip_quotes(found->etag)) {
      return invalid_part(at + ".etag", at + ".etag is not the etag of part " +
                                            std::to_string(ref.part_number) +
                                            " (it was uploaded again since, or mistyped)");
    }
    plan.parts.push_back(*found);
    plan.size += found->size;
  }
  for (size_t i = 0; i + 1 < plan.parts.size(); ++i) {
    std::string at = "parts[" + std::to_string(i) + "]";
    if (plan.parts[i].size < kMinPartBytes) {
      return invalid_part(at, "part " + std::to_string(plan.parts[i].part_number) + " has " +
                                  std::to_string(plan.parts[i].size) +
                                  " bytes: every part but the last needs at least " +
                                  std::to_string(kMinPartBytes));
    }
    if (plan.parts[i].size != plan.parts[0].size) {
      return invalid_part(at, "part " + std::to_string(plan.parts[i].part_number) +
                                  " differs in size from the first: every part but the last "
                                  "must have the same size");
    }
  }
  if (plan.parts.size() > 1 && plan.parts.back().size > plan.parts[0].size) {
    std::string at = "parts[" + std::to_string(plan.parts.size() - 1) + "]";
    return invalid_part(at, "the last part may not be larger than the others");
  }
  return plan;
}

}  // namespace r2w::storage
