// cdl::StrCat: concatenates strings and numbers. This Abseil build has its own
// absl::string_view (not std::string_view), so absl::StrCat does not take
// std::string_view; this helper takes both, plus anything with data()/size().
#ifndef CDL_CRYPTO_STR_CAT_H_
#define CDL_CRYPTO_STR_CAT_H_

#include <string>
#include <string_view>
#include <type_traits>

namespace cdl {
namespace str_cat_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
inline void Append(std::string& out, const char* s) { out.append(s); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, char c) { out.push_back(c); }
inline void Append(std::string& out, bool b) { out.append(b ? "true" : "false"); }

template <typename T>
void Append(std::string& out, const T& value) {
  if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
    out.append(std::to_string(value));
  } else if constexpr (std::is_enum_v<T>) {
    out.append(std::to_string(static_cast<std::underlying_type_t<T>>(value)));
  } else {
    out.append(value.data(), value.size());  // absl::string_view, StringPiece, ...
  }
}

}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (str_cat_internal::Append(out, args), ...);
  return out;
}

}  // namespace cdl

#endif  // CDL_CRYPTO_STR_CAT_H_
