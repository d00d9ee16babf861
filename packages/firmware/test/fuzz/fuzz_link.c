/*
 * libFuzzer target: one end of the reliable link and its HELLO (src/link/link.c, hello.c, frame.c). The input's first
 * byte picks the end (bit 0: the opening end of a chain's link, else a board answering a host); the rest is
 * operations, each a tag byte and its operand:
 *   0  n, n bytes      raw line bytes into tp_link_rx
 *   1  10 + n bytes    a frame: type (bit 7: protocol version 2), session (2), seq (2), ack (2), sack (2), n (1),
 *                      payload[n] — encoded with a valid CRC by the harness, so ARQ and HELLO logic are
 *                      reached past the CRC
 * The opening end expects board 2 holding layers from 3 (the board HELLO of docs/vectors/protocol.json).
 *   2  t               the clock moves t × 4 ms; tp_link_poll
 *   3                  every held message consumed (tp_link_next / tp_link_release)
 *   4  n               the board sends a message of 16 × n bytes
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/link/link.h"

static tp_link link;
static uint32_t clock_ms;
static uint8_t wire[TP_MAX_WIRE], msg[TP_MAX_PAYLOAD];
static const uint8_t fingerprint[32] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
                                        0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
                                        0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};

static volatile uint8_t written;
static void sink(void *port, const uint8_t *bytes, size_t n) {
    (void)port;
    for (size_t i = 0; i < n; i++) written ^= bytes[i]; /* every written byte is read: ASan checks the range */
}
static uint32_t now(void *port) { return (void)port, clock_ms; }
static void log_line(void *port, const char *line) { (void)port, (void)line; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    uint8_t hello[TP_HELLO_BYTES];
    clock_ms = 1000;
    if (data[0] & 1) {
        tp_hello_expect(hello, 2, fingerprint, 3, 0xffff);
        tp_link_init_opening(&link, hello, 0x1234);
    } else {
        tp_hello_board(hello, 0, fingerprint, 0, 2, 0, 512, 4, 3);
        tp_link_init(&link, hello, 0x1234);
    }
    link.port = NULL, link.write = sink, link.now_ms = now, link.log = log_line;
    if (data[0] & 2) link.baud = 921600;
    size_t at = 1;
    while (at < size) {
        uint8_t op = data[at++] % 5;
        if (op == 0) {
            if (at >= size) break;
            size_t n = data[at++];
            if (n > size - at) n = size - at;
            tp_link_rx(&link, data + at, n);
            at += n;
        } else if (op == 1) {
            if (size - at < 10) break;
            const uint8_t *h = data + at;
            tp_frame f = {(uint8_t)(h[0] & 0x80 ? 2 : TP_PROTOCOL_VERSION),
                          (uint8_t)(1 + (h[0] & 0x7f) % 7),
                          (uint16_t)(h[1] | h[2] << 8),
                          (uint16_t)(h[3] | h[4] << 8),
                          (uint16_t)(h[5] | h[6] << 8),
                          (uint16_t)(h[7] | h[8] << 8),
                          h[9],
                          NULL};
            at += 10;
            if (f.length > size - at) f.length = (uint16_t)(size - at);
            f.payload = data + at;
            at += f.length;
            size_t n = tp_frame_encode(&f, wire);
            tp_link_rx(&link, wire, n);
        } else if (op == 2) {
            if (at >= size) break;
            clock_ms += 4u * data[at++];
            tp_link_poll(&link);
        } else if (op == 3) {
            size_t n;
            while (tp_link_next(&link, &n)) {
                if (n > TP_MAX_PAYLOAD) abort();
                tp_link_release(&link);
            }
        } else {
            if (at >= size) break;
            size_t n = 16u * data[at++];
            memset(msg, (int)n, n);
            tp_link_send(&link, msg, n);
        }
    }
    return 0;
}
