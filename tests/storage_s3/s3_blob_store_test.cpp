// storage-s3's store against a real S3 server (npm @20minutes/s3rver, which
// checks Signature V4), and against a receiver that answers garbage or
// nothing: every failure is a status and a log line, never a crash, a hang
// or a credential in the log.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "content_hash.h"
#include "http_receiver.h"
#include "s3_blob_store.h"
#include "s3_server.h"
#include "server_process.h"

using namespace dicomd::test;
using dicomd::s3::S3BlobStore;
using dicomd::storage::ObjectInfo;
using dicomd::storage::StoreStatus;

namespace {

// A client of `endpoint` with the test server's key and the secret in
// `secret_file` (any secret for a fake server).
dicomd::s3::ClientOptions client_options(const std::string& endpoint, const std::string& secret_file = "") {
  dicomd::s3::ClientOptions o;
  o.endpoint = endpoint;
  o.bucket = S3Server::kBucket;
  o.access_key = "DICOMDTESTKEY";
  std::string secret = secret_file.empty() ? "any" : read_file(secret_file);
  o.secret_key = secret.substr(0, secret.find('\n'));
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.stall_timeout = std::chrono::milliseconds(1000);
  o.max_retries = 1;
  o.retry_base = std::chrono::milliseconds(10);
  return o;
}

// A store with its client and a log the test reads.
struct Store {
  explicit Store(dicomd::s3::ClientOptions o, dicomd::s3::StoreOptions so = {})
      : client(std::move(o)), store(client, so, [this](const std::string& line) {
          std::lock_guard lock(mutex);
          log += line + "\n";
        }) {}
  std::string logged() {
    std::lock_guard lock(mutex);
    return log;
  }
  dicomd::s3::S3Client client;
  S3BlobStore store;
  std::mutex mutex;
  std::string log;
};

std::string payload(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + i * 31 + (i >> 12));
  return s;
}

}  // namespace

TEST(S3BlobStore, StoresReadsListsAndRemovesWithItsMetadata) {
  S3Server s3;
  Store s(client_options(s3.endpoint(), s3.secret_file()));
  std::string bytes = payload(70000, 'a');
  std::string refusal;
  ASSERT_EQ(s.store.put_checked("study 1", "IM 1+é.dcm", bytes, "dr. müller", {}, refusal), StoreStatus::kOk);
  ASSERT_EQ(s.store.put("study 1", "IM2", "second"), StoreStatus::kOk);
  EXPECT_EQ(s.store.put("study 1", "IM2", "again"), StoreStatus::kExists);
  EXPECT_EQ(s3.object_bytes("study 1/IM 1+é.dcm"), bytes);

  ObjectInfo info;
  ASSERT_EQ(s.store.stat("study 1", "IM 1+é.dcm", info), StoreStatus::kOk);
  EXPECT_EQ(info.size, bytes.size());
  EXPECT_EQ(info.content_hash, dicomd::storage::content_hash_of(bytes));
  EXPECT_GT(info.modified_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(info.uploader, "dr. müller");
  int fd = -1;
  ASSERT_EQ(s.store.open("study 1", "IM 1+é.dcm", fd, info), StoreStatus::kOk);
  std::string through_fd(bytes.size(), '\0');
  EXPECT_EQ(::pread(fd, through_fd.data(), through_fd.size(), 0), static_cast<ssize_t>(bytes.size()));
  EXPECT_EQ(through_fd, bytes);
  EXPECT_EQ(::write(fd, "x", 1), -1);  // sealed: the object's copy never changes
  ::close(fd);

  std::vector<std::string> studies, files;
  ASSERT_EQ(s.store.list_studies(studies), StoreStatus::kOk);
  EXPECT_EQ(studies, std::vector<std::string>{"study 1"});
  ASSERT_EQ(s.store.list_files("study 1", files), StoreStatus::kOk);
  EXPECT_EQ(files, (std::vector<std::string>{"IM 1+é.dcm", "IM2"}));
  EXPECT_EQ(s.store.remove("study 1", "IM2"), StoreStatus::kOk);
  EXPECT_EQ(s.store.remove("study 1", "IM2"), StoreStatus::kNotFound);
  EXPECT_EQ(s.store.stat("study 1", "IM2", info), StoreStatus::kNotFound);
  EXPECT_EQ(s.store.removal_count(), 1u);
  size_t removed = 0;
  EXPECT_EQ(s.store.remove_study("study 1", removed), StoreStatus::kOk);
  EXPECT_EQ(removed, 1u);
  EXPECT_EQ(s.store.remove_study("study 1", removed), StoreStatus::kNotFound);
  EXPECT_TRUE(s3.object_keys().empty());  // no claim left behind either
  EXPECT_EQ(s.logged(), "");
}

TEST(S3BlobStore, ARangeIsOneRangedRead) {
  S3Server s3;
  Store s(client_options(s3.endpoint(), s3.secret_file()));
  std::string bytes = payload(100000, 'r');
  ASSERT_EQ(s.store.put("s", "f", bytes), StoreStatus::kOk);
  auto range = [&](uint64_t offset, uint64_t length, uint64_t& total) {
    std::string got = "unset";
    EXPECT_EQ(s.store.read_range("s", "f", offset, length, total, [&](std::string_view b) { got = b; }),
              StoreStatus::kOk);
    return got;
  };
  uint64_t total = 0;
  EXPECT_TRUE(range(0, 65536, total) == bytes.substr(0, 65536));
  EXPECT_EQ(total, bytes.size());
  EXPECT_TRUE(range(99990, 100, total) == bytes.substr(99990));  // fewer at the end
  EXPECT_EQ(range(100000, 10, total), "");                       // none past it
  EXPECT_EQ(total, bytes.size());
  EXPECT_EQ(range(5, 0, total), "");
  EXPECT_EQ(total, bytes.size());
  EXPECT_EQ(s.store.read_range("s", "none", 0, 10, total, [](std::string_view) {}), StoreStatus::kNotFound);
}

TEST(S3BlobStore, ARefusedCheckStoresNothing) {
  S3Server s3;
  Store s(client_options(s3.endpoint(), s3.secret_file()));
  std::string refusal;
  auto check = [](int fd, uint64_t size) -> std::optional<std::string> {
    char first = 0;
    EXPECT_EQ(::pread(fd, &first, 1, 0), 1);
    EXPECT_EQ(size, 4u);
    return first == 'n' ? std::optional<std::string>("not DICOM") : std::nullopt;
  };
  EXPECT_EQ(s.store.put_checked("s", "bad", "nope", "", check, refusal), StoreStatus::kRefused);
  EXPECT_EQ(refusal, "not DICOM");
  EXPECT_EQ(s.store.put_checked("s", "good", "yes!", "", check, refusal), StoreStatus::kOk);
  EXPECT_EQ(s3.object_keys(), std::vector<std::string>{"s/good"});
}

TEST(S3BlobStore, LargeObjectsGoInPartsAndListingsPage) {
  S3Server s3;
  dicomd::s3::StoreOptions so;
  so.multipart_threshold = 5 << 20;
  so.part_size = 5 << 20;
  so.page_size = 2;
  Store s(client_options(s3.endpoint(), s3.secret_file()), so);
  std::string big = payload((12 << 20) + 17, 'z');  // three parts, the last short
  ASSERT_EQ(s.store.put("s", "big", big), StoreStatus::kOk) << s.logged();
  EXPECT_EQ(s.store.put("s", "big", "again"), StoreStatus::kExists);
  std::string read;
  ASSERT_EQ(s.store.read("s", "big", [&](std::string_view b) { read = b; }), StoreStatus::kOk);
  EXPECT_EQ(read.size(), big.size());
  EXPECT_TRUE(read == big);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(s.store.put("s", "f" + std::to_string(i), "x"), StoreStatus::kOk);
  std::vector<std::string> files;
  ASSERT_EQ(s.store.list_files("s", files), StoreStatus::kOk);  // three pages of two
  EXPECT_EQ(files, (std::vector<std::string>{"big", "f0", "f1", "f2", "f3"}));
}

// s3rver ignores If-None-Match on PUT, as several S3-compatible stores do:
// the claim protocol alone keeps one name to one writer.
TEST(S3BlobStore, ManyWritersOfOneNameCreateExactlyOne) {
  S3Server s3;
  Store s(client_options(s3.endpoint(), s3.secret_file()));
  for (int round = 0; round < 10; ++round) {
    std::string name = "same-" + std::to_string(round);
    std::atomic<int> created{0}, exists{0};
    std::vector<std::thread> writers;
    std::vector<std::string> contents;
    for (int w = 0; w < 6; ++w) contents.push_back(payload(20000, static_cast<char>('a' + w)));
    std::atomic<int> winner{-1};
    for (int w = 0; w < 6; ++w) {
      writers.emplace_back([&, w] {
        StoreStatus r = s.store.put("race", name, contents[w]);
        if (r == StoreStatus::kOk) {
          ++created;
          winner = w;
        }
        if (r == StoreStatus::kExists) ++exists;
      });
    }
    for (auto& t : writers) t.join();
    ASSERT_EQ(created.load(), 1) << "round " << round;
    ASSERT_EQ(exists.load(), 5) << "round " << round;
    ASSERT_EQ(s3.object_bytes("race/" + name), contents[winner.load()]) << "round " << round;
  }
  for (const auto& key : s3.object_keys()) EXPECT_TRUE(key.starts_with("race/")) << key;  // claims all gone
}

TEST(S3BlobStore, AWrongSecretIs403UnavailableAndTheLogNamesNoSecret) {
  S3Server s3;
  Store s(client_options(s3.endpoint(), s3.wrong_secret_file()));
  std::vector<std::string> studies;
  EXPECT_EQ(s.store.list_studies(studies), StoreStatus::kUnavailable);
  ObjectInfo info;
  EXPECT_EQ(s.store.stat("s", "f", info), StoreStatus::kUnavailable);
  EXPECT_EQ(s.store.put("s", "f", "x"), StoreStatus::kUnavailable);
  EXPECT_NE(s.store.check_bucket().find("refused dicomd's credentials (403 SignatureDoesNotMatch)"), std::string::npos);
  std::string log = s.logged();
  EXPECT_NE(log.find("refused dicomd's credentials (403 SignatureDoesNotMatch)"), std::string::npos) << log;
  EXPECT_EQ(log.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(log.find("DICOMDTESTKEY"), std::string::npos);
  EXPECT_TRUE(s3.object_keys().empty());
}

TEST(S3BlobStore, GarbageAnswersAreErrorsNotCrashes) {
  HttpReceiver fake;
  fake.answer_with(200, std::chrono::milliseconds(0), "<ListBucketResult><Contents><Key>&bogus;</Key>");
  Store s(client_options("http://127.0.0.1:" + std::to_string(fake.port())));
  std::vector<std::string> studies;
  EXPECT_EQ(s.store.list_studies(studies), StoreStatus::kOk);  // the broken entry is skipped
  EXPECT_TRUE(studies.empty());
  fake.answer_with(200, std::chrono::milliseconds(0), "\x01\x02 not xml at all <<<");
  EXPECT_EQ(s.store.list_studies(studies), StoreStatus::kIoError);
  EXPECT_NE(s.store.check_bucket().find("did not answer as S3 does"), std::string::npos);
  fake.answer_with(200, std::chrono::milliseconds(0), "<ListBucketResult><IsTruncated>true</IsTruncated>");
  EXPECT_EQ(s.store.list_studies(studies), StoreStatus::kIoError);  // no token: never loops
  fake.answer_with(200, std::chrono::milliseconds(0), "<InitiateMultipartUploadResult/>");
  dicomd::s3::StoreOptions so;
  so.multipart_threshold = 5 << 20;
  Store parts(client_options("http://127.0.0.1:" + std::to_string(fake.port())), so);
  EXPECT_EQ(parts.store.put("s", "f", std::string(6 << 20, 'x')), StoreStatus::kIoError);
  fake.answer_with(500, std::chrono::milliseconds(0), "<Error><Code>InternalError</Code></Error>");
  ObjectInfo info;
  EXPECT_EQ(s.store.stat("s", "f", info), StoreStatus::kUnavailable);
  EXPECT_NE(s.logged().find("answered 500"), std::string::npos) << s.logged();
}

TEST(S3BlobStore, ASilentStoreIsCutAtTheStallTimeout) {
  HttpReceiver fake;
  fake.answer_with(200, std::chrono::seconds(30));
  Store s(client_options("http://127.0.0.1:" + std::to_string(fake.port())));
  auto start = std::chrono::steady_clock::now();
  ObjectInfo info;
  EXPECT_EQ(s.store.stat("s", "f", info), StoreStatus::kUnavailable);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(6));  // two attempts of a 1 s stall limit, and slack
  EXPECT_NE(s.logged().find("cannot reach the object store"), std::string::npos) << s.logged();
}
