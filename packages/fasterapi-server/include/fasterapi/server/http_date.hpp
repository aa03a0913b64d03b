// The Date header field (RFC 9110 section 6.6.1): an IMF-fixdate, formatted once per second per
// I/O thread rather than once per response.
#pragma once

#include <cstdio>
#include <ctime>
#include <string_view>

namespace fasterapi::server {

class HttpDate {
 public:
  // "Sun, 06 Nov 1994 08:49:37 GMT" for `now`, reformatted only when the second changes.
  std::string_view at(std::time_t now) noexcept {
    if (now != last_) {
      last_ = now;
      std::tm tm{};
      gmtime_r(&now, &tm);
      // Day and month names from tables, not strftime: an application may change the C locale.
      static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
      static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      const int n = std::snprintf(text_, sizeof text_, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
      len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    return {text_, len_};
  }

 private:
  std::time_t last_ = -1;
  char text_[40] = {};
  std::size_t len_ = 0;
};

}  // namespace fasterapi::server
