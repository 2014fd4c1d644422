// Shared inline helpers of the C kernels (not public): attributes, and e^x / tanh / sigmoid with
// the same approximations as Tensor.FastMath, so that every kernel computes the same function.
#ifndef CK_MATH_H
#define CK_MATH_H
#include <stdint.h>
#include <string.h>

#define INLINE __attribute__((always_inline)) static inline
// Iterations touch only element j of each array (outputs may alias inputs element for element,
// like c and c_prev), so the loops are vectorized without runtime overlap checks.
#define SAFE_LOOP _Pragma("clang loop vectorize(assume_safety)")
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma")))
#define AVX2 __attribute__((target("avx2,fma")))


INLINE int32_t bits_of(float x) { int32_t i; memcpy(&i, &x, 4); return i; }
INLINE float float_of(int32_t i) { float x; memcpy(&x, &i, 4); return x; }

// e^x: clamp to [−87, 88], n = round(x·log2 e) by the 1.5·2^23 trick, Cody–Waite reduction,
// degree-7 Taylor polynomial, scale by 2^n from exponent bits (Tensor.FastMath.exp).
INLINE float fast_exp(float x) {
    float c = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float magic = 12582912.0f;
    float shifted = c * 1.44269504f + magic;
    float n = shifted - magic;
    float r = (c - n * 0.69314575f) - n * 1.4286068e-6f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t ni = bits_of(shifted) - 0x4B400000;
    return p * float_of((ni + 127) << 23);
}

// tanh: odd Taylor series through x^11 for |x| < 0.25, else (1 − e)/(1 + e) with e = e^(−2|x|),
// |x| clamped to 9; both computed and selected (Tensor.FastMath.tanh).
INLINE float fast_tanh(float x) {
    float a = x < 0 ? -x : x;
    a = a > 9.0f ? 9.0f : a;
    float e = fast_exp(-2.0f * a);
    float large = (1.0f - e) / (1.0f + e);
    float a2 = a * a;
    float q = -1382.0f / 155925;
    q = q * a2 + 62.0f / 2835;
    q = q * a2 - 17.0f / 315;
    q = q * a2 + 2.0f / 15;
    q = q * a2 - 1.0f / 3;
    float small = a + a * a2 * q;
    float y = a < 0.25f ? small : large;
    return x < 0 ? -y : y;
}

INLINE float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

#endif
