/*
 * libFuzzer target: a board's service (src/serve.c, messages.c) behind real links, alone or in a chain.
 * Images: {whole,head,tail}.img (ts/fuzz-images.ts: a two-layer model; head = layer 0 with the embedding,
 * tail = layer 1 with the whole classifier) in $TP_FUZZ_DATA (ts/fuzz.test.ts writes them fresh, in the current
 * image format), else in test/fuzz/data. The input's first byte picks the topology:
 *   bit 0 clear: host ⇄ board (whole.img)
 *   bit 0 set:   host → A (head.img, TP_CHAIN_NEXT) → B (tail.img, TP_CHAIN_HOST) → host
 *   value 2 (mod 4): the chain, B silent from the start (A reports NEXT_SILENT)
 *   value 3 (mod 4): the chain, B holding the whole model (A refuses it: NEXT_REFUSED)
 * The host ends are tp_links opening to each board, so messages arrive past the handshake and the ARQ.
 * The rest is operations, each a tag byte and its operand:
 *   0  n, n bytes   the host sends a message (docs/protocol.md §5) to the first board
 *   1  t            the clock moves t ms; every link polled, every board steps
 *   2  n, n bytes   raw line bytes into the first board's up link
 *   3  n, n bytes   raw line bytes into the last board's link toward the host (chain: B's down)
 *   4  n, n bytes   chain: B sends a message up to A (as a board further down passes an ERROR back)
 *   5  t            chain: B goes silent (t odd) or answers again (t even)
 * then every board runs until its line is quiet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/board.h"

#ifndef TP_FUZZ_DATA
#define TP_FUZZ_DATA "test/fuzz/data"
#endif

/* a line: bytes written by one end, read by the other */
typedef struct {
    uint8_t b[64 * 1024];
    size_t n;
} line;

typedef struct {
    uint8_t *bytes;
    size_t size;
    tp_image img;
} image_file;

static image_file whole, head, tail;
static uint32_t clock_ms;
static line host_to_a, a_to_host, a_to_b, b_to_a, b_to_host, host_to_b;
static tp_server A, B;
static tp_link host_a, host_b; /* the host's links: to the first board, from the last */
static tp_stage stages_a[2], stages_b[2];
static void *arenas[4];
static size_t arena_bytes; /* each of arenas[]: the whole image's arena, the largest */
static float logits[512];
static int32_t sample_index[512], sample_scratch[512];
static int pumps;

static void load(image_file *f, const char *name) {
    char path[512];
    const char *dir = getenv("TP_FUZZ_DATA");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : TP_FUZZ_DATA, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) fprintf(stderr, "fuzz_serve: cannot open %s\n", path), abort();
    fseek(fp, 0, SEEK_END);
    f->size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->bytes = malloc(f->size);
    if (fread(f->bytes, 1, f->size, fp) != f->size) abort();
    fclose(fp);
    if (tp_board_open(&f->img, f->bytes, f->size) != TP_OK) abort();
}

static void put(void *port, const uint8_t *bytes, size_t n) {
    line *l = port;
    if (n > sizeof l->b - l->n) n = sizeof l->b - l->n; /* a full line loses bytes, as a UART FIFO does */
    memcpy(l->b + l->n, bytes, n);
    l->n += n;
}
static uint32_t now(void *port) { return (void)port, clock_ms; }

static void deliver(line *l, tp_link *to) {
    if (!l->n) return;
    static uint8_t tmp[sizeof l->b];
    size_t n = l->n;
    memcpy(tmp, l->b, n);
    l->n = 0;
    tp_link_rx(to, tmp, n);
}

static int chain, silent; /* silent: B neither hears nor steps */

static void move_bytes(void) {
    deliver(&host_to_a, &A.link);
    deliver(&a_to_host, &host_a);
    if (silent) a_to_b.n = 0;
    if (chain) {
        deliver(&a_to_b, &B.link);
        deliver(&b_to_a, &A.down);
        deliver(&b_to_host, &host_b);
        deliver(&host_to_b, &B.down);
    }
    tp_link_poll(&host_a);
    if (chain) tp_link_poll(&host_b);
    size_t n; /* the host reads whatever arrives */
    while (tp_link_next(&host_a, &n)) tp_link_release(&host_a);
    if (chain)
        while (tp_link_next(&host_b, &n)) tp_link_release(&host_b);
}

/* the boards' pump: moves bytes (never steps a board: no re-entry); a budget per step ends a wait */
static int pump(void *port, int wait_ms) {
    (void)port, (void)wait_ms;
    clock_ms += 1;
    move_bytes();
    tp_link_poll(&A.link);
    if (chain) tp_link_poll(&A.down);
    if (chain && !silent) tp_link_poll(&B.link), tp_link_poll(&B.down);
    return ++pumps > 64;
}

static void step(void) {
    pumps = 0;
    move_bytes();
    tp_link_poll(&A.link);
    tp_server_step(&A);
    if (chain) tp_link_poll(&A.down);
    if (chain && !silent) {
        tp_link_poll(&B.link), tp_link_poll(&B.down);
        pumps = 0;
        tp_server_step(&B);
    }
}

/* tp_board_stages' memory: the arenas allocated once in LLVMFuzzerInitialize, in turn. */
typedef struct {
    void **next;
    int left;
} arena_pool;

static void *take_arena(void *ctx, size_t bytes) {
    arena_pool *p = ctx;
    if (p->left == 0 || bytes > arena_bytes) return NULL;
    p->left--;
    return *p->next++;
}

static void board(tp_server *s, tp_stage *stages, void **arena, image_file *f, uint16_t index, line *up_out,
                  line *down_out, int sampler) {
    memset(s, 0, sizeof *s);
    arena_pool pool = {arena, 2};
    int streams = 2;
    if (tp_board_stages(&f->img, stages, &streams, take_arena, &pool) != TP_OK || streams != 2) abort();
    s->link.port = up_out, s->link.write = put, s->link.now_ms = now;
    s->down.port = down_out, s->down.write = put, s->down.now_ms = now;
    s->pump = pump;
    if (sampler) s->sample_index = sample_index, s->sample_scratch = sample_scratch;
    tp_server_init(s, stages, 2, &f->img, TP_OK, logits, index, (uint16_t)(0x100 + index));
}

static void host_link(tp_link *l, line *out, const tp_image *img, uint16_t index) {
    uint8_t expect[TP_HELLO_BYTES];
    tp_hello_expect(expect, index, img->fingerprint, (uint16_t)img->layer_from, 0xffff);
    tp_link_init_opening(l, expect, 0x4000);
    l->port = out, l->write = put, l->now_ms = now;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    load(&whole, "whole.img"), load(&head, "head.img"), load(&tail, "tail.img");
    arena_bytes = tp_stage_arena_bytes(&whole.img);
    for (int k = 0; k < 4; k++)
        if (posix_memalign(&arenas[k], 16, arena_bytes) != 0) abort();
    if (whole.img.config.vocab_size > 512) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 32 * 1024) return 0;
    chain = data[0] % 4 != 0;
    silent = data[0] % 4 == 2;
    image_file *last = data[0] % 4 == 3 ? &whole : &tail;
    clock_ms = 1000;
    host_to_a.n = a_to_host.n = a_to_b.n = b_to_a.n = b_to_host.n = host_to_b.n = 0;
    if (chain) {
        board(&A, stages_a, arenas, &head, 0, &a_to_host, &a_to_b, 0);
        tp_server_chain(&A, TP_CHAIN_NEXT, 0x200);
        board(&B, stages_b, arenas + 2, last, 1, &b_to_a, &b_to_host, 1);
        tp_server_chain(&B, TP_CHAIN_HOST, 0x201);
        host_link(&host_b, &host_to_b, &last->img, 1);
    } else {
        board(&A, stages_a, arenas, &whole, 0, &a_to_host, NULL, 1);
    }
    host_link(&host_a, &host_to_a, chain ? &head.img : &whole.img, 0);
    for (int k = 0; k < 40 && !(host_a.open && (!chain || silent || host_b.open)); k++)
        clock_ms += 30, step(); /* handshakes */
    size_t at = 1;
    while (at < size) {
        uint8_t op = data[at++] % 6;
        if (at >= size) break;
        size_t n = data[at++];
        if (op == 1 || op == 5) {
            if (op == 5 && chain) silent = (int)(n & 1);
            clock_ms += (uint32_t)n;
            step();
            continue;
        }
        if (n > size - at) n = size - at;
        if (op == 0) {
            for (int k = 0; k < 8 && tp_link_send(&host_a, data + at, n) == TP_E_BUSY; k++) clock_ms += 5, step();
        } else if (op == 2) {
            tp_link_rx(&A.link, data + at, n);
        } else if (op == 3) {
            tp_link_rx(chain ? &B.down : &A.link, data + at, n);
        } else if (chain) {
            tp_link_send(&B.link, data + at, n);
        }
        at += n;
        step();
    }
    for (int k = 0; k < 16; k++) clock_ms += 2, step();
    return 0;
}
