// See include/cmpi.h. Open MPI's handles are pointers to predefined globals of libmpi; they are
// resolved here by name, so this file needs neither mpi.h nor libmpi at build time.
#include "cmpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *Handle;  // MPI_Comm, MPI_Datatype, MPI_Op, MPI_Request: pointers in Open MPI
#define CMPI_IN_PLACE ((void *)1)
#define CMPI_STATUS_IGNORE ((void *)0)
#define CMPI_THREAD_FUNNELED 1

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*comm_rank)(Handle, int *);
    int (*comm_size)(Handle, int *);
    int (*allreduce)(const void *, void *, int, Handle, Handle, Handle);
    int (*iallreduce)(const void *, void *, int, Handle, Handle, Handle, Handle *);
    int (*wait)(Handle *, void *);
    int (*test)(Handle *, int *, void *);
    int (*bcast)(void *, int, Handle, int, Handle);
    int (*allgather)(const void *, int, Handle, void *, int, Handle, Handle);
    int (*gatherv)(const void *, int, Handle, void *, const int *, const int *, Handle, int, Handle);
    int (*barrier)(Handle);
    int (*abort)(Handle, int);
    double (*wtime)(void);
    Handle world, float_type, double_type, uint64_type, byte_type, sum;
} mpi;

static int loaded = 0;

int cmpi_load(const char *library, char *error, size_t error_size) {
    if (loaded) return 0;
    void *lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        const char *reason = dlerror();
        snprintf(error, error_size, "cannot load %s (%s)", library, reason ? reason : "unknown reason");
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Init_thread", (void **)&mpi.init_thread}, {"MPI_Finalize", (void **)&mpi.finalize},
        {"MPI_Comm_rank", (void **)&mpi.comm_rank}, {"MPI_Comm_size", (void **)&mpi.comm_size},
        {"MPI_Allreduce", (void **)&mpi.allreduce}, {"MPI_Iallreduce", (void **)&mpi.iallreduce},
        {"MPI_Wait", (void **)&mpi.wait}, {"MPI_Test", (void **)&mpi.test},
        {"MPI_Bcast", (void **)&mpi.bcast}, {"MPI_Allgather", (void **)&mpi.allgather},
        {"MPI_Gatherv", (void **)&mpi.gatherv}, {"MPI_Barrier", (void **)&mpi.barrier},
        {"MPI_Abort", (void **)&mpi.abort}, {"MPI_Wtime", (void **)&mpi.wtime},
        {"ompi_mpi_comm_world", &mpi.world}, {"ompi_mpi_float", &mpi.float_type},
        {"ompi_mpi_double", &mpi.double_type}, {"ompi_mpi_uint64_t", &mpi.uint64_type},
        {"ompi_mpi_byte", &mpi.byte_type}, {"ompi_mpi_op_sum", &mpi.sum},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *address = dlsym(lib, symbols[i].name);
        if (!address) {
            snprintf(error, error_size, "%s lacks the symbol %s (not Open MPI 4?)", library, symbols[i].name);
            return -1;
        }
        *symbols[i].slot = address;
    }
    loaded = 1;
    return 0;
}

int cmpi_init(void) {
    int provided = 0;
    return mpi.init_thread(NULL, NULL, CMPI_THREAD_FUNNELED, &provided);
}

int cmpi_finalize(void) { return mpi.finalize(); }
int cmpi_rank(int *rank) { return mpi.comm_rank(mpi.world, rank); }
int cmpi_size(int *size) { return mpi.comm_size(mpi.world, size); }

static int allreduce_chunked(char *buffer, int64_t count, size_t element, Handle type) {
    while (count > 0) {
        int chunk = count > INT_MAX ? INT_MAX : (int)count;
        int status = mpi.allreduce(CMPI_IN_PLACE, buffer, chunk, type, mpi.sum, mpi.world);
        if (status != 0) return status;
        buffer += (size_t)chunk * element;
        count -= chunk;
    }
    return 0;
}

int cmpi_allreduce_sum_float(float *buffer, int64_t count) {
    return allreduce_chunked((char *)buffer, count, sizeof(float), mpi.float_type);
}

int cmpi_allreduce_sum_double(double *buffer, int64_t count) {
    return allreduce_chunked((char *)buffer, count, sizeof(double), mpi.double_type);
}

int cmpi_iallreduce_sum_float(float *buffer, int32_t count, void **request) {
    return mpi.iallreduce(CMPI_IN_PLACE, buffer, count, mpi.float_type, mpi.sum, mpi.world, (Handle *)request);
}

int cmpi_wait(void **request) { return mpi.wait((Handle *)request, CMPI_STATUS_IGNORE); }
int cmpi_test(void **request, int *done) { return mpi.test((Handle *)request, done, CMPI_STATUS_IGNORE); }

int cmpi_broadcast_bytes(void *buffer, int64_t count, int root) {
    char *bytes = buffer;
    while (count > 0) {
        int chunk = count > INT_MAX ? INT_MAX : (int)count;
        int status = mpi.bcast(bytes, chunk, mpi.byte_type, root, mpi.world);
        if (status != 0) return status;
        bytes += chunk;
        count -= chunk;
    }
    return 0;
}

int cmpi_allgather_uint64(uint64_t value, uint64_t *values) {
    return mpi.allgather(&value, 1, mpi.uint64_type, values, 1, mpi.uint64_type, mpi.world);
}

int cmpi_gather_floats(const float *send, int32_t count, float *received, const int32_t *counts,
                       const int32_t *offsets, int root) {
    return mpi.gatherv(send, count, mpi.float_type, received, counts, offsets, mpi.float_type, root, mpi.world);
}

int cmpi_barrier(void) { return mpi.barrier(mpi.world); }

void cmpi_abort(int code) {
    if (loaded) mpi.abort(mpi.world, code);
    _Exit(code);
}

double cmpi_wtime(void) { return mpi.wtime(); }
