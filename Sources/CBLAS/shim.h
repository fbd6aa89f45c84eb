#ifndef DTRAIN_CBLAS_SHIM_H
#define DTRAIN_CBLAS_SHIM_H
#include <cblas.h>
#endif
