#ifndef DTRAIN_CACHE_HINTS_H
#define DTRAIN_CACHE_HINTS_H
/* A hint that the cache line at p will be read soon, kept in every cache level. It never faults and never waits,
   unlike a load, so a kernel can ask for the data of its next block while it computes on the current one. */
static inline void dtrain_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/* The same hint for L2 and the levels beyond it only, for lines read after the ones in L1 are done with. */
static inline void dtrain_prefetch_l2(const void *p) { __builtin_prefetch(p, 0, 2); }

/* A hint that the cache line at p will be written soon: fetched for ownership, so that the stores that follow do not
   each wait for the line. */
static inline void dtrain_prefetch_write(void *p) { __builtin_prefetch(p, 1, 3); }

/* Sixteen floats, which Swift sees as SIMD16<Float>. */
typedef float dtrain_float16 __attribute__((ext_vector_type(16)));

/* Writes the 64-byte aligned line at p around the caches (a non-temporal store): the line is not read first, as an
   ordinary store's is, and evicts nothing. */
static inline void dtrain_stream(float *p, dtrain_float16 v) { __builtin_nontemporal_store(v, (dtrain_float16 *)p); }

/* Eight floats, which Swift sees as SIMD8<Float>, streamed to the 32-byte aligned address p. */
typedef float dtrain_float8 __attribute__((ext_vector_type(8)));
static inline void dtrain_stream8(float *p, dtrain_float8 v) { __builtin_nontemporal_store(v, (dtrain_float8 *)p); }

/* Orders the streaming stores before every later store, so that another thread that sees a later flag sees them. */
static inline void dtrain_store_fence(void) { __builtin_ia32_sfence(); }
#endif
