// One DICOM element as the API's JSON object:
//   {"VM":1,"VR":"US","keyword":"Rows","name":"Rows","tag":"(0028,0010)","value":512}
// Keys in sorted order, as the original service (Flask's jsonify) wrote them.
#pragma once

#include <cstdint>
#include <optional>

#include <gdcmDataElement.h>
#include <gdcmDataSet.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "charset.h"

namespace dicomd::metadata {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

struct FormatContext {
  int pixel_representation = 0;  // resolves "US or SS" dictionary VRs
};

// An element present in `ds` (its item, for sequence contents).
void write_element(JsonWriter& w, const gdcm::DataElement& de, const gdcm::DataSet& ds, const CharsetDecoder& charset,
                   const FormatContext& ctx, int depth = 0);
// A dictionary tag the file does not contain: value null, VM 0.
void write_missing(JsonWriter& w, const gdcm::Tag& tag);
// Pixel data, whose value a header read skipped: null with its length.
void write_pixel_data(JsonWriter& w, const gdcm::Tag& tag, const char* vr, std::optional<uint64_t> length);

// Base64 of bytes (RFC 4648, padded).
std::string base64(std::string_view bytes);

}  // namespace dicomd::metadata
