#include "core/cost/operation-class.h"

namespace r2w::cost {

namespace {

constexpr OperationClass A = OperationClass::kClassA;
constexpr OperationClass B = OperationClass::kClassB;
constexpr OperationClass F = OperationClass::kFree;

// developers.cloudflare.com/r2/pricing, "Class A operations", "Class B operations" and "Free
// operations".
constexpr OperationClassEntry kTable[] = {
    // r2watch operations (the Workers R2 binding's get/put/delete/list/head).
    {"put", A},
    {"list", A},
    {"get", B},
    {"head", B},
    {"delete", F},
    // Class A.
    {"ListBuckets", A},
    {"PutBucket", A},
    {"ListObjects", A},
    {"PutObject", A},
    {"CopyObject", A},
    {"CompleteMultipartUpload", A},
    {"CreateMultipartUpload", A},
    {"LifecycleStorageTierTransition", A},
    {"ListMultipartUploads", A},
    {"UploadPart", A},
    {"UploadPartCopy", A},
    {"ListParts", A},
    {"PutBucketEncryption", A},
    {"PutBucketCors", A},
    {"PutBucketLifecycleConfiguration", A},
    // Class B.
    {"HeadBucket", B},
    {"HeadObject", B},
    {"GetObject", B},
    {"UsageSummary", B},
    {"GetBucketEncryption", B},
    {"GetBucketLocation", B},
    {"GetBucketCors", B},
    {"GetBucketLifecycleConfiguration", B},
    // Free.
    {"DeleteObject", F},
    {"DeleteBucket", F},
    {"AbortMultipartUpload", F},
};

}  // namespace

std::string_view operation_class_name(OperationClass c) {
  switch (c) {
    case OperationClass::kClassA:
      return "class_a";
    case OperationClass::kClassB:
      return "class_b";
    case OperationClass::kFree:
      return "free";
  }
  return "free";
}

std::span<const OperationClassEntry> operation_class_table() { return kTable; }

std::optional<OperationClass> classify_operation(std::string_view operation) {
  for (const OperationClassEntry& e : kTable) {
    if (e.operation == operation) return e.billed_as;
  }
  return std::nullopt;
}

OperationClass classify_operation(Operation op) {
  // Every r2watch operation is in the table (a test checks it).
  return classify_operation(operation_name(op)).value_or(OperationClass::kClassA);
}

std::string_view operation_class_label(OperationClass c) {
  switch (c) {
    case OperationClass::kClassA:
      return "A";
    case OperationClass::kClassB:
      return "B";
    case OperationClass::kFree:
      return "free";
  }
  return "A";
}

}  // namespace r2w::cost
