/*
 * libFuzzer target: a standalone ring's census (src/ring.c) and board 0's driver (src/standalone.c,
 * standalone_tok.c, sink.c) fed what the other boards send. Images (ts/fuzz-images.ts, in $TP_FUZZ_DATA or
 * test/fuzz/data): ring-head.img (layer 0 with the embedding, the tokenizer section and story defaults) as
 * board 0 D and tail.img (layer 1 with the whole classifier) as the last board B, both real tp_servers joined
 * as a ring (D drives, B runs tp_ring_step) over real links, so the census goes round and stories run; or
 * ring-whole.img alone (a ring of one: no links, results through tp_server.deliver). Byte 0 is the mode:
 *   bit 0 a ring of one, bit 1 no tokenizer (prompts and output are token ids), bit 2 stories forever with the
 *   image's steps (else 1 + (bits 4-5) stories of 5 positions: the compute is most of the time), bit 3 the console sink behind the checking sink, bit 6 one story at a time,
 *   bit 7 the operations start once the census has come back (the ring is ready) rather than at power-up;
 *   with bit 2, bits 4-5 wire the ring wrong: 2 B holds ring-whole.img (D refuses it), 3 B's next link
 *   expects board 7 (B refuses D and answers the census with an ERROR).
 * The rest is operations, each a tag byte and its operand:
 *   0  n, n bytes   the last board sends a message to D (B's down link; alone: tp_server.deliver)
 *   1  t            the clock moves t ms; every board steps
 *   2  k, v         the ring's true census (D's entry, B's) with byte k xored with v, sent as by 0
 *   3  n, n bytes   a console line (tp_driver_line)
 *   4  n, n bytes   board 1 sends a message up D's down link (as ERRORs come back)
 *   5  t            B goes silent (t bit 0), answers again (bit 0 clear) and restarts with a new session (bit 1)
 *   6  n, n bytes   tp_ring_census_read / check alone: max (% 65), n_layers, vocab (u16), count, why_size,
 *                   then the census; exact-size buffers (ASan); read's count fits max and the length
 *   7  n, n bytes   raw line bytes into D's upstream link (garbage, cut frames)
 *   8  n, n bytes   D's next link carries a message to B (tp_ring_step: a census of any count, any kind)
 * The checking sink aborts when a story is written or ended that has not begun (or has ended), begins twice,
 * more stories run than streams, or the bytes written are not what the tokenizer's decode gave (the ids
 * without one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/board.h"
#include "../../src/standalone_tok.h"

#ifndef TP_FUZZ_DATA
#define TP_FUZZ_DATA "test/fuzz/data"
#endif

typedef struct {
    uint8_t b[64 * 1024];
    size_t n;
} line;

typedef struct {
    uint8_t *bytes;
    size_t size;
    tp_image img;
    tp_story_defaults story;
    tp_tokenizer tok;
} image_file;

static image_file head, tail, whole;
static uint32_t clock_ms;
static line to_b_down, to_b_link, to_d_down, to_d_link; /* D.link → B.down, D.down → B.link, and back */
static tp_server D, B;
static tp_driver drv;
static tp_stage stages_d[2], stages_b[2];
static void *arenas[4];
static size_t arena_bytes;
static float logits_d[512], logits_b[512];
static int32_t sample_index[512], sample_scratch[512];
static int pumps, ring, silent, use_tok, use_console, restarts;
static tp_console console;
static volatile uint8_t seen; /* every byte handed out is read: ASan checks the range */

static void load(image_file *f, const char *name) {
    char path[512];
    const char *dir = getenv("TP_FUZZ_DATA");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : TP_FUZZ_DATA, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) fprintf(stderr, "fuzz_ring: cannot open %s\n", path), abort();
    fseek(fp, 0, SEEK_END);
    f->size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->bytes = malloc(f->size);
    if (fread(f->bytes, 1, f->size, fp) != f->size) abort();
    fclose(fp);
    if (tp_board_open(&f->img, f->bytes, f->size) != TP_OK) abort();
    if (f->img.has_story && tp_image_story(&f->img, &f->story) != TP_OK) abort();
    if (f->img.has_tokenizer && tp_image_tokenizer(&f->img, &f->tok) != TP_OK) abort();
}

static void read_all(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) seen ^= b[i];
}

static void put(void *port, const uint8_t *bytes, size_t n) {
    line *l = port;
    if (n > sizeof l->b - l->n) n = sizeof l->b - l->n;
    memcpy(l->b + l->n, bytes, n);
    l->n += n;
}
static uint32_t now(void *port) { return (void)port, clock_ms; }

static void deliver(line *l, tp_link *to) {
    static uint8_t tmp[sizeof l->b];
    size_t n = l->n;
    if (!n) return;
    memcpy(tmp, l->b, n);
    l->n = 0;
    tp_link_rx(to, tmp, n);
}

static void move_bytes(void) {
    if (!ring) return;
    if (silent) to_b_link.n = to_b_down.n = 0; /* B hears nothing */
    deliver(&to_b_down, &B.down);
    deliver(&to_b_link, &B.link);
    deliver(&to_d_down, &D.down);
    deliver(&to_d_link, &D.link);
}

static void poll_all(void) {
    if (!ring) return;
    tp_link_poll(&D.link), tp_link_poll(&D.down);
    if (!silent) tp_link_poll(&B.link), tp_link_poll(&B.down);
}

/* the boards' pump: moves bytes (never steps a board: no re-entry); a budget per step ends a wait */
static int pump(void *port, int wait_ms) {
    (void)port, (void)wait_ms;
    clock_ms += 1;
    move_bytes();
    poll_all();
    return ++pumps > 64;
}

static void step(void) {
    pumps = 0;
    move_bytes();
    poll_all();
    tp_driver_step(&drv);
    if (ring && !silent) pumps = 0, tp_ring_step(&B);
}

/* ---- the checking sink ---- */

static int active[TP_SERVE_MAX_STREAMS], last_begun;
static int (*real_decode)(void *tok, int32_t prev, int32_t token, const uint8_t **bytes, size_t *len);
static const uint8_t *decoded;
static size_t decoded_len;

static int decode(void *tok, int32_t prev, int32_t token, const uint8_t **bytes, size_t *len) {
    int r = real_decode(tok, prev, token, bytes, len);
    if (r == 0 && (token < 0 || token >= drv.s->stages[0].img->config.vocab_size)) abort();
    decoded = r == 0 ? *bytes : NULL, decoded_len = r == 0 ? *len : 0;
    return r;
}

static int slot(int story) {
    for (int i = 0; i < TP_SERVE_MAX_STREAMS; i++)
        if (active[i] == story) return i;
    return -1;
}

static void k_begin(tp_sink *k, int story, int lanes) {
    (void)k;
    if (story <= last_begun || lanes < 1 || lanes > TP_SERVE_MAX_STREAMS) abort();
    int i = slot(0);
    if (i < 0) abort(); /* more stories at once than streams */
    active[i] = story, last_begun = story;
    if (use_console) console.sink.begin(&console.sink, story, lanes);
}

static void k_write(tp_sink *k, int story, const uint8_t *bytes, size_t n) {
    (void)k;
    if (story <= 0 || slot(story) < 0 || n == 0) abort();
    if (use_tok && (bytes != decoded || n != decoded_len)) abort();
    if (!use_tok && (n >= 16 || bytes[n - 1] != ' ')) abort();
    read_all(bytes, n);
    if (use_console) console.sink.write(&console.sink, story, bytes, n);
}

static void k_end(tp_sink *k, int story, int tokens, uint32_t ms, const char *why) {
    (void)k;
    int i = story > 0 ? slot(story) : -1;
    if (i < 0 || tokens < 0) abort();
    active[i] = 0;
    if (why) read_all((const uint8_t *)why, strlen(why));
    if (use_console) console.sink.end(&console.sink, story, tokens, ms, why);
}

static void k_status(tp_sink *k, const char *text) {
    (void)k;
    read_all((const uint8_t *)text, strlen(text));
    if (use_console) console.sink.status(&console.sink, text);
}

static tp_sink checker = {NULL, k_begin, k_write, k_end, k_status};
static void console_out(void *ctx, const uint8_t *bytes, size_t n) {
    (void)ctx, read_all(bytes, n);
    if (getenv("TP_FUZZ_RING_TRACE")) fwrite(bytes, 1, n, stderr); /* replaying one input: what board 0 said */
}

/* ---- the boards ---- */

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
                  line *down_out, float *logits) {
    memset(s, 0, sizeof *s);
    arena_pool pool = {arena, 2};
    int streams = 2;
    if (tp_board_stages(&f->img, stages, &streams, take_arena, &pool) != TP_OK || streams != 2) abort();
    s->link.port = up_out, s->link.write = put, s->link.now_ms = now;
    s->down.port = down_out, s->down.write = put, s->down.now_ms = now;
    s->pump = pump;
    if (f->img.has_classifier) s->sample_index = sample_index, s->sample_scratch = sample_scratch;
    tp_server_init(s, stages, 2, &f->img, TP_OK, logits, index, (uint16_t)(0x100 + index + 16 * restarts));
}

static int miswired; /* 2: B holds the whole model; 3: B's next link expects board 7 */
static void start_b(void) {
    board(&B, stages_b, arenas + 2, miswired == 2 ? &whole : &tail, 1, &to_d_down, &to_d_link, logits_b);
    tp_ring_join(&B, (uint16_t)(0x201 + 16 * restarts));
    if (miswired == 3) B.down.hello[TP_HELLO_OFF_BOARD] = 7; /* as a port told the wrong next board */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    load(&head, "ring-head.img"), load(&tail, "tail.img"), load(&whole, "ring-whole.img");
    arena_bytes = tp_stage_arena_bytes(&whole.img);
    for (int k = 0; k < 4; k++)
        if (posix_memalign(&arenas[k], 16, arena_bytes) != 0) abort();
    if (whole.img.config.vocab_size > 512 || !head.img.has_tokenizer || !head.img.has_story) abort();
    return 0;
}

/* op 6: the census reader and check on their own, with exact-size buffers */
static void census_alone(const uint8_t *p, size_t n) {
    if (n < 6) return;
    int max = p[0] % (TP_RING_MAX_BOARDS + 1), n_layers = p[1], vocab = p[2] | p[3] << 8, count_in = p[4];
    size_t why_size = p[5];
    tp_ring_entry *e = malloc(max ? (size_t)max * sizeof *e : 1);
    char *why = malloc(why_size ? why_size : 1);
    memset(e, 0, max ? (size_t)max * sizeof *e : 1);
    int count = tp_ring_census_read(p + 6, n - 6, e, max);
    if (count > max || (count >= 0 && n - 6 != TP_RING_HEAD_BYTES + (size_t)count * TP_RING_ENTRY_BYTES)) abort();
    if (count < 0) count = max ? count_in % (max + 1) : 0;
    if (count > 0 || max > 0) {
        int r = tp_ring_census_check(e, count, n_layers, vocab, why, why_size);
        if (r == 0 && (e[count - 1].layer_to != n_layers || e[count - 1].vocab_to != (uint32_t)vocab)) abort();
        if (r != 0 && why_size > 0) read_all((const uint8_t *)why, strlen(why));
    }
    free(e), free(why);
}

static void send_up(tp_link *l, const uint8_t *msg, size_t n) {
    for (int k = 0; k < 8 && tp_link_send(l, msg, n) == TP_E_BUSY; k++) clock_ms += 5, step();
}

/* a message from the last board: over B's down link, or (alone) as the stage's result */
static void from_last(const uint8_t *msg, size_t n) {
    if (!ring) D.deliver(D.deliver_ctx, msg, n < 224 ? n : 224);
    else if (!silent) send_up(&B.down, msg, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 16 * 1024) return 0;
    uint8_t mode = data[0];
    ring = !(mode & 1), use_tok = !(mode & 2), use_console = (mode & 8) != 0;
    silent = restarts = 0, clock_ms = 1000, last_begun = 0;
    memset(active, 0, sizeof active);
    to_b_down.n = to_b_link.n = to_d_down.n = to_d_link.n = 0;
    image_file *f = ring ? &head : &whole;
    board(&D, stages_d, arenas, f, 0, &to_b_down, &to_b_link, logits_d);
    miswired = mode & 4 ? mode >> 4 & 3 : 0;
    if (ring) tp_ring_join(&D, 0x200), start_b();
    tp_driver_config cfg = {1.0f, 0.9f, 1, 8, 2, NULL, 0, NULL, NULL, NULL};
    tp_driver_use_story(&cfg, &f->story);
    if (use_tok) {
        tp_driver_use_tokenizer(&cfg, &f->tok);
        real_decode = cfg.decode, cfg.decode = decode;
    } else cfg.prompt = "1 4 5";
    if (!(mode & 4)) cfg.stories = 1 + (mode >> 4 & 3), cfg.steps = 5;
    if (mode & 64) cfg.lanes = 1;
    tp_console_init(&console, console_out, NULL);
    tp_driver_init(&drv, &D, &cfg, &checker);
    for (int k = 0; k < 40 && ring && !(D.link.open && D.down.open); k++) clock_ms += 30, step(); /* handshakes */
    for (int k = 0; k < 60 && (mode & 128) && drv.state != TP_RING_READY; k++) clock_ms += 30, step();
    size_t at = 1;
    while (at < size) {
        uint8_t op = data[at++] % 9;
        if (at >= size) break;
        size_t n = data[at++];
        if (op == 1) clock_ms += (uint32_t)n;
        else if (op == 2 && ring) {
            uint8_t c[TP_RING_HEAD_BYTES + 2 * TP_RING_ENTRY_BYTES], b1[TP_RING_HEAD_BYTES + TP_RING_ENTRY_BYTES];
            tp_ring_census_start(c, D.link.hello), tp_ring_census_start(b1, B.link.hello);
            memcpy(c + TP_RING_HEAD_BYTES + TP_RING_ENTRY_BYTES, b1 + TP_RING_HEAD_BYTES, TP_RING_ENTRY_BYTES);
            c[3] = 2;
            if (at < size) c[n % sizeof c] ^= data[at++];
            from_last(c, sizeof c);
        } else if (op == 5 && ring) {
            silent = (int)(n & 1);
            if (n & 2) restarts++, start_b();
        } else if (op != 1 && op != 2 && op != 5) {
            if (n > size - at) n = size - at;
            const uint8_t *p = data + at;
            at += n;
            if (op == 0) from_last(p, n);
            else if (op == 3) tp_driver_line(&drv, (const char *)p, n);
            else if (op == 4 && ring && !silent) send_up(&B.link, p, n);
            else if (op == 6) census_alone(p, n);
            else if (op == 7 && ring) tp_link_rx(&D.link, p, n);
            else if (op == 8 && ring) send_up(&D.down, p, n);
        }
        step();
    }
    for (int k = 0; k < 8; k++) clock_ms += 2, step();
    return 0;
}
