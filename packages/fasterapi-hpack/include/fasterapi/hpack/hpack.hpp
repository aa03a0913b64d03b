// Everything of the HPACK core: #include <fasterapi/hpack/hpack.hpp>.
#pragma once

#include "decoder.hpp"  // IWYU pragma: export
#include "encoder.hpp"  // IWYU pragma: export
#include "errors.hpp"   // IWYU pragma: export
#include "huffman.hpp"  // IWYU pragma: export
#include "integer.hpp"  // IWYU pragma: export
#include "static_table.hpp"  // IWYU pragma: export
#include "table.hpp"    // IWYU pragma: export
