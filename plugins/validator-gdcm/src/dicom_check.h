// Is this byte string a DICOM data set that a reader can read, and if not,
// why not. Runs GDCM on untrusted bytes: call it in an isolated worker.
#pragma once

#include <string>
#include <string_view>

namespace dicomd::validator {

struct Verdict {
  bool valid = false;
  std::string reason;  // short and human, when not valid
};

Verdict check_dicom(std::string_view bytes);

// A name for well-known non-DICOM content ("PDF document"), or "".
std::string_view sniff_other_format(std::string_view bytes);

}  // namespace dicomd::validator
