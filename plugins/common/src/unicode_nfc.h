// Unicode normalisation form C, checked with libunistring: the one spelling
// of a name that dicomd stores. NFD "é" (e + U+0301), a Hangul syllable
// written as jamo, or a Devanagari letter + nukta that NFC composes are
// second spellings of a name that looks the same, so storage refuses them.
#pragma once

#include <string_view>

namespace dicomd {

// True when valid UTF-8 `s` is already in NFC (normalising it changes
// nothing). False for invalid UTF-8 or when normalisation fails.
bool is_nfc(std::string_view s);

}  // namespace dicomd
