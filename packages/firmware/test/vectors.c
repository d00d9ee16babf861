/*
 * tp-vectors: answers numerics questions line by line so the TS tests can check the C numerics against
 * the shared vectors (packages/core/src/numerics/vectors.json, packages/protocol/src/crc32c/vectors.json).
 *   exp HEX            -> HEX            (tp_expf of a binary32 bit pattern)
 *   f16 N              -> HEX            (binary16 N widened)
 *   crc HEXBYTES|-     -> HEX            (CRC-32C; "-" for no bytes)
 *   act G HEX...       -> q... | HEX...  (activation quantization with group G)
 *   f16n HEX           -> N              (binary32 bit pattern narrowed to binary16, round to nearest even)
 *   kv F HS HEX...     -> stored | HEX...  (one KV-cache row of format F (fp32|fp16|int8), head size HS, stored
 *                                          then read back head by head: stored is fp16 bits, or int8 q... |
 *                                          scale HEX...; then the read-back binary32 values; or NONFINITE)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/crc32c.h"
#include "../src/kernels.h"
#include "../src/kv_cache.h"
#include "../src/numerics.h"

static float f_of(unsigned long b) {
    uint32_t u = (uint32_t)b;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static unsigned long bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* "kv F HS HEX...": one row stored in a cache of format F and read back (the rest of the line in strtok) */
static void kv_row(float *x, float *out) {
    const char *name = strtok(NULL, " \n");
    tp_kv_format f = !strcmp(name, "fp16") ? TP_KV_FP16 : !strcmp(name, "int8") ? TP_KV_INT8 : TP_KV_FP32;
    int hs = atoi(strtok(NULL, " \n")), n = 0;
    for (char *h; (h = strtok(NULL, " \n")) != NULL && n < 1024;) x[n++] = f_of(strtoul(h, NULL, 16));
    static float cache[2048]; /* one row of any format: at most 4·1024 bytes */
    tp_kv_cache c;
    tp_kv_cache_init(&c, f, 1, n, hs, cache);
    float *slot = tp_kv_cache_slot(&c, 0, x);
    if (slot != x) memcpy(slot, x, (size_t)n * sizeof *x);
    if (tp_kv_cache_store(&c, 0, slot) != TP_OK) {
        printf("NONFINITE\n");
        return;
    }
    if (f == TP_KV_FP16)
        for (int i = 0; i < n; i++) printf("%u ", (unsigned)c.f16[i]);
    if (f == TP_KV_INT8) {
        for (int i = 0; i < n; i++) printf("%d ", c.q[i]);
        printf("|");
        for (int h = 0; h < n / hs; h++) printf(" 0x%08lx", bits_of(c.scale[h]));
        printf(" ");
    }
    printf("|");
    for (int h = 0; h < n / hs; h++) {
        const float *r = tp_kv_cache_read(&c, 0, h, out);
        for (int i = 0; i < hs; i++) printf(" 0x%08lx", bits_of(r[i]));
    }
    printf("\n");
}

int main(void) {
    static char line[1 << 20];
    static uint8_t bytes[1 << 18];
    static float x[4096], s[4096];
    static int8_t q[4096];
    while (fgets(line, sizeof line, stdin)) {
        char *tok = strtok(line, " \n");
        if (!tok) continue;
        if (!strcmp(tok, "exp")) {
            printf("0x%08lx\n", bits_of(tp_expf(f_of(strtoul(strtok(NULL, " \n"), NULL, 16)))));
        } else if (!strcmp(tok, "f16")) {
            printf("0x%08lx\n", bits_of(tp_fp16_to_fp32((uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10))));
        } else if (!strcmp(tok, "crc")) {
            char *hex = strtok(NULL, " \n");
            size_t n = 0;
            if (hex && strcmp(hex, "-") != 0)
                for (; hex[2 * n] && hex[2 * n + 1]; n++) {
                    char pair[3] = {hex[2 * n], hex[2 * n + 1], 0};
                    bytes[n] = (uint8_t)strtoul(pair, NULL, 16);
                }
            printf("0x%08lx\n", (unsigned long)tp_crc32c(bytes, n, 0));
        } else if (!strcmp(tok, "act")) {
            int g = atoi(strtok(NULL, " \n")), n = 0;
            for (char *h; (h = strtok(NULL, " \n")) != NULL && n < 4096;) x[n++] = f_of(strtoul(h, NULL, 16));
            if (tp_quantize_vector(x, n, g, q, s)) { /* NaN or ±Inf: the coded refusal (§3a) */
                printf("NONFINITE\n");
                fflush(stdout);
                continue;
            }
            for (int i = 0; i < n; i++) printf("%d ", q[i]);
            printf("|");
            for (int i = 0; i < (n + g - 1) / g; i++) printf(" 0x%08lx", bits_of(s[i]));
            printf("\n");
        } else if (!strcmp(tok, "f16n")) {
            printf("%u\n", (unsigned)tp_fp32_to_fp16(f_of(strtoul(strtok(NULL, " \n"), NULL, 16))));
        } else if (!strcmp(tok, "kv")) {
            kv_row(x, s);
        } else {
            printf("?\n");
        }
        fflush(stdout);
    }
    return 0;
}
