// Times MPI_Allreduce (sum of floats, in place) for a range of message sizes and prints, per size,
// the median over repetitions of the slowest rank's time. Used to fit the α–β model of BENCHMARKS.md.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const long max_floats = argc > 1 ? atol(argv[1]) : (1L << 24);
    const int repeats = argc > 2 ? atoi(argv[2]) : 30;
    float *buffer = malloc(sizeof(float) * max_floats);
    double *times = malloc(sizeof(double) * repeats);
    for (long i = 0; i < max_floats; i++) buffer[i] = 1e-6f * (float)(i % 1000);
    if (rank == 0) printf("ranks %d\n%12s %14s %14s\n", size, "floats", "median_us", "GB/s_bus");
    for (long n = 1; n <= max_floats; n *= 4) {
        for (int w = 0; w < 3; w++) MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int r = 0; r < repeats; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double local = MPI_Wtime() - t0, slowest;
            MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            times[r] = slowest;
        }
        qsort(times, repeats, sizeof(double), compare_doubles);
        double median = times[repeats / 2];
        // Bus bandwidth of a ring all-reduce: 2 (p-1)/p · bytes / time.
        double bus = 2.0 * (size - 1) / size * (double)n * 4 / median / 1e9;
        if (rank == 0) printf("%12ld %14.1f %14.3f\n", n, median * 1e6, bus);
    }
    free(buffer); free(times);
    MPI_Finalize();
    return 0;
}
