#include "dicom_files.h"

#include "server_process.h"
#include "temp_dir.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace dicomd::test {

std::filesystem::path pydicom_data_dir() {
  for (const char* dir : {DICOMD_TEST_PYDICOM_DIR, "/usr/lib/python3/dist-packages/pydicom/data"})
    if (std::filesystem::exists(std::filesystem::path(dir) / "test_files")) return dir;
  throw std::runtime_error("pydicom test data not found: install python3-pydicom (scripts/install-deps test)");
}

std::vector<std::filesystem::path> pydicom_files() {
  std::vector<std::filesystem::path> out;
  for (const char* sub : {"test_files", "charset_files"})
    for (const auto& e : std::filesystem::directory_iterator(pydicom_data_dir() / sub))
      if (e.path().extension() == ".dcm") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string run_command(const std::string& command, int* status) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

}  // namespace dicomd::test

namespace dicomd::test {

std::string padded_ct(size_t extra) {
  TempDir tmp;
  write_file(tmp / "pad.bin", std::string(extra, 'p'));
  write_file(tmp / "big.dcm", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm"));
  int status = 0;
  std::string out = run_command("dcmodify -nb -if " + shell_quote("(0042,0011)=" + (tmp / "pad.bin").string()) + " " +
                                    shell_quote((tmp / "big.dcm").string()) + " 2>&1",
                                &status);
  if (status != 0) throw std::runtime_error("dcmodify failed: " + out);
  return read_file(tmp / "big.dcm");
}

}  // namespace dicomd::test
