#ifndef DTRAIN_CMPI_SHIM_H
#define DTRAIN_CMPI_SHIM_H
#include <mpi.h>

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
#endif
