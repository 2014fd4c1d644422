// The machine's arithmetic peak (see ckernels.h): independent chains of vector fused multiply-adds
// (or bf16 dot products) on every thread, long enough that the FMA units, not latency, limit them.
#include "ckernels.h"
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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

// One runner per kind: CHAINS accumulators of type VEC, each advanced by STEP (one instruction of
// FLOPS flops) ROUNDS times between clock reads, until `duration` has passed.
#define DEFINE_PEAK(NAME, TARGET, VEC, INIT, STEP, FLOPS)                                          \
    TARGET static double NAME(double duration, float *sink) {                                      \
        VEC acc[CHAINS];                                                                           \
        for (int i = 0; i < CHAINS; i++) acc[i] = INIT((float)i);                                  \
        double start = seconds(), flops = 0;                                                       \
        do {                                                                                       \
            for (int r = 0; r < ROUNDS; r++)                                                       \
                for (int i = 0; i < CHAINS; i++) acc[i] = STEP(acc[i]);                            \
            flops += (double)ROUNDS * CHAINS * (FLOPS);                                            \
        } while (seconds() - start < duration);                                                    \
        double elapsed = seconds() - start;                                                        \
        float s = 0, lane;                                                                         \
        for (int i = 0; i < CHAINS; i++) { memcpy(&lane, &acc[i], sizeof lane); s += lane; }       \
        *sink = s;                                                                                 \
        return flops / elapsed;                                                                    \
    }

#define T512 __attribute__((target("avx512f")))
#define TBF16 __attribute__((target("avx512f,avx512bf16")))
#define T256 __attribute__((target("avx2,fma")))

T512 static inline __m512 init512(float x) { return _mm512_set1_ps(x); }
T512 static inline __m512 fma512(__m512 a) { return _mm512_fmadd_ps(a, _mm512_set1_ps(0.999999f), _mm512_set1_ps(1e-7f)); }
// bf16 1.0 and ~6e-8: 32 products per instruction into 16 f32 lanes.
TBF16 static inline __m512 dot_bf16(__m512 a) {
    return _mm512_dpbf16_ps(a, (__m512bh)_mm512_set1_epi16(0x3f80), (__m512bh)_mm512_set1_epi16(0x3380));
}
T256 static inline __m256 init256(float x) { return _mm256_set1_ps(x); }
T256 static inline __m256 fma256(__m256 a) { return _mm256_fmadd_ps(a, _mm256_set1_ps(0.999999f), _mm256_set1_ps(1e-7f)); }
static inline float init1(float x) { return x; }
static inline float fma1(float a) { return fmaf(a, 0.999999f, 1e-7f); }  // the portable kernel's arithmetic

DEFINE_PEAK(run_avx512, T512, __m512, init512, fma512, 16 * 2)
DEFINE_PEAK(run_bf16, TBF16, __m512, init512, dot_bf16, 32 * 2)
DEFINE_PEAK(run_avx2, T256, __m256, init256, fma256, 8 * 2)
DEFINE_PEAK(run_portable, , float, init1, fma1, 2)

static void *run_peak(void *arg) {
    peak_job *job = arg;
    if (job->kind == CK_PEAK_BF16) job->flops = run_bf16(job->duration, &job->sink);
    else switch (ck_gemm_isa()) {
        case CK_ISA_AVX512: job->flops = run_avx512(job->duration, &job->sink); break;
        case CK_ISA_AVX2: job->flops = run_avx2(job->duration, &job->sink); break;
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
