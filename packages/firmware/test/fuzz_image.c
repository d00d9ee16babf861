/*
 * fuzz-image IMAGE N SEED: feeds N corrupted or truncated copies of a valid image to the verifier.
 * Each mutation flips, sets or deletes bytes, or truncates; every mutated image must be refused with a
 * status (never crash, never read out of bounds — run under ASan/UBSan), and the original must pass.
 * Prints "refused R of N" and one count per status; exits 1 if any mutated image was accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/image.h"

static unsigned long long state;
static unsigned rnd(void) { /* xorshift64*, as in the sampler */
    state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
    return (unsigned)((state * 0x2545F4914F6CDD1Dull) >> 32);
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *orig = malloc((size_t)size);
    if (!orig || fread(orig, 1, (size_t)size, f) != (size_t)size) return 2;
    fclose(f);
    long n = atol(argv[2]);
    state = strtoull(argv[3], NULL, 10) | 1u;
    tp_image img;
    if (tp_image_open(&img, orig, (size_t)size, 1) != TP_OK) {
        printf("the original image is refused\n");
        return 1;
    }
    long refused = 0, accepted = 0, counts[16] = {0};
    for (long i = 0; i < n; i++) {
        size_t len = (size_t)size;
        uint8_t *m = malloc(len); /* exact size: any overread is an ASan error */
        memcpy(m, orig, len);
        int changed = 0;
        switch (rnd() % 4) {
        case 0: { /* flip one bit */
            size_t at = rnd() % len;
            m[at] ^= (uint8_t)(1u << (rnd() % 8));
            changed = 1;
            break;
        }
        case 1: { /* set a few bytes */
            int k = 1 + (int)(rnd() % 4);
            for (int j = 0; j < k; j++) {
                size_t at = rnd() % len;
                uint8_t v = (uint8_t)rnd();
                changed |= m[at] != v;
                m[at] = v;
            }
            break;
        }
        case 2: /* truncate */
            len = rnd() % len;
            changed = 1;
            break;
        default: { /* corrupt a header word with an extreme value */
            size_t at = (rnd() % 64) * 4;
            uint32_t v = rnd() % 2 ? 0xFFFFFFFFu : rnd();
            uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
            changed = memcmp(m + at, le, 4) != 0;
            memcpy(m + at, le, 4);
        }
        }
        uint8_t *view = len ? malloc(len) : NULL;
        if (len) memcpy(view, m, len);
        tp_status s = tp_image_open(&img, view ? view : m, len, 1);
        if (s == TP_OK && changed) accepted++;
        if (s != TP_OK) refused++, counts[s]++;
        free(view);
        free(m);
    }
    printf("refused %ld of %ld, accepted-corrupt %ld\n", refused, n, accepted);
    for (int s = 1; s < 16; s++)
        if (counts[s]) printf("%s %ld\n", tp_status_name((tp_status)s), counts[s]);
    free(orig);
    return accepted ? 1 : 0;
}
