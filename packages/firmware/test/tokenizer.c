/*
 * tp-tokenizer: runs src/tokenizer.c over a batch of cases for ts/tokenizer.test.ts (host) and
 * ts/tokenizer-rv32.test.ts (the same file built for rv32 under QEMU semihosting).
 *
 *   tp-tokenizer section FILE CASES OUT   the tokenizer from a section file (below)
 *   tp-tokenizer image IMAGE CASES OUT    the tokenizer of a weight image (verified first, every tensor CRC)
 *
 * Section file (little-endian): "TPTK", u32 vocab, u32 max_token_length, u32 bytes_len, then scores
 * f32[vocab], offsets u32[vocab + 1], sorted u32[vocab], bytes u8[bytes_len] — the image's tokenizer tensors.
 * CASES: records 'E' u8 flags (1 bos, 2 eos, 4: out holds flags >> 3 ids) u32 len bytes[len]  |  'D' i32 prev u32 n i32[n].
 * OUT, one record per case: E → u32 status, u32 n, i32[n];  D → u32 status, u32 n, then per decoded token
 * u32 len, bytes[len], u32 tp_tokenizer_printable's count.
 * Exit status: 0 when every case ran (statuses are data), 1 when the tokenizer does not load, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/image.h"
#include "../src/numerics.h"
#include "../src/tokenizer.h"

static uint8_t *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1u);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = n > 0 ? (size_t)n : 0u;
    return b;
}

static void put_u32(FILE *f, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, f);
}

static tp_status from_section(tp_tokenizer *t, const uint8_t *b, size_t size) {
    if (size < 16 || memcmp(b, "TPTK", 4) != 0) return TP_E_BAD_MAGIC;
    uint32_t vocab = tp_load_u32(b + 4), mtl = tp_load_u32(b + 8), nbytes = tp_load_u32(b + 12);
    size_t need = 16u + 4u * (size_t)vocab * 3u + 4u + nbytes;
    if (vocab > (1u << 24) || size != need) return TP_E_TRUNCATED;
    const uint8_t *scores = b + 16, *offsets = scores + 4u * vocab, *sorted = offsets + 4u * (vocab + 1u);
    return tp_tokenizer_init(t, vocab, mtl, scores, offsets, sorted + 4u * vocab, nbytes, sorted);
}

/* runs CASES[0..n) into out; 0 when the cases file parses */
static int run_cases(const tp_tokenizer *t, const uint8_t *c, size_t n, FILE *out) {
    size_t at = 0, cap = 0;
    int32_t *ids = NULL;
    int bad = 0;
    while (at < n && !bad) {
        uint8_t kind = c[at++];
        if (kind == 'E' && at + 5 <= n) {
            uint8_t flags = c[at];
            uint32_t len = tp_load_u32(c + at + 1);
            at += 5;
            if (len > n - at) {
                bad = 1;
                break;
            }
            /* flags bit 2: out holds exactly flags >> 3 ids; else TP_TOKENIZER_ENCODE_CAP(len) */
            size_t room = flags & 4 ? (size_t)(flags >> 3) : TP_TOKENIZER_ENCODE_CAP(len);
            if (TP_TOKENIZER_ENCODE_CAP(len) + 32u > cap) {
                cap = TP_TOKENIZER_ENCODE_CAP(len) + 32u;
                free(ids);
                ids = malloc(cap * sizeof *ids);
                if (!ids) {
                    bad = 1;
                    break;
                }
            }
            size_t count = 0;
            tp_status s =
                tp_tokenizer_encode(t, (const char *)c + at, len, flags & 1, (flags >> 1) & 1, ids, room, &count);
            at += len;
            put_u32(out, (uint32_t)s);
            put_u32(out, (uint32_t)count);
            for (size_t i = 0; i < count; i++) put_u32(out, (uint32_t)ids[i]);
        } else if (kind == 'D' && at + 8 <= n) {
            int32_t prev = (int32_t)tp_load_u32(c + at);
            uint32_t count = tp_load_u32(c + at + 4);
            at += 8;
            if (count > (n - at) / 4u) {
                bad = 1;
                break;
            }
            tp_status s = TP_OK;
            uint32_t done = 0;
            while (done < count && s == TP_OK) {
                const uint8_t *piece;
                size_t len;
                int32_t token = (int32_t)tp_load_u32(c + at + 4u * done);
                s = tp_tokenizer_decode(t, prev, token, &piece, &len);
                if (s != TP_OK) break;
                done++;
                prev = token;
            }
            put_u32(out, (uint32_t)s);
            put_u32(out, done);
            prev = (int32_t)tp_load_u32(c + at - 8);
            for (uint32_t i = 0; i < done; i++) {
                const uint8_t *piece;
                size_t len;
                int32_t token = (int32_t)tp_load_u32(c + at + 4u * i);
                tp_tokenizer_decode(t, prev, token, &piece, &len);
                put_u32(out, (uint32_t)len);
                fwrite(piece, 1, len, out);
                put_u32(out, (uint32_t)tp_tokenizer_printable(piece, len));
                prev = token;
            }
            at += 4u * count;
        } else {
            bad = 1;
        }
    }
    free(ids);
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "section") != 0 && strcmp(argv[1], "image") != 0)) {
        printf("usage: tp-tokenizer section|image FILE CASES OUT\n");
        return 2;
    }
    size_t size, ncases;
    uint8_t *src = slurp(argv[2], &size), *cases = slurp(argv[3], &ncases);
    if (!src || !cases) {
        printf("cannot read %s or %s\n", argv[2], argv[3]);
        free(src);
        free(cases);
        return 2;
    }
    tp_tokenizer t;
    tp_status s;
    if (strcmp(argv[1], "section") == 0) {
        s = from_section(&t, src, size);
    } else {
        static tp_image img;
        s = tp_image_open(&img, src, size, 1);
        if (s == TP_OK) s = tp_image_tokenizer(&img, &t);
    }
    int rc = 0;
    FILE *out = s == TP_OK ? fopen(argv[4], "wb") : NULL;
    if (s != TP_OK) {
        printf("%s: %s\n", argv[2], tp_status_name(s));
        rc = 1;
    } else if (!out) {
        printf("cannot write %s\n", argv[4]);
        rc = 2;
    } else if (run_cases(&t, cases, ncases, out) != 0) {
        printf("%s: malformed cases file\n", argv[3]);
        rc = 2;
    }
    if (out) fclose(out);
    free(src);
    free(cases);
    return rc;
}
