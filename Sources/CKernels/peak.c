// The machine's arithmetic peak (see ckernels.h): independent chains of vector fused multiply-adds
// (or bf16 dot products) on every thread, long enough that the FMA units, not latency, limit them.
#include "ckernels.h"
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12       // independent accumulators: > FMA latency × FMA units on current cores
#define ROUNDS 4096     // loop iterations between clock reads

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    int32_t kind;
    double duration;
    double flops;  // out
    float sink;    // out, so the chains are not optimized away
} peak_job;

__attribute__((target("avx512f"))) static double run_avx512(double duration, float *sink) {
    __m512 acc[CHAINS];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    double start = seconds(), flops = 0;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
        flops += (double)ROUNDS * CHAINS * 16 * 2;
    } while (seconds() - start < duration);
    double elapsed = seconds() - start;
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += _mm512_reduce_add_ps(acc[i]);
    *sink = s;
    return flops / elapsed;
}

__attribute__((target("avx512f,avx512bf16"))) static double run_bf16(double duration, float *sink) {
    __m512 acc[CHAINS];
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);  // 1, ~6e-8
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    double start = seconds(), flops = 0;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
        flops += (double)ROUNDS * CHAINS * 32 * 2;
    } while (seconds() - start < duration);
    double elapsed = seconds() - start;
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += _mm512_reduce_add_ps(acc[i]);
    *sink = s;
    return flops / elapsed;
}

__attribute__((target("avx2,fma"))) static double run_avx2(double duration, float *sink) {
    __m256 acc[CHAINS];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    double start = seconds(), flops = 0;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
        flops += (double)ROUNDS * CHAINS * 8 * 2;
    } while (seconds() - start < duration);
    double elapsed = seconds() - start;
    float s = 0, lanes[8];
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        for (int j = 0; j < 8; j++) s += lanes[j];
    }
    *sink = s;
    return flops / elapsed;
}

// The portable kernel's arithmetic: fmaf per element.
static double run_portable(double duration, float *sink) {
    float acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = (float)i;
    double start = seconds(), flops = 0;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) acc[i] = fmaf(acc[i], 0.999999f, 1e-7f);
        flops += (double)ROUNDS * CHAINS * 2;
    } while (seconds() - start < duration);
    double elapsed = seconds() - start;
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += acc[i];
    *sink = s;
    return flops / elapsed;
}

static void *run_peak(void *arg) {
    peak_job *job = arg;
    if (job->kind == CK_PEAK_BF16) job->flops = run_bf16(job->duration, &job->sink);
    else switch (ck_gemm_isa()) {
        case 2: job->flops = run_avx512(job->duration, &job->sink); break;
        case 1: job->flops = run_avx2(job->duration, &job->sink); break;
        default: job->flops = run_portable(job->duration, &job->sink); break;
        }
    return 0;
}

int32_t ck_has_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") ? 1 : 0;
}

double ck_peak_gflops(int32_t kind, int32_t threads, double seconds_per_thread) {
    if (kind == CK_PEAK_BF16 && !ck_has_bf16()) return 0;
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    peak_job jobs[64];
    pthread_t ids[64];
    int32_t started[64] = {0};
    for (int32_t t = 0; t < threads; t++) {
        jobs[t] = (peak_job){kind, seconds_per_thread, 0, 0};
        if (t > 0) started[t] = pthread_create(&ids[t], 0, run_peak, &jobs[t]) == 0;
    }
    run_peak(&jobs[0]);
    double total = jobs[0].flops;
    for (int32_t t = 1; t < threads; t++) {
        if (!started[t]) continue;
        pthread_join(ids[t], 0);
        total += jobs[t].flops;
    }
    return total * 1e-9;
}
