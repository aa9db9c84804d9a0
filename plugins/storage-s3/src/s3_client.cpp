#include "s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <stdexcept>
#include <thread>

#include "s3_xml.h"

namespace dicomd::s3 {
namespace {

constexpr const char* kHexDigits = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

bool is_retryable(const Reply& r) {
  return r.status == 0 || r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504;
}

// Whether `host` is an IP literal (no name to resolve for bucket.host).
bool is_ip_literal(std::string_view host) {
  return host.starts_with('[') || std::all_of(host.begin(), host.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
         });
}

struct Transfer {
  const Call* call;
  CURL* curl;
  Reply* reply;
  bool sink_failed = false;
};

size_t on_body(char* data, size_t size, size_t count, void* ctx) {
  auto* t = static_cast<Transfer*>(ctx);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->call->sink && status >= 200 && status < 300) {
    if (!t->call->sink->write({data, n})) {
      t->sink_failed = true;
      return 0;  // aborts the transfer
    }
    return n;
  }
  bool success = status >= 200 && status < 300;
  if (!success && t->reply->body.size() + n > (1u << 20)) return 0;  // an error answer is short
  t->reply->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* ctx) {
  auto* t = static_cast<Transfer*>(ctx);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) t->reply->headers.clear();  // a new answer (after 100 Continue)
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->reply->headers.emplace_back(std::move(name), std::string(value));
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

struct S3Client::Handle {
  CURL* curl = curl_easy_init();
};

void S3Client::HandleDeleter::operator()(Handle* h) const {
  if (h->curl) curl_easy_cleanup(h->curl);
  delete h;
}

std::optional<std::string_view> Reply::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return std::string_view(value);
  return std::nullopt;
}

std::string Reply::error_code() const {
  return xml_text(body, "Code").value_or("");
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += static_cast<char>(std::toupper(kHexDigits[c >> 4]));
      out += static_cast<char>(std::toupper(kHexDigits[c & 15]));
    }
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), md, &length, EVP_sha256(), nullptr))
    throw std::runtime_error("SHA-256 failed");
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex += kHexDigits[md[i] >> 4];
    hex += kHexDigits[md[i] & 15];
  }
  return hex;
}

S3Client::S3Client(ClientOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // reference-counted; thread-safe since 7.84
  sigv4_ = "aws:amz:" + options_.region + ":s3";
}

S3Client::~S3Client() {
  idle_.clear();
  curl_global_cleanup();
}

S3Client::HandlePtr S3Client::take_handle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      HandlePtr h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  HandlePtr h(new Handle);
  if (!h->curl) throw std::runtime_error("curl_easy_init failed");
  return h;
}

void S3Client::give_back(HandlePtr handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

std::string S3Client::url_of(const std::string& key, const Query& query) const {
  std::string url;
  size_t scheme_end = options_.endpoint.find("://");
  std::string scheme = options_.endpoint.substr(0, scheme_end + 3);
  std::string host = options_.endpoint.substr(scheme_end + 3);
  if (options_.virtual_host)
    url = scheme + options_.bucket + "." + host + "/" + uri_encode(key, true);
  else
    url = scheme + host + "/" + uri_encode(options_.bucket, false) + (key.empty() ? "" : "/" + uri_encode(key, true));
  // Signature V4 wants the query sorted by encoded name, then value.
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < encoded.size(); ++i) url += (i == 0 ? "?" : "&") + encoded[i].first + "=" + encoded[i].second;
  return url;
}

Reply S3Client::perform(const Call& call) {
  std::string url = url_of(call.key, call.query);
  std::string payload_hash = sha256_hex(call.body);
  thread_local std::minstd_rand jitter(std::random_device{}());
  Reply reply;
  for (unsigned attempt = 0;; ++attempt) {
    if (attempt > 0 && call.sink && !call.sink->restart()) break;
    HandlePtr handle = take_handle();
    reply = this->attempt(*handle, call, url, payload_hash);
    give_back(std::move(handle));
    reply.attempts = attempt + 1;
    if (!call.retry || !is_retryable(reply) || attempt >= options_.max_retries) break;
    auto base = options_.retry_base * (1u << std::min(attempt, 5u));
    std::this_thread::sleep_for(base / 2 + base * (jitter() % 1000) / 2000);
  }
  return reply;
}

Reply S3Client::attempt(Handle& handle, const Call& call, const std::string& url, const std::string& payload_hash) {
  CURL* curl = handle.curl;
  curl_easy_reset(curl);  // keeps the connection
  Reply reply;
  Transfer transfer{&call, curl, &reply};
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add = [&](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
  add("x-amz-content-sha256: " + payload_hash);
  // (No "Expect:" to suppress 100-continue: curl would sign that empty
  // header and then not send it, and the signature would not match.)
  for (const auto& h : call.headers) add(h);
  std::string method = call.method;
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT" || method == "POST") {
    bool typed = std::any_of(call.headers.begin(), call.headers.end(),
                             [](const std::string& h) { return h.starts_with("Content-Type:"); });
    if (!typed) add("Content-Type: application/octet-stream");  // not curl's form type
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());  // not copied
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method);
  }
  std::string connect_to;
  std::unique_ptr<curl_slist, SlistDeleter> connect_list;
  if (options_.virtual_host) {
    // bucket.<IP> resolves nowhere: connect to the endpoint's address.
    std::string host = options_.endpoint.substr(options_.endpoint.find("://") + 3);
    std::string name = host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
    if (is_ip_literal(name)) {
      connect_to = options_.bucket + "." + name + ":" + ":" + name + ":";
      connect_list.reset(curl_slist_append(nullptr, connect_to.c_str()));
      curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_list.get());
    }
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.secret_key.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  // Stalled: under 1 byte/s for stall_timeout (at least a second).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(options_.stall_timeout.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    reply.status = 0;
    reply.transport = transfer.sink_failed ? "could not keep the answer" : curl_easy_strerror(code);
    return reply;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace dicomd::s3
