/*
 * tp-vectors: answers numerics questions line by line so the TS tests can check the C numerics against
 * the shared vectors (packages/core/src/numerics/vectors.json, packages/protocol/src/crc32c/vectors.json).
 *   exp HEX            -> HEX            (tp_expf of a binary32 bit pattern)
 *   f16 N              -> HEX            (binary16 N widened)
 *   crc HEXBYTES|-     -> HEX            (CRC-32C; "-" for no bytes)
 *   act G HEX...       -> q... | HEX...  (activation quantization with group G)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/crc32c.h"
#include "../src/kernels.h"
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
        } else {
            printf("?\n");
        }
        fflush(stdout);
    }
    return 0;
}
