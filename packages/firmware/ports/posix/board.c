/*
 * tinypipe-board: a simulated board on the host. Its "flash" is the image file, mmap'd read-only.
 * With options (`--pty --image PATH …`) it serves the wire protocol on a pseudo-terminal (pty_board.c).
 * Without, it runs this debug command loop on stdin/stdout (one binary request, one binary answer),
 * which the numerics tests use to drive single stage operations (embed, forward, classify).
 *
 *   request:  u8 command, u32 length (LE), payload
 *   answer:   u8 status (0 = ok, else tp_status), u32 length, payload
 *
 *   'O' path             open + verify the image  -> i32[7] dim, layer_from, layer_to, embedding,
 *                                                     classifier, vocab_from, vocab_to
 *                                                  (error: the status name and the failing tensor, text)
 *   'E' u32 token        -> f32[dim] x
 *   'F' u32 pos, f32[dim] x  -> f32[dim] x after this stage's layers, u32[layers] hashes
 *   'C' f32[dim] x       -> f32[vocab_to - vocab_from] logits
 *   'Q'                  quit
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/board.h"

#define MAX_PAYLOAD (64u << 20)

static tp_image image;
static tp_stage stage;
static void *arena;
static int ready;

static int read_all(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read(0, p, n);
        if (r <= 0) return -1;
        p += r, n -= (size_t)r;
    }
    return 0;
}

static void write_all(const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(1, p, n);
        if (w <= 0) exit(1);
        p += w, n -= (size_t)w;
    }
}

static void answer(uint8_t status, const void *a, size_t na, const void *b, size_t nb) {
    uint32_t len = (uint32_t)(na + nb);
    uint8_t head[5] = {status, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    write_all(head, 5);
    if (na) write_all(a, na);
    if (nb) write_all(b, nb);
}

static void fail(tp_status s, const char *what) {
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%s%s%s", tp_status_name(s), what ? ": " : "", what ? what : "");
    answer((uint8_t)s, msg, (size_t)n, NULL, 0);
}

/* tp_board_alloc_fn: the one arena, allocated when an image opens (its KV cache lives here); the previous
 * image's goes */
static void *replace_arena(void *ctx, size_t bytes) {
    void **slot = ctx;
    free(*slot);
    *slot = NULL;
    if (posix_memalign(slot, 16, bytes) != 0) *slot = NULL;
    return *slot;
}

static void open_image(const uint8_t *path, uint32_t len) {
    char name[4096];
    if (len >= sizeof name) return fail(TP_E_ARG, "path too long");
    memcpy(name, path, len);
    name[len] = 0;
    int fd = open(name, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) return fail(TP_E_ARG, "cannot open the image file");
    const uint8_t *bytes = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0); /* the "flash" */
    close(fd);
    if (bytes == MAP_FAILED) return fail(TP_E_ARG, "cannot map the image file");
    ready = 0; /* a refused image leaves no stage behind */
    int streams = 1;
    tp_status s = tp_board_init(&image, bytes, (size_t)sb.st_size, &stage, &streams, replace_arena, &arena);
    if (s == TP_E_LIMITS) return fail(s, "beyond this board's TP_SERVE_MAX_* (docs/image-format.md 6a)");
    if (s == TP_E_NO_MEMORY) return fail(s, NULL);
    if (s != TP_OK) return fail(s, image.failed_tensor >= 0 ? tp_image_tensor_name(&image, image.failed_tensor) : NULL);
    ready = 1;
    size_t rest;
    const uint8_t *first = tp_image_first_weights(&image, &rest);
    int32_t info[9] = {image.config.dim,     image.layer_from, image.layer_to, image.has_embedding,
                       image.has_classifier, image.vocab_from, image.vocab_to, (int32_t)(first - image.base),
                       (int32_t)rest};
    answer(0, info, sizeof info, NULL, 0);
}

int serve_pty(int argc, char **argv); /* pty_board.c: the wire protocol on a PTY */

int main(int argc, char **argv) {
    if (argc > 1) return serve_pty(argc, argv);
    static uint8_t payload[MAX_PAYLOAD];
    static float x[1 << 16];
    static float out[1 << 20];
    static uint32_t hashes[1024];
    for (;;) {
        uint8_t head[5];
        if (read_all(head, 5) != 0) return 0;
        uint32_t len = (uint32_t)head[1] | (uint32_t)head[2] << 8 | (uint32_t)head[3] << 16 | (uint32_t)head[4] << 24;
        if (len > MAX_PAYLOAD) return 2;
        if (read_all(payload, len) != 0) return 0;
        const int dim = ready ? image.config.dim : 0;
        switch (head[0]) {
        case 'O': open_image(payload, len); break;
        case 'E': {
            uint32_t token;
            if (!ready || len != 4) {
                fail(TP_E_ARG, "E needs an open image and a u32 token");
                break;
            }
            memcpy(&token, payload, 4);
            tp_status s = tp_stage_embed(&stage, (int)token, x);
            if (s != TP_OK)
                fail(s, s == TP_E_NONFINITE ? "the embedding row is not finite"
                                            : "token out of range or no embedding on this stage");
            else answer(0, x, (size_t)dim * 4, NULL, 0);
            break;
        }
        case 'F': {
            uint32_t pos;
            if (!ready || len != 4 + (uint32_t)dim * 4) {
                fail(TP_E_ARG, "F needs u32 pos and f32[dim]");
                break;
            }
            memcpy(&pos, payload, 4);
            memcpy(x, payload + 4, (size_t)dim * 4);
            tp_status s = tp_stage_forward(&stage, x, (int)pos, hashes);
            if (s != TP_OK)
                fail(s, s == TP_E_NONFINITE ? "NaN or infinity in the activations (docs/numerics.md 3a)"
                                            : "position out of range");
            else answer(0, x, (size_t)dim * 4, hashes, (size_t)(image.layer_to - image.layer_from) * 4);
            break;
        }
        case 'C': {
            if (!ready || len != (uint32_t)dim * 4) {
                fail(TP_E_ARG, "C needs f32[dim]");
                break;
            }
            memcpy(x, payload, (size_t)dim * 4);
            tp_status s = tp_stage_classify(&stage, x, out);
            if (s != TP_OK)
                fail(s, s == TP_E_NONFINITE ? "NaN or infinity in the activations or logits (docs/numerics.md 3a)"
                                            : "this stage holds no classifier");
            else answer(0, out, (size_t)(image.vocab_to - image.vocab_from) * 4, NULL, 0);
            break;
        }
        case 'Q': return 0;
        default: fail(TP_E_ARG, "unknown command");
        }
    }
}
