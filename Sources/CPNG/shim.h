#ifndef DTRAIN_CPNG_SHIM_H
#define DTRAIN_CPNG_SHIM_H
#include <png.h>

// PNG_IMAGE_VERSION and PNG_FORMAT_RGBA are macros.
static inline png_uint_32 dtrain_png_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 dtrain_png_format_rgba(void) { return PNG_FORMAT_RGBA; }
#endif
