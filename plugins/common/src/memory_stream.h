// A read-only std::istream over bytes someone else owns: GDCM reads stored
// files and uploads through it without copying them.
#pragma once

#include <istream>
#include <streambuf>
#include <string_view>

namespace dicomd::gdcm_support {

class MemoryBuffer : public std::streambuf {
 public:
  explicit MemoryBuffer(std::string_view bytes);

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;
};

class MemoryStream : public std::istream {
 public:
  explicit MemoryStream(std::string_view bytes) : std::istream(nullptr), buffer_(bytes) { rdbuf(&buffer_); }

 private:
  MemoryBuffer buffer_;
};

}  // namespace dicomd::gdcm_support
