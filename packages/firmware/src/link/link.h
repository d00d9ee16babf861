/*
 * One end of the reliable link (docs/protocol.md §4). Usually the board's end: it answers the host's HELLO
 * (§4.1) and PING (§4.2). In a chain (§4.4) a board also opens the link to the next board: that end sends
 * HELLO until accepted, PINGs when idle and gives up on a silent peer, like the host. Both: selective-repeat ARQ with a window of TP_WINDOW DATA frames each way, an RFC 6298 retransmission
 * timeout with Karn's rule, duplicates re-acknowledged and never handed out twice. No allocation: every
 * buffer is in tp_link (about 2 × TP_WINDOW × TP_MAX_PAYLOAD + 2 × TP_MAX_ENCODED bytes).
 *
 * The port supplies a clock and a byte writer, pushes received bytes with tp_link_rx, calls tp_link_poll
 * for timers, and pulls in-order messages with tp_link_next / tp_link_release (so a long stage compute
 * never runs inside the receive path, and unconsumed messages hold back the peer: flow control).
 */
#ifndef TP_LINK_H
#define TP_LINK_H
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "hello.h"

#define TP_WINDOW 8
#define TP_MAX_RETRIES 12
/* RTO bounds and the RTO before the first sample, ms (docs/protocol.md §4.0) */
#define TP_RTO_MIN_MS 20
#define TP_RTO_INITIAL_MS 50
#define TP_RTO_MAX_MS 2000

typedef struct {
    void *port;
    void (*write)(void *port, const uint8_t *bytes, size_t n);
    uint32_t (*now_ms)(void *port);
    void (*log)(void *port, const char *line); /* one line per event (accepted, refused, down); may be NULL */
    /* When the frame just written will have left the line (ms, the now_ms clock): a port that queues its
       transmit at a line rate says so, and the retransmission timer runs from there (docs/protocol.md
       §4.0). NULL: as soon as written. */
    uint32_t (*departs_ms)(void *port);
    uint32_t baud; /* the line rate, when the port knows it (0: unknown): an ACK may wait behind a frame */

    uint8_t hello[TP_HELLO_BYTES]; /* answering: this board's HELLO (role 1), sent in every HELLO_ACK;
                                      opening: the HELLO it sends (role 0: what it expects of the peer) */
    uint16_t session;              /* this boot's nonce */
    int open;                      /* answering: a host was accepted; opening: the peer accepted us */
    uint16_t peer_session;
    int opening;                          /* this end opens the link (tp_link_init_opening) */
    uint32_t heard_at, said_at, hello_at; /* ms: last valid frame from the peer, last frame sent, last HELLO */
    uint8_t peer_hello[TP_HELLO_BYTES];   /* opening: the accepted peer's HELLO */
    char refused[160];                    /* opening: why the peer was refused, "" when it was not */
    int refused_status;                   /* opening: the refusal's TP_HELLO_* status (TP_HELLO_OK: none) */

    /* sending: slot seq % TP_WINDOW */
    struct {
        int used;
        uint16_t seq, length;
        uint8_t retries;
        uint32_t written_at, sent_at, deadline; /* ms: handed to the port, departed, times out */
        float armed_rto;                        /* the RTO its timer was armed with */
        int graced;                             /* its timer was found long overdue once: given another RTO */
        uint32_t order;                         /* its place among all transmissions (loss detection) */
        uint8_t payload[TP_MAX_PAYLOAD];
    } tx[TP_WINDOW];
    uint16_t next_seq, tx_base;
    float srtt, rttvar, rto; /* ms; rto shared by every frame, backed off on a timeout */
    uint32_t transmissions;  /* DATA sends and resends so far: each takes the next order */
    int has_rtt;             /* a clean sample arrived since the link (re)started */

    /* receiving: slot seq % TP_WINDOW, held until the port releases it */
    struct {
        int used;
        uint16_t seq, length;
        uint8_t payload[TP_MAX_PAYLOAD];
    } rx[TP_WINDOW];
    uint16_t expected, consumed;

    tp_receiver receiver;
    uint8_t wire[TP_MAX_WIRE];
    uint32_t frames_out, bytes_out, retransmits, duplicates, links_down;
} tp_link;

/* hello: this board's 68-byte HELLO payload (tp_hello_board); session: a boot nonce. */
void tp_link_init(tp_link *l, const uint8_t hello[TP_HELLO_BYTES], uint16_t session);
/* The opening end (a board's link to the next board in a chain): hello is the host-role HELLO it sends
 * (tp_hello_expect); the link opens when the peer's HELLO_ACK accepts it and passes tp_hello_check_next. */
void tp_link_init_opening(tp_link *l, const uint8_t hello[TP_HELLO_BYTES], uint16_t session);
void tp_link_rx(tp_link *l, const uint8_t *bytes, size_t n);
void tp_link_poll(tp_link *l);
/* Queues a message: TP_OK; TP_E_BUSY when the window is full (poll and retry), TP_E_CLOSED when no peer is
 * connected (answering: no host; opening: the next board has not accepted yet), TP_E_ARG when n exceeds
 * TP_MAX_PAYLOAD. */
tp_status tp_link_send(tp_link *l, const uint8_t *msg, size_t n);
/* The next in-order message (n bytes), or NULL; tp_link_release frees it once handled. */
const uint8_t *tp_link_next(tp_link *l, size_t *n);
void tp_link_release(tp_link *l);

#endif
