// Real DICOM test files: Debian's python3-pydicom data, and helpers to run
// DCMTK and pydicom as independent references.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dicomd::test {

// pydicom/data (holds test_files/ and charset_files/).
std::filesystem::path pydicom_data_dir();
// Every *.dcm of test_files and charset_files, sorted.
std::vector<std::filesystem::path> pydicom_files();
// Output (stdout) of a shell command, and its exit status.
std::string run_command(const std::string& command, int* status = nullptr);
std::string shell_quote(const std::string& s);
// pydicom's CT_small.dcm grown to about `extra` more bytes of valid DICOM,
// with an Encapsulated Document element of that size (DCMTK's dcmodify).
// Throws when dcmodify fails.
std::string padded_ct(size_t extra);

}  // namespace dicomd::test
