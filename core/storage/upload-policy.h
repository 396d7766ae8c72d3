#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.h"
#include "core/common/time.h"

namespace r2w::storage {

// What an upload may carry: its length, its custom metadata, and the parts of a multipart
// upload. R2 needs the length of a streamed body before it reads it, so a body is streamed to
// R2 when it declares Content-Length and is otherwise held in memory up to a small limit.

// A body without Content-Length (chunked) is buffered up to this many bytes; beyond, 411.
inline constexpr uint64_t kMaxUnsizedUploadBytes = 1024 * 1024;

// How an upload's body is read.
struct UploadBody {
  // The declared length, when Content-Length was given: the body is streamed.
  std::optional<uint64_t> declared_bytes;
  // Without one: how much may be buffered, and the refusal when the body is longer (411
  // length_required, or 413 when MAX_UPLOAD_BYTES is itself below the buffer limit).
  uint64_t buffer_limit_bytes = 0;
  Error over_limit;
};

// `content_length` as the request carried it (nullopt: absent). A declared length above
// `max_upload_bytes` is refused (413 payload_too_large, field "content-length") before any
// byte is read; one that is not 1..16 decimal digits is refused (422 naming content-length).
Result<UploadBody> plan_upload_body(std::optional<std::string_view> content_length,
                                    uint64_t max_upload_bytes);

// Custom metadata travels as request and response headers "x-r2watch-meta-<name>" and is
// stored as R2 custom metadata under <name>.
inline constexpr std::string_view kMetadataHeaderPrefix = "x-r2watch-meta-";
// <name>: 1..64 of a-z 0-9 - _ (header names arrive lowercased).
inline constexpr size_t kMaxMetadataNameBytes = 64;
// Names and values together: R2's limit on an object's custom metadata (2 KiB).
inline constexpr size_t kMaxMetadataBytes = 2048;

using Metadata = std::vector<std::pair<std::string, std::string>>;

// The custom metadata of an upload's headers (every other header is left alone). A name or a
// value (printable ASCII only, so it can be sent back as a header) that breaks the rules, or
// more than kMaxMetadataBytes in all, is refused (422 naming the header).
Result<Metadata> metadata_from_headers(const Metadata& headers);

// The response headers of stored custom metadata; entries a header cannot carry (written
// around r2watch with other names or values) are left out.
Metadata metadata_headers(const Metadata& custom);

// Multipart uploads (R2's rules: parts 1..10,000; every part but the last at least 5 MiB and
// all of one size; the last no larger; a part at most 5 GiB; an upload left incomplete is
// aborted by R2 after 7 days).
inline constexpr uint32_t kMaxPartNumber = 10000;
inline constexpr uint64_t kMinPartBytes = 5ull * 1024 * 1024;
inline constexpr uint64_t kMaxPartBytes = 5ull * 1024 * 1024 * 1024;
inline constexpr Duration kMultipartUploadLifetime = std::chrono::hours(24 * 7);

// A part number from a URL path segment: 1..10,000 in decimal (400 invalid_part, field
// "part_number").
Result<uint32_t> parse_part_number(std::string_view text);

// The length of a part: Content-Length is required (411 length_required: R2 streams a part
// only with its length), at most kMaxPartBytes and `max_upload_bytes` (413).
Result<uint64_t> part_bytes(std::optional<std::string_view> content_length,
                            uint64_t max_upload_bytes);

// An upload is open until `expires_at`; after, it is gone (404 no_such_upload, field
// "upload_id"), as R2 has aborted it.
std::optional<Error> check_upload_open(TimePoint expires_at, TimePoint now);

struct UploadedPart {
  uint32_t part_number = 0;
  std::string etag;
  uint64_t size = 0;
};

struct PartRef {
  uint32_t part_number = 0;
  std::string etag;
};

struct CompletePlan {
  std::vector<UploadedPart> parts;  // in order, as R2 is given them
  uint64_t size = 0;                // the object's size
};

// Checks the parts a client completes an upload with against those uploaded: at least one, at
// most kMaxPartNumber, part numbers strictly ascending (400 invalid_part_order naming
// parts[i].part_number), each uploaded (400 invalid_part, parts[i].part_number) with its etag
// (quotes optional; 400 invalid_part, parts[i].etag), and the sizes R2 accepts (400
// invalid_part naming the part). Parts uploaded but not named are dropped by R2.
Result<CompletePlan> plan_complete(const std::vector<PartRef>& requested,
                                   const std::vector<UploadedPart>& uploaded);

}  // namespace r2w::storage
