#ifndef DTRAIN_CZLIB_SHIM_H
#define DTRAIN_CZLIB_SHIM_H
// zlib reads the gzip-compressed IDX files that MNIST-like datasets ship as (gzread passes plain files through).
#include <zlib.h>
#endif
