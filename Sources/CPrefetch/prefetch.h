#ifndef DTRAIN_PREFETCH_H
#define DTRAIN_PREFETCH_H
/* A hint that the cache line at p will be read soon, kept in every cache level. It never faults and never waits,
   unlike a load, so a kernel can ask for the data of its next block while it computes on the current one. */
static inline void dtrain_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
/* A hint that the cache line at p will be written soon: fetched for ownership, so that the stores that follow do not
   each wait for the line. */
static inline void dtrain_prefetch_write(void *p) { __builtin_prefetch(p, 1, 3); }
#endif
