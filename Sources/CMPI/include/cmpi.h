// CMPI: Open MPI loaded at run time (dlopen), behind a header of plain C types.
//
// Nothing here needs MPI at build time: `cmpi_load` opens libmpi.so.40 and resolves the few
// functions and predefined handles the trainer uses with dlsym (Open MPI's ABI: communicators,
// datatypes, ops and requests are pointers; MPI_COMM_WORLD is the address of the symbol
// `ompi_mpi_comm_world`, MPI_FLOAT of `ompi_mpi_float`, MPI_SUM of `ompi_mpi_op_sum`, MPI_IN_PLACE
// is (void *)1). Every function returns MPI's status code (0 = MPI_SUCCESS) unless noted; all act
// on MPI_COMM_WORLD. Call them from one thread only (MPI is initialized MPI_THREAD_FUNNELED).
#ifndef CMPI_H
#define CMPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opens `library` (e.g. "libmpi.so.40") with RTLD_NOW | RTLD_GLOBAL and resolves every symbol.
/// Returns 0, or -1 with a one-line reason written into `error` (at most `error_size` bytes).
int cmpi_load(const char *library, char *error, size_t error_size);
/// MPI_Init_thread(FUNNELED). Returns the MPI status.
int cmpi_init(void);
/// MPI_Finalize.
int cmpi_finalize(void);
/// This process's rank and the number of ranks in MPI_COMM_WORLD.
int cmpi_rank(int *rank);
int cmpi_size(int *size);
/// In-place sum over all ranks of `count` floats / doubles (chunked below INT_MAX elements).
int cmpi_allreduce_sum_float(float *buffer, int64_t count);
int cmpi_allreduce_sum_double(double *buffer, int64_t count);
/// Starts an in-place float sum (MPI_Iallreduce, count ≤ INT_MAX); `*request` receives an opaque
/// handle to pass to cmpi_wait / cmpi_test exactly until it completes.
int cmpi_iallreduce_sum_float(float *buffer, int32_t count, void **request);
/// Waits for a request; `*request` becomes MPI_REQUEST_NULL.
int cmpi_wait(void **request);
/// Tests a request (drives MPI's progress); `*done` is 1 when it completed.
int cmpi_test(void **request, int *done);
/// Broadcasts `count` bytes from `root`.
int cmpi_broadcast_bytes(void *buffer, int64_t count, int root);
/// Every rank contributes `value`; `values` (size entries) receives them in rank order.
int cmpi_allgather_uint64(uint64_t value, uint64_t *values);
/// Gathers `count` floats from every rank into `received` at `root` (rank r's block at
/// `offsets[r]`, `counts[r]` floats; both arrays and `received` are read only at root).
int cmpi_gather_floats(const float *send, int32_t count, float *received, const int32_t *counts,
                       const int32_t *offsets, int root);
/// MPI_Barrier.
int cmpi_barrier(void);
/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job. Does not return.
void cmpi_abort(int code);
/// MPI_Wtime: seconds on a wall clock.
double cmpi_wtime(void);

#ifdef __cplusplus
}
#endif
#endif
