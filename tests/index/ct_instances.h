// Distinct valid instances for the index tests, made from pydicom's
// CT_small.dcm without a DICOM writer: its SOP Instance UID's last five
// digits replaced (same length, so the file stays valid), and optionally its
// PatientID (4 characters); plus the total of a /search answer.
#pragma once

#include <cstdint>
#include <string>

#include "core_server.h"

namespace dicomd::test {

inline const std::string kCtSop = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";

inline std::string five_digits(int i) {
  std::string s = std::to_string(i % 100000);
  return std::string(5 - s.size(), '0') + s;
}

// The SOP Instance UID of ct_instance(i).
inline std::string sop_of(int i) {
  return kCtSop.substr(0, kCtSop.size() - 5) + five_digits(i);
}

inline std::string ct_instance(int i, const std::string& patient_id = "1CT1") {
  static const std::string base = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  std::string out = base;
  for (size_t at = out.find(kCtSop); at != std::string::npos; at = out.find(kCtSop, at + 1))
    out.replace(at + kCtSop.size() - 5, 5, five_digits(i));
  size_t id = out.find("1CT1");
  if (patient_id.size() == 4 && id != std::string::npos) out.replace(id, 4, patient_id);
  return out;
}

// "total" of a /search answer, -1 when the answer has none.
inline int64_t total_of(const HttpReply& r) {
  auto d = parse_json(r.body);
  return d.IsObject() && d.HasMember("total") ? d["total"].GetInt64() : -1;
}

}  // namespace dicomd::test
