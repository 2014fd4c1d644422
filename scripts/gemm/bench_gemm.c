// The GEMM engine (Sources/CKernels/gemm.c) alone, on the shapes of one training window of a
// 2-layer LSTM (B = 50 streams, T = 50 steps, hidden H): the whole-window products and the
// per-step products against a pre-packed W_hhᵀ, best of 7 runs, GFLOP/s. Build and run:
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels scripts/gemm/bench_gemm.c \
//       Sources/CKernels/gemm.c Sources/CKernels/gemm_bf16.c Sources/CKernels/peak.c \
//       -o /tmp/bench_gemm -lpthread -lm
//   /tmp/bench_gemm THREADS H [f32|bf16|bf16-emulated]   # e.g. 1 512; compare with `charrnn bench --peak`
//
// Threads split the whole-window products by rows (or columns) as ParallelGemm does, and the
// per-step products by streams (each thread its B/threads rows, both sharing the packed matrix)
// as RecurrentLayer does below its stream-split limit.
#include "ckernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *filled(long count, int salt) {
    float *p = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
    if (!p) { fprintf(stderr, "bench_gemm: out of memory\n"); exit(1); }
    for (long i = 0; i < count; i++) p[i] = (float)((i * salt) % 13) / 13.0f - 0.5f;
    return p;
}

typedef struct {
    int transA, transB, packed;
    long m, n, k, lda, ldb, ldc, panel0, steps, rowsPerStep;
    const float *a, *b;
    float *c;
} Job;

// Operand precision of every product (CK_OPERANDS_F32 or CK_OPERANDS_BF16), and whether bf16 runs
// the emulation of the dot-product kernel (set per thread).
static int operands = CK_OPERANDS_F32, emulated = 0;

static void *runJob(void *argument) {
    Job *j = argument;
    ck_force_bf16_emulation(emulated);
    if (j->packed) {
        for (long t = 0; t < j->steps; t++)
            ck_sgemm_packed_ex(operands, j->m, j->n, j->k, j->a + t * j->rowsPerStep * j->lda, j->lda, j->b,
                               j->panel0, j->c + t * j->rowsPerStep * j->ldc, j->ldc, 0);
    } else {
        ck_sgemm_ex(operands, j->transA, j->transB, j->m, j->n, j->k, j->a, j->lda, j->b, j->ldb, j->c, j->ldc, 0);
    }
    return NULL;
}

static double best(Job *jobs, int threads) {
    double fastest = 1e30;
    for (int rep = 0; rep < 7; rep++) {
        pthread_t workers[8];
        double start = seconds();
        for (int t = 1; t < threads; t++) pthread_create(&workers[t], NULL, runJob, &jobs[t]);
        runJob(&jobs[0]);
        for (int t = 1; t < threads; t++) pthread_join(workers[t], NULL);
        double elapsed = seconds() - start;
        if (elapsed < fastest) fastest = elapsed;
    }
    return fastest;
}

// One whole-window product C (m×n) = op(A)·op(B), split between threads by rows (m ≥ n) or columns.
static void window(const char *name, int transA, int transB, long m, long n, long k, int threads) {
    long lda = transA ? m : k, ldb = transB ? k : n;
    float *a = filled(m * k, 7), *b = filled(k * n, 5), *c = filled(m * n, 3);
    Job jobs[8];
    int splitRows = m >= n;
    long extent = splitRows ? m : n, grain = splitRows ? 6 : 32;
    for (int t = 0; t < threads; t++) {
        long lo = (t * extent / threads) / grain * grain;
        long hi = t + 1 == threads ? extent : ((t + 1) * extent / threads) / grain * grain;
        jobs[t] = (Job){transA, transB, 0, m, n, k, lda, ldb, n, 0, 1, 0, a, b, c};
        if (splitRows) { jobs[t].m = hi - lo; jobs[t].a = a + (transA ? lo : lo * lda); jobs[t].c = c + lo * n; }
        else { jobs[t].n = hi - lo; jobs[t].b = b + (transB ? lo * ldb : lo); jobs[t].c = c + lo; }
    }
    double s = best(jobs, threads);
    printf("%-34s %c%c %5ld x %5ld x %5ld  %8.2f ms  %6.1f GFLOP/s\n", name, transA ? 'T' : 'N', transB ? 'T' : 'N',
           m, n, k, s * 1e3, 2.0 * m * n * k / s * 1e-9);
    free(a); free(b); free(c);
}

// T per-step products h_{t−1}·W_hhᵀ (B×G·H×H) against W_hhᵀ packed once, streams split between threads.
static void perStep(long streams, long g, long h, long steps, int threads) {
    float *w = filled(g * h, 5), *packed = filled(ck_packed_count(h, g), 1);
    ck_spack_ex(operands, w, h, 1, h, g, packed);
    float *a = filled(steps * streams * h, 7), *c = filled(steps * streams * g, 3);
    Job jobs[8];
    for (int t = 0; t < threads; t++) {
        long lo = t * streams / threads, hi = (t + 1) * streams / threads;
        jobs[t] = (Job){0, 0, 1, hi - lo, g, h, h, 0, g, 0, steps, streams, a + lo * h, packed, c + lo * g};
    }
    double s = best(jobs, threads);
    printf("%-34s NT %5ld x %5ld x %5ld  %8.2f ms  %6.1f GFLOP/s  (x%ld steps)\n", "per-step h·W_hhᵀ (packed)", streams,
           g, h, s * 1e3, 2.0 * steps * streams * g * h / s * 1e-9, steps);
    free(w); free(packed); free(a); free(c);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    long h = argc > 2 ? atol(argv[2]) : 512;
    const char *precision = argc > 3 ? argv[3] : "f32";
    if (!strcmp(precision, "bf16")) operands = CK_OPERANDS_BF16;
    else if (!strcmp(precision, "bf16-emulated")) operands = CK_OPERANDS_BF16, emulated = 1;
    else if (strcmp(precision, "f32")) precision = NULL;
    if (threads < 1 || threads > 8 || h < 1 || !precision) {
        fprintf(stderr, "usage: bench_gemm THREADS(1-8) H [f32|bf16|bf16-emulated]\n");
        return 2;
    }
    long rows = 2500, g = 4 * h, v = 65;
    printf("f32 FMA peak, %d thread(s): %.1f GFLOP/s\n", threads, ck_peak_gflops(0, threads, 0.3));
    if (operands == CK_OPERANDS_BF16)
        printf("bf16 dot-product peak: %.1f GFLOP/s; products: %s\n", ck_peak_gflops(1, threads, 0.3), precision);
    window("input projection X·W_ihᵀ", 0, 1, rows, g, h, threads);
    window("weight gradient dGᵀ·X", 1, 0, g, h, rows, threads);
    window("input gradient dG·W_ih", 0, 0, rows, h, g, threads);
    window("decoder X·Wᵀ", 0, 1, rows, v, h, threads);
    window("decoder gradient dLᵀ·X", 1, 0, v, h, rows, threads);
    perStep(50, g, h, 50, threads);
    return 0;
}
