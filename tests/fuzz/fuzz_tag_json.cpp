// The tag-value formatter: elements with fuzzed VRs and values (sequences
// excluded: GDCM parses those itself), under every character set.
#include <cstddef>
#include <cstdint>
#include <string>

#include <gdcmDataElement.h>
#include <gdcmDataSet.h>
#include <gdcmVR.h>

#include "charset.h"
#include "tag_json.h"

namespace {

const gdcm::VR::VRType kVrs[] = {gdcm::VR::AE, gdcm::VR::AS,     gdcm::VR::AT, gdcm::VR::CS, gdcm::VR::DA, gdcm::VR::DS,
                                 gdcm::VR::DT, gdcm::VR::FD,     gdcm::VR::FL, gdcm::VR::IS, gdcm::VR::LO, gdcm::VR::LT,
                                 gdcm::VR::OB, gdcm::VR::OW,     gdcm::VR::PN, gdcm::VR::SH, gdcm::VR::SL, gdcm::VR::SS,
                                 gdcm::VR::ST, gdcm::VR::TM,     gdcm::VR::UI, gdcm::VR::UL, gdcm::VR::UN, gdcm::VR::US,
                                 gdcm::VR::UT, gdcm::VR::INVALID};
const char* kCharsets[] = {"",          "ISO_IR 100",     "ISO_IR 192", "GB18030", "ISO 2022 IR 87", "ISO 2022 IR 149",
                           "ISO_IR 13", "ISO 2022 IR 58", "ISO_IR 144", "bogus"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  uint16_t group = static_cast<uint16_t>(data[0] | data[1] << 8),
           element = static_cast<uint16_t>(data[2] | data[3] << 8);
  gdcm::VR::VRType vr = kVrs[data[4] % (sizeof kVrs / sizeof kVrs[0])];
  const char* charset = kCharsets[data[5] % (sizeof kCharsets / sizeof kCharsets[0])];
  std::string value(reinterpret_cast<const char*>(data + 6), size - 6);
  gdcm::DataElement de(gdcm::Tag(group, element));
  de.SetVR(vr);
  de.SetByteValue(value.data(), static_cast<uint32_t>(value.size()));
  gdcm::DataSet ds;
  ds.Insert(de);
  dicomd::metadata::CharsetDecoder decoder(std::vector<std::string>{charset, "ISO 2022 IR 87"});
  rapidjson::StringBuffer buffer;
  dicomd::metadata::JsonWriter w(buffer);
  dicomd::metadata::write_element(w, ds.GetDataElement(de.GetTag()), ds, decoder, {});
  if (!w.IsComplete()) __builtin_trap();
  std::string decoded = decoder.decode(value, true);
  (void)decoded;
  return 0;
}
