// Serialization of HTTP/1.1 heads and chunked framing (RFC 9112 sections 3, 4, 5, 7.1), with the
// checks that keep a caller's data from injecting fields or messages: names must be tokens, and
// no CR, LF or NUL may appear in a name, a value, a method, a target or a reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fasterapi/http1/chars.hpp"
#include "fasterapi/http1/parser.hpp"

namespace fasterapi::http1 {

enum class WriteErrc : std::uint8_t {
  none,
  invalid_method,
  invalid_target,
  invalid_status,
  invalid_reason,
  invalid_header_name,
  invalid_header_value,
};

struct WriteResult {
  WriteErrc error = WriteErrc::none;
  std::size_t index = 0;  // the offending header's index, for header errors
  bool ok() const noexcept { return error == WriteErrc::none; }
};

namespace detail {

inline bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!chars::is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// field-value = *field-content: no CR, LF, NUL, nor any other control but HTAB.
inline bool is_field_value(std::string_view s) noexcept {
  for (const char c : s) {
    if (!chars::is(static_cast<unsigned char>(c), chars::kFieldVchar)) return false;
  }
  return true;
}

inline WriteResult write_fields(std::string& out, std::span<const Header> headers) {
  for (std::size_t k = 0; k < headers.size(); ++k) {
    if (!is_token(headers[k].name)) return {WriteErrc::invalid_header_name, k};
    if (!is_field_value(headers[k].value)) return {WriteErrc::invalid_header_value, k};
  }
  for (const Header& h : headers) {
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
  out.append("\r\n");
  return {};
}

}  // namespace detail

// The reason phrases of RFC 9110 section 15, for the codes a server commonly sends.
inline constexpr std::string_view default_reason(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

// status-line CRLF *( field-line CRLF ) CRLF, appended to `out` (left unchanged on error).
inline WriteResult write_response_head(std::string& out, int status, std::string_view reason,
                                       std::span<const Header> headers, std::string_view version = "1.1") {
  if (status < 100 || status > 999) return {WriteErrc::invalid_status, 0};
  for (const char c : reason) {
    if (!chars::is(static_cast<unsigned char>(c), chars::kReason)) return {WriteErrc::invalid_reason, 0};
  }
  const std::size_t mark = out.size();
  out.append("HTTP/");
  out.append(version);
  out.push_back(' ');
  out.push_back(static_cast<char>('0' + status / 100));
  out.push_back(static_cast<char>('0' + status / 10 % 10));
  out.push_back(static_cast<char>('0' + status % 10));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n");
  const WriteResult r = detail::write_fields(out, headers);
  if (!r.ok()) out.resize(mark);
  return r;
}

// request-line CRLF *( field-line CRLF ) CRLF, appended to `out` (left unchanged on error).
inline WriteResult write_request_head(std::string& out, std::string_view method, std::string_view target,
                                      std::span<const Header> headers, std::string_view version = "1.1") {
  if (!detail::is_token(method)) return {WriteErrc::invalid_method, 0};
  if (target.empty()) return {WriteErrc::invalid_target, 0};
  for (const char c : target) {
    if (!chars::is(static_cast<unsigned char>(c), chars::kTarget)) return {WriteErrc::invalid_target, 0};
  }
  const std::size_t mark = out.size();
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/");
  out.append(version);
  out.append("\r\n");
  const WriteResult r = detail::write_fields(out, headers);
  if (!r.ok()) out.resize(mark);
  return r;
}

// chunk = chunk-size CRLF chunk-data CRLF. An empty chunk would end the body: it writes nothing.
inline void write_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char digits[16];
  std::size_t n = 0;
  for (std::uint64_t v = data.size(); v != 0; v >>= 4) digits[n++] = "0123456789abcdef"[v & 15];
  while (n != 0) out.push_back(digits[--n]);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

// last-chunk trailer-section CRLF.
inline WriteResult write_last_chunk(std::string& out, std::span<const Header> trailers = {}) {
  const std::size_t mark = out.size();
  out.append("0\r\n");
  const WriteResult r = detail::write_fields(out, trailers);
  if (!r.ok()) out.resize(mark);
  return r;
}

}  // namespace fasterapi::http1
