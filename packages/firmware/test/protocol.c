/*
 * tp-protocol: the C wire protocol against docs/vectors/protocol.json (driven line by line by
 * ts/protocol-vectors.test.ts, protocol-harness.test.ts), and a fuzzer for the receiver.
 *   cobs HEX|-                      -> HEX           (COBS encode)
 *   uncobs HEX                      -> HEX | error
 *   frame T SESSION SEQ ACK SACK HEX|- -> HEX        (wire bytes)
 *   block HEX                       -> frame T SESSION SEQ ACK SACK HEX|- | drop REASON
 *   parse HEX                       -> ok KIND STREAM POS TOKEN FLAGS SAMPLE_FROM N BUDGET_MS MAX BUCKET TARGET
 *                                      | refused (MAX: the f32's bits in hex; TARGET: DRAW's LEB128 bytes, or -)
 *                                      (tp_msg_parse: the messages a board takes)
 *   token STREAM POS TOKEN          -> HEX           (tp_msg_token)
 *   slice-max STREAM POS INDEX BITS -> HEX           (tp_msg_slice_max; BITS: the value's f32 bits, hex)
 *   slice-hist T P BELOW N L…       -> ARGMAX TOP COUNT REST M…  (tp_slice_scale, _argmax, _histogram over N logits
 *                                      at temperature T, topp P — floats as f32 bits in hex; REST in LEB128 hex)
 *   slice-draw T BUCKET TARGET N L… -> ROW           (tp_slice_draw at the slice's max; TARGET in LEB128 hex)
 *   stats B F C FO FI BO BI RT DR   -> HEX           (tp_msg_stats, the board's counters)
 *   calibration V1 … V23 PORT|-     -> HEX           (tp_msg_calibration: tp_calibration's fields in order)
 *   hello-layout                    -> PROTOCOL BYTES OFF_PROTOCOL OFF_ROLE … OFF_BUILD (link.h's TP_HELLO_*, in
 *                                      the order of docs/vectors/protocol.json helloLayout.offsets)
 *   hello-board B FP LF LT VF VT STREAMS CAPS BUILD -> HEX (tp_hello_board + tp_hello_set_build)
 *   hello-check HOST_HEX BOARD_HEX  -> STATUS WHY    (tp_hello_check)
 *   fuzz N SEED                     -> ok delivered=D dropped=X bad=0
 *     N frames with patterned payloads, half of them mutated (bit flips, cut, spliced, garbage), pushed
 *     through one receiver in random chunks; `bad` counts delivered payloads that are not a sent one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/link/frame.h"
#include "../src/link/link.h"
#include "../src/link/messages.h"
#include "../src/sampler.h"

static uint8_t bytes[1 << 16], out[1 << 17];
static char line[1 << 18];

static size_t unhex(const char *h, uint8_t *b) {
    size_t n = 0;
    if (!h || !strcmp(h, "-")) return 0;
    for (; h[2 * n] && h[2 * n + 1] && h[2 * n] != '\n'; n++) {
        char pair[3] = {h[2 * n], h[2 * n + 1], 0};
        b[n] = (uint8_t)strtoul(pair, NULL, 16);
    }
    return n;
}

static void puthex(const uint8_t *b, size_t n) {
    if (!n) fputc('-', stdout);
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static uint32_t rng = 1;
static uint32_t next(void) { /* xorshift32: plenty for choosing mutations */
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

static unsigned long delivered, bad;
static void on_fuzz_frame(void *ctx, const tp_frame *f) {
    (void)ctx;
    delivered++;
    /* a sent payload: u32 index, then bytes (index * 131 + k * 7) & 0xff */
    if (f->length < 4) return;
    uint32_t idx = (uint32_t)f->payload[0] | (uint32_t)f->payload[1] << 8 | (uint32_t)f->payload[2] << 16 |
                   (uint32_t)f->payload[3] << 24;
    for (size_t k = 4; k < f->length; k++)
        if (f->payload[k] != (uint8_t)((idx * 131u + k * 7u) & 0xff)) {
            bad++;
            return;
        }
}

static void fuzz(unsigned long n, uint32_t seed) {
    static tp_receiver r;
    static uint8_t payload[TP_MAX_PAYLOAD], wire[TP_MAX_WIRE + 256];
    rng = seed ? seed : 1;
    tp_receiver_init(&r, on_fuzz_frame, NULL);
    for (unsigned long i = 0; i < n; i++) {
        uint16_t len = (uint16_t)(4 + next() % 600);
        if (next() % 64 == 0) len = (uint16_t)(4 + next() % (TP_MAX_PAYLOAD - 4));
        payload[0] = (uint8_t)i, payload[1] = (uint8_t)(i >> 8), payload[2] = (uint8_t)(i >> 16),
        payload[3] = (uint8_t)(i >> 24);
        for (size_t k = 4; k < len; k++) payload[k] = (uint8_t)((i * 131u + k * 7u) & 0xff);
        tp_frame f = {
            TP_PROTOCOL_VERSION, (uint8_t)(1 + next() % 7), (uint16_t)next(), (uint16_t)i, 0, 0, len, payload};
        size_t w = tp_frame_encode(&f, wire);
        switch (i % 2 ? next() % 5 : 5) {
        case 0: /* bit flips */
            for (int k = 0, m = 1 + (int)(next() % 4); k < m; k++) wire[next() % w] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1: /* cut short */ w = 1 + next() % (w - 1); break;
        case 2: /* random garbage instead */
            for (size_t k = 0; k < w; k++) wire[k] = (uint8_t)next();
            break;
        case 3: /* a long run without a delimiter (oversize), then the frame */
            memmove(wire + 200, wire, w);
            for (size_t k = 0; k < 200; k++) wire[k] = (uint8_t)(1 + next() % 255);
            w += 200;
            break;
        case 4: /* bytes dropped from the middle */
            if (w > 8) {
                size_t at = 1 + next() % (w - 4), k = 1 + next() % 3;
                memmove(wire + at, wire + at + k, w - at - k);
                w -= k;
            }
            break;
        default: break;
        }
        for (size_t at = 0; at < w;) { /* random chunking */
            size_t c = 1 + next() % 300;
            if (c > w - at) c = w - at;
            tp_receiver_push(&r, wire + at, c);
            at += c;
        }
    }
    unsigned long dropped = 0;
    for (int k = 0; k < TP_DROP_REASONS; k++) dropped += r.dropped[k];
    printf("ok delivered=%lu dropped=%lu bad=%lu\n", delivered, dropped, bad);
}

/* ---- link-loss: the link's loss detection (docs/protocol.md §4.0) on a scripted line ---- */

static uint32_t clock_ms;
static uint32_t scripted_now(void *port) {
    (void)port;
    return clock_ms;
}
static tp_receiver seen; /* decodes what the link writes */
static void scripted_write(void *port, const uint8_t *b, size_t n) {
    (void)port;
    tp_receiver_push(&seen, b, n);
}
static void on_seen(void *ctx, const tp_frame *f) {
    (void)ctx;
    if (f->type == TP_FRAME_DATA) printf(" %u@%lu", f->seq, (unsigned long)clock_ms);
}
static void feed(tp_link *l, uint8_t type, uint16_t ack, uint16_t sack, const uint8_t *payload, uint16_t length) {
    static uint8_t wire[TP_MAX_WIRE];
    tp_frame f = {TP_PROTOCOL_VERSION, type, 0x77, 0, ack, sack, length, payload};
    tp_link_rx(l, wire, tp_frame_encode(&f, wire));
}
static void advance(tp_link *l, uint32_t ms) {
    for (uint32_t t = 0; t < ms; t++) clock_ms++, tp_link_poll(l);
}

/* Opens a board's end of the link on the scripted line at 0 ms: the host's HELLO (any board, any layers) is
 * accepted. Prints "open=1 sent:"; the DATA frames the board writes follow. */
static void open_scripted(tp_link *l) {
    uint8_t board[TP_HELLO_BYTES], host[TP_HELLO_BYTES], fp[32] = {0};
    tp_hello_board(board, 0, fp, 0, 1, 0, 0, 1, 0);
    tp_hello_expect(host, 0xFFFF, fp, 0xFFFF, 0xFFFF);
    clock_ms = 0;
    tp_receiver_init(&seen, on_seen, NULL);
    l->port = NULL, l->write = scripted_write, l->now_ms = scripted_now, l->log = NULL;
    tp_link_init(l, board, 0x1234);
    feed(l, TP_FRAME_HELLO, 0, 0, host, TP_HELLO_BYTES);
    printf("open=%d sent:", l->open);
}

/* A board sends DATA 0, 1, 2; the host's ACK says "expecting 0, have 2" at 5 ms, then the same ACK again at
 * 6 ms; then everything is acknowledged. Prints each DATA frame the board writes as seq@ms, and the
 * retransmit count. */
static void link_loss(void) {
    static tp_link l;
    uint8_t msg[1] = {0};
    open_scripted(&l);
    for (uint8_t i = 0; i < 3; i++) msg[0] = i, tp_link_send(&l, msg, 1);
    advance(&l, 5);
    feed(&l, TP_FRAME_ACK, 0, 0x2, NULL, 0); /* sack bit 1: seq 0 + 2 */
    advance(&l, 1);
    feed(&l, TP_FRAME_ACK, 0, 0x2, NULL, 0);
    advance(&l, 10);
    feed(&l, TP_FRAME_ACK, 3, 0, NULL, 0);
    advance(&l, 1000);
    printf(" retransmits=%lu", (unsigned long)l.retransmits);
}

/* The board does not poll for 300 ms after sending DATA 0 (a long compute): the overdue timer gives the
 * answer another RTO, which comes at 305 ms. Then DATA 1 is sent and never acknowledged: resent after its RTO. */
static void link_stall(void) {
    static tp_link l;
    uint8_t msg[1] = {0};
    open_scripted(&l);
    tp_link_send(&l, msg, 1);
    clock_ms = 300;
    advance(&l, 5);
    feed(&l, TP_FRAME_ACK, 1, 0, NULL, 0);
    msg[0] = 1, tp_link_send(&l, msg, 1);
    advance(&l, 200);
    printf(" retransmits=%lu", (unsigned long)l.retransmits);
}

int main(void) {
    while (fgets(line, sizeof line, stdin)) {
        char *cmd = strtok(line, " \n");
        if (!cmd) continue;
        if (!strcmp(cmd, "cobs")) {
            size_t n = unhex(strtok(NULL, " \n"), bytes);
            puthex(out, tp_cobs_encode(bytes, n, out));
        } else if (!strcmp(cmd, "uncobs")) {
            size_t n = unhex(strtok(NULL, " \n"), bytes);
            size_t m;
            if (tp_cobs_decode(bytes, n, out, &m) != TP_OK) fputs("error", stdout);
            else puthex(out, m);
        } else if (!strcmp(cmd, "frame")) {
            tp_frame f = {TP_PROTOCOL_VERSION, 0, 0, 0, 0, 0, 0, bytes};
            f.type = (uint8_t)strtoul(strtok(NULL, " \n"), NULL, 10);
            f.session = (uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10);
            f.seq = (uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10);
            f.ack = (uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10);
            f.sack = (uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10);
            f.length = (uint16_t)unhex(strtok(NULL, " \n"), bytes);
            puthex(out, tp_frame_encode(&f, out));
        } else if (!strcmp(cmd, "block")) {
            static uint8_t scratch[TP_MAX_ENCODED];
            size_t n = unhex(strtok(NULL, " \n"), bytes);
            tp_frame f;
            tp_drop_reason why;
            if (tp_frame_decode_block(bytes, n, scratch, &f, &why)) {
                printf("frame %u %u %u %u %u ", f.type, f.session, f.seq, f.ack, f.sack);
                puthex(f.payload, f.length);
            } else printf("drop %s", tp_drop_name(why));
        } else if (!strcmp(cmd, "parse")) {
            size_t n = unhex(strtok(NULL, " \n"), bytes);
            tp_msg m;
            if (tp_msg_parse(bytes, n, &m) != TP_OK) fputs("refused", stdout);
            else {
                uint32_t max;
                memcpy(&max, &m.max, 4);
                printf("ok %u %u %u %lu %u %u %lu %u %08lx %u ", m.kind, m.stream, m.pos, (unsigned long)m.token,
                       m.flags, m.sample_from, (unsigned long)m.n, m.budget_ms, (unsigned long)max, m.bucket);
                if (m.lebs) puthex(m.leb, m.lebs);
                else fputs("-", stdout);
            }
        } else if (!strcmp(cmd, "slice-hist") || !strcmp(cmd, "slice-draw")) {
            static float y[4096];
            static uint64_t sums[TP_BUCKET_TOP + 1], masses[4096];
            int hist = !strcmp(cmd, "slice-hist");
            uint32_t tb = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 16);
            float t, p = 0;
            memcpy(&t, &tb, 4);
            int below = 0;
            tp_big target;
            if (hist) {
                uint32_t pb = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 16);
                memcpy(&p, &pb, 4);
                below = (int)strtol(strtok(NULL, " \n"), NULL, 10);
            } else {
                below = (int)strtol(strtok(NULL, " \n"), NULL, 10); /* the bucket */
                size_t k = unhex(strtok(NULL, " \n"), bytes), used = 0;
                if (tp_leb_read(bytes, k, &target, &used) != TP_OK || used != k) {
                    fputs("bad target", stdout);
                    goto done;
                }
            }
            int n = (int)strtol(strtok(NULL, " \n"), NULL, 10);
            for (int i = 0; i < n && i < 4096; i++) {
                uint32_t b = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 16);
                memcpy(&y[i], &b, 4);
            }
            if (tp_slice_scale(y, n, t) != TP_OK) {
                fputs("NONFINITE", stdout);
                goto done;
            }
            int best = tp_slice_argmax(y, n);
            if (!hist) printf("%d", tp_slice_draw(y, n, y[best], below, &target));
            else {
                uint16_t top;
                int count;
                tp_big rest;
                tp_slice_histogram(y, n, y[best], p, below, sums, &top, masses, 4096, &count, &rest);
                printf("%d %u %d ", best, top, count);
                puthex(out, tp_leb_big(out, &rest));
                for (int k = 0; k < count; k++) printf(" %llu", (unsigned long long)masses[k]);
            }
        done:;
        } else if (!strcmp(cmd, "slice-max")) {
            unsigned long v[4];
            for (int i = 0; i < 4; i++) v[i] = strtoul(strtok(NULL, " \n"), NULL, i == 3 ? 16 : 10);
            uint32_t bits = (uint32_t)v[3];
            float value;
            memcpy(&value, &bits, 4);
            puthex(out, tp_msg_slice_max(out, (uint16_t)v[0], (uint16_t)v[1], (uint32_t)v[2], value));
        } else if (!strcmp(cmd, "token")) {
            unsigned long v[3];
            for (int i = 0; i < 3; i++) v[i] = strtoul(strtok(NULL, " \n"), NULL, 10);
            puthex(out, tp_msg_token(out, (uint16_t)v[0], (uint16_t)v[1], (uint32_t)v[2]));
        } else if (!strcmp(cmd, "stats")) {
            unsigned long long v[9];
            for (int i = 0; i < 9; i++) v[i] = strtoull(strtok(NULL, " \n"), NULL, 10);
            tp_board_stats st = {(uint16_t)v[0], (uint32_t)v[1], (uint64_t)v[2], (uint32_t)v[3], (uint32_t)v[4],
                                 (uint32_t)v[5], (uint32_t)v[6], (uint32_t)v[7], (uint32_t)v[8]};
            puthex(out, tp_msg_stats(out, &st));
        } else if (!strcmp(cmd, "calibration")) {
            unsigned long v[23];
            for (int i = 0; i < 23; i++) v[i] = strtoul(strtok(NULL, " \n"), NULL, 10);
            const char *port = strtok(NULL, "\n");
            tp_calibration c = {
                (uint16_t)v[0],  (uint16_t)v[1],  (uint8_t)v[2],   (uint8_t)v[3],   (uint8_t)v[4],   (uint16_t)v[5],
                (uint32_t)v[6],  (uint32_t)v[7],  (uint32_t)v[8],  (uint32_t)v[9],  (uint32_t)v[10], (uint16_t)v[11],
                (uint16_t)v[12], (uint32_t)v[13], (uint32_t)v[14], (uint32_t)v[15], (uint32_t)v[16], (uint32_t)v[17],
                (uint16_t)v[18], (uint32_t)v[19], (uint16_t)v[20], (uint32_t)v[21], (uint32_t)v[22], ""};
            if (port && strcmp(port, "-")) snprintf(c.port, sizeof c.port, "%s", port);
            puthex(out, tp_msg_calibration(out, &c));
        } else if (!strcmp(cmd, "hello-layout")) {
            printf("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", TP_HELLO_PROTOCOL, TP_HELLO_BYTES,
                   TP_HELLO_OFF_PROTOCOL, TP_HELLO_OFF_ROLE, TP_HELLO_OFF_BOARD, TP_HELLO_OFF_FINGERPRINT,
                   TP_HELLO_OFF_LAYER_FROM, TP_HELLO_OFF_LAYER_TO, TP_HELLO_OFF_VOCAB_FROM, TP_HELLO_OFF_VOCAB_TO,
                   TP_HELLO_OFF_MAX_PAYLOAD, TP_HELLO_OFF_STREAMS, TP_HELLO_OFF_CAPS, TP_HELLO_OFF_BAUD,
                   TP_HELLO_OFF_BUILD);
        } else if (!strcmp(cmd, "hello-board")) {
            unsigned long b = strtoul(strtok(NULL, " \n"), NULL, 10);
            uint8_t fp[32] = {0}, build[TP_BUILD_ID_BYTES] = {0}, hello[TP_HELLO_BYTES];
            unhex(strtok(NULL, " \n"), fp);
            unsigned long v[6];
            for (int i = 0; i < 6; i++) v[i] = strtoul(strtok(NULL, " \n"), NULL, 10);
            unhex(strtok(NULL, " \n"), build);
            tp_hello_board(hello, (uint16_t)b, fp, (uint16_t)v[0], (uint16_t)v[1], (uint32_t)v[2], (uint32_t)v[3],
                           (uint16_t)v[4], (uint32_t)v[5]);
            tp_hello_set_build(hello, build);
            puthex(hello, sizeof hello);
        } else if (!strcmp(cmd, "hello-check")) {
            static uint8_t board[TP_HELLO_BYTES];
            size_t n = unhex(strtok(NULL, " \n"), bytes);
            if (unhex(strtok(NULL, " \n"), board) != TP_HELLO_BYTES) fputs("bad board HELLO", stdout);
            else {
                char why[160];
                int status = tp_hello_check(bytes, n, board, why, sizeof why);
                printf("%d %s", status, why);
            }
        } else if (!strcmp(cmd, "link-loss")) {
            link_loss();
        } else if (!strcmp(cmd, "link-stall")) {
            link_stall();
        } else if (!strcmp(cmd, "fuzz")) {
            unsigned long n = strtoul(strtok(NULL, " \n"), NULL, 10);
            fuzz(n, (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10));
            fflush(stdout);
            continue;
        } else {
            fputs("unknown", stdout);
        }
        fputc('\n', stdout);
        fflush(stdout);
    }
    return 0;
}
