// libFuzzer target: the numeric C ABI of r2watch.wasm (wasm-bindings/exports.cc, built natively),
// the functions the Worker calls on every R2 operation. The input is a program: each step takes
// one byte to pick an export and as many 8-byte doubles as it needs, taken raw from the input
// (so NaN, infinities, negative zero and values far beyond int64 all occur). One engine lives for
// the whole input, as one lives for an isolate.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
void* r2w_alloc(uint32_t size);
void r2w_free(void* ptr);
int32_t r2w_init(double now_ms);
int32_t r2w_acquire(double now_ms);
double r2w_retry_after_ms();
int32_t r2w_series(const char* text, uint32_t len);
int32_t r2w_r2_class(int32_t op);
int32_t r2w_record(int32_t series, int32_t op, int32_t ok, double latency_ms, double bytes_up,
                   double bytes_down, double now_ms);
double r2w_sample_weight(int32_t ok, double uniform01);
int32_t r2w_flush_due(double now_ms);
void r2w_release();
int32_t r2w_fault_fails(int32_t op, double uniform01);
double r2w_fault_latency_ms(int32_t op);
int32_t r2w_faults_active();
int32_t r2w_call(const char* command, uint32_t command_len, const char* input,
                 uint32_t input_len, double now_ms);
void* r2w_hot_region();
int32_t r2w_fold();
const char* r2w_output_ptr();
uint32_t r2w_output_len();
}

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  double number() {
    double d = 0;
    if (pos_ + sizeof d <= size_) {
      std::memcpy(&d, data_ + pos_, sizeof d);
      pos_ += sizeof d;
    } else {
      pos_ = size_;
    }
    return d;
  }
  int32_t small() { return static_cast<int32_t>(static_cast<int8_t>(byte())); }
  std::string text() {
    size_t len = byte() % 64;
    std::string s;
    while (len-- > 0 && !empty()) s.push_back(static_cast<char>(byte()));
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  r2w_init(in.number());
  // Faults on every operation so the fault exports have something to answer.
  const char kFaults[] = R"({"operation":"all","error_rate":0.5,"latency_ms":3})";
  r2w_call("faults_set", 10, kFaults, sizeof kFaults - 1, 0);
  int32_t series = -1;
  for (int steps = 0; !in.empty() && steps < 256; ++steps) {
    switch (in.byte() % 15) {
      case 0:
        r2w_acquire(in.number());
        break;
      case 1:
        r2w_retry_after_ms();
        break;
      case 2: {
        std::string s = in.text();
        // Copied into engine-allocated memory, as the Worker does.
        char* p = static_cast<char*>(r2w_alloc(static_cast<uint32_t>(s.size())));
        std::memcpy(p, s.data(), s.size());
        int32_t id = r2w_series(p, static_cast<uint32_t>(s.size()));
        if (id >= 0) series = id;
        r2w_free(p);
        break;
      }
      case 3:
        r2w_r2_class(in.small());
        break;
      case 4: {
        int32_t which = in.byte() % 2 ? series : in.small();
        int32_t op = in.small() % 6;
        int32_t ok = in.byte() % 2;
        double latency = in.number(), up = in.number(), down = in.number(), now = in.number();
        r2w_record(which, op, ok, latency, up, down, now);
        break;
      }
      case 5:
        r2w_sample_weight(in.byte() % 2, in.number());
        break;
      case 6:
        r2w_flush_due(in.number());
        break;
      case 7:
        r2w_release();
        break;
      case 8:
        r2w_fault_fails(in.small(), in.number());
        break;
      case 9:
        r2w_fault_latency_ms(in.small());
        break;
      case 10:
        r2w_faults_active();
        break;
      case 11: {
        const char kTake[] = "metrics_flush_take";
        r2w_call(kTake, sizeof kTake - 1, "{}", 2, in.number());
        (void)r2w_output_ptr();
        (void)r2w_output_len();
        break;
      }
      case 12: {
        const char kStatus[] = "breaker_take_transitions";
        r2w_call(kStatus, sizeof kStatus - 1, "{}", 2, in.number());
        break;
      }
      case 13: {
        // Writes one event into the hot region's ring as the Worker does (raw doubles, so any
        // garbage), at the count the region says, or a count of its own choosing.
        auto* words = static_cast<int32_t*>(r2w_hot_region());
        auto* numbers = static_cast<double*>(r2w_hot_region());
        // (wasm-bindings/engine.h: the count is the double at 72, the ring from 80.)
        double count = numbers[9];
        if (count >= 0 && count < words[2]) {
          int n = static_cast<int>(count);
          // (The key: the series id plus the operation index times 2^32.)
          for (int f = 0; f < 5; ++f) numbers[10 + n * 5 + f] = f == 0 && in.byte() % 2 ? series + (in.byte() % 6) * 4294967296.0 : in.number();
          numbers[9] = n + 1;
        } else {
          numbers[9] = in.small() * 1000;
        }
        break;
      }
      case 14:
        r2w_fold();
        break;
    }
  }
  return 0;
}
