// A small S3 REST client on libcurl: AWS Signature V4 (CURLOPT_AWS_SIGV4,
// with the payload's SHA-256 sent as x-amz-content-sha256), a pool of
// easy handles that keep their connections alive, bounded connect and stall
// timeouts, and retries with exponential backoff on 5xx answers and
// transport failures. Keys and query parameters are encoded and sorted here
// (curl signs the request line as given). Credentials are never logged.
// Thread-safe: any number of calls at once, each on its own handle.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomd::s3 {

struct ClientOptions {
  std::string endpoint;  // scheme://host[:port], no trailing slash
  std::string bucket, region = "us-east-1";
  std::string access_key, secret_key;
  bool virtual_host = false;  // bucket.host/key instead of host/bucket/key
  std::chrono::milliseconds connect_timeout{2000};
  // A transfer that moves no byte for this long is cut (and retried).
  std::chrono::milliseconds stall_timeout{10000};
  unsigned max_retries = 3;
  std::chrono::milliseconds retry_base{100};  // doubled per retry, with jitter
};

// name=value pairs; the client encodes and sorts them.
using Query = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  long status = 0;                                           // the HTTP status; 0 when no answer came
  std::string transport;                                     // curl's reason when no answer came
  std::string body;                                          // the answer (not for a 2xx with a sink)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  unsigned attempts = 0;

  bool ok() const { return status >= 200 && status < 300; }
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // S3's <Code> in an error answer ("NoSuchBucket", ...), or "".
  std::string error_code() const;
};

// Where a 2xx answer's body goes instead of Reply::body (a file, say).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual bool write(std::string_view bytes) = 0;
  virtual bool restart() = 0;  // before a retry: drop what was written
};

struct Call {
  const char* method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string key;             // the object's key; empty for the bucket
  Query query;
  std::string_view body;
  std::vector<std::string> headers;  // "Name: value"
  BodySink* sink = nullptr;
  bool retry = true;
};

class S3Client {
 public:
  explicit S3Client(ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends the call, retrying 5xx answers and transport failures up to
  // max_retries times (when call.retry). Never throws for S3's answers.
  Reply perform(const Call& call);
  const ClientOptions& options() const { return options_; }

 private:
  struct Handle;
  struct HandleDeleter {
    void operator()(Handle* h) const;
  };
  using HandlePtr = std::unique_ptr<Handle, HandleDeleter>;
  HandlePtr take_handle();
  void give_back(HandlePtr handle);
  Reply attempt(Handle& handle, const Call& call, const std::string& url, const std::string& payload_hash);
  std::string url_of(const std::string& key, const Query& query) const;

  ClientOptions options_;
  std::string sigv4_;  // "aws:amz:<region>:s3"
  std::mutex mutex_;
  std::vector<HandlePtr> idle_;
};

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (and '/'
// when keep_slash): what Signature V4 expects of keys and query values.
std::string uri_encode(std::string_view s, bool keep_slash);
// Hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace dicomd::s3
