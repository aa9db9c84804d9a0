// The BlobStore the file routes use, over whichever dicomd.storage the host
// bound (storage-fs, storage-s3, or a third-party backend). A backend built
// before ABI 1.7 lacks put_checked, open_described and remove_study_counted:
// the upload is then checked on an in-memory copy and stored without its
// uploader, and a download asks stat and content_hash besides open (or,
// before 1.4, reads the bytes into an in-memory file).
#pragma once

#include <dicomd/services/storage_v1.h>

#include "blob_store.h"

namespace dicomd::storage {

class ServiceBlobStore : public BlobStore {
 public:
  explicit ServiceBlobStore(const dicomd_storage_v1* storage) : v_(storage) {}

  StoreStatus put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                          std::string_view uploader, const WrittenCheck& check, std::string& refusal) override;
  StoreStatus read(std::string_view study, std::string_view name,
                   const std::function<void(std::string_view)>& consume) override;
  StoreStatus stat(std::string_view study, std::string_view name, ObjectInfo& info) override;
  StoreStatus open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) override;
  StoreStatus describe(std::string_view study, std::string_view name, ObjectInfo& info) override;
  StoreStatus list_studies(std::vector<std::string>& out) override;
  StoreStatus list_files(std::string_view study, std::vector<std::string>& out) override;
  StoreStatus remove(std::string_view study, std::string_view name) override;
  StoreStatus remove_study(std::string_view study, size_t& removed_files) override;
  uint64_t removal_count() const override;

 private:
  StoreStatus put_on_a_copy(std::string_view study, std::string_view name, std::string_view bytes,
                            const WrittenCheck& check, std::string& refusal);
  StoreStatus open_a_copy(std::string_view study, std::string_view name, int& fd, ObjectInfo& info);

  const dicomd_storage_v1* v_;
};

// A service status as the routes see it.
StoreStatus store_status(dicomd_status s);

}  // namespace dicomd::storage
