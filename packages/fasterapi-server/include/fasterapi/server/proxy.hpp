// fasterapi::server::TrustedProxies: the peers whose X-Forwarded-For and X-Forwarded-Proto are
// believed (uvicorn's --forwarded-allow-ips), and what those headers tell.
//
// A reverse proxy connects from its own address; it says whom it got the request from in
// X-Forwarded-For (each proxy of a chain appends the address it got it from) and how in
// X-Forwarded-Proto. Anybody can send those headers, so only a peer listed here is believed, and
// within X-Forwarded-For only the entries appended by listed proxies: read from the right, the
// first entry that is not a listed proxy is the client.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fasterapi::server {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // an IPv4 address in the first 4
};

// An IPv4 or IPv6 address in text form; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a
// dual-stack socket shows an IPv4 peer) is that IPv4 address.
inline std::optional<IpAddress> parse_ip(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (::inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  if (::inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
  } else {
    a.v6 = true;
  }
  return a;
}

struct IpNetwork {
  IpAddress address;
  int prefix = 0;  // bits

  bool contains(const IpAddress& a) const noexcept {
    if (a.v6 != address.v6) return false;
    const auto whole = static_cast<std::size_t>(prefix / 8);
    if (std::memcmp(a.bytes.data(), address.bytes.data(), whole) != 0) return false;
    const int rest = prefix % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a.bytes[whole] & mask) == (address.bytes[whole] & mask);
  }
};

// "address" or "address/prefix"; nullopt when it is neither.
inline std::optional<IpNetwork> parse_network(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view host = text.substr(0, slash);
  auto address = parse_ip(host);
  if (!address) return std::nullopt;
  const bool mapped = !address->v6 && host.find(':') != std::string_view::npos;
  const int bits = address->v6 ? 128 : 32;
  int prefix = mapped ? 128 : bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  }
  if (mapped) prefix -= 96;  // ::ffff:a.b.c.d/n: an IPv4 network of n - 96 bits
  if (prefix < 0 || prefix > bits) return std::nullopt;
  return IpNetwork{*address, prefix};
}

inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Each entry: "*" (every peer), an address or network ("10.0.0.0/8", "::1"), or any other name,
  // trusted as written (an X-Forwarded-For entry such as "unknown").
  explicit TrustedProxies(const std::vector<std::string>& entries) {
    for (const auto& e : entries) {
      if (e == "*") {
        all_ = true;
      } else if (auto n = parse_network(e)) {
        networks_.push_back(*n);
      } else if (!e.empty()) {
        names_.push_back(e);
      }
    }
  }

  bool empty() const noexcept { return !all_ && networks_.empty() && names_.empty(); }

  bool trusts(std::string_view host) const {
    if (all_) return true;
    if (host.empty()) return false;
    if (const auto a = parse_ip(host)) {
      for (const auto& n : networks_) {
        if (n.contains(*a)) return true;
      }
      return false;
    }
    for (const auto& name : names_) {
      if (name == host) return true;
    }
    return false;
  }

  // The client's host in an X-Forwarded-For value (its field lines joined with ","), as a trusted
  // peer sent it: from the right, the first entry that is not a trusted proxy; the leftmost when
  // all are (the client is a proxy of ours itself), or with "*". Empty when there is none.
  std::string_view client_of(std::string_view forwarded_for) const {
    std::vector<std::string_view> hosts;
    for (std::size_t start = 0;;) {
      const auto comma = forwarded_for.find(',', start);
      const auto host = trim_ows(forwarded_for.substr(start, comma == std::string_view::npos ? comma : comma - start));
      if (!host.empty()) hosts.push_back(host);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (hosts.empty()) return {};
    if (all_) return hosts.front();
    for (auto it = hosts.rbegin(); it != hosts.rend(); ++it) {
      if (!trusts(*it)) return *it;
    }
    return hosts.front();
  }

 private:
  bool all_ = false;
  std::vector<IpNetwork> networks_;
  std::vector<std::string> names_;
};

// The scheme of an HTTP request that an X-Forwarded-Proto value tells: "http" or "https" ("ws"
// and "wss" stand for them), any case; empty for anything else, which changes nothing.
inline std::string_view forwarded_scheme(std::string_view value) noexcept {
  value = trim_ows(value);
  auto is = [value](std::string_view word) {
    if (value.size() != word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      char c = value[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != word[i]) return false;
    }
    return true;
  };
  if (is("https") || is("wss")) return "https";
  if (is("http") || is("ws")) return "http";
  return {};
}

}  // namespace fasterapi::server
