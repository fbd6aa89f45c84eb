#ifndef DTRAIN_CMPI_SHIM_H
#define DTRAIN_CMPI_SHIM_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Open MPI's handles are macros over addresses of incomplete extern structs,
// which Swift cannot import; these functions hand them over as values.
static inline MPI_Comm dtrain_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype dtrain_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype dtrain_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype dtrain_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype dtrain_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op dtrain_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op dtrain_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op dtrain_mpi_min(void) { return MPI_MIN; }
static inline void *dtrain_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *dtrain_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler dtrain_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Info dtrain_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Comm dtrain_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Request dtrain_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Op dtrain_mpi_op_null(void) { return MPI_OP_NULL; }
static inline MPI_Datatype dtrain_mpi_uint16(void) { return MPI_UINT16_T; }

// bfloat16: the upper half of a float32 (8 exponent bits, 7 mantissa bits), rounded to nearest even; NaN stays NaN.
static inline float dtrain_bf16_to_float(uint16_t value) {
    uint32_t bits = (uint32_t)value << 16;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

static inline uint16_t dtrain_float_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

static inline void dtrain_bf16_encode(const float *source, uint16_t *target, size_t count) {
    for (size_t i = 0; i < count; i++) target[i] = dtrain_float_to_bf16(source[i]);
}

static inline void dtrain_bf16_decode(const uint16_t *source, float *target, size_t count) {
    for (size_t i = 0; i < count; i++) target[i] = dtrain_bf16_to_float(source[i]);
}

// The reduction MPI applies at every hop of a bfloat16 allreduce: inout = bf16(float(in) + float(inout)), so
// partial sums are added in float32 and travel as bfloat16.
static void dtrain_bf16_sum(void *in, void *inout, int *count, MPI_Datatype *type) {
    (void)type;
    const uint16_t *a = (const uint16_t *)in;
    uint16_t *b = (uint16_t *)inout;
    for (int i = 0; i < *count; i++) b[i] = dtrain_float_to_bf16(dtrain_bf16_to_float(a[i]) + dtrain_bf16_to_float(b[i]));
}

static inline int dtrain_mpi_op_create_bf16_sum(MPI_Op *op) { return MPI_Op_create(dtrain_bf16_sum, 1, op); }
#endif
