#include "file_routes.h"

#include <unistd.h>

#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/names.hpp>

#include "unicode_nfc.h"

#include "content_hash.h"

namespace dicomd::storage {
namespace {

constexpr const char* kUnavailable = "the storage is unavailable; try again later";

// A store's failure as the client sees it: 503 when the store cannot be
// used at all (details are in the server's log), 500 otherwise.
[[noreturn]] void fail(StoreStatus s, const char* what) {
  if (s == StoreStatus::kUnavailable) throw HttpError(503, kUnavailable);
  throw std::runtime_error(what);
}

// {<fields>, "success": ...} as the route's JSON answer. "success" sorts
// after every other key these routes write, so the keys stay in order.
template <class Fields>
void reply(Response& res, int status, bool success, Fields&& fields) {
  JsonWriter w;
  w.start_object();
  fields(w);
  w.key("success").boolean(success).end_object();
  res.json(status, w.text());
}

// With auth-jwt on, the page signs in first: POST /login sets the
// dicomd_token cookie, which the form's upload (same origin) then carries.
constexpr std::string_view kUploadForm = R"html(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>dicomd — upload DICOM files</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}label{display:block;margin:1em 0}
textarea{width:100%;font-family:monospace}#who{margin-left:1em}</style></head>
<body>
<h1>Upload DICOM files</h1>
<details id="signin"><summary>Sign in (servers with auth-jwt)</summary>
<form id="login">
  <label>Token <textarea name="token" rows="3" required></textarea></label>
  <button type="submit">Sign in</button> <button type="button" id="logout">Sign out</button><span id="who"></span>
</form>
</details>
<form action="/upload" method="post" enctype="multipart/form-data">
  <label>Study <input type="text" name="study" required maxlength="255"></label>
  <label>Files <input type="file" name="files" multiple required></label>
  <button type="submit">Upload</button>
</form>
<p>Stored studies: <a href="/files">/files</a></p>
<script>
const who = document.getElementById("who");
async function send(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: body});
  if (r.status === 404) return "this server has no sign-in (auth-jwt is off)";
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) return "refused: " + (answer.error || r.status);
  return answer.subject ? "signed in as " + answer.subject + " (" + answer.role + ")" : "signed out";
}
document.getElementById("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  who.textContent = await send("/login", JSON.stringify({token: e.target.token.value.trim()}));
});
document.getElementById("logout").addEventListener("click", async () => { who.textContent = await send("/logout", "{}"); });
</script>
</body>
</html>
)html";

}  // namespace

void FileRoutes::upload_form(const Request&, Response& res) {
  res.header("Cache-Control", "no-cache");
  res.send(200, "text/html; charset=utf-8", kUploadForm);
}

std::optional<FileRoutes::Failure> FileRoutes::store_one(std::string_view study, std::string_view client_name,
                                                         std::string_view data, std::string_view uploader) {
  std::string name(base_name(client_name));
  if (!is_valid_name(name)) return Failure{name, "invalid_name", "file name is not allowed"};
  if (!is_nfc(name)) return Failure{name, "invalid_name", "file name is not in Unicode NFC form"};
  if (data.size() > max_file_bytes_)
    return Failure{name, "too_large", "file is larger than " + std::to_string(max_file_bytes_) + " bytes"};
  ObjectInfo info;
  StoreStatus before = store_.stat(study, name, info);
  if (before == StoreStatus::kOk)
    return Failure{name, "duplicate", "a file of this name is already stored in the study"};
  if (before == StoreStatus::kUnavailable) throw HttpError(503, kUnavailable);
  StoreStatus status;
  std::string refusal;
  if (validator_.can_validate_file()) {
    // Validated where the storage wrote it: the upload's bytes are not
    // copied to a validator worker (storage-fs: and the disk writes them
    // back meanwhile). The storage's write span holds the validator's job.
    status = store_.put_checked(
        study, name, data, uploader,
        [this](int fd, uint64_t size) -> std::optional<std::string> {
          Validator::Verdict verdict = validator_.validate_file(fd, size);
          if (verdict.valid) return std::nullopt;
          return verdict.reason;
        },
        refusal);
  } else {
    Validator::Verdict verdict = validator_.validate(data);
    if (!verdict.valid) return Failure{name, "invalid_type", verdict.reason};
    status = store_.put_by(study, name, data, uploader);
  }
  switch (status) {
    case StoreStatus::kOk:
      return std::nullopt;
    case StoreStatus::kRefused:
      return Failure{name, "invalid_type", refusal};
    case StoreStatus::kExists:
      return Failure{name, "duplicate", "a file of this name is already stored in the study"};
    case StoreStatus::kInvalidName:
      return Failure{name, "invalid_name", "file name is not allowed"};
    default:
      // (The storage's own span of the write is marked failed.)
      host_.error("storing " + std::string(study) + "/" + name + " failed");
      return Failure{name, "storage_error", "the file could not be written"};
  }
}

void FileRoutes::upload(const Request& req, Response& res) {
  if (req.media_type() != "multipart/form-data")
    throw HttpError(415, "upload must be multipart/form-data with a study field and files parts");
  std::optional<std::string> study;
  // File names are valid only during the callback; the data views stay
  // valid for the whole request (they point into its body).
  std::vector<std::pair<std::string, std::string_view>> files;
  bool ok = host_.parse_multipart(req, [&](const dicomd_form_part& part) {
    std::string_view name = view(part.name);
    if (name == "study" && !study) study = std::string(view(part.data));
    if (name == "files" && part.filename.ptr) files.emplace_back(view(part.filename), view(part.data));
  });
  if (!ok) throw HttpError(400, "malformed multipart body");
  if (!study || study->empty()) throw HttpError(400, "missing study field");
  if (!is_valid_name(*study)) throw HttpError(400, "invalid study name");
  if (!is_nfc(*study)) throw HttpError(400, "invalid study name: not in Unicode NFC form");
  if (files.empty()) throw HttpError(400, "no files part in the form");
  if (!validator_) throw HttpError(503, "uploads need the validator-gdcm plugin, which is disabled");

  std::vector<std::string> stored;
  std::vector<Failure> failed;
  for (const auto& [client_name, data] : files) {
    if (auto failure = store_one(*study, client_name, data, req.identity().subject))
      failed.push_back(std::move(*failure));
    else
      stored.emplace_back(base_name(client_name));
  }

  if (!stored.empty()) settle_events();
  // Keys in sorted order, as the original service (Flask's jsonify) wrote them.
  reply(res, failed.empty() ? 201 : 422, failed.empty(), [&](JsonWriter& w) {
    w.key("failedFiles").uint(failed.size()).key("files").start_array();
    for (const auto& f : failed) {
      w.start_object().key("detail").string(f.detail);
      w.key("name").string(is_valid_utf8(f.name) ? f.name : std::string("(not UTF-8)"));
      w.key("reason").string(f.reason).end_object();
    }
    w.end_array().key("stored").strings(stored).key("storedFiles").uint(stored.size()).key("study").string(*study);
  });
}

void FileRoutes::list_studies(const Request&, Response& res) {
  std::vector<std::string> studies;
  if (StoreStatus s = store_.list_studies(studies); s != StoreStatus::kOk) fail(s, "cannot list studies");
  reply(res, 200, true,
        [&](JsonWriter& w) { w.key("studies").strings(studies).key("studiesCount").uint(studies.size()); });
}

void FileRoutes::list_files(const Request& req, Response& res) {
  std::string_view study = req.name_param("study");
  std::vector<std::string> files;
  StoreStatus s = store_.list_files(study, files);
  if (s == StoreStatus::kNotFound) throw HttpError(404, "study not found");
  if (s != StoreStatus::kOk) fail(s, "cannot list files");
  reply(res, 200, true, [&](JsonWriter& w) {
    w.key("files").strings(files).key("filesCount").uint(files.size()).key("study").string(study);
  });
}

void FileRoutes::get_file(const Request& req, Response& res) {
  std::string_view study = req.name_param("study");
  std::string_view file = req.name_param("file");
  ObjectInfo info;
  int fd = -1;
  StoreStatus found = store_.open(study, file, fd, info);
  if (found == StoreStatus::kNotFound) throw HttpError(404, "file not found");
  if (found != StoreStatus::kOk) fail(found, "cannot open stored file");
  if (!info.uploader.empty()) res.header("X-Dicomd-Uploader", info.uploader);
  if (res.not_modified(req, etag_of(info))) {
    ::close(fd);
    return;
  }
  // Sent from the descriptor as the client reads: the ETag and the bytes
  // are of one stored version, and a slow reader costs a chunk, not the file.
  res.send_file(200, "application/dicom", fd, 0, info.size);
}

// Read-your-writes: an answer goes out once every subscriber (the index)
// has handled the events of its changes, so a search made after an upload
// or a delete was answered sees it, on this host and on any other sharing
// the index.
void FileRoutes::settle_events() const {
  if (host_.has_events() && !host_.flush_events(kSettleTimeoutMs))
    host_.warn("event subscribers are more than " + std::to_string(kSettleTimeoutMs / 1000) +
               " s behind; answering before they catch up");
}

// With auth on, a caller that is not an admin (the policy lets only
// standard and admin here) deletes only what it uploaded itself.
void FileRoutes::check_owner(const Request& req, std::string_view study, std::string_view file) {
  Identity who = req.identity();
  if (who.empty() || who.role == "admin") return;
  ObjectInfo info;  // the uploader, not the bytes
  StoreStatus s = store_.describe(study, file, info);
  if (s == StoreStatus::kNotFound) throw HttpError(404, "file not found");
  if (s != StoreStatus::kOk) fail(s, "cannot look up stored file");
  if (info.uploader.empty() || info.uploader != who.subject)
    throw HttpError(403, "only the file's uploader or an admin may delete it");
}

void FileRoutes::delete_file(const Request& req, Response& res) {
  std::string_view study = req.name_param("study");
  std::string_view file = req.name_param("file");
  check_owner(req, study, file);
  StoreStatus s = store_.remove(study, file);
  if (s == StoreStatus::kNotFound) throw HttpError(404, "file not found");
  if (s != StoreStatus::kOk) fail(s, "cannot delete file");
  settle_events();
  reply(res, 200, true, [&](JsonWriter& w) { w.key("deleted").string(file).key("study").string(study); });
}

void FileRoutes::delete_study(const Request& req, Response& res) {
  std::string_view study = req.name_param("study");
  size_t removed = 0;
  StoreStatus s = store_.remove_study(study, removed);
  if (s == StoreStatus::kNotFound) throw HttpError(404, "study not found");
  if (s != StoreStatus::kOk) fail(s, "cannot delete study");
  settle_events();
  reply(res, 200, true, [&](JsonWriter& w) { w.key("deletedFiles").uint(removed).key("study").string(study); });
}

}  // namespace dicomd::storage
