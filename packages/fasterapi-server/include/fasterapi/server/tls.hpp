// TLS for the I/O threads, with OpenSSL: one SSL_CTX per engine (certificate chain and key from
// PEM files, TLS 1.2 and later, ALPN choosing http/1.1), one SSL per connection driven on its
// non-blocking socket. read() and writev() here behave as the system calls do (bytes, 0 at the
// peer's close, -1 with errno EAGAIN when the socket must be waited on), so the connection code
// stays the same with or without TLS; what the handshake or a record needs next (to read or to
// write) is in `want_write`, which the caller adds to the epoll events.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/uio.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace fasterapi::server {

inline std::string openssl_error(const char* what) {
  std::string message = what;
  if (const unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return message;
}

class TlsContext {
 public:
  TlsContext(const std::string& certfile, const std::string& keyfile) : ctx_(SSL_CTX_new(TLS_server_method())) {
    if (!ctx_) throw std::runtime_error(openssl_error("SSL_CTX_new"));
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx_.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                     SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx_.get(), certfile.c_str()) != 1) {
      throw std::runtime_error(openssl_error(("cannot load the certificate " + certfile).c_str()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx_.get(), keyfile.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error(openssl_error(("cannot load the key " + keyfile).c_str()));
    }
    if (SSL_CTX_check_private_key(ctx_.get()) != 1) {
      throw std::runtime_error(openssl_error("the key does not match the certificate"));
    }
    SSL_CTX_set_alpn_select_cb(ctx_.get(), &TlsContext::select_alpn, nullptr);
  }

  SSL* new_ssl(int fd) const {
    SSL* ssl = SSL_new(ctx_.get());
    if (!ssl) return nullptr;
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    return ssl;
  }

 private:
  // RFC 7301: the server picks from the client's list; only HTTP/1.1 is spoken here for now.
  static int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                         unsigned int inlen, void*) {
    static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    for (unsigned int i = 0; i < inlen;) {
      const unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;  // no ALPN, or none we speak: go on without (HTTP/1.1 then)
  }

  struct Free {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
  };
  std::unique_ptr<SSL_CTX, Free> ctx_;
};

// The TLS side of one connection.
struct TlsStream {
  SSL* ssl = nullptr;
  bool want_write = false;  // OpenSSL needs the socket writable to go on (handshake, a record)

  TlsStream() = default;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;
  TlsStream(TlsStream&& o) noexcept : ssl(o.ssl), want_write(o.want_write) { o.ssl = nullptr; }
  TlsStream& operator=(TlsStream&& o) noexcept {
    if (this != &o) {
      reset();
      ssl = o.ssl;
      want_write = o.want_write;
      o.ssl = nullptr;
    }
    return *this;
  }
  ~TlsStream() { reset(); }
  void reset() noexcept {
    if (ssl) SSL_free(ssl);
    ssl = nullptr;
    want_write = false;
  }

  // Plaintext OpenSSL has decrypted and not handed over: epoll does not signal it (the socket
  // may be empty), so a reader that stops early must come back for it.
  std::size_t pending() const noexcept { return ssl ? static_cast<std::size_t>(SSL_pending(ssl)) : 0; }

  // Like read(2). Reads every record OpenSSL can give (it may hold bytes the socket no longer
  // signals), up to `len`.
  ssize_t read(char* buf, std::size_t len) {
    std::size_t got = 0;
    while (got < len) {
      const int n = SSL_read(ssl, buf + got, static_cast<int>(std::min<std::size_t>(len - got, 1 << 30)));
      if (n > 0) {
        want_write = false;
        got += static_cast<std::size_t>(n);
        continue;
      }
      const int err = SSL_get_error(ssl, n);
      if (got > 0 && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) {
        want_write = err == SSL_ERROR_WANT_WRITE;
        break;
      }
      switch (err) {
        case SSL_ERROR_WANT_READ:
          want_write = false;
          errno = EAGAIN;
          return -1;
        case SSL_ERROR_WANT_WRITE:
          want_write = true;
          errno = EAGAIN;
          return -1;
        case SSL_ERROR_ZERO_RETURN:  // close_notify
          return got > 0 ? static_cast<ssize_t>(got) : 0;
        default:
          ERR_clear_error();
          if (got > 0) return static_cast<ssize_t>(got);
          errno = ECONNRESET;
          return -1;
      }
    }
    return static_cast<ssize_t>(got);
  }

  // Like writev(2): as many bytes as TLS records took, -1/EAGAIN if none. Small pieces are
  // gathered into one record (up to a record's 16 KiB) rather than a record and a send each: a
  // streamed response's head and chunks, or several pipelined responses, go out together. A write
  // OpenSSL must retry is retried by the caller from the same byte with at least as many bytes
  // after it (its pieces only grow), as SSL_write requires.
  ssize_t writev(const iovec* iov, int count) {
    static constexpr std::size_t kRecord = 16384;
    std::size_t total = 0;
    int i = 0;
    std::size_t skip = 0;  // bytes of iov[i] already taken
    char gathered[kRecord];
    while (i < count) {
      const char* p = static_cast<const char*>(iov[i].iov_base) + skip;
      std::size_t left = iov[i].iov_len - skip;
      if (left < kRecord && i + 1 < count) {
        std::size_t filled = 0;
        while (i < count && filled < kRecord) {
          const std::size_t take = std::min(iov[i].iov_len - skip, kRecord - filled);
          std::memcpy(gathered + filled, static_cast<const char*>(iov[i].iov_base) + skip, take);
          filled += take;
          skip += take;
          if (skip == iov[i].iov_len) {
            ++i;
            skip = 0;
          }
        }
        p = gathered;
        left = filled;
      } else {
        ++i;
        skip = 0;
      }
      while (left > 0) {
        const int n = SSL_write(ssl, p, static_cast<int>(std::min<std::size_t>(left, 1 << 30)));
        if (n > 0) {
          want_write = false;
          total += static_cast<std::size_t>(n);
          p += n;
          left -= static_cast<std::size_t>(n);
          continue;
        }
        const int err = SSL_get_error(ssl, n);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
          want_write = err == SSL_ERROR_WANT_WRITE;
          if (total > 0) return static_cast<ssize_t>(total);
          errno = EAGAIN;
          return -1;
        }
        ERR_clear_error();
        if (total > 0) return static_cast<ssize_t>(total);
        errno = EPIPE;
        return -1;
      }
    }
    return static_cast<ssize_t>(total);
  }

  // Sends close_notify, best effort (the socket closes right after).
  void shutdown() noexcept {
    if (ssl && SSL_is_init_finished(ssl)) SSL_shutdown(ssl);
    ERR_clear_error();
  }
};

}  // namespace fasterapi::server
