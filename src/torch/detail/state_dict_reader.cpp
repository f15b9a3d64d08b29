#include "torch/detail/state_dict_reader.hpp"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/printable.hpp"

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
  if (it == types.end()) {
    throw InputError(fmt::format("{}: unsupported tensor storage type torch.{}", file, printable(name)));
  }
  return it->second;
}

std::uint64_t le(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The sizes a zip archive declares (central directory, entries; zip64 too) checked against the file's real size
// before miniz allocates by them: a stored entry's sizes agree and lie inside the file, a deflated one expands by at
// most deflate's limit (1032:1). An archive without an end-of-central-directory record is left to the zip reader.
void check_zip_sizes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (end <= 0) return;
  const std::uint64_t size = static_cast<std::uint64_t>(end);
  auto read_at = [&](std::uint64_t offset, std::uint64_t n) {
    std::string b(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(b.data(), static_cast<std::streamsize>(n))) throw InputError(fmt::format("{}: cannot read", path));
    return b;
  };
  auto bad = [&](const std::string& what) {
    return InputError(fmt::format("{}: corrupt zip archive: {}; expected a file written by torch.save", path, what));
  };
  const std::uint64_t tail_len = std::min<std::uint64_t>(size, 22 + 65535);
  const std::string tail = read_at(size - tail_len, tail_len);
  std::size_t eocd = std::string::npos;
  for (std::size_t i = tail.size() >= 22 ? tail.size() - 22 + 1 : 0; i-- > 0;) {
    if (tail.compare(i, 4, "PK\x05\x06") == 0) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) return;
  std::uint64_t entries = le(&tail[eocd + 10], 2), cd_size = le(&tail[eocd + 12], 4), cd_offset = le(&tail[eocd + 16], 4);
  if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {  // zip64: its locator precedes
    if (eocd < 20 || tail.compare(eocd - 20, 4, "PK\x06\x07") != 0) throw bad("zip64 locator missing");
    const std::uint64_t at = le(&tail[eocd - 20 + 8], 8);
    if (at > size || size - at < 56) throw bad("zip64 end record outside the file");
    const std::string z = read_at(at, 56);
    if (z.compare(0, 4, "PK\x06\x06") != 0) throw bad("zip64 end record missing");
    entries = le(&z[32], 8);
    cd_size = le(&z[40], 8);
    cd_offset = le(&z[48], 8);
  }
  if (cd_offset > size || cd_size > size - cd_offset) {
    throw bad(fmt::format("a central directory of {} bytes at {} in a file of {}", cd_size, cd_offset, size));
  }
  if (entries > cd_size / 46) throw bad(fmt::format("{} entries in a central directory of {} bytes", entries, cd_size));
  const std::string cd = read_at(cd_offset, cd_size);
  std::size_t p = 0;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (cd.size() - p < 46 || cd.compare(p, 4, "PK\x01\x02") != 0) throw bad("truncated central directory");
    const std::uint64_t method = le(&cd[p + 10], 2);
    std::uint64_t comp = le(&cd[p + 20], 4), uncomp = le(&cd[p + 24], 4), local = le(&cd[p + 42], 4);
    const std::size_t name = le(&cd[p + 28], 2), extra = le(&cd[p + 30], 2), comment = le(&cd[p + 32], 2);
    if (cd.size() - p - 46 < name + extra + comment) throw bad("truncated central directory");
    for (std::size_t x = p + 46 + name; x + 4 <= p + 46 + name + extra;) {  // the zip64 extra field
      const std::size_t id = le(&cd[x], 2), len = le(&cd[x + 2], 2);
      if (x + 4 + len > p + 46 + name + extra) break;
      if (id == 1) {
        std::size_t q = x + 4;
        for (auto* v : {&uncomp, &comp, &local}) {
          if (*v != 0xffffffff) continue;
          if (q + 8 > x + 4 + len) throw bad("truncated zip64 extra field");
          *v = le(&cd[q], 8);
          q += 8;
        }
      }
      x += 4 + len;
    }
    const std::string entry = printable(cd.substr(p + 46, name));
    if (local > size || comp > size - local) {
      throw bad(fmt::format("entry {} declares {} bytes at {} in a file of {}", entry, comp, local, size));
    }
    if (method == 0 ? uncomp != comp : method == 8 ? uncomp / 1032 > comp + 1 : true) {
      throw bad(fmt::format("entry {} (method {}) declares {} bytes from {}", entry, method, uncomp, comp));
    }
    p += 46 + name + extra + comment;
  }
}

// Where the storages of a pickle come from: the storage of a persistent id ('storage', type, key, location, numel),
// its element count already checked non-negative. A zip archive holds them as records data/<key>; the legacy format
// after the pickles.
using StorageLoader = std::function<torch::Tensor(const std::string& key, torch::ScalarType type, std::int64_t numel)>;

class Unpickler {
 public:
  /// `dry`: storages and tensors become placeholders (None), so that a legacy file's storage list can be read before
  /// its data is located.
  Unpickler(StorageLoader load, const std::string& file, bool dry = false)
      : load_(std::move(load)), file_(file), dry_(dry) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;
  /// Empties every value it made: a hostile pickle can make a list hold itself (a cycle of shared_ptrs, leaked).
  ~Unpickler() {
    for (const auto& w : made_) {
      if (auto v = w.lock()) v->v = std::monostate{};
    }
  }

  /// Runs the pickle at `data` (at most `size` bytes) to its STOP; the value it built.
  ValuePtr run(const char* data, std::size_t size) {
    begin_ = p_ = data;
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
        case 'q': { const auto i = u8(); memo_[i] = top(); break; }     // BINPUT
        case 'r': { const auto i = u32(); memo_[i] = top(); break; }    // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;                  // MEMOIZE
        case 'h': push(memo(u8())); break;                              // BINGET
        case 'j': push(memo(u32())); break;                             // LONG_BINGET
        case '(': push(make(Mark{})); break;                            // MARK
        case ')': push(tuple({})); break;                               // EMPTY_TUPLE
        case 't': push(tuple(pop_to_mark())); break;                    // TUPLE
        case 0x85: { auto a = pop(); push(tuple({a})); break; }         // TUPLE1
        case 0x86: { auto b = pop(), a = pop(); push(tuple({a, b})); break; }
        case 0x87: { auto c = pop(), b = pop(), a = pop(); push(tuple({a, b, c})); break; }
        case ']': push(make(std::vector<ValuePtr>{})); break;           // EMPTY_LIST
        case '}': push(make(std::vector<std::pair<ValuePtr, ValuePtr>>{})); break;  // EMPTY_DICT
        case 'a': { auto x = pop(); list(top()).push_back(x); break; }             // APPEND
        case 'e': { auto xs = pop_to_mark(); auto& l = list(top()); l.insert(l.end(), xs.begin(), xs.end()); break; }
        case 's': { auto v = pop(), k = pop(); dict(top()).emplace_back(k, v); break; }  // SETITEM
        case 'u': {                                                     // SETITEMS
          auto xs = pop_to_mark();
          auto& d = dict(top());
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
  /// Bytes the last run() read (up to and with its STOP).
  [[nodiscard]] std::size_t consumed() const { return std::size_t(p_ - begin_); }

 private:
  const char* take(std::size_t n) {
    if (n > std::size_t(end_ - p_)) throw InputError(fmt::format("{}: truncated data.pkl", file_));
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
  void push(ValuePtr v) {
    made_.push_back(v);
    stack_.push_back(std::move(v));
  }
  [[nodiscard]] const ValuePtr& top() const {
    if (stack_.empty()) throw InputError(fmt::format("{}: malformed data.pkl (stack underflow)", file_));
    return stack_.back();
  }
  [[nodiscard]] ValuePtr memo(std::size_t i) const {
    auto it = memo_.find(i);
    if (it == memo_.end()) throw InputError(fmt::format("{}: malformed data.pkl (memo {} was never stored)", file_, i));
    return it->second;
  }
  [[nodiscard]] const ValuePtr& item(const std::vector<ValuePtr>& xs, std::size_t i) const {
    if (i >= xs.size()) throw InputError(fmt::format("{}: malformed data.pkl (a tuple too short)", file_));
    return xs[i];
  }
  ValuePtr pop() {
    if (stack_.empty()) throw InputError(fmt::format("{}: malformed data.pkl (stack underflow)", file_));
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_to_mark() {
    std::vector<ValuePtr> xs;  // popped last first, then reversed: linear in the items (inserting at the front was
                               // quadratic, minutes for a hostile pickle of a million items)
    while (!stack_.empty() && !std::holds_alternative<Mark>(stack_.back()->v)) xs.push_back(pop());
    pop();  // the mark
    std::reverse(xs.begin(), xs.end());
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
    if (numel < 0) throw InputError(fmt::format("{}: storage data/{} has {} elements", file_, printable(*key), numel));
    if (t.size() > 5 && !std::holds_alternative<std::monostate>(t[5]->v)) {
      throw InputError(fmt::format("{}: storage {} is a view of another storage (torch.save before 0.4): re-save "
                                   "the state_dict with a newer PyTorch", file_, printable(*key)));
    }
    auto storage = load_(*key, type, numel);
    return dry_ ? make(std::monostate{}) : make(storage);
  }

  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    const auto* g = std::get_if<Global>(&fn->v);
    if (!g) throw InputError(fmt::format("{}: malformed data.pkl (reduce of a non-callable)", file_));
    if (g->module == "collections" && g->name == "OrderedDict") return make(std::vector<std::pair<ValuePtr, ValuePtr>>{});
    if (g->module == "torch.jit._pickle" && g->name == "restore_type_tag") return item(items(args), 0);  // LibTorch's
    if (g->module == "torch._utils" && (g->name == "_rebuild_tensor_v2" || g->name == "_rebuild_tensor")) {
      const auto& a = items(args);
      if (dry_) return make(std::monostate{});
      const auto* storage = std::get_if<torch::Tensor>(&item(a, 0)->v);
      if (!storage) throw InputError(fmt::format("{}: malformed tensor in data.pkl", file_));
      const std::int64_t offset = integer(item(a, 1));
      std::vector<std::int64_t> size, stride;
      for (const auto& s : items(item(a, 2))) size.push_back(integer(s));
      for (const auto& s : items(item(a, 3))) stride.push_back(integer(s));
      // A view inside its storage (as_strided checks the extent, and refuses negative strides), of at most as many
      // elements as the storage holds: stride 0 could otherwise make clone() allocate without bound.
      std::int64_t elements = 1;
      bool fits = size.size() == stride.size() && offset >= 0;
      for (auto n : size) fits = fits && n >= 0 && !__builtin_mul_overflow(elements, n, &elements);
      if (!fits || elements > std::max<std::int64_t>(storage->numel(), 1)) {
        throw InputError(fmt::format("{}: malformed tensor in data.pkl: size ({}), stride ({}), offset {} over a "
                                     "storage of {} elements", file_, fmt::join(size, ", "), fmt::join(stride, ", "),
                                     offset, storage->numel()));
      }
      return make(storage->as_strided(size, stride, offset).clone());
    }
    throw InputError(fmt::format("{}: data.pkl calls {}.{}: expected a plain state_dict of tensors", file_,
                                 printable(g->module), printable(g->name)));
  }

  StorageLoader load_;
  std::string file_;
  bool dry_ = false;
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::vector<ValuePtr> stack_;
  std::map<std::size_t, ValuePtr> memo_;
  std::vector<std::weak_ptr<Value>> made_;
};

// The state_dict inside what a file's pickle built: a dict of tensors, or the dict under 'state_dict' (or
// 'model_state_dict') of a checkpoint; the prefix "module." of nn.DataParallel removed.
std::map<std::string, torch::Tensor> state_dict_of(const ValuePtr& root, const std::string& path) {
  using Dict = std::vector<std::pair<ValuePtr, ValuePtr>>;
  const auto* d = std::get_if<Dict>(&root->v);
  if (!d) throw InputError(fmt::format("{}: expected a dict of tensors (a state_dict)", path));
  // A checkpoint such as the study's {'acc': ..., 'epoch': ..., 'state_dict': {...}}: the state_dict inside it.
  for (const auto& [k, v] : *d) {
    const auto* name = std::get_if<std::string>(&k->v);
    const auto* inner = std::get_if<Dict>(&v->v);
    if (name && inner && (*name == "state_dict" || *name == "model_state_dict")) d = inner;
  }
  std::map<std::string, torch::Tensor> out;
  bool wrapped = !d->empty();  // every name starts with "module." (saved from nn.DataParallel)
  for (const auto& [k, v] : *d) {
    const auto* name = std::get_if<std::string>(&k->v);
    const auto* tensor = std::get_if<torch::Tensor>(&v->v);
    if (name && tensor) out[*name] = *tensor;
    if (!name || name->rfind("module.", 0) != 0) wrapped = false;
  }
  if (wrapped) {
    std::map<std::string, torch::Tensor> unwrapped;
    for (auto& [name, tensor] : out) unwrapped[name.substr(7)] = tensor;
    out = std::move(unwrapped);
  }
  return out;
}

// torch.save's format before PyTorch 1.6 (and with _use_new_zipfile_serialization=False): five pickles in a row (the
// magic number, the protocol version 1001, the system's sizes, the object with storages as persistent ids, the
// storage keys in the order of their data), then per key the element count (int64, little-endian) and the raw data.
constexpr unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8,
                                          0x50, 0x19, '.'};

std::map<std::string, torch::Tensor> read_legacy(const std::string& path, const std::string& bytes) {
  auto bad = [&](const std::string& what) {
    return InputError(fmt::format("{}: not a readable checkpoint (torch.save's legacy format): {}", path, what));
  };
  std::size_t at = sizeof kLegacyMagic;
  auto no_storage = [&](const std::string&, torch::ScalarType, std::int64_t) -> torch::Tensor {
    throw bad("a storage outside the object's pickle");
  };
  const auto pickle = [&](Unpickler& u) {
    ValuePtr v = u.run(bytes.data() + at, bytes.size() - at);
    at += u.consumed();
    return v;
  };
  {
    Unpickler u(no_storage, path);
    const auto version = pickle(u);
    const auto* v = std::get_if<std::int64_t>(&version->v);
    if (!v || *v != 1001) throw bad("expected protocol version 1001");
  }
  {
    Unpickler u(no_storage, path);
    const auto info = pickle(u);  // {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}
    if (const auto* d = std::get_if<std::vector<std::pair<ValuePtr, ValuePtr>>>(&info->v)) {
      for (const auto& [k, v] : *d) {
        const auto* name = std::get_if<std::string>(&k->v);
        const auto* flag = std::get_if<bool>(&v->v);
        if (name && *name == "little_endian" && flag && !*flag) throw bad("saved on a big-endian machine");
      }
    }
  }
  // The object, once without its storages to learn their types and sizes, then with them.
  struct Storage {
    torch::ScalarType type;
    std::int64_t numel;
    torch::Tensor data;
  };
  std::map<std::string, Storage> storages;
  const std::size_t object_at = at;
  {
    Unpickler u([&](const std::string& key, torch::ScalarType type, std::int64_t numel) {
      auto [it, fresh] = storages.emplace(key, Storage{type, numel, {}});
      if (!fresh && (it->second.type != type || it->second.numel != numel)) {
        throw bad(fmt::format("storage {} declared twice with different types or sizes", printable(key)));
      }
      return torch::Tensor();
    }, path, /*dry=*/true);
    pickle(u);
  }
  std::vector<ValuePtr> keys;
  Unpickler key_list(no_storage, path);
  {
    const auto list = pickle(key_list);
    const auto* l = std::get_if<std::vector<ValuePtr>>(&list->v);
    if (!l) throw bad("expected the list of storage keys");
    keys = *l;
  }
  for (const auto& k : keys) {
    const auto* key = std::get_if<std::string>(&k->v);
    if (!key) throw bad("a storage key that is not a string");
    auto it = storages.find(*key);
    if (it == storages.end()) throw bad(fmt::format("storage {} is listed but not used", printable(*key)));
    // Sizes checked against the bytes left before anything is allocated.
    if (bytes.size() - at < 8) throw bad(fmt::format("truncated before storage {}", printable(*key)));
    const auto numel = static_cast<std::int64_t>(le(bytes.data() + at, 8));
    at += 8;
    const std::size_t item = c10::elementSize(it->second.type);
    if (numel != it->second.numel || std::uint64_t(numel) > (bytes.size() - at) / item) {
      throw bad(fmt::format("storage {} declares {} elements, its data holds {} (of {} expected)", printable(*key),
                            numel, (bytes.size() - at) / item, it->second.numel));
    }
    it->second.data = torch::empty({numel}, torch::TensorOptions().dtype(it->second.type));
    std::memcpy(it->second.data.data_ptr(), bytes.data() + at, std::size_t(numel) * item);
    at += std::size_t(numel) * item;
  }
  for (const auto& [key, st] : storages) {
    if (!st.data.defined()) throw bad(fmt::format("storage {} has no data", printable(key)));
  }
  at = object_at;
  Unpickler u([&](const std::string& key, torch::ScalarType, std::int64_t) { return storages.at(key).data; }, path);
  return state_dict_of(pickle(u), path);
}

}  // namespace

std::map<std::string, torch::Tensor> read_state_dict(const std::string& path) {
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot open", path));
    char head[sizeof kLegacyMagic] = {};
    in.read(head, sizeof head);
    if (in.gcount() == sizeof head && std::memcmp(head, kLegacyMagic, sizeof head) == 0) {
      in.seekg(0, std::ios::end);
      std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
      in.seekg(0);
      in.read(bytes.data(), std::streamsize(bytes.size()));
      if (!in) throw InputError(fmt::format("{}: cannot read", path));
      try {
        return read_legacy(path, bytes);
      } catch (const c10::Error& e) {
        throw InputError(fmt::format("{}: not a readable state_dict: {}", path,
                                     printable(std::string(e.what_without_backtrace()))));
      }
    }
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  check_zip_sizes(path);
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error&) {
    throw InputError(fmt::format("{}: not a checkpoint written by torch.save (a zip archive, or the format before "
                                 "PyTorch 1.6); re-save it with torch.save(model.state_dict(), path)", path));
  }
  if (!reader->hasRecord("data.pkl")) throw InputError(fmt::format("{}: the archive has no data.pkl", path));
  // Storages are records data/<key>; the element count checked against the record's real size before allocating.
  auto from_record = [&](const std::string& key, torch::ScalarType type, std::int64_t numel) {
    if (!reader->hasRecord("data/" + key)) {
      throw InputError(fmt::format("{}: the archive has no record data/{}", path, printable(key)));
    }
    auto [ptr, bytes] = reader->getRecord("data/" + key);
    const std::size_t item = c10::elementSize(type);
    if (bytes / item < std::size_t(numel)) {
      throw InputError(fmt::format("{}: record data/{} of {} bytes is shorter than its {} elements", path,
                                   printable(key), bytes, numel));
    }
    auto storage = torch::empty({numel}, torch::TensorOptions().dtype(type));
    std::memcpy(storage.data_ptr(), ptr.get(), std::size_t(numel) * item);
    return storage;
  };
  ValuePtr root;
  Unpickler u(from_record, path);  // owns what root holds until the tensors are taken out
  try {
    auto [ptr, size] = reader->getRecord("data.pkl");
    root = u.run(static_cast<const char*>(ptr.get()), size);
  } catch (const c10::Error& e) {  // a corrupt record, a view outside its storage
    throw InputError(fmt::format("{}: not a readable state_dict: {}", path,
                                 printable(std::string(e.what_without_backtrace()))));
  }
  return state_dict_of(root, path);
}

}  // namespace anodiff::detail
