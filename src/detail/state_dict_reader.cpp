#include "detail/state_dict_reader.hpp"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <memory>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "anodiff/error.hpp"

namespace anodiff::detail {
namespace {

// The values a state_dict pickle builds.
struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Global {
  std::string module, name;
};
struct Mark {};
struct Value {
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Global, std::vector<ValuePtr>, Mark,
               torch::Tensor, std::vector<std::pair<ValuePtr, ValuePtr>>>
      v;
  bool is_tuple = false;  // vector: tuple (true) or list
};

ValuePtr make(decltype(Value::v) v) {
  auto p = std::make_shared<Value>();
  p->v = std::move(v);
  return p;
}

torch::ScalarType storage_type(const std::string& name, const std::string& file) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64}, {"HalfStorage", torch::kFloat16},
      {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kInt64}, {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16}, {"CharStorage", torch::kInt8}, {"ByteStorage", torch::kUInt8},
      {"BoolStorage", torch::kBool}};
  auto it = types.find(name);
  if (it == types.end()) throw InputError(fmt::format("{}: unsupported tensor storage type torch.{}", file, name));
  return it->second;
}

class Unpickler {
 public:
  Unpickler(caffe2::serialize::PyTorchStreamReader& reader, const std::string& file) : reader_(reader), file_(file) {}

  ValuePtr run(const char* data, std::size_t size) {
    p_ = data;
    end_ = data + size;
    while (p_ < end_) {
      const unsigned char op = static_cast<unsigned char>(*p_++);
      switch (op) {
        case 0x80: take(1); break;                                      // PROTO
        case 0x95: take(8); break;                                      // FRAME
        case '.': return pop();                                         // STOP
        case 'c': {                                                     // GLOBAL
          std::string module = line(), name = line();
          push(make(Global{module, name}));
          break;
        }
        case 'q': memo_[u8()] = stack_.back(); break;                   // BINPUT
        case 'r': memo_[u32()] = stack_.back(); break;                  // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = stack_.back(); break;          // MEMOIZE
        case 'h': push(memo_.at(u8())); break;                          // BINGET
        case 'j': push(memo_.at(u32())); break;                         // LONG_BINGET
        case '(': push(make(Mark{})); break;                            // MARK
        case ')': push(tuple({})); break;                               // EMPTY_TUPLE
        case 't': push(tuple(pop_to_mark())); break;                    // TUPLE
        case 0x85: { auto a = pop(); push(tuple({a})); break; }         // TUPLE1
        case 0x86: { auto b = pop(), a = pop(); push(tuple({a, b})); break; }
        case 0x87: { auto c = pop(), b = pop(), a = pop(); push(tuple({a, b, c})); break; }
        case ']': push(make(std::vector<ValuePtr>{})); break;           // EMPTY_LIST
        case '}': push(make(std::vector<std::pair<ValuePtr, ValuePtr>>{})); break;  // EMPTY_DICT
        case 'a': { auto x = pop(); list(stack_.back()).push_back(x); break; }      // APPEND
        case 'e': { auto xs = pop_to_mark(); auto& l = list(stack_.back()); l.insert(l.end(), xs.begin(), xs.end()); break; }
        case 's': { auto v = pop(), k = pop(); dict(stack_.back()).emplace_back(k, v); break; }  // SETITEM
        case 'u': {                                                     // SETITEMS
          auto xs = pop_to_mark();
          auto& d = dict(stack_.back());
          for (std::size_t i = 0; i + 1 < xs.size(); i += 2) d.emplace_back(xs[i], xs[i + 1]);
          break;
        }
        case 'N': push(make(std::monostate{})); break;
        case 0x88: push(make(true)); break;
        case 0x89: push(make(false)); break;
        case 'K': push(make(std::int64_t(u8()))); break;                // BININT1
        case 'M': { std::uint16_t v; std::memcpy(&v, take(2), 2); push(make(std::int64_t(v))); break; }
        case 'J': { std::int32_t v; std::memcpy(&v, take(4), 4); push(make(std::int64_t(v))); break; }
        case 0x8a: {                                                    // LONG1
          const std::size_t n = u8();
          const char* b = take(n);
          std::int64_t v = 0;
          for (std::size_t i = 0; i < n && i < 8; ++i) v |= std::int64_t(static_cast<unsigned char>(b[i])) << (8 * i);
          if (n > 0 && n < 8 && (b[n - 1] & 0x80)) v -= std::int64_t(1) << (8 * n);
          push(make(v));
          break;
        }
        case 'G': {                                                     // BINFLOAT (big-endian)
          const char* b = take(8);
          char r[8];
          for (int i = 0; i < 8; ++i) r[i] = b[7 - i];
          double d;
          std::memcpy(&d, r, 8);
          push(make(d));
          break;
        }
        case 'X': { const std::size_t n = u32(); push(make(std::string(take(n), n))); break; }  // BINUNICODE
        case 0x8c: { const std::size_t n = u8(); push(make(std::string(take(n), n))); break; }   // SHORT_BINUNICODE
        case 'U': { const std::size_t n = u8(); push(make(std::string(take(n), n))); break; }    // SHORT_BINSTRING
        case 'Q': push(persistent(pop())); break;                       // BINPERSID
        case 'R': { auto args = pop(), fn = pop(); push(reduce(fn, args)); break; }  // REDUCE
        case 'b': pop(); break;                                         // BUILD: state (e.g. _metadata) ignored
        default:
          throw InputError(fmt::format("{}: unsupported pickle opcode 0x{:02x} in data.pkl: expected a state_dict "
                                       "written by torch.save", file_, int(op)));
      }
    }
    throw InputError(fmt::format("{}: data.pkl ends without STOP", file_));
  }

 private:
  const char* take(std::size_t n) {
    if (p_ + n > end_) throw InputError(fmt::format("{}: truncated data.pkl", file_));
    const char* r = p_;
    p_ += n;
    return r;
  }
  std::size_t u8() { return static_cast<unsigned char>(*take(1)); }
  std::size_t u32() {
    std::uint32_t v;
    std::memcpy(&v, take(4), 4);
    return v;
  }
  std::string line() {
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', std::size_t(end_ - p_)));
    if (!nl) throw InputError(fmt::format("{}: truncated data.pkl", file_));
    std::string s(p_, nl);
    p_ = nl + 1;
    return s;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty()) throw InputError(fmt::format("{}: malformed data.pkl (stack underflow)", file_));
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_to_mark() {
    std::vector<ValuePtr> xs;
    while (!stack_.empty() && !std::holds_alternative<Mark>(stack_.back()->v)) xs.insert(xs.begin(), pop());
    pop();  // the mark
    return xs;
  }
  static ValuePtr tuple(std::vector<ValuePtr> xs) {
    auto v = make(std::move(xs));
    v->is_tuple = true;
    return v;
  }
  std::vector<ValuePtr>& list(const ValuePtr& v) {
    if (auto* l = std::get_if<std::vector<ValuePtr>>(&v->v)) return *l;
    throw InputError(fmt::format("{}: malformed data.pkl (append to a non-list)", file_));
  }
  std::vector<std::pair<ValuePtr, ValuePtr>>& dict(const ValuePtr& v) {
    if (auto* d = std::get_if<std::vector<std::pair<ValuePtr, ValuePtr>>>(&v->v)) return *d;
    throw InputError(fmt::format("{}: malformed data.pkl (setitem on a non-dict)", file_));
  }
  const std::vector<ValuePtr>& items(const ValuePtr& v) {
    if (auto* l = std::get_if<std::vector<ValuePtr>>(&v->v)) return *l;
    throw InputError(fmt::format("{}: malformed data.pkl (expected a tuple)", file_));
  }
  std::int64_t integer(const ValuePtr& v) {
    if (auto* i = std::get_if<std::int64_t>(&v->v)) return *i;
    throw InputError(fmt::format("{}: malformed data.pkl (expected an integer)", file_));
  }

  // ('storage', torch.FloatStorage, key, location, numel) -> a flat tensor over the record data/<key>.
  ValuePtr persistent(const ValuePtr& pid) {
    const auto& t = items(pid);
    if (t.size() < 5) throw InputError(fmt::format("{}: unsupported persistent id in data.pkl", file_));
    const auto* g = std::get_if<Global>(&t[1]->v);
    const auto* key = std::get_if<std::string>(&t[2]->v);
    if (!g || !key) throw InputError(fmt::format("{}: unsupported persistent id in data.pkl", file_));
    const auto type = storage_type(g->name, file_);
    const std::int64_t numel = integer(t[4]);
    auto [ptr, bytes] = reader_.getRecord("data/" + *key);
    auto storage = torch::empty({numel}, torch::TensorOptions().dtype(type));
    if (bytes < std::size_t(numel) * storage.element_size()) {
      throw InputError(fmt::format("{}: record data/{} is shorter than its {} elements", file_, *key, numel));
    }
    std::memcpy(storage.data_ptr(), ptr.get(), std::size_t(numel) * storage.element_size());
    return make(storage);
  }

  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    const auto* g = std::get_if<Global>(&fn->v);
    if (!g) throw InputError(fmt::format("{}: malformed data.pkl (reduce of a non-callable)", file_));
    if (g->module == "collections" && g->name == "OrderedDict") return make(std::vector<std::pair<ValuePtr, ValuePtr>>{});
    if (g->module == "torch.jit._pickle" && g->name == "restore_type_tag") return items(args).at(0);  // LibTorch's
    if (g->module == "torch._utils" && (g->name == "_rebuild_tensor_v2" || g->name == "_rebuild_tensor")) {
      const auto& a = items(args);
      const auto* storage = std::get_if<torch::Tensor>(&a.at(0)->v);
      if (!storage) throw InputError(fmt::format("{}: malformed tensor in data.pkl", file_));
      const std::int64_t offset = integer(a.at(1));
      std::vector<std::int64_t> size, stride;
      for (const auto& s : items(a.at(2))) size.push_back(integer(s));
      for (const auto& s : items(a.at(3))) stride.push_back(integer(s));
      return make(storage->as_strided(size, stride, offset).clone());
    }
    throw InputError(fmt::format("{}: data.pkl calls {}.{}: expected a plain state_dict of tensors", file_, g->module,
                                 g->name));
  }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string file_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::vector<ValuePtr> stack_;
  std::map<std::size_t, ValuePtr> memo_;
};

}  // namespace

std::map<std::string, torch::Tensor> read_state_dict(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error&) {
    throw InputError(fmt::format("{}: not a zip archive written by torch.save (PyTorch >= 1.6); re-save it with "
                                 "torch.save(model.state_dict(), path)", path));
  }
  if (!reader->hasRecord("data.pkl")) throw InputError(fmt::format("{}: the archive has no data.pkl", path));
  auto [ptr, size] = reader->getRecord("data.pkl");
  Unpickler u(*reader, path);
  const ValuePtr root = u.run(static_cast<const char*>(ptr.get()), size);
  const auto* d = std::get_if<std::vector<std::pair<ValuePtr, ValuePtr>>>(&root->v);
  if (!d) throw InputError(fmt::format("{}: expected a dict of tensors (a state_dict)", path));
  std::map<std::string, torch::Tensor> out;
  for (const auto& [k, v] : *d) {
    const auto* name = std::get_if<std::string>(&k->v);
    const auto* tensor = std::get_if<torch::Tensor>(&v->v);
    if (name && tensor) out[*name] = *tensor;
  }
  return out;
}

}  // namespace anodiff::detail
